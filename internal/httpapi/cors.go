package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/tact-cdp/tact/internal/auth"
)

// CORS: every /v1 route that tact.js or a browser SDK calls answers the
// origins registered with a write key. A preflight carries no credential, so
// it is answered for any registered origin; the request itself then gets the
// allow headers only if its own key registers the origin.

const (
	allowHeaders  = "Authorization, Content-Type, Content-Encoding, X-Retry-Count, Sec-GPC"
	exposeHeaders = "Retry-After"
)

func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ok, err := s.Auth.OriginAllowed(r.Context(), origin)
	if err != nil || !ok {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", allowHeaders)
	h.Set("Access-Control-Expose-Headers", exposeHeaders)
	h.Set("Access-Control-Max-Age", "600")
	h.Add("Vary", "Origin")
	w.WriteHeader(http.StatusNoContent)
}

// allowOrigin adds CORS headers when the request's origin is registered with
// the key p (nil: any registered origin, for credential-less routes).
func (s *Server) allowOrigin(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	w.Header().Add("Vary", "Origin")
	allowed := false
	if p != nil {
		allowed = slices.Contains(p.Origins, strings.ToLower(origin))
	} else {
		allowed, _ = s.Auth.OriginAllowed(r.Context(), origin)
	}
	if allowed {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		w.Header().Set("Access-Control-Expose-Headers", exposeHeaders)
	}
}
