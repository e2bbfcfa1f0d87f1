package recommend

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func newTestModel(t testing.TB, items ...Item) *Model {
	t.Helper()
	m := New(Config{Now: func() time.Time { return now }})
	for _, it := range items {
		if err := m.PutItem(it); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func add(t testing.TB, m *Model, shopper, item string, k Kind, ago time.Duration) {
	t.Helper()
	if err := m.Add(Event{Shopper: shopper, Item: item, Kind: k, At: now.Add(-ago)}); err != nil {
		t.Fatal(err)
	}
}

// buyBoth makes n shoppers named prefix0… buy a and b.
func buyBoth(t testing.TB, m *Model, prefix string, n int, a, b string) {
	t.Helper()
	for i := range n {
		s := fmt.Sprintf("%s%d", prefix, i)
		add(t, m, s, a, Purchase, 48*time.Hour)
		add(t, m, s, b, Purchase, 47*time.Hour)
	}
}

func find(a Answer, id string) (Recommendation, bool) {
	for _, r := range a.Items {
		if r.ID == id {
			return r, true
		}
	}
	return Recommendation{}, false
}

func codes(a Answer) map[string]string {
	out := map[string]string{}
	for _, r := range a.Items {
		out[r.ID] = r.Reason.Code
	}
	return out
}

var catalogue = []Item{
	{ID: "lamp", Name: "Brass Lamp", Category: "Home/Lamps"},
	{ID: "shade", Name: "Linen Shade", Category: "Home/Lamps"},
	{ID: "bulb", Name: "Warm Bulb", Category: "Home/Lamps", RepeatPurchase: true},
	{ID: "mug", Name: "Blue Mug", Category: "Kitchen/Mugs"},
	{ID: "tea", Name: "Green Tea", Category: "Kitchen/Tea", RepeatPurchase: true},
	{ID: "test", Name: "Pregnancy Test", Category: "Health/Tests", Sensitive: true},
	{ID: "vitamins", Name: "Folic Acid", Category: "Health/Supplements", Sensitive: true},
}

// TestSupportThreshold: a pair held by 4 shoppers is never used, by 5 it is,
// in contextual and in personal answers.
func TestSupportThreshold(t *testing.T) {
	for _, n := range []int{4, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			m := newTestModel(t, catalogue...)
			buyBoth(t, m, "s", n, "lamp", "shade")
			add(t, m, "me", "lamp", Purchase, time.Hour)
			m.Refresh()

			ctx := m.Recommend(Query{Placement: ProductPage, ItemID: "lamp"})
			r, ok := find(ctx, "shade")
			together := ok && r.Reason.Code == ReasonBoughtTogether
			if together != (n >= MinSupport) {
				t.Errorf("product page of lamp, %d shoppers: shade %+v (found %v)", n, r, ok)
			}
			if want := "Often bought together with Brass Lamp"; together && r.Reason.Text != want {
				t.Errorf("reason %q, want %q", r.Reason.Text, want)
			}

			me := m.Recommend(Query{Shopper: "me"})
			r, ok = find(me, "shade")
			because := ok && r.Reason.Code == ReasonBecauseBought
			if because != (n >= MinSupport) {
				t.Errorf("personal, %d shoppers: shade %+v (found %v)", n, r, ok)
			}
			if want := "Because you bought Brass Lamp"; because && r.Reason.Text != want {
				t.Errorf("reason %q, want %q", r.Reason.Text, want)
			}
			// The row itself holds the pair only from MinSupport shoppers on.
			lamp := m.ids["lamp"]
			if got := len(m.items[lamp].row) > 0; got != (n >= MinSupport) {
				t.Errorf("lamp's row %v with %d shoppers", m.items[lamp].row, n)
			}
		})
	}
}

// TestMinSupportCannotBeLowered: a configured lower threshold is raised.
func TestMinSupportCannotBeLowered(t *testing.T) {
	m := New(Config{MinSupport: 1})
	if m.Config().MinSupport != MinSupport {
		t.Errorf("MinSupport %d", m.Config().MinSupport)
	}
}

