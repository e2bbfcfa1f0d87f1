package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/httpapi"
	"github.com/tact-cdp/tact/internal/mail/mailtest"
	"github.com/tact-cdp/tact/internal/rights"
)

// shop is an env with a real SMTP server receiving tact's mail.
type shop struct {
	*env
	smtp   *mailtest.Server
	sender rights.Sender
	seen   int // mails already read
}

func newShop(t *testing.T, e *env) *shop {
	ms := mailtest.NewServer(t)
	return &shop{env: e, smtp: ms, sender: app.NewMailer(ms.Config(), e.app.DataMap, "http://tact.test")}
}

// work runs the request jobs once: verified requests are worked on and due
// mail is delivered over SMTP.
func (s *shop) work() {
	s.t.Helper()
	if err := s.app.Rights.Pass(context.Background(), s.sender); err != nil {
		s.t.Fatalf("rights pass: %v", err)
	}
}

// nextMail waits for the next mail and returns it.
func (s *shop) nextMail() mailtest.Received {
	s.t.Helper()
	got := s.smtp.Wait(s.t, s.seen+1, 5*time.Second)
	s.seen++
	return got[s.seen-1]
}

var (
	codeRe = regexp.MustCompile(`\b(\d{6})\b`)
	linkRe = regexp.MustCompile(`/v1/requests/(req_[a-z2-7]+)/(verify|open)\?link=([A-Za-z0-9_-]+)`)
)

// file posts a request and returns the answer.
func (s *shop) file(want int, body map[string]any, opts ...reqOpt) map[string]any {
	s.t.Helper()
	code, out, _ := s.do("POST", "/v1/requests", body, opts...)
	if code != want {
		s.t.Fatalf("POST /v1/requests %v: %d, want %d: %v", body, code, want, out)
	}
	return out
}

// verifyByMail reads the code from the request's mail and verifies with it.
func (s *shop) verifyByMail(id string) string {
	s.t.Helper()
	s.work()
	m := s.nextMail()
	if !strings.Contains(m.Text, id) {
		s.t.Fatalf("the mail does not name request %s:\n%s", id, m.Text)
	}
	c := codeRe.FindStringSubmatch(m.Text)
	if c == nil {
		s.t.Fatalf("no code in the mail:\n%s", m.Text)
	}
	code, out, _ := s.do("POST", "/v1/requests/"+id+"/verify", map[string]any{"code": c[1]})
	if code != 200 || out["status"] != "verified" {
		s.t.Fatalf("verify: %d %v", code, out)
	}
	return out["requestToken"].(string)
}

// report downloads a report; it fails the test unless the status is 200.
func (s *shop) report(id, token, format string) (string, http.Header) {
	s.t.Helper()
	req, _ := http.NewRequest("GET", s.srv.URL+"/v1/requests/"+id+"/report?format="+format, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("report %s: %d %s", format, resp.StatusCode, b)
	}
	return string(b), resp.Header
}

// customer is a shopper known to the shop: consent, identity and events.
func (s *shop) customer(userID, email string, events int) []string {
	s.t.Helper()
	s.decide(201, map[string]any{"userId": userID, "email": email, "method": "api",
		"choices": map[string]any{"analytics": true, "personalization": true}}, basic(s.server))
	ids := []string{}
	evs := []map[string]any{{
		"type": "identify", "userId": userID, "messageId": nextMessageID(),
		"traits": map[string]any{"firstName": "Ann", "plan": "gold", "password": "hunter2-secret"},
	}}
	for range events {
		evs = append(evs, productViewed(map[string]any{"userId": userID}, nil))
	}
	for _, ev := range evs {
		ids = append(ids, ev["messageId"].(string))
	}
	s.batch(s.server, evs)
	return ids
}

