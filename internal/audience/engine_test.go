package audience

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// openEnv lets every event serve every purpose.
func openEnv() Env {
	return Env{
		EventServes:       func(string, string) bool { return true },
		SensitiveEvent:    func(string) bool { return false },
		SensitiveCategory: func(string) bool { return false },
		PurposeCategories: func(string) []string { return []string{InterestsCategory} },
	}
}

func mustParse(t testing.TB, s string) Definition {
	t.Helper()
	d, err := Parse([]byte(s), openEnv())
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return d
}

// audienceJSON builds a definition document.
func audienceJSON(id, purpose, where string) string {
	return fmt.Sprintf(`{"id":%q,"name":%q,"purpose":%q,"where":%s}`, id, id, purpose, where)
}

// fixture is an engine with a clock and consent the test controls.
type fixture struct {
	t     testing.TB
	now   time.Time
	deny  map[[2]string]bool // (subject, purpose) not eligible
	e     *Engine
	calls int // of Eligible
}

var day0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func newFixture(t testing.TB, defs ...string) *fixture {
	f := &fixture{t: t, now: day0, deny: map[[2]string]bool{}}
	f.e = NewEngine(Options{
		Now: func() time.Time { return f.now },
		Eligible: func(subject, purpose string) bool {
			f.calls++
			return !f.deny[[2]string{subject, purpose}]
		},
	})
	for _, d := range defs {
		f.e.Define(mustParse(t, d))
	}
	return f
}

// at returns day0 plus d days and h hours.
func at(d, h int) time.Time {
	return day0.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
}

func (f *fixture) observe(subject, name string, when time.Time, props string, purposes ...string) []Change {
	f.t.Helper()
	var p map[string]any
	if props != "" {
		p = decodeProps(f.t, props)
	}
	if len(purposes) == 0 {
		purposes = []string{"analytics", "marketing_email", "marketing_sms", "advertising"}
	}
	return f.e.Observe(Observation{SubjectID: subject, Name: name, At: when, Purposes: purposes, Properties: p})
}

func decodeProps(t testing.TB, s string) map[string]any {
	t.Helper()
	v, ok := decodeJSON([]byte(s))
	m, isMap := v.(map[string]any)
	if !ok || !isMap {
		t.Fatalf("bad properties %s", s)
	}
	return m
}

func joined(aud string, subjects ...string) []Change {
	var cs []Change
	for _, s := range subjects {
		cs = append(cs, Change{Audience: aud, SubjectID: s, Joined: true})
	}
	return cs
}

func left(aud string, subjects ...string) []Change {
	var cs []Change
	for _, s := range subjects {
		cs = append(cs, Change{Audience: aud, SubjectID: s, Joined: false})
	}
	return cs
}

func checkChanges(t testing.TB, what string, got, want []Change) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: changes (-want +got):\n%s", what, diff)
	}
}

func TestEventCountsAndWindow(t *testing.T) {
	f := newFixture(t, audienceJSON("repeat", "marketing_email",
		`{"event":{"name":"Order Completed","minCount":2,"withinDays":7}}`))

	checkChanges(t, "first order", f.observe("s1", "Order Completed", at(0, -1), ""), nil)
	f.now = at(3, 0)
	checkChanges(t, "second order", f.observe("s1", "Order Completed", at(3, -2), ""), joined("repeat", "s1"))
	checkChanges(t, "third order", f.observe("s1", "Order Completed", at(3, -1), ""), nil)

	// Nothing expires before the first order's day leaves the window.
	checkChanges(t, "advance day 6", f.e.Advance(at(6, 11)), nil)
	// Day 0 leaves at the UTC midnight seven days later; the two orders of
	// day 3 still make two.
	checkChanges(t, "advance day 7", f.e.Advance(at(7, -12)), nil)
	checkChanges(t, "advance day 10", f.e.Advance(at(10, -12)), left("repeat", "s1"))
	if got := f.e.Size("repeat"); got != 0 {
		t.Errorf("Size = %d, want 0", got)
	}
	// Everything expired: the subject is gone from memory.
	f.e.mu.RLock()
	n := len(f.e.subjects)
	f.e.mu.RUnlock()
	if n != 0 {
		t.Errorf("%d subjects kept after their counts expired", n)
	}

	// An observation already outside the window does not count.
	f.now = at(20, 0)
	checkChanges(t, "old order", f.observe("s2", "Order Completed", at(12, 0), ""), nil)
	checkChanges(t, "recent order", f.observe("s2", "Order Completed", at(19, 0), ""), nil)
	// A timestamp after now counts as now.
	checkChanges(t, "future order", f.observe("s2", "Order Completed", at(40, 0), ""), joined("repeat", "s2"))
	// It does not stay in the window past now+7 days.
	checkChanges(t, "advance", f.e.Advance(at(26, 0)), left("repeat", "s2"))

	// Advance is a no-op when nothing is due.
	checkChanges(t, "idle advance", f.e.Advance(at(26, 5)), nil)

	// Counting does not rely on Advance having dropped old days.
	f.now = at(50, 0)
	checkChanges(t, "day 50", f.observe("s3", "Order Completed", at(50, 0), ""), nil)
	f.now = at(57, 0)
	checkChanges(t, "day 57, without Advance", f.observe("s3", "Order Completed", at(57, 0), ""), nil)
	checkChanges(t, "day 57, again", f.observe("s3", "Order Completed", at(57, 0), ""), joined("repeat", "s3"))
}