// sensitiveModel: the test kit co-occurs with vitamins for 6 shoppers, the
// lamp with the shade for 6; "me" viewed the test kit and bought a lamp.
func sensitiveModel(t *testing.T) *Model {
	m := newTestModel(t, catalogue...)
	buyBoth(t, m, "a", 6, "test", "vitamins")
	buyBoth(t, m, "b", 6, "lamp", "shade")
	buyBoth(t, m, "c", 6, "test", "mug")
	add(t, m, "me", "test", View, 2*time.Hour)
	add(t, m, "me", "lamp", Purchase, 3*time.Hour)
	add(t, m, "kitonly", "test", View, 2*time.Hour)
	m.Refresh()
	return m
}

func mentionsSensitive(a Answer) string {
	for _, r := range a.Items {
		for _, w := range []string{"Pregnancy", "Folic", "Tests", "Supplements", "Health"} {
			if strings.Contains(r.Reason.Text, w) {
				return r.Reason.Text
			}
		}
	}
	return ""
}

func TestSensitiveNotUsedWithoutGrant(t *testing.T) {
	m := sensitiveModel(t)
	for _, loc := range []string{"en", "zh-CN"} {
		for _, q := range []Query{
			{Shopper: "me", Locale: loc},
			{Shopper: "me", Placement: CartPage, Locale: loc},
			{Shopper: "me", Placement: ProductPage, ItemID: "mug", Locale: loc},
			{Placement: ProductPage, ItemID: "test", Locale: loc}, // non-personal, on the kit's own page
			{Placement: ProductPage, ItemID: "mug", Locale: loc},
			{Locale: loc},
		} {
			a := m.Recommend(q)
			for _, r := range a.Items {
				if r.ID == "test" || r.ID == "vitamins" {
					t.Errorf("%+v: sensitive item recommended: %+v", q, r)
				}
				// The mug co-occurs with the test kit only: without the
				// grant, the kit is no signal for it.
				if r.ID == "mug" && q.Shopper != "" && r.Reason.Code != ReasonTrending && r.Reason.Code != ReasonBoughtTogether {
					t.Errorf("%+v: mug recommended from the sensitive view: %+v", q, r)
				}
			}
			if s := mentionsSensitive(a); s != "" {
				t.Errorf("%+v: reason names a sensitive item or category: %q", q, s)
			}
		}
	}
	for _, in := range m.Interests("me", false, time.Time{}) {
		if strings.HasPrefix(in.Category, "Health") {
			t.Errorf("interests without the grant: %+v", in)
		}
	}
}

func TestSensitiveWithGrant(t *testing.T) {
	m := sensitiveModel(t)
	a := m.Recommend(Query{Shopper: "me", Sensitive: true})
	if _, ok := find(a, "vitamins"); !ok {
		t.Errorf("with the grant, vitamins (bought with the kit the shopper viewed) should be recommended: %+v", a)
	}
	if s := mentionsSensitive(a); s != "" {
		t.Errorf("even with the grant, reasons never name sensitive items: %q", s)
	}
	// A shopper whose only signal is the kit: its neighbours come from it,
	// and the reason does not name it.
	a = m.Recommend(Query{Shopper: "kitonly", Sensitive: true})
	if r, ok := find(a, "mug"); !ok || r.Reason.Code != ReasonActivity {
		t.Errorf("with the grant, the mug comes from the kit, unnamed: %+v", a)
	}
	if s := mentionsSensitive(a); s != "" {
		t.Errorf("even with the grant, reasons never name sensitive items: %q", s)
	}
	// Without the grant, the kit is no signal, and nothing personal is
	// left: the answer is not personalised.
	if got, want := m.Recommend(Query{Shopper: "kitonly"}), m.Recommend(Query{}); !cmp.Equal(got, want) {
		t.Errorf("without the grant: %+v, want the non-personal %+v", got, want)
	}
	var health bool
	for _, in := range m.Interests("me", true, time.Time{}) {
		health = health || in.Category == "Health/Tests"
	}
	if !health {
		t.Error("interests with the grant should show Health/Tests")
	}
}

// TestSensitiveFlagCountsAtOnce: flagging an item takes it out of answers
// before any Refresh.
func TestSensitiveFlagCountsAtOnce(t *testing.T) {
	m := newTestModel(t, catalogue...)
	buyBoth(t, m, "b", 6, "lamp", "shade")
	m.Refresh()
	if _, ok := find(m.Recommend(Query{Placement: ProductPage, ItemID: "lamp"}), "shade"); !ok {
		t.Fatal("shade should be recommended with the lamp")
	}
	m.PutItem(Item{ID: "shade", Name: "Linen Shade", Category: "Home/Lamps", Sensitive: true})
	if _, ok := find(m.Recommend(Query{Placement: ProductPage, ItemID: "lamp"}), "shade"); ok {
		t.Error("a shade flagged sensitive is still recommended")
	}
}

