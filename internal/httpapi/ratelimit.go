package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/go-chi/httprate"

	"github.com/tact-cdp/tact"
)

// Rate limits on the public write routes, per client IP. Behind a reverse
// proxy every shopper would share the proxy's address, so X-Forwarded-For
// is read only when the peer is a configured trusted proxy.

// rateWindow is the window the per-second limit is counted over; a client
// over the limit is told to retry after it.
const rateWindow = 10 * time.Second

// clientIP is the address of the client: the peer, or, when the peer is a
// trusted proxy, the right-most address in X-Forwarded-For that is not
// itself a trusted proxy.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseAddr(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			break // a malformed hop: trust nothing further left
		}
		if !isTrusted(a, trusted) {
			return a
		}
		peer = a
	}
	return peer
}

func parseAddr(s string) netip.Addr {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// newIPLimiter limits requests per client IP to perSecond (0: no limit).
func (s *Server) newIPLimiter(perSecond int) *httprate.RateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return httprate.NewRateLimiter(perSecond*int(rateWindow/time.Second), rateWindow,
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) {
			return clientIP(r, s.TrustedProxies).String(), nil
		}),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			s.renderError(w, r, tact.Errorf(tact.ERATELIMITED, "too many requests from this address; retry after the time in Retry-After"))
		}))
}

// limited wraps h with the per-IP limit of the write routes.
func (s *Server) limited(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.ipLimiter != nil && s.ipLimiter.RespondOnLimit(w, r, clientIP(r, s.TrustedProxies).String()) {
			return nil
		}
		return h(w, r)
	}
}
