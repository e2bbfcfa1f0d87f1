package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/httpapi"
	"github.com/tact-cdp/tact/internal/testenv"
	"github.com/tact-cdp/tact/internal/vault"
)

var msgSeq = func() *atomic.Int64 { var n atomic.Int64; n.Store(time.Now().UnixNano()); return &n }()

func nextMessageID() string {
	return fmt.Sprintf("msg-%d", msgSeq.Add(1))
}

// productViewed is a Product Viewed event as analytics-node sends it.
func productViewed(ids map[string]any, extra map[string]any) map[string]any {
	ev := map[string]any{
		"type": "track", "event": "Product Viewed", "messageId": nextMessageID(),
		"timestamp":  time.Now().UTC().Format(time.RFC3339Nano),
		"properties": map[string]any{"product_id": "85123A", "name": "White hanging heart", "price": 2.55, "category": "Home décor/Candles"},
		"context":    map[string]any{"library": map[string]any{"name": "analytics-node", "version": "6.2.0"}, "ip": "81.169.145.94", "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"},
	}
	for k, v := range ids {
		ev[k] = v
	}
	for k, v := range extra {
		ev[k] = v
	}
	return ev
}

// batch posts events with key and fails unless the answer is 200.
func (e *env) batch(key string, events []map[string]any, opts ...reqOpt) map[string]any {
	e.t.Helper()
	code, out, _ := e.do("POST", "/v1/batch", map[string]any{"batch": events, "sentAt": time.Now().UTC().Format(time.RFC3339Nano)}, append([]reqOpt{basic(key)}, opts...)...)
	if code != 200 {
		e.t.Fatalf("POST /v1/batch: %d %v", code, out)
	}
	return out
}

// grant records a server-side decision for a userId.
func (e *env) grant(userID string, choices map[string]any) string {
	e.t.Helper()
	out := e.decide(201, map[string]any{"userId": userID, "method": "api", "choices": choices}, basic(e.server))
	return out["receiptId"].(string)
}

// read is GET /admin/api/subjects under an access purpose; nil when the
// shopper is unknown.
func (e *env) read(purpose, query string) map[string]any {
	e.t.Helper()
	code, out, _ := e.do("GET", "/admin/api/subjects?"+query, nil, bearer(e.admin), header("X-Tact-Purpose", purpose))
	switch code {
	case 200:
		return out
	case 404:
		return nil
	}
	e.t.Fatalf("GET /admin/api/subjects?%s: %d %v", query, code, out)
	return nil
}

func eventsOf(out map[string]any) []map[string]any {
	if out == nil {
		return nil
	}
	var evs []map[string]any
	for _, e := range out["events"].([]any) {
		evs = append(evs, e.(map[string]any))
	}
	return evs
}

func purposesOf(ev map[string]any) []string {
	var ps []string
	for _, p := range ev["purposes"].([]any) {
		ps = append(ps, p.(string))
	}
	return ps
}

func (e *env) stats() map[string]any {
	e.t.Helper()
	code, out, _ := e.do("GET", "/admin/api/stats", nil, bearer(e.admin))
	if code != 200 {
		e.t.Fatalf("stats: %d %v", code, out)
	}
	return out["events"].(map[string]any)
}

func dropped(st map[string]any, reason string) float64 {
	n, _ := st["dropped"].(map[string]any)[reason].(float64)
	return n
}

func (e *env) strip() {
	e.t.Helper()
	if _, _, err := e.app.Collect.NewStripper().Pass(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func TestEventsWithoutConsentAreNotStored(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "nobody-asked"}, nil)})
		e.batch(e.writeKey, []map[string]any{productViewed(map[string]any{"anonymousId": "browser-never-asked"}, nil)})
		if got := e.read("support", "userId=nobody-asked"); got != nil {
			t.Errorf("a shopper without consent is stored: %v", got)
		}
		if got := e.read("support", "anonymousId=browser-never-asked"); got != nil {
			t.Errorf("a browser without consent is stored: %v", got)
		}
		st := e.stats()
		if st["received"] != 2.0 || st["stored"] != 0.0 || dropped(st, collect.ReasonNoConsent) != 2 {
			t.Errorf("stats = %v, want 2 received, 0 stored, 2 dropped for no consent", st)
		}
	})
}

