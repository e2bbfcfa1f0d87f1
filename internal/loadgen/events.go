package loadgen

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The JSON shapes of the events sent. Field order follows what Segment's
// SDKs send; omitempty keeps each event type to its own properties.
type event struct {
	Type         string          `json:"type"`
	Event        string          `json:"event,omitempty"`
	Name         string          `json:"name,omitempty"`
	MessageID    string          `json:"messageId"`
	UserID       string          `json:"userId,omitempty"`
	AnonymousID  string          `json:"anonymousId,omitempty"`
	Timestamp    string          `json:"timestamp"`
	Properties   *properties     `json:"properties,omitempty"`
	Traits       *traits         `json:"traits,omitempty"`
	Context      eventContext    `json:"context"`
	Integrations map[string]bool `json:"integrations,omitempty"`
}

type properties struct {
	ProductID  string     `json:"product_id,omitempty"`
	SKU        string     `json:"sku,omitempty"`
	Category   string     `json:"category,omitempty"`
	Name       string     `json:"name,omitempty"`
	Price      float64    `json:"price,omitempty"`
	Quantity   int        `json:"quantity,omitempty"`
	Query      string     `json:"query,omitempty"`
	ListID     string     `json:"list_id,omitempty"`
	CartID     string     `json:"cart_id,omitempty"`
	OrderID    string     `json:"order_id,omitempty"`
	CheckoutID string     `json:"checkout_id,omitempty"`
	Total      float64    `json:"total,omitempty"`
	Revenue    float64    `json:"revenue,omitempty"`
	Value      float64    `json:"value,omitempty"`
	Shipping   float64    `json:"shipping,omitempty"`
	Tax        float64    `json:"tax,omitempty"`
	Coupon     string     `json:"coupon,omitempty"`
	Currency   string     `json:"currency,omitempty"`
	Products   []lineItem `json:"products,omitempty"`
	Path       string     `json:"path,omitempty"`
	URL        string     `json:"url,omitempty"`
	Referrer   string     `json:"referrer,omitempty"`
	Title      string     `json:"title,omitempty"`
}

type lineItem struct {
	ProductID string  `json:"product_id"`
	SKU       string  `json:"sku"`
	Name      string  `json:"name"`
	Category  string  `json:"category,omitempty"`
	Price     float64 `json:"price"`
	Quantity  int     `json:"quantity,omitempty"`
	Position  int     `json:"position,omitempty"`
}

type traits struct {
	Email     string `json:"email"`
	Country   string `json:"country"`
	CreatedAt string `json:"createdAt"`
}

type eventContext struct {
	IP        string    `json:"ip"`
	UserAgent string    `json:"userAgent"`
	Library   library   `json:"library"`
	Locale    string    `json:"locale"`
	Page      page      `json:"page"`
	Campaign  *campaign `json:"campaign,omitempty"`
}

type library struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type page struct {
	Path     string `json:"path"`
	URL      string `json:"url"`
	Referrer string `json:"referrer"`
	Title    string `json:"title"`
}

type campaign struct {
	Name    string `json:"name"`
	Source  string `json:"source"`
	Medium  string `json:"medium"`
	Content string `json:"content,omitempty"`
}

const (
	shopURL    = "https://shop.example"
	currency   = "GBP"
	timeLayout = "2006-01-02T15:04:05.000Z" // fixed width, so sentAt can be patched in place
	uuidLen    = 36
)

// eventKinds is the event mix of a shop's traffic, as weights.
var eventKinds = []struct {
	name   string
	weight int
}{
	{"Product Viewed", 38}, {"Product List Viewed", 12}, {"Products Searched", 8}, {"Product Added", 12},
	{"Cart Viewed", 6}, {"Checkout Started", 4}, {"Order Completed", 3}, {"page", 12}, {"identify", 5},
}

var (
	referrers = []string{"https://www.google.com/", "https://www.google.co.uk/", "https://www.bing.com/",
		"https://duckduckgo.com/", "https://www.instagram.com/", "https://www.pinterest.co.uk/", shopURL + "/"}
	campaigns = []campaign{
		{Name: "spring_sale", Source: "newsletter", Medium: "email", Content: "hero_banner"},
		{Name: "gifts_for_her", Source: "instagram", Medium: "social"},
		{Name: "brand_search", Source: "google", Medium: "cpc", Content: "ad_group_candles"},
		{Name: "abandoned_cart", Source: "newsletter", Medium: "email"},
	}
	searches = []string{"candle holder", "heart", "lunch box", "vintage", "christmas", "cake tin", "bunting", "mug",
		"doorstop", "union jack", "gift wrap", "lantern"}
)

