// Package httpapi is tact's HTTP adapter: the public /v1 API, the admin API,
// the well-known documents and the operational endpoints. All routes are
// declared in one place (routes); handlers return errors, which one adapter
// renders as {"error":{"code","message"}} and logs with their cause.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/go-chi/httprate"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/catalog"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/interests"
	"github.com/tact-cdp/tact/internal/marketing"
	"github.com/tact-cdp/tact/internal/measure"
	"github.com/tact-cdp/tact/internal/optin"
	"github.com/tact-cdp/tact/internal/personalize"
	"github.com/tact-cdp/tact/internal/rights"
	"github.com/tact-cdp/tact/internal/store"
)

// Server holds what the handlers need.
type Server struct {
	Log      *slog.Logger
	Store    *store.DB
	Auth     *auth.Authenticator
	Consent  *consent.Service
	Collect  *collect.Service
	Measure  *measure.Aggregator
	Ledger   *consent.Ledger
	DataMap  func() *datamap.Map
	Registry *prometheus.Registry
	// SecureCookies marks cookies Secure (always, except in tests over
	// plain http to a non-localhost host).
	SecureCookies bool
	TokenTTL      time.Duration
	// PublicURL is where browsers reach tact (the SDK settings' apiHost);
	// empty: the request's own host.
	PublicURL string
	// RateLimitPerIP caps write requests per client IP and second (0: none).
	RateLimitPerIP int
	// RateLimitPerKey caps event requests per write key and second (0: none).
	RateLimitPerKey int
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Catalog is the product catalogue.
	Catalog *catalog.Service
	// Interests are the shoppers' interest profiles.
	Interests *interests.Service
	// Personalize answers recommendations and keeps them in step with the
	// shoppers' choices.
	Personalize *personalize.Service
	// Rights answers data subject requests.
	Rights *rights.Service
	// OptIn runs double opt-ins and unsubscribes; Marketing audiences and
	// destinations. Either may be nil (routes absent).
	OptIn     *optin.Service
	Marketing *marketing.Service
	// RequestLimits cap filings per email, IP and key (per hour).
	RequestLimits RequestLimits
	// GPCUpdated is when the GPC stance was last changed (gpc.json).
	GPCUpdated time.Time
	// Ready reports whether the server may take traffic (false while
	// shutting down).
	Ready func() bool
	// Script serves tact.js and its stylesheet (/tact.js, /tact.css,
	// /tact.js.json and the versioned /tact/…); PrivacyCenter serves
	// /privacy and /privacy/…. Either may be nil.
	Script, PrivacyCenter http.Handler

	metrics    *metrics
	mux        *http.ServeMux
	patterns   []string
	ipLimiter  *httprate.RateLimiter
	keyLimiter *httprate.RateLimiter
	reqLimits  requestLimiters
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler {
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(s.Registry)
	s.registerStoreMetrics(s.Registry)
	s.mux = http.NewServeMux()
	s.ipLimiter = s.newIPLimiter(s.RateLimitPerIP)
	s.keyLimiter = s.newKeyLimiter(s.RateLimitPerKey)
	s.reqLimits = s.newRequestLimiters()
	s.routes()
	if s.Script != nil {
		for _, p := range []string{"GET /tact.js", "GET /tact.css", "GET /tact.js.json", "GET /tact/"} {
			s.mux.Handle(p, s.Script)
		}
	}
	if s.PrivacyCenter != nil {
		s.mux.Handle("/privacy", s.PrivacyCenter)
		s.mux.Handle("/privacy/", s.PrivacyCenter)
	}
	return s.observe(s.mux)
}

// routes declares every route of tact's HTTP API.
func (s *Server) routes() {
	// Public consent API (DESIGN 5.2).
	s.handle("GET /v1/notice", s.getNotice, limitNone)
	s.handle("POST /v1/consent", s.limited(s.postConsent), limitConsent)
	s.handle("GET /v1/consent", s.getConsent, limitNone)
	s.handle("GET /v1/consent/receipts/{id}", s.getReceipt, limitNone)
	s.handle("GET /v1/ledger/checkpoint", s.getCheckpoint, limitNone)
	s.handle("GET /v1/ledger/consistency", s.getConsistency, limitNone)
	s.handle("GET /v1/openapi.json", s.getOpenAPI, limitNone)
	s.handle("PUT /v1/catalog/items/{id}", s.putItem, catalog.MaxBody)
	s.handle("GET /v1/interests", s.getInterests, limitNone)
	s.handle("DELETE /v1/interests/{category...}", s.deleteInterest, limitNone)
	s.handle("POST /v1/interests/pause", s.pauseInterests, 1<<10)
	s.handle("POST /v1/interests/resume", s.resumeInterests, 1<<10)
	s.handle("GET /v1/personalize/how-it-works", s.getHowItWorks, limitNone)
	s.handle("GET /v1/personalize/landing", s.getLanding, limitNone)
	s.handle("GET /v1/recommendations", s.getRecommendations, limitNone)
	s.handle("POST /v1/requests", s.postRequest, requestBodyLimit)
	s.handle("POST /v1/requests/{id}/verify", s.postVerify, 4<<10)
	s.handle("GET /v1/requests/{id}/verify", s.getVerifyPage, limitNone)
	s.handle("GET /v1/requests/{id}", s.getRequest, limitNone)
	s.handle("GET /v1/requests/{id}/report", s.getReport, limitNone)
	s.handle("GET /v1/requests/{id}/open", s.getOpenPage, limitNone)
	s.handle("POST /v1/requests/{id}/open", s.postOpen, 4<<10)
	s.handle("GET /.well-known/tact-ledger-key", s.getLedgerKey, limitNone)
	s.handle("GET /.well-known/gpc.json", s.getGPC, limitNone)
	s.mux.HandleFunc("OPTIONS /v1/", s.preflight)
	s.mux.HandleFunc("OPTIONS /m", s.preflight)

	// Event collection (DESIGN 5.1).
	for _, call := range eventCalls {
		s.handle("POST /v1/"+call, s.postEvents, limitNone)
	}

	// The browser SDK's settings and telemetry (DESIGN 5.1).
	s.handle("GET /v1/projects/{writeKey}/settings", s.getSDKSettings, limitNone)
	s.handle("POST /m", s.postSDKMetrics, limitSDKMetrics)
	s.handle("POST /v1/m", s.postSDKMetrics, limitSDKMetrics)

	// Admin API (DESIGN 5.5).
	s.handle("GET /admin/api/stats", s.getStats, limitNone)
	s.handle("GET /admin/api/subjects", s.getSubject, limitNone)
	s.handle("GET /admin/api/reports/daily", s.getDailyReport, limitNone)
	if s.Marketing != nil {
		s.handle("POST /admin/api/audiences", s.postAudience, limitAudience)
		s.handle("GET /admin/api/audiences", s.listAudiences, limitNone)
		s.handle("GET /admin/api/audiences/{id}", s.getAudience, limitNone)
		s.handle("POST /admin/api/audiences/{id}/export", s.postAudienceExport, 1<<10)
		s.handle("POST /admin/api/destinations", s.postDestination, 16<<10)
		s.handle("GET /admin/api/destinations", s.listDestinations, limitNone)
		s.handle("POST /admin/api/destinations/{id}/test", s.postDestinationTest, 1<<10)
		s.handle("POST /admin/api/destinations/{id}/sync", s.postDestinationSync, 4<<10)
		s.handle("GET /admin/api/destinations/{id}/propagations", s.getPropagations, limitNone)
	}
	if s.OptIn != nil {
		// Marketing permission (double opt-in, RFC 8058 unsubscribe).
		s.handle("POST /v1/marketing/soft-opt-in", s.postSoftOptIn, 4<<10)
		s.OptIn.Register(s.mux)
		s.patterns = append(s.patterns, "GET /v1/optin/{token}", "POST /v1/optin/{token}", "GET /v1/unsubscribe/{token}", "POST /v1/unsubscribe/{token}")
	}

	// Operations.
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.handle("GET /readyz", s.getReady, limitNone)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	s.handle("/", func(w http.ResponseWriter, r *http.Request) error {
		return tact.Errorf(tact.ENOTFOUND, "no such route")
	}, limitNone)
}

// Request body limits.
const (
	limitNone    = 0
	limitConsent = 32 << 10
)

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers h with a body limit and the error adapter.
func (s *Server) handle(pattern string, h handlerFunc, bodyLimit int64) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if bodyLimit > 0 {
			r.Body = http.MaxBytesReader(w, r.Body, bodyLimit)
		}
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	})
}

// renderError is the one place application errors become HTTP statuses.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := tact.ErrorCode(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		code, err = tact.ETOOLARGE, tact.Errorf(tact.ETOOLARGE, "request body is over %d bytes", mbe.Limit)
	}
	if errors.Is(err, context.Canceled) {
		code = tact.EUNAVAILABLE
	}
	status := tact.HTTPStatus(code)
	if status >= 500 {
		s.Log.Error("request failed", "route", r.Pattern, "err", err)
	}
	if (code == tact.EUNAVAILABLE || code == tact.ERATELIMITED) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	if code == tact.EUNAUTHORIZED && r.Header.Get("Authorization") != "" && !isBearer(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="tact"`)
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": tact.ErrorMessage(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func (s *Server) getReady(w http.ResponseWriter, r *http.Request) error {
	if s.Ready != nil && !s.Ready() {
		return tact.Errorf(tact.EUNAVAILABLE, "shutting down")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		s.Log.Error("readiness: store does not answer", "err", err)
		return tact.Errorf(tact.EUNAVAILABLE, "the store does not answer")
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