func TestAccessRequestByEmailEndToEnd(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		msgIDs := s.customer("ann-1", "ann@example.com", 3)
		if err := e.app.Interests.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}

		filed := s.file(202, map[string]any{"type": "access", "email": "Ann@Example.com", "jurisdiction": "opt_in"})
		id := filed["requestId"].(string)
		if filed["status"] != "pending_verification" || filed["requestToken"] != nil {
			t.Fatalf("filed = %v, want pending_verification without a token", filed)
		}
		due, _ := time.Parse(time.RFC3339, filed["dueAt"].(string))
		if d := time.Until(due); d < 27*24*time.Hour || d > 32*24*time.Hour {
			t.Errorf("GDPR due date %s is not one calendar month away", due)
		}
		// Nothing is readable before verification.
		if code, _, _ := s.do("GET", "/v1/requests/"+id, nil); code != 404 {
			t.Errorf("GET request without token: %d, want 404", code)
		}
		token := s.verifyByMail(id)

		// The work runs in the background; then the report mail comes.
		s.work()
		m := s.nextMail()
		link := linkRe.FindStringSubmatch(m.Text)
		if link == nil || link[1] != id || link[2] != "open" {
			t.Fatalf("no report link in the mail:\n%s", m.Text)
		}
		code, st, _ := s.do("GET", "/v1/requests/"+id, nil, bearer(token))
		if code != 200 || st["status"] != "completed" {
			t.Fatalf("GET request: %d %v", code, st)
		}

		body, h := s.report(id, token, "json")
		if h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("report headers: %v", h)
		}
		var rep struct {
			Schema     string `json:"schema"`
			Identities []struct{ Kind, Value string }
			Traits     map[string]any
			Consent    []struct {
				ReceiptID string          `json:"receiptId"`
				Proof     json.RawMessage `json:"proof"`
			}
			Processing []struct {
				Purpose    string `json:"purpose"`
				LegalBasis string `json:"legalBasis"`
				Retention  string `json:"retention"`
				Recipients []struct{ Name string }
			}
			Rights struct {
				Complaint struct{ Authority string }
			}
			Events []struct {
				MessageID string   `json:"messageId"`
				Purposes  []string `json:"purposes"`
				ReceiptID string   `json:"receiptId"`
			}
			EventCount int `json:"eventCount"`
			Derived    struct {
				Interests []struct{ Category string }
			}
		}
		if err := json.Unmarshal([]byte(body), &rep); err != nil {
			t.Fatalf("report JSON: %v\n%s", err, body)
		}
		if len(rep.Derived.Interests) != 1 || rep.Derived.Interests[0].Category != "Home décor/Candles" {
			t.Errorf("derived interests %+v, want the profile learnt from the views", rep.Derived.Interests)
		}
		golden(t, "access-report.json", body)
		if rep.Schema != "tact.access-report/v1" {
			t.Errorf("schema %q", rep.Schema)
		}
		var got []string
		for _, ev := range rep.Events {
			got = append(got, ev.MessageID)
			if len(ev.Purposes) == 0 || ev.ReceiptID == "" {
				t.Errorf("event %s lacks its purposes or receipt: %+v", ev.MessageID, ev)
			}
		}
		slices.Sort(got)
		slices.Sort(msgIDs)
		if !slices.Equal(got, msgIDs) || rep.EventCount != len(msgIDs) {
			t.Errorf("report events %v (count %d), want every stored event %v", got, rep.EventCount, msgIDs)
		}
		if len(rep.Consent) == 0 || rep.Consent[0].ReceiptID == "" {
			t.Errorf("no consent history: %+v", rep.Consent)
		}
		if rep.Traits["firstName"] != "Ann" || strings.Contains(body, "hunter2-secret") {
			t.Errorf("traits %v (the password must never appear)", rep.Traits)
		}
		foundEmail := false
		for _, id := range rep.Identities {
			foundEmail = foundEmail || (id.Kind == "email" && id.Value == "ann@example.com")
		}
		if !foundEmail {
			t.Errorf("identities %+v lack the verified email", rep.Identities)
		}
		purposes := map[string]bool{}
		recipients := 0
		for _, p := range rep.Processing {
			purposes[p.Purpose] = p.LegalBasis != "" && p.Retention != ""
			recipients += len(p.Recipients)
		}
		for _, p := range []string{"analytics", "personalization", "marketing_email", "consent_ledger", "audit"} {
			if !purposes[p] {
				t.Errorf("processing lacks %s with its legal basis and retention", p)
			}
		}
		if recipients == 0 || rep.Rights.Complaint.Authority == "" {
			t.Errorf("recipients %d, authority %q", recipients, rep.Rights.Complaint.Authority)
		}

		html, h := s.report(id, token, "html")
		golden(t, "access-report.html", html)
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("HTML headers: %v", h)
		}
		for _, want := range append(msgIDs, "Ann") {
			if !strings.Contains(html, want) {
				t.Errorf("HTML report lacks %q", want)
			}
		}

		// The mail link's page exchanges the link for the report (POST).
		form := url.Values{"link": {link[3]}, "format": {"json"}}
		resp, err := s.srv.Client().PostForm(s.srv.URL+"/v1/requests/"+id+"/open", form)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), msgIDs[0]) {
			t.Errorf("POST open: %d %.200s", resp.StatusCode, b)
		}
		// The read is on the audit log.
		n, err := e.app.Store.VerifyAudit(context.Background(), nil)
		if err != nil || n < 3 {
			t.Errorf("audit log: %d entries, %v", n, err)
		}
	})
}

