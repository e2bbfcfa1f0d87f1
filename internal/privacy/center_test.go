package privacy_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/privacy"
	"github.com/tact-cdp/tact/internal/rights"
)

var receiptInLocation = regexp.MustCompile(`receipt=(rc_[a-z2-7]{32})`)

// resolve resolves a redirect's relative Location against the path it
// answered.
func resolve(from, loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		panic(err)
	}
	return (&url.URL{Path: from}).ResolveReference(u).RequestURI()
}

// strictPage checks what every center page must be: HTML under the strict
// CSP, with no inline script, inline style or event handler.
func strictPage(t *testing.T, a answer) string {
	t.Helper()
	if got := a.header.Get("Content-Security-Policy"); got != privacy.CSP {
		t.Errorf("CSP %q, want %q", got, privacy.CSP)
	}
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'", "form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(privacy.CSP, d) {
			t.Errorf("CSP lacks %q", d)
		}
	}
	if !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Errorf("Content-Type %q", a.header.Get("Content-Type"))
	}
	if a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store (the page shows one shopper's choices)", a.header.Get("Cache-Control"))
	}
	page := string(a.body)
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(m, ` src="`) && !strings.Contains(m, `type="application/json"`) {
			t.Errorf("inline script %s", m)
		}
	}
	if regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=`).MatchString(page) {
		t.Errorf("inline style or event handler in the page")
	}
	return page
}

func TestPageInBothLocales(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		tok := e.browser(map[string]bool{"analytics": true})
		_, st := e.state(tok)
		receipt := st["analytics"].ReceiptID
		for _, tt := range []struct {
			query, acceptLanguage, lang string
			want                        []string
		}{
			{"?locale=en", "", "en", []string{"Privacy center", "Your choices", "Allowed", "Save my choices", "Hearth &amp; Home", "Your interest profile", "Ask for a copy"}},
			{"?locale=zh-CN", "", "zh-CN", []string{"隐私中心", "您的选择", "已允许", "保存我的选择", "您的兴趣画像", "索取副本"}},
			{"?locale=zh", "", "zh-CN", []string{"隐私中心"}},
			{"?locale=fr", "", "en", []string{"Privacy center"}},
			{"", "zh-CN,zh;q=0.9,en;q=0.5", "zh-CN", []string{"隐私中心"}},
			{"", "de-DE,de", "en", []string{"Privacy center"}},
		} {
			a := e.do("GET", "/privacy"+tt.query, nil, withCookie(tok), withHeader("Accept-Language", tt.acceptLanguage))
			if a.status != 200 {
				t.Fatalf("GET /privacy%s: %d %s", tt.query, a.status, a.body)
			}
			page := strictPage(t, a)
			if !strings.Contains(page, `<html lang="`+tt.lang+`">`) {
				t.Errorf("%s: page is not in %s", tt.query, tt.lang)
			}
			notice := e.app.DataMap.Notice(tt.lang)
			want := append(tt.want, receipt, notice.Purposes[1].Title, `action="privacy/consent"`, `src="privacy/app.js?v=`, `href="privacy/app.css?v=`)
			for _, w := range want {
				if !strings.Contains(page, w) {
					t.Errorf("%s: page lacks %q", tt.query, w)
				}
			}
		}
	})
}

func TestWithoutCookieTheEmptyStateAndTheNotice(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := e.do("GET", "/privacy?locale=en", nil)
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.body)
		}
		page := strictPage(t, a)
		n := e.app.DataMap.Notice("en")
		for _, w := range []string{"No choices are recorded in this browser", n.Controller.Name, n.Purposes[1].Title, n.Categories[0].Title, n.Rights.HowTo} {
			if !strings.Contains(page, w) {
				t.Errorf("page lacks %q", w)
			}
		}
		for _, w := range []string{`action="privacy/consent"`, `action="privacy/requests"`, `action="privacy/interests`} {
			if strings.Contains(page, w) {
				t.Errorf("without a cookie the page offers %s", w)
			}
		}
		zh := string(e.do("GET", "/privacy?locale=zh-CN", nil).body)
		if !strings.Contains(zh, "此浏览器中没有记录任何选择") {
			t.Errorf("zh-CN empty state missing")
		}
		// A cookie that is not a valid token says the proof expired.
		if page := string(e.do("GET", "/privacy?locale=en", nil, withCookie("st1.garbage")).body); !strings.Contains(page, "expired or is no longer valid") {
			t.Errorf("an invalid cookie does not say so")
		}
	})
}