// generator renders events for a catalogue and a shopper pool.
type generator struct {
	rng      *rand.Rand
	cat      *catalogue
	shoppers []shopper
	now      time.Time
	orders   int
	buf      bytes.Buffer
	enc      *json.Encoder
	total    int // weight of eventKinds
}

func newGenerator(rng *rand.Rand, cat *catalogue, shoppers []shopper, now time.Time) *generator {
	g := &generator{rng: rng, cat: cat, shoppers: shoppers, now: now.UTC()}
	g.enc = json.NewEncoder(&g.buf)
	g.enc.SetEscapeHTML(false) // keep & in URLs as an SDK sends it
	for _, k := range eventKinds {
		g.total += k.weight
	}
	return g
}

// batch is a rendered request body with the offsets of the fields that
// change per request.
type batch struct {
	body       []byte
	ids        []int // offset of each event's messageId (uuidLen bytes)
	sentAt     int   // offset of sentAt (len(timeLayout) bytes)
	eventBytes int   // the events' JSON, without the separators
}

var (
	idPlaceholder   = strings.Repeat("0", uuidLen)
	timePlaceholder = strings.Repeat("0", len(timeLayout))
	messageIDKey    = []byte(`"messageId":"`)
)

// batch renders n events as a POST /v1/batch body.
func (g *generator) batch(n int) batch {
	b := batch{body: []byte(`{"batch":[`), ids: make([]int, 0, n)}
	for i := range n {
		if i > 0 {
			b.body = append(b.body, ',')
		}
		ev := g.event()
		g.buf.Reset()
		if err := g.enc.Encode(ev); err != nil {
			panic(err) // only strings, numbers and structs: cannot fail
		}
		raw := bytes.TrimSuffix(g.buf.Bytes(), []byte("\n"))
		// Strings are escaped, so the key can appear only as itself.
		at := bytes.Index(raw, messageIDKey) + len(messageIDKey)
		b.ids = append(b.ids, len(b.body)+at)
		b.body = append(b.body, raw...)
		b.eventBytes += len(raw)
	}
	b.body = append(b.body, `],"sentAt":"`...)
	b.sentAt = len(b.body)
	b.body = append(b.body, timePlaceholder...)
	b.body = append(b.body, `"}`...)
	return b
}

