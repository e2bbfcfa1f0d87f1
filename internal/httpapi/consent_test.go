package httpapi_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/httpapi"
	"github.com/tact-cdp/tact/internal/ledger"
	"github.com/tact-cdp/tact/internal/testenv"
)

// Record → read → withdraw → read (GDPR Art. 7(3): withdrawing is as easy
// as giving consent, and takes effect at once).
func TestConsentRecordReadWithdraw(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		out := e.decide(201, map[string]any{"choices": map[string]bool{"analytics": true, "personalization": true}}, basic(e.writeKey))
		token, _ := out["subjectToken"].(string)
		anon, _ := out["anonymousId"].(string)
		if token == "" || anon == "" || out["receiptId"] == nil {
			t.Fatalf("a new browser's decision answered %v, want receiptId, anonymousId and subjectToken", out)
		}
		st := e.state("", bearer(token))
		if !granted(st, "analytics") || !granted(st, "personalization") || granted(st, "advertising") {
			t.Fatalf("state after granting analytics+personalization: %v", st)
		}
		out = e.decide(201, map[string]any{"anonymousId": anon, "subjectToken": token, "choices": map[string]bool{"analytics": false}, "method": "privacy_center"}, basic(e.writeKey))
		token2 := out["subjectToken"].(string)
		if token2 == token {
			t.Error("the subject token was not rotated on use")
		}
		st = e.state("anonymousId="+anon, bearer(e.server))
		if granted(st, "analytics") || !granted(st, "personalization") {
			t.Fatalf("state after withdrawing analytics: %v", st)
		}
		if got := st["analytics"].(map[string]any)["status"]; got != "denied" {
			t.Errorf("analytics status = %v, want denied", got)
		}
		if e.ledgerSize() != 2 {
			t.Errorf("ledger size = %d, want 2 (withdrawal is a new receipt, never an edit)", e.ledgerSize())
		}
	})
}

// Principle 1: in the opt-in regime nothing but necessary is allowed before
// a grant, and missing consent data means no consent.
func TestOptInDeniesByDefault(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		st := e.state("userId=never-seen", bearer(e.server))
		for purpose, v := range st {
			g := v.(map[string]any)["granted"].(bool)
			if g != (purpose == "necessary") {
				t.Errorf("unknown shopper: %s granted = %v", purpose, g)
			}
		}
		out := e.decide(201, map[string]any{"choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
		st = out["state"].(map[string]any)
		for _, p := range []string{"personalization", "advertising", "sale_share", "marketing_email", "sensitive_personalization"} {
			if granted(st, p) {
				t.Errorf("%s granted without a decision", p)
			}
		}
	})
}

