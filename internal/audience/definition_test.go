package audience

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testEnv is a small data map: "Product Viewed" is not stored for
// marketing, "Pharmacy Order" is sensitive, Health is a sensitive category
// and marketing_sms does not declare interests.
func testEnv() Env {
	served := map[string][]string{
		"Order Completed": {"marketing_email", "marketing_sms", "advertising"},
		"Product Added":   {"marketing_email", "marketing_sms", "advertising"},
		"Product Viewed":  {"advertising"},
		"Pharmacy Order":  {"marketing_email", "advertising"},
	}
	return Env{
		EventServes: func(event, purpose string) bool {
			return slices.Contains(served[event], purpose)
		},
		SensitiveEvent: func(event string) bool { return event == "Pharmacy Order" },
		SensitiveCategory: func(category string) bool {
			top, _, _ := strings.Cut(category, "/")
			return strings.EqualFold(strings.TrimSpace(top), "health")
		},
		PurposeCategories: func(purpose string) []string {
			switch purpose {
			case "marketing_email":
				return []string{"contact.email", "behavior.purchase", InterestsCategory}
			case "advertising":
				return []string{"behavior.browsing", "behavior.purchase", InterestsCategory}
			}
			return []string{"contact.phone", "behavior.purchase"}
		},
	}
}

// doc wraps a condition in a definition for purpose.
func doc(purpose, where string) string {
	return fmt.Sprintf(`{"id":"a1","name":"A","purpose":%q,"where":%s}`, purpose, where)
}

func email(where string) string { return doc("marketing_email", where) }

const orders = `{"event":{"name":"Order Completed","withinDays":30}}`

func nest(n int, leaf string) string {
	s := leaf
	for range n {
		s = `{"all":[` + s + `]}`
	}
	return s
}

