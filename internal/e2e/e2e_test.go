// Package e2e drives tact.js, the privacy center and the demo shop in
// headless Chromium (issue 6): tact and the shop run on two origins, as in
// a real deployment, and the tests check what reaches the store.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/collect/segment"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/demo"
	"github.com/tact-cdp/tact/internal/measure"
	"github.com/tact-cdp/tact/internal/store/sqlite"
	"github.com/tact-cdp/tact/internal/testenv"
	"github.com/tact-cdp/tact/internal/vault"
)

// stack is tact and the demo shop with a browser.
type stack struct {
	t       *testing.T
	st      *demo.Stack
	app     *app.App
	browser context.Context
}

func newStack(t *testing.T) *stack {
	t.Helper()
	chromium := testenv.BrowserPath(t, "internal/e2e")
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	root, err := vault.GenerateRootSecret()
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, app.Config{DataDir: dir}, db, root, datamap.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	st, err := demo.Start(ctx, a, listen(), listen(), demo.Products("", 0), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.Headless, chromedp.WindowSize(1280, 900), chromedp.Flag("lang", "en-US"))
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	tctx, cancelT := context.WithTimeout(bctx, 60*time.Second)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	if err := chromedp.Do(tctx); err != nil { // start the browser
		t.Fatal(err)
	}
	return &stack{t: t, st: st, app: a, browser: tctx}
}

func (s *stack) run(actions ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	if err := chromedp.Do(s.browser, actions...); err != nil {
		s.t.Fatal(err)
	}
}

// eval runs JavaScript in the page and decodes its result into v.
func (s *stack) eval(js string, v any) {
	s.t.Helper()
	raw, err := chromedp.Run(s.browser, chromedp.Evaluate[json.RawMessage](js))
	if err != nil {
		s.t.Fatalf("%s: %v", js, err)
	}
	if v == nil || len(raw) == 0 {
		return
	}
	if err := json.Unmarshal(raw, v); err != nil {
		s.t.Fatalf("%s: decoding %s: %v", js, raw, err)
	}
}

// js runs JavaScript for its effect.
func (s *stack) js(code string) { s.t.Helper(); s.eval(code, nil) }

