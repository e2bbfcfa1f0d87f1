// Package tactjs serves tact.js, the consent banner and tracker a shop loads
// with one script tag, and its stylesheet (DESIGN 5.1). It owns the files,
// their content versions and SRI hashes, and the caching rules: a stable
// /tact.js with a short cache, and immutable /tact/{version}/… URLs.
//
// The files are plain JavaScript and CSS under static/, embedded, so
// `go build` needs no npm. When served, tact.js has the version and SRI hash
// of the stylesheet it loads filled in, so a versioned tact.js always gets
// the exact stylesheet it was released with.
package tactjs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/tact-cdp/tact"
)

//go:embed static/tact.js static/tact.css
var static embed.FS

// asset is one served file.
type asset struct {
	name      string // tact.js
	ctype     string
	body      []byte
	gz        []byte // body at gzip level 9
	version   string // first 12 hex digits of the body's SHA-256
	integrity string // sha384-… of the body
}

var assets = sync.OnceValue(func() map[string]*asset {
	css := newAsset("tact.css", "text/css; charset=utf-8", read("tact.css"))
	js := read("tact.js")
	js = bytes.Replace(js, []byte("%CSS_VERSION%"), []byte(css.version), 1)
	js = bytes.Replace(js, []byte("%CSS_INTEGRITY%"), []byte(css.integrity), 1)
	return map[string]*asset{
		"tact.js":  newAsset("tact.js", "text/javascript; charset=utf-8", js),
		"tact.css": css,
	}
})

func read(name string) []byte {
	b, err := static.ReadFile("static/" + name)
	if err != nil {
		panic("tactjs: " + err.Error()) // embedded: cannot happen
	}
	return b
}

func newAsset(name, ctype string, body []byte) *asset {
	sum := sha256.Sum256(body)
	sri := sha512.Sum384(body)
	return &asset{
		name: name, ctype: ctype, body: body, gz: gzipped(body),
		version:   hex.EncodeToString(sum[:])[:12],
		integrity: "sha384-" + base64.StdEncoding.EncodeToString(sri[:]),
	}
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// Version is the content version of tact.js as served: the first 12 hex
// digits of its SHA-256. It names the immutable URL /tact/{Version}/tact.js.
func Version() string { return assets()["tact.js"].version }

// Integrity is the Subresource Integrity hash (sha384-…) of tact.js as
// served, for <script integrity=… crossorigin="anonymous">.
func Integrity() string { return assets()["tact.js"].integrity }

// Path is the immutable path of the current tact.js.
func Path() string { return "/tact/" + Version() + "/tact.js" }

const (
	cacheStable    = "public, max-age=300"
	cacheImmutable = "public, max-age=31536000, immutable"
)

// Handler serves GET (and HEAD) /tact.js, /tact.css, /tact.js.json and
// /tact/{version}/tact.js|tact.css. Only the versions this build ships are
// known; any other path is 404.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		fail(w, http.StatusMethodNotAllowed, tact.EINVALID, "tact.js is read with GET")
		return
	}
	a := assets()
	switch p := r.URL.Path; p {
	case "/tact.js", "/tact.css":
		send(w, r, a[p[1:]], cacheStable)
		return
	case "/tact.js.json":
		serveManifest(w, r)
		return
	default:
		rest, ok := strings.CutPrefix(p, "/tact/")
		version, name, _ := strings.Cut(rest, "/")
		if f := a[name]; ok && f != nil && version == f.version {
			send(w, r, f, cacheImmutable)
			return
		}
	}
	fail(w, http.StatusNotFound, tact.ENOTFOUND, "no such file or version of tact.js; /tact.js.json names the current one")
}

// fail answers an error in the API's shape, {"error":{"code","message"}}.
func fail(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

// send writes f, gzipped when the client takes gzip. Scripts and styles
// are public and answered with CORS headers, so that a page may load them
// with integrity=… crossorigin="anonymous".
func send(w http.ResponseWriter, r *http.Request, f *asset, cache string) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", cache)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Add("Vary", "Accept-Encoding")
	body, etag := f.body, `"`+f.version+`"`
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = f.gz, `"`+f.version+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// manifest is GET /tact.js.json: where the current tact.js lives and its
// SRI hash, for shops that pin a version.
type manifest struct {
	Version   string `json:"version"`
	URL       string `json:"url"` // path on tact's origin
	Integrity string `json:"integrity"`
}

func serveManifest(w http.ResponseWriter, r *http.Request) {
	b, _ := json.Marshal(manifest{Version: Version(), URL: Path(), Integrity: Integrity()})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cacheStable)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (a
// q of 0 refuses it).
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(strings.ToLower(params), " ", ""), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}

func etagMatches(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		t := strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
