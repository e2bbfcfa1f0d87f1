// Package recommend owns tact's recommendations (DESIGN 5.3, principle 8):
// an in-memory model learned from consented shoppers' views, cart additions
// and purchases, and the answer to "what should this shopper see here, and
// why".
//
// Personal answers ("for you") blend item-to-item co-occurrence, learned
// from every consented shopper and weighted by event kind and by recency,
// with the shopper's category interests and with what is trending now.
// Non-personal answers (popular, trending, or contextual from one item id)
// read nothing about the shopper. Every item carries a reason in en and
// zh-CN, and the answer says whether it is personalised.
//
// The guardrails live here: a pair of items is used only when at least
// MinSupport distinct shoppers support it; sensitive items are neither
// signals nor personal recommendations unless the query says the shopper
// granted sensitive_personalization, and reasons never name them; a viewed
// item is recommended back a bounded number of times within a bounded
// window; there are no prices in the model at all.
//
// The package is pure: no storage, no HTTP. Its caller:
//
//   - feeds it the events it may use for personalisation (Add): Product
//     Viewed, Product Added and each product of Order Completed, of
//     shoppers who granted personalization, read under that purpose (and
//     events on sensitive items only under sensitive_personalization);
//     at start-up it replays them, oldest first;
//   - takes a shopper's contribution out when personalization is withdrawn
//     or objected to, or the shopper is erased or restricted (Remove); when
//     only sensitive_personalization is withdrawn, Remove and replay the
//     rest; and drops shoppers past the retention period (Expire);
//   - keeps the catalogue view current (PutItem, DeleteItem), with
//     Item.Sensitive set for items in sensitive categories too;
//   - calls Refresh every few seconds, so that new pairs and trends reach
//     everyone's answers;
//   - asks with Query.Shopper set only when personalization is granted now,
//     the shopper has not paused their interests and did not ask for
//     non-personal results; sets Query.Sensitive from
//     sensitive_personalization, Query.Muted from the interests the shopper
//     deleted, and Query.Retargeted from how often it showed each item
//     marked Recommendation.Retarget to that shopper in the last
//     Config.RetargetWindow.
package recommend

import (
	"time"
)

// MinSupport is the least number of distinct shoppers who must hold both
// items of a pair before the pair is used ("bought/viewed together"), so
// that no recommendation reveals a rare basket. Config.MinSupport may raise
// it, never lower it.
const MinSupport = 5

// Kind is the kind of an event. Stronger kinds weigh more.
type Kind uint8

// Event kinds, from the Segment e-commerce spec v2 names the caller maps
// them from.
const (
	View     Kind = iota + 1 // Product Viewed
	Cart                     // Product Added
	Purchase                 // a product of Order Completed
)

func (k Kind) valid() bool { return k >= View && k <= Purchase }

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case View:
		return "view"
	case Cart:
		return "cart"
	case Purchase:
		return "purchase"
	}
	return "unknown"
}

// Event is one signal about a shopper and an item, from an event stored
// under the personalization purpose (and, for a sensitive item, under
// sensitive_personalization).
type Event struct {
	Shopper string    // the shopper's stable pseudonymous key
	Item    string    // product id, opaque and case-sensitive
	Kind    Kind      // what the shopper did
	At      time.Time // occurredAt
}

// Item is what the model knows of a catalogue item. There is no price: no
// price is ever derived from a profile.
type Item struct {
	ID       string
	Name     string
	Category string // path, "Home/Lamps"; "" when unknown
	// Sensitive items (flagged on the item or inherited from a category
	// the data map marks sensitive) are never personal signals or personal
	// recommendations without sensitive_personalization, never appear in
	// non-personal answers, and are never named in a reason.
	Sensitive bool
	// RepeatPurchase items (consumables) may be recommended again to a
	// shopper who bought them; other bought items are not.
	RepeatPurchase bool
}

// Placement is where the recommendations are shown.
type Placement string

// Placements of DESIGN 5.3.
const (
	Home        Placement = "home"
	ProductPage Placement = "product" // Query.ItemID is the item on the page
	CartPage    Placement = "cart"    // Query.ItemID, optional, is the item just added
)

// Query asks for recommendations.
type Query struct {
	Placement Placement
	ItemID    string // the context item (product page; cart, optional)

	// Shopper is the shopper's key for a personal answer; empty for a
	// non-personal one, which reads nothing about any shopper. The caller
	// sets it only when the shopper granted personalization now, has not
	// paused their interest profile and did not ask for personalized=false.
	Shopper string
	// Sensitive says the shopper granted sensitive_personalization.
	Sensitive bool
	// Muted are category paths the shopper removed from their interests
	// ("Home" covers "Home/Lamps"): items in them are not used as signals
	// and get no interest boost.
	Muted []string
	// Retargeted counts, per item id, how often the caller has already
	// shown that item back to this shopper within Config.RetargetWindow:
	// the items it answered with Recommendation.Retarget set.
	Retargeted map[string]int

	Limit  int       // default 10, at most MaxLimit
	Locale string    // "en" (default) or "zh-CN"
	Now    time.Time // default Config.Now()
}

