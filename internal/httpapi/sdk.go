package httpapi

import (
	"io"
	"net/http"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/collect/segment"
)

// Routes the browser SDK (analytics.js / @segment/analytics-next) calls
// besides the events themselves (DESIGN 5.1).

// limitSDKMetrics bounds the SDK's telemetry posts, which are discarded.
const limitSDKMetrics = 64 << 10

// postSDKMetrics accepts analytics-next's own metrics and keeps nothing.
func (s *Server) postSDKMetrics(w http.ResponseWriter, r *http.Request) error {
	s.allowOrigin(w, r, nil)
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// getSDKSettings answers the settings object that makes analytics-next send
// its events to tact; the shop points the SDK's cdnURL at tact.
func (s *Server) getSDKSettings(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("writeKey")
	p, err := s.Auth.Authenticate(r.Context(), key)
	if err != nil || p.Kind != auth.KindWrite {
		// As Segment's CDN does for a key it does not know.
		return tact.Errorf(tact.ENOTFOUND, "no project for this write key")
	}
	s.allowOrigin(w, r, &p)
	apiHost := s.PublicURL
	if apiHost == "" {
		apiHost = r.Host
		if r.TLS == nil {
			apiHost = "http://" + apiHost
		}
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, segment.Settings(key, apiHost))
	return nil
}