func TestChangingChoicesMakesANewReceiptAndRotatesTheCookie(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		tok := e.browser(map[string]bool{"analytics": true, "personalization": false})
		_, before := e.state(tok)
		size := e.ledgerSize()

		// A plain form post: a new receipt, a redirect back, a new cookie.
		a := e.do("POST", "/privacy/consent", url.Values{
			"locale": {"zh-CN"}, "noticeVersion": {e.app.Policy.NoticeVersion},
			"decide": {"analytics", "personalization"}, "grant": {"personalization"},
		}, withCookie(tok))
		if a.status != 303 {
			t.Fatalf("form post: %d %s", a.status, a.body)
		}
		loc := a.header.Get("Location")
		m := receiptInLocation.FindStringSubmatch(loc)
		if !strings.HasPrefix(loc, "../privacy?") || !strings.Contains(loc, "done=consent") || !strings.Contains(loc, "locale=zh-CN") || m == nil {
			t.Fatalf("redirect to %q", loc)
		}
		id := m[1]
		if got := e.ledgerSize(); got != size+1 {
			t.Errorf("ledger %d → %d, want one new receipt", size, got)
		}
		c := a.cookie("tact_st")
		if c == nil || c.Value == "" || c.Value == tok || !c.HttpOnly || c.Path != "/" || c.MaxAge <= 0 || c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("rotated cookie %+v", c)
		}
		_, after := e.state(c.Value)
		if after["analytics"].Granted || !after["personalization"].Granted || after["personalization"].ReceiptID != id {
			t.Errorf("state after the change: %+v", after)
		}
		if before["analytics"].ReceiptID == id {
			t.Errorf("the change reused the old receipt")
		}
		r := e.receipt(id)
		if r["method"] != string(consent.MethodPrivacyCenter) || r["language"] != "zh-CN" {
			t.Errorf("receipt method %v language %v, want privacy_center zh-CN", r["method"], r["language"])
		}

		// The page after the redirect shows the choice and its receipt.
		page := string(e.do("GET", resolve("/privacy/consent", loc), nil, withCookie(c.Value)).body)
		if !strings.Contains(page, "您的选择已保存") || !strings.Contains(page, `data-receipt="`+id+`" data-auto="1"`) {
			t.Errorf("page after the change lacks the confirmation and receipt")
		}

		// JSON from a script; a separately consented purpose granted with
		// another becomes a receipt of its own.
		a = e.do("POST", "/privacy/consent", map[string]any{"choices": map[string]bool{"sensitive_personalization": true, "marketing_sms": true, "analytics": false}},
			withCookie(c.Value), withHeader("Sec-Fetch-Site", "same-origin"))
		if a.status != 201 {
			t.Fatalf("JSON post: %d %s", a.status, a.body)
		}
		ids, _ := a.json["receiptIds"].([]any)
		if len(ids) != 2 || a.json["receiptId"] != ids[0] {
			t.Fatalf("receipts %v, want two (sensitive personalisation asked separately)", a.json)
		}
		if _, ok := a.json["subjectToken"]; ok {
			t.Errorf("the answer carries the subject token: it belongs in the HttpOnly cookie only")
		}
		c2 := a.cookie("tact_st")
		if c2 == nil || c2.Value == c.Value {
			t.Fatalf("no rotated cookie after the JSON change")
		}
		_, st := e.state(c2.Value)
		if !st["sensitive_personalization"].Granted || !st["marketing_sms"].Granted || st["analytics"].Granted {
			t.Errorf("state %+v", st)
		}
		if st["sensitive_personalization"].ReceiptID == st["marketing_sms"].ReceiptID {
			t.Errorf("sensitive personalisation shares a receipt with another grant")
		}

		// A GPC signal keeps advertising off whatever is chosen.
		a = e.do("POST", "/privacy/consent", map[string]any{"choices": map[string]bool{"advertising": true}}, withCookie(c2.Value), withHeader("Sec-GPC", "1"))
		if a.status != 201 {
			t.Fatalf("GPC post: %d %s", a.status, a.body)
		}
		if _, st := e.state(a.cookie("tact_st").Value); st["advertising"].Granted {
			t.Errorf("advertising granted despite GPC")
		}
	})
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		tok := e.browser(map[string]bool{"analytics": true, "personalization": true})
		subj, before := e.state(tok)
		size := e.ledgerSize()
		attacks := []struct {
			name string
			opts []opt
		}{
			{"cross-site", []opt{withHeader("Sec-Fetch-Site", "cross-site"), withHeader("Origin", "https://evil.example")}},
			{"same-site (another subdomain)", []opt{withHeader("Sec-Fetch-Site", "same-site"), withHeader("Origin", "https://shop.example")}},
			{"old browser, foreign Origin", []opt{withHeader("Origin", "https://evil.example")}},
		}
		posts := []struct {
			path string
			body any
		}{
			{"/privacy/consent", url.Values{"decide": {"analytics"}}},
			{"/privacy/consent", map[string]any{"choices": map[string]bool{"analytics": false}}},
			{"/privacy/interests/pause", url.Values{}},
			{"/privacy/interests/delete", url.Values{"category": {"Toys"}}},
			{"/privacy/requests", url.Values{"type": {"erasure"}, "confirm": {"yes"}}},
		}
		for _, at := range attacks {
			for _, p := range posts {
				a := e.do("POST", p.path, p.body, append([]opt{withCookie(tok)}, at.opts...)...)
				if a.status != 403 {
					t.Errorf("%s POST %s: %d, want 403", at.name, p.path, a.status)
				}
				if a.cookie("tact_st") != nil {
					t.Errorf("%s POST %s set a cookie", at.name, p.path)
				}
			}
		}
		if got := e.ledgerSize(); got != size {
			t.Errorf("refused posts changed the ledger: %d → %d", size, got)
		}
		if _, after := e.state(tok); after["analytics"].ReceiptID != before["analytics"].ReceiptID || !after["analytics"].Granted {
			t.Errorf("refused posts changed the state")
		}
		if prof, _ := e.app.Interests.Profile(context.Background(), subj.ID, time.Now()); prof.Paused {
			t.Errorf("a refused post paused personalisation")
		}
		// The same post from the center's own page goes through.
		a := e.do("POST", "/privacy/interests/pause", url.Values{}, withCookie(tok),
			withHeader("Sec-Fetch-Site", "same-origin"), withHeader("Origin", e.srv.URL))
		if a.status != 303 {
			t.Errorf("same-origin post: %d %s", a.status, a.body)
		}
	})
}

