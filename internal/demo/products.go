// Package demo is the demo shop `tact demo` runs next to tact: a few pages
// on their own origin that use tact.js as a real shop would — the banner,
// e-commerce events, and a recommendations box labelled as personalised
// with a one-click switch to non-personalised results.
package demo

import (
	"github.com/tact-cdp/tact/internal/catalog"
	"github.com/tact-cdp/tact/internal/loadgen"
)

// Product is an item of the demo shop.
type Product struct {
	ID       string
	Name     string
	Category string // path, "Home/Candles"
	Price    float64
}

// Item is the product as tact's catalogue stores it.
func (p Product) Item() catalog.Item {
	c, _ := catalog.PriceToCents(p.Price)
	return catalog.Item{ID: p.ID, Name: p.Name, Category: p.Category, PriceCents: c, Currency: "GBP", Available: true}
}

// builtIn is the catalogue when the Online Retail data is absent. One item
// is in a category the default data map marks sensitive (Health), to show
// that it is never personalised without the separate grant.
var builtIn = []Product{
	{"85123A", "White hanging heart T-light holder", "Home/Candles", 2.55},
	{"71053", "White metal lantern", "Home/Lighting", 3.39},
	{"84406B", "Cream cupid hearts coat hanger", "Home/Decor", 2.75},
	{"84029G", "Knitted union flag hot water bottle", "Home/Textiles", 3.39},
	{"22752", "Set 7 babushka nesting boxes", "Toys", 7.65},
	{"21730", "Glass star frosted T-light holder", "Home/Candles", 4.25},
	{"22633", "Hand warmer union jack", "Gifts", 1.85},
	{"22632", "Hand warmer red polka dot", "Gifts", 1.85},
	{"84879", "Assorted colour bird ornament", "Home/Decor", 1.69},
	{"22745", "Poppy's playhouse bedroom", "Toys", 2.10},
	{"22748", "Poppy's playhouse kitchen", "Toys", 2.10},
	{"22749", "Feltcraft princess Charlotte doll", "Toys", 3.75},
	{"22310", "Ivory knitted mug cosy", "Kitchen/Mugs", 1.65},
	{"84969", "Box of 6 assorted colour teaspoons", "Kitchen/Cutlery", 4.25},
	{"22623", "Box of vintage jigsaw blocks", "Toys", 4.95},
	{"22622", "Box of vintage alphabet blocks", "Toys", 9.95},
	{"21754", "Home building block word", "Home/Decor", 5.95},
	{"21755", "Love building block word", "Home/Decor", 5.95},
	{"21777", "Recipe box with metal heart", "Kitchen/Storage", 7.95},
	{"48187", "Doormat new england", "Home/Textiles", 7.95},
	{"22960", "Jam making set with jars", "Kitchen/Baking", 4.25},
	{"22913", "Red coat rack paris fashion", "Home/Decor", 4.95},
	{"22912", "Yellow coat rack paris fashion", "Home/Decor", 4.95},
	{"22914", "Blue coat rack paris fashion", "Home/Decor", 4.95},
	{"21756", "Bath building block word", "Home/Bathroom", 5.95},
	{"22728", "Alarm clock bakelike pink", "Home/Clocks", 3.75},
	{"22727", "Alarm clock bakelike red", "Home/Clocks", 3.75},
	{"22726", "Alarm clock bakelike green", "Home/Clocks", 3.75},
	{"21724", "Panda and bunnies sticker sheet", "Stationery", 0.85},
	{"22326", "Round snack boxes set of 4 woodland", "Kitchen/Storage", 2.95},
	{"HV-1", "Vitamin D drops", "Health/Vitamins", 6.50},
}

// Products returns the demo catalogue: the n most bought products of the
// Online Retail history at path (named, priced and sorted into categories
// as the load generator does), or the built-in list when path is empty or
// unreadable. The sensitive demo item is always there.
func Products(path string, n int) []Product {
	if path == "" {
		return builtIn
	}
	ps, err := loadgen.RetailProducts(path)
	if err != nil || len(ps) == 0 {
		return builtIn
	}
	var out []Product
	for _, p := range ps[:min(n, len(ps))] {
		out = append(out, Product{ID: p.ID, Name: p.Name, Category: p.Category, Price: p.Price})
	}
	return append(out, builtIn[len(builtIn)-1])
}