func TestProductViewedStoredUnderGrantedPurposeWithItsReceipt(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		receipt := e.grant("u-analytics", map[string]any{"analytics": true, "personalization": false})
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "u-analytics"}, nil)})
		evs := eventsOf(e.read("support", "userId=u-analytics"))
		if len(evs) != 1 {
			t.Fatalf("stored events = %v, want 1", evs)
		}
		if got := purposesOf(evs[0]); !slices.Equal(got, []string{"analytics"}) {
			t.Errorf("purposes = %v, want [analytics]", got)
		}
		if evs[0]["receiptId"] != receipt {
			t.Errorf("receiptId = %v, want %s", evs[0]["receiptId"], receipt)
		}
		if evs[0]["event"] != "Product Viewed" {
			t.Errorf("event = %v", evs[0]["event"])
		}
		if got := eventsOf(e.read("personalization", "userId=u-analytics")); len(got) != 0 {
			t.Errorf("a read for personalization sees %d events stored for analytics only", len(got))
		}
		if got := eventsOf(e.read("analytics", "userId=u-analytics")); len(got) != 1 {
			t.Errorf("a read for analytics sees %d events, want 1", len(got))
		}
	})
}

func TestInEventSignalsNarrowThePurposes(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.grant("u-signals", map[string]any{"analytics": true, "personalization": true, "advertising": true})
		segmentPrefs := map[string]any{"consent": map[string]any{"categoryPreferences": map[string]any{"Analytics": false, "Advertising": true}},
			"ip": "81.169.145.94"}
		rudder := map[string]any{"consentManagement": map[string]any{"provider": "oneTrust", "allowedConsentIds": []any{"C0002", "C0003"}, "deniedConsentIds": []any{"C0004"}}}
		e.batch(e.server, []map[string]any{
			productViewed(map[string]any{"userId": "u-signals"}, map[string]any{"context": segmentPrefs}),
			productViewed(map[string]any{"userId": "u-signals"}, map[string]any{"context": rudder}),
			productViewed(map[string]any{"userId": "u-signals"}, nil),
		})
		evs := eventsOf(e.read("support", "userId=u-signals"))
		if len(evs) != 3 {
			t.Fatalf("stored %d events, want 3", len(evs))
		}
		want := [][]string{{"advertising", "personalization"}, {"analytics", "personalization"}, {"advertising", "analytics", "personalization"}}
		for i, ev := range evs {
			if got := purposesOf(ev); !slices.Equal(got, want[i]) {
				t.Errorf("event %d purposes = %v, want %v", i, got, want[i])
			}
		}
	})
}

func TestGPCIsARecordedReceiptAndHoldsForLaterServerEvents(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.decide(201, map[string]any{"anonymousId": "gpc-browser", "method": "banner",
			"choices": map[string]any{"analytics": true, "personalization": true, "advertising": true, "sale_share": true}}, basic(e.writeKey))
		before := e.ledgerSize()
		e.batch(e.writeKey, []map[string]any{productViewed(map[string]any{"anonymousId": "gpc-browser"}, nil)}, header("Sec-GPC", "1"))
		if e.ledgerSize() != before+1 {
			t.Errorf("ledger grew by %d, want one GPC receipt", e.ledgerSize()-before)
		}
		// Later, from the shop's backend, without any GPC header.
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"anonymousId": "gpc-browser"}, nil)})
		evs := eventsOf(e.read("support", "anonymousId=gpc-browser"))
		if len(evs) != 2 {
			t.Fatalf("stored %d events, want 2", len(evs))
		}
		for i, ev := range evs {
			if got := purposesOf(ev); !slices.Equal(got, []string{"analytics", "personalization"}) {
				t.Errorf("event %d purposes = %v, want advertising and sale_share removed by GPC", i, got)
			}
		}
		if granted(e.state("anonymousId=gpc-browser", basic(e.server)), "advertising") {
			t.Error("advertising is still granted after GPC")
		}
	})
}

