package tactjs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// budget is the most JavaScript (and the stylesheet it loads first) a shop's
// visitor downloads, gzipped, before the banner shows (issue 6).
const budget = 10 << 10

func get(t *testing.T, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func served(t *testing.T, name string) []byte {
	t.Helper()
	return body(t, get(t, "/"+name))
}

func gzipLen(b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Len()
}

// Everything fetched before the banner first shows: tact.js, and tact.css
// which it loads and waits for (the notice is JSON, not counted).
func TestSizeBudget(t *testing.T) {
	js, css := gzipLen(served(t, "tact.js")), gzipLen(served(t, "tact.css"))
	t.Logf("gzip -9: tact.js %d B, tact.css %d B, total %d B of %d B", js, css, js+css, budget)
	if js+css > budget {
		t.Errorf("tact.js + tact.css are %d bytes gzipped, over the budget of %d", js+css, budget)
	}
}

// The script must work under a strict CSP and never parse text as code or
// markup: notice text comes from the admin and is untrusted.
func TestScriptAvoidsUnsafeConstructs(t *testing.T) {
	js := string(served(t, "tact.js"))
	for _, bad := range []string{
		"eval(", "new Function", "Function(", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
		".style.", ".style=", ".style =", "cssText", `"style"`, "'style'", "style=", "<style", "setTimeout(\"", "javascript:",
	} {
		if strings.Contains(js, bad) {
			t.Errorf("tact.js contains %q", bad)
		}
	}
	if strings.Contains(js, "localStorage") || strings.Contains(js, "sessionStorage") || strings.Contains(js, "indexedDB") {
		t.Error("tact.js uses web storage; it keeps only the tact_consent cookie")
	}
	if n := strings.Count(js, "d.cookie ="); n != 1 || !strings.Contains(js, `d.cookie = CK + "="`) {
		t.Errorf("tact.js writes document.cookie in %d places; it may write only tact_consent, once", n)
	}
}

// The DOM ids are a public contract: banner-answering tools and tests
// operate the banner by them.
func TestScriptHasDocumentedIDs(t *testing.T) {
	js := string(served(t, "tact.js"))
	for _, id := range []string{"tact-banner", "tact-accept-all", "tact-reject-all", "tact-choose", "tact-save", `"tact-purpose-"`, "tact-privacy-link"} {
		if !strings.Contains(js, id) {
			t.Errorf("tact.js lacks the id %s", id)
		}
	}
}

func TestScriptPinsItsStylesheet(t *testing.T) {
	js := string(served(t, "tact.js"))
	css := assets()["tact.css"]
	if strings.Contains(js, "%CSS_") {
		t.Error("a placeholder was left in the served tact.js")
	}
	for _, want := range []string{`"` + css.version + `"`, `"` + css.integrity + `"`} {
		if !strings.Contains(js, want) {
			t.Errorf("served tact.js does not name the stylesheet's %s", want)
		}
	}
}

func TestHandler(t *testing.T) {
	js, css := assets()["tact.js"], assets()["tact.css"]
	tests := []struct {
		path, accept string
		status       int
		ctype, cache string
		gzip         bool
		want         []byte
	}{
		{"/tact.js", "gzip, deflate, br", 200, "text/javascript; charset=utf-8", cacheStable, true, js.body},
		{"/tact.js", "", 200, "text/javascript; charset=utf-8", cacheStable, false, js.body},
		{"/tact.js", "gzip;q=0, br", 200, "text/javascript; charset=utf-8", cacheStable, false, js.body},
		{"/tact.css", "gzip", 200, "text/css; charset=utf-8", cacheStable, true, css.body},
		{"/tact/" + js.version + "/tact.js", "gzip", 200, "text/javascript; charset=utf-8", cacheImmutable, true, js.body},
		{"/tact/" + js.version + "/tact.js", "", 200, "text/javascript; charset=utf-8", cacheImmutable, false, js.body},
		{"/tact/" + css.version + "/tact.css", "gzip", 200, "text/css; charset=utf-8", cacheImmutable, true, css.body},
		{"/tact/000000000000/tact.js", "gzip", 404, "application/json", "no-store", false, nil},
		{"/tact/" + css.version + "/tact.js", "", 404, "application/json", "no-store", false, nil},
		{"/tact/" + js.version + "/tact.css", "", 404, "application/json", "no-store", false, nil},
		{"/tact/" + js.version + "/other.js", "", 404, "application/json", "no-store", false, nil},
		{"/tact/" + js.version, "", 404, "application/json", "no-store", false, nil},
		{"/tact/", "", 404, "application/json", "no-store", false, nil},
		{"/tact.json", "", 404, "application/json", "no-store", false, nil},
		{"/tact.js.json", "", 200, "application/json", cacheStable, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.accept, func(t *testing.T) {
			res := get(t, tt.path, "Accept-Encoding", tt.accept)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			h := res.Header
			if got := h.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if got := h.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if got := h.Get("Content-Encoding") == "gzip"; got != tt.gzip {
				t.Errorf("gzipped = %v, want %v", got, tt.gzip)
			}
			b := body(t, res)
			if tt.want != nil {
				if !bytes.Equal(b, tt.want) {
					t.Error("body differs from the asset")
				}
				if h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Vary"), "Accept-Encoding") {
					t.Errorf("CORS/Vary headers: %v", h)
				}
			}
			if tt.status == 404 {
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(b, &e); err != nil || e.Error.Code != "not_found" {
					t.Errorf("404 body %s", b)
				}
			}
		})
	}
}

