package eval

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Purchase is one purchase line kept from the order history: a customer
// bought an item at a time. Quantity and price are not kept (see Load).
type Purchase struct {
	Customer int32 // index into Orders.Customers
	Item     int32 // index into Orders.Items
	Invoice  int32 // index of the invoice, in order of first appearance
	At       int64 // Unix seconds
}

// Product is an item of the order history.
type Product struct {
	Code string // StockCode, exactly as written
	Name string // its first non-blank description, trimmed
}

// Orders is an order history: the purchases in time order (ties in file
// order) and the products and customers they name.
type Orders struct {
	Products  []Product
	Customers []string // customer ids without the ".0"
	Purchases []Purchase
	Skipped   Skipped
}

// Skipped counts the data rows Load left out, by reason.
type Skipped struct {
	Cancelled  int // a C… invoice or a quantity ≤ 0 (returns, stock adjustments)
	NoCustomer int // blank CustomerID: demand that no shopper can be linked to
	NotProduct int // postage, fees, vouchers, manual lines
	NoPrice    int // UnitPrice ≤ 0: samples and adjustments, not sales
	Duplicate  int // same invoice, customer and item again
	BadRow     int // unreadable date or quantity
}

// timeLayout is InvoiceDate's layout. The data set gives UK local time
// without a zone; it is read as UTC, which only shifts the hour and keeps
// the order of events.
const timeLayout = "2006-01-02 15:04:05"

// LoadFile reads an Online Retail CSV (gzip or plain) from path; progress,
// when not nil, is called now and then with the compressed bytes read and
// the file's size.
func LoadFile(path string, progress func(read, size int64)) (*Orders, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if progress != nil {
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		r = &countingReader{r: f, size: fi.Size(), progress: progress}
	}
	o, err := Load(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

type countingReader struct {
	r        io.Reader
	n, size  int64
	progress func(read, size int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.progress(c.n, c.size)
	return n, err
}

// Load reads the Online Retail CSV (gzip or plain; columns per the data
// set's README, found by header name) and keeps the purchases a shop's
// recommendation model would learn from:
//
//   - Cancellations (C… invoices) and lines with Quantity ≤ 0 are left out;
//     a cancellation is not linked to the line it cancels, so the earlier
//     purchase stays (the customer did choose the item).
//   - Lines without a CustomerID are left out: they cannot be tied to a
//     shopper, and a shop's model learns only from identified, consented
//     shoppers.
//   - Non-product codes (postage, fees, vouchers, manual lines; see
//     IsProductCode) are left out: they are not items to recommend.
//   - Lines with UnitPrice ≤ 0 are left out: samples and adjustments.
//   - Quantity is not a weight: one line is one purchase event whatever its
//     quantity, because most customers are wholesalers whose quantities
//     measure the size of their shop, not how much they like an item.
//     The same item twice on one invoice is one purchase.
//   - Prices are not kept: recommendations never use them.
func Load(r io.Reader) (*Orders, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	const (
		cInvoice = iota
		cCode
		cDesc
		cQty
		cDate
		cPrice
		cCustomer
		nCols
	)
	var idx [nCols]int
	for i, name := range []string{"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"} {
		j, ok := col[name]
		if !ok {
			return nil, fmt.Errorf("header: no %s column", name)
		}
		idx[i] = j
	}

	o := &Orders{}
	items := map[string]int32{}
	customers := map[string]int32{}
	invoices := map[string]int32{}
	type lineKey struct{ invoice, item int32 }
	seen := map[lineKey]bool{}
	line := 1
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return nil, err
		}
		inv, code := rec[idx[cInvoice]], rec[idx[cCode]]
		qty, err := strconv.Atoi(strings.TrimSpace(rec[idx[cQty]]))
		if err != nil {
			o.Skipped.BadRow++
			continue
		}
		if strings.HasPrefix(inv, "C") || qty <= 0 {
			o.Skipped.Cancelled++
			continue
		}
		cust := strings.TrimSuffix(strings.TrimSpace(rec[idx[cCustomer]]), ".0")
		if cust == "" {
			o.Skipped.NoCustomer++
			continue
		}
		if !IsProductCode(code) {
			o.Skipped.NotProduct++
			continue
		}
		if p, err := strconv.ParseFloat(strings.TrimSpace(rec[idx[cPrice]]), 64); err != nil || p <= 0 {
			o.Skipped.NoPrice++
			continue
		}
		at, err := time.Parse(timeLayout, strings.TrimSpace(rec[idx[cDate]]))
		if err != nil {
			o.Skipped.BadRow++
			continue
		}
		it, ok := items[code]
		if !ok {
			it = int32(len(o.Products))
			items[code] = it
			o.Products = append(o.Products, Product{Code: code})
		}
		if o.Products[it].Name == "" {
			o.Products[it].Name = strings.TrimSpace(rec[idx[cDesc]])
		}
		c, ok := customers[cust]
		if !ok {
			c = int32(len(o.Customers))
			customers[cust] = c
			o.Customers = append(o.Customers, cust)
		}
		in, ok := invoices[inv]
		if !ok {
			in = int32(len(invoices))
			invoices[inv] = in
		}
		if seen[lineKey{in, it}] {
			o.Skipped.Duplicate++
			continue
		}
		seen[lineKey{in, it}] = true
		o.Purchases = append(o.Purchases, Purchase{Customer: c, Item: it, Invoice: in, At: at.Unix()})
	}
	if len(o.Purchases) == 0 {
		return nil, errors.New("no purchases")
	}
	// The file is in date order; a stable sort keeps it so for any input.
	slices.SortStableFunc(o.Purchases, func(a, b Purchase) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	return o, nil
}

// IsProductCode is true for the data set's product codes: five digits and
// an optional letter suffix. Postage, fees, vouchers and manual entries
// (POST, DOT, C2, M, BANK CHARGES, DCGS…, gift_0001_…) are not.
func IsProductCode(s string) bool {
	if len(s) < 5 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		digit := c >= '0' && c <= '9'
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i < 5 && !digit || i >= 5 && !letter {
			return false
		}
	}
	return true
}