func TestRequestTokenOpensOnlyItsRequest(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		s.customer("bo-1", "bo@example.com", 1)
		a := s.file(202, map[string]any{"type": "access", "userId": "bo-1"}, basic(s.server))
		b := s.file(202, map[string]any{"type": "access", "email": "someone@example.com"}, basic(s.server))
		idA, tokA := a["requestId"].(string), a["requestToken"].(string)
		idB := b["requestId"].(string)
		s.work()
		if code, _, _ := s.do("GET", "/v1/requests/"+idA, nil, bearer(tokA)); code != 200 {
			t.Fatalf("own token: %d", code)
		}
		for _, path := range []string{"/v1/requests/" + idB, "/v1/requests/" + idB + "/report?format=json", "/v1/requests/" + idB + "/report?format=html"} {
			if code, _, _ := s.do("GET", path, nil, bearer(tokA)); code != 404 {
				t.Errorf("GET %s with another request's token: %d, want 404", path, code)
			}
		}
		if code, _, _ := s.do("POST", "/v1/requests/"+idB+"/verify", map[string]any{"code": "123456"}, bearer(tokA)); code != 400 {
			t.Errorf("verify B: %d, want 400 (B awaits no code)", code)
		}
		resp, _ := s.srv.Client().PostForm(s.srv.URL+"/v1/requests/"+idB+"/open", url.Values{"link": {tokA}})
		if resp.StatusCode != 404 {
			t.Errorf("open B with A's token: %d, want 404", resp.StatusCode)
		}
		resp.Body.Close()
	})
}

func TestImpostorWithoutTheCodeLearnsNothingAndHitsTheLockout(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		s.customer("cy-1", "cy@example.com", 2)
		known := s.file(202, map[string]any{"type": "access", "email": "cy@example.com"})
		unknown := s.file(202, map[string]any{"type": "access", "email": "nobody-here@example.com"})
		if len(known) != len(unknown) || known["status"] != unknown["status"] {
			t.Errorf("answers differ: %v vs %v", known, unknown)
		}
		id := known["requestId"].(string)
		s.work()
		real := codeRe.FindStringSubmatch(s.nextMail().Text)[1]
		wrong := "000000"
		if wrong == real {
			wrong = "111111"
		}
		for i := 1; i <= 5; i++ {
			code, out, _ := s.do("POST", "/v1/requests/"+id+"/verify", map[string]any{"code": wrong})
			msg, _ := out["error"].(map[string]any)["message"].(string)
			if code != 400 {
				t.Fatalf("attempt %d: %d %v", i, code, out)
			}
			if i < 5 && !strings.Contains(msg, strings.TrimSpace(string(rune('0'+5-i)))+" attempts left") {
				t.Errorf("attempt %d: %q does not say how many attempts are left", i, msg)
			}
		}
		code, out, _ := s.do("POST", "/v1/requests/"+id+"/verify", map[string]any{"code": real})
		if code != 400 {
			t.Fatalf("the right code after the lockout: %d %v, want 400", code, out)
		}
		for _, p := range []string{"/v1/requests/" + id, "/v1/requests/" + id + "/report"} {
			if code, _, _ := s.do("GET", p, nil); code != 404 {
				t.Errorf("GET %s without a token: %d", p, code)
			}
		}
		s.work()
		if r, _ := e.app.Store.Requests().Request(context.Background(), id); r.Status != rights.StatusExpired {
			t.Errorf("locked request is %s, want expired", r.Status)
		}
	})
}

