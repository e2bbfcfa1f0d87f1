package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/httprate"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/collect/segment"
)

// Event collection (DESIGN 5.1): the Segment HTTP Tracking API, its
// browser SDK's short forms, and the batch endpoints.

// postEvents handles POST /v1/batch, /v1/b and the single-call routes.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request) error {
	received := time.Now()
	body, err := segment.ReadBodyLen(r.Header.Get("Content-Encoding"), r.Body, r.ContentLength)
	if err != nil {
		return segmentError(err)
	}
	var b segment.Batch
	call := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	switch call {
	case "batch", "b":
		b, err = segment.DecodeBatch(body)
	default:
		t, ok := segment.TypeFromPath(call)
		if !ok {
			return tact.Errorf(tact.ENOTFOUND, "no such route")
		}
		b, err = segment.DecodeSingle(t, body)
	}
	if err != nil {
		return segmentError(err)
	}
	p, _, err := s.writeCredential(r, b.WriteKey)
	if err != nil {
		return err
	}
	s.allowOrigin(w, r, &p)
	peer := clientIP(r, s.TrustedProxies)
	if p.Kind == auth.KindWrite {
		if s.ipLimiter != nil && s.ipLimiter.RespondOnLimit(w, r, "events:"+peer.String()) {
			return nil
		}
		if s.keyLimiter != nil && s.keyLimiter.RespondOnLimit(w, r, p.ID) {
			return nil
		}
	}
	res, err := s.Collect.Ingest(r.Context(), collect.Caller{Server: p.Kind == auth.KindServer, KeyID: p.ID}, &b, collect.Request{
		ReceivedAt: received, Peer: peer, UserAgent: r.UserAgent(), GPC: r.Header.Get("Sec-GPC") == "1",
	})
	if err != nil {
		return err
	}
	s.metrics.events(res, len(b.Events)+len(b.Rejected))
	out := map[string]any{"success": true}
	if len(res.Rejected) > 0 {
		out["rejected"] = res.Rejected
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// segmentError maps the decoder's request errors to tact's.
func segmentError(err error) error {
	var se *segment.Error
	msg := err.Error()
	if errors.As(err, &se) {
		msg = se.Message
	}
	switch {
	case errors.Is(err, segment.ErrTooLarge):
		return tact.Errorf(tact.ETOOLARGE, "%s", msg)
	case errors.Is(err, segment.ErrNotJSON), errors.Is(err, segment.ErrInvalid), errors.Is(err, segment.ErrEncoding):
		return tact.Errorf(tact.EINVALID, "%s", msg)
	}
	return err
}

// newKeyLimiter limits event requests per write key.
func (s *Server) newKeyLimiter(perSecond int) *httprate.RateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return httprate.NewRateLimiter(perSecond*int(rateWindow/time.Second), rateWindow,
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			s.renderError(w, r, tact.Errorf(tact.ERATELIMITED, "too many requests for this write key; retry after the time in Retry-After"))
		}))
}

// eventCalls are the ingest routes under /v1/: the batch endpoints, the
// six calls and analytics-next's one-letter forms.
var eventCalls = []string{"batch", "b", "track", "identify", "page", "screen", "group", "alias", "t", "i", "p", "s", "g", "a"}
