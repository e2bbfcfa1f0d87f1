package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// obj decodes a JSON object literal the way the decoder builds maps
// (numbers as json.Number), to write expectations readably.
func obj(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad expectation %s: %v", s, err)
	}
	return m
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// ignoreRaw leaves Raw to checkRaw and Members to FuzzAppendKept.
var ignoreRaw = cmpopts.IgnoreFields(Event{}, "Raw", "Members")

// checkRaw checks that each event's Raw is valid JSON cut from body, and
// that it is the index-th entry of the body's batch.
func checkRaw(t *testing.T, body []byte, b Batch) {
	t.Helper()
	var top struct {
		Batch []json.RawMessage `json:"batch"`
	}
	single := json.Unmarshal(body, &top) != nil || top.Batch == nil
	for i, e := range b.Events {
		if !json.Valid(e.Raw) || !bytes.Contains(body, e.Raw) {
			t.Errorf("event %d: Raw is not JSON from the body: %.60s", i, e.Raw)
			continue
		}
		if single {
			if !bytes.Equal(e.Raw, bytes.TrimSpace(body)) {
				t.Errorf("single event Raw differs from the body")
			}
			continue
		}
		if want := top.Batch[b.Indexes[i]]; !bytes.Equal(e.Raw, want) {
			t.Errorf("event %d: Raw = %.60s…, want entry %d %.60s…", i, e.Raw, b.Indexes[i], want)
		}
	}
}

