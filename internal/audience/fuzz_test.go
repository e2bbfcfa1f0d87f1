package audience

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		email(orders),
		email(`{"all":[{"event":{"name":"Order Completed","withinDays":90,"minCount":2,"where":[{"property":"products.category","op":"prefix","value":"Kitchen"},{"property":"total","op":"gte","value":5.0e1}]}},{"not":{"trait":{"name":"country","op":"in","value":["US","CA",1,true]}}},{"interest":{"category":"Kitchen","minScore":1.5}}]}`),
		doc("advertising", `{"any":[{"event":{"name":"Product Viewed","withinDays":7,"where":[{"property":"onSale","op":"exists"},{"property":"tags","op":"contains","value":"<sale>"}]}},{"trait":{"name":"plan","op":"ne","value":"free"}}]}`),
		doc("marketing_sms", `{"trait":{"name":"age_band","op":"lte","value":-0}}`),
		`{"id":"a1","version":7,"name":"A \u2028 \u0041","description":"d","purpose":"marketing_email","where":` + orders + `}`,
		email(nest(MaxDepth, orders)),
		email(nest(MaxDepth+1, orders)),
		email(`{"trait":{"name":"email","op":"exists"}}`),
		email(`{"event":{"name":"Product Viewed","withinDays":7}}`),
		email(`{"event":{"name":"Order Completed","minCount":0,"withinDays":7}}`),
		doc("advertising", `{"interest":{"category":"Health"}}`),
		email(`{"all":[]}`),
		email(`{"all":[{}]}`),
		email(orders) + ` {}`,
		`{"id":"a1","id":"a1"}`,
		`{"id":"a1","name":"A","purpose":"marketing_email","Purpose":"advertising","where":` + orders + `}`,
		strings.Repeat("[", 40),
		`null`,
		``,
	} {
		f.Add([]byte(s))
	}
	env := testEnv()
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data, env)
		if err != nil {
			if !cmp.Equal(d, Definition{}) {
				t.Fatalf("Parse returned a definition with error %v", err)
			}
			return
		}
		if err := d.Validate(env); err != nil {
			t.Fatalf("Parse returned a definition that does not validate: %v", err)
		}
		c := d.Canonical()
		d2, err := Parse(c, env)
		if err != nil {
			t.Fatalf("Canonical does not parse: %v\n%s", err, c)
		}
		want := d
		want.Version = 0 // Canonical leaves it to the store
		if diff := cmp.Diff(want, d2); diff != "" {
			t.Fatalf("Canonical re-parses differently (-want +got):\n%s\n%s", diff, c)
		}
		if c2 := d2.Canonical(); !bytes.Equal(c, c2) {
			t.Fatalf("Canonical is not stable:\n%s\n%s", c, c2)
		}
		// The engine takes whatever parses.
		e := NewEngine(Options{Eligible: func(string, string) bool { return true }})
		e.Define(d)
		for _, name := range e.NeedsEvents() {
			e.Observe(Observation{SubjectID: "s", Name: name, At: e.now(), Purposes: []string{d.Purpose},
				Properties: map[string]any{"total": 1, "products": []any{map[string]any{"category": "Kitchen"}}}})
		}
		e.SetTraits("s", map[string]any{"plan": "pro", "country": "FR"})
		e.SetInterests("s", map[string]float64{"Kitchen": 3})
	})
}