func TestParseRejects(t *testing.T) {
	many := make([]string, MaxConditions+1)
	for i := range many {
		many[i] = orders
	}
	inValues := make([]string, MaxValues+1)
	for i := range inValues {
		inValues[i] = fmt.Sprint(i)
	}
	tests := []struct {
		name, in, want string
	}{
		{"bad id", `{"id":"Big Spenders","name":"A","purpose":"marketing_email","where":` + orders + `}`,
			`id: "Big Spenders" is not a valid audience id (1 to 63 lower-case letters, digits, "_" or "-", starting with a letter or digit)`},
		{"empty id", `{"id":"","name":"A","purpose":"marketing_email","where":` + orders + `}`,
			`id: "" is not a valid audience id (1 to 63 lower-case letters, digits, "_" or "-", starting with a letter or digit)`},
		{"missing name", `{"id":"a1","purpose":"marketing_email","where":` + orders + `}`, `name: required`},
		{"blank name", `{"id":"a1","name":"  ","purpose":"marketing_email","where":` + orders + `}`, `name: required`},
		{"long name", `{"id":"a1","name":"` + strings.Repeat("é", 201) + `","purpose":"marketing_email","where":` + orders + `}`, `name: longer than 200 characters`},
		{"negative version", `{"id":"a1","version":-1,"name":"A","purpose":"marketing_email","where":` + orders + `}`, `version: must not be negative`},
		{"missing purpose", `{"id":"a1","name":"A","where":` + orders + `}`,
			`purpose: required (one of advertising, marketing_email, marketing_sms)`},
		{"unknown purpose", doc("analytics", orders),
			`purpose: "analytics" is not an audience purpose (one of advertising, marketing_email, marketing_sms)`},
		{"missing where", `{"id":"a1","name":"A","purpose":"marketing_email"}`,
			`where: a condition needs exactly one of all, any, not, event, interest or trait`},
		{"empty node", email(`{"all":[{}]}`),
			`where.all[0]: a condition needs exactly one of all, any, not, event, interest or trait`},
		{"two members", email(`{"any":[` + orders + `],"event":{"name":"Order Completed","withinDays":3}}`),
			`where: a condition has any and event; set exactly one`},
		{"empty all", email(`{"all":[]}`), `where.all: must list at least one condition`},
		{"empty any", email(`{"not":{"any":[]}}`), `where.not.any: must list at least one condition`},
		{"too deep", email(nest(MaxDepth+1, orders)),
			`where.all[0].all[0].all[0].all[0].all[0].all[0].all[0].all[0].all: conditions are nested more than 8 levels deep`},
		{"too deep with not", email(nest(MaxDepth, `{"not":`+orders+`}`)),
			`where.all[0].all[0].all[0].all[0].all[0].all[0].all[0].all[0].not: conditions are nested more than 8 levels deep`},
		{"deep raw JSON", email(strings.Repeat(`{"not":`, 5000) + orders + strings.Repeat(`}`, 5000)),
			`definition is nested more than 24 levels deep`},
		{"deep array", strings.Repeat("[", 100000), `definition is larger than 64 KiB`},
		{"too many leaves", email(`{"any":[` + strings.Join(many, ",") + `]}`),
			`where.any[64]: more than 64 conditions in one audience`},
		{"unknown op", email(`{"trait":{"name":"country","op":"like","value":"FR"}}`),
			`where.trait.op: unknown op "like" (one of eq, ne, gt, gte, lt, lte, in, prefix, contains, exists)`},
		{"missing op", email(`{"trait":{"name":"country","value":"FR"}}`),
			`where.trait.op: required (one of eq, ne, gt, gte, lt, lte, in, prefix, contains, exists)`},
		{"gt needs number", email(`{"trait":{"name":"age_band","op":"gt","value":"30"}}`), `where.trait.value: gt needs a number`},
		{"in needs array", email(`{"trait":{"name":"country","op":"in","value":"FR"}}`),
			`where.trait.value: in needs an array of strings, numbers or booleans`},
		{"in empty", email(`{"trait":{"name":"country","op":"in","value":[]}}`), `where.trait.value: in needs at least one value`},
		{"in too long", email(`{"trait":{"name":"plan","op":"in","value":[` + strings.Join(inValues, ",") + `]}}`),
			`where.trait.value: in takes at most 100 values`},
		{"in nested", email(`{"trait":{"name":"plan","op":"in","value":["a",["b"]]}}`),
			`where.trait.value: entry 1: in needs strings, numbers or booleans`},
		{"exists takes no value", email(`{"trait":{"name":"plan","op":"exists","value":true}}`),
			`where.trait.value: exists takes no value`},
		{"exists null value", email(`{"trait":{"name":"plan","op":"exists","value":null}}`),
			`where.trait.value: exists takes no value`},
		{"eq needs value", email(`{"trait":{"name":"plan","op":"eq"}}`), `where.trait.value: eq needs a value`},
		{"eq object", email(`{"trait":{"name":"plan","op":"eq","value":{"a":1}}}`),
			`where.trait.value: eq needs a string, number or boolean`},
		{"eq null", email(`{"trait":{"name":"plan","op":"eq","value":null}}`),
			`where.trait.value: eq needs a string, number or boolean`},
		{"prefix needs string", email(`{"trait":{"name":"locale","op":"prefix","value":1}}`),
			`where.trait.value: prefix needs a non-empty string`},
		{"number out of range", email(`{"trait":{"name":"age","op":"gt","value":1e400}}`),
			`where.trait.value: number 1e400 is out of range`},
		{"empty property", email(`{"event":{"name":"Order Completed","withinDays":30,"where":[{"property":"","op":"exists"}]}}`),
			`where.event.where[0].property: required`},
		{"long property", email(`{"event":{"name":"Order Completed","withinDays":30,"where":[{"property":"` + strings.Repeat("a", 129) + `","op":"exists"}]}}`),
			`where.event.where[0].property: longer than 128 bytes`},
		{"empty segment", email(`{"event":{"name":"Order Completed","withinDays":30,"where":[{"property":"products..sku","op":"exists"}]}}`),
			`where.event.where[0].property: "products..sku" has an empty segment`},
		{"trait email", email(`{"all":[` + orders + `,{"trait":{"name":"email","op":"exists"}}]}`),
			`where.all[1].trait.name: "email" is a direct identifier and cannot be used in an audience`},
		{"trait First_Name", email(`{"trait":{"name":"First_Name","op":"eq","value":"Ann"}}`),
			`where.trait.name: "First_Name" is a direct identifier and cannot be used in an audience`},
		{"trait contains phone", email(`{"trait":{"name":"mobilePhoneNumber","op":"exists"}}`),
			`where.trait.name: "mobilePhoneNumber" is a direct identifier and cannot be used in an audience`},
		{"property user id", email(`{"event":{"name":"Order Completed","withinDays":30,"where":[{"property":"customer.user-id","op":"eq","value":"u1"}]}}`),
			`where.event.where[0].property: "customer.user-id" is a direct identifier and cannot be used in an audience`},
		{"property address", email(`{"event":{"name":"Order Completed","withinDays":30,"where":[{"property":"shipping.ADDRESS","op":"exists"}]}}`),
			`where.event.where[0].property: "shipping.ADDRESS" is a direct identifier and cannot be used in an audience`},
		{"property billing email", email(`{"event":{"name":"Order Completed","withinDays":30,"where":[{"property":"billing_email.domain","op":"eq","value":"x.com"}]}}`),
			`where.event.where[0].property: "billing_email.domain" is a direct identifier and cannot be used in an audience`},
		{"event not served", email(`{"event":{"name":"Product Viewed","withinDays":7}}`),
			`where.event.name: "Product Viewed" is not stored for marketing_email (the data map does not declare it)`},
		{"event unknown", doc("marketing_sms", `{"any":[`+orders+`,{"event":{"name":"Pharmacy Order","withinDays":7}}]}`),
			`where.any[1].event.name: "Pharmacy Order" is not stored for marketing_sms (the data map does not declare it)`},
		{"event name missing", email(`{"event":{"withinDays":7}}`), `where.event.name: required`},
		{"within missing", email(`{"event":{"name":"Order Completed"}}`), `where.event.withinDays: required (1 to 400 days)`},
		{"within too long", email(`{"event":{"name":"Order Completed","withinDays":401}}`), `where.event.withinDays: must be from 1 to 400 days`},
		{"within negative", email(`{"event":{"name":"Order Completed","withinDays":-1}}`), `where.event.withinDays: must be from 1 to 400 days`},
		{"min count zero", email(`{"not":{"event":{"name":"Order Completed","minCount":0,"withinDays":30}}}`),
			`where.not.event.minCount: must be at least 1 (use "not" for an absence)`},
		{"min count negative", email(`{"event":{"name":"Order Completed","minCount":-2,"withinDays":30}}`),
			`where.event.minCount: must be at least 1 (use "not" for an absence)`},
		{"min count too big", email(`{"event":{"name":"Order Completed","minCount":10001,"withinDays":30}}`),
			`where.event.minCount: must be at most 10000`},
		{"interest without declaration", doc("marketing_sms", `{"interest":{"category":"Kitchen"}}`),
			`where.interest: interests cannot be used for marketing_sms (the purpose does not declare profile.interests)`},
		{"interest empty category", email(`{"interest":{"category":""}}`), `where.interest.category: required`},
		{"interest bad category", email(`{"interest":{"category":"Kitchen/"}}`), `where.interest.category: "Kitchen/" has an empty segment`},
		{"interest negative score", email(`{"interest":{"category":"Kitchen","minScore":-1}}`),
			`where.interest.minScore: must be a number of at least 0`},
		{"ads sensitive event", doc("advertising", `{"event":{"name":"Pharmacy Order","withinDays":30}}`),
			`where.event.name: "Pharmacy Order" carries sensitive data: sensitive categories cannot be used in an audience for advertising`},
		{"ads sensitive interest", doc("advertising", `{"all":[{"interest":{"category":"Health/Vitamins"}}]}`),
			`where.all[0].interest.category: "Health/Vitamins" is sensitive: sensitive categories cannot be used in an audience for advertising`},
		{"ads sensitive property", doc("advertising", `{"event":{"name":"Product Viewed","withinDays":30,"where":[{"property":"products.category","op":"in","value":["Kitchen","health"]}]}}`),
			`where.event.where[0].value: "health" is sensitive: sensitive categories cannot be used in an audience for advertising`},
		{"ads sensitive ne", doc("advertising", `{"event":{"name":"Product Viewed","withinDays":30,"where":[{"property":"primaryCategory","op":"ne","value":"Health"}]}}`),
			`where.event.where[0].value: "Health" is sensitive: sensitive categories cannot be used in an audience for advertising`},
		{"too many filters", email(`{"event":{"name":"Order Completed","withinDays":30,"where":[` +
			strings.TrimSuffix(strings.Repeat(`{"property":"total","op":"gt","value":1},`, MaxFilters+1), ",") + `]}}`),
			`where.event.where: more than 32 property filters`},
		{"unknown field", `{"id":"a1","name":"A","purpose":"marketing_email","where":` + orders + `,"expr":"1=1"}`, `expr: unknown field (known: id, version, name, description, purpose, where)`},
		{"field case", `{"id":"a1","name":"A","purpose":"marketing_email","Purpose":"advertising","where":` + orders + `}`,
			`Purpose: unknown field (known: id, version, name, description, purpose, where)`},
		{"unknown nested field", email(`{"event":{"name":"Order Completed","withinDays":30,"sql":"x"}}`), `where.event.sql: unknown field (known: name, where, minCount, withinDays)`},
		{"unknown filter field", email(`{"any":[` + orders + `,{"event":{"name":"Order Completed","withinDays":30,"where":[{"property":"a","op":"exists","regex":"x"}]}}]}`),
			`where.any[1].event.where[0].regex: unknown field (known: property, op, value)`},
		{"duplicate key", `{"id":"a1","id":"a2","name":"A","purpose":"marketing_email","where":` + orders + `}`, `duplicate key "id"`},
		{"trailing data", email(orders) + `{}`, `body has data after the JSON value`},
		{"wrong type", email(`{"event":{"name":"Order Completed","withinDays":"30"}}`), `field "where.event.withinDays" must be int`},
		{"too large", email(orders) + strings.Repeat(" ", MaxSize), `definition is larger than 64 KiB`},
	}
	env := testEnv()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(tt.in), env)
			if err == nil {
				t.Fatalf("Parse = %+v, want error %q", d, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Parse error\n got: %s\nwant: %s", got, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not an *Error", err)
			}
			if !cmp.Equal(d, Definition{}) {
				t.Errorf("Parse returned a definition with its error: %+v", d)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	env := testEnv()
	tests := []struct {
		name, in string
		want     Definition
	}{
		{
			name: "recent buyers in the kitchen",
			in: `{"id":"kitchen-buyers","name":"Kitchen buyers","description":"Bought kitchenware lately",
				"purpose":"marketing_email","where":{"all":[
				{"event":{"name":"Order Completed","withinDays":90,"minCount":2,
					"where":[{"property":"products.category","op":"prefix","value":"Kitchen"},
					         {"property":"total","op":"gte","value":50.0}]}},
				{"not":{"trait":{"name":"country","op":"in","value":["US", "CA"]}}},
				{"interest":{"category":"Kitchen","minScore":1.5}}]}}`,
			want: Definition{
				ID: "kitchen-buyers", Name: "Kitchen buyers", Description: "Bought kitchenware lately", Purpose: "marketing_email",
				Where: Condition{All: []Condition{
					{Event: &EventCondition{Name: "Order Completed", WithinDays: 90, MinCount: 2, Where: []PropertyFilter{
						{Property: "products.category", Op: "prefix", Value: json.RawMessage(`"Kitchen"`)},
						{Property: "total", Op: "gte", Value: json.RawMessage(`50`)},
					}}},
					{Not: &Condition{Trait: &TraitCondition{Name: "country", Op: "in", Value: json.RawMessage(`["US","CA"]`)}}},
					{Interest: &InterestCondition{Category: "Kitchen", MinScore: 1.5}},
				}},
			},
		},
		{
			name: "defaults filled in",
			in:   `{"id":"b","version":3,"name":"B","purpose":"advertising","where":{"event":{"name":"Product Viewed","withinDays":7,"where":[{"property":"products.category","op":"eq","value":"Garden"},{"property":"onSale","op":"exists"}]}}}`,
			want: Definition{ID: "b", Version: 3, Name: "B", Purpose: "advertising", Where: Condition{Event: &EventCondition{
				Name: "Product Viewed", WithinDays: 7, MinCount: 1,
				Where: []PropertyFilter{{Property: "products.category", Op: "eq", Value: json.RawMessage(`"Garden"`)}, {Property: "onSale", Op: "exists"}},
			}}},
		},
		{
			name: "deepest nesting allowed",
			in:   email(nest(MaxDepth, orders)),
			want: func() Definition {
				c := Condition{Event: &EventCondition{Name: "Order Completed", WithinDays: 30, MinCount: 1}}
				for range MaxDepth {
					c = Condition{All: []Condition{c}}
				}
				return Definition{ID: "a1", Name: "A", Purpose: "marketing_email", Where: c}
			}(),
		},
		{
			name: "sms with traits, health allowed outside advertising",
			in:   doc("marketing_sms", `{"any":[{"trait":{"name":"age_band","op":"gte","value":18}},{"trait":{"name":"favouriteCategory","op":"eq","value":"Health"}}]}`),
			want: Definition{ID: "a1", Name: "A", Purpose: "marketing_sms", Where: Condition{Any: []Condition{
				{Trait: &TraitCondition{Name: "age_band", Op: "gte", Value: json.RawMessage(`18`)}},
				{Trait: &TraitCondition{Name: "favouriteCategory", Op: "eq", Value: json.RawMessage(`"Health"`)}},
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in), env)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
			if err := got.Validate(env); err != nil {
				t.Errorf("Validate after Parse: %v", err)
			}
		})
	}
}

