package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/httprate"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/rights"
	"github.com/tact-cdp/tact/internal/strictjson"
	"github.com/tact-cdp/tact/internal/subjecttoken"
	"github.com/tact-cdp/tact/internal/vault"
)

// RequestLimits cap how often rights requests may be filed, per hour: per
// email address (so the code mail cannot be used to flood someone), per
// client IP and per write key. Zero: no limit.
type RequestLimits struct {
	PerEmail, PerIP, PerKey int
}

// DefaultRequestLimits are the limits of a serving tact.
var DefaultRequestLimits = RequestLimits{PerEmail: 5, PerIP: 30, PerKey: 600}

func newHourLimiter(n int) *httprate.RateLimiter {
	if n <= 0 {
		return nil
	}
	return httprate.NewRateLimiter(n, time.Hour, httprate.WithResponseHeaders(httprate.ResponseHeaders{}))
}

type requestLimiters struct{ email, ip, key *httprate.RateLimiter }

func (s *Server) newRequestLimiters() requestLimiters {
	l := s.RequestLimits
	return requestLimiters{newHourLimiter(l.PerEmail), newHourLimiter(l.PerIP), newHourLimiter(l.PerKey)}
}

// over reports whether key is over limiter's limit (and counts the hit).
func over(l *httprate.RateLimiter, w http.ResponseWriter, r *http.Request, key string) bool {
	return l != nil && l.OnLimit(w, r, key)
}

const requestBodyLimit = rights.MaxPayload

// postRequest files a data subject request. No credential is needed; a
// server key means the shop vouches for a customer it authenticated.
func (s *Server) postRequest(w http.ResponseWriter, r *http.Request) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	body, err := rights.DecodePayload(raw)
	if err != nil {
		return tact.Errorf(tact.EINVALID, "%v", err)
	}
	caller := rights.Caller{}
	var p *auth.Principal
	if secret, _, err := secretFromHeader(r); err != nil {
		return err
	} else if secret == "" {
		secret = body.WriteKey
		if secret != "" {
			pr, err := s.Auth.Authenticate(r.Context(), secret)
			if err != nil {
				return err
			}
			p = &pr
		}
	} else if !subjecttoken.LooksLikeToken(secret) {
		pr, err := s.Auth.Authenticate(r.Context(), secret)
		if err != nil {
			return err
		}
		p = &pr
	}
	if p != nil {
		s.allowOrigin(w, r, p)
		caller = rights.Caller{Server: p.Kind == auth.KindServer, KeyID: p.ID}
	} else {
		s.allowOrigin(w, r, nil)
	}

	// Limits: per client address, per key, per email (by a hash, so that
	// the limiter's memory holds no address).
	if over(s.reqLimits.ip, w, r, clientIP(r, s.TrustedProxies).String()) ||
		(p != nil && over(s.reqLimits.key, w, r, p.ID)) ||
		(body.Email != "" && over(s.reqLimits.email, w, r, emailKey(body.Email))) {
		w.Header().Set("Retry-After", "3600")
		return tact.Errorf(tact.ERATELIMITED, "too many requests; retry after the time in Retry-After")
	}

	token := ""
	if secret, bearer, _ := secretFromHeader(r); bearer && subjecttoken.LooksLikeToken(secret) {
		token = secret
	} else if c, err := r.Cookie(subjectCookie); err == nil {
		token = c.Value
	}
	filed, err := s.Rights.File(r.Context(), caller, body.Filing(token))
	if err != nil {
		return err
	}
	ans := map[string]any{"requestId": filed.ID, "status": filed.Status, "dueAt": filed.DueAt.Format(time.RFC3339)}
	if filed.RequestToken != "" {
		ans["requestToken"] = filed.RequestToken
	}
	if len(filed.ReceiptIDs) > 0 {
		ans["receiptIds"] = filed.ReceiptIDs
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusAccepted, ans)
	return nil
}

func emailKey(email string) string {
	v, err := vault.Normalize(vault.KindEmail, email)
	if err != nil {
		v = email
	}
	h := sha256.Sum256([]byte("tact/request-limit/" + v))
	return hex.EncodeToString(h[:16])
}

// postVerify checks the mailed code (JSON {"code"}) or, from the page
// behind the mail link, the link's secret (a form).
func (s *Server) postVerify(w http.ResponseWriter, r *http.Request) error {
	s.allowOrigin(w, r, nil)
	id := r.PathValue("id")
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	// JSON {"code"} from clients (whatever content type they label it
	// with: curl -d says form); the page behind the mail link posts a form.
	var code, link string
	form := !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{"))
	if form {
		v, err := url.ParseQuery(string(raw))
		if err != nil {
			return tact.Errorf(tact.EINVALID, "send JSON {\"code\":\"123456\"}, or the form of the mail link's page")
		}
		link = v.Get("link")
	} else {
		var body struct {
			Code string `json:"code"`
		}
		if err := strictjson.Decode(raw, &body); err != nil {
			return tact.Errorf(tact.EINVALID, "%v", err)
		}
		if len(body.Code) != 6 {
			return tact.Errorf(tact.EINVALID, "code must be the 6 digits from the mail")
		}
		code = body.Code
	}
	req, token, err := s.Rights.Verify(r.Context(), id, code, link)
	if form {
		status := http.StatusOK
		if err != nil {
			status = tact.HTTPStatus(tact.ErrorCode(err))
		}
		return s.page(w, status, verifiedPage, pageData{Locale: req.Locale, Err: errText(err)})
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"status": req.Status, "requestToken": token})
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return tact.ErrorMessage(err)
}