func TestWindowIsWholeUTCDays(t *testing.T) {
	f := newFixture(t, audienceJSON("recent", "marketing_email", `{"event":{"name":"Order Completed","withinDays":1}}`))
	f.now = time.Date(2026, 3, 10, 23, 59, 0, 0, time.UTC)
	checkChanges(t, "order", f.observe("s1", "Order Completed", f.now, ""), joined("recent", "s1"))
	// withinDays 1 is "today (UTC)": the order leaves at midnight.
	checkChanges(t, "before midnight", f.e.Advance(time.Date(2026, 3, 10, 23, 59, 59, 0, time.UTC)), nil)
	checkChanges(t, "after midnight", f.e.Advance(time.Date(2026, 3, 11, 0, 0, 1, 0, time.UTC)), left("recent", "s1"))
}

func TestBooleanLogic(t *testing.T) {
	f := newFixture(t,
		audienceJSON("all", "marketing_email", `{"all":[{"event":{"name":"Product Added","withinDays":30}},{"event":{"name":"Order Completed","withinDays":30}}]}`),
		audienceJSON("any", "marketing_email", `{"any":[{"event":{"name":"Product Added","withinDays":30}},{"event":{"name":"Order Completed","withinDays":30}}]}`),
		audienceJSON("abandoned", "marketing_email", `{"all":[{"event":{"name":"Product Added","withinDays":30}},{"not":{"event":{"name":"Order Completed","withinDays":30}}}]}`),
	)
	checkChanges(t, "add", f.observe("s1", "Product Added", day0, ""), append(joined("abandoned", "s1"), joined("any", "s1")...))
	checkChanges(t, "order", f.observe("s1", "Order Completed", day0, ""), append(left("abandoned", "s1"), joined("all", "s1")...))
	checkChanges(t, "order only", f.observe("s2", "Order Completed", day0, ""), joined("any", "s2"))
	for id, want := range map[string][]string{"all": {"s1"}, "any": {"s1", "s2"}, "abandoned": {}} {
		if diff := cmp.Diff(want, f.e.Members(id)); diff != "" {
			t.Errorf("Members(%s) (-want +got):\n%s", id, diff)
		}
	}
}