// Principle 3: a write key may not grant for a userId without a valid
// userHash, and nothing is recorded when it tries.
func TestWriteKeyCannotGrantForUserID(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		before := e.ledgerSize()
		e.decide(403, map[string]any{"userId": "u-1", "choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
		e.decide(403, map[string]any{"userId": "u-1", "userHash": strings.Repeat("ab", 32), "choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
		e.decide(403, map[string]any{"email": "a@b.example", "choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
		if e.ledgerSize() != before {
			t.Fatalf("refused grants were recorded: ledger %d → %d", before, e.ledgerSize())
		}
		if st := e.state("userId=u-1", bearer(e.server)); granted(st, "analytics") {
			t.Fatal("a refused grant took effect")
		}
		// Denials are accepted from anyone.
		e.decide(201, map[string]any{"userId": "u-1", "choices": map[string]bool{"analytics": false}}, basic(e.writeKey))
		// With the shop's userHash the browser may grant for its user.
		hash := auth.UserHash(e.userHash, "u-1")
		e.decide(201, map[string]any{"userId": "u-1", "userHash": hash, "choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
		if st := e.state("userId=u-1", bearer(e.server)); !granted(st, "analytics") {
			t.Fatal("a grant with a valid userHash did not take effect")
		}
		// A server key may grant for any userId.
		e.decide(201, map[string]any{"userId": "u-2", "choices": map[string]bool{"personalization": true}, "method": "api"}, basic(e.server))
	})
}

// A write key speaks only for its own browser: a known anonymousId needs its
// subject token for a grant, but anyone may deny.
func TestKnownBrowserNeedsItsToken(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		out := e.decide(201, map[string]any{"anonymousId": "browser-1", "choices": map[string]bool{"analytics": false}}, basic(e.writeKey))
		if out["subjectToken"] == nil {
			t.Fatal("a decision creating a browser's anonymous id returned no subject token")
		}
		e.decide(403, map[string]any{"anonymousId": "browser-1", "choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
		e.decide(201, map[string]any{"anonymousId": "browser-1", "choices": map[string]bool{"advertising": false}}, basic(e.writeKey))
		other := e.decide(201, map[string]any{"anonymousId": "browser-2", "choices": map[string]bool{"analytics": false}}, basic(e.writeKey))
		// Another browser's token proves nothing for this one.
		e.decide(403, map[string]any{"anonymousId": "browser-1", "subjectToken": other["subjectToken"], "choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
		// Its own token does.
		e.decide(201, map[string]any{"anonymousId": "browser-1", "subjectToken": out["subjectToken"], "choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
	})
}

// Tampered, expired, forged or superseded subject tokens are refused.
func TestSubjectTokensRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		out := e.decide(201, map[string]any{"choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
		tok := out["subjectToken"].(string)
		anon := out["anonymousId"].(string)
		tampered := tok[:len(tok)-2] + flip(tok[len(tok)-2:])
		forged := "st1." + strings.Repeat("A", 70) + "." + strings.Repeat("B", 43)
		for name, bad := range map[string]string{"tampered": tampered, "forged": forged, "garbage": "st1.x.y"} {
			if code, _, _ := e.do("GET", "/v1/consent", nil, bearer(bad)); code != 401 {
				t.Errorf("%s token on GET: status %d, want 401", name, code)
			}
			e.decide(401, map[string]any{"anonymousId": anon, "subjectToken": bad, "choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
		}
		// Rotation: after two more uses, the first token is superseded.
		t2 := e.decide(201, map[string]any{"anonymousId": anon, "subjectToken": tok, "choices": map[string]bool{"personalization": true}}, basic(e.writeKey))["subjectToken"].(string)
		e.decide(201, map[string]any{"anonymousId": anon, "subjectToken": t2, "choices": map[string]bool{"personalization": false}}, basic(e.writeKey))
		e.decide(401, map[string]any{"anonymousId": anon, "subjectToken": tok, "choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
		// Expiry.
		e.app.Tokens.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
		defer func() { e.app.Tokens.Now = time.Now }()
		if code, _, _ := e.do("GET", "/v1/consent", nil, bearer(t2)); code != 401 {
			t.Errorf("expired token: status %d, want 401", code)
		}
	})
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

// GPC (DESIGN 3): an opt-out of sale/sharing and targeted advertising, recorded
// as its own receipt, for the browser and the userId linked to it.
func TestGPCDeniesAdvertisingAndSaleForLinkedUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		// The shop's backend links the browser to its customer, who had
		// granted advertising and sale/sharing.
		e.decide(201, map[string]any{"userId": "cust-9", "choices": map[string]bool{"advertising": true}, "method": "api"}, basic(e.server))
		e.decide(201, map[string]any{"userId": "cust-9", "choices": map[string]bool{"sale_share": true}, "method": "api"}, basic(e.server))
		out := e.decide(201, map[string]any{"anonymousId": "gpc-browser", "userId": "cust-9", "choices": map[string]bool{"analytics": true}, "method": "api"}, basic(e.server))
		if !granted(out["state"].(map[string]any), "advertising") {
			t.Fatalf("before GPC advertising should be granted: %v", out["state"])
		}
		// The browser later sends Sec-GPC: 1 with an "accept all".
		out = e.decide(201, map[string]any{"anonymousId": "gpc-browser-2", "choices": map[string]bool{"analytics": true, "advertising": true}}, basic(e.writeKey), header("Sec-GPC", "1"))
		st := out["state"].(map[string]any)
		if granted(st, "advertising") || granted(st, "sale_share") || !granted(st, "analytics") {
			t.Fatalf("GPC with accept-all: %v", st)
		}
		// GPC from tact.js (body flag) for the linked browser: denial needs no token.
		out = e.decide(201, map[string]any{"anonymousId": "gpc-browser", "gpc": true, "choices": map[string]bool{}}, basic(e.writeKey))
		ids := out["receiptIds"].([]any)
		if len(ids) != 1 {
			t.Fatalf("GPC alone wrote %d receipts, want 1", len(ids))
		}
		st = e.state("userId=cust-9", bearer(e.server))
		if granted(st, "advertising") || granted(st, "sale_share") {
			t.Fatalf("the linked userId still allows advertising or sale after GPC: %v", st)
		}
		if !granted(st, "analytics") {
			t.Error("GPC must not touch analytics")
		}
		code, rec, _ := e.do("GET", "/v1/consent/receipts/"+ids[0].(string), nil)
		if code != 200 || rec["receipt"].(map[string]any)["method"] != "gpc" {
			t.Fatalf("GPC receipt: %d %v", code, rec)
		}
		// Repeating the signal records nothing new.
		before := e.ledgerSize()
		e.do("POST", "/v1/consent", map[string]any{"anonymousId": "gpc-browser", "gpc": true, "noticeVersion": e.notice, "method": "banner", "choices": map[string]bool{}}, basic(e.writeKey))
		if e.ledgerSize() != before {
			t.Error("a repeated GPC signal wrote another receipt")
		}
	})
}

// Linking (principle 3): consent given in the browser applies to the userId
// it is linked to; where the two disagree the stricter wins.
func TestLinkAppliesBrowserConsentAndStricterWins(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		out := e.decide(201, map[string]any{"choices": map[string]bool{"analytics": true, "personalization": false}}, basic(e.writeKey))
		anon, tok := out["anonymousId"].(string), out["subjectToken"].(string)
		e.decide(201, map[string]any{"userId": "shopper-5", "choices": map[string]bool{"personalization": true}, "method": "api"}, basic(e.server))
		// The browser logs in: tact.js sends the userHash the shop gave it.
		e.decide(201, map[string]any{"anonymousId": anon, "subjectToken": tok, "userId": "shopper-5",
			"userHash": auth.UserHash(e.userHash, "shopper-5"), "choices": map[string]bool{"marketing_sms": false}}, basic(e.writeKey))
		st := e.state("userId=shopper-5", bearer(e.server))
		if !granted(st, "analytics") {
			t.Error("the browser's analytics consent does not apply to the linked userId")
		}
		if granted(st, "personalization") {
			t.Error("browser denied personalization, user granted it: the stricter (denied) must win")
		}
		// Without a userHash a write key links nothing.
		out = e.decide(201, map[string]any{"choices": map[string]bool{"advertising": false}}, basic(e.writeKey))
		e.decide(201, map[string]any{"anonymousId": out["anonymousId"], "subjectToken": out["subjectToken"], "userId": "victim", "choices": map[string]bool{"analytics": false}}, basic(e.writeKey))
		e.decide(201, map[string]any{"userId": "victim", "choices": map[string]bool{"advertising": true}, "method": "api"}, basic(e.server))
		if st := e.state("anonymousId="+out["anonymousId"].(string), bearer(e.server)); granted(st, "advertising") {
			t.Error("an untrusted userId linked a browser to another shopper")
		}
	})
}

// Separate consent (PIPL Art. 29, GDPR Art. 9): never part of "accept all".
func TestSeparateConsentOnlyIndividually(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		code, out, _ := e.do("POST", "/v1/consent", map[string]any{"noticeVersion": e.notice, "method": "banner",
			"choices": map[string]bool{"analytics": true, "personalization": true, "sensitive_personalization": true}}, basic(e.writeKey))
		if code != 400 {
			t.Fatalf("accept-all with a separate-consent purpose: %d %v, want 400", code, out)
		}
		out = e.decide(201, map[string]any{"choices": map[string]bool{"analytics": true, "personalization": true}}, basic(e.writeKey))
		out = e.decide(201, map[string]any{"anonymousId": out["anonymousId"], "subjectToken": out["subjectToken"], "choices": map[string]bool{"sensitive_personalization": true}}, basic(e.writeKey))
		if !granted(out["state"].(map[string]any), "sensitive_personalization") {
			t.Fatal("an individual grant of sensitive_personalization did not take effect")
		}
	})
}

// marketing_email stays pending until the double opt-in is confirmed.
func TestMarketingEmailGrantIsPending(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		out := e.decide(201, map[string]any{"userId": "m-1", "email": "Shopper@Example.COM", "choices": map[string]bool{"marketing_email": true}, "method": "api"}, basic(e.server))
		v := out["state"].(map[string]any)["marketing_email"].(map[string]any)
		if v["granted"] != false || v["pending"] != true {
			t.Fatalf("marketing_email after a grant with an email: %v, want pending and not granted", v)
		}
	})
}

// Bad input gets a clear error and the right status, and records nothing.
func TestConsentBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		good := func(extra string) string {
			return `{"noticeVersion":"` + e.notice + `","method":"banner","choices":{"analytics":true}` + extra + `}`
		}
		big := `{"noticeVersion":"` + e.notice + `","method":"banner","choices":{"analytics":true},"evidence":{"x":"` + strings.Repeat("a", 33<<10) + `"}}`
		tests := []struct {
			name string
			body string
			opts []reqOpt
			want int
			msg  string
		}{
			{"unknown write key", good(""), []reqOpt{basic("tact_wk_nope1234567890")}, 401, "unknown"},
			{"no key", good(""), nil, 401, "write key"},
			{"admin token cannot write", good(""), []reqOpt{basic(e.admin)}, 403, "cannot write"},
			{"malformed JSON", `{"noticeVersion":`, []reqOpt{basic(e.writeKey)}, 400, "JSON"},
			{"duplicate keys", `{"noticeVersion":"` + e.notice + `","method":"banner","choices":{"analytics":true,"analytics":false}}`, []reqOpt{basic(e.writeKey)}, 400, "duplicate"},
			{"invalid UTF-8", good(`,"locale":"` + "\xff\xfe" + `"`), []reqOpt{basic(e.writeKey)}, 400, "UTF-8"},
			{"unknown purpose", `{"noticeVersion":"` + e.notice + `","method":"banner","choices":{"telepathy":true}}`, []reqOpt{basic(e.writeKey)}, 400, "unknown purpose"},
			{"unknown notice", `{"noticeVersion":"0000000000000000","method":"banner","choices":{"analytics":true}}`, []reqOpt{basic(e.writeKey)}, 400, "noticeVersion"},
			{"unknown field", good(`,"extra":1`), []reqOpt{basic(e.writeKey)}, 400, "unknown field"},
			{"bad method", `{"noticeVersion":"` + e.notice + `","method":"double_opt_in","choices":{"analytics":true}}`, []reqOpt{basic(e.writeKey)}, 400, "method"},
			{"empty choices", `{"noticeVersion":"` + e.notice + `","method":"banner","choices":{}}`, []reqOpt{basic(e.writeKey)}, 400, "choices"},
			{"necessary refused", `{"noticeVersion":"` + e.notice + `","method":"banner","choices":{"necessary":false}}`, []reqOpt{basic(e.writeKey)}, 400, "cannot be refused"},
			{"over 32 KB", big, []reqOpt{basic(e.writeKey)}, 413, "over"},
			{"import needs server key", `{"noticeVersion":"` + e.notice + `","method":"import","choices":{"analytics":true}}`, []reqOpt{basic(e.writeKey)}, 403, "import"},
		}
		before := e.ledgerSize()
		for _, tt := range tests {
			code, out, _ := e.do("POST", "/v1/consent", tt.body, tt.opts...)
			errObj, _ := out["error"].(map[string]any)
			msg, _ := errObj["message"].(string)
			if code != tt.want || !strings.Contains(msg, tt.msg) {
				t.Errorf("%s: status %d %q, want %d with %q", tt.name, code, msg, tt.want, tt.msg)
			}
		}
		if e.ledgerSize() != before {
			t.Errorf("bad input was recorded: ledger %d → %d", before, e.ledgerSize())
		}
		// writeKey in the body (navigator.sendBeacon) works when there is no header.
		e.decide(201, map[string]any{"writeKey": e.writeKey, "choices": map[string]bool{"analytics": true}})
	})
}

// Every receipt verifies with its inclusion proof under a signed checkpoint,
// and two checkpoints verify with a consistency proof.
func TestReceiptsVerifyWithProofs(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		var ids []string
		for i := range 5 {
			out := e.decide(201, map[string]any{"choices": map[string]bool{"analytics": i%2 == 0}}, basic(e.writeKey))
			ids = append(ids, out["receiptId"].(string))
		}
		_, pending, _ := e.do("GET", "/v1/consent/receipts/"+ids[0], nil)
		if pending["pending"] != true || pending["proof"] != nil {
			t.Fatalf("before any checkpoint a receipt must be pending: %v", pending)
		}
		first, err := e.app.Ledger.CutCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 6 {
			out := e.decide(201, map[string]any{"choices": map[string]bool{"personalization": i%2 == 0}}, basic(e.writeKey))
			ids = append(ids, out["receiptId"].(string))
		}
		second, err := e.app.Ledger.CutCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, key, _ := e.do("GET", "/.well-known/tact-ledger-key", nil)
		verifier, err := ledger.NewVerifier(key["verifierKey"].(string))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			var v consent.ReceiptView
			e.getJSON("/v1/consent/receipts/"+id, &v)
			salt, _ := hex.DecodeString(v.Salt)
			wantLeaf := ledger.LeafData(id, ledger.Commitment(salt, v.Receipt))
			if string(wantLeaf) != v.LeafData {
				t.Fatalf("receipt %s: the receipt and salt do not give its leaf", id)
			}
			cp, err := verifier.Open(v.Proof.Checkpoint)
			if err != nil {
				t.Fatalf("receipt %s: checkpoint: %v", id, err)
			}
			if err := ledger.CheckInclusion(v.Proof.Hashes, cp.Size, cp.Root, v.LeafIndex, ledger.LeafHash(wantLeaf)); err != nil {
				t.Fatalf("receipt %s: inclusion proof: %v", id, err)
			}
		}
		var cv consent.ConsistencyView
		e.getJSON(fmt.Sprintf("/v1/ledger/consistency?from=%d&to=%d", first.Size, second.Size), &cv)
		if err := ledger.CheckConsistency(cv.Hashes, second.Size, second.Root, first.Size, first.Root); err != nil {
			t.Fatalf("consistency %d→%d: %v", first.Size, second.Size, err)
		}
		code, cp, _ := e.do("GET", "/v1/ledger/checkpoint", nil)
		if code != 200 || int64(cp["size"].(float64)) != second.Size {
			t.Fatalf("GET checkpoint: %d %v", code, cp)
		}
		if code, _, _ := e.do("GET", "/v1/ledger/consistency?from=1&to=999", nil); code != 404 {
			t.Errorf("consistency to a size that is no checkpoint: %d, want 404", code)
		}
		if code, _, _ := e.do("GET", "/v1/consent/receipts/rc_"+strings.Repeat("a", 32), nil); code != 404 {
			t.Errorf("unknown receipt: %d, want 404", code)
		}
	})
}

