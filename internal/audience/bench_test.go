package audience

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkObserve feeds a shop's event stream to 20 audiences. Most
// events (page views, searches, list views) are used by no audience.
func BenchmarkObserve(b *testing.B) {
	now := day0
	e := NewEngine(Options{Now: func() time.Time { return now }, Eligible: func(string, string) bool { return true }})
	cats := []string{"Kitchen", "Garden", "Toys", "Books", "Outdoor"}
	for i := range 20 {
		var where string
		switch i % 4 {
		case 0:
			where = fmt.Sprintf(`{"event":{"name":"Order Completed","withinDays":%d,"minCount":%d}}`, 30+i, 1+i%3)
		case 1:
			where = `{"all":[{"event":{"name":"Product Added","withinDays":7}},{"not":{"event":{"name":"Order Completed","withinDays":7}}}]}`
		case 2:
			where = fmt.Sprintf(`{"event":{"name":"Order Completed","withinDays":90,"where":[{"property":"products.category","op":"eq","value":%q},{"property":"total","op":"gte","value":%d}]}}`, cats[i%len(cats)], 20*i)
		default:
			where = `{"any":[{"event":{"name":"Checkout Started","withinDays":3}},{"trait":{"name":"plan","op":"eq","value":"pro"}}]}`
		}
		e.Define(mustParse(b, audienceJSON(fmt.Sprintf("aud-%02d", i), "marketing_email", where)))
	}
	e.Advance(now)

	// Weights of a typical stream: mostly views.
	kinds := []struct {
		name   string
		weight int
	}{
		{"Page Viewed", 50}, {"Product Viewed", 20}, {"Product List Viewed", 8}, {"Products Searched", 6},
		{"Product Added", 8}, {"Cart Viewed", 3}, {"Checkout Started", 2}, {"Order Completed", 2}, {"Product Clicked", 1},
	}
	var names []string
	for _, k := range kinds {
		for range k.weight {
			names = append(names, k.name)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	obs := make([]Observation, 4096)
	for i := range obs {
		obs[i] = Observation{
			SubjectID: fmt.Sprintf("subject-%05d", rng.IntN(20000)),
			Name:      names[rng.IntN(len(names))],
			At:        now.Add(-time.Duration(rng.IntN(3600)) * time.Second),
			Purposes:  []string{"analytics", "personalization", "marketing_email"},
			Properties: map[string]any{
				"total":    rng.IntN(300),
				"products": []any{map[string]any{"category": cats[rng.IntN(len(cats))]}, map[string]any{"category": cats[rng.IntN(len(cats))]}},
			},
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e.Observe(obs[i%len(obs)])
		i++
	}
}

// BenchmarkObserveUnused is the fast path: no audience uses the event.
func BenchmarkObserveUnused(b *testing.B) {
	e := NewEngine(Options{Eligible: func(string, string) bool { return true }})
	e.Define(mustParse(b, audienceJSON("a", "marketing_email", `{"event":{"name":"Order Completed","withinDays":30}}`)))
	o := Observation{SubjectID: "s", Name: "Page Viewed", At: time.Now(), Purposes: []string{"marketing_email"}}
	b.ReportAllocs()
	for b.Loop() {
		e.Observe(o)
	}
}