func TestRetargetingCaps(t *testing.T) {
	m := newTestModel(t, catalogue...)
	buyBoth(t, m, "b", 6, "lamp", "shade")
	add(t, m, "me", "mug", View, 24*time.Hour)
	add(t, m, "old", "mug", View, 8*24*time.Hour)
	add(t, m, "carted", "mug", Cart, 24*time.Hour)
	m.Refresh()
	for _, tt := range []struct {
		shopper string
		shown   int
		want    bool
	}{
		{"me", 0, true},
		{"me", 2, true},
		{"me", 3, false}, // RetargetMax reached
		{"me", 7, false},
		{"old", 0, false}, // viewed 8 days ago: outside RetargetWindow
		{"carted", 0, true},
		{"carted", 3, false},
	} {
		a := m.Recommend(Query{Shopper: tt.shopper, Retargeted: map[string]int{"mug": tt.shown}})
		r, ok := find(a, "mug")
		if ok != tt.want {
			t.Errorf("%s, shown %d times: mug recommended %v, want %v (%+v)", tt.shopper, tt.shown, ok, tt.want, a.Items)
		}
		if ok && (!r.Retarget || r.Reason.Code != ReasonViewedRecently) {
			t.Errorf("%s: a viewed item recommended back must be marked for counting: %+v", tt.shopper, r)
		}
		for _, r := range a.Items {
			if r.Retarget && r.ID != "mug" {
				t.Errorf("%s: %s marked as a retarget", tt.shopper, r.ID)
			}
		}
	}
	// Without the shopper, nothing is a retarget and the mug is just an item.
	for _, r := range m.Recommend(Query{}).Items {
		if r.Retarget {
			t.Errorf("non-personal retarget %+v", r)
		}
	}
}

func TestBoughtItems(t *testing.T) {
	m := newTestModel(t, catalogue...)
	buyBoth(t, m, "b", 6, "lamp", "shade")
	buyBoth(t, m, "t", 6, "lamp", "bulb")
	buyBoth(t, m, "u", 6, "mug", "tea")
	add(t, m, "me", "lamp", Purchase, time.Hour)
	add(t, m, "me", "shade", Purchase, time.Hour)
	add(t, m, "me", "bulb", Purchase, time.Hour)
	add(t, m, "me", "mug", Purchase, 2*time.Hour)
	add(t, m, "me", "mug", View, time.Hour) // a bought item viewed again is still bought
	m.Refresh()
	a := m.Recommend(Query{Shopper: "me", Limit: 20})
	got := codes(a)
	for _, id := range []string{"lamp", "shade", "mug"} {
		if _, ok := got[id]; ok {
			t.Errorf("bought %s recommended again: %v", id, got)
		}
	}
	if got["bulb"] != ReasonBuyAgain {
		t.Errorf("bulb, a repeat-purchase item, should be offered again: %v", got)
	}
	if !a.Personalized {
		t.Error("answer not labelled personalised")
	}
}

