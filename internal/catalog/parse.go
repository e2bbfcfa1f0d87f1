package catalog

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tact-cdp/tact/internal/strictjson"
)

// Body is an item as PUT /v1/catalog/items/{id} and import lines carry it.
type Body struct {
	ID        string   `json:"id,omitempty"`
	Name      string   `json:"name"`
	Category  string   `json:"category"`
	Price     *float64 `json:"price,omitempty"`
	Currency  string   `json:"currency,omitempty"`
	Available *bool    `json:"available,omitempty"` // default true
	Sensitive bool     `json:"sensitive,omitempty"`
	// RepeatPurchase marks consumables: recommendations may suggest them
	// again to a shopper who bought them.
	RepeatPurchase bool `json:"repeatPurchase,omitempty"`
}

// MaxBody bounds one item's JSON.
const MaxBody = 8 << 10

// DecodeBody decodes one item strictly (no unknown or duplicate fields) and
// validates it; id, when not empty, is the item's id from the URL.
func DecodeBody(raw []byte, id string) (Item, error) {
	var b Body
	if len(raw) > MaxBody {
		return Item{}, fmt.Errorf("an item is at most %d bytes", MaxBody)
	}
	if err := strictjson.Decode(raw, &b); err != nil {
		return Item{}, err
	}
	if id != "" {
		if b.ID != "" && b.ID != id {
			return Item{}, errors.New("the body's id differs from the URL's")
		}
		b.ID = id
	}
	return b.item()
}

func (b Body) item() (Item, error) {
	it := Item{ID: b.ID, Name: b.Name, Category: b.Category, Currency: strings.ToUpper(b.Currency), Available: true, Sensitive: b.Sensitive, RepeatPurchase: b.RepeatPurchase}
	if b.Available != nil {
		it.Available = *b.Available
	}
	if b.Price != nil {
		c, err := PriceToCents(*b.Price)
		if err != nil {
			return Item{}, err
		}
		it.PriceCents = c
	}
	if err := it.Validate(); err != nil {
		return Item{}, err
	}
	return it, nil
}

// LineError is a line of an import that was not taken.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Parse reads an import file: "jsonl" (one item object per line) or "csv"
// (a header naming id, name, category and optionally price, currency,
// available, sensitive, repeat_purchase). Good items go to fn in order; bad lines are
// returned, the rest still read. A broken file (not a CSV, a line over 1 MB)
// is an error.
func Parse(r io.Reader, format string, fn func(Item) error) ([]LineError, error) {
	switch format {
	case "jsonl":
		return parseJSONL(r, fn)
	case "csv":
		return parseCSV(r, fn)
	}
	return nil, fmt.Errorf("format must be csv or jsonl, not %q", format)
}

func parseJSONL(r io.Reader, fn func(Item) error) ([]LineError, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var bad []LineError
	line := 0
	for sc.Scan() {
		line++
		raw := sc.Bytes()
		if len(strings.TrimSpace(string(raw))) == 0 {
			continue
		}
		it, err := DecodeBody(raw, "")
		if err != nil {
			bad = append(bad, LineError{line, err})
			continue
		}
		if err := fn(it); err != nil {
			return bad, err
		}
	}
	if err := sc.Err(); err != nil {
		return bad, fmt.Errorf("line %d: %w", line+1, err)
	}
	return bad, nil
}

func parseCSV(r io.Reader, fn func(Item) error) ([]LineError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"id", "name", "category"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("the CSV header must name id, name and category (and may name price, currency, available, sensitive, repeat_purchase); %q is missing", need)
		}
	}
	for k := range col {
		switch k {
		case "id", "name", "category", "price", "currency", "available", "sensitive", "repeat_purchase":
		default:
			return nil, fmt.Errorf("unknown CSV column %q (known: id, name, category, price, currency, available, sensitive, repeat_purchase)", k)
		}
	}
	var bad []LineError
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return bad, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				// A record that failed to parse may have no field to ask
				// FieldPos about: the error knows its line.
				bad = append(bad, LineError{pe.StartLine, err})
				if len(bad) > 1000 {
					return bad, errors.New("over 1,000 bad lines: is this the right file?")
				}
				continue
			}
			return bad, err
		}
		line, _ := cr.FieldPos(0)
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		b := Body{ID: get("id"), Name: get("name"), Category: get("category"), Currency: get("currency")}
		if p := get("price"); p != "" {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil {
				bad = append(bad, LineError{line, fmt.Errorf("price %q is not a number", p)})
				continue
			}
			b.Price = &f
		}
		if v := get("available"); v != "" {
			x, err := strconv.ParseBool(v)
			if err != nil {
				bad = append(bad, LineError{line, fmt.Errorf("available %q is not true or false", v)})
				continue
			}
			b.Available = &x
		}
		if v := get("sensitive"); v != "" {
			x, err := strconv.ParseBool(v)
			if err != nil {
				bad = append(bad, LineError{line, fmt.Errorf("sensitive %q is not true or false", v)})
				continue
			}
			b.Sensitive = x
		}
		if v := get("repeat_purchase"); v != "" {
			x, err := strconv.ParseBool(v)
			if err != nil {
				bad = append(bad, LineError{line, fmt.Errorf("repeat_purchase %q is not true or false", v)})
				continue
			}
			b.RepeatPurchase = x
		}
		it, err := b.item()
		if err != nil {
			bad = append(bad, LineError{line, err})
			continue
		}
		if err := fn(it); err != nil {
			return bad, err
		}
	}
}
