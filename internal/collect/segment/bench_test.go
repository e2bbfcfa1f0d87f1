package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/tact-cdp/tact/internal/strictjson"
)

// ecommerceBatch builds a batch of n realistic e-commerce events of about
// 800 bytes each, as analytics-next or a server SDK sends them.
func ecommerceBatch(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"batch":[`)
	names := []string{"Product Viewed", "Product Added", "Checkout Started", "Order Completed"}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"track","event":%q,"messageId":"ajs-next-17156784%05d-2b9e6c0f-7c1d",`+
			`"anonymousId":"6f3c9b2e-5a1d-4e8f-9c7b-%012d","userId":null,"timestamp":"2024-05-14T09:21:07.412Z",`+
			`"properties":{"product_id":"507f1f77bcf86cd7994%05d","sku":"G-32","category":"Games","name":"Monopoly: 3rd Edition",`+
			`"brand":"Hasbro","price":18.99,"quantity":%d,"currency":"EUR",`+
			`"url":"https://shop.example/product/monopoly-3rd-edition"},`+
			`"context":{"page":{"path":"/product/monopoly-3rd-edition","referrer":"https://www.google.com/",`+
			`"title":"Monopoly – Shop","url":"https://shop.example/product/monopoly-3rd-edition"},`+
			`"userAgent":"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",`+
			`"locale":"fr-FR","library":{"name":"analytics.js","version":"next-1.70.0"},`+
			`"consent":{"categoryPreferences":{"Analytics":true,"Advertising":false}}},`+
			`"integrations":{},"writeKey":"wk_browser_9f8e7d6c"}`,
			names[i%len(names)], i, i, i, 1+i%3)
	}
	b.WriteString(`],"sentAt":"2024-05-14T09:21:08.002Z","writeKey":"wk_browser_9f8e7d6c"}`)
	return b.Bytes()
}

func BenchmarkDecodeBatch100(b *testing.B) {
	body := ecommerceBatch(100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		batch, err := DecodeBatch(body)
		if err != nil || len(batch.Events) != 100 {
			b.Fatalf("DecodeBatch: %d events, %v", len(batch.Events), err)
		}
	}
	b.ReportMetric(float64(len(body))/100, "bytes/event")
}

// BenchmarkBaselineStd100 is the obvious alternative, for comparison: the
// strict checks of internal/strictjson followed by encoding/json into
// structs with json.RawMessage per event, then maps for the free-form parts.
func BenchmarkBaselineStd100(b *testing.B) {
	body := ecommerceBatch(100)
	type ev struct {
		Type        string         `json:"type"`
		Event       string         `json:"event"`
		MessageID   string         `json:"messageId"`
		AnonymousID any            `json:"anonymousId"`
		UserID      any            `json:"userId"`
		Timestamp   string         `json:"timestamp"`
		Properties  map[string]any `json:"properties"`
		Context     struct {
			Page      map[string]string `json:"page"`
			UserAgent string            `json:"userAgent"`
			Locale    string            `json:"locale"`
			Library   map[string]string `json:"library"`
			Consent   struct {
				CategoryPreferences map[string]any `json:"categoryPreferences"`
			} `json:"consent"`
		} `json:"context"`
		Integrations map[string]any `json:"integrations"`
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := strictjson.CheckDuplicates(body); err != nil {
			b.Fatal(err)
		}
		var top struct {
			Batch []json.RawMessage `json:"batch"`
		}
		if err := json.Unmarshal(body, &top); err != nil {
			b.Fatal(err)
		}
		for _, raw := range top.Batch {
			var e ev
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			if err := d.Decode(&e); err != nil {
				b.Fatal(err)
			}
		}
	}
}