// TestRemove: after Remove, the model answers as if the shopper had never
// been there, at once (no Refresh).
func TestRemove(t *testing.T) {
	build := func(withLeaver bool) *Model {
		m := newTestModel(t, catalogue...)
		buyBoth(t, m, "s", 4, "lamp", "shade")
		buyBoth(t, m, "k", 7, "mug", "tea")
		if withLeaver {
			add(t, m, "leaver", "lamp", Purchase, 30*time.Hour)
			add(t, m, "leaver", "shade", View, 29*time.Hour)
			add(t, m, "leaver", "mug", Purchase, 20*time.Hour)
			add(t, m, "leaver", "tea", Cart, 10*time.Hour)
		}
		add(t, m, "me", "lamp", Purchase, time.Hour)
		add(t, m, "me", "mug", View, time.Hour)
		m.Refresh()
		return m
	}
	with, without := build(true), build(false)
	queries := []Query{
		{Placement: ProductPage, ItemID: "lamp"},
		{Placement: ProductPage, ItemID: "mug"},
		{Shopper: "me"},
		{},
	}
	// With the leaver, the lamp–shade pair reaches 5 shoppers.
	if r, ok := find(with.Recommend(queries[0]), "shade"); !ok || r.Reason.Code != ReasonBoughtTogether {
		t.Fatalf("before removal: %+v", with.Recommend(queries[0]))
	}
	if !with.Remove("leaver") {
		t.Fatal("Remove found nobody")
	}
	if with.Remove("leaver") || with.Remove("nobody") {
		t.Error("Remove of an absent shopper reported a removal")
	}
	if r, ok := find(with.Recommend(queries[0]), "shade"); ok && r.Reason.Code == ReasonBoughtTogether {
		t.Errorf("the pair the leaver completed is still used: %+v", r)
	}
	for _, q := range queries {
		got, want := with.Recommend(q), without.Recommend(q)
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-5 })); diff != "" {
			t.Errorf("%+v after Remove (-never there +removed):\n%s", q, diff)
		}
	}
	if a, b := with.Stats(), without.Stats(); a.Shoppers != b.Shoppers || a.Pairs != b.Pairs || a.ShopperItems != b.ShopperItems {
		t.Errorf("stats after Remove %+v, never there %+v", a, b)
	}
	if in := with.Interests("leaver", true, time.Time{}); in != nil {
		t.Errorf("interests of a removed shopper: %+v", in)
	}
}

func TestExpire(t *testing.T) {
	m := newTestModel(t, catalogue...)
	buyBoth(t, m, "s", 5, "lamp", "shade")
	add(t, m, "recent", "lamp", View, time.Hour)
	if n := m.Expire(now.Add(-24 * time.Hour)); n != 5 {
		t.Errorf("expired %d shoppers, want 5", n)
	}
	if st := m.Stats(); st.Shoppers != 1 || st.Pairs != 0 || st.Neighbours != 0 {
		t.Errorf("after Expire: %+v", st)
	}
}

// TestNonPersonalReadsNothing: a query without a shopper never looks at a
// shopper's data (counted), and its answer ignores what any shopper did.
func TestNonPersonalReadsNothing(t *testing.T) {
	m := newTestModel(t, catalogue...)
	buyBoth(t, m, "s", 6, "lamp", "shade")
	buyBoth(t, m, "k", 6, "mug", "tea")
	add(t, m, "me", "shade", Purchase, time.Hour)
	m.Refresh()
	before := m.reads.Load()
	for _, q := range []Query{
		{},
		{Placement: ProductPage, ItemID: "lamp"},
		{Placement: CartPage, ItemID: "lamp"},
		{Placement: CartPage},
		{Placement: ProductPage, ItemID: "unknown"},
		{Sensitive: true, Muted: []string{"Home"}, Retargeted: map[string]int{"shade": 9}}, // no shopper: all ignored
	} {
		a := m.Recommend(q)
		if a.Personalized {
			t.Errorf("%+v: labelled personalised", q)
		}
		for _, r := range a.Items {
			switch r.Reason.Code {
			case ReasonBoughtTogether, ReasonPopularInCategory, ReasonTrending:
			default:
				t.Errorf("%+v: personal reason %+v", q, r)
			}
		}
	}
	if got := m.reads.Load(); got != before {
		t.Errorf("non-personal queries read %d profiles", got-before)
	}
	// The shade that "me" bought is still shown without the shopper.
	if _, ok := find(m.Recommend(Query{Placement: ProductPage, ItemID: "lamp"}), "shade"); !ok {
		t.Error("non-personal answer excluded an item for a shopper it should not know")
	}
	m.Recommend(Query{Shopper: "me"})
	if m.reads.Load() == before {
		t.Error("the personal query's read was not counted (the check above proves nothing)")
	}
	// Same answer as a query with an unknown shopper, who has no profile.
	got, want := m.Recommend(Query{Shopper: "stranger"}), m.Recommend(Query{})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unknown shopper (-non-personal +got):\n%s", diff)
	}
}