func TestBrowserIdentifyWithoutUserHashMergesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.decide(201, map[string]any{"userId": "victim", "anonymousId": "victim-browser", "method": "api",
			"choices": map[string]any{"analytics": true, "personalization": true}}, basic(e.server))
		e.decide(201, map[string]any{"anonymousId": "attacker-browser", "method": "banner", "choices": map[string]any{"analytics": true}}, basic(e.writeKey))
		victim := e.read("support", "userId=victim")["subject"]
		identify := map[string]any{"type": "identify", "messageId": nextMessageID(), "anonymousId": "attacker-browser", "userId": "victim",
			"traits": map[string]any{"email": "attacker@example.org", "name": "Not the victim"}}
		e.batch(e.writeKey, []map[string]any{identify, productViewed(map[string]any{"anonymousId": "attacker-browser", "userId": "victim"}, nil)})

		if got := e.read("support", "userId=victim"); got["subject"] != victim || len(eventsOf(got)) != 0 {
			t.Errorf("the victim's profile changed: subject %v (was %v), %d events", got["subject"], victim, len(eventsOf(got)))
		}
		att := e.read("support", "anonymousId=attacker-browser")
		if att["subject"] == victim {
			t.Fatal("the attacker's browser was merged into the victim")
		}
		if len(eventsOf(att)) != 2 {
			t.Errorf("attacker profile has %d events, want both (attributed to the browser's own profile)", len(eventsOf(att)))
		}
		if tr, _ := att["traits"].(map[string]any); tr["name"] != "Not the victim" {
			t.Errorf("traits = %v, want them on the browser's own profile", att["traits"])
		}
		if got := e.read("support", "email=attacker@example.org"); got != nil {
			t.Error("an untrusted identify linked an email")
		}

		// The positive control: the same call with a valid userHash links.
		identify["messageId"] = nextMessageID()
		identify["context"] = map[string]any{"userHash": auth.UserHash(e.userHash, "victim")}
		identify["anonymousId"] = "victim-browser"
		e.batch(e.writeKey, []map[string]any{identify})
		if got := e.read("support", "email=attacker@example.org"); got == nil || got["subject"] != victim {
			t.Errorf("a trusted identify did not link the email to the user: %v", got)
		}
	})
}

func TestSensitiveItemNeedsTheSeparateGrant(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.grant("u-health", map[string]any{"analytics": true, "personalization": true})
		vitamins := map[string]any{"properties": map[string]any{"product_id": "VIT-1", "category": "Health/Vitamins", "price": 9.5}}
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "u-health"}, vitamins)})
		if evs := eventsOf(e.read("support", "userId=u-health")); len(evs) != 0 {
			t.Errorf("a sensitive item's view was stored without the separate grant: %v", purposesOf(evs[0]))
		}
		if dropped(e.stats(), collect.ReasonSensitive) != 1 {
			t.Errorf("stats = %v, want one dropped as sensitive", e.stats())
		}
		e.grant("u-health", map[string]any{"sensitive_personalization": true})
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "u-health"}, vitamins)})
		evs := eventsOf(e.read("support", "userId=u-health"))
		if len(evs) != 1 || !slices.Equal(purposesOf(evs[0]), []string{"sensitive_personalization"}) {
			t.Fatalf("with the separate grant: %v, want one event under sensitive_personalization only", evs)
		}
		if got := eventsOf(e.read("personalization", "userId=u-health")); len(got) != 0 {
			t.Error("a read for ordinary personalization sees the sensitive event")
		}
	})
}

func TestWithdrawalHidesEventsAtOnceAndTheJobStripsThem(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.grant("u-withdraw", map[string]any{"analytics": true, "personalization": true})
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "u-withdraw"}, nil)})
		if n := len(eventsOf(e.read("personalization", "userId=u-withdraw"))); n != 1 {
			t.Fatalf("before withdrawal: %d events, want 1", n)
		}
		e.grant("u-withdraw", map[string]any{"personalization": false})
		if n := len(eventsOf(e.read("personalization", "userId=u-withdraw"))); n != 0 {
			t.Errorf("after withdrawal a personalization read still sees %d events", n)
		}
		e.strip()
		evs := eventsOf(e.read("support", "userId=u-withdraw"))
		if len(evs) != 1 || !slices.Equal(purposesOf(evs[0]), []string{"analytics"}) {
			t.Fatalf("after the job: %v, want one event under analytics only", evs)
		}
		e.grant("u-withdraw", map[string]any{"analytics": false})
		e.strip()
		if evs := eventsOf(e.read("support", "userId=u-withdraw")); len(evs) != 0 {
			t.Errorf("an event left with no purpose was kept: %v", evs)
		}
	})
}