func TestPostsPerBrowserAreCappedAndProxiesCanBeTrusted(t *testing.T) {
	e := newEnvWith(t, sqliteOnly(t), datamap.Default(), func(c *privacy.Center) {
		c.PostsPerHour = 2
		c.TrustedOrigins = []string{"https://shop.example"}
	})
	tok := e.browser(map[string]bool{"analytics": true})
	other := e.browser(map[string]bool{"analytics": true})
	// A proxy serving the center on the shop's own origin: its posts carry
	// that Origin and a Host tact does not know.
	proxied := []opt{withHeader("Origin", "https://shop.example"), withHeader("Sec-Fetch-Site", "same-site")}
	for i, want := range []int{200, 200, 429} {
		a := e.do("POST", "/privacy/interests/pause", map[string]any{}, append([]opt{withCookie(tok)}, proxied...)...)
		if a.status != want {
			t.Errorf("post %d: %d %s, want %d", i+1, a.status, a.body, want)
		}
		if want == 429 && (errCode(a) != "rate_limited" || a.header.Get("Retry-After") == "") {
			t.Errorf("the cap's answer: %v %v", a.header, a.json)
		}
	}
	if a := e.do("POST", "/privacy/interests/pause", map[string]any{}, withCookie(other)); a.status != 200 {
		t.Errorf("another browser is capped too: %d", a.status)
	}
	if a := e.do("POST", "/privacy/interests/pause", map[string]any{}, withCookie(other), withHeader("Origin", "https://evil.example"), withHeader("Sec-Fetch-Site", "cross-site")); a.status != 403 {
		t.Errorf("an untrusted origin: %d", a.status)
	}
}