func TestDecodeSDKPayloads(t *testing.T) {
	browserUA := "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
	nextLib := Library{Name: "analytics.js", Version: "next-1.70.0"}
	cartPage := PageContext{URL: "https://shop.example/cart", Path: "/cart", Referrer: "https://shop.example/product/monopoly-3rd-edition", Title: "Cart – Shop"}
	nodeLib := Library{Name: "@segment/analytics-node", Version: "2.1.2"}
	rudderCtx := Context{
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		Locale:    "en-GB", Timezone: "GMT+0100",
		Page:    PageContext{URL: "https://shop.example/product/uno", Path: "/product/uno", Referrer: "$direct", Title: "Uno – Shop"},
		Library: Library{Name: "RudderLabs JavaScript SDK", Version: "3.0.3"},
		Consent: &ConsentSignals{Source: SourceRudderStack,
			Allowed: []string{"C0001", "C0002", "C0003"}, Denied: []string{"C0004", "C0005"},
			Provider: "oneTrust", ResolutionStrategy: "and"},
		Traits: map[string]any{}, // the SDK sends "traits": {}
	}

	tests := []struct {
		file     string
		single   Type // "" for a batch body
		want     []Event
		indexes  []int
		writeKey string
		sentAt   time.Time
	}{
		{
			file: "analytics-next-t.json", single: Track, // POST /v1/t, text/plain
			want: []Event{{
				Type: Track, Event: "Product Viewed",
				MessageID:   "ajs-next-1715678467412-2b9e6c0f-7c1d-4a59-bb2e-1f0a4c7d9e55",
				AnonymousID: "6f3c9b2e-5a1d-4e8f-9c7b-2d4e6f8a1b3c",
				Properties:  obj(t, `{"product_id":"507f1f77bcf86cd799439011","sku":"G-32","category":"Games","name":"Monopoly: 3rd Edition","brand":"Hasbro","variant":"200 pieces","price":18.99,"quantity":1,"currency":"EUR","position":3,"value":18.99,"url":"https://shop.example/product/monopoly-3rd-edition","image_url":"https://shop.example/img/monopoly.jpg"}`),
				Timestamp:   ts("2024-05-14T09:21:07.412Z"),
				SentAt:      ts("2024-05-14T09:21:07.415Z"),
				Context: Context{
					UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
					Locale:    "fr-FR",
					Page: PageContext{
						URL:      "https://shop.example/product/monopoly-3rd-edition?utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale",
						Path:     "/product/monopoly-3rd-edition",
						Referrer: "https://www.google.com/",
						Search:   "?utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale",
						Title:    "Monopoly: 3rd Edition – Shop",
					},
					Campaign: map[string]string{"source": "newsletter", "medium": "email", "name": "spring sale"},
					Library:  nextLib,
				},
				Integrations: map[string]any{},
				WriteKey:     "wk_browser_9f8e7d6c",
			}},
			indexes: []int{0}, writeKey: "wk_browser_9f8e7d6c", sentAt: ts("2024-05-14T09:21:07.415Z"),
		},
		{
			file: "analytics-next-b.json", // POST /v1/b: sentAt only at batch level
			want: []Event{
				{
					Type: Page, MessageID: "ajs-next-1715678458101-0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
					AnonymousID: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
					Properties:  obj(t, `{"path":"/cart","referrer":"https://shop.example/product/monopoly-3rd-edition","search":"","title":"Cart – Shop","url":"https://shop.example/cart"}`),
					Timestamp:   ts("2024-05-14T09:20:58.101Z"), SentAt: ts("2024-05-14T09:21:08.002Z"),
					Context:      Context{UserAgent: browserUA, Locale: "de-DE", Page: cartPage, Library: nextLib},
					Integrations: map[string]any{}, WriteKey: "wk_browser_9f8e7d6c",
				},
				{
					Type: Track, Event: "Product Added", MessageID: "ajs-next-1715678463877-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
					AnonymousID: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
					Properties:  obj(t, `{"cart_id":"skdjsidjsdkdj29j","product_id":"507f1f77bcf86cd799439011","sku":"G-32","category":"Games","name":"Monopoly: 3rd Edition","brand":"Hasbro","price":18.99,"quantity":1,"coupon":"MAYDEALS","position":3}`),
					Timestamp:   ts("2024-05-14T09:21:03.877Z"), SentAt: ts("2024-05-14T09:21:08.002Z"),
					Context:      Context{UserAgent: browserUA, Locale: "de-DE", Page: cartPage, Library: nextLib},
					Integrations: map[string]any{}, WriteKey: "wk_browser_9f8e7d6c",
				},
				{
					Type: Identify, MessageID: "ajs-next-1715678465240-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5e",
					AnonymousID: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", UserID: "user_8841",
					Traits:    obj(t, `{"email":"jane.doe@example.com","firstName":"Jane"}`),
					Timestamp: ts("2024-05-14T09:21:05.240Z"), SentAt: ts("2024-05-14T09:21:08.002Z"),
					Context: Context{UserAgent: browserUA, Locale: "de-DE", Library: nextLib,
						Page:     PageContext{URL: "https://shop.example/cart", Path: "/cart", Title: "Cart – Shop"},
						UserHash: "3b5d5c3712955042212316173ccf37be800f5f5a4f4fb7e9c4b7ea1e6d8b4c1a"},
					Integrations: map[string]any{}, WriteKey: "wk_browser_9f8e7d6c",
				},
			},
			indexes: []int{0, 1, 2}, writeKey: "wk_browser_9f8e7d6c", sentAt: ts("2024-05-14T09:21:08.002Z"),
		},
		{
			file: "analytics-node-batch.json", // writeKey and sentAt in the body, _metadata per event
			want: []Event{
				{
					Type: Track, Event: "Order Completed", UserID: "user_8841",
					MessageID: "node-next-1715678700000-7d3c1b9a-2e4f-4a6b-8c0d-1e2f3a4b5c6d",
					Properties: obj(t, `{"checkout_id":"fksdjfsdjfisjf9sdfjsd9f","order_id":"50314b8e9bcf000000000000","affiliation":"Online Store",
						"total":27.5,"subtotal":22.5,"revenue":25.0,"shipping":3,"tax":2,"discount":2.5,"coupon":"hasbros","currency":"EUR",
						"products":[{"product_id":"507f1f77bcf86cd799439011","sku":"45790-32","name":"Monopoly: 3rd Edition","price":19,"quantity":1,"category":"Games","url":"https://shop.example/product/path","image_url":"https://shop.example/product/path.jpg"},
						{"product_id":505,"sku":"46493-32","name":"Uno Card Game","price":3.5,"quantity":1,"category":"Games"}]}`),
					Timestamp: ts("2024-05-14T09:25:00Z"), SentAt: ts("2024-05-14T09:25:01Z"),
					Context:      Context{Library: nodeLib},
					Integrations: map[string]any{},
				},
				{
					Type: Identify, UserID: "user_8841",
					MessageID: "node-next-1715678700120-8e4d2c0b-3f5a-4b7c-9d1e-2f3a4b5c6d7e",
					Traits:    obj(t, `{"email":"jane.doe@example.com","plan":"gold","logins":12}`),
					Timestamp: ts("2024-05-14T09:25:00.120Z"), SentAt: ts("2024-05-14T09:25:01Z"),
					Context:      Context{Library: nodeLib, IP: "203.0.113.54"},
					Integrations: map[string]any{},
				},
			},
			indexes: []int{0, 1}, writeKey: "sk_server_1a2b3c", sentAt: ts("2024-05-14T09:25:01Z"),
		},
		{
			file: "rudder-js-batch.json", // originalTimestamp, consentManagement, userId ""
			want: []Event{
				{
					Type: Track, Event: "Product Viewed", MessageID: "2d8f1c5e-9a3b-4c7d-8e1f-0a2b3c4d5e6f",
					AnonymousID:       "f2e1d0c9-b8a7-4654-9321-0fedcba98765",
					Properties:        obj(t, `{"product_id":"uno-1","name":"Uno Card Game","price":3.5,"currency":"GBP"}`),
					OriginalTimestamp: ts("2024-05-14T09:30:00.500Z"), SentAt: ts("2024-05-14T09:30:01Z"),
					Context:      rudderCtx,
					Integrations: map[string]any{"All": true},
				},
				{
					Type: Page, Name: "Product", Category: "Catalog", MessageID: "3e9a2d6f-0b4c-4d8e-9f2a-1b3c4d5e6f70",
					AnonymousID:       "f2e1d0c9-b8a7-4654-9321-0fedcba98765",
					Properties:        obj(t, `{"name":"Product","path":"/product/uno","referrer":"$direct","search":"","title":"Uno – Shop","url":"https://shop.example/product/uno"}`),
					OriginalTimestamp: ts("2024-05-14T09:29:58Z"), SentAt: ts("2024-05-14T09:30:01Z"),
					Context:      rudderCtx,
					Integrations: map[string]any{"All": true},
				},
			},
			indexes: []int{0, 1}, sentAt: ts("2024-05-14T09:30:01Z"),
		},
		{
			file: "segment-consent-track.json", single: Track,
			want: []Event{{
				Type: Track, Event: "Products Searched", AnonymousID: "507f191e810c19729de860ea",
				MessageID:  "api-3pWyPFYgS9jYXzS2UfYHJk1GBQd",
				Properties: obj(t, `{"query":"blue roses"}`),
				Timestamp:  ts("2024-05-14T06:00:00Z"),
				Context: Context{
					IP:      "198.51.100.7",
					Library: Library{Name: "analytics-python", Version: "2.3.2"},
					Consent: &ConsentSignals{Source: SourceSegment, Categories: map[string]bool{
						"Advertising": true, "Analytics": false, "Functional": true,
						"DataSharing": false, // "false" as a string is not a grant
					}},
				},
			}},
			indexes: []int{0},
		},
		{
			file: "ecommerce-product-viewed.json", single: Track, // numeric userId
			want: []Event{{
				Type: Track, Event: "Product Viewed", UserID: "97980",
				MessageID: "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
				Properties: obj(t, `{"product_id":"Sku-ABC-001","sku":"G-32","category":"Games","name":"Monopoly: 3rd Edition","brand":"Hasbro",
					"variant":"200 pieces","price":18.99,"quantity":1,"coupon":"MAYDEALS","currency":"usd","position":3,"value":18.99,
					"url":"https://www.example.com/product/path","image_url":"https://www.example.com/product/path.jpg"}`),
				Timestamp: ts("2024-05-14T10:00:00Z"),
			}},
			indexes: []int{0},
		},
		{
			file: "ecommerce-order-completed.json", single: Track,
			want: []Event{{
				Type: Track, Event: "Order Completed", UserID: "user_8841", AnonymousID: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
				MessageID: "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f",
				Properties: obj(t, `{"checkout_id":"fksdjfsdjfisjf9sdfjsd9f","order_id":"50314b8e9bcf000000000000","affiliation":"Google Store",
					"total":27.50,"subtotal":22.50,"revenue":25.00,"shipping":3,"tax":2,"discount":2.5,"coupon":"hasbros","currency":"USD",
					"products":[{"product_id":"507f1f77bcf86cd799439011","sku":"45790-32","name":"Monopoly: 3rd Edition","price":19,"quantity":1,"category":"Games","url":"https://www.example.com/product/path","image_url":"https:///www.example.com/product/path.jpg"},
					{"product_id":"505bd76785ebb509fc183733","sku":"46493-32","name":"Uno Card Game","price":3,"quantity":2,"category":"Games"}]}`),
				Timestamp:    ts("2024-05-14T10:05:00.123Z"),
				SentAt:       ts("2024-05-14T10:05:02.123Z"),
				Context:      Context{IP: "203.0.113.54", UserAgent: "Mozilla/5.0", Library: Library{Name: "analytics-ruby", Version: "2.4.0"}},
				Integrations: map[string]any{"All": true, "Mixpanel": false},
			}},
			indexes: []int{0}, sentAt: ts("2024-05-14T10:05:02.123Z"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := readTestdata(t, tt.file)
			var got Batch
			var err error
			if tt.single != "" {
				got, err = DecodeSingle(tt.single, body)
			} else {
				got, err = DecodeBatch(body)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Events, ignoreRaw); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.indexes, got.Indexes); diff != "" {
				t.Errorf("indexes (-want +got):\n%s", diff)
			}
			if len(got.Rejected) != 0 {
				t.Errorf("rejected = %+v, want none", got.Rejected)
			}
			if got.WriteKey != tt.writeKey || !got.SentAt.Equal(tt.sentAt) {
				t.Errorf("writeKey, sentAt = %q, %v; want %q, %v", got.WriteKey, got.SentAt, tt.writeKey, tt.sentAt)
			}
			checkRaw(t, body, got)
		})
	}
}