func TestPropertyFilters(t *testing.T) {
	ev := func(id, filters string) string {
		return audienceJSON(id, "marketing_email", `{"event":{"name":"Order Completed","withinDays":30,"where":`+filters+`}}`)
	}
	f := newFixture(t,
		ev("kitchen", `[{"property":"products.category","op":"eq","value":"Kitchen"}]`),
		ev("kitchen-prefix", `[{"property":"products.category","op":"prefix","value":"Kitchen/"}]`),
		ev("big", `[{"property":"total","op":"gte","value":100}]`),
		ev("small", `[{"property":"total","op":"lt","value":20.5}]`),
		ev("exact", `[{"property":"total","op":"eq","value":42}]`),
		ev("no-health", `[{"property":"products.category","op":"ne","value":"Health"}]`),
		ev("coupon", `[{"property":"coupon","op":"exists"}]`),
		ev("eu", `[{"property":"shipping.country","op":"in","value":["FR","DE",1]}]`),
		ev("sale", `[{"property":"tags","op":"contains","value":"sale"}]`),
		ev("both", `[{"property":"products.category","op":"eq","value":"Garden"},{"property":"total","op":"gt","value":10}]`),
		ev("paid", `[{"property":"paid","op":"eq","value":true}]`),
	)
	type filterCase struct {
		subject, props string
		want           []string
	}
	cases := []filterCase{
		{"a", `{"products":[{"category":"Garden"},{"category":"Kitchen"}],"total":100}`, []string{"big", "both", "kitchen", "no-health"}},
		{"b", `{"products":[{"category":"Kitchen/Knives"},{"category":"Health"}],"total":20.4999}`, []string{"kitchen-prefix", "small"}},
		{"c", `{"total":"42","coupon":null,"shipping":{"country":"FR"}}`, []string{"eu", "no-health"}},
		{"d", `{"total":42.0,"coupon":"SPRING","tags":["new","summer-sale"],"paid":true}`, []string{"coupon", "exact", "no-health", "paid", "sale"}},
		{"e", `{"products":[[{"category":"Kitchen"}]],"total":1e2,"shipping":[{"country":"DE"}]}`, []string{"big", "eu", "kitchen", "no-health"}},
		{"f", `{"products":{"category":"Health"},"paid":"true","shipping":{"country":1}}`, []string{"eu"}},
	}
	for _, c := range cases {
		f.observe(c.subject, "Order Completed", day0, c.props)
	}
	// Values that are not json.Number: float64 and int from code.
	f.e.Observe(Observation{SubjectID: "g", Name: "Order Completed", At: day0, Purposes: []string{"marketing_email"},
		Properties: map[string]any{"total": float64(150), "products": []map[string]any{{"category": "Kitchen"}}}})
	f.e.Observe(Observation{SubjectID: "h", Name: "Order Completed", At: day0, Purposes: []string{"marketing_email"},
		Properties: map[string]any{"total": 7}})
	cases = append(cases,
		filterCase{"g", "", []string{"big", "kitchen", "no-health"}},
		filterCase{"h", "", []string{"no-health", "small"}},
	)
	for _, c := range cases {
		var got []string
		for _, d := range f.e.Definitions() {
			if f.e.IsMember(d.ID, c.subject) {
				got = append(got, d.ID)
			}
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("subject %s %s: audiences (-want +got):\n%s", c.subject, c.props, diff)
		}
	}
}

func TestPurposeFiltering(t *testing.T) {
	f := newFixture(t,
		audienceJSON("mail", "marketing_email", `{"event":{"name":"Order Completed","withinDays":30}}`),
		audienceJSON("ads", "advertising", `{"event":{"name":"Order Completed","withinDays":30}}`),
	)
	checkChanges(t, "analytics only", f.observe("s1", "Order Completed", day0, "", "analytics"), nil)
	checkChanges(t, "email", f.observe("s1", "Order Completed", day0, "", "analytics", "marketing_email"), joined("mail", "s1"))
	if f.e.IsMember("ads", "s1") {
		t.Errorf("an event not stored for advertising made s1 a member of ads")
	}
	f.e.mu.RLock()
	_, kept := f.e.subjects["s0"]
	f.e.mu.RUnlock()
	f.observe("s0", "Order Completed", day0, "", "analytics")
	if kept {
		t.Errorf("an event counting for no audience created state")
	}
}

