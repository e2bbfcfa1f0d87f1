package report

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/datamap"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

// Values planted in the fixtures that must never reach an output in full.
const (
	xssScript   = `<script>alert(1)</script>`
	xssAttr     = `"><img src=x onerror=alert(1)>`
	cardNumber  = "4111 1111 1111 1111"
	cardDigits  = "4111111111111111"
	ibanNumber  = "DE89 3704 0044 0532 0130 00"
	password    = "hunter2-correct-horse"
	passportNum = "C01X00T47"
)

// fixture is a report with something in every section, for the shopper's
// regime and locale.
func fixture(t testing.TB, regime, locale string) *Report {
	t.Helper()
	m := datamap.Default()
	rg, ok := m.Regime(regime)
	if !ok {
		t.Fatalf("no regime %q in the default map", regime)
	}
	r := &Report{
		RequestID:   "req_7b1e0c5f2a9d",
		GeneratedAt: at(60 * 24 * 20),
		Locale:      locale,
		Regime:      rg,
		Map:         m,
		Subject:     "5f0c2b8e9d71a4363e6b0f1c2d3e4a5b",
		Identities: []Identity{
			{Kind: "email", Value: "ada@example.com", Since: at(5)},
			{Kind: "userId", Value: "cust-1001", Since: at(5)},
			{Kind: "anonymousId", Since: at(0)},
		},
		Traits: map[string]any{
			"name":     "Ada Lovelace",
			"email":    "ada@example.com",
			"password": password,
			"nickname": xssScript,
			"bio":      xssAttr,
			"address":  map[string]any{"city": "Berlin", "iban": ibanNumber},
			"note":     "card " + cardNumber + " on file",
			"passport": passportNum,
			"orders":   3,
		},
		Consent: []Receipt{
			{
				ID: "rcpt_a1b2c3d4e5f6", LeafIndex: 41, Method: "banner", At: at(1), NoticeVersion: "3f9a0c1d2e4b5a6c",
				Choices: map[string]bool{"necessary": true, "analytics": true, "personalization": true, "advertising": false, "sale_share": false},
				Proof:   json.RawMessage(`{"leafIndex":41,"treeSize":64,"auditPath":["9b1c4e","02aa7f"],"checkpoint":{"size":64,"root":"c0ffee"}}`),
			},
			{
				ID: "rcpt_f6e5d4c3b2a1", LeafIndex: 57, Method: "privacy_center", At: at(6), NoticeVersion: "3f9a0c1d2e4b5a6c",
				Choices: map[string]bool{"marketing_email": true},
			},
		},
		State: map[string]PurposeState{
			"necessary":       {Granted: true, ReceiptID: "rcpt_a1b2c3d4e5f6", Since: at(1)},
			"analytics":       {Granted: true, ReceiptID: "rcpt_a1b2c3d4e5f6", Since: at(1)},
			"personalization": {Granted: true, ReceiptID: "rcpt_a1b2c3d4e5f6", Since: at(1)},
			"marketing_email": {Pending: true, ReceiptID: "rcpt_f6e5d4c3b2a1", Since: at(6)},
			"advertising":     {ReceiptID: "rcpt_a1b2c3d4e5f6", Since: at(1)},
		},
		Derived: Derived{
			Interests:   []Interest{{Category: "Shoes/Running", Score: 0.82, Source: "events"}, {Category: "Outdoor/Tents", Score: 0.4, Source: "edited"}},
			Audiences:   []string{"aud_running_fans"},
			Retargeting: []Counter{{ItemID: "sku-RUN-042", Shown: 2, Until: at(60 * 24 * 30)}},
		},
		Requests: []PastRequest{
			{ID: "req_0aa91c", Type: "rectify", Status: "completed", ReceivedAt: at(60 * 24), CompletedAt: at(60 * 26)},
			{ID: "req_7b1e0c5f2a9d", Type: "access", Status: "in_progress", ReceivedAt: at(60 * 24 * 19)},
		},
		Signals: []string{"Analytics: used, because you allowed it on 2025-03-14 (receipt rc_sig).", "<b>not markup</b>"},
	}
	if rg.Model == datamap.ModelOptOut {
		// The regime's defaults apply: advertising and sale/sharing start
		// granted, and the ad network has received data.
		r.State["advertising"] = PurposeState{Granted: true, Since: at(0)}
		r.State["sale_share"] = PurposeState{Granted: true, Since: at(0)}
		r.Disclosures = []Disclosure{{Recipient: "ad_network", At: at(60 * 24 * 2), Purpose: "advertising", Categories: []string{"identity.anonymous_id", "behavior.browsing"}}}
	}
	return r
}

