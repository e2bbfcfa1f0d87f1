package optin

import (
	"html/template"
	"io"
	"net/http"
	"strings"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/datamap"
)

// Register mounts the confirmation and unsubscribe pages:
//
//	GET  /v1/optin/{token}        a page with a Confirm button (changes nothing)
//	POST /v1/optin/{token}        confirms: 200, or 400 for a forged, expired or used link
//	GET  /v1/unsubscribe/{token}  a page with an Unsubscribe button
//	POST /v1/unsubscribe/{token}  unsubscribes at once; always 200 (RFC 8058 one-click)
//
// The token in the path is the only credential; the pages set no cookie.
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/optin/{token}", s.confirmPage)
	mux.HandleFunc("POST /v1/optin/{token}", s.confirmPost)
	mux.HandleFunc("GET /v1/unsubscribe/{token}", s.unsubscribePage)
	mux.HandleFunc("POST /v1/unsubscribe/{token}", s.unsubscribePost)
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{{.Title}}</title></head>
<body><main><h1>{{.Title}}</h1><p id="message">{{.Text}}</p>
{{if .Button}}<form method="post" action="{{.Action}}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit" id="confirm">{{.Button}}</button></form>{{end}}
</main></body></html>
`))

type pageData struct {
	Lang, Title, Text, Button, Action string
}

func locale(r *http.Request) string {
	if l := r.URL.Query().Get("locale"); l != "" {
		return datamap.NormalizeLocale(l)
	}
	al := r.Header.Get("Accept-Language")
	if i := strings.IndexAny(al, ",;"); i >= 0 {
		al = al[:i]
	}
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(al)), "zh") {
		return "zh-CN"
	}
	return "en"
}

func render(w http.ResponseWriter, status int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	page.Execute(w, d)
}

func (s *Service) confirmPage(w http.ResponseWriter, r *http.Request) {
	loc := locale(r)
	if _, err := s.Check(r.Context(), r.PathValue("token")); err != nil {
		status := http.StatusBadRequest
		if tact.ErrorCode(err) != tact.EINVALID {
			status = http.StatusServiceUnavailable
		}
		render(w, status, pageData{Lang: loc, Title: pageConfirmTitle.Get(loc), Text: pageInvalid.Get(loc)})
		return
	}
	render(w, http.StatusOK, pageData{Lang: loc, Title: pageConfirmTitle.Get(loc), Text: pageConfirmText.Get(loc),
		Button: pageConfirmBtn.Get(loc), Action: r.URL.RequestURI()})
}

func (s *Service) confirmPost(w http.ResponseWriter, r *http.Request) {
	loc := locale(r)
	io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 4096))
	if _, err := s.Confirm(r.Context(), r.PathValue("token")); err != nil {
		status := http.StatusBadRequest
		if tact.ErrorCode(err) != tact.EINVALID {
			s.logf("double opt-in confirmation: %v", err)
			status = http.StatusServiceUnavailable
		}
		render(w, status, pageData{Lang: loc, Title: pageConfirmTitle.Get(loc), Text: pageInvalid.Get(loc)})
		return
	}
	render(w, http.StatusOK, pageData{Lang: loc, Title: pageConfirmTitle.Get(loc), Text: pageConfirmed.Get(loc)})
}

func (s *Service) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	loc := locale(r)
	list, _ := s.Known(r.Context(), r.PathValue("token"))
	name := listNames[list].Get(loc)
	if name == "" {
		name = listNames[datamap.PurposeMarketingEmail].Get(loc)
	}
	render(w, http.StatusOK, pageData{Lang: loc, Title: pageUnsubTitle.Get(loc), Text: strings.Replace(pageUnsubText.Get(loc), "%s", name, 1),
		Button: pageUnsubBtn.Get(loc), Action: r.URL.RequestURI()})
}

// unsubscribePost is the RFC 8058 one-click endpoint: mail providers POST
// "List-Unsubscribe=One-Click" without cookies or other credentials.
func (s *Service) unsubscribePost(w http.ResponseWriter, r *http.Request) {
	loc := locale(r)
	io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 4096))
	if err := s.Unsubscribe(r.Context(), r.PathValue("token")); err != nil {
		s.logf("unsubscribe: %v", err)
		w.Header().Set("Retry-After", "5")
		render(w, http.StatusServiceUnavailable, pageData{Lang: loc, Title: pageUnsubTitle.Get(loc), Text: "Please try again in a moment."})
		return
	}
	render(w, http.StatusOK, pageData{Lang: loc, Title: pageUnsubTitle.Get(loc), Text: pageUnsubDone.Get(loc)})
}