func TestSuppressedShopperEventsAreDropped(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.grant("u-erased", map[string]any{"analytics": true})
		erasedAt := time.Now()
		if err := e.app.Collect.Suppress(context.Background(), []collect.LinkValue{{Kind: vault.KindUserID, Value: "u-erased"}}, erasedAt, erasedAt.Add(365*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "u-erased"}, nil)})
		if evs := eventsOf(e.read("support", "userId=u-erased")); len(evs) != 0 {
			t.Errorf("a suppressed shopper's event was stored")
		}
		if dropped(e.stats(), collect.ReasonSuppressed) != 1 {
			t.Errorf("stats = %v, want one dropped as suppressed", e.stats())
		}
		time.Sleep(2 * time.Millisecond)
		e.grant("u-erased", map[string]any{"analytics": true}) // a receipt after the erasure lifts it
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "u-erased"}, nil)})
		if evs := eventsOf(e.read("support", "userId=u-erased")); len(evs) != 1 {
			t.Errorf("after a new consent: %d events, want 1", len(evs))
		}
	})
}

func TestDuplicateMessageIDsAreStoredOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.grant("u-dup", map[string]any{"analytics": true})
		ev := productViewed(map[string]any{"userId": "u-dup"}, nil)
		e.batch(e.server, []map[string]any{ev, ev})
		e.batch(e.server, []map[string]any{ev})
		// The same messageId from another key is another stream.
		other := productViewed(map[string]any{"userId": "u-dup"}, nil)
		e.batch(e.server, []map[string]any{other})
		if n := len(eventsOf(e.read("support", "userId=u-dup"))); n != 2 {
			t.Errorf("stored %d events, want 2", n)
		}
		if st := e.stats(); dropped(st, collect.ReasonDuplicate) != 2 || st["stored"] != 2.0 {
			t.Errorf("stats = %v, want 2 stored and 2 duplicates", st)
		}
	})
}

func TestPlantedIPAndEmailNeverStoredInClear(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		const ip, email = "81.169.145.94", "planted.shopper.7731@example.org"
		e.grant("u-planted", map[string]any{"analytics": true, "personalization": true, "marketing_email": false})
		identify := map[string]any{"type": "identify", "userId": "u-planted", "messageId": nextMessageID(),
			"traits":  map[string]any{"email": email, "plan": "gold"},
			"context": map[string]any{"ip": ip, "page": map[string]any{"url": "https://shop.example/account?email=" + email}}}
		page := map[string]any{"type": "page", "userId": "u-planted", "messageId": nextMessageID(), "name": "Account",
			"properties": map[string]any{"url": "https://shop.example/orders/12345?email=" + email, "referrer": "https://mail.example.org/?to=" + email},
			"context":    map[string]any{"ip": ip}}
		e.batch(e.server, []map[string]any{identify, page, productViewed(map[string]any{"userId": "u-planted"}, nil)})
		out := e.read("support", "userId=u-planted")
		evs := eventsOf(out)
		if len(evs) != 3 {
			t.Fatalf("stored %d events, want 3", len(evs))
		}
		ctx := evs[2]["payload"].(map[string]any)["context"].(map[string]any)
		if ctx["country"] != "DE" || ctx["browser"] != "Chrome" || ctx["device"] != "desktop" {
			t.Errorf("minimised context = %v, want country DE, Chrome, desktop", ctx)
		}
		if tr := out["traits"].(map[string]any); tr["email"] != email {
			t.Errorf("the sealed traits do not open: %v", tr)
		}
		if props := evs[1]["payload"].(map[string]any)["properties"].(map[string]any); props["path"] != "/orders/:id" || props["referrer"] != "mail.example.org" {
			t.Errorf("page properties = %v, want a templated path and a referrer host", props)
		}
		e.app.Store.Close() // flush everything to the files
		dump := e.inst.Dump()
		for _, secret := range []string{ip, email, "u-planted"} {
			if bytes.Contains(dump, []byte(secret)) {
				t.Errorf("%q is in the database in clear", secret)
			}
			if strings.Contains(e.logs.String(), secret) {
				t.Errorf("%q is in the logs", secret)
			}
		}
	})
}

func TestGzipBatchLabelledTextPlain(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.grant("u-gzip", map[string]any{"analytics": true})
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		fmt.Fprintf(zw, `{"batch":[{"type":"track","event":"Product Viewed","userId":"u-gzip","messageId":%q}],"writeKey":%q}`, nextMessageID(), e.server)
		zw.Close()
		code, out, _ := e.do("POST", "/v1/batch", buf.Bytes(), header("Content-Type", "text/plain"))
		if code != 200 || out["success"] != true {
			t.Fatalf("gzip text/plain batch with writeKey in the body: %d %v", code, out)
		}
		if n := len(eventsOf(e.read("support", "userId=u-gzip"))); n != 1 {
			t.Errorf("stored %d, want 1", n)
		}
	})
}