// A notice change asks again only for materially changed purposes, and
// consent expires after the regime's validity (13 months by default).
func TestNoticeChangeAndExpiry(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		out := e.decide(201, map[string]any{"choices": map[string]bool{"analytics": true, "personalization": true}}, basic(e.writeKey))
		tok := out["subjectToken"].(string)
		m := *e.app.DataMap
		m.Purposes = append(m.Purposes[:0:0], m.Purposes...)
		for i := range m.Purposes {
			if m.Purposes[i].ID == "analytics" {
				m.Purposes[i].Recipients = append(m.Purposes[i].Recipients[:0:0], m.Purposes[i].Recipients...)
				m.Purposes[i].Description = map[string]string{"en": "Now also measuring scroll depth.", "zh-CN": "现在也衡量滚动深度。"}
			}
		}
		// Recompute versions the way the data map does.
		changed, err := reparse(&m)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.app.Consent.Publish(context.Background(), consent.NewPolicy(changed)); err != nil {
			t.Fatal(err)
		}
		st := e.state("", bearer(tok))
		if granted(st, "analytics") || st["analytics"].(map[string]any)["status"] != "outdated" {
			t.Errorf("materially changed analytics: %v, want outdated and not granted", st["analytics"])
		}
		if !granted(st, "personalization") {
			t.Error("an unchanged purpose was asked again")
		}
		e.app.Consent.Now = func() time.Time { return time.Now().AddDate(1, 1, 1) }
		defer func() { e.app.Consent.Now = time.Now }()
		st = e.state("", bearer(tok))
		if granted(st, "personalization") || st["personalization"].(map[string]any)["status"] != "expired" {
			t.Errorf("13 months later: %v, want expired", st["personalization"])
		}
	})
}