func TestDeterministic(t *testing.T) {
	build := func(order []Item) *Model {
		m := newTestModel(t, order...)
		buyBoth(t, m, "s", 6, "lamp", "shade")
		buyBoth(t, m, "t", 6, "lamp", "bulb")
		buyBoth(t, m, "u", 6, "mug", "tea")
		buyBoth(t, m, "v", 6, "shade", "mug")
		add(t, m, "me", "lamp", View, time.Hour)
		add(t, m, "me", "mug", Cart, 2*time.Hour)
		m.Refresh()
		return m
	}
	rev := slices.Clone(catalogue)
	slices.Reverse(rev)
	a, b := build(catalogue), build(rev)
	for _, q := range []Query{{Shopper: "me", Limit: 20}, {Placement: ProductPage, ItemID: "lamp"}, {}, {Shopper: "me", Placement: CartPage}} {
		first := a.Recommend(q)
		for range 20 {
			if diff := cmp.Diff(first, a.Recommend(q)); diff != "" {
				t.Fatalf("%+v: answers differ between calls:\n%s", q, diff)
			}
		}
		if diff := cmp.Diff(first, b.Recommend(q)); diff != "" {
			t.Errorf("%+v: answers depend on the catalogue's order:\n%s", q, diff)
		}
	}
}

func TestReasonsLocales(t *testing.T) {
	m := newTestModel(t, catalogue...)
	buyBoth(t, m, "s", 6, "lamp", "shade")
	add(t, m, "me", "lamp", View, time.Hour)
	m.Refresh()
	for _, tt := range []struct {
		q    Query
		id   string
		want Reason
	}{
		{Query{Shopper: "me"}, "shade", Reason{ReasonBecauseViewed, "Because you viewed Brass Lamp"}},
		{Query{Shopper: "me", Locale: "zh-CN"}, "shade", Reason{ReasonBecauseViewed, "因为您浏览过“Brass Lamp”"}},
		{Query{Shopper: "me", Locale: "zh_Hans"}, "lamp", Reason{ReasonViewedRecently, "您最近浏览过此商品"}},
		{Query{Placement: ProductPage, ItemID: "lamp", Locale: "zh"}, "shade", Reason{ReasonBoughtTogether, "经常与“Brass Lamp”一起购买"}},
		{Query{Placement: ProductPage, ItemID: "shade", Locale: "fr"}, "lamp", Reason{ReasonBoughtTogether, "Often bought together with Linen Shade"}},
	} {
		r, ok := find(m.Recommend(tt.q), tt.id)
		if !ok || r.Reason != tt.want {
			t.Errorf("%+v: %s got %+v, want %+v", tt.q, tt.id, r.Reason, tt.want)
		}
	}
	// Every code has a text in every locale.
	for loc, texts := range reasonTexts {
		for code := range reasonTexts[LocaleEN] {
			if texts[code][1] == "" {
				t.Errorf("%s: no text for %s", loc, code)
			}
		}
	}
}

func TestPopularInCategory(t *testing.T) {
	m := newTestModel(t, catalogue...)
	for i := range 3 {
		add(t, m, fmt.Sprint("x", i), "shade", Purchase, time.Hour)
	}
	add(t, m, "y", "lamp", Purchase, time.Hour)
	m.Refresh()
	r, ok := find(m.Recommend(Query{Placement: ProductPage, ItemID: "lamp"}), "shade")
	if want := (Reason{ReasonPopularInCategory, "Popular in Lamps"}); !ok || r.Reason != want {
		t.Errorf("got %+v, want %+v", r.Reason, want)
	}
}

func TestInterests(t *testing.T) {
	m := newTestModel(t, catalogue...)
	add(t, m, "me", "lamp", View, 0)
	add(t, m, "me", "mug", View, 30*24*time.Hour) // one half-life older
	add(t, m, "me", "test", Purchase, 0)          // sensitive
	got := m.Interests("me", false, time.Time{})
	want := []Interest{{"Home/Lamps", 2.0 / 3}, {"Kitchen/Mugs", 1.0 / 3}}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return math.Abs(a-b) < 1e-9 })); diff != "" {
		t.Errorf("interests (-want +got):\n%s", diff)
	}
	if m.Interests("nobody", false, time.Time{}) != nil {
		t.Error("interests of nobody")
	}
}