func TestMeasurementCountsVisitorsWithoutConsentAndSuppressesSmallCells(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var evs []map[string]any
		// 6 browsers that never consented view a product; 4 of them order.
		for i := range 6 {
			anon := fmt.Sprintf("measure-browser-%d", i)
			evs = append(evs, map[string]any{"type": "page", "anonymousId": anon, "messageId": nextMessageID(), "name": "Home",
				"context": map[string]any{"page": map[string]any{"path": "/products/123"}, "ip": "81.169.145.94"}})
			evs = append(evs, productViewed(map[string]any{"anonymousId": anon}, nil))
			if i < 4 {
				evs = append(evs, map[string]any{"type": "track", "event": "Order Completed", "anonymousId": anon, "messageId": nextMessageID(),
					"properties": map[string]any{"order_id": fmt.Sprintf("o%d", i), "revenue": 10.5}})
			}
		}
		// One who rejected everything objects to measurement too.
		e.decide(201, map[string]any{"anonymousId": "measure-objector", "method": "banner", "choices": map[string]any{"analytics": false, "personalization": false}}, basic(e.writeKey))
		evs = append(evs, productViewed(map[string]any{"anonymousId": "measure-objector"}, nil))
		e.batch(e.writeKey, evs)
		if got := e.read("support", "anonymousId=measure-browser-0"); got != nil {
			t.Fatal("a browser without consent was stored")
		}
		day := time.Now().UTC().Format(time.DateOnly)
		code, out, _ := e.do("GET", "/admin/api/reports/daily?from="+day+"&to="+day, nil, bearer(e.admin))
		if code != 200 {
			t.Fatalf("report: %d %v", code, out)
		}
		var total, path map[string]any
		for _, r := range out["rows"].([]any) {
			row := r.(map[string]any)
			switch {
			case row["dim"] == "total":
				total = row
			case row["dim"] == "path" && row["value"] == "/products/:id":
				path = row
			}
		}
		if total == nil || total["productViews"] != 6.0 || total["visits"] != 6.0 || total["pageviews"] != 6.0 {
			t.Errorf("total = %v, want 6 visits, 6 pageviews, 6 product views (the objector not counted)", total)
		}
		if total["orders"] != nil || total["revenueCents"] != nil {
			t.Errorf("orders and revenue of 4 buyers are reported: %v", total)
		}
		if path == nil || path["pageviews"] != 6.0 {
			t.Errorf("path row = %v", path)
		}
		if out["mode"] != "audience" {
			t.Errorf("mode = %v", out["mode"])
		}
	})
}

func TestIngestBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.grant("u-bad", map[string]any{"analytics": true})
		big := `{"batch":[{"type":"track","event":"x","userId":"u-bad","properties":{"pad":"` + strings.Repeat("a", 510<<10) + `"}}]}`
		for _, c := range []struct {
			name, body string
			opts       []reqOpt
			want       int
		}{
			{"over 500 KB", big, []reqOpt{basic(e.server)}, 413},
			{"not JSON", "batch=1", []reqOpt{basic(e.server)}, 400},
			{"nested too deep", `{"batch":[{"type":"track","event":"x","userId":"u","properties":` + strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40) + `}]}`, []reqOpt{basic(e.server)}, 400},
			{"invalid UTF-8", "{\"batch\":[{\"type\":\"track\",\"event\":\"\xff\",\"userId\":\"u\"}]}", []reqOpt{basic(e.server)}, 400},
			{"unknown key", `{"batch":[]}`, []reqOpt{basic("tact_wk_NOTAREALKEY")}, 401},
			{"no key", `{"batch":[]}`, nil, 401},
		} {
			code, out, _ := e.do("POST", "/v1/batch", c.body, c.opts...)
			if code != c.want {
				t.Errorf("%s: %d %v, want %d", c.name, code, out, c.want)
			}
			if code >= 400 && out["error"] == nil {
				t.Errorf("%s: no error object: %v", c.name, out)
			}
		}
		// A bad event in a batch is rejected by index; the good ones are stored.
		good := productViewed(map[string]any{"userId": "u-bad"}, nil)
		code, out, _ := e.do("POST", "/v1/batch", map[string]any{"batch": []any{
			map[string]any{"type": "hover", "userId": "u-bad"}, good, map[string]any{"type": "track", "userId": "u-bad"},
		}}, basic(e.server))
		rej, _ := out["rejected"].([]any)
		if code != 200 || len(rej) != 2 || rej[0].(map[string]any)["index"] != 0.0 || rej[1].(map[string]any)["index"] != 2.0 {
			t.Fatalf("partial batch: %d %v", code, out)
		}
		if n := len(eventsOf(e.read("support", "userId=u-bad"))); n != 1 {
			t.Errorf("stored %d events of the partial batch, want the good one", n)
		}
		if st := e.stats(); dropped(st, collect.ReasonRejected) != 2 {
			t.Errorf("stats = %v, want 2 rejected", st)
		}
	})
}

