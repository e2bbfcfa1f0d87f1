// Package privacy serves the shopper's privacy center at /privacy (issue 6,
// DESIGN 1 and 4): the choices on record for the browser holding tact's
// subject-token cookie, a form to change them (each change a new receipt),
// in-browser verification of receipts against the ledger, the interest
// profile with delete and pause, rights requests filed as the browser's own
// anonymous profile, and the privacy notice — in English and Chinese.
//
// The page is server-rendered and works without JavaScript; app.js adds
// receipt verification (RFC 6962 inclusion and consistency proofs, Ed25519
// checkpoint signatures, all with WebCrypto) and report downloads. Every
// state-changing route is a cookie-authenticated POST guarded by
// http.CrossOriginProtection; the page's CSP allows no inline script or
// style and nothing from another origin.
package privacy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/httprate"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/interests"
	"github.com/tact-cdp/tact/internal/personalize"
	"github.com/tact-cdp/tact/internal/rights"
)

// Center is the privacy center. Consent and DataMap are required; the
// interest profile shows when Personalize and Interests are set, the rights
// section when Rights is.
type Center struct {
	Consent     *consent.Service
	DataMap     func() *datamap.Map
	Personalize *personalize.Service // pause, resume and delete go through it
	Interests   *interests.Service   // reads the profile Personalize keeps
	Rights      *rights.Service
	Theme       Theme
	// SecureCookies marks the rotated subject-token cookie Secure, as
	// httpapi.Server does for the same cookie.
	SecureCookies bool
	// TrustedOrigins may POST although their Origin differs from the Host
	// tact sees: only for a proxy that rewrites Host (the shop's own origin
	// serving /privacy). Empty in a normal deployment.
	TrustedOrigins []string
	// PostsPerHour caps the changes one browser may make per hour (0: 60;
	// negative: no cap). Each consent change is a ledger entry.
	PostsPerHour int
	Log          *slog.Logger
	Now          func() time.Time

	page    *template.Template
	css     []byte
	js      []byte
	cssVer  string
	jsVer   string
	limiter *httprate.RateLimiter
}

// subjectCookie is tact's HttpOnly cookie holding the browser's subject
// token (DESIGN 4); the name and attributes are httpapi's, so that the
// rotated token replaces the same cookie.
const subjectCookie = "tact_st"

// CSP is the page's Content-Security-Policy: script, style and requests only
// from tact's own origin, no inline code, no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxBody bounds every POST body.
const maxBody = 8 << 10

//go:embed static
var static embed.FS

// Check reports a configuration the center cannot run with.
func (c *Center) Check() error {
	switch {
	case c.Consent == nil:
		return errors.New("privacy center: no consent service")
	case c.DataMap == nil:
		return errors.New("privacy center: no data map")
	case (c.Personalize == nil) != (c.Interests == nil):
		return errors.New("privacy center: Personalize and Interests go together")
	}
	for _, o := range c.TrustedOrigins {
		if err := http.NewCrossOriginProtection().AddTrustedOrigin(o); err != nil {
			return fmt.Errorf("privacy center: trusted origin: %w", err)
		}
	}
	return c.Theme.Validate()
}

// Handler serves /privacy and /privacy/…. It panics on a configuration
// Check refuses (call Check first to report it).
func (c *Center) Handler() http.Handler {
	if err := c.Check(); err != nil {
		panic(err)
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	base, err := static.ReadFile("static/app.css")
	if err != nil {
		panic(err)
	}
	c.css = append([]byte(c.Theme.cssVariables()), base...)
	if c.js, err = static.ReadFile("static/app.js"); err != nil {
		panic(err)
	}
	c.cssVer, c.jsVer = version(c.css), version(c.js)
	c.page = template.Must(template.New("page.html").ParseFS(static, "static/page.html"))
	if n := c.PostsPerHour; n >= 0 {
		if n == 0 {
			n = 60
		}
		c.limiter = httprate.NewRateLimiter(n, time.Hour, httprate.WithResponseHeaders(httprate.ResponseHeaders{}))
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /privacy", c.wrap(c.getPage))
	mux.HandleFunc("GET /privacy/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "../privacy")
		w.WriteHeader(http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /privacy/app.js", c.asset("text/javascript; charset=utf-8", func() ([]byte, string) { return c.js, c.jsVer }))
	mux.HandleFunc("GET /privacy/app.css", c.asset("text/css; charset=utf-8", func() ([]byte, string) { return c.css, c.cssVer }))
	actions := map[string]handlerFunc{
		"/privacy/consent":          c.postConsent,
		"/privacy/interests/delete": c.postDeleteInterest,
		"/privacy/interests/pause":  func(w http.ResponseWriter, r *http.Request) error { return c.postPause(w, r, true) },
		"/privacy/interests/resume": func(w http.ResponseWriter, r *http.Request) error { return c.postPause(w, r, false) },
		"/privacy/requests":         c.postRequest,
	}
	for path, h := range actions {
		mux.HandleFunc("POST "+path, c.wrap(h))
	}
	mux.HandleFunc("/privacy/", c.wrap(func(w http.ResponseWriter, r *http.Request) error {
		if _, ok := actions[r.URL.Path]; ok {
			w.Header().Set("Allow", http.MethodPost)
			return errMethod
		}
		return tact.Errorf(tact.ENOTFOUND, "no such page in the privacy center")
	}))

	cop := http.NewCrossOriginProtection()
	for _, o := range c.TrustedOrigins {
		cop.AddTrustedOrigin(o) // checked above
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, tact.Errorf(tact.EFORBIDDEN, "cross-origin requests cannot change privacy choices; use the privacy center's own page"))
	}))
	return cop.Handler(mux)
}

func version(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:6])
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// errMethod answers an action asked for with another method than POST.
var errMethod = tact.Errorf(tact.EINVALID, "this action takes a POST from the privacy center's page")