// TestMuted: a muted category is neither a signal nor boosted.
func TestMuted(t *testing.T) {
	m := newTestModel(t, catalogue...)
	buyBoth(t, m, "s", 6, "lamp", "mug")
	add(t, m, "me", "lamp", View, time.Hour)
	m.Refresh()
	if r, ok := find(m.Recommend(Query{Shopper: "me"}), "mug"); !ok || r.Reason.Code != ReasonBecauseViewed {
		t.Fatalf("mug %+v", r)
	}
	add(t, m, "me", "tea", View, time.Hour) // a signal left after the mute
	if r, ok := find(m.Recommend(Query{Shopper: "me", Limit: 100}), "lamp"); !ok || !r.Retarget {
		t.Fatalf("the viewed lamp is not shown back before the mute: %+v", r)
	}
	a := m.Recommend(Query{Shopper: "me", Muted: []string{"Home"}, Limit: 100})
	if !a.Personalized {
		t.Fatal("not personal with the tea view left")
	}
	if r, ok := find(a, "mug"); ok && r.Reason.Code == ReasonBecauseViewed {
		t.Errorf("a muted category's item is still a signal: %+v", r)
	}
	if r, ok := find(a, "lamp"); ok {
		t.Errorf("the viewed item of a muted category is shown back: %+v", r)
	}
}

func TestAddRejects(t *testing.T) {
	m := newTestModel(t)
	for _, e := range []Event{
		{Item: "a", Kind: View, At: now},
		{Shopper: "s", Kind: View, At: now},
		{Shopper: "s", Item: "a", At: now},
		{Shopper: "s", Item: "a", Kind: 9, At: now},
		{Shopper: "s", Item: "a", Kind: View},
		{Shopper: "s", Item: "a", Kind: View, At: now.Add(25 * time.Hour)},
	} {
		if m.Add(e) == nil {
			t.Errorf("%+v accepted", e)
		}
	}
	if m.PutItem(Item{}) == nil {
		t.Error("an item without id accepted")
	}
}

// TestShopperItemsBounded: a shopper's items are capped, the least recently
// touched going first, and the counts follow.
func TestShopperItemsBounded(t *testing.T) {
	m := New(Config{MaxShopperItems: 10, Now: func() time.Time { return now }})
	for i := range 25 {
		add(t, m, "me", fmt.Sprint("i", i), View, time.Duration(25-i)*time.Hour)
	}
	if st := m.Stats(); st.ShopperItems != 10 || st.Pairs != 45 {
		t.Errorf("stats %+v, want 10 items and 45 pairs", st)
	}
	if m.items[m.ids["i0"]].holders != 0 || m.items[m.ids["i24"]].holders != 1 {
		t.Error("the oldest items should have gone")
	}
}

// TestPartnersBounded: an item's pairs are capped; pruning undercounts.
func TestPartnersBounded(t *testing.T) {
	m := New(Config{MaxPartners: 20, Now: func() time.Time { return now }})
	for i := range 100 {
		s := fmt.Sprint("s", i)
		add(t, m, s, "hub", Purchase, 2*time.Hour)
		add(t, m, s, fmt.Sprint("i", i), Purchase, time.Hour)
	}
	for i := range m.items {
		if n := len(m.items[i].partners); n > 20 {
			t.Fatalf("%s has %d partners", m.items[i].info.ID, n)
		}
		for j, p := range m.items[i].partners {
			if q, ok := m.items[j].partners[int32(i)]; !ok || q != p {
				t.Fatalf("pair %d–%d not symmetric: %+v %+v", i, j, p, q)
			}
		}
	}
	for i := range 100 {
		m.Remove(fmt.Sprint("s", i))
	}
	if st := m.Stats(); st.Pairs != 0 || st.Shoppers != 0 {
		t.Errorf("after removing everyone: %+v", st)
	}
}