func TestBrowserSDKDialect(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		const origin = "https://shop.example"
		code, _, h := e.do("OPTIONS", "/v1/t", nil, header("Origin", origin), header("Access-Control-Request-Method", "POST"),
			header("Access-Control-Request-Headers", "authorization,content-type,x-retry-count"))
		allow := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
		if code != 204 || h.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(allow, "authorization") || !strings.Contains(allow, "x-retry-count") {
			t.Fatalf("preflight: %d %v", code, h)
		}
		e.decide(201, map[string]any{"anonymousId": "next-browser", "method": "banner", "choices": map[string]any{"analytics": true}}, basic(e.writeKey))
		body := fmt.Sprintf(`{"type":"track","event":"Product Viewed","anonymousId":"next-browser","messageId":%q,"writeKey":%q,"properties":{"product_id":"1"},"context":{"library":{"name":"analytics.js","version":"npm:next-1.70.0"}},"_metadata":{"bundled":["Segment.io"]}}`, nextMessageID(), e.writeKey)
		code, out, h := e.do("POST", "/v1/t", body, basic(e.writeKey), header("Content-Type", "text/plain"), header("Origin", origin))
		if code != 200 || out["success"] != true {
			t.Fatalf("POST /v1/t: %d %v", code, out)
		}
		if h.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "Retry-After") {
			t.Errorf("POST answer CORS headers: %v", h)
		}
		if code, _, h := e.do("POST", "/v1/t", body, basic(e.writeKey), header("Origin", "https://evil.example")); code != 200 || h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("an unregistered origin got %q", h.Get("Access-Control-Allow-Origin"))
		}
		if n := len(eventsOf(e.read("support", "anonymousId=next-browser"))); n != 1 {
			t.Errorf("stored %d, want 1 (the replay is a duplicate)", n)
		}
	})
}

func TestEventsRateLimitedPerWriteKey(t *testing.T) {
	for _, st := range storesForOne() {
		e := newEnvWith(t, st, func(s *httpapi.Server) { s.RateLimitPerKey = 1 })
		limited := false
		for i := 0; i < 15 && !limited; i++ {
			code, _, h := e.do("POST", "/v1/batch", map[string]any{"batch": []any{productViewed(map[string]any{"anonymousId": "rl"}, nil)}}, basic(e.writeKey))
			if code == 429 {
				limited = true
				if h.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			}
		}
		if !limited {
			t.Error("15 requests within the window at a limit of 1/s were all accepted")
		}
	}
}

// storesForOne is the SQLite store alone, for tests of the HTTP layer only.
func storesForOne() []testenv.Store { return testenv.Stores()[:1] }

func TestWithdrawalGatesTheVeryNextEvent(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.grant("u-next", map[string]any{"analytics": true, "personalization": true})
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "u-next"}, nil)}) // the gate now has the state cached
		e.grant("u-next", map[string]any{"personalization": false})
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "u-next"}, nil)})
		evs := eventsOf(e.read("support", "userId=u-next"))
		if len(evs) != 2 || !slices.Equal(purposesOf(evs[1]), []string{"analytics"}) {
			t.Fatalf("the event after the withdrawal: %v, want it stored under analytics only", evs)
		}
		// An identify linking a new browser to the user, then that browser's events follow the user's consent.
		e.batch(e.server, []map[string]any{{"type": "identify", "userId": "u-next", "anonymousId": "u-next-phone", "messageId": nextMessageID()}})
		e.batch(e.writeKey, []map[string]any{productViewed(map[string]any{"anonymousId": "u-next-phone"}, nil)})
		if got := e.read("support", "anonymousId=u-next-phone"); got == nil || len(eventsOf(got)) != 4 {
			t.Errorf("after the link the phone's event is not the user's: %v", got)
		}
	})
}