func TestInterestsReachPersonalisation(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		tok := e.browser(map[string]bool{"analytics": true, "personalization": true})
		subj, _ := e.state(tok)
		now := time.Now()
		e.app.Interests.Observe(subj.ID, "Home/Lamps", "Order Completed", now)
		e.app.Interests.Observe(subj.ID, "Toys", "Product Viewed", now)
		if err := e.app.Interests.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		page := string(e.do("GET", "/privacy?locale=en", nil, withCookie(tok)).body)
		for _, w := range []string{"Home/Lamps", "Toys", `action="privacy/interests/delete"`, `action="privacy/interests/pause"`, "<meter"} {
			if !strings.Contains(page, w) {
				t.Errorf("page lacks %q", w)
			}
		}

		a := e.do("POST", "/privacy/interests/delete", url.Values{"category": {"Toys"}, "locale": {"en"}}, withCookie(tok))
		if a.status != 303 || !strings.Contains(a.header.Get("Location"), "done=deleted") {
			t.Fatalf("delete: %d %s", a.status, a.header.Get("Location"))
		}
		prof, err := e.app.Interests.Profile(ctx, subj.ID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var cats []string
		for _, in := range prof.Interests {
			cats = append(cats, in.Category)
		}
		if slices.Contains(cats, "Toys") || !slices.Contains(prof.Muted, "Toys") || !slices.Contains(cats, "Home/Lamps") {
			t.Errorf("after delete: categories %v muted %v", cats, prof.Muted)
		}

		a = e.do("POST", "/privacy/interests/pause", map[string]any{}, withCookie(tok))
		if a.status != 200 || a.json["paused"] != true {
			t.Fatalf("pause: %d %s", a.status, a.body)
		}
		if prof, _ := e.app.Interests.Profile(ctx, subj.ID, time.Now()); !prof.Paused {
			t.Errorf("not paused")
		}
		page = string(e.do("GET", "/privacy?locale=en", nil, withCookie(tok)).body)
		if !strings.Contains(page, "Personalisation is paused.") || !strings.Contains(page, `action="privacy/interests/resume"`) {
			t.Errorf("page does not show the pause")
		}
		a = e.do("POST", "/privacy/interests/resume", url.Values{"locale": {"zh-CN"}}, withCookie(tok))
		if a.status != 303 || !strings.Contains(a.header.Get("Location"), "done=resumed") {
			t.Fatalf("resume: %d %s", a.status, a.body)
		}
		if prof, _ := e.app.Interests.Profile(ctx, subj.ID, time.Now()); prof.Paused {
			t.Errorf("still paused")
		}

		// Without personalisation consent the profile is not shown.
		other := e.browser(map[string]bool{"analytics": true})
		if page := string(e.do("GET", "/privacy?locale=en", nil, withCookie(other)).body); !strings.Contains(page, "no interest profile is kept") {
			t.Errorf("profile section without consent")
		}
	})
}

func TestRequestsFiledFromTheCenter(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		tok := e.browser(map[string]bool{"analytics": true, "advertising": true})

		a := e.do("POST", "/privacy/requests", map[string]any{"type": "access", "locale": "en"}, withCookie(tok))
		if a.status != 202 {
			t.Fatalf("access: %d %s", a.status, a.body)
		}
		id, _ := a.json["requestId"].(string)
		rt, _ := a.json["requestToken"].(string)
		if !rights.ValidID(id) || rt == "" || a.json["status"] != string(rights.StatusVerified) || a.json["dueAt"] == nil {
			t.Fatalf("answer %v", a.json)
		}
		// The request is the browser's own, readable with its token.
		g := e.do("GET", "/v1/requests/"+id, nil, withHeader("Authorization", "Bearer "+rt))
		if g.status != 200 || g.json["type"] != "access" {
			t.Errorf("GET /v1/requests/%s: %d %v", id, g.status, g.json)
		}

		// A plain form: an immediate opt-out, answered by a redirect.
		a = e.do("POST", "/privacy/requests", url.Values{"type": {"opt_out_sale"}, "locale": {"zh-CN"}}, withCookie(tok))
		loc := a.header.Get("Location")
		if a.status != 303 || !strings.Contains(loc, "done=request") || !regexp.MustCompile(`request=req_[a-z2-7]{26}`).MatchString(loc) {
			t.Fatalf("form request: %d %q", a.status, loc)
		}
		if _, st := e.state(tok); st["advertising"].Granted {
			t.Errorf("the opt-out left advertising granted")
		}
		page := string(e.do("GET", resolve("/privacy/requests", loc), nil, withCookie(tok)).body)
		if !strings.Contains(page, "您的请求已收到") || !strings.Contains(page, "已完成") {
			t.Errorf("page after the request lacks the confirmation")
		}

		// Erasure must be confirmed.
		if a := e.do("POST", "/privacy/requests", map[string]any{"type": "erasure"}, withCookie(tok)); a.status != 400 || errCode(a) != "invalid" {
			t.Errorf("unconfirmed erasure: %d %s", a.status, a.body)
		}
		if a := e.do("POST", "/privacy/requests", url.Values{"type": {"erasure"}, "confirm": {"yes"}}, withCookie(tok)); a.status != 303 {
			t.Errorf("confirmed erasure: %d %s", a.status, a.body)
		}
	})
}