// TestEpochMoves: events years apart move the epoch; weights stay finite
// and the recent pair still counts.
func TestEpochMoves(t *testing.T) {
	clock := now
	m := New(Config{Now: func() time.Time { return clock }})
	for _, it := range catalogue {
		m.PutItem(it)
	}
	buyBoth(t, m, "old", 6, "mug", "tea")
	clock = now.AddDate(3, 0, 0)
	start := m.epoch
	for i := range 6 {
		s := fmt.Sprint("new", i)
		for _, it := range []string{"lamp", "shade"} {
			if err := m.Add(Event{Shopper: s, Item: it, Kind: Purchase, At: now.AddDate(3, 0, 0)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	m.Refresh()
	if m.epoch == start {
		t.Fatal("the epoch did not move")
	}
	for i := range m.items {
		it := &m.items[i]
		for _, v := range []float64{it.norm, it.trend} {
			if math.IsInf(v, 0) || math.IsNaN(v) {
				t.Fatalf("%s: weight %v", it.info.ID, v)
			}
		}
	}
	a := m.Recommend(Query{Placement: ProductPage, ItemID: "lamp", Now: now.AddDate(3, 0, 0)})
	if r, ok := find(a, "shade"); !ok || r.Reason.Code != ReasonBoughtTogether {
		t.Errorf("after the epoch moved: %+v", a)
	}
}

// TestConcurrent runs answers beside writers (meaningful under -race).
func TestConcurrent(t *testing.T) {
	m := newTestModel(t, catalogue...)
	buyBoth(t, m, "s", 6, "lamp", "shade")
	m.Refresh()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				m.Recommend(Query{Shopper: fmt.Sprint("w", i%7), Placement: []Placement{Home, ProductPage, CartPage}[i%3], ItemID: "lamp"})
				m.Interests(fmt.Sprint("w", g), false, time.Time{})
			}
		})
	}
	wg.Go(func() {
		for i := range 300 {
			add(t, m, fmt.Sprint("w", i%7), catalogue[i%len(catalogue)].ID, Kind(i%3+1), time.Duration(i)*time.Minute)
			if i%50 == 0 {
				m.Refresh()
				m.Remove(fmt.Sprint("w", i%7))
			}
		}
	})
	wg.Wait()
}

func TestNoPrice(t *testing.T) {
	// Prices are never derived from a profile: the model has none to give.
	for _, typ := range []any{Item{}, Recommendation{}, Answer{}, Query{}} {
		if s := fmt.Sprintf("%+v", typ); strings.Contains(strings.ToLower(s), "price") {
			t.Errorf("%T has a price: %s", typ, s)
		}
	}
}

// TestEntrySize: a shopper's item is the model's most numerous record; its
// size is part of the memory figure in the Model's doc.
func TestEntrySize(t *testing.T) {
	if n := unsafe.Sizeof(entry{}); n != 24 {
		t.Errorf("entry is %d bytes, want 24", n)
	}
}

// TestPopularityFromMeasurement: items popular among all visitors (counted
// without identifiers) lead "trending now" when consented events are few;
// sensitive items never appear; the popularity reads nothing about anyone.
func TestPopularityFromMeasurement(t *testing.T) {
	m := newTestModel(t, catalogue...)
	m.SetPopularity(map[string]float64{"mug": 40, "lamp": 10, "test": 500, "unknown-item": 3})
	m.Refresh()
	before := m.ShopperReads()
	a := m.Recommend(Query{Limit: 10})
	if len(a.Items) < 2 || a.Items[0].ID != "mug" || a.Items[1].ID != "lamp" || a.Personalized {
		t.Fatalf("non-personal answer %+v, want mug then lamp", a)
	}
	for _, it := range a.Items {
		if it.ID == "test" || it.ID == "unknown-item" {
			t.Errorf("%s recommended (sensitive, or not in the catalogue)", it.ID)
		}
		if it.Reason.Code != ReasonTrending {
			t.Errorf("%s: reason %v", it.ID, it.Reason)
		}
	}
	if m.ShopperReads() != before {
		t.Error("popularity read shoppers' data")
	}
	// Consented events count beside it: a shade bought by six shoppers
	// overtakes the lamp, not the far more popular mug.
	buyBoth(t, m, "s", 6, "shade", "bulb")
	m.Refresh()
	a = m.Recommend(Query{Limit: 10})
	pos := func(id string) int {
		return slices.IndexFunc(a.Items, func(r Recommendation) bool { return r.ID == id })
	}
	if pos("shade") < 0 || pos("shade") > pos("lamp") {
		t.Errorf("after consented purchases: %+v", a.Items)
	}
	// Clearing it leaves only the consented trend.
	m.SetPopularity(nil)
	m.Refresh()
	if _, ok := find(m.Recommend(Query{Limit: 10}), "mug"); ok {
		t.Error("mug still trending after the popularity was cleared")
	}
}