func TestEligibility(t *testing.T) {
	f := newFixture(t,
		audienceJSON("mail", "marketing_email", `{"event":{"name":"Order Completed","withinDays":30}}`),
		audienceJSON("sms", "marketing_sms", `{"event":{"name":"Order Completed","withinDays":30}}`),
	)
	f.deny[[2]string{"s1", "marketing_email"}] = true
	checkChanges(t, "order", f.observe("s1", "Order Completed", day0, ""), joined("sms", "s1"))
	delete(f.deny, [2]string{"s1", "marketing_email"})
	checkChanges(t, "grant", f.e.Reevaluate("s1"), joined("mail", "s1"))
	f.deny[[2]string{"s1", "marketing_sms"}] = true
	checkChanges(t, "withdraw sms", f.e.Reevaluate("s1"), left("sms", "s1"))
	checkChanges(t, "unknown subject", f.e.Reevaluate("nobody"), nil)

	// Eligible is asked only when the conditions hold.
	f.calls = 0
	f.observe("s2", "Product Viewed", day0, "")
	f.e.Reevaluate("s1")
	if f.calls != 2 {
		t.Errorf("Eligible called %d times, want 2 (once per audience of s1)", f.calls)
	}

	// Without an Eligible function nobody is a member.
	e := NewEngine(Options{})
	e.Define(mustParse(t, audienceJSON("mail", "marketing_email", `{"event":{"name":"Order Completed","withinDays":30}}`)))
	checkChanges(t, "nil Eligible", e.Observe(Observation{SubjectID: "s", Name: "Order Completed", At: time.Now(), Purposes: []string{"marketing_email"}}), nil)
}

func TestForget(t *testing.T) {
	f := newFixture(t,
		audienceJSON("a", "marketing_email", `{"event":{"name":"Order Completed","withinDays":30}}`),
		audienceJSON("b", "marketing_email", `{"trait":{"name":"plan","op":"eq","value":"pro"}}`),
	)
	f.observe("s1", "Order Completed", day0, "")
	f.e.SetTraits("s1", map[string]any{"plan": "pro"})
	f.observe("s2", "Order Completed", day0, "")
	checkChanges(t, "forget", f.e.Forget("s1"), append(left("a", "s1"), left("b", "s1")...))
	checkChanges(t, "forget again", f.e.Forget("s1"), nil)
	if diff := cmp.Diff([]string{"s2"}, f.e.Members("a")); diff != "" {
		t.Errorf("Members(a) (-want +got):\n%s", diff)
	}
	// The expiry scheduled for s1 finds nothing.
	checkChanges(t, "advance", f.e.Advance(at(31, 0)), left("a", "s2"))
	// Nothing of s1 comes back by re-evaluation.
	checkChanges(t, "reevaluate", f.e.Reevaluate("s1"), nil)
}

func TestInterests(t *testing.T) {
	f := newFixture(t,
		audienceJSON("kitchen", "marketing_email", `{"interest":{"category":"Kitchen"}}`),
		audienceJSON("keen", "marketing_email", `{"interest":{"category":"Kitchen","minScore":5}}`),
	)
	checkChanges(t, "knives", f.e.SetInterests("s1", map[string]float64{"Kitchen/Knives": 3, "Kitchenware": 9}), joined("kitchen", "s1"))
	checkChanges(t, "more", f.e.SetInterests("s1", map[string]float64{"Kitchen/Knives": 3, "Kitchen": 2.5}), joined("keen", "s1"))
	checkChanges(t, "garden", f.e.SetInterests("s1", map[string]float64{"Garden": 3, "Kitchen": 0}), append(left("keen", "s1"), left("kitchen", "s1")...))
	checkChanges(t, "none", f.e.SetInterests("s1", nil), nil)
	checkChanges(t, "none for unknown", f.e.SetInterests("s9", nil), nil)
	f.e.mu.RLock()
	n := len(f.e.subjects)
	f.e.mu.RUnlock()
	if n != 0 {
		t.Errorf("%d subjects kept with no state", n)
	}
}