func TestCanonical(t *testing.T) {
	env := testEnv()
	a, err := Parse([]byte(`{"version":4,"where":{"event":{"withinDays":30,"name":"Order Completed","minCount":1,
		"where":[{"value":5.0e1,"op":"gt","property":"total"}]}},"purpose":"marketing_email","name":"A","id":"x"}`), env)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse([]byte(`{"id":"x","name":"A","purpose":"marketing_email","where":{"event":{"name":"Order Completed","withinDays":30,"where":[{"property":"total","op":"gt","value":50}]}}}`), env)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Canonical()) != string(b.Canonical()) {
		t.Errorf("equal definitions encode differently:\n%s\n%s", a.Canonical(), b.Canonical())
	}
	want := `{"id":"x","name":"A","purpose":"marketing_email","where":{"event":{"name":"Order Completed","where":[{"property":"total","op":"gt","value":50}],"minCount":1,"withinDays":30}}}`
	if got := string(a.Canonical()); got != want {
		t.Errorf("Canonical\n got: %s\nwant: %s", got, want)
	}
	b.Where.Event.WithinDays = 31
	if string(a.Canonical()) == string(b.Canonical()) {
		t.Errorf("different definitions encode equally")
	}
	// A definition built in code, with MinCount left at its default.
	c := Definition{ID: "x", Name: "A", Purpose: "marketing_email", Where: Condition{Event: &EventCondition{
		Name: "Order Completed", WithinDays: 30, Where: []PropertyFilter{{Property: "total", Op: "gt", Value: json.RawMessage(` 50 `)}},
	}}}
	if err := c.Validate(env); err != nil {
		t.Fatal(err)
	}
	if got := string(c.Canonical()); got != want {
		t.Errorf("Canonical of a built definition\n got: %s\nwant: %s", got, want)
	}
}