// fixtureEvents are the fixed events of the golden reports.
var fixtureEvents = []Event{
	{
		MessageID: "msg-0001", Type: "identify", OccurredAt: at(5), ReceivedAt: at(5).Add(120 * time.Millisecond),
		Purposes: []string{"analytics", "personalization"}, ReceiptID: "rcpt_a1b2c3d4e5f6",
		Payload: json.RawMessage(`{"type":"identify","userId":"cust-1001","traits":{"email":"ada@example.com","password":"` + password + `","nickname":"` + xssScript + `"},"context":{"country":"DE","browser":"Firefox","os":"Linux","device":"desktop"}}`),
	},
	{
		MessageID: "msg-0002", Type: "page", Event: "Home", OccurredAt: at(7), ReceivedAt: at(7),
		Purposes: []string{"analytics"}, ReceiptID: "rcpt_a1b2c3d4e5f6",
		Payload: json.RawMessage(`{"type":"page","name":"Home","properties":{"path":"/","referrer":"search.example"},"context":{"country":"DE"}}`),
	},
	{
		MessageID: "msg-0003", Type: "track", Event: "Product Viewed", OccurredAt: at(9), ReceivedAt: at(9),
		Purposes: []string{"analytics", "personalization"}, ReceiptID: "rcpt_a1b2c3d4e5f6",
		Payload: json.RawMessage(`{"type":"track","event":"Product Viewed","properties":{"product_id":"sku-RUN-042","name":"Trail runner","category":"Shoes/Running","review":"\"><img src=x onerror=alert(1)>","price":89.9}}`),
	},
	{
		MessageID: "msg-0004", Type: "track", Event: "Order Completed", OccurredAt: at(30), ReceivedAt: at(30),
		Purposes: []string{"analytics"}, ReceiptID: "rcpt_a1b2c3d4e5f6",
		Payload: json.RawMessage(`{"type":"track","event":"Order Completed","properties":{"order_id":"o-5521","total":89.9,"currency":"EUR","payment":{"cardNumber":"` + cardNumber + `","holder":"A. Lovelace"},"comment":"pay from ` + ibanNumber + ` please"}}`),
	},
}

// sliceEvents streams events from a slice.
func sliceEvents(evs []Event) Events {
	return func(yield func(Event) error) error {
		for _, e := range evs {
			if err := yield(e); err != nil {
				return err
			}
		}
		return nil
	}
}

// genEvents streams n generated events of about 800 bytes of payload,
// building each one when it is yielded so that the test holds none of
// them. before, if set, runs before event i is yielded.
func genEvents(n int, before func(i int)) Events {
	return func(yield func(Event) error) error {
		for i := range n {
			if before != nil {
				before(i)
			}
			if err := yield(genEvent(i)); err != nil {
				return err
			}
		}
		return nil
	}
}

func genEvent(i int) Event {
	when := t0.Add(time.Duration(i) * time.Second)
	payload := fmt.Sprintf(`{"type":"track","event":"Product Viewed","messageId":"msg-%08d","properties":{"product_id":"sku-%06d","sku":"SKU-%06d","name":"Lightweight trail running shoe, model %d","brand":"Example Outdoor","category":"Shoes/Running/Trail","variant":"blue / EU 42","price":129.95,"currency":"EUR","quantity":1,"position":%d,"coupon":"SPRING25","list_id":"search-results","path":"/products/:id","referrer":"search.example","image_url":"/img/products/:id/main.jpg","rating":4.6,"reviews":182,"in_stock":true,"tags":["trail","running","lightweight","waterproof","men"]},"context":{"country":"DE","browser":"Firefox","os":"Linux","device":"desktop","locale":"de-DE","library":{"name":"analytics.js","version":"5.2.0"},"campaign":{"source":"newsletter","medium":"email","name":"spring-sale"}},"timestamp":"%s"}`,
		i, i%5000, i%5000, i%97, i%40, when.Format(time.RFC3339))
	return Event{
		MessageID: fmt.Sprintf("msg-%08d", i), Type: "track", Event: "Product Viewed",
		OccurredAt: when, ReceivedAt: when.Add(150 * time.Millisecond),
		Purposes: []string{"analytics", "personalization", "advertising"}, ReceiptID: "rcpt_a1b2c3d4e5f6",
		Payload: json.RawMessage(payload),
	}
}