func TestRetentionDeletesEventsPastTheirCategoriesRetention(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.grant("u-old", map[string]any{"analytics": true, "personalization": true})
		e.grant("u-old", map[string]any{"sensitive_personalization": true})
		at := func(days int) map[string]any {
			return map[string]any{"timestamp": time.Now().UTC().AddDate(0, 0, -days).Format(time.RFC3339)}
		}
		vitamins := map[string]any{"product_id": "VIT-1", "category": "Health/Vitamins"}
		old := productViewed(map[string]any{"userId": "u-old"}, at(401))    // browsing keeps 400 days
		recent := productViewed(map[string]any{"userId": "u-old"}, at(399)) // kept
		oldHealth := productViewed(map[string]any{"userId": "u-old"}, at(181))
		oldHealth["properties"] = vitamins // health keeps 180 days
		recentHealth := productViewed(map[string]any{"userId": "u-old"}, at(179))
		recentHealth["properties"] = vitamins
		e.batch(e.server, []map[string]any{old, recent, oldHealth, recentHealth})
		if n := len(eventsOf(e.read("support", "userId=u-old"))); n != 4 {
			t.Fatalf("stored %d, want 4", n)
		}
		deleted, err := e.app.Collect.Retention(context.Background(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, ev := range eventsOf(e.read("support", "userId=u-old")) {
			kept = append(kept, ev["messageId"].(string))
		}
		want := []string{recent["messageId"].(string), recentHealth["messageId"].(string)}
		if deleted != 2 || !slices.Equal(kept, want) {
			t.Errorf("retention deleted %d, kept %v, want %v", deleted, kept, want)
		}
	})
}

// Under an opt-out regime (US state laws) events of a shopper who has not
// decided anything are stored for the purposes that start granted — never
// sensitive ones, and never for an erased shopper; a later opt-out applies.
func TestOptOutRegimeStoresDefaultGrantedPurposes(t *testing.T) {
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			t.Parallel()
			m := datamap.Default()
			m.DefaultRegime = datamap.ModelOptOut
			e := newEnvMap(t, st, m, nil)
			e.batch(e.writeKey, []map[string]any{productViewed(map[string]any{"anonymousId": "us-browser"}, nil)})
			evs := eventsOf(e.read("support", "anonymousId=us-browser"))
			if len(evs) != 1 || !slices.Equal(purposesOf(evs[0]), []string{"advertising", "analytics", "personalization"}) {
				t.Fatalf("opt-out default: %v, want the event under the default-granted purposes it serves", evs)
			}
			if evs[0]["receiptId"] != nil {
				t.Errorf("receiptId = %v, want none (no decision was made)", evs[0]["receiptId"])
			}
			// Sensitive items are never stored by default.
			vit := productViewed(map[string]any{"anonymousId": "us-browser"}, nil)
			vit["properties"] = map[string]any{"product_id": "VIT-1", "category": "Health"}
			e.batch(e.writeKey, []map[string]any{vit})
			if n := len(eventsOf(e.read("support", "anonymousId=us-browser"))); n != 1 {
				t.Errorf("a sensitive item was stored by default (%d events)", n)
			}
			// "Do not sell or share": later events lose advertising at once.
			e.decide(201, map[string]any{"anonymousId": "us-browser", "method": "api", "choices": map[string]any{"advertising": false, "sale_share": false}}, basic(e.server))
			e.batch(e.writeKey, []map[string]any{productViewed(map[string]any{"anonymousId": "us-browser"}, nil)})
			evs = eventsOf(e.read("support", "anonymousId=us-browser"))
			if len(evs) != 2 || !slices.Equal(purposesOf(evs[1]), []string{"analytics", "personalization"}) {
				t.Errorf("after the opt-out: %v", evs)
			}
			// An erased shopper is not re-created by their browser's events.
			erasedAt := time.Now()
			if err := e.app.Collect.Suppress(context.Background(), []collect.LinkValue{{Kind: vault.KindAnonymousID, Value: "erased-browser"}}, erasedAt, erasedAt.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			e.batch(e.writeKey, []map[string]any{productViewed(map[string]any{"anonymousId": "erased-browser"}, nil)})
			if got := e.read("support", "anonymousId=erased-browser"); got != nil {
				t.Errorf("an erased shopper was re-created: %v", got)
			}
		})
	}
}