// reqState is what a handler learnt that the error page needs: the
// locale of a form post, whose body only the handler reads.
type reqState struct{ locale string }

type stateKey struct{}

// wrap bounds the body and renders errors.
func (c *Center) wrap(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, &reqState{}))
		if err := h(w, r); err != nil {
			c.fail(w, r, err)
		}
	}
}

// noteLocale remembers a post's locale for its error page.
func noteLocale(r *http.Request, loc string) {
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		st.locale = loc
	}
}

// asset serves app.js or app.css: cached for good under its version, and
// revalidated otherwise.
func (c *Center) asset(typ string, get func() ([]byte, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ver := get()
		h := w.Header()
		h.Set("Content-Type", typ)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+ver+`"`)
		if r.URL.Query().Get("v") == ver {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		if r.Header.Get("If-None-Match") == `"`+ver+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(body)
	}
}

// wantsJSON reports whether the caller is a script (JSON body or Accept)
// rather than a plain form post or page load.
func wantsJSON(r *http.Request) bool {
	if isJSONBody(r) {
		return true
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if t, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && t == "application/json" {
			return true
		}
	}
	return false
}

func isJSONBody(r *http.Request) bool {
	t, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && t == "application/json"
}

// fail renders an error: {"error":{"code","message"}} for scripts, a short
// page for browsers. The cause of internal errors is logged, never shown.
func (c *Center) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := tact.ErrorCode(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		code, err = tact.ETOOLARGE, tact.Errorf(tact.ETOOLARGE, "request body is over %d bytes", mbe.Limit)
	}
	status := tact.HTTPStatus(code)
	if err == errMethod {
		status = http.StatusMethodNotAllowed
	}
	if status >= 500 {
		c.Log.Error("privacy center", "route", r.Pattern, "err", err)
	}
	if code == tact.ERATELIMITED {
		w.Header().Set("Retry-After", "3600")
	}
	w.Header().Set("Cache-Control", "no-store")
	if wantsJSON(r) {
		writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": tact.ErrorMessage(err)}})
		return
	}
	loc := datamap.LocaleEN
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok && st.locale != "" {
		loc = st.locale
	} else if l, err := pickLocale(r); err == nil {
		loc = l
	}
	setPageHeaders(w)
	w.WriteHeader(status)
	var buf bytes.Buffer
	c.page.ExecuteTemplate(&buf, "error", map[string]any{
		"Lang": loc, "T": texts[loc], "Message": tact.ErrorMessage(err), "Back": backTo(r),
		"CSS": "privacy/app.css?v=" + c.cssVer, "Root": rootOf(r),
	})
	w.Write(buf.Bytes())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal","message":"internal error"}}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", CSP)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// rootOf is the relative path from the request's URL to the directory that
// holds /privacy, so that links keep working when a proxy serves tact under
// a path prefix: "" for /privacy, "../" for /privacy/consent.
func rootOf(r *http.Request) string {
	rest, ok := strings.CutPrefix(r.URL.Path, "/privacy/")
	if !ok {
		return ""
	}
	return strings.Repeat("../", strings.Count(rest, "/")+1)
}

// backTo is the relative URL of the center's page from the request's URL.
func backTo(r *http.Request) string { return rootOf(r) + "privacy" }

// readBody reads a POST body (bounded by wrap).
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, tact.Errorf(tact.EINVALID, "the request body could not be read")
	}
	return b, nil
}

// token is the browser's subject token from tact's cookie, or "".
func token(r *http.Request) string {
	if ck, err := r.Cookie(subjectCookie); err == nil {
		return ck.Value
	}
	return ""
}

// setSubjectCookie stores a rotated token as httpapi does: HttpOnly, Lax,
// for the whole of tact's host, until the token expires.
func (c *Center) setSubjectCookie(w http.ResponseWriter, tok string, expires time.Time) {
	maxAge := int(expires.Sub(c.Now()).Seconds())
	if maxAge < 1 {
		maxAge = 1
	}
	http.SetCookie(w, &http.Cookie{
		Name: subjectCookie, Value: tok, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// pickLocale chooses the page's language: ?locale= when given (en or
// zh-CN and their variants; other well-formed tags fall back to en; a
// malformed one is refused), else the browser's first preference.
func pickLocale(r *http.Request) (string, error) {
	if r.URL.Query().Has("locale") {
		return checkLocale(r.URL.Query().Get("locale"))
	}
	first, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	first, _, _ = strings.Cut(first, ";")
	return datamap.NormalizeLocale(first), nil
}

// checkLocale validates a locale from the caller.
func checkLocale(s string) (string, error) {
	if s == "" {
		return datamap.LocaleEN, nil
	}
	if len(s) > consent.MaxLocaleLen {
		return "", tact.Errorf(tact.EINVALID, "locale is not a language tag (en or zh-CN)")
	}
	for _, ch := range s {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return "", tact.Errorf(tact.EINVALID, "locale is not a language tag (en or zh-CN)")
		}
	}
	return datamap.NormalizeLocale(s), nil
}