func TestBadInputIsRefusedClearly(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		tok := e.browser(map[string]bool{"analytics": true})
		size := e.ledgerSize()
		big := `{"choices":{"analytics":true},"locale":"` + strings.Repeat("x", 9<<10) + `"}`
		for _, tt := range []struct {
			name, method, path string
			body               any
			cookie             string
			status             int
			code, message      string
		}{
			{"unknown purpose", "POST", "/privacy/consent", map[string]any{"choices": map[string]bool{"telepathy": true}}, tok, 400, "invalid", "unknown purpose"},
			{"refusing the necessary", "POST", "/privacy/consent", map[string]any{"choices": map[string]bool{"necessary": false}}, tok, 400, "invalid", "cannot be refused"},
			{"only the necessary", "POST", "/privacy/consent", map[string]any{"choices": map[string]bool{"necessary": true}}, tok, 400, "invalid", "at least one purpose"},
			{"no choices", "POST", "/privacy/consent", map[string]any{"choices": map[string]bool{}}, tok, 400, "invalid", "at least one purpose"},
			{"unknown field", "POST", "/privacy/consent", `{"choices":{"analytics":true},"method":"banner"}`, tok, 400, "invalid", "unknown field"},
			{"malformed JSON", "POST", "/privacy/consent", `{"choices":`, tok, 400, "invalid", "JSON"},
			{"bad locale in a post", "POST", "/privacy/consent", map[string]any{"choices": map[string]bool{"analytics": false}, "locale": "<script>"}, tok, 400, "invalid", "locale"},
			{"unpublished notice", "POST", "/privacy/consent", map[string]any{"choices": map[string]bool{"analytics": false}, "noticeVersion": "nope"}, tok, 400, "invalid", "notice"},
			{"no cookie: consent", "POST", "/privacy/consent", map[string]any{"choices": map[string]bool{"analytics": false}}, "", 401, "unauthorized", "no choices are recorded"},
			{"no cookie: pause", "POST", "/privacy/interests/pause", map[string]any{}, "", 401, "unauthorized", "cookie"},
			{"no cookie: delete", "POST", "/privacy/interests/delete", map[string]any{"category": "Toys"}, "", 401, "unauthorized", "cookie"},
			{"no cookie: request", "POST", "/privacy/requests", map[string]any{"type": "access"}, "", 401, "unauthorized", "cookie"},
			{"forged cookie", "POST", "/privacy/consent", map[string]any{"choices": map[string]bool{"analytics": false}}, "st1.forged", 401, "unauthorized", "invalid or expired"},
			{"oversized body", "POST", "/privacy/consent", big, tok, 413, "too_large", "over"},
			{"no category", "POST", "/privacy/interests/delete", map[string]any{"category": " / "}, tok, 400, "invalid", "category"},
			{"rectification", "POST", "/privacy/requests", map[string]any{"type": "rectify"}, tok, 400, "invalid", "email"},
			{"unknown request type", "POST", "/privacy/requests", map[string]any{"type": "everything"}, tok, 400, "invalid", "type must be"},
			{"purposes on an access request", "POST", "/privacy/requests", map[string]any{"type": "access", "purposes": []string{"analytics"}}, tok, 400, "invalid", "purposes"},
			{"unknown jurisdiction", "POST", "/privacy/requests", map[string]any{"type": "object", "jurisdiction": "atlantis"}, tok, 400, "invalid", "jurisdiction"},
			{"no such page", "GET", "/privacy/nope", nil, tok, 404, "not_found", "no such page"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				opts := []opt{withHeader("Accept", "application/json")}
				if tt.cookie != "" {
					opts = append(opts, withCookie(tt.cookie))
				}
				a := e.do(tt.method, tt.path, tt.body, opts...)
				msg := ""
				if er, ok := a.json["error"].(map[string]any); ok {
					msg, _ = er["message"].(string)
				}
				if a.status != tt.status || errCode(a) != tt.code || !strings.Contains(msg, tt.message) {
					t.Errorf("%d %s, want %d %s containing %q", a.status, a.body, tt.status, tt.code, tt.message)
				}
				if a.cookie("tact_st") != nil {
					t.Errorf("a refused request set the cookie")
				}
			})
		}
		if got := e.ledgerSize(); got != size {
			t.Errorf("refused requests changed the ledger: %d → %d", size, got)
		}

		// The page itself: a malformed locale is refused, as an HTML page
		// under the same CSP.
		a := e.do("GET", "/privacy?locale=%3Cscript%3E", nil, withCookie(tok))
		if a.status != 400 {
			t.Fatalf("bad locale: %d", a.status)
		}
		if page := strictPage(t, a); !strings.Contains(page, "locale is not a language tag") {
			t.Errorf("bad locale page: %s", page)
		}
		// A form post's error is a page too, with a way back.
		a = e.do("POST", "/privacy/consent", url.Values{"grant": {"telepathy"}, "locale": {"zh-CN"}}, withCookie(tok))
		if page := strictPage(t, a); a.status != 400 || !strings.Contains(page, "操作未成功") || !strings.Contains(page, `href="../privacy?locale=zh-CN"`) {
			t.Errorf("form error: %d %s", a.status, page)
		}
		if a := e.do("GET", "/privacy/consent", nil, withHeader("Accept", "application/json")); a.status != 405 || a.header.Get("Allow") != "POST" {
			t.Errorf("GET of an action: %d %v", a.status, a.header)
		}
	})
}

