package audience

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The audiences of the property test: counts, windows, filters, purposes,
// interests, traits and negation together.
var propertyAudiences = []string{
	audienceJSON("a1", "marketing_email", `{"event":{"name":"A","minCount":2,"withinDays":6}}`),
	audienceJSON("a2", "advertising", `{"all":[{"event":{"name":"B","withinDays":7,"where":[{"property":"products.category","op":"eq","value":"Kitchen"}]}},
		{"not":{"event":{"name":"C","withinDays":2}}}]}`),
	audienceJSON("a3", "marketing_sms", `{"any":[{"event":{"name":"A","withinDays":1,"where":[{"property":"total","op":"gte","value":50}]}},
		{"trait":{"name":"plan","op":"eq","value":"pro"}}]}`),
	audienceJSON("a4", "marketing_email", `{"not":{"event":{"name":"C","minCount":3,"withinDays":5}}}`),
	audienceJSON("a5", "marketing_email", `{"all":[{"interest":{"category":"Kitchen","minScore":2}},
		{"any":[{"event":{"name":"B","withinDays":10}},{"trait":{"name":"country","op":"in","value":["FR","DE"]}}]}]}`),
	audienceJSON("a6", "advertising", `{"event":{"name":"A","withinDays":8,"where":[{"property":"category","op":"prefix","value":"Gar"},
		{"property":"total","op":"lt","value":30}]}}`),
	audienceJSON("a7", "marketing_sms", `{"all":[{"event":{"name":"C","withinDays":400}},{"not":{"trait":{"name":"plan","op":"ne","value":"free"}}}]}`),
}

// model is the brute-force reference: it keeps every observation and
// computes membership from scratch.
type model struct {
	defs      []Definition
	obs       map[string][]Observation
	traits    map[string]map[string]any
	interests map[string]map[string]float64
	deny      map[[2]string]bool
}

func (m *model) member(d Definition, subject string, now time.Time) bool {
	if m.deny[[2]string{subject, d.Purpose}] {
		return false
	}
	return m.candidate(subject, now) && m.holds(d.Where, d.Purpose, subject, now)
}

// candidate: some observation inside the window of a leaf it matches, or
// interests, or traits.
func (m *model) candidate(subject string, now time.Time) bool {
	if len(m.interests[subject]) > 0 || len(m.traits[subject]) > 0 {
		return true
	}
	for _, d := range m.defs {
		for _, ev := range eventLeaves(d.Where) {
			if m.count(ev, d.Purpose, subject, now) > 0 {
				return true
			}
		}
	}
	return false
}

func eventLeaves(c Condition) []*EventCondition {
	var out []*EventCondition
	for _, k := range append(slices.Clone(c.All), c.Any...) {
		out = append(out, eventLeaves(k)...)
	}
	if c.Not != nil {
		out = append(out, eventLeaves(*c.Not)...)
	}
	if c.Event != nil {
		out = append(out, c.Event)
	}
	return out
}

func (m *model) holds(c Condition, purpose, subject string, now time.Time) bool {
	switch {
	case c.All != nil:
		for _, k := range c.All {
			if !m.holds(k, purpose, subject, now) {
				return false
			}
		}
		return true
	case c.Any != nil:
		for _, k := range c.Any {
			if m.holds(k, purpose, subject, now) {
				return true
			}
		}
		return false
	case c.Not != nil:
		return !m.holds(*c.Not, purpose, subject, now)
	case c.Event != nil:
		return m.count(c.Event, purpose, subject, now) >= max(c.Event.MinCount, 1)
	case c.Interest != nil:
		sum := 0.0
		for k, v := range m.interests[subject] {
			if k == c.Interest.Category || strings.HasPrefix(k, c.Interest.Category+"/") {
				sum += v
			}
		}
		return sum > 0 && sum >= c.Interest.MinScore
	default:
		return modelTest(m.traits[subject], c.Trait.Name, c.Trait.Op, c.Trait.Value)
	}
}