// A numeric product_id keeps its exact text (DESIGN 5.1: product ids are
// opaque and returned unchanged), even beyond float64 precision.
func TestNumbersKeepTheirText(t *testing.T) {
	body := []byte(`{"event":"Product Viewed","userId":12345678901234567890,"properties":{"product_id":12345678901234567890,"price":19.990}}`)
	b, err := DecodeSingle(Track, body)
	if err != nil {
		t.Fatal(err)
	}
	e := b.Events[0]
	if e.UserID != "12345678901234567890" {
		t.Errorf("UserID = %q", e.UserID)
	}
	if got := e.Properties["product_id"]; got != json.Number("12345678901234567890") {
		t.Errorf("product_id = %#v", got)
	}
	if got := e.Properties["price"]; got != json.Number("19.990") {
		t.Errorf("price = %#v", got)
	}
}

func TestIdentifiers(t *testing.T) {
	tests := []struct {
		in       string // the userId member's value
		want     string
		rejected bool
	}{
		{`"u-1"`, "u-1", false},
		{`42`, "42", false},
		{`-7`, "-7", false},
		{`1.50`, "1.5", false},
		{`1e3`, "1000", false},
		{`0`, "0", false},
		{`null`, "", false},
		{`""`, "", false},
		{`true`, "", true},
		{`{"id":1}`, "", true},
		{`["u"]`, "", true},
		{`1e400`, "", true},
	}
	for _, tt := range tests {
		body := fmt.Sprintf(`{"batch":[{"type":"identify","anonymousId":"a","userId":%s}]}`, tt.in)
		b, err := DecodeBatch([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if tt.rejected {
			if len(b.Rejected) != 1 || b.Rejected[0].Code != CodeInvalidField || !strings.Contains(b.Rejected[0].Message, "userId") {
				t.Errorf("userId %s: rejected = %+v, want one invalid_field naming userId", tt.in, b.Rejected)
			}
			continue
		}
		if len(b.Events) != 1 || b.Events[0].UserID != tt.want {
			t.Errorf("userId %s: events %+v rejected %+v, want UserID %q", tt.in, b.Events, b.Rejected, tt.want)
		}
	}
}

func TestBatchRejectsEntries(t *testing.T) {
	big := `{"type":"track","event":"Big","anonymousId":"a","properties":{"blob":"` + strings.Repeat("x", MaxEventBytes) + `"}}`
	justFits := func() string {
		head := `{"type":"track","event":"Fits","anonymousId":"a","properties":{"blob":"`
		tail := `"}}`
		return head + strings.Repeat("y", MaxEventBytes-len(head)-len(tail)) + tail
	}()
	if len(justFits) != MaxEventBytes {
		t.Fatalf("test setup: %d", len(justFits))
	}
	ok := `{"type":"track","event":"Ok","anonymousId":"a"}`
	tests := []struct {
		name     string
		entries  []string
		indexes  []int
		rejected []Rejected // messages are checked to contain Message
	}{
		{"over 32 KB", []string{ok, big, ok}, []int{0, 2}, []Rejected{{1, CodeTooLarge, "over the limit of 32768"}}},
		{"exactly 32 KB", []string{justFits, ok}, []int{0, 1}, nil},
		{"not objects", []string{`"track"`, ok, `[]`, `null`, `7`}, []int{1}, []Rejected{
			{0, CodeNotObject, "not an object"}, {2, CodeNotObject, ""}, {3, CodeNotObject, ""}, {4, CodeNotObject, ""}}},
		{"no type", []string{`{"event":"X","anonymousId":"a"}`, ok}, []int{1}, []Rejected{{0, CodeMissingType, `no "type"`}}},
		{"unknown type", []string{ok, `{"type":"purchase","anonymousId":"a"}`, `{"type":"Track","event":"X"}`}, []int{0}, []Rejected{
			{1, CodeUnknownType, `"purchase"`}, {2, CodeUnknownType, `"Track"`}}},
		{"type not a string", []string{`{"type":1}`}, nil, []Rejected{{0, CodeInvalidField, `"type"`}}},
		{"track without event", []string{`{"type":"track","anonymousId":"a"}`, `{"type":"track","event":""}`}, nil, []Rejected{
			{0, CodeMissingField, `"event"`}, {1, CodeMissingField, `"event"`}}},
		{"group without groupId", []string{`{"type":"group","userId":"u"}`, `{"type":"group","userId":"u","groupId":12}`}, []int{1}, []Rejected{
			{0, CodeMissingField, "groupId"}}},
		{"alias without ids", []string{`{"type":"alias","userId":"u"}`, `{"type":"alias","userId":"u","previousId":"p"}`}, []int{1}, []Rejected{
			{0, CodeMissingField, "previousId"}}},
		{"wrong field types", []string{
			`{"type":"track","event":7}`,
			`{"type":"track","event":"X","properties":[1]}`,
			`{"type":"identify","traits":"gold"}`,
			`{"type":"track","event":"X","context":"web"}`,
			`{"type":"track","event":"X","integrations":true}`,
			`{"type":"page","name":{"a":1}}`,
			`{"type":"track","event":"X","messageId":false}`,
		}, nil, []Rejected{
			{0, CodeInvalidField, `"event" must be a string`},
			{1, CodeInvalidField, `"properties" must be an object`},
			{2, CodeInvalidField, `"traits" must be an object`},
			{3, CodeInvalidField, `"context" must be an object`},
			{4, CodeInvalidField, `"integrations" must be an object`},
			{5, CodeInvalidField, `"name" must be a string`},
			{6, CodeInvalidField, `"messageId"`},
		}},
		{"bad times", []string{
			`{"type":"track","event":"X","timestamp":"yesterday"}`,
			`{"type":"track","event":"X","sentAt":1715678467412}`,
			`{"type":"track","event":"X","originalTimestamp":"2024-13-01T00:00:00Z"}`,
			`{"type":"track","event":"X","timestamp":"2024-05-14T09:21:07.412Z"}`,
		}, []int{3}, []Rejected{
			{0, CodeInvalidField, `"timestamp" is not an ISO 8601 time`},
			{1, CodeInvalidField, `"sentAt"`},
			{2, CodeInvalidField, `"originalTimestamp"`},
		}},
		{"malformed consent", []string{
			`{"type":"track","event":"X","context":{"consent":{"categoryPreferences":["Analytics"]}}}`,
			`{"type":"track","event":"X","context":{"consentManagement":{"deniedConsentIds":"C0004"}}}`,
			`{"type":"track","event":"X","context":{"consentManagement":{"deniedConsentIds":["C0004",{"id":1}]}}}`,
			`{"type":"track","event":"X","context":{"consent":"granted"}}`,
			`{"type":"track","event":"X","context":{"consent":{},"consentManagement":{}}}`,
		}, []int{4}, []Rejected{
			{0, CodeInvalidField, "categoryPreferences"},
			{1, CodeInvalidField, "deniedConsentIds"},
			{2, CodeInvalidField, "deniedConsentIds"},
			{3, CodeInvalidField, "context.consent"},
		}},
		{"the first problem is reported", []string{`{"type":"track","userId":true,"timestamp":"x"}`}, nil, []Rejected{
			{0, CodeInvalidField, "userId"}}},
		{"size wins over content", []string{`{"type":"nope","x":"` + strings.Repeat("z", MaxEventBytes) + `"}`}, nil, []Rejected{
			{0, CodeTooLarge, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"batch":[` + strings.Join(tt.entries, ",") + `]}`
			b, err := DecodeBatch([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.indexes, b.Indexes, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("indexes (-want +got):\n%s", diff)
			}
			if len(b.Events) != len(b.Indexes) {
				t.Errorf("%d events for %d indexes", len(b.Events), len(b.Indexes))
			}
			if len(b.Rejected) != len(tt.rejected) {
				t.Fatalf("rejected = %+v, want %d entries", b.Rejected, len(tt.rejected))
			}
			for i, want := range tt.rejected {
				got := b.Rejected[i]
				if got.Index != want.Index || got.Code != want.Code || !strings.Contains(got.Message, want.Message) {
					t.Errorf("rejected[%d] = %+v, want index %d code %s message containing %q", i, got, want.Index, want.Code, want.Message)
				}
			}
			checkRaw(t, []byte(body), b)
		})
	}
}

func TestRequestErrors(t *testing.T) {
	nest := func(n int) string { // n levels of nesting in total, the body included
		return `{"batch":[{"type":"track","event":"X","properties":` +
			strings.Repeat(`{"a":`, n-3) + `1` + strings.Repeat(`}`, n-3) + `}]}`
	}
	tests := []struct {
		name    string
		body    string
		kind    error
		code    string
		message string
	}{
		{"empty", ``, ErrNotJSON, CodeNotJSON, "empty"},
		{"white space", " \n", ErrNotJSON, CodeNotJSON, "empty"},
		{"not JSON", `batch=1`, ErrNotJSON, CodeNotJSON, "byte 0"},
		{"truncated", `{"batch":[{"type":"track"`, ErrNotJSON, CodeNotJSON, "unexpected end"},
		{"trailing data", `{"batch":[]} {}`, ErrNotJSON, CodeNotJSON, "data after the JSON value"},
		{"trailing garbage", `{"batch":[]}x`, ErrNotJSON, CodeNotJSON, "data after"},
		{"invalid UTF-8", "{\"batch\":[{\"type\":\"track\",\"event\":\"caf\xe9\"}]}", ErrNotJSON, CodeNotJSON, "invalid UTF-8 at byte 38"},
		{"control character", "{\"batch\":[{\"type\":\"track\",\"event\":\"a\tb\"}]}", ErrNotJSON, CodeNotJSON, "control character"},
		{"bad escape", `{"batch":[{"type":"track","event":"\x41"}]}`, ErrNotJSON, CodeNotJSON, "invalid escape"},
		{"single quotes", `{'batch':[]}`, ErrNotJSON, CodeNotJSON, "string key"},
		{"trailing comma", `{"batch":[{"type":"track","event":"X"},]}`, ErrNotJSON, CodeNotJSON, ""},
		{"leading zero", `{"batch":[],"n":01}`, ErrNotJSON, CodeNotJSON, ""},
		{"NaN", `{"batch":[],"n":NaN}`, ErrNotJSON, CodeNotJSON, ""},
		{"array body", `[{"type":"track"}]`, ErrInvalid, CodeNotObject, "must be a JSON object"},
		{"string body", `"hello"`, ErrInvalid, CodeNotObject, "object"},
		{"broken array body", `[1,`, ErrNotJSON, CodeNotJSON, ""},
		{"depth 33", nest(33), ErrInvalid, CodeTooDeep, "deeper than 32"},
		{"depth 33 in an ignored member", `{"batch":[],"x":` + strings.Repeat("[", 32) + strings.Repeat("]", 32) + `}`, ErrInvalid, CodeTooDeep, ""},
		{"duplicate top-level key", `{"batch":[],"batch":[]}`, ErrInvalid, CodeDuplicateKey, `"batch"`},
		{"duplicate event key", `{"batch":[{"type":"track","event":"A","event":"B"}]}`, ErrInvalid, CodeDuplicateKey, `"event"`},
		{"duplicate key deep in properties", `{"batch":[{"type":"track","event":"A","properties":{"p":[{"q":1,"q":2}]}}]}`, ErrInvalid, CodeDuplicateKey, `"q"`},
		{"duplicate key in an ignored member", `{"batch":[{"type":"track","event":"A","_metadata":{"x":1,"x":1}}]}`, ErrInvalid, CodeDuplicateKey, `"x"`},
		{"duplicate key in context", `{"batch":[{"type":"track","event":"A","context":{"ip":"1.2.3.4","ip":"5.6.7.8"}}]}`, ErrInvalid, CodeDuplicateKey, `"ip"`},
		{"duplicate by escape", `{"batch":[{"type":"track","event":"A","\u0065vent":"B"}]}`, ErrInvalid, CodeDuplicateKey, `"event"`},
		{"duplicate consent category", `{"batch":[{"type":"track","event":"A","context":{"consent":{"categoryPreferences":{"Ads":false,"Ads":true}}}}]}`, ErrInvalid, CodeDuplicateKey, `"Ads"`},
		{"no batch", `{"type":"track","event":"X"}`, ErrInvalid, CodeNoBatch, `no "batch"`},
		{"batch not an array", `{"batch":{"type":"track"}}`, ErrInvalid, CodeNoBatch, "must be an array"},
		{"batch null", `{"batch":null}`, ErrInvalid, CodeNoBatch, "must be an array"},
		{"batch context not an object", `{"batch":[],"context":[]}`, ErrInvalid, CodeInvalidField, "context"},
		{"batch sentAt bad", `{"batch":[],"sentAt":"soon"}`, ErrInvalid, CodeInvalidField, "sentAt"},
		{"batch writeKey bad", `{"batch":[],"writeKey":1}`, ErrInvalid, CodeInvalidField, "writeKey"},
		{"batch integrations bad", `{"batch":[],"integrations":"all"}`, ErrInvalid, CodeInvalidField, "integrations"},
		{"batch consent malformed", `{"batch":[],"context":{"consent":{"categoryPreferences":1}}}`, ErrInvalid, CodeInvalidField, "categoryPreferences"},
		{"syntax error after a bad entry", `{"batch":[7,{"type":"track","event":"X"}`, ErrNotJSON, CodeNotJSON, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeBatch([]byte(tt.body))
			if err == nil {
				t.Fatalf("no error; batch %+v", b)
			}
			var de *Error
			if !errors.Is(err, tt.kind) || !errors.As(err, &de) || de.Code != tt.code || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error = %v (%#v), want %v, code %s, message containing %q", err, err, tt.kind, tt.code, tt.message)
			}
			if len(b.Events) != 0 || len(b.Rejected) != 0 {
				t.Errorf("a rejected request returned events %d, rejected %d", len(b.Events), len(b.Rejected))
			}
		})
	}

	// The limits themselves are accepted.
	for _, body := range []string{nest(32), "\uFEFF" + `{"batch":[]}`, " \r\n\t{\"batch\":[]} \n"} {
		if _, err := DecodeBatch([]byte(body)); err != nil {
			t.Errorf("DecodeBatch(%.40q…) = %v, want nil", body, err)
		}
	}
}

func TestDecodeSingle(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		body    string
		want    Event // checked: Type, Event, Name, UserID, AnonymousID
		kind    error
		code    string
		message string
	}{
		{name: "type from the path", path: "t", body: `{"event":"Signed Up","userId":"u"}`,
			want: Event{Type: Track, Event: "Signed Up", UserID: "u"}},
		{name: "matching body type", path: "page", body: `{"type":"page","name":"Home","anonymousId":"a"}`,
			want: Event{Type: Page, Name: "Home", AnonymousID: "a"}},
		{name: "screen", path: "s", body: `{"name":"Cart","anonymousId":"a"}`,
			want: Event{Type: Screen, Name: "Cart", AnonymousID: "a"}},
		{name: "no identifier is fine", path: "p", body: `{"name":"Home"}`,
			want: Event{Type: Page, Name: "Home"}},
		{name: "contradicting type", path: "t", body: `{"type":"identify","userId":"u"}`,
			kind: ErrInvalid, code: CodeTypeMismatch, message: `"identify"`},
		{name: "unknown body type", path: "identify", body: `{"type":"purchase","userId":"u"}`,
			kind: ErrInvalid, code: CodeTypeMismatch, message: `"purchase"`},
		{name: "track without event", path: "track", body: `{"userId":"u"}`,
			kind: ErrInvalid, code: CodeMissingField, message: "event"},
		{name: "bad field", path: "identify", body: `{"userId":{"id":1}}`,
			kind: ErrInvalid, code: CodeInvalidField, message: "userId"},
		{name: "not an object", path: "t", body: `[{"event":"X"}]`,
			kind: ErrInvalid, code: CodeNotObject},
		{name: "trailing data", path: "t", body: `{"event":"X"}{"event":"Y"}`,
			kind: ErrNotJSON, code: CodeNotJSON},
		{name: "over 32 KB", path: "t", body: `{"event":"X","p":"` + strings.Repeat("x", MaxEventBytes) + `"}`,
			kind: ErrTooLarge, code: CodeTooLarge},
		{name: "batch path", path: "batch", body: `{"batch":[]}`,
			kind: ErrInvalid, code: CodeUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, ok := TypeFromPath(tt.path)
			if !ok {
				typ = Type(tt.path)
			}
			b, err := DecodeSingle(typ, []byte(tt.body))
			if tt.kind != nil {
				var de *Error
				if !errors.Is(err, tt.kind) || !errors.As(err, &de) || de.Code != tt.code || !strings.Contains(err.Error(), tt.message) {
					t.Errorf("error = %v, want %v code %s containing %q", err, tt.kind, tt.code, tt.message)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Events) != 1 || len(b.Indexes) != 1 || b.Indexes[0] != 0 {
				t.Fatalf("batch = %+v", b)
			}
			e := b.Events[0]
			got := Event{Type: e.Type, Event: e.Event, Name: e.Name, UserID: e.UserID, AnonymousID: e.AnonymousID}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !e.GeneratedID || len(e.MessageID) != 36 {
				t.Errorf("MessageID = %q, GeneratedID %v: want a generated UUID", e.MessageID, e.GeneratedID)
			}
		})
	}
}

func TestTypeFromPath(t *testing.T) {
	for p, want := range map[string]Type{
		"track": Track, "t": Track, "identify": Identify, "i": Identify, "page": Page, "p": Page,
		"screen": Screen, "s": Screen, "group": Group, "g": Group, "alias": Alias, "a": Alias,
	} {
		if got, ok := TypeFromPath(p); !ok || got != want {
			t.Errorf("TypeFromPath(%q) = %q, %v", p, got, ok)
		}
	}
	for _, p := range []string{"", "b", "batch", "m", "Track", "x", "tracks"} {
		if got, ok := TypeFromPath(p); ok {
			t.Errorf("TypeFromPath(%q) = %q, want no type", p, got)
		}
	}
}

func TestGeneratedMessageIDs(t *testing.T) {
	body := []byte(`{"batch":[{"type":"page"},{"type":"page","messageId":""},{"type":"page","messageId":"m-1"}]}`)
	b, err := DecodeBatch(body)
	if err != nil {
		t.Fatal(err)
	}
	e := b.Events
	if !e[0].GeneratedID || !e[1].GeneratedID || e[2].GeneratedID || e[2].MessageID != "m-1" {
		t.Errorf("generated flags/ids: %v %q, %v %q, %v %q", e[0].GeneratedID, e[0].MessageID, e[1].GeneratedID, e[1].MessageID, e[2].GeneratedID, e[2].MessageID)
	}
	if e[0].MessageID == e[1].MessageID {
		t.Errorf("generated ids repeat: %q", e[0].MessageID)
	}
}

func TestBatchLevelMerge(t *testing.T) {
	body := []byte(`{
		"writeKey": "wk",
		"sentAt": "2024-05-14T10:00:10Z",
		"context": {"ip": "203.0.113.9", "locale": "en-US", "library": {"name": "analytics-go", "version": "3.3.0"},
			"traits": {"plan": "gold", "tier": 1}, "campaign": {"source": "batch", "medium": "email"},
			"consent": {"categoryPreferences": {"Analytics": true}}},
		"integrations": {"All": false, "Webhook": true},
		"batch": [
			{"type": "track", "event": "A", "userId": "u", "timestamp": "2024-05-14T10:00:00Z"},
			{"type": "track", "event": "B", "userId": "u", "sentAt": "2024-05-14T10:00:05Z",
				"context": {"ip": "198.51.100.1", "library": {"name": "custom"}, "traits": {"plan": "silver"},
					"campaign": {"source": "event"}, "consentManagement": {"deniedConsentIds": ["C1"]}},
				"integrations": {"All": true}},
			{"type": "track", "event": "C", "userId": "u", "writeKey": "other"},
			{"type": "track", "event": "D", "userId": "u", "writeKey": "wk"}
		]
	}`)
	b, err := DecodeBatch(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{
			Type: Track, Event: "A", UserID: "u", Timestamp: ts("2024-05-14T10:00:00Z"), SentAt: ts("2024-05-14T10:00:10Z"),
			Context: Context{IP: "203.0.113.9", Locale: "en-US", Library: Library{Name: "analytics-go", Version: "3.3.0"},
				Traits:   obj(t, `{"plan":"gold","tier":1}`),
				Campaign: map[string]string{"source": "batch", "medium": "email"},
				Consent:  &ConsentSignals{Source: SourceSegment, Categories: map[string]bool{"Analytics": true}}},
			Integrations: map[string]any{"All": false, "Webhook": true},
		},
		{
			Type: Track, Event: "B", UserID: "u", SentAt: ts("2024-05-14T10:00:05Z"),
			Context: Context{IP: "198.51.100.1", Locale: "en-US", Library: Library{Name: "custom"},
				Traits:   obj(t, `{"plan":"silver","tier":1}`),
				Campaign: map[string]string{"source": "event", "medium": "email"},
				Consent:  &ConsentSignals{Source: SourceRudderStack, Denied: []string{"C1"}}},
			Integrations: map[string]any{"All": true, "Webhook": true},
		},
		{
			Type: Track, Event: "D", UserID: "u", SentAt: ts("2024-05-14T10:00:10Z"), WriteKey: "wk",
			Context: Context{IP: "203.0.113.9", Locale: "en-US", Library: Library{Name: "analytics-go", Version: "3.3.0"},
				Traits:   obj(t, `{"plan":"gold","tier":1}`),
				Campaign: map[string]string{"source": "batch", "medium": "email"},
				Consent:  &ConsentSignals{Source: SourceSegment, Categories: map[string]bool{"Analytics": true}}},
			Integrations: map[string]any{"All": false, "Webhook": true},
		},
	}
	if diff := cmp.Diff(want, b.Events, ignoreRaw, cmpopts.IgnoreFields(Event{}, "MessageID", "GeneratedID")); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{0, 1, 3}, b.Indexes); diff != "" {
		t.Errorf("indexes (-want +got):\n%s", diff)
	}
	if len(b.Rejected) != 1 || b.Rejected[0].Index != 2 || b.Rejected[0].Code != CodeWriteKey {
		t.Errorf("rejected = %+v, want entry 2 for its writeKey", b.Rejected)
	}
	// Raw is the event as sent, without the batch context.
	if bytes.Contains(b.Events[0].Raw, []byte("203.0.113.9")) {
		t.Errorf("Raw has the batch context merged in: %s", b.Events[0].Raw)
	}
	// Events do not share maps with each other.
	b.Events[0].Context.Traits["plan"] = "changed"
	b.Events[0].Integrations["All"] = "changed"
	b.Events[0].Context.Consent.Categories["Analytics"] = false
	if b.Events[2].Context.Traits["plan"] != "gold" || b.Events[2].Integrations["All"] != false || !b.Events[2].Context.Consent.Categories["Analytics"] {
		t.Error("events share maps from the batch context")
	}
}

func TestWriteKeyFromEvents(t *testing.T) {
	// analytics-next /v1/b bodies may carry the key only inside events.
	b, err := DecodeBatch([]byte(`{"batch":[{"type":"page","writeKey":"wk1"},{"type":"page","writeKey":"wk2"},{"type":"page"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if b.WriteKey != "wk1" || len(b.Events) != 2 || len(b.Rejected) != 1 || b.Rejected[0].Index != 1 {
		t.Errorf("writeKey %q, events %d, rejected %+v", b.WriteKey, len(b.Events), b.Rejected)
	}
}

func TestContextDetails(t *testing.T) {
	tests := []struct {
		name  string
		event string
		check func(t *testing.T, e Event)
	}{
		{"wrong types in context are ignored", `{"type":"track","event":"X","context":{"ip":0,"userAgent":["x"],"page":"home","campaign":[1],"library":"js","traits":"t","locale":"de"}}`,
			func(t *testing.T, e Event) {
				if diff := cmp.Diff(Context{Locale: "de"}, e.Context); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}},
		{"page properties fill context.page", `{"type":"page","properties":{"url":"https://s.example/a?utm_source=x","path":"/a","title":"A","referrer":7}}`,
			func(t *testing.T, e Event) {
				want := PageContext{URL: "https://s.example/a?utm_source=x", Path: "/a", Title: "A"}
				if e.Context.Page != want {
					t.Errorf("Page = %+v, want %+v", e.Context.Page, want)
				}
				if diff := cmp.Diff(map[string]string{"utm_source": "x"}, e.UTM()); diff != "" {
					t.Errorf("UTM (-want +got):\n%s", diff)
				}
			}},
		{"track properties do not fill context.page", `{"type":"track","event":"X","properties":{"url":"https://s.example/"}}`,
			func(t *testing.T, e Event) {
				if e.Context.Page.URL != "" {
					t.Errorf("Page.URL = %q", e.Context.Page.URL)
				}
			}},
		{"identify traits from context.traits", `{"type":"identify","userId":"u","context":{"traits":{"email":"a@example.com"}}}`,
			func(t *testing.T, e Event) {
				if e.Traits["email"] != "a@example.com" {
					t.Errorf("Traits = %v", e.Traits)
				}
			}},
		{"group traits stay top-level only", `{"type":"group","groupId":"g","userId":"u","context":{"traits":{"email":"a@example.com"}}}`,
			func(t *testing.T, e Event) {
				if e.Traits != nil || e.Context.Traits["email"] != "a@example.com" {
					t.Errorf("Traits = %v, Context.Traits = %v", e.Traits, e.Context.Traits)
				}
			}},
		{"both consent signals", `{"type":"track","event":"X","context":{"consent":{"categoryPreferences":{"Ads":true}},"consentManagement":{"allowedConsentIds":["C1",2],"deniedConsentIds":[]}}}`,
			func(t *testing.T, e Event) {
				want := &ConsentSignals{Source: SourceBoth, Categories: map[string]bool{"Ads": true}, Allowed: []string{"C1", "2"}, Denied: []string{}}
				if diff := cmp.Diff(want, e.Context.Consent); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}},
		{"empty consent objects are no signal", `{"type":"track","event":"X","context":{"consent":{"other":1},"consentManagement":{"provider":"custom"}}}`,
			func(t *testing.T, e Event) {
				if e.Context.Consent != nil {
					t.Errorf("Consent = %+v, want nil", e.Context.Consent)
				}
			}},
		{"empty categoryPreferences is a signal", `{"type":"track","event":"X","context":{"consent":{"categoryPreferences":{}}}}`,
			func(t *testing.T, e Event) {
				want := &ConsentSignals{Source: SourceSegment, Categories: map[string]bool{}}
				if diff := cmp.Diff(want, e.Context.Consent); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}},
		{"null members are absent", `{"type":"track","event":"X","userId":null,"properties":null,"context":null,"timestamp":null,"integrations":null}`,
			func(t *testing.T, e Event) {
				if e.UserID != "" || e.Properties != nil || !e.Timestamp.IsZero() || e.Integrations != nil {
					t.Errorf("event = %+v", e)
				}
			}},
		{"escapes decoded", `{"type":"track","event":"Caf\u00e9 \ud83d\ude00 \"q\" \/ \n","userId":"\u00fc"}`,
			func(t *testing.T, e Event) {
				if e.Event != "Café 😀 \"q\" / \n" || e.UserID != "ü" {
					t.Errorf("Event = %q, UserID = %q", e.Event, e.UserID)
				}
			}},
		{"unknown members stay in Raw", `{"type":"track","event":"X","channel":"server","rudderId":"r-1","options":{"a":[1,2]}}`,
			func(t *testing.T, e Event) {
				if !bytes.Contains(e.Raw, []byte(`"rudderId":"r-1"`)) {
					t.Errorf("Raw = %s", e.Raw)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeBatch([]byte(`{"batch":[` + tt.event + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Events) != 1 {
				t.Fatalf("rejected: %+v", b.Rejected)
			}
			tt.check(t, b.Events[0])
		})
	}
}

func TestUTM(t *testing.T) {
	tests := []struct {
		name    string
		context string
		want    map[string]string
	}{
		{"none", `{}`, nil},
		{"from context.campaign", `{"campaign":{"name":"spring","source":"news","medium":"email","term":"shoes","content":"hero","id":"c7"}}`,
			map[string]string{"utm_campaign": "spring", "utm_source": "news", "utm_medium": "email", "utm_term": "shoes", "utm_content": "hero", "utm_id": "c7"}},
		{"from page.search", `{"page":{"search":"?a=1&utm_source=ads&utm_campaign=spring%20sale&utm_=x&xutm_term=no&utm_medium="}}`,
			map[string]string{"utm_source": "ads", "utm_campaign": "spring sale"}},
		{"from page.url when search is empty", `{"page":{"url":"https://s.example/p?utm_medium=cpc#utm_source=frag","search":""}}`,
			map[string]string{"utm_medium": "cpc"}},
		{"context.campaign wins", `{"campaign":{"source":"ctx"},"page":{"search":"?utm_source=url&utm_medium=cpc"}}`,
			map[string]string{"utm_source": "ctx", "utm_medium": "cpc"}},
		{"bad escapes kept as sent", `{"page":{"search":"?utm_source=%zz"}}`,
			map[string]string{"utm_source": "%zz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DecodeSingle(Page, []byte(`{"context":`+tt.context+`}`))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.Events[0].UTM()); diff != "" {
				t.Errorf("UTM (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHasIdentifier(t *testing.T) {
	for _, tt := range []struct {
		e    Event
		want bool
	}{
		{Event{}, false},
		{Event{UserID: "u"}, true},
		{Event{AnonymousID: "a"}, true},
		{Event{GroupID: "g", PreviousID: "p"}, false},
	} {
		if got := tt.e.HasIdentifier(); got != tt.want {
			t.Errorf("%+v.HasIdentifier() = %v", tt.e, got)
		}
	}
}