// stripPass runs one pass of the strip job.
func stripPass(t *testing.T, job *collect.Stripper) {
	t.Helper()
	if _, _, err := job.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A change stamped before the strip job's cursor (made before, committed
// after the job's last pass) is still stripped by the next pass.
func TestStripJobCatchesChangesCommittedOutOfClockOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		job := e.app.Collect.NewStripper()
		pass := func() { t.Helper(); stripPass(t, job) }
		e.grant("u-late", map[string]any{"analytics": true, "personalization": true})
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "u-late"}, nil)})
		pass()
		e.grant("u-other", map[string]any{"analytics": true}) // moves the cursor on
		pass()
		e.grant("u-late", map[string]any{"personalization": false})
		// Stamp the withdrawal 5 s in the past, as a slow transaction would.
		q := "UPDATE subjects SET updated_at = updated_at - 5000000 WHERE id = ?"
		if e.inst.Dollar {
			q = strings.Replace(q, "?", "$1", 1)
		}
		e.inst.Exec(q, e.read("support", "userId=u-late")["subject"])
		pass()
		evs := eventsOf(e.read("support", "userId=u-late"))
		if len(evs) != 1 || !slices.Equal(purposesOf(evs[0]), []string{"analytics"}) {
			t.Errorf("after the pass: %v, want the event stripped to analytics", evs)
		}
	})
}

// A purpose granted and withdrawn again between two passes of the strip job
// leaves no trace on the events stored meanwhile: the job cannot tell from
// the subject's current state, which looks as at its last visit, so it must
// not skip the subject.
func TestStripJobStripsAGrantWithdrawnBetweenPasses(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		job := e.app.Collect.NewStripper()
		e.grant("u-brief", map[string]any{"analytics": true})
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "u-brief"}, nil)})
		stripPass(t, job)

		e.grant("u-brief", map[string]any{"personalization": true})
		e.batch(e.server, []map[string]any{productViewed(map[string]any{"userId": "u-brief"}, nil)})
		e.grant("u-brief", map[string]any{"personalization": false})
		stripPass(t, job)

		// Read the store as it is, not through the read-time intersection.
		subject := e.read("support", "userId=u-brief")["subject"].(string)
		evs, err := e.app.Store.Events().SubjectEvents(context.Background(), subject, ^uint64(0), 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		bits, err := e.app.Store.Events().PurposeBits(context.Background(), []string{"personalization"})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 {
			t.Fatalf("%d events stored, want 2", len(evs))
		}
		for _, ev := range evs {
			if ev.Purposes&(1<<bits["personalization"]) != 0 {
				t.Errorf("event %d still stored for personalization after the withdrawal and a pass", ev.ID)
			}
		}
	})
}

// One pass strips every changed subject, however many: more than a page of
// changes and many chunks of them.
func TestStripJobStripsEveryChangedSubject(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		const shoppers = 520 // more than a page (500) of changes
		job := e.app.Collect.NewStripper()
		var events []map[string]any
		for i := range shoppers {
			user := fmt.Sprintf("u-many-%d", i)
			e.grant(user, map[string]any{"analytics": true, "personalization": true})
			events = append(events, productViewed(map[string]any{"userId": user}, nil))
		}
		for len(events) > 0 {
			n := min(len(events), 100)
			e.batch(e.server, events[:n])
			events = events[n:]
		}
		stripPass(t, job) // the grants: nothing to strip
		for i := range shoppers {
			e.grant(fmt.Sprintf("u-many-%d", i), map[string]any{"personalization": false})
		}
		stripped, deleted, err := job.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if stripped != shoppers || deleted != 0 {
			t.Errorf("the pass stripped %d events and deleted %d, want %d and 0", stripped, deleted, shoppers)
		}
		bits, err := e.app.Store.Events().PurposeBits(context.Background(), []string{"personalization"})
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, shoppers / 2, shoppers - 1} {
			subject := e.read("support", fmt.Sprintf("userId=u-many-%d", i))["subject"].(string)
			evs, err := e.app.Store.Events().SubjectEvents(context.Background(), subject, ^uint64(0), 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Purposes&(1<<bits["personalization"]) != 0 {
				t.Errorf("u-many-%d: %d events, purposes %b; want one, without personalization", i, len(evs), evs[0].Purposes)
			}
		}
	})
}
