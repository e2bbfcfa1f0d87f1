package loadgen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/tact-cdp/tact/internal/recommend/eval"
)

type product struct {
	ID       string // the StockCode, used unchanged as product_id and sku
	Name     string
	Category string
	Price    float64 // GBP
}

// catalogue holds products in order of popularity and picks them with a
// Zipf-like skew, so that recommendations see the long tail of a real shop.
type catalogue struct {
	products []product
	cum      []float64 // cumulative weights
}

func newCatalogue(ps []product) *catalogue {
	c := &catalogue{products: ps, cum: make([]float64, len(ps))}
	total := 0.0
	for i := range ps {
		total += 1 / math.Pow(float64(i+1), 0.8)
		c.cum[i] = total
	}
	return c
}

func (c *catalogue) pick(rng *rand.Rand) product {
	x := rng.Float64() * c.cum[len(c.cum)-1]
	i, _ := slices.BinarySearch(c.cum, x)
	return c.products[min(i, len(c.products)-1)]
}

type shopper struct {
	UserID      string
	AnonymousID string
	IP          string
	UserAgent   string
}

// newShoppers makes a pool of n shoppers: the given customer ids first,
// then "u<N>" ids to fill the pool.
func newShoppers(rng *rand.Rand, customers []string, n int) []shopper {
	pool := make([]shopper, n)
	for i := range pool {
		id := "u" + strconv.Itoa(i+1-len(customers))
		if i < len(customers) {
			id = customers[i]
		}
		pool[i] = shopper{
			UserID:      id,
			AnonymousID: string(appendUUID(nil, rng.Uint64(), rng.Uint64())),
			IP:          "203.0.113." + strconv.Itoa(1+rng.IntN(254)), // TEST-NET-3
			UserAgent:   userAgents[rng.IntN(len(userAgents))],
		}
	}
	return pool
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
	"Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
}

// categories maps words of a product name to a category path; the first
// match wins, so the more specific words come first.
var categories = []struct{ word, path string }{
	{"CHRISTMAS", "Seasonal/Christmas"}, {"EASTER", "Seasonal/Easter"},
	{"T-LIGHT", "Home décor/Candles"}, {"CANDLE", "Home décor/Candles"},
	{"LANTERN", "Home décor/Lighting"}, {"LIGHTS", "Home décor/Lighting"}, {"LAMP", "Home décor/Lighting"},
	{"FRAME", "Home décor/Frames"}, {"CLOCK", "Home décor/Clocks"}, {"SIGN", "Home décor/Signs"},
	{"CUSHION", "Home décor/Soft furnishings"}, {"HOT WATER BOTTLE", "Home décor/Soft furnishings"},
	{"DOORSTOP", "Home décor/Doorstops"}, {"HOOK", "Home décor/Hooks"}, {"HANGER", "Home décor/Hooks"},
	{"LUNCH", "Kitchen & dining/Lunch boxes"}, {"CAKE", "Kitchen & dining/Baking"}, {"BAKING", "Kitchen & dining/Baking"},
	{"MUG", "Kitchen & dining/Mugs"}, {"CUP", "Kitchen & dining/Tableware"}, {"PLATE", "Kitchen & dining/Tableware"},
	{"BOWL", "Kitchen & dining/Tableware"}, {"NAPKIN", "Kitchen & dining/Tableware"}, {"JAR", "Kitchen & dining/Storage"},
	{"TIN", "Kitchen & dining/Storage"}, {"BOTTLE", "Kitchen & dining/Storage"},
	{"BAG", "Bags & storage/Bags"}, {"BOX", "Bags & storage/Boxes"}, {"BASKET", "Bags & storage/Baskets"},
	{"CARD", "Stationery/Cards"}, {"WRAP", "Stationery/Gift wrap"}, {"PAPER", "Stationery/Gift wrap"},
	{"NOTEBOOK", "Stationery/Notebooks"}, {"PENCIL", "Stationery/Pens & pencils"}, {"STICKER", "Stationery/Stickers"},
	{"BUNTING", "Party/Decorations"}, {"PARTY", "Party/Tableware"}, {"BALLOON", "Party/Decorations"},
	{"JIGSAW", "Toys & games/Puzzles"}, {"GAME", "Toys & games/Games"}, {"DOLL", "Toys & games/Dolls"},
	{"TOY", "Toys & games/Toys"}, {"UMBRELLA", "Accessories/Umbrellas"}, {"PURSE", "Accessories/Purses"},
	{"NECKLACE", "Accessories/Jewellery"}, {"EARRINGS", "Accessories/Jewellery"}, {"GARDEN", "Garden/Decor"},
}

func categoryOf(name string) string {
	upper := strings.ToUpper(name)
	for _, c := range categories {
		if strings.Contains(upper, c.word) {
			return c.path
		}
	}
	return "Gifts/Other"
}

// titleCase turns the data set's upper-case descriptions into the names a
// shop would show ("WHITE HANGING HEART T-LIGHT HOLDER" → "White Hanging
// Heart T-Light Holder").
func titleCase(s string) string {
	b := []rune(strings.ToLower(strings.TrimSpace(s)))
	start := true
	for i, r := range b {
		isLetter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if start && isLetter {
			b[i] = r - 'a' + 'A'
		}
		start = !isLetter && r != '\''
	}
	return string(b)
}

