package privacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/httpapi"
	"github.com/tact-cdp/tact/internal/privacy"
	"github.com/tact-cdp/tact/internal/testenv"
	"github.com/tact-cdp/tact/internal/vault"
)

// env is tact's HTTP API with the privacy center mounted, as tact serve
// mounts it, over one store.
type env struct {
	t        testing.TB
	app      *app.App
	srv      *httptest.Server
	client   *http.Client // does not follow redirects
	writeKey string
}

func newEnv(t testing.TB, st testenv.Store) *env {
	t.Helper()
	return newEnvMap(t, st, datamap.Default())
}

func newEnvMap(t testing.TB, st testenv.Store, m *datamap.Map) *env {
	t.Helper()
	return newEnvWith(t, st, m, nil)
}

// newEnvWith is newEnvMap with the center adjusted before it serves.
func newEnvWith(t testing.TB, st testenv.Store, m *datamap.Map, adjust func(*privacy.Center)) *env {
	t.Helper()
	ctx := context.Background()
	inst := st.New(t)
	root, err := vault.GenerateRootSecret()
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, app.Config{DataDir: t.TempDir()}, inst.DB, root, m)
	if err != nil {
		t.Fatal(err)
	}
	dm := func() *datamap.Map { return a.DataMap }
	center := &privacy.Center{
		Consent: a.Consent, DataMap: dm, Personalize: a.Personalize, Interests: a.Interests, Rights: a.Rights,
		Theme: privacy.Theme{ShopName: "Hearth & Home", Accent: "#0b6e4f", Background: "#fffdf8"},
	}
	if adjust != nil {
		adjust(center)
	}
	api := &httpapi.Server{
		Log: slog.New(slog.DiscardHandler), Store: a.Store, Auth: a.Auth, Consent: a.Consent, Collect: a.Collect,
		Measure: a.Measure, Ledger: a.Ledger, DataMap: dm, Rights: a.Rights, Catalog: a.Catalog,
		Interests: a.Interests, Personalize: a.Personalize, TokenTTL: time.Hour,
		PrivacyCenter: center.Handler(),
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	key, _, err := a.Auth.Create(ctx, auth.KindWrite, "test", "", []string{"https://shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &env{t: t, app: a, srv: srv, client: &client, writeKey: key}
}

// sqliteOnly is the SQLite store, for tests that do not touch storage
// differences.
func sqliteOnly(t testing.TB) testenv.Store {
	for _, st := range testenv.Stores() {
		if st.Name == "sqlite" {
			return st
		}
	}
	t.Fatal("no sqlite store")
	return testenv.Store{}
}

func forEachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, st))
		})
	}
}

// answer is one HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (a answer) cookie(name string) *http.Cookie {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// opt adjusts a request.
type opt func(*http.Request)

func withCookie(tok string) opt {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "tact_st", Value: tok}) }
}
func withHeader(k, v string) opt { return func(r *http.Request) { r.Header.Set(k, v) } }

// do sends a request. body: nil, url.Values (a form), string or []byte
// (sent as is, JSON), or any other value (encoded as JSON).
func (e *env) do(method, path string, body any, opts ...opt) answer {
	e.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.json); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %s", method, path, raw)
		}
	}
	return a
}

// browser records a first decision through the public API, as tact.js
// does, and returns the subject token tact put in its cookie.
func (e *env) browser(choices map[string]bool) string {
	e.t.Helper()
	req := map[string]any{"noticeVersion": e.app.Policy.NoticeVersion, "method": "banner", "choices": choices}
	a := e.do("POST", "/v1/consent", req, func(r *http.Request) { r.SetBasicAuth(e.writeKey, "") })
	if a.status != 201 {
		e.t.Fatalf("POST /v1/consent: %d %s", a.status, a.body)
	}
	c := a.cookie("tact_st")
	if c == nil || c.Value == "" {
		e.t.Fatalf("POST /v1/consent set no tact_st cookie")
	}
	return c.Value
}

// state is the shopper's consent state as the consent service sees it.
func (e *env) state(tok string) (consent.Subject, map[string]consent.PurposeView) {
	e.t.Helper()
	subj, st, err := e.app.Consent.State(context.Background(), false, consent.Lookup{SubjectToken: tok})
	if err != nil {
		e.t.Fatalf("consent state: %v", err)
	}
	return subj, st
}

func (e *env) ledgerSize() int64 {
	e.t.Helper()
	n, err := e.app.Store.Ledger().Size(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// receipt returns a stored receipt's body.
func (e *env) receipt(id string) map[string]any {
	e.t.Helper()
	v, err := e.app.Ledger.Receipt(context.Background(), id)
	if err != nil {
		e.t.Fatalf("receipt %s: %v", id, err)
	}
	var r map[string]any
	if err := json.Unmarshal(v.Receipt, &r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// errCode is the code of a JSON error answer.
func errCode(a answer) string {
	if e, ok := a.json["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}