func TestTraits(t *testing.T) {
	f := newFixture(t,
		audienceJSON("fr", "marketing_email", `{"trait":{"name":"country","op":"eq","value":"FR"}}`),
		audienceJSON("pro", "marketing_email", `{"trait":{"name":"company.plan","op":"in","value":["pro","team"]}}`),
		audienceJSON("not-fr", "marketing_email", `{"not":{"trait":{"name":"country","op":"eq","value":"FR"}}}`),
	)
	traits := map[string]any{
		"country": "FR", "email": "ann@example.com", "firstName": "Ann", "Phone_Number": "+33 1",
		"company": map[string]any{"plan": "pro", "name": "Ann SARL", "billing": map[string]any{"email": "b@example.com", "tier": json.Number("2")}},
		"tags":    []any{"vip", map[string]any{"userId": "u1", "kind": "x"}},
		"when":    time.Now(), // not a JSON value: dropped
	}
	checkChanges(t, "traits", f.e.SetTraits("s1", traits), append(joined("fr", "s1"), joined("pro", "s1")...))
	f.e.mu.RLock()
	kept := f.e.subjects["s1"].traits
	f.e.mu.RUnlock()
	want := map[string]any{
		"country": "FR",
		"company": map[string]any{"plan": "pro", "billing": map[string]any{"tier": json.Number("2")}},
		"tags":    []any{"vip", map[string]any{"kind": "x"}},
	}
	if diff := cmp.Diff(want, kept); diff != "" {
		t.Errorf("kept traits (-want +got):\n%s", diff)
	}
	// The caller's map is not retained.
	traits["company"].(map[string]any)["plan"] = "free"
	checkChanges(t, "reevaluate", f.e.Reevaluate("s1"), nil)

	checkChanges(t, "move", f.e.SetTraits("s1", map[string]any{"country": "DE"}), append(left("fr", "s1"), joined("not-fr", "s1")...))
	checkChanges(t, "only identifiers", f.e.SetTraits("s2", map[string]any{"email": "x@example.com"}), nil)
	checkChanges(t, "delete", f.e.SetTraits("s1", map[string]any{"country": nil, "company": nil, "tags": nil}),
		append(left("not-fr", "s1"), left("pro", "s1")...))
	f.e.mu.RLock()
	n := len(f.e.subjects)
	f.e.mu.RUnlock()
	if n != 0 {
		t.Errorf("%d subjects kept with no state", n)
	}
}

func TestNotNeedsState(t *testing.T) {
	f := newFixture(t,
		audienceJSON("orders", "marketing_email", `{"event":{"name":"Order Completed","withinDays":30}}`),
		audienceJSON("lapsed", "marketing_email", `{"not":{"event":{"name":"Order Completed","withinDays":30}}}`),
	)
	if f.e.IsMember("lapsed", "stranger") || f.e.Size("lapsed") != 0 {
		t.Fatalf("a subject the engine does not know is a member")
	}
	checkChanges(t, "traits", f.e.SetTraits("s1", map[string]any{"plan": "pro"}), joined("lapsed", "s1"))
	checkChanges(t, "order", f.observe("s1", "Order Completed", day0, ""), append(left("lapsed", "s1"), joined("orders", "s1")...))
	checkChanges(t, "expiry", f.e.Advance(at(30, 0)), append(joined("lapsed", "s1"), left("orders", "s1")...))
	// A subject known only by its order leaves everything when it expires.
	f.now = at(30, 0)
	checkChanges(t, "order s2", f.observe("s2", "Order Completed", at(30, 0), ""), joined("orders", "s2"))
	checkChanges(t, "expiry s2", f.e.Advance(at(60, 0)), left("orders", "s2"))
	if f.e.IsMember("lapsed", "s2") {
		t.Errorf("s2 joined lapsed with no state left")
	}
}

func TestDefineReplaceAndRemove(t *testing.T) {
	f := newFixture(t, audienceJSON("a", "marketing_email", `{"event":{"name":"Order Completed","withinDays":30}}`))
	f.observe("s1", "Order Completed", day0, "")
	f.observe("s1", "Product Added", day0, "")
	if !f.e.IsMember("a", "s1") {
		t.Fatal("s1 not a member")
	}
	d := mustParse(t, audienceJSON("a", "marketing_email", `{"event":{"name":"Order Completed","minCount":2,"withinDays":30}}`))
	d.Version = 2
	f.e.Define(d)
	if f.e.Size("a") != 0 {
		t.Errorf("replacing kept the members")
	}
	if got := f.e.Definitions(); len(got) != 1 || got[0].Version != 2 {
		t.Errorf("Definitions = %+v", got)
	}
	// The counts were dropped: one more order is one, not two.
	checkChanges(t, "replay", f.observe("s1", "Order Completed", day0, ""), nil)
	checkChanges(t, "second", f.observe("s1", "Order Completed", day0, ""), joined("a", "s1"))
	checkChanges(t, "settle", f.e.Advance(day0), nil)

	// A new trait audience takes in the traits already known at the next
	// Advance.
	f.e.SetTraits("s2", map[string]any{"plan": "pro"})
	f.e.Define(mustParse(t, audienceJSON("pro", "marketing_sms", `{"trait":{"name":"plan","op":"eq","value":"pro"}}`)))
	checkChanges(t, "fresh", f.e.Advance(day0), joined("pro", "s2"))

	f.e.Remove("a")
	f.e.Remove("missing")
	if got := f.e.NeedsEvents(); len(got) != 0 {
		t.Errorf("NeedsEvents after Remove = %v", got)
	}
	checkChanges(t, "observe removed", f.observe("s1", "Order Completed", day0, ""), nil)
	// s1 held only counts of the removed audience: settled (and dropped)
	// by the next Advance.
	checkChanges(t, "settle remove", f.e.Advance(day0), nil)
	f.e.mu.RLock()
	_, kept := f.e.subjects["s1"]
	f.e.mu.RUnlock()
	if kept {
		t.Errorf("s1 kept after its only audience was removed")
	}
}