// No personal data in logs: plant identifiers and grep the logs.
func TestLogsCarryNoPersonalData(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		planted := []string{"planted-user-4711", "planted@mail.example", "planted-anon-0815"}
		e.decide(201, map[string]any{"userId": planted[0], "email": planted[1], "anonymousId": planted[2], "choices": map[string]bool{"analytics": true}, "method": "api"}, basic(e.server))
		e.do("GET", "/v1/consent?userId="+planted[0], nil, bearer(e.server))
		e.do("GET", "/v1/consent?anonymousId="+planted[2], nil, bearer("st1.bad.token"))
		e.do("POST", "/v1/consent", `{"userId":"`+planted[0]+`",`, basic(e.writeKey))
		logs := e.logs.String()
		if !strings.Contains(logs, `"route"`) {
			t.Fatal("requests were not logged at all; the test would prove nothing")
		}
		for _, p := range planted {
			if strings.Contains(logs, p) {
				t.Errorf("the logs contain %q", p)
			}
		}
	})
}

func TestCORSForRegisteredOrigins(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		code, _, h := e.do("OPTIONS", "/v1/consent", nil, header("Origin", "https://shop.example"), header("Access-Control-Request-Method", "POST"))
		if code != 204 || h.Get("Access-Control-Allow-Origin") != "https://shop.example" || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("preflight from a registered origin: %d %v", code, h)
		}
		if !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Error("preflight does not allow Authorization")
		}
		code, _, h = e.do("OPTIONS", "/v1/consent", nil, header("Origin", "https://evil.example"))
		if code != http.StatusForbidden || h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from an unregistered origin: %d %v", code, h)
		}
		_, _, h = e.do("POST", "/v1/consent", map[string]any{"noticeVersion": e.notice, "method": "banner", "choices": map[string]bool{"analytics": true}}, basic(e.writeKey), header("Origin", "https://shop.example"))
		if h.Get("Access-Control-Allow-Origin") != "https://shop.example" || !strings.Contains(h.Get("Set-Cookie"), "HttpOnly") {
			t.Errorf("POST from the registered origin: %v", h)
		}
	})
}

