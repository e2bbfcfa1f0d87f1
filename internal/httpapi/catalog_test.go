package httpapi_test

import (
	"context"
	"testing"

	"github.com/tact-cdp/tact/internal/collect"
)

func TestCatalogItemsPutAndSeenInEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		code, out, _ := e.do("PUT", "/v1/catalog/items/85123A", map[string]any{"name": "White hanging heart", "category": "Home décor/Candles", "price": 2.55, "currency": "GBP"}, bearer(e.server))
		if code != 200 || out["id"] != "85123A" || out["sensitive"] != false || out["price"] != 2.55 {
			t.Fatalf("PUT item: %d %v", code, out)
		}
		// Items inherit the sensitivity of the data map's categories.
		code, out, _ = e.do("PUT", "/v1/catalog/items/V-1", map[string]any{"name": "Vitamin D", "category": "Health/Vitamins", "repeatPurchase": true}, bearer(e.server))
		if code != 200 || out["sensitive"] != true || out["repeatPurchase"] != true {
			t.Errorf("an item under Health: %d %v", code, out)
		}
		for _, c := range []struct {
			body any
			opt  reqOpt
			want int
		}{
			{map[string]any{"name": "X", "category": "Home"}, bearer(e.writeKey), 403},
			{map[string]any{"name": "X", "category": "Home", "price": -2}, bearer(e.server), 400},
			{map[string]any{"name": "X", "category": "Home", "colour": "red"}, bearer(e.server), 400},
			{`{"name":`, bearer(e.server), 400},
		} {
			if code, out, _ := e.do("PUT", "/v1/catalog/items/X-1", c.body, c.opt); code != c.want {
				t.Errorf("PUT %v: %d %v, want %d", c.body, code, out, c.want)
			}
		}

		// An item flagged sensitive on the item (its category is not)
		// makes events about it sensitive: not stored for personalisation
		// without the separate grant.
		e.do("PUT", "/v1/catalog/items/P-9", map[string]any{"name": "Prayer beads", "category": "Gifts", "sensitive": true}, bearer(e.server))
		e.grant("kim-1", map[string]any{"analytics": true, "personalization": true})
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "kim-1"}, map[string]any{"properties": map[string]any{"product_id": "P-9", "category": "Gifts"}})})
		if evs := eventsOf(e.read("support", "userId=kim-1")); len(evs) != 0 {
			t.Errorf("a view of an item flagged sensitive was stored without the separate grant: %v", purposesOf(evs[0]))
		}
		if dropped(e.stats(), collect.ReasonSensitive) != 1 {
			t.Errorf("stats = %v, want one dropped as sensitive", e.stats())
		}

		// Items named by events join the catalogue, ids unchanged; what the
		// shop put is not overwritten.
		e.batch(e.server, []map[string]any{
			productViewed(map[string]any{"userId": "kim-1"}, map[string]any{"properties": map[string]any{"product_id": "NEW-007", "name": "Tin robot", "category": "Toys", "price": 9.5}}),
			productViewed(map[string]any{"userId": "kim-1"}, map[string]any{"properties": map[string]any{"product_id": "85123A", "name": "renamed by an event", "category": "Other"}}),
			{"type": "track", "event": "Order Completed", "userId": "kim-1", "messageId": nextMessageID(), "properties": map[string]any{"order_id": "o1", "currency": "eur",
				"products": []any{map[string]any{"product_id": "ord-a", "name": "A"}, map[string]any{"product_id": "ord-b"}}}},
		})
		if err := e.app.Catalog.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		it, err := e.app.Catalog.Item(ctx, "NEW-007")
		if err != nil || it.Name != "Tin robot" || it.Category != "Toys" || it.PriceCents != 950 || it.Source != "event" {
			t.Errorf("item from an event: %+v %v", it, err)
		}
		if it, _ := e.app.Catalog.Item(ctx, "85123A"); it.Name != "White hanging heart" || it.Source != "api" {
			t.Errorf("an event overwrote the shop's item: %+v", it)
		}
		for _, id := range []string{"ord-a", "ord-b"} {
			if it, err := e.app.Catalog.Item(ctx, id); err != nil || it.Currency != "EUR" {
				t.Errorf("order product %s: %+v %v", id, it, err)
			}
		}
	})
}