func TestValidateBuilt(t *testing.T) {
	env := testEnv()
	// Nesting built in code, far past any JSON limit: rejected at the
	// ninth level without walking further.
	c := Condition{Event: &EventCondition{Name: "Order Completed", WithinDays: 1}}
	for range 100000 {
		c = Condition{Not: &c}
	}
	d := Definition{ID: "deep", Name: "Deep", Purpose: "marketing_email", Where: c}
	err := d.Validate(env)
	want := "where" + strings.Repeat(".not", MaxDepth+1) + ": conditions are nested more than 8 levels deep"
	if err == nil || err.Error() != want {
		t.Errorf("Validate = %v, want %s", err, want)
	}
	// The engine compiles it to "never matches" without recursing deeply.
	e := NewEngine(Options{})
	e.Define(d)
	if got := e.Definitions(); len(got) != 1 {
		t.Errorf("Definitions = %d, want 1", len(got))
	}

	if err := (Definition{ID: "a", Name: "A", Purpose: "marketing_email", Where: Condition{Event: &EventCondition{Name: "Order Completed", WithinDays: 1}}}).Validate(Env{}); err == nil ||
		!strings.Contains(err.Error(), "incomplete Env") {
		t.Errorf("Validate with an empty Env = %v, want an incomplete Env error", err)
	}
	bad := Definition{ID: "a", Name: "A", Purpose: "marketing_email", Where: Condition{Trait: &TraitCondition{Name: "plan", Op: "eq", Value: json.RawMessage(`{`)}}}
	if err := bad.Validate(env); err == nil || err.Error() != "where.trait.value: is not valid JSON" {
		t.Errorf("Validate = %v, want invalid JSON value", err)
	}
}

func TestIsIdentifier(t *testing.T) {
	for _, p := range []string{"email", "Email", "contact.e-mail", "user.e_mail_address", "phone", "mobile_phone", "userId", "user_id",
		"anonymousId", "IP", "ip_address", "date_of_birth", "customer.Last-Name", "idfa", "GAID", "advertising_id", "zip", "postal_code", "username"} {
		if !IsIdentifier(p) {
			t.Errorf("IsIdentifier(%q) = false", p)
		}
	}
	for _, p := range []string{"country", "locale", "plan", "age_band", "products.category", "total", "ship.zipped", "tip"} {
		if IsIdentifier(p) {
			t.Errorf("IsIdentifier(%q) = true", p)
		}
	}
}