func TestWellKnownAndOperations(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		code, gpc, _ := e.do("GET", "/.well-known/gpc.json", nil)
		if code != 200 || gpc["gpc"] != true || gpc["lastUpdate"] != "2026-11-30" {
			t.Errorf("gpc.json: %d %v", code, gpc)
		}
		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			if code, _, _ := e.do("GET", path, nil); code != 200 {
				t.Errorf("%s: %d", path, code)
			}
		}

		for _, loc := range []string{"en", "zh-CN"} {
			code, n, _ := e.do("GET", "/v1/notice?locale="+loc, nil)
			if code != 200 || n["version"] != e.notice {
				t.Errorf("notice %s: %d %v", loc, code, n["version"])
			}
		}
		e.decide(201, map[string]any{"choices": map[string]bool{"analytics": true}}, basic(e.writeKey))
		if code, _, _ := e.do("GET", "/admin/api/stats", nil, bearer(e.server)); code != 403 {
			t.Errorf("stats with a server key: %d, want 403", code)
		}
		code, st, _ := e.do("GET", "/admin/api/stats", nil, bearer(e.admin))
		if code != 200 || st["receipts"].(float64) != 1 {
			t.Errorf("stats: %d %v", code, st)
		}
		metrics := e.raw("/metrics")
		for _, m := range []string{"tact_http_requests_total", "tact_store_commit_seconds_total", "tact_consent_receipts_total"} {
			if !strings.Contains(metrics, m) {
				t.Errorf("/metrics lacks %s", m)
			}
		}
	})
}