// synthCatalogue makes n products in the style of the Online Retail data
// set, with codes that cannot collide with its five-digit ones.
func synthCatalogue(rng *rand.Rand, n int) []product {
	adjectives := []string{"White", "Red", "Vintage", "Pink", "Blue", "Rustic", "Scandi", "Retro", "Botanical", "Gingham",
		"Spotty", "Floral", "Jumbo", "Mini", "Regency", "Green", "Ivory", "Antique Silver", "Pastel", "Set of 3"}
	motifs := []string{"Heart", "Bird", "Rose", "Paisley", "Union Jack", "Polkadot", "Owl", "Cactus", "Woodland", "Lace",
		"Strawberry", "Star", "Butterfly", "Dinosaur", "Love"}
	items := []struct {
		noun  string
		price float64
	}{
		{"T-Light Holder", 2.55}, {"Scented Candle", 3.75}, {"Lantern", 6.95}, {"Tea Cup and Saucer", 4.25},
		{"Mug", 2.95}, {"Cake Tin", 4.95}, {"Lunch Box", 1.95}, {"Shopping Bag", 1.65}, {"Storage Jar", 3.39},
		{"Photo Frame", 2.75}, {"Wall Clock", 8.50}, {"Cushion Cover", 3.75}, {"Greeting Card", 0.42},
		{"Gift Wrap", 0.42}, {"Notebook", 1.65}, {"Bunting", 4.95}, {"Doorstop", 4.25}, {"Hot Water Bottle", 4.95},
		{"Jigsaw", 3.75}, {"Christmas Bauble", 0.85}, {"Coat Hanger", 2.10}, {"Umbrella", 5.95}, {"Purse", 2.55},
	}
	ps := make([]product, n)
	for i := range ps {
		it := items[rng.IntN(len(items))]
		name := adjectives[rng.IntN(len(adjectives))] + " " + motifs[rng.IntN(len(motifs))] + " " + it.noun
		id := "S" + strconv.Itoa(10000+i)
		if rng.IntN(5) == 0 {
			id += string(rune('A' + rng.IntN(6)))
		}
		ps[i] = product{ID: id, Name: name, Category: categoryOf(name),
			Price: math.Round(it.price*(0.6+0.9*rng.Float64())*20) / 20} // to 5p
	}
	return ps
}

// loadRetailFile reads the Online Retail CSV at path, gzip or plain.
func loadRetailFile(path string) ([]product, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	ps, cs, err := loadRetail(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return ps, cs, nil
}

// loadRetail builds the catalogue and the customer ids from the Online
// Retail CSV (gzip or plain). Products come in order of popularity (rows
// naming them), each with its first non-blank description and its most
// frequent positive price; customers in order of first appearance.
func loadRetail(r io.Reader) ([]product, []string, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
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
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	var idx [5]int
	for i, name := range []string{"StockCode", "Description", "Quantity", "UnitPrice", "CustomerID"} {
		j, ok := col[name]
		if !ok {
			return nil, nil, fmt.Errorf("header: no %s column", name)
		}
		idx[i] = j
	}

	type item struct {
		name   string
		rows   int
		prices map[string]int
		order  int
	}
	items := map[string]*item{}
	seen := map[string]bool{}
	var customers []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		code, desc, qty, price, cust := rec[idx[0]], strings.TrimSpace(rec[idx[1]]), rec[idx[2]], rec[idx[3]], strings.TrimSpace(rec[idx[4]])
		if c := strings.TrimSuffix(cust, ".0"); c != "" && !seen[c] {
			seen[c] = true
			customers = append(customers, c)
		}
		if !eval.IsProductCode(code) {
			continue
		}
		it := items[code]
		if it == nil {
			it = &item{prices: map[string]int{}, order: len(items)}
			items[code] = it
		}
		it.rows++
		if it.name == "" {
			it.name = desc
		}
		if q, err := strconv.Atoi(qty); err == nil && q > 0 {
			if p, err := strconv.ParseFloat(price, 64); err == nil && p > 0 {
				it.prices[price]++
			}
		}
	}

	type ranked struct {
		p           product
		rows, order int
	}
	var rs []ranked
	for code, it := range items {
		if it.name == "" || len(it.prices) == 0 {
			continue // nothing a shop could list
		}
		best, n := "", 0
		for p, c := range it.prices {
			if c > n || c == n && lessPrice(p, best) {
				best, n = p, c
			}
		}
		price, _ := strconv.ParseFloat(best, 64)
		rs = append(rs, ranked{product{ID: code, Name: titleCase(it.name), Category: categoryOf(it.name), Price: price}, it.rows, it.order})
	}
	// Sorted for a catalogue that does not depend on map order.
	slices.SortFunc(rs, func(a, b ranked) int {
		if a.rows != b.rows {
			return b.rows - a.rows
		}
		return a.order - b.order
	})
	ps := make([]product, len(rs))
	for i, r := range rs {
		ps[i] = r.p
	}
	if len(ps) == 0 {
		return nil, nil, errors.New("no products")
	}
	return ps, customers, nil
}

// RetailProduct is a product of the Online Retail data set as a shop would
// list it.
type RetailProduct struct {
	ID, Name, Category string
	Price              float64 // GBP, the most frequent positive price
}

// RetailProducts reads the Online Retail CSV at path (gzip or plain): its
// products in order of popularity, named and sorted into categories as the
// load generator's events name them.
func RetailProducts(path string) ([]RetailProduct, error) {
	ps, _, err := loadRetailFile(path)
	if err != nil {
		return nil, err
	}
	out := make([]RetailProduct, len(ps))
	for i, p := range ps {
		out[i] = RetailProduct(p)
	}
	return out, nil
}

func lessPrice(a, b string) bool {
	x, _ := strconv.ParseFloat(a, 64)
	y, _ := strconv.ParseFloat(b, 64)
	return x < y
}
