package httpapi

import (
	"net/http"
	"strconv"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/personalize"
	"github.com/tact-cdp/tact/internal/recommend"
)

// getRecommendations answers GET /v1/recommendations (DESIGN 5.3):
// placement home, product (with itemId) or cart; limit 1..100 (default 10);
// locale en or zh-CN; personalized=false asks for a non-personal answer.
//
// Who asks decides what may be personal. A server key names the shopper by
// userId or anonymousId; a browser sends its subject token (Bearer or
// tact's cookie, alone or with the page's write key); a write key alone
// gets non-personal answers. The answer
// is personal only when the shopper grants personalization now — with
// personalized=false, or without a shopper, nothing about the shopper is
// looked up at all.
func (s *Server) getRecommendations(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := personalize.Request{
		Placement: recommend.Placement(q.Get("placement")),
		ItemID:    q.Get("itemId"),
		Limit:     10,
		Locale:    datamap.NormalizeLocale(q.Get("locale")),
	}
	if req.Placement == "" {
		req.Placement = recommend.Home
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return tact.Errorf(tact.EINVALID, "limit must be between 1 and 100")
		}
		req.Limit = n
	}
	personal := true
	switch v := q.Get("personalized"); v {
	case "", "true":
	case "false":
		personal = false
	default:
		return tact.Errorf(tact.EINVALID, "personalized must be true or false")
	}
	if err := req.Check(); err != nil {
		return err
	}
	p, token, err := s.readCredential(r)
	if err != nil {
		return err
	}
	s.allowOrigin(w, r, p)
	var lookup *consent.Lookup
	server := p != nil && p.Kind == auth.KindServer
	switch {
	case p != nil && p.Kind == auth.KindWrite:
		// A page's public key speaks for nobody; the browser's own
		// subject token (tact's cookie), when it has one, does.
		if c, err := r.Cookie(subjectCookie); err == nil && c.Value != "" {
			lookup = &consent.Lookup{SubjectToken: c.Value}
		}
	case p != nil && !server:
		return tact.Errorf(tact.EFORBIDDEN, "recommendations need a server key, a write key or the shopper's subject token")
	case server:
		l := consent.Lookup{UserID: q.Get("userId"), AnonymousID: q.Get("anonymousId")}
		if l.UserID != "" && l.AnonymousID != "" {
			return tact.Errorf(tact.EINVALID, "name the shopper with at most one of userId or anonymousId")
		}
		if l.UserID != "" || l.AnonymousID != "" {
			lookup = &l
		}
	default:
		lookup = &consent.Lookup{SubjectToken: token}
	}
	if personal && lookup != nil {
		subj, state, err := s.Consent.State(r.Context(), server, *lookup)
		switch {
		case err == consent.ErrNoShopper:
			// An unknown shopper gets a non-personal answer.
		case err != nil && lookup.SubjectToken != "" && tact.ErrorCode(err) == tact.EUNAUTHORIZED:
			// A stale cookie: the browser is a stranger again.
		case err != nil:
			return err
		case state[datamap.PurposePersonalization].Granted:
			req.Shopper = subj.ID
			req.Sensitive = state[datamap.PurposeSensitivePersonalization].Granted
		}
	}
	a, err := s.Personalize.Recommend(req)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, a)
	return nil
}
