package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/httpapi"
	"github.com/tact-cdp/tact/internal/testenv"
	"github.com/tact-cdp/tact/internal/vault"
)

// env is a running tact over one store, with a write key, a server key and
// a user-hash secret.
type env struct {
	t        testing.TB
	inst     testenv.Instance
	app      *app.App
	srv      *httptest.Server
	logs     *syncBuffer
	writeKey string
	server   string
	admin    string
	userHash string
	notice   string
	root     vault.RootSecret
	dataDir  string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, st testenv.Store) *env {
	t.Helper()
	return newEnvWith(t, st, nil)
}

// newEnvWith is newEnv with the server adjusted before it starts.
func newEnvWith(t testing.TB, st testenv.Store, adjust func(*httpapi.Server)) *env {
	t.Helper()
	return newEnvMap(t, st, datamap.Default(), adjust)
}

// newEnvMap is newEnvWith over a data map of the test's choosing.
func newEnvMap(t testing.TB, st testenv.Store, m *datamap.Map, adjust func(*httpapi.Server)) *env {
	t.Helper()
	ctx := context.Background()
	inst := st.New(t)
	root, err := vault.GenerateRootSecret()
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	a, err := app.New(ctx, app.Config{DataDir: dataDir}, inst.DB, root, m)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	api := &httpapi.Server{
		Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Store: a.Store, Auth: a.Auth,
		Consent: a.Consent, Collect: a.Collect, Measure: a.Measure, Ledger: a.Ledger, DataMap: func() *datamap.Map { return a.DataMap },
		Rights: a.Rights, Catalog: a.Catalog, Interests: a.Interests, Personalize: a.Personalize, OptIn: a.OptIn, Marketing: a.Marketing,
		TokenTTL: time.Hour, GPCUpdated: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC),
	}
	if adjust != nil {
		adjust(api)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, inst: inst, app: a, srv: srv, logs: logs, notice: a.Policy.NoticeVersion, root: root, dataDir: dataDir}
	mk := func(kind, role string, origins ...string) string {
		s, _, err := a.Auth.Create(ctx, kind, "test", role, origins)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	e.writeKey = mk(auth.KindWrite, "", "https://shop.example")
	e.server = mk(auth.KindServer, "")
	e.admin = mk(auth.KindAdmin, "admin")
	e.userHash = mk(auth.KindUserHash, "")
	return e
}

// reqOpt adjusts a request.
type reqOpt func(*http.Request)

func basic(key string) reqOpt { return func(r *http.Request) { r.SetBasicAuth(key, "") } }
func bearer(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}
func header(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// do sends a request; body may be a string (sent as is) or a value (JSON).
func (e *env) do(method, path string, body any, opts ...reqOpt) (int, map[string]any, http.Header) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %s", method, path, raw)
		}
	}
	return resp.StatusCode, out, resp.Header
}

// decide posts a consent decision and fails the test unless the status is want.
func (e *env) decide(want int, body map[string]any, opts ...reqOpt) map[string]any {
	e.t.Helper()
	if _, ok := body["noticeVersion"]; !ok {
		body["noticeVersion"] = e.notice
	}
	if _, ok := body["method"]; !ok {
		body["method"] = "banner"
	}
	code, out, _ := e.do("POST", "/v1/consent", body, opts...)
	if code != want {
		e.t.Fatalf("POST /v1/consent %v: status %d, want %d: %v", body, code, want, out)
	}
	return out
}

// state reads a shopper's consent.
func (e *env) state(query string, opts ...reqOpt) map[string]any {
	e.t.Helper()
	code, out, _ := e.do("GET", "/v1/consent?"+query, nil, opts...)
	if code != 200 {
		e.t.Fatalf("GET /v1/consent?%s: status %d: %v", query, code, out)
	}
	return out["state"].(map[string]any)
}

func granted(state map[string]any, purpose string) bool {
	return state[purpose].(map[string]any)["granted"].(bool)
}

func (e *env) ledgerSize() int64 {
	e.t.Helper()
	n, err := e.app.Store.Ledger().Size(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func forEachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, st))
		})
	}
}

// getJSON decodes a 200 answer's exact bytes into v.
func (e *env) getJSON(path string, v any) {
	e.t.Helper()
	resp, err := e.srv.Client().Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		e.t.Fatal(err)
	}
}

// raw returns a 200 answer's body as text.
func (e *env) raw(path string) string {
	e.t.Helper()
	resp, err := e.srv.Client().Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return string(b)
}