func TestHandlerConditionalAndHead(t *testing.T) {
	res := get(t, "/tact.js", "Accept-Encoding", "gzip")
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if res := get(t, "/tact.js", "Accept-Encoding", "gzip", "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", res.StatusCode)
	}
	// The identity form has its own tag: a cache must not answer one with the other.
	if res := get(t, "/tact.js", "If-None-Match", etag); res.StatusCode != http.StatusOK {
		t.Errorf("gzip ETag matched the identity body: status %d", res.StatusCode)
	}

	req := httptest.NewRequest(http.MethodHead, "/tact.js", nil)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != strconv.Itoa(len(assets()["tact.js"].body)) {
		t.Errorf("HEAD: status %d, body %d bytes, Content-Length %s", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}

	req = httptest.NewRequest(http.MethodPost, "/tact.js", nil)
	rec = httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", rec.Code)
	}
}

// The published SRI hash and version are those of the bytes served at the
// published URL, so a page pinning them loads.
func TestManifestMatchesContent(t *testing.T) {
	var m struct{ Version, URL, Integrity string }
	if err := json.Unmarshal(body(t, get(t, "/tact.js.json")), &m); err != nil {
		t.Fatal(err)
	}
	if m.Version != Version() || m.Integrity != Integrity() || m.URL != "/tact/"+Version()+"/tact.js" {
		t.Fatalf("manifest %+v; Version %s, Integrity %s", m, Version(), Integrity())
	}
	for _, enc := range []string{"", "gzip"} {
		b := body(t, get(t, m.URL, "Accept-Encoding", enc))
		sri := sha512.Sum384(b)
		if got := "sha384-" + base64.StdEncoding.EncodeToString(sri[:]); got != m.Integrity {
			t.Errorf("Accept-Encoding %q: content hashes to %s, manifest says %s", enc, got, m.Integrity)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:])[:12]; got != m.Version {
			t.Errorf("content version %s, manifest says %s", got, m.Version)
		}
	}
	if b := body(t, get(t, "/tact.js")); !bytes.Equal(b, body(t, get(t, m.URL))) {
		t.Error("the stable and the versioned URL serve different scripts")
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip;q=1.0, *;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.0", false},
		{"br, x-gzip", true},
		{"br", false},
		{"identity", false},
	} {
		if got := acceptsGzip(tt.header); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// acceptsGzip reads a request header: any input is safe, and a header
// that does not name gzip never gets it.
func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"", "gzip", "gzip;q=0", "br, gzip;q=0.5", "x-gzip;q=", ";;,,q=1", "GZIP ; Q=1.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		if acceptsGzip(header) && !strings.Contains(strings.ToLower(header), "gzip") {
			t.Errorf("acceptsGzip(%q) = true without gzip in it", header)
		}
		etagMatches(header, `"abc"`)
	})
}

// Every colour pair in tact.css keeps text contrast at 4.5:1 or more (WCAG
// 2.x AA): a rule's color against its background, or the banner's white.
func TestStylesheetContrast(t *testing.T) {
	css := string(served(t, "tact.css"))
	rule := regexp.MustCompile(`([^{}]+)\{([^{}]*)\}`)
	color := regexp.MustCompile(`(?:^|;)color:(#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?)\b`)
	bg := regexp.MustCompile(`(?:^|;)background:(#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?)\b`)
	pairs := 0
	for _, m := range rule.FindAllStringSubmatch(css, -1) {
		sel, decl := strings.TrimSpace(m[1]), m[2]
		fg, back := color.FindStringSubmatch(decl), bg.FindStringSubmatch(decl)
		var f, b string
		switch {
		case fg != nil && back != nil:
			f, b = fg[1], back[1]
		case fg != nil:
			f, b = fg[1], "#fff" // the banner's background
		case back != nil && luminance(back[1]) < 0.5:
			f, b = "#fff", back[1] // a dark fill (a button's hover) keeps its white text
		default:
			continue
		}
		pairs++
		if r := contrast(f, b); r < 4.5 {
			t.Errorf("%s: %s on %s has contrast %.2f:1, under 4.5:1", sel, f, b, r)
		}
	}
	if pairs < 4 {
		t.Errorf("found %d colour pairs in tact.css; the test no longer reads it", pairs)
	}
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

func luminance(hexColor string) float64 {
	h := strings.TrimPrefix(hexColor, "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, _ := strconv.ParseUint(h, 16, 32)
	ch := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(v>>16&255) + 0.7152*ch(v>>8&255) + 0.0722*ch(v&255)
}

// node --check parses the script as the browser will, without running it.
func TestScriptParses(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("tactjs: node is not installed; skipping the syntax check of tact.js")
	}
	f := filepath.Join(t.TempDir(), "tact.js")
	if err := os.WriteFile(f, served(t, "tact.js"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(node, "--check", f).CombinedOutput(); err != nil {
		t.Fatalf("node --check tact.js: %v\n%s", err, out)
	}
}