// count: observations with the name, stored under purpose, passing every
// filter, on a UTC day among the last WithinDays (today included).
func (m *model) count(ev *EventCondition, purpose, subject string, now time.Time) int {
	today := now.UTC().Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, -ev.WithinDays+1)
	n := 0
	for _, o := range m.obs[subject] {
		day := o.At.UTC().Truncate(24 * time.Hour)
		if o.Name != ev.Name || !slices.Contains(o.Purposes, purpose) || day.Before(from) || day.After(today) {
			continue
		}
		ok := true
		for _, f := range ev.Where {
			ok = ok && modelTest(o.Properties, f.Property, f.Op, f.Value)
		}
		if ok {
			n++
		}
	}
	return n
}

// modelTest collects every value at path, then tests them.
func modelTest(root map[string]any, path, op string, raw json.RawMessage) bool {
	vals := []any{root}
	for _, seg := range strings.Split(path, ".") {
		var next []any
		for _, v := range flatten(vals) {
			if m, ok := v.(map[string]any); ok {
				if x, ok := m[seg]; ok {
					next = append(next, x)
				}
			}
		}
		vals = next
	}
	vals = flatten(vals)
	var want []any
	if len(raw) > 0 {
		v, _ := decodeJSON(raw)
		if arr, ok := v.([]any); ok {
			want = arr
		} else {
			want = []any{v}
		}
	}
	eq := func(a, b any) bool {
		an, aok := a.(json.Number)
		bn, bok := b.(json.Number)
		if aok && bok {
			x, _ := strconv.ParseFloat(string(an), 64)
			y, _ := strconv.ParseFloat(string(bn), 64)
			return x == y
		}
		return !aok && !bok && a == b
	}
	someVal := func(pred func(any) bool) bool { return slices.ContainsFunc(vals, pred) }
	num := func(v any) float64 {
		x, _ := strconv.ParseFloat(string(v.(json.Number)), 64)
		return x
	}
	switch op {
	case "exists":
		return someVal(func(v any) bool { return v != nil })
	case "eq", "in":
		return someVal(func(v any) bool { return slices.ContainsFunc(want, func(w any) bool { return eq(v, w) }) })
	case "ne":
		return !someVal(func(v any) bool { return eq(v, want[0]) })
	case "prefix":
		return someVal(func(v any) bool { s, ok := v.(string); return ok && strings.HasPrefix(s, want[0].(string)) })
	case "gte", "lt":
		return someVal(func(v any) bool {
			if _, ok := v.(json.Number); !ok {
				return false
			}
			if op == "gte" {
				return num(v) >= num(want[0])
			}
			return num(v) < num(want[0])
		})
	}
	panic("model: op " + op)
}