// getVerifyPage is the page behind the code mail's link: a button that
// confirms with a POST, so that mail scanners following links confirm
// nothing.
func (s *Server) getVerifyPage(w http.ResponseWriter, r *http.Request) error {
	return s.page(w, http.StatusOK, verifyPage, pageData{
		Locale: r.URL.Query().Get("locale"), Action: "/v1/requests/" + r.PathValue("id") + "/verify", Link: r.URL.Query().Get("link"),
	})
}

// getRequest shows a request to the holder of its token.
func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) error {
	s.allowOrigin(w, r, nil)
	req, err := s.Rights.Authorize(r.Context(), r.PathValue("id"), bearerToken(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, requestView(req))
	return nil
}

func requestView(req rights.Request) map[string]any {
	v := map[string]any{
		"requestId": req.ID, "type": req.Type, "status": req.Status, "regime": req.Regime,
		"receivedAt": req.ReceivedAt.Format(time.RFC3339), "dueAt": req.DueAt.Format(time.RFC3339),
	}
	if !req.CompletedAt.IsZero() {
		v["completedAt"] = req.CompletedAt.Format(time.RFC3339)
	}
	if req.ExtensionReason != "" {
		v["extensionReason"] = req.ExtensionReason
	}
	if req.DenialReason != "" {
		v["denialReason"] = req.DenialReason
	}
	if len(req.Outcome) > 0 {
		v["outcome"] = req.Outcome
	}
	if !req.ReportUntil.IsZero() {
		v["reportUntil"] = req.ReportUntil.Format(time.RFC3339)
	}
	return v
}

func bearerToken(r *http.Request) string {
	if secret, bearer, err := secretFromHeader(r); err == nil && bearer {
		return secret
	}
	return ""
}

// getReport streams an access report to the holder of the request token.
func (s *Server) getReport(w http.ResponseWriter, r *http.Request) error {
	s.allowOrigin(w, r, nil)
	req, err := s.Rights.Authorize(r.Context(), r.PathValue("id"), bearerToken(r))
	if err != nil {
		return err
	}
	return s.writeReport(w, r, req, r.URL.Query().Get("format"))
}

// getOpenPage is the page behind the report mail's link.
func (s *Server) getOpenPage(w http.ResponseWriter, r *http.Request) error {
	return s.page(w, http.StatusOK, openPage, pageData{
		Locale: r.URL.Query().Get("locale"), Action: "/v1/requests/" + r.PathValue("id") + "/open", Link: r.URL.Query().Get("link"),
	})
}

// postOpen exchanges the report link's secret (a form POST from the page)
// for the report.
func (s *Server) postOpen(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return tact.Errorf(tact.EINVALID, "malformed form")
	}
	req, err := s.Rights.AuthorizeLink(r.Context(), r.PathValue("id"), r.PostForm.Get("link"))
	if err != nil {
		return s.page(w, http.StatusNotFound, verifiedPage, pageData{Err: errText(err)})
	}
	return s.writeReport(w, r, req, r.PostForm.Get("format"))
}

func (s *Server) writeReport(w http.ResponseWriter, r *http.Request, req rights.Request, format string) error {
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "html" {
		return tact.Errorf(tact.EINVALID, "format must be json or html")
	}
	if err := s.Rights.ReportAvailable(req); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	if format == "html" {
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", rights.ReportCSP)
	} else {
		h.Set("Content-Type", "application/json")
		h.Set("Content-Disposition", `attachment; filename="`+req.ID+`.json"`)
	}
	return s.Rights.WriteReport(r.Context(), w, req, format)
}

// Pages of the request flow: no script, no external resource.
type pageData struct {
	Locale string
	Action string
	Link   string
	Err    string
}

func (s *Server) page(w http.ResponseWriter, status int, t *template.Template, d pageData) error {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	return t.Execute(w, d)
}

var verifyPage = template.Must(template.New("verify").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Confirm your request</title></head>
<body><main><h1>Confirm your request</h1>
<p>Press the button to confirm that you made this request. 确认是您本人提出的请求，请点击按钮。</p>
<form method="post" action="{{.Action}}"><input type="hidden" name="link" value="{{.Link}}">
<button type="submit">Confirm / 确认</button></form></main></body></html>
`))

var verifiedPage = template.Must(template.New("verified").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Your request</title></head>
<body><main>{{if .Err}}<h1>This did not work</h1><p>{{.Err}}</p>{{else}}<h1>Thank you</h1>
<p>Your request is confirmed. We will mail you when the answer is ready. 您的请求已确认，答复准备好后我们会发邮件通知您。</p>{{end}}</main></body></html>
`))

var openPage = template.Must(template.New("open").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Your data</title></head>
<body><main><h1>Your data / 您的个人信息</h1>
<form method="post" action="{{.Action}}"><input type="hidden" name="link" value="{{.Link}}"><input type="hidden" name="format" value="html">
<button type="submit">Read it here / 在线查看</button></form>
<form method="post" action="{{.Action}}"><input type="hidden" name="link" value="{{.Link}}"><input type="hidden" name="format" value="json">
<button type="submit">Download (JSON) / 下载 JSON</button></form></main></body></html>
`))
