package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Opt-outs, objections, withdrawals and limits take effect on submission,
// without verification (Art. 7(3), Art. 21, CCPA §1798.120/121), and the
// next event and read see them.
func TestStoppingRequestsTakeEffectOnSubmission(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		s.customer("fay-1", "fay@example.com", 1)
		e.grant("fay-1", map[string]any{"advertising": true, "sale_share": true, "marketing_email": true})

		out := s.file(202, map[string]any{"type": "opt_out_sale", "email": "fay@example.com"})
		if out["status"] != "completed" || len(out["receiptIds"].([]any)) == 0 {
			t.Fatalf("opt_out_sale: %v", out)
		}
		st := e.state("userId=fay-1", bearer(e.server))
		if granted(st, "sale_share") || granted(st, "advertising") || !granted(st, "analytics") {
			t.Errorf("after opt_out_sale: %v", st)
		}
		s.work()
		if m := s.nextMail(); m.To[0] != "fay@example.com" || m.Subject != "Your request has taken effect" {
			t.Errorf("confirmation mail: %v %q", m.To, m.Subject)
		}

		// A withdrawal of one purpose by userId alone needs no credential.
		s.file(202, map[string]any{"type": "withdraw", "userId": "fay-1", "purposes": []any{"analytics"}})
		if st := e.state("userId=fay-1", bearer(e.server)); granted(st, "analytics") || !granted(st, "personalization") {
			t.Errorf("after withdrawing analytics: %v", st)
		}
		if evs := eventsOf(e.read("analytics", "userId=fay-1")); len(evs) != 0 {
			t.Errorf("an analytics read after the withdrawal sees %d events", len(evs))
		}
		s.batch(s.server, []map[string]any{productViewed(map[string]any{"userId": "fay-1"}, nil)})
		evs := eventsOf(e.read("support", "userId=fay-1"))
		last := purposesOf(evs[len(evs)-1])
		if len(last) != 1 || last[0] != "personalization" {
			t.Errorf("the next event is stored for %v, want [personalization]", last)
		}

		s.file(202, map[string]any{"type": "object", "userId": "fay-1"})
		if st := e.state("userId=fay-1", bearer(e.server)); granted(st, "marketing_email") {
			t.Errorf("objection left direct marketing on: %v", st)
		}
		s.file(202, map[string]any{"type": "limit_sensitive", "userId": "fay-1"})
		if st := e.state("userId=fay-1", bearer(e.server)); granted(st, "sensitive_personalization") {
			t.Errorf("limit_sensitive: %v", st)
		}
		if code, _, _ := s.do("POST", "/v1/requests", map[string]any{"type": "withdraw", "userId": "fay-1", "purposes": []any{"necessary"}}); code != 400 {
			t.Errorf("withdrawing necessary: %d, want 400", code)
		}
	})
}

// Restriction (Art. 18): the data is kept, only storage continues.
func TestRestrictionKeepsDataAndStopsProcessing(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		s.customer("gus-1", "gus@example.com", 3)
		out := s.file(202, map[string]any{"type": "restrict", "userId": "gus-1"}, basic(s.server))
		s.work()
		if code, st, _ := s.do("GET", "/v1/requests/"+out["requestId"].(string), nil, bearer(out["requestToken"].(string))); code != 200 || st["status"] != "completed" {
			t.Fatalf("restrict: %d %v", code, st)
		}
		if evs := eventsOf(e.read("personalization", "userId=gus-1")); len(evs) != 0 {
			t.Errorf("a personalization read of a restricted shopper sees %d events", len(evs))
		}
		s.batch(s.server, []map[string]any{productViewed(map[string]any{"userId": "gus-1"}, nil)})
		e.strip()
		if evs := eventsOf(e.read("support", "userId=gus-1")); len(evs) != 4 {
			t.Errorf("restricted shopper: %d events kept, want the 4 stored before (nothing new, nothing stripped)", len(evs))
		}
		if st := e.state("userId=gus-1", bearer(e.server)); granted(st, "analytics") {
			t.Errorf("a restricted shopper's analytics is still granted: %v", st)
		}
	})
}

// Rectification corrects the sealed traits where they are stored.
func TestRectificationUpdatesSealedTraits(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		s.customer("hal-1", "hal@example.com", 1)
		if tr := e.read("support", "userId=hal-1")["traits"].(map[string]any); tr["firstName"] != "Ann" {
			t.Fatalf("traits before: %v", tr)
		}
		s.file(202, map[string]any{"type": "rectify", "userId": "hal-1", "traits": map[string]any{"firstName": "Hal"}}, basic(s.server))
		s.work()
		if tr := e.read("support", "userId=hal-1")["traits"].(map[string]any); tr["firstName"] != "Hal" || tr["plan"] != "gold" {
			t.Errorf("traits after rectification: %v", tr)
		}
		if code, _, _ := s.do("POST", "/v1/requests", map[string]any{"type": "rectify", "userId": "hal-1"}, basic(s.server)); code != 400 {
			t.Errorf("a rectification without traits: %d, want 400", code)
		}
	})
}

// PIPL Art. 48: an explanation of the rules and signals used, in the
// shopper's locale.
func TestExplainAnswersInTheShoppersLocale(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		s.customer("ivy-1", "ivy@example.com", 1)
		out := s.file(202, map[string]any{"type": "explain", "userId": "ivy-1", "jurisdiction": "pipl", "locale": "zh-CN"}, basic(s.server))
		s.work()
		body, _ := s.report(out["requestId"].(string), out["requestToken"].(string), "json")
		var rep struct {
			Locale    string
			Profiling struct{ Signals []string }
		}
		if err := json.Unmarshal([]byte(body), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Locale != "zh-CN" || len(rep.Profiling.Signals) < 3 || !strings.Contains(strings.Join(rep.Profiling.Signals, ""), "同意") {
			t.Errorf("explanation: locale %s, signals %q", rep.Locale, rep.Profiling.Signals)
		}
	})
}

// Expired and reused codes are refused with 400.
func TestExpiredAndReusedCodesAreRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		a := s.file(202, map[string]any{"type": "access", "email": "jo@example.com"})
		b := s.file(202, map[string]any{"type": "access", "email": "jo2@example.com"})
		s.work()
		codes := map[string]string{}
		for range 2 {
			m := s.nextMail()
			codes[m.To[0]] = codeRe.FindStringSubmatch(m.Text)[1]
		}
		idA, idB := a["requestId"].(string), b["requestId"].(string)
		if code, _, _ := s.do("POST", "/v1/requests/"+idA+"/verify", map[string]any{"code": codes["jo@example.com"]}); code != 200 {
			t.Fatalf("first use: %d", code)
		}
		if code, out, _ := s.do("POST", "/v1/requests/"+idA+"/verify", map[string]any{"code": codes["jo@example.com"]}); code != 400 {
			t.Errorf("reused code: %d %v", code, out)
		}
		real := e.app.Rights.Now
		e.app.Rights.Now = func() time.Time { return real().Add(16 * time.Minute) }
		defer func() { e.app.Rights.Now = real }()
		code, out, _ := s.do("POST", "/v1/requests/"+idB+"/verify", map[string]any{"code": codes["jo2@example.com"]})
		if code != 400 || !strings.Contains(out["error"].(map[string]any)["message"].(string), "expired") {
			t.Errorf("expired code: %d %v", code, out)
		}
		s.work()
		if r, _ := e.app.Store.Requests().Request(context.Background(), idB); r.Status != "expired" {
			t.Errorf("unverified request after its code expired: %s", r.Status)
		}
	})
}