func flatten(vals []any) []any {
	var out []any
	for _, v := range vals {
		if arr, ok := v.([]any); ok {
			out = append(out, flatten(arr)...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

// TestAgainstModel drives the engine with random operations and checks,
// throughout, that its members equal the brute-force model's and that the
// reported changes add up to them.
func TestAgainstModel(t *testing.T) {
	var defs []Definition
	for _, s := range propertyAudiences {
		defs = append(defs, mustParse(t, s))
	}
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			runModel(t, defs, uint64(seed))
		})
	}
}

func runModel(t *testing.T, defs []Definition, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 42))
	m := &model{defs: defs, obs: map[string][]Observation{}, traits: map[string]map[string]any{}, interests: map[string]map[string]float64{}, deny: map[[2]string]bool{}}
	now := day0
	e := NewEngine(Options{
		Now:      func() time.Time { return now },
		Eligible: func(s, p string) bool { return !m.deny[[2]string{s, p}] },
	})
	for _, d := range defs {
		e.Define(d)
	}
	e.Advance(now)
	shadow := map[string]map[string]bool{} // from the changes
	joins := map[string]int{}
	apply := func(step int, cs []Change) {
		for _, c := range cs {
			if c.Joined {
				joins[c.Audience]++
			}
			if shadow[c.Audience] == nil {
				shadow[c.Audience] = map[string]bool{}
			}
			if shadow[c.Audience][c.SubjectID] == c.Joined {
				t.Fatalf("step %d: change %+v repeats the current state", step, c)
			}
			shadow[c.Audience][c.SubjectID] = c.Joined
		}
	}
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	subjects := make([]string, 15)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("s%02d", i)
	}
	purposes := []string{"marketing_email", "marketing_sms", "advertising", "analytics"}

	for step := range 2500 {
		s := subjects[rng.IntN(len(subjects))]
		var cs []Change
		switch r := rng.IntN(100); {
		case r < 60:
			var ps []string
			for _, p := range purposes {
				if rng.IntN(3) > 0 {
					ps = append(ps, p)
				}
			}
			props := fmt.Sprintf(`{"category":%q,"total":%d,"products":[{"category":%q},{"category":%q}]}`,
				pick("Garden", "Garage", "Kitchen", "Health"), rng.IntN(100),
				pick("Kitchen", "Garden", "Toys"), pick("Toys", "Health", "Kitchen"))
			o := Observation{SubjectID: s, Name: pick("A", "B", "C", "Page Viewed"), Purposes: ps,
				At: now.Add(-time.Duration(rng.IntN(9*24)) * time.Hour), Properties: decodeProps(t, props)}
			m.obs[s] = append(m.obs[s], o)
			cs = e.Observe(o)
		case r < 68:
			tr := map[string]any{}
			if rng.IntN(2) == 0 {
				tr["plan"] = []any{"pro", "free", nil}[rng.IntN(3)]
			}
			if rng.IntN(2) == 0 {
				tr["country"] = []any{"FR", "DE", "US", nil}[rng.IntN(4)]
			}
			tr["email"] = s + "@example.com"
			for k, v := range tr {
				if k == "email" {
					continue
				}
				if m.traits[s] == nil {
					m.traits[s] = map[string]any{}
				}
				if v == nil {
					delete(m.traits[s], k)
				} else {
					m.traits[s][k] = v
				}
			}
			if len(m.traits[s]) == 0 {
				delete(m.traits, s)
			}
			cs = e.SetTraits(s, tr)
		case r < 76:
			var in map[string]float64
			if rng.IntN(4) > 0 {
				in = map[string]float64{}
				for _, c := range []string{"Kitchen", "Kitchen/Knives", "Garden"} {
					if rng.IntN(2) == 0 {
						in[c] = float64(rng.IntN(4))
					}
				}
			}
			m.interests[s] = map[string]float64{}
			for k, v := range in {
				if v > 0 {
					m.interests[s][k] = v
				}
			}
			if len(m.interests[s]) == 0 {
				delete(m.interests, s)
			}
			cs = e.SetInterests(s, in)
		case r < 86:
			now = now.Add(time.Duration(rng.IntN(40)) * time.Hour)
			cs = e.Advance(now)
		case r < 95:
			k := [2]string{s, pick(purposes[:3]...)}
			m.deny[k] = !m.deny[k]
			cs = e.Reevaluate(s)
		default:
			delete(m.obs, s)
			delete(m.traits, s)
			delete(m.interests, s)
			cs = e.Forget(s)
		}
		apply(step, cs)
		if step%5 != 0 && step != 2499 {
			continue
		}
		for _, d := range defs {
			var want, fromChanges []string
			for _, s := range subjects {
				if m.member(d, s, now) {
					want = append(want, s)
				}
				if shadow[d.ID][s] {
					fromChanges = append(fromChanges, s)
				}
			}
			got := e.Members(d.ID)
			if len(got) == 0 {
				got = nil
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("step %d, %s: Members (-model +engine):\n%s", step, d.ID, diff)
			}
			if diff := cmp.Diff(want, fromChanges); diff != "" {
				t.Fatalf("step %d, %s: members from changes (-model +changes):\n%s", step, d.ID, diff)
			}
		}
	}
	// Every audience saw members come and go.
	for _, d := range defs {
		if joins[d.ID] < 3 {
			t.Errorf("%s: only %d joins; the test does not exercise it", d.ID, joins[d.ID])
		}
	}
	t.Logf("joins: %v", joins)
	// Memory stays bounded: no subject keeps a bucket outside its window.
	e.Advance(now)
	today := dayOf(now)
	e.mu.RLock()
	defer e.mu.RUnlock()
	for id, s := range e.subjects {
		for a, leaves := range s.counts {
			for i, bs := range leaves {
				if len(bs) > int(a.events[i].days) {
					t.Errorf("%s keeps %d buckets for a %d-day window", id, len(bs), a.events[i].days)
				}
				for _, b := range bs {
					if b.day <= today-a.events[i].days {
						t.Errorf("%s keeps expired bucket day %d (today %d)", id, b.day, today)
					}
				}
			}
		}
	}
}