// The browser SDK loads its settings from tact and posts its telemetry to
// tact, which keeps none of it (DESIGN 5.1).
func TestSDKSettingsAndMetrics(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		code, set, h := e.do("GET", "/v1/projects/"+e.writeKey+"/settings", nil, header("Origin", "https://shop.example"))
		if code != 200 || h.Get("Access-Control-Allow-Origin") != "https://shop.example" {
			t.Fatalf("settings: %d %v", code, h)
		}
		sio := set["integrations"].(map[string]any)["Segment.io"].(map[string]any)
		host := strings.TrimPrefix(e.srv.URL, "http://")
		if sio["apiKey"] != e.writeKey || sio["apiHost"] != host+"/v1" || sio["protocol"] != "http" {
			t.Errorf("settings route the SDK elsewhere: %v", sio)
		}
		for _, key := range []string{"tact_wk_unknown0000000000000000", e.server} {
			if code, _, _ := e.do("GET", "/v1/projects/"+key+"/settings", nil); code != 404 {
				t.Errorf("settings for a key that is no write key: %d, want 404", code)
			}
		}
		for _, path := range []string{"/m", "/v1/m"} {
			if code, _, _ := e.do("POST", path, `{"series":[{"type":"Counter","metric":"analytics_js.invoke","value":1}]}`, header("Content-Type", "text/plain")); code != 200 {
				t.Errorf("POST %s: %d, want 200", path, code)
			}
		}
		if code, _, _ := e.do("POST", "/v1/m", strings.Repeat("x", 65<<10)); code != 413 {
			t.Errorf("oversized metrics post: %d, want 413", code)
		}
	})
}

// Past the per-IP limit a client gets 429 with Retry-After, other clients
// are unaffected, and nothing over the limit is recorded.
func TestConsentRateLimitPerIP(t *testing.T) {
	for _, st := range testenv.Stores()[:1] {
		e := newEnvWith(t, st, func(s *httpapi.Server) { s.RateLimitPerIP = 1 })
		body := map[string]any{"noticeVersion": e.notice, "method": "banner", "choices": map[string]bool{"analytics": true}}
		var limited int
		var retry string
		for range 15 {
			code, out, h := e.do("POST", "/v1/consent", body, basic(e.writeKey))
			if code == 429 {
				limited++
				retry = h.Get("Retry-After")
				if out["error"].(map[string]any)["code"] != "rate_limited" {
					t.Errorf("429 body: %v", out)
				}
			}
		}
		if limited != 5 || retry == "" {
			t.Fatalf("15 requests at a limit of 10 per 10 s: %d limited (want 5), Retry-After %q", limited, retry)
		}
		if got := e.ledgerSize(); got != 10 {
			t.Errorf("ledger has %d receipts, want the 10 allowed", got)
		}
	}
}