func TestReplaceSettlesCandidates(t *testing.T) {
	f := newFixture(t,
		audienceJSON("a", "marketing_email", `{"event":{"name":"Order Completed","withinDays":30}}`),
		audienceJSON("b", "marketing_email", `{"not":{"event":{"name":"Product Added","withinDays":30}}}`),
	)
	checkChanges(t, "order", f.observe("s1", "Order Completed", day0, ""), append(joined("a", "s1"), joined("b", "s1")...))
	// Replacing a drops the only state s1 had; b no longer has a reason to
	// hold s1, which the next Advance reports.
	f.e.Define(mustParse(t, audienceJSON("a", "marketing_email", `{"event":{"name":"Order Completed","withinDays":10}}`)))
	checkChanges(t, "settle", f.e.Advance(day0), left("b", "s1"))
}

func TestNeedsEventsAndDefinitions(t *testing.T) {
	f := newFixture(t,
		audienceJSON("z", "marketing_email", `{"any":[{"event":{"name":"Product Added","withinDays":3}},{"event":{"name":"Order Completed","withinDays":3}}]}`),
		audienceJSON("a", "marketing_email", `{"event":{"name":"Order Completed","withinDays":3}}`),
	)
	if diff := cmp.Diff([]string{"Order Completed", "Product Added"}, f.e.NeedsEvents()); diff != "" {
		t.Errorf("NeedsEvents (-want +got):\n%s", diff)
	}
	var ids []string
	for _, d := range f.e.Definitions() {
		ids = append(ids, d.ID)
	}
	if diff := cmp.Diff([]string{"a", "z"}, ids); diff != "" {
		t.Errorf("Definitions (-want +got):\n%s", diff)
	}
	checkChanges(t, "unused", f.observe("s1", "Page Viewed", day0, ""), nil)
	checkChanges(t, "no subject", f.observe("", "Order Completed", day0, ""), nil)
	if f.e.Members("nope") != nil || f.e.Size("nope") != 0 || f.e.IsMember("nope", "s1") {
		t.Errorf("unknown audience has members")
	}
}

// TestConcurrent exercises every method at once; run with -race.
func TestConcurrent(t *testing.T) {
	var mu sync.Mutex
	now := day0
	e := NewEngine(Options{
		Now:      func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Eligible: func(string, string) bool { return true },
	})
	e.Define(mustParse(t, audienceJSON("a", "marketing_email", `{"event":{"name":"Order Completed","withinDays":2}}`)))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				s := fmt.Sprintf("s%d", i%20)
				switch (g + i) % 8 {
				case 0:
					e.Observe(Observation{SubjectID: s, Name: "Order Completed", At: day0, Purposes: []string{"marketing_email"}})
				case 1:
					e.Observe(Observation{SubjectID: s, Name: "Page Viewed", At: day0})
				case 2:
					e.SetTraits(s, map[string]any{"plan": "pro"})
				case 3:
					e.SetInterests(s, map[string]float64{"Kitchen": 1})
				case 4:
					e.Forget(s)
				case 5:
					e.Members("a")
					e.Size("a")
					e.IsMember("a", s)
					e.NeedsEvents()
				case 6:
					if i%50 == 0 {
						e.Define(mustParse(t, audienceJSON("b", "marketing_email", `{"trait":{"name":"plan","op":"exists"}}`)))
					}
					e.Reevaluate(s)
				case 7:
					mu.Lock()
					now = now.Add(time.Hour)
					n := now
					mu.Unlock()
					e.Advance(n)
				}
			}
		})
	}
	wg.Wait()
}
