package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/destination"
	"github.com/tact-cdp/tact/internal/testenv"
)

// webhook is a destination's receiver: it checks every signature and keeps
// the bodies.
type webhook struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret []byte
	bodies []map[string]any
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{t: t}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		defer w.mu.Unlock()
		if err := destination.Verify(w.secret, r.Header.Get(destination.SignatureHeader), b, time.Now(), time.Minute); err != nil {
			t.Errorf("webhook signature: %v", err)
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		w.bodies = append(w.bodies, m)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// of returns the bodies of one type received so far.
func (w *webhook) of(typ string) []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []map[string]any
	for _, b := range w.bodies {
		if b["type"] == typ {
			out = append(out, b)
		}
	}
	return out
}

var optinLinkRe = regexp.MustCompile(`/v1/optin/([A-Za-z0-9_-]{43})`)

func orderCompleted(userID string) map[string]any {
	return map[string]any{"type": "track", "event": "Order Completed", "userId": userID, "messageId": nextMessageID(),
		"properties": map[string]any{"order_id": "o-" + nextMessageID(), "revenue": 42.5, "currency": "EUR",
			"products": []any{map[string]any{"product_id": "p-1", "name": "Mug", "category": "Kitchen", "price": 42.5}}}}
}

// post sends a form POST as a mail provider does for RFC 8058.
func (e *env) oneClick(url string) int {
	e.t.Helper()
	resp, err := http.Post(url, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (e *env) get(url string) (int, string) {
	e.t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func pendingOrGranted(state map[string]any, purpose string) (granted, pending bool) {
	p, _ := state[purpose].(map[string]any)
	g, _ := p["granted"].(bool)
	pe, _ := p["pending"].(bool)
	return g, pe
}

// TestMarketingPermissionEndToEnd follows one shopper from a marketing
// grant through the double opt-in, an audience synced to a webhook, the
// disclosure log in her access report, a one-click unsubscribe and an
// erasure — with a real SMTP server and a real HTTP receiver.
func TestMarketingPermissionEndToEnd(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := newShop(t, e)
		mk := e.app.Marketing
		mk.MinSize = 3
		e.app.OptIn.PublicURL = e.srv.URL

		// Grant with an address: pending, and a confirmation mail.
		e.decide(201, map[string]any{"userId": "ann", "email": "ann@example.com", "method": "api", "locale": "en",
			"choices": map[string]any{"marketing_email": true, "analytics": true}}, basic(e.server))
		if g, p := pendingOrGranted(e.state("userId=ann", bearer(e.server)), "marketing_email"); g || !p {
			t.Fatalf("after the grant: granted %v pending %v, want pending", g, p)
		}
		s.work()
		m := s.nextMail()
		if m.To[0] != "ann@example.com" || m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" ||
			!strings.HasPrefix(m.Header.Get("List-Unsubscribe"), "<"+e.srv.URL+"/v1/unsubscribe/") {
			t.Fatalf("confirmation mail: to %v, headers %v", m.To, m.Header)
		}
		link := optinLinkRe.FindStringSubmatch(m.Text)
		if link == nil {
			t.Fatalf("no confirmation link in:\n%s", m.Text)
		}
		confirmURL := e.srv.URL + link[0]

		// A GET (a mail scanner) shows a page and confirms nothing.
		code, page := e.get(confirmURL)
		if code != 200 || !strings.Contains(page, `method="post"`) {
			t.Fatalf("GET confirmation page: %d\n%s", code, page)
		}
		if g, p := pendingOrGranted(e.state("userId=ann", bearer(e.server)), "marketing_email"); g || !p {
			t.Fatalf("a GET changed the grant: granted %v pending %v", g, p)
		}
		// A forged link: 400, no effect.
		forged := e.srv.URL + "/v1/optin/" + strings.Repeat("A", 43)
		if code := e.oneClick(forged); code != 400 {
			t.Errorf("forged link: %d, want 400", code)
		}
		before := e.ledgerSize()
		if code := e.oneClick(confirmURL); code != 200 {
			t.Fatalf("confirming POST: %d", code)
		}
		st := e.state("userId=ann", bearer(e.server))
		if g, p := pendingOrGranted(st, "marketing_email"); !g || p {
			t.Fatalf("after confirming: granted %v pending %v", g, p)
		}
		rid := st["marketing_email"].(map[string]any)["receiptId"].(string)
		var rc map[string]any
		e.getJSON("/v1/consent/receipts/"+rid, &rc)
		if method := rc["receipt"].(map[string]any)["method"]; method != "double_opt_in" {
			t.Errorf("confirmation receipt method %v, want double_opt_in", method)
		}
		// A replayed confirmation: 400, no new receipt.
		if code := e.oneClick(confirmURL); code != 400 {
			t.Errorf("replayed confirmation: %d, want 400", code)
		}
		if n := e.ledgerSize(); n != before+1 {
			t.Errorf("ledger grew by %d, want 1 (the confirmation alone)", n-before)
		}

		// Two more customers whose earlier confirmation the shop imports.
		for _, u := range []string{"bob", "cat"} {
			e.decide(201, map[string]any{"userId": u, "email": u + "@example.com", "method": "import",
				"evidence": map[string]any{"source": "old-shop", "double_opt_in_at": "2025-03-01T10:00:00Z"},
				"choices":  map[string]any{"marketing_email": true, "analytics": true}}, basic(e.server))
		}
		e.batch(e.server, []map[string]any{orderCompleted("ann"), orderCompleted("bob"), orderCompleted("cat")})

		admin := bearer(e.admin)
		code, aud, _ := e.do("POST", "/admin/api/audiences", `{"id":"buyers","name":"Recent buyers","purpose":"marketing_email",
			"where":{"event":{"name":"Order Completed","withinDays":30}}}`, admin)
		if code != 201 || aud["size"] != 3.0 {
			t.Fatalf("create audience: %d %v", code, aud)
		}
		hook := newWebhook(t)
		code, dest, _ := e.do("POST", "/admin/api/destinations", map[string]any{"id": "mailer", "kind": "webhook", "url": hook.srv.URL,
			"recipient": "email_service", "purpose": "marketing_email", "fields": []string{"pseudonym", "email", "unsubscribe_url"}}, admin)
		if code != 201 {
			t.Fatalf("add destination: %d %v", code, dest)
		}
		hook.mu.Lock()
		hook.secret = []byte(dest["secret"].(string))
		hook.mu.Unlock()

		// Ann's access report before any sync names no actual recipient.
		if got := disclosedTo(s, "ann"); len(got) != 0 {
			t.Errorf("disclosures before the sync: %v", got)
		}

		sync := func() map[string]any {
			t.Helper()
			code, res, _ := e.do("POST", "/admin/api/destinations/mailer/sync", map[string]any{"audience": "buyers"}, admin)
			if code != 200 {
				t.Fatalf("sync: %d %v", code, res)
			}
			if _, _, err := mk.Sender.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			return res
		}
		if res := sync(); res["added"] != 3.0 {
			t.Fatalf("first sync: %v", res)
		}
		syncs := hook.of("audience.sync")
		if len(syncs) != 1 || len(syncs[0]["add"].([]any)) != 3 {
			t.Fatalf("webhook got %v", syncs)
		}
		var annUnsub, annPseudonym string
		for _, a := range syncs[0]["add"].([]any) {
			mb := a.(map[string]any)
			if len(mb) != 3 {
				t.Errorf("a member carries fields beyond the destination's: %v", mb)
			}
			if mb["email"] == "ann@example.com" {
				annUnsub, annPseudonym = mb["unsubscribe_url"].(string), mb["pseudonym"].(string)
			}
		}
		if annUnsub == "" || annUnsub != strings.Trim(m.Header.Get("List-Unsubscribe"), "<>") {
			t.Fatalf("ann's unsubscribe URL %q differs from her mail's %q", annUnsub, m.Header.Get("List-Unsubscribe"))
		}
		got := disclosedTo(s, "ann")
		if len(got) != 1 || got[0]["recipient"] != "email_service" || got[0]["purpose"] != "marketing_email" ||
			!strings.Contains(strings.Join(toStrings(got[0]["categories"]), ","), "contact.email") {
			t.Errorf("disclosures after the sync: %v", got)
		}

		// One-click unsubscribe, twice: one receipt, 200 both times.
		before = e.ledgerSize()
		for i := range 2 {
			if code := e.oneClick(annUnsub); code != 200 {
				t.Errorf("unsubscribe POST %d: %d", i+1, code)
			}
		}
		if n := e.ledgerSize(); n != before+1 {
			t.Errorf("two unsubscribes wrote %d receipts, want 1", n-before)
		}
		if g, _ := pendingOrGranted(e.state("userId=ann", bearer(e.server)), "marketing_email"); g {
			t.Fatal("still subscribed after unsubscribing")
		}
		if err := mk.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := mk.Sender.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		code, aud, _ = e.do("GET", "/admin/api/audiences/buyers", nil, admin)
		if code != 200 || aud["size"] != 2.0 {
			t.Errorf("audience after the unsubscribe: %d %v", code, aud)
		}
		withdrawn := hook.of("subject.withdrawn")
		if len(withdrawn) != 1 || withdrawn[0]["pseudonym"] != annPseudonym {
			t.Fatalf("withdrawal notices: %v", withdrawn)
		}
		// The next sync does not send her again.
		mk.MinSize = 2
		sync()
		for _, b := range hook.of("audience.sync")[1:] {
			for _, a := range b["add"].([]any) {
				if a.(map[string]any)["pseudonym"] == annPseudonym {
					t.Errorf("a later sync sent ann again: %v", b)
				}
			}
		}

		// Bob is erased: the destination is told, his old URL keeps answering.
		bobUnsub := ""
		for _, a := range syncs[0]["add"].([]any) {
			if mb := a.(map[string]any); mb["email"] == "bob@example.com" {
				bobUnsub = mb["unsubscribe_url"].(string)
			}
		}
		filed := s.file(202, map[string]any{"type": "erasure", "userId": "bob"}, basic(e.server))
		for range 10 {
			s.work()
		}
		if _, _, err := mk.Sender.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if code, st, _ := e.do("GET", "/v1/requests/"+filed["requestId"].(string), nil, bearer(filed["requestToken"].(string))); code != 200 || st["status"] != "completed" {
			t.Fatalf("erasure: %d %v", code, st)
		}
		if deleted := hook.of("subject.deleted"); len(deleted) != 1 {
			t.Errorf("deletion notices: %v", deleted)
		}
		if code := e.oneClick(bobUnsub); code != 200 {
			t.Errorf("an erased shopper's unsubscribe URL: %d, want 200", code)
		}
		if code, _ := e.get(bobUnsub); code != 200 {
			t.Errorf("GET an erased shopper's unsubscribe page: %d", code)
		}
	})
}

// disclosedTo files an access request for a shopper (server key) and
// returns the report's disclosure log entries.
func disclosedTo(s *shop, userID string) []map[string]any {
	s.t.Helper()
	filed := s.file(202, map[string]any{"type": "access", "userId": userID}, basic(s.server))
	for range 3 {
		s.work()
	}
	body, _ := s.report(filed["requestId"].(string), filed["requestToken"].(string), "json")
	var rep struct {
		Disclosures []map[string]any `json:"disclosures"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		s.t.Fatal(err)
	}
	return rep.Disclosures
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestConfirmationMailsAreRateLimited: granting marketing_email for one
// address again and again mails it at most three confirmations a day, so
// the flow cannot be used to bombard a third party; the grants themselves
// are still recorded (pending).
func TestConfirmationMailsAreRateLimited(t *testing.T) {
	e := newEnv(t, testenv.Stores()[0])
	s := newShop(t, e)
	for i := range 5 {
		e.decide(201, map[string]any{"userId": "victim-" + strconv.Itoa(i), "email": "victim@example.com", "method": "api",
			"choices": map[string]any{"marketing_email": true}}, basic(e.server))
	}
	s.work()
	time.Sleep(200 * time.Millisecond)
	if n := len(s.smtp.Messages()); n != 3 {
		t.Fatalf("%d confirmation mails to one address, want 3", n)
	}
}

// TestAudienceDefinitionsBadInput: the admin API refuses bad definitions
// with 400 naming the problem, and stores nothing.
func TestAudienceDefinitionsBadInput(t *testing.T) {
	e := newEnv(t, testenv.Stores()[0])
	deep := `{"event":{"name":"Order Completed","withinDays":7}}`
	for range 10 {
		deep = `{"not":` + deep + `}`
	}
	for _, c := range []struct{ body, want string }{
		{`{"id":"a","name":"A","purpose":"marketing_email","where":{"event":{"name":"Order Completed","withinDays":7}},"extra":1}`, "extra"},
		{`{"id":"a","name":"A","purpose":"marketing_email","where":{"trait":{"name":"email","op":"exists"}}}`, "direct identifier"},
		{`{"id":"a","name":"A","purpose":"advertising","where":{"event":{"name":"Product Viewed","withinDays":7,"where":[{"property":"category","op":"eq","value":"Health"}]}}}`, "sensitive"},
		{`{"id":"a","name":"A","purpose":"marketing_email","where":` + deep + `}`, "deep"},
	} {
		code, out, _ := e.do("POST", "/admin/api/audiences", c.body, bearer(e.admin))
		msg, _ := out["error"].(map[string]any)["message"].(string)
		if code != 400 || !strings.Contains(strings.ToLower(msg), c.want) {
			t.Errorf("%s: %d %q, want 400 naming %q", c.body, code, msg, c.want)
		}
	}
	if code, out, _ := e.do("GET", "/admin/api/audiences", nil, bearer(e.admin)); code != 200 || len(out["audiences"].([]any)) != 0 {
		t.Errorf("after refusals: %d %v", code, out)
	}
}