// consentState waits for tact.js to know the browser's consent and
// returns it.
func (s *stack) consentState() map[string]any {
	s.t.Helper()
	var st map[string]any
	for range 100 {
		s.eval(`window.tact && tact.consent.get()`, &st)
		if st != nil && st["decided"] == true && st["anonymousId"] != nil {
			return st
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("tact.js never recorded a decision: %v", st)
	return nil
}

// serverState reads the browser's consent as tact stores it.
func (s *stack) serverState(anonymousID string) map[string]consent.PurposeView {
	s.t.Helper()
	_, state, err := s.app.Consent.State(context.Background(), true, consent.Lookup{AnonymousID: anonymousID})
	if err != nil {
		s.t.Fatalf("no consent stored for the browser: %v", err)
	}
	return state
}

// storedPurposes returns the purposes of every event stored for the
// browser, waiting a little for the tracker's batch.
func (s *stack) storedPurposes(anonymousID string, want int) [][]string {
	s.t.Helper()
	var out [][]string
	for range 60 {
		s.run(chromedp.Evaluate[chromedp.Void](`tact.flush && tact.flush()`))
		out = nil
		v, err := s.app.Collect.Read(context.Background(), vault.KindAnonymousID, anonymousID, "support", true, 0, 1000)
		if err == nil {
			for _, e := range v.Events {
				out = append(out, e.Purposes)
			}
		}
		if len(out) >= want {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
	return out
}

// artifact saves a screenshot where CI keeps test artifacts
// (TACT_ARTIFACTS, default a tact-e2e directory under the temp dir).
func (s *stack) artifact(name string) {
	s.t.Helper()
	dir := os.Getenv("TACT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "tact-e2e")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Fatal(err)
	}
	png, err := chromedp.Run(s.browser, chromedp.CaptureScreenshot())
	if err != nil {
		s.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("screenshot: %s", path)
}

func (s *stack) cookies() []*network.Cookie {
	s.t.Helper()
	res, err := chromedp.Call(s.browser, network.GetCookies, network.GetCookiesParams{URLs: []string{s.st.TactURL, s.st.ShopURL}})
	if err != nil {
		s.t.Fatal(err)
	}
	return res.Cookies
}

func (s *stack) openShop(path string) {
	s.t.Helper()
	s.run(chromedp.Navigate(s.st.ShopURL+path), chromedp.WaitVisible(chromedp.CSS(`#tact-banner`)))
}

func TestBeforeAnyChoiceNothingIsStoredOnTheDevice(t *testing.T) {
	s := newStack(t)
	s.openShop("/")
	if cs := s.cookies(); len(cs) != 0 {
		t.Errorf("cookies before any choice: %v", cs)
	}
	var storage struct {
		Local, Session int
		Runs           any
	}
	s.eval(`({Local: localStorage.length, Session: sessionStorage.length, Runs: window.demoAnalyticsRuns || 0})`, &storage)
	if storage.Local != 0 || storage.Session != 0 || storage.Runs != float64(0) {
		t.Errorf("before any choice: %+v (want empty storage and the held-back script not run)", storage)
	}
	var roles struct{ Role, Modal, Label string }
	s.eval(`({Role: document.getElementById('tact-banner').getAttribute('role'), Modal: document.getElementById('tact-banner').getAttribute('aria-modal'), Label: document.getElementById('tact-banner').getAttribute('aria-labelledby')})`, &roles)
	if roles.Role != "dialog" || roles.Modal != "true" || roles.Label == "" {
		t.Errorf("banner ARIA: %+v", roles)
	}
	// The three first-layer buttons are equally prominent.
	var sizes []string
	s.eval(`['tact-accept-all','tact-reject-all','tact-choose'].map(id => { const b = document.getElementById(id), r = b.getBoundingClientRect(), c = getComputedStyle(b); return [Math.round(r.height), c.fontSize, c.fontWeight, c.backgroundColor, c.color].join(' ') })`, &sizes)
	if len(sizes) != 3 || sizes[0] != sizes[1] || sizes[1] != sizes[2] {
		t.Errorf("Accept all, Reject all and Choose differ: %q", sizes)
	}
	s.artifact("banner-en")
}

func TestRejectAllStoresNothingPersonal(t *testing.T) {
	s := newStack(t)
	s.openShop("/")
	s.run(chromedp.Click(chromedp.CSS(`#tact-reject-all`)))
	st := s.consentState()
	anon := st["anonymousId"].(string)
	for p, v := range s.serverState(anon) {
		if v.Granted && p != datamap.PurposeNecessary {
			t.Errorf("%s granted after Reject all", p)
		}
	}
	s.run(chromedp.Navigate(s.st.ShopURL+"/p/85123A"), chromedp.WaitReady(chromedp.CSS(`#product`)),
		chromedp.Click(chromedp.CSS(`#add-to-cart`)))
	time.Sleep(500 * time.Millisecond)
	s.run(chromedp.Evaluate[chromedp.Void](`tact.flush && tact.flush()`))
	time.Sleep(500 * time.Millisecond)
	if n, err := s.app.Store.CountEventsStored(context.Background()); err != nil || n != 0 {
		t.Errorf("%d personal events stored after Reject all (%v)", n, err)
	}
	// Reject all also objects to consent-free measurement.
	if hits := measuredHits(s.app); hits != 0 {
		t.Errorf("%d hits measured after Reject all, want none (an objection)", hits)
	}
	var runs any
	s.eval(`window.demoAnalyticsRuns || 0`, &runs)
	if runs != float64(0) {
		t.Errorf("the analytics tag ran after Reject all (%v)", runs)
	}
	// The subject token is tact's HttpOnly cookie: never readable by the page.
	var jar string
	s.eval(`document.cookie`, &jar)
	if strings.Contains(jar, "tact_st") {
		t.Errorf("document.cookie shows the subject token: %q", jar)
	}
}

func TestAcceptAllStoresEventsWithTheirPurposes(t *testing.T) {
	s := newStack(t)
	s.openShop("/")
	s.run(chromedp.Click(chromedp.CSS(`#tact-accept-all`)))
	anon := s.consentState()["anonymousId"].(string)
	state := s.serverState(anon)
	if !state["analytics"].Granted || !state["personalization"].Granted || state["sensitive_personalization"].Granted {
		t.Errorf("after Accept all: analytics %v, personalization %v, sensitive_personalization %v (must stay denied)",
			state["analytics"].Granted, state["personalization"].Granted, state["sensitive_personalization"].Granted)
	}
	// The held-back tag is an external script: it runs once loaded.
	if runs := s.analyticsRuns(1); runs != 1 {
		t.Errorf("the held-back analytics tag ran %v times after Accept all, want once", runs)
	}
	var runs any
	s.run(chromedp.Navigate(s.st.ShopURL+"/p/85123A"), chromedp.WaitReady(chromedp.CSS(`#product`)))
	got := s.storedPurposes(anon, 1)
	found := false
	for _, ps := range got {
		if slices.Contains(ps, "analytics") && slices.Contains(ps, "personalization") {
			found = true
		}
	}
	if !found {
		t.Errorf("stored events' purposes %v: want a product view under analytics and personalization", got)
	}
	// The "Privacy choices" link reopens the banner; a later change does
	// not run the tag again.
	s.run(chromedp.WaitVisible(chromedp.CSS(`#tact-privacy-link`)), chromedp.Click(chromedp.CSS(`#tact-privacy-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#tact-banner`)), chromedp.Click(chromedp.CSS(`#tact-accept-all`)))
	time.Sleep(300 * time.Millisecond)
	s.eval(`window.demoAnalyticsRuns || 0`, &runs)
	if runs != float64(1) {
		t.Errorf("the analytics tag ran %v times after a second choice, want once", runs)
	}
	// Held-back tags the page adds later: one for a purpose not granted
	// stays inert, one for a granted purpose runs.
	add := `(p => { const x = document.createElement('script'); x.type = 'text/plain'; x.dataset.tactPurpose = p; x.src = '/analytics-demo.js'; document.head.appendChild(x) })`
	s.js(add + `('sensitive_personalization')`)
	time.Sleep(500 * time.Millisecond)
	s.eval(`window.demoAnalyticsRuns || 0`, &runs)
	if runs != float64(1) {
		t.Errorf("a tag added later for a purpose not granted ran (runs %v)", runs)
	}
	s.js(add + `('analytics')`)
	if runs := s.analyticsRuns(2); runs != 2 {
		t.Errorf("a tag added later for a granted purpose did not run (runs %v)", runs)
	}
}

// analyticsRuns waits up to 3 s for the demo analytics tag to have run want
// times (tags load asynchronously) and returns how often it ran.
func (s *stack) analyticsRuns(want float64) float64 {
	var runs float64
	for range 30 {
		if s.eval(`window.demoAnalyticsRuns || 0`, &runs); runs == want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return runs
}

func TestChooseOnlyAnalytics(t *testing.T) {
	s := newStack(t)
	s.openShop("/")
	s.run(chromedp.Click(chromedp.CSS(`#tact-choose`)), chromedp.WaitVisible(chromedp.CSS(`#tact-purpose-analytics`)))
	s.artifact("banner-choose-en")
	s.run(chromedp.Click(chromedp.CSS(`#tact-purpose-analytics`)), chromedp.Click(chromedp.CSS(`#tact-save`)))
	anon := s.consentState()["anonymousId"].(string)
	s.run(chromedp.Navigate(s.st.ShopURL+"/p/85123A"), chromedp.WaitReady(chromedp.CSS(`#product`)))
	got := s.storedPurposes(anon, 1)
	if len(got) == 0 {
		t.Fatal("no event stored with analytics granted")
	}
	for _, ps := range got {
		if !slices.Equal(ps, []string{"analytics"}) {
			t.Errorf("an event stored under %v, want {analytics} only", ps)
		}
	}
}

func TestGPCDeniesAdvertisingAndSaleAndSaysSo(t *testing.T) {
	s := newStack(t)
	if _, err := chromedp.Call(s.browser, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: `Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})`}); err != nil {
		t.Fatal(err)
	}
	s.openShop("/")
	var shown bool
	s.eval(`(() => { const g = document.getElementById('tact-gpc'); return !!g && !g.hidden && g.textContent.length > 0 })()`, &shown)
	if !shown {
		t.Error("the banner does not say that GPC was honoured")
	}
	s.artifact("banner-gpc-en")
	s.run(chromedp.Click(chromedp.CSS(`#tact-accept-all`)))
	state := s.serverState(s.consentState()["anonymousId"].(string))
	if state["advertising"].Granted || state["sale_share"].Granted || !state["analytics"].Granted {
		t.Errorf("with GPC, after Accept all: advertising %v, sale_share %v, analytics %v",
			state["advertising"].Granted, state["sale_share"].Granted, state["analytics"].Granted)
	}
}

func TestBannerInChineseAndByKeyboardAlone(t *testing.T) {
	s := newStack(t)
	s.openShop("/?lang=zh-CN")
	var text string
	s.eval(`document.getElementById('tact-banner').textContent`, &text)
	if !strings.ContainsAny(text, "接受拒绝") {
		t.Errorf("zh-CN banner text: %q", text)
	}
	s.artifact("banner-zh-CN")
	// Tab to Reject all and press Enter, without the mouse.
	for range 10 {
		var id string
		s.eval(`document.activeElement && document.activeElement.id`, &id)
		if id == "tact-reject-all" {
			break
		}
		s.run(chromedp.KeyEvent("\t"))
	}
	var focused string
	s.eval(`document.activeElement.id`, &focused)
	if focused != "tact-reject-all" {
		t.Fatalf("Tab never reached Reject all (focus on %q)", focused)
	}
	var outline string
	s.eval(`getComputedStyle(document.activeElement).outlineStyle`, &outline)
	if outline == "none" {
		t.Error("no visible focus on the focused button")
	}
	s.run(chromedp.KeyEvent("\r"))
	st := s.consentState()
	for p, v := range s.serverState(st["anonymousId"].(string)) {
		if v.Granted && p != datamap.PurposeNecessary {
			t.Errorf("%s granted after Reject all by keyboard", p)
		}
	}
}

// The banner's text keeps a contrast of at least 4.5:1 against its
// background (WCAG 2 relative luminance, computed from the rendered
// colours).
func TestBannerTextContrast(t *testing.T) {
	s := newStack(t)
	s.openShop("/")
	var worst []any
	s.eval(`(() => {
		const lum = c => { const m = c.match(/[\d.]+/g).slice(0, 3).map(Number).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4) }); return 0.2126*m[0] + 0.7152*m[1] + 0.0722*m[2] };
		const bg = el => { for (let e = el; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; if (!/rgba\(.*, 0\)$/.test(c) && c !== 'transparent') return c } return 'rgb(255, 255, 255)' };
		let worst = [99, ''];
		for (const el of document.querySelectorAll('#tact-banner *')) {
			if (!el.childNodes.length || ![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
			if (el.offsetParent === null) continue;
			const a = lum(getComputedStyle(el).color), b = lum(bg(el));
			const r = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
			if (r < worst[0]) worst = [r, el.id || el.tagName + ': ' + el.textContent.trim().slice(0, 30)];
		}
		return worst })()`, &worst)
	if len(worst) != 2 || worst[0].(float64) < 4.5 {
		t.Errorf("lowest text contrast in the banner: %v, want ≥ 4.5", worst)
	}
}

// A change in the privacy center is a new receipt whose inclusion proof
// verifies in the browser.
func TestPrivacyCenterChangeIsANewVerifiableReceipt(t *testing.T) {
	s := newStack(t)
	s.openShop("/")
	s.run(chromedp.Click(chromedp.CSS(`#tact-accept-all`)))
	first := s.consentState()
	anon := first["anonymousId"].(string)
	before := s.serverState(anon)["analytics"].ReceiptID
	// Checkpoints are cut at most a second apart.
	if _, err := s.app.Ledger.CutCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.run(chromedp.Navigate(s.st.TactURL+"/privacy"), chromedp.WaitVisible(chromedp.CSS(`body`)))
	s.artifact("privacy-center-en")
	// Untick analytics and save.
	var ok bool
	s.eval(`(() => { const f = document.querySelector('form input[type=checkbox][name="grant"][value="analytics"]'); if (!f) return false; f.checked = false; f.form.requestSubmit(); return true })()`, &ok)
	if !ok {
		t.Fatal("no analytics switch in the privacy center form")
	}
	time.Sleep(800 * time.Millisecond)
	after := s.serverState(anon)["analytics"]
	if after.Granted || after.ReceiptID == "" || after.ReceiptID == before {
		t.Fatalf("after the change in the privacy center: %+v (before: receipt %s)", after, before)
	}
	if _, err := s.app.Ledger.CutCheckpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.run(chromedp.Navigate(s.st.TactURL+"/privacy"), chromedp.WaitVisible(chromedp.CSS(`body`)))
	sel := fmt.Sprintf(`button[data-receipt=%q]`, after.ReceiptID)
	s.run(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	var result string
	for range 50 {
		s.eval(fmt.Sprintf(`document.querySelector(%q).closest('.receipt').querySelector('.verify-result').textContent`, sel), &result)
		if result != "" && !strings.Contains(result, "…") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.HasPrefix(result, "Verified: receipt "+after.ReceiptID) {
		t.Errorf("the new receipt did not verify in the browser: %q", result)
	}
	s.artifact("privacy-center-verified-en")
}

// The demo shop, with its strict CSP, works with tact.js: the banner, the
// events and the recommendations box labelled personalised, with its
// one-click switch.
func TestDemoShopUnderStrictCSP(t *testing.T) {
	s := newStack(t)
	// Six earlier customers bought the heart with the lantern.
	ctx := context.Background()
	for i := range 6 {
		user := fmt.Sprintf("customer-%d", i)
		if _, err := s.app.Consent.Record(ctx, consent.Caller{Server: true}, consent.Request{UserID: user,
			NoticeVersion: s.app.Policy.NoticeVersion, Method: consent.MethodAPI, Choices: map[string]bool{"personalization": true}}); err != nil {
			t.Fatal(err)
		}
		b, err := segment.DecodeBatch([]byte(fmt.Sprintf(`{"batch":[{"type":"track","event":"Order Completed","userId":%q,"messageId":"seed-%d",`+
			`"properties":{"order_id":"o%d","products":[{"product_id":"85123A"},{"product_id":"71053"}]}}]}`, user, i, i)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.app.Collect.Ingest(ctx, collect.Caller{Server: true, KeyID: "seed"}, &b, collect.Request{}); err != nil {
			t.Fatal(err)
		}
	}
	s.app.Personalize.Model().Refresh()
	var violations []string
	s.openShop("/")
	s.run(chromedp.Evaluate[chromedp.Void](`window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI))`),
		chromedp.Click(chromedp.CSS(`#tact-accept-all`)))
	anon := s.consentState()["anonymousId"].(string)
	s.run(chromedp.Navigate(s.st.ShopURL+"/p/85123A"), chromedp.WaitReady(chromedp.CSS(`#product`)),
		chromedp.Evaluate[chromedp.Void](`window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI))`),
		chromedp.Click(chromedp.CSS(`#buy-now`)))
	var personalized string
	for range 60 {
		s.eval(`document.getElementById('recs').dataset.personalized || ''`, &personalized)
		if personalized == "true" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if personalized != "true" {
		t.Errorf("the recommendations box never turned personal after a view and a purchase with consent")
	}
	var title string
	s.eval(`document.getElementById('recs-title').textContent`, &title)
	if title != "Recommended for you" {
		t.Errorf("recommendations title %q", title)
	}
	var items []string
	s.eval(`[...document.querySelectorAll('#recs-list li')].map(li => li.textContent)`, &items)
	if len(items) == 0 || !strings.Contains(items[0], "White metal lantern") {
		t.Errorf("personal recommendations %q: want the lantern, bought with the heart by six customers", items)
	}
	s.artifact("demo-shop-en")
	s.run(chromedp.Click(chromedp.CSS(`#recs-toggle`)))
	for range 40 {
		s.eval(`document.getElementById('recs').dataset.personalized || ''`, &personalized)
		if personalized == "false" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if personalized != "false" {
		t.Error("the one-click switch did not give non-personalised results")
	}
	s.eval(`window.__csp`, &violations)
	if len(violations) > 0 {
		t.Errorf("CSP violations on the demo shop: %v", violations)
	}
	purposes := s.storedPurposes(anon, 2)
	kinds := map[string]bool{}
	for _, ps := range purposes {
		kinds[strings.Join(ps, ",")] = true
	}
	keys := make([]string, 0, len(kinds))
	for k := range kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(purposes) < 2 {
		t.Errorf("stored events of the shopper: %v", keys)
	}
}

// Consent Mode v2: the default (all denied) comes first, then an update
// with what the shopper granted.
func TestConsentModeDefaultThenUpdate(t *testing.T) {
	s := newStack(t)
	s.openShop("/?gtag=1")
	s.run(chromedp.Click(chromedp.CSS(`#tact-accept-all`)))
	s.consentState()
	var calls []string
	s.eval(`dataLayer.map(a => Array.from(a)).filter(a => a[0] === 'consent').map(a => a[1] + ' ' + JSON.stringify(a[2]))`, &calls)
	if len(calls) < 2 || !strings.HasPrefix(calls[0], "default ") || !strings.HasPrefix(calls[len(calls)-1], "update ") {
		t.Fatalf("Consent Mode calls %q: want default first, then update", calls)
	}
	if !strings.Contains(calls[0], `"analytics_storage":"denied"`) || !strings.Contains(calls[0], `"ad_storage":"denied"`) {
		t.Errorf("default %s: want everything denied in an opt-in regime", calls[0])
	}
	if last := calls[len(calls)-1]; !strings.Contains(last, `"analytics_storage":"granted"`) {
		t.Errorf("update after Accept all %s: want analytics_storage granted", last)
	}
}

// The second layer by keyboard alone: Choose, a switch toggled with Space,
// Save.
func TestChooseByKeyboardAlone(t *testing.T) {
	s := newStack(t)
	s.openShop("/")
	tabTo := func(id string) {
		t.Helper()
		for range 30 {
			var at string
			s.eval(`document.activeElement && document.activeElement.id`, &at)
			if at == id {
				return
			}
			s.run(chromedp.KeyEvent("\t"))
		}
		t.Fatalf("Tab never reached #%s", id)
	}
	tabTo("tact-choose")
	s.run(chromedp.KeyEvent("\r"))
	tabTo("tact-purpose-analytics")
	s.run(chromedp.KeyEvent(" "))
	var checked bool
	s.eval(`document.getElementById('tact-purpose-analytics').checked`, &checked)
	if !checked {
		t.Fatal("Space did not switch analytics on")
	}
	tabTo("tact-save")
	s.run(chromedp.KeyEvent("\r"))
	state := s.serverState(s.consentState()["anonymousId"].(string))
	if !state["analytics"].Granted || state["personalization"].Granted || state["advertising"].Granted {
		t.Errorf("after choosing analytics by keyboard: analytics %v, personalization %v, advertising %v",
			state["analytics"].Granted, state["personalization"].Granted, state["advertising"].Granted)
	}
}

// tact.js's recipe for Segment's analytics-next: the SDK loads only after
// analytics is granted, writes nothing before, and its events reach tact
// under the browser's consent. TACT_AJS_DIR holds the SDK's UMD build
// (bash .ci/run fetches @segment/analytics-next from npm).
func TestSegmentAnalyticsNextBehindConsent(t *testing.T) {
	dir := os.Getenv("TACT_AJS_DIR")
	if _, err := os.Stat(filepath.Join(dir, "index.js")); dir == "" || err != nil {
		testenv.SkipOrFail(t, "internal/e2e: the analytics-next test needs TACT_AJS_DIR with @segment/analytics-next's dist/umd (bash .ci/run fetches it)")
	}
	s := newStack(t)
	s.openShop("/segment")
	var before struct {
		Loaded        bool
		Local, Cookie int
	}
	s.eval(`({Loaded: !!(window.segment && window.segment.instance), Local: localStorage.length, Cookie: document.cookie.length})`, &before)
	if before.Loaded || before.Local != 0 || before.Cookie != 0 {
		t.Errorf("before consent: %+v (want the SDK not loaded and nothing stored)", before)
	}
	s.run(chromedp.Click(chromedp.CSS(`#tact-reject-all`)))
	s.consentState()
	time.Sleep(500 * time.Millisecond)
	s.eval(`({Loaded: !!(window.segment && window.segment.instance), Local: localStorage.length, Cookie: document.cookie.length})`, &before)
	if before.Loaded || before.Local != 0 {
		t.Errorf("after Reject all: %+v (want the SDK not loaded, nothing in localStorage)", before)
	}
	// Change of mind: analytics granted in the banner's second layer.
	s.run(chromedp.Click(chromedp.CSS(`#tact-privacy-link`)), chromedp.WaitVisible(chromedp.CSS(`#tact-banner`)),
		chromedp.Click(chromedp.CSS(`#tact-choose`)), chromedp.WaitVisible(chromedp.CSS(`#tact-purpose-analytics`)),
		chromedp.Click(chromedp.CSS(`#tact-purpose-analytics`)), chromedp.Click(chromedp.CSS(`#tact-save`)))
	anon := s.consentState()["anonymousId"].(string)
	var got []string
	for range 100 {
		v, err := s.app.Collect.Read(context.Background(), vault.KindAnonymousID, anon, "support", true, 0, 100)
		if err == nil {
			got = got[:0]
			for _, e := range v.Events {
				if e.Event == "Product Viewed" && slices.Equal(e.Purposes, []string{"analytics"}) {
					got = append(got, e.MessageID)
				}
			}
		}
		if len(got) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(got) == 0 {
		var errs any
		s.eval(`window.segment && window.segment.instance ? 'loaded' : 'not loaded'`, &errs)
		t.Fatalf("no analytics-next event stored under {analytics} for the browser (SDK %v)", errs)
	}
	if !strings.HasPrefix(got[0], "ajs-") {
		t.Errorf("stored messageId %q is not analytics-next's", got[0])
	}
}

// The banner asks again only when a purpose's notice version changed: a
// reload after a choice shows nothing; a changed description of one
// purpose brings the banner back.
func TestBannerAsksAgainOnlyWhenAPurposeChanged(t *testing.T) {
	s := newStack(t)
	s.openShop("/")
	s.run(chromedp.Click(chromedp.CSS(`#tact-reject-all`)))
	s.consentState()
	visible := func() bool {
		t.Helper()
		s.run(chromedp.Navigate(s.st.ShopURL + "/"))
		for range 100 {
			var ready bool
			s.eval(`!!(window.tact && tact.consent.get().ready)`, &ready)
			if ready {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		var v bool
		s.eval(`(() => { const b = document.getElementById('tact-banner'); return !!b && !b.hidden && getComputedStyle(b).display !== 'none' && b.getBoundingClientRect().height > 0 })()`, &v)
		return v
	}
	if visible() {
		t.Fatal("the banner asks again although nothing changed")
	}
	// The shop rewrites what advertising means: a material change.
	m := datamap.Default()
	for i := range m.Purposes {
		if m.Purposes[i].ID == datamap.PurposeAdvertising {
			m.Purposes[i].Description = datamap.Text{"en": "Shows you our ads on other sites, now also measured by a new partner.", "zh-CN": "在其他网站上向您展示我们的广告，现在还由新的合作伙伴衡量。"}
		}
	}
	m.ComputeVersions()
	pol := consent.NewPolicy(m)
	if pol.NoticeVersion == s.app.Policy.NoticeVersion {
		t.Fatal("changing a purpose's description did not change the notice version")
	}
	if err := s.app.Consent.Publish(context.Background(), pol); err != nil {
		t.Fatal(err)
	}
	s.app.DataMap, s.app.Policy = m, pol
	// Browsers keep the notice for up to a minute (Cache-Control: max-age=60).
	if _, err := chromedp.Call(s.browser, network.ClearBrowserCache, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if !visible() {
		t.Error("the banner did not ask again after advertising's notice changed")
	}
	s.artifact("banner-asks-again-en")
}

// measuredHits flushes the consent-free measurement and counts its hits.
func measuredHits(a *app.App) int64 {
	var n int64
	for _, c := range a.Measure.Flush() {
		if c.Dim == measure.DimTotal {
			n += c.Hits
		}
	}
	return n
}

// Saving the second layer with nothing chosen stores nothing personal, but
// the visit is counted in the anonymous aggregates the regime allows.
func TestNoConsentIsCountedOnlyAnonymously(t *testing.T) {
	s := newStack(t)
	s.openShop("/")
	s.run(chromedp.Click(chromedp.CSS(`#tact-choose`)), chromedp.WaitVisible(chromedp.CSS(`#tact-save`)),
		chromedp.Click(chromedp.CSS(`#tact-save`)))
	st := s.consentState()
	if st["objected"] == true {
		t.Fatalf("saving with nothing chosen counted as an objection: %v", st)
	}
	measuredHits(s.app) // what came before the choice
	s.run(chromedp.Navigate(s.st.ShopURL+"/p/85123A"), chromedp.WaitReady(chromedp.CSS(`#product`)))
	var hits int64
	for range 50 {
		s.run(chromedp.Evaluate[chromedp.Void](`tact.flush && tact.flush()`))
		if hits += measuredHits(s.app); hits > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if hits == 0 {
		t.Error("the visit was not counted in the anonymous aggregates")
	}
	if n, err := s.app.Store.CountEventsStored(context.Background()); err != nil || n != 0 {
		t.Errorf("%d personal events stored without consent (%v)", n, err)
	}
}