// MaxLimit bounds Query.Limit.
const MaxLimit = 100

// Answer is the recommendations, best first.
type Answer struct {
	Items        []Recommendation `json:"items"`
	Personalized bool             `json:"personalized"`
}

// Recommendation is one recommended item.
type Recommendation struct {
	ID     string  `json:"id"`
	Score  float64 `json:"score"`
	Reason Reason  `json:"reason"`
	// Retarget marks an item the shopper viewed (or put in their cart)
	// and is shown again: the caller counts it per shopper and item and
	// passes the count back in Query.Retargeted.
	Retarget bool `json:"-"`
}

// Reason explains a recommendation to the shopper.
type Reason struct {
	Code string `json:"code"`
	Text string `json:"text"`
}

// Config tunes the model. The zero value of each field means its default;
// a negative weight turns its signal off.
type Config struct {
	// Weights of the event kinds: view 1, cart 3, purchase 5.
	ViewWeight, CartWeight, PurchaseWeight float64

	// PairHalfLife ages co-occurrence: a pair counts by the time its items
	// were last touched (default 30 days).
	PairHalfLife time.Duration
	// PairGap discounts a pair by how far apart in time the shopper
	// touched its two items: by half per PairGap (default 7 days), so that
	// items of one shopping trip count more than items months apart.
	PairGap time.Duration
	// PairWindow is how far apart in time a shopper may touch two items
	// for them to make a pair at all (default 4 PairGaps: by then the gap
	// has discounted the pair to 1/16). Pairs further apart are not
	// counted, which bounds the pairs a shopper makes to those of their
	// recent activity. Their support counts the shoppers who touched both
	// items within the window.
	PairWindow time.Duration
	// SeedHalfLife ages the shopper's own signals (default 60 days).
	SeedHalfLife time.Duration
	// InterestHalfLife ages category interests (default 30 days).
	InterestHalfLife time.Duration
	// TrendHalfLife ages "trending now" (default 14 days).
	TrendHalfLife time.Duration

	// MinSupport is raised to the package's MinSupport when lower.
	MinSupport int
	// Neighbours kept per item, the strongest by similarity (default 30).
	Neighbours int
	// MaxShopperItems bounds a shopper's remembered items; the least
	// recently touched go first (default 200).
	MaxShopperItems int
	// MaxPartners bounds the pairs counted per item (default 2000); the
	// weakest pairs below MinSupport go first, which can only undercount
	// support.
	MaxPartners int

	// TrendWeight blends trending into personal answers and contextual
	// ones (default 0.2).
	TrendWeight float64
	// InterestWeight blends "popular in your categories" (default 0.1).
	InterestWeight float64
	// PopularityWeight is the share of popularity among all visitors
	// (SetPopularity, from measurement) in "trending now", against 1 for
	// the trend from consented events (default 0.5).
	PopularityWeight float64
	// ContextShare is the share of the context item(s) against the
	// shopper's history on product and cart pages (default 0.6).
	ContextShare float64

	// RetargetMax is how often a viewed item may be recommended back
	// (default 3); RetargetWindow how long after the view (default 7 days).
	RetargetMax    int
	RetargetWindow time.Duration
	// RetargetWeight is the boost of a viewed item still in its window
	// (default 0.3), fading to nothing at the window's end.
	RetargetWeight float64

	// Now is the clock (default time.Now).
	Now func() time.Time
}

const day = 24 * time.Hour

func (c Config) withDefaults() Config {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
		*v = max(*v, 0)
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defI := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.ViewWeight, 1)
	def(&c.CartWeight, 3)
	def(&c.PurchaseWeight, 5)
	defD(&c.PairHalfLife, 30*day)
	defD(&c.PairGap, 7*day)
	defD(&c.PairWindow, 4*c.PairGap)
	defD(&c.SeedHalfLife, 60*day)
	defD(&c.InterestHalfLife, 30*day)
	defD(&c.TrendHalfLife, 14*day)
	c.MinSupport = max(c.MinSupport, MinSupport)
	defI(&c.Neighbours, 30)
	defI(&c.MaxShopperItems, 200)
	defI(&c.MaxPartners, 2000)
	def(&c.TrendWeight, 0.2)
	def(&c.InterestWeight, 0.1)
	def(&c.PopularityWeight, 0.5)
	def(&c.ContextShare, 0.6)
	c.TrendWeight, c.ContextShare = min(c.TrendWeight, 1), min(c.ContextShare, 1)
	defI(&c.RetargetMax, 3)
	defD(&c.RetargetWindow, 7*day)
	def(&c.RetargetWeight, 0.3)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c Config) kindWeight(k Kind) float64 {
	switch k {
	case View:
		return c.ViewWeight
	case Cart:
		return c.CartWeight
	case Purchase:
		return c.PurchaseWeight
	}
	return 0
}