func (g *generator) event() event {
	s := g.shoppers[g.rng.IntN(len(g.shoppers))]
	ev := event{
		Type:      "track",
		MessageID: idPlaceholder,
		UserID:    s.UserID,
		Timestamp: g.now.Add(-time.Duration(g.rng.Int64N(int64(2 * time.Minute)))).Format(timeLayout),
		Context: eventContext{
			IP: s.IP, UserAgent: s.UserAgent, Locale: "en-GB",
			Library: library{Name: "analytics-node", Version: "6.2.0"},
		},
	}
	// analytics-node sends the browser's anonymousId when the shop's
	// backend forwards it; userId is always there, so "all" consent covers
	// every event.
	if g.rng.IntN(10) < 7 {
		ev.AnonymousID = s.AnonymousID
	}
	if g.rng.IntN(10) == 0 {
		ev.Integrations = map[string]bool{"All": true, "Google Analytics": false}
	}
	var query string
	if g.rng.IntN(6) == 0 {
		c := campaigns[g.rng.IntN(len(campaigns))]
		ev.Context.Campaign = &c
		query = "?utm_source=" + c.Source + "&utm_medium=" + c.Medium + "&utm_campaign=" + c.Name
	}
	referrer := referrers[g.rng.IntN(len(referrers))]
	setPage := func(path, title string) {
		ev.Context.Page = page{Path: path, URL: shopURL + path + query, Referrer: referrer, Title: title + " – Shop"}
	}

	kind := g.kind()
	p := g.cat.pick(g.rng)
	switch kind {
	case "identify":
		ev.Type = "identify"
		ev.Traits = &traits{Email: s.UserID + "@example.com", Country: "United Kingdom",
			CreatedAt: g.now.AddDate(0, 0, -g.rng.IntN(700)).Format("2006-01-02")}
		setPage("/account", "My account")
		return ev
	case "page":
		ev.Type, ev.Name = "page", "Product"
		setPage("/products/"+p.ID, p.Name)
		ev.Properties = &properties{Path: ev.Context.Page.Path, URL: ev.Context.Page.URL,
			Referrer: referrer, Title: ev.Context.Page.Title}
		return ev
	}
	ev.Event = kind
	props := &properties{Currency: currency}
	ev.Properties = props
	switch kind {
	case "Product Viewed", "Product Added":
		props.ProductID, props.SKU, props.Category, props.Name, props.Price = p.ID, p.ID, p.Category, p.Name, p.Price
		props.Quantity = 1
		props.URL = shopURL + "/products/" + p.ID
		if kind == "Product Added" {
			props.Quantity = 1 + g.rng.IntN(3)
			props.CartID = g.hex(8)
		}
		setPage("/products/"+p.ID, p.Name)
	case "Product List Viewed":
		props.ListID = slug(p.Category)
		props.Category = p.Category
		props.Products = g.items(2, false)
		for i := range props.Products {
			props.Products[i].Position = i + 1
		}
		setPage("/collections/"+props.ListID, strings.ReplaceAll(p.Category, "/", " › "))
	case "Products Searched":
		props.Query = searches[g.rng.IntN(len(searches))]
		props.Currency = ""
		setPage("/search?q="+strings.ReplaceAll(props.Query, " ", "+"), "Search")
	case "Cart Viewed":
		props.CartID = g.hex(8)
		props.Products = g.items(1+g.rng.IntN(2), true)
		setPage("/cart", "Your basket")
	case "Checkout Started":
		props.CheckoutID = g.hex(8)
		props.Products = g.items(1+g.rng.IntN(2), true)
		props.Value = sum(props.Products)
		props.Revenue = props.Value
		setPage("/checkout", "Checkout")
	case "Order Completed":
		g.orders++
		props.OrderID = strconv.Itoa(580000 + g.orders)
		props.Products = g.items(1+g.rng.IntN(4), true)
		props.Revenue = sum(props.Products)
		props.Shipping = 4.95
		props.Total = round2(props.Revenue + props.Shipping)
		props.Tax = round2(props.Total / 6) // UK VAT included in the price
		if g.rng.IntN(4) == 0 {
			props.Coupon = "SPRING10"
		}
		setPage("/checkout/thank-you", "Thank you")
	}
	return ev
}

func (g *generator) kind() string {
	x := g.rng.IntN(g.total)
	for _, k := range eventKinds {
		if x < k.weight {
			return k.name
		}
		x -= k.weight
	}
	return eventKinds[0].name
}

// items picks n products; in a basket they carry a quantity and their
// category, in a list (whose category is the list's) they do not.
func (g *generator) items(n int, basket bool) []lineItem {
	items := make([]lineItem, n)
	for i := range items {
		p := g.cat.pick(g.rng)
		items[i] = lineItem{ProductID: p.ID, SKU: p.ID, Name: p.Name, Price: p.Price}
		if basket {
			items[i].Category = p.Category
			items[i].Quantity = 1 + g.rng.IntN(4)
		}
	}
	return items
}

func (g *generator) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 2*n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

func sum(items []lineItem) float64 {
	t := 0.0
	for _, it := range items {
		t += it.Price * float64(it.Quantity)
	}
	return round2(t)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func slug(s string) string {
	r := strings.NewReplacer("é", "e", " & ", "-", "/", "-", " ", "-")
	return strings.ToLower(r.Replace(s))
}

// putUUID writes a version 4 UUID made of hi and lo into dst[:36].
func putUUID(dst []byte, hi, lo uint64) {
	const digits = "0123456789abcdef"
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	j := 0
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			dst[j] = '-'
			j++
		}
		var nib uint64
		if i < 16 {
			nib = hi >> (60 - 4*i) & 0xf
		} else {
			nib = lo >> (60 - 4*(i-16)) & 0xf
		}
		dst[j] = digits[nib]
		j++
	}
}

func appendUUID(dst []byte, hi, lo uint64) []byte {
	dst = append(dst, idPlaceholder...)
	putUUID(dst[len(dst)-uuidLen:], hi, lo)
	return dst
}