func TestBrowserTokenReachesOnlyItsOwnProfile(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		// A browser that consented, then logged in: its profile is linked
		// to the userId's.
		out := s.decide(201, map[string]any{"choices": map[string]any{"analytics": true, "personalization": true}}, basic(s.writeKey))
		anon, tok := out["anonymousId"].(string), out["subjectToken"].(string)
		s.customer("di-1", "di@example.com", 2)
		s.batch(s.server, []map[string]any{{"type": "identify", "userId": "di-1", "anonymousId": anon, "messageId": nextMessageID(), "traits": map[string]any{"plan": "gold"}}})

		filed := s.file(202, map[string]any{"type": "access", "subjectToken": tok})
		id, rt := filed["requestId"].(string), filed["requestToken"].(string)
		s.work()
		body, _ := s.report(id, rt, "json")
		var rep struct {
			Identities []struct{ Kind string }
			Traits     map[string]any
			Consent    []any
			EventCount int `json:"eventCount"`
		}
		if err := json.Unmarshal([]byte(body), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.EventCount != 0 || len(rep.Traits) != 0 || len(rep.Consent) != 0 {
			t.Errorf("a subject token reached linked data: %d events, traits %v, %d receipts", rep.EventCount, rep.Traits, len(rep.Consent))
		}
		for _, id := range rep.Identities {
			if id.Kind != "anonymousId" {
				t.Errorf("a subject token sees the linked %s", id.Kind)
			}
		}
		if strings.Contains(body, "di-1") || strings.Contains(body, "di@example.com") {
			t.Error("the report names the linked userId or email")
		}
	})
}

func TestRequestsBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, c := range []struct {
			body any
			want int
		}{
			{`{"type":"gossip","email":"a@example.com"}`, 400},
			{`{"type":"access","email":"not-an-email"}`, 400},
			{`{"type":"access"}`, 400},
			{`{"type":"access","userId":"u"}`, 400}, // a userId alone cannot be verified
			{`{"type":"access","email":"a@example.com","x":1}`, 400},
			{`{"type":"access","type":"erasure","email":"a@example.com"}`, 400},
			{`{"type":"access","email":"a@example.com","jurisdiction":"mars"}`, 400},
			{`{"type":"access","subjectToken":"forged"}`, 401},
			{`not json`, 400},
			{strings.Repeat(" ", 17<<10) + `{}`, 413},
		} {
			if code, out, _ := e.do("POST", "/v1/requests", c.body); code != c.want {
				t.Errorf("%.80v: %d %v, want %d", c.body, code, out, c.want)
			}
		}
		if code, _, _ := e.do("POST", "/v1/requests/req_aaaaaaaaaaaaaaaaaaaaaaaaaa/verify", map[string]any{"code": "12345"}); code != 400 {
			t.Errorf("a 5-digit code: %d, want 400", code)
		}
		if code, _, _ := e.do("POST", "/v1/requests/nonsense/verify", map[string]any{"code": "123456"}); code != 404 {
			t.Errorf("a malformed id: %d, want 404", code)
		}
	})
}