func TestAssets(t *testing.T) {
	e := newEnv(t, sqliteOnly(t))
	page := string(e.do("GET", "/privacy", nil).body)
	for _, tt := range []struct{ path, ctype, want string }{
		{"/privacy/app.js", "text/javascript", "verifyReceipt"},
		{"/privacy/app.css", "text/css", ":root{--accent:#0b6e4f;"},
	} {
		a := e.do("GET", tt.path, nil)
		if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), tt.ctype) || a.header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(string(a.body), tt.want) {
			t.Errorf("%s: %d %v", tt.path, a.status, a.header)
		}
		v := regexp.MustCompile(regexp.QuoteMeta(strings.TrimPrefix(tt.path, "/")) + `\?v=([0-9a-f]+)`).FindStringSubmatch(page)
		if v == nil {
			t.Fatalf("page does not link %s with a version", tt.path)
		}
		if a := e.do("GET", tt.path+"?v="+v[1], nil); !strings.Contains(a.header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s?v=%s: Cache-Control %q", tt.path, v[1], a.header.Get("Cache-Control"))
		}
		if a.header.Get("Cache-Control") != "no-cache" {
			t.Errorf("%s without version: Cache-Control %q", tt.path, a.header.Get("Cache-Control"))
		}
	}
	if a := e.do("GET", "/privacy/", nil); a.status != 301 || a.header.Get("Location") != "../privacy" {
		t.Errorf("/privacy/: %d %q", a.status, a.header.Get("Location"))
	}
}

func TestTextsInEveryLocale(t *testing.T) {
	// Every string the page uses exists in both languages (a missing one
	// would render empty).
	en, zh := privacy.Texts(datamap.LocaleEN), privacy.Texts(datamap.LocaleZH)
	for k, v := range en {
		if zh[k] == "" || v == "" {
			t.Errorf("text %q: en %q, zh-CN %q", k, v, zh[k])
		}
	}
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("text %q only in zh-CN", k)
		}
	}
	for _, typ := range rights.Types {
		if typ != rights.TypeRectify && en["btn_"+string(typ)] == "" {
			t.Errorf("no button text for %s", typ)
		}
	}
	for _, st := range rights.Statuses {
		if en["st_"+string(st)] == "" {
			t.Errorf("no text for status %s", st)
		}
	}
}