// Filing answers the same, in the same time, whether or not tact knows the
// email (DESIGN 5.4): nothing about the shopper is looked up on the way.
// 200 requests, known and unknown interleaved; the medians must differ by
// less than 1 ms. (A side-channel property, measured where it matters: the
// request path.)
func TestFilingTimingDoesNotRevealWhetherTheEmailIsKnown(t *testing.T) {
	for _, st := range storesForOne() {
		e := newEnv(t, st)
		s := newShop(t, e)
		for i := range 20 {
			s.customer("kn-"+string(rune('a'+i)), "known-"+string(rune('a'+i))+"@example.com", 1)
		}
		var known, unknown []time.Duration
		shape := map[string]bool{}
		for i := range 200 {
			email := "known-" + string(rune('a'+i%20)) + "@example.com"
			if i%2 == 1 {
				email = "stranger-" + string(rune('a'+i%20)) + "@example.com"
			}
			t0 := time.Now()
			code, out, _ := s.do("POST", "/v1/requests", map[string]any{"type": "access", "email": email})
			d := time.Since(t0)
			if code != 202 {
				t.Fatalf("%d %v", code, out)
			}
			keys := []string{}
			for k := range out {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			shape[strings.Join(keys, ",")+"/"+out["status"].(string)] = true
			if i%2 == 0 {
				known = append(known, d)
			} else {
				unknown = append(unknown, d)
			}
		}
		if len(shape) != 1 {
			t.Errorf("answers differ in shape: %v", shape)
		}
		med := func(ds []time.Duration) time.Duration {
			slices.Sort(ds)
			return ds[len(ds)/2]
		}
		mk, mu := med(known), med(unknown)
		diff := mk - mu
		if diff < 0 {
			diff = -diff
		}
		t.Logf("median known %v, unknown %v, difference %v", mk, mu, diff)
		if diff >= time.Millisecond {
			t.Errorf("median filing time differs by %v between known and unknown emails (known %v, unknown %v)", diff, mk, mu)
		}
	}
}

// Filing is limited per email address (so the code mail cannot be used to
// flood someone), per client IP and per key.
func TestRequestsAreRateLimited(t *testing.T) {
	for _, st := range storesForOne() {
		e := newEnvWith(t, st, func(s *httpapi.Server) { s.RequestLimits = httpapi.RequestLimits{PerEmail: 2, PerIP: 5, PerKey: 3} })
		file := func(email string, opts ...reqOpt) (int, http.Header) {
			code, _, h := e.do("POST", "/v1/requests", map[string]any{"type": "access", "email": email}, opts...)
			return code, h
		}
		for i := range 2 {
			if code, _ := file("flood@example.com"); code != 202 {
				t.Fatalf("filing %d: %d", i, code)
			}
		}
		code, h := file("FLOOD@example.com")
		if code != 429 || h.Get("Retry-After") == "" {
			t.Errorf("third filing for one address: %d, Retry-After %q", code, h.Get("Retry-After"))
		}
		if code, _ := file("other@example.com"); code != 202 {
			t.Errorf("another address: %d", code)
		}
		for range 3 {
			file("more@example.com") // the IP's budget runs out
		}
		if code, _ := file("fresh@example.com"); code != 429 {
			t.Errorf("beyond the per-IP limit: %d", code)
		}
	}
}

// The code mail's link opens a page whose button confirms with a POST: a
// mail scanner following the link (GET) confirms nothing.
func TestVerificationLinkConfirmsOnlyWithAPost(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		filed := s.file(202, map[string]any{"type": "access", "email": "lea@example.com"})
		id := filed["requestId"].(string)
		s.work()
		m := linkRe.FindStringSubmatch(s.nextMail().Text)
		if m == nil || m[1] != id || m[2] != "verify" {
			t.Fatalf("no verification link in the mail")
		}
		page := e.raw("/v1/requests/" + id + "/verify?link=" + m[3])
		if !strings.Contains(page, `method="post"`) || !strings.Contains(page, m[3]) {
			t.Fatalf("the link's page has no confirming form:\n%s", page)
		}
		if r, _ := e.app.Store.Requests().Request(context.Background(), id); r.Status != rights.StatusPendingVerification {
			t.Fatalf("a GET of the link changed the request to %s", r.Status)
		}
		resp, err := s.srv.Client().PostForm(s.srv.URL+"/v1/requests/"+id+"/verify", url.Values{"link": {m[3]}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "Thank you") {
			t.Fatalf("POST of the form: %d %s", resp.StatusCode, body)
		}
		if r, _ := e.app.Store.Requests().Request(context.Background(), id); r.Status != rights.StatusVerified {
			t.Errorf("after the POST the request is %s", r.Status)
		}
		// The link is single use.
		resp, _ = s.srv.Client().PostForm(s.srv.URL+"/v1/requests/"+id+"/verify", url.Values{"link": {m[3]}})
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), "did not work") {
			t.Errorf("the link worked twice: %d %s", resp.StatusCode, body)
		}
	})
}
