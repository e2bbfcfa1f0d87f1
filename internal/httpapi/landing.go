package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/interests"
)

var landingReasons = map[string]datamap.Text{
	"interest": {"en": "Because you often look at %s", "zh-CN": "因为您经常浏览%s"},
	"default":  {"en": "The shop's front page", "zh-CN": "商店首页"},
}

// getLanding chooses the section to open the shop on: from the shopper's
// interest profile, only with personalisation consent and enough signal;
// otherwise the shop's default (section null). A server key names the
// shopper by userId or anonymousId; a browser uses its subject token.
func (s *Server) getLanding(w http.ResponseWriter, r *http.Request) error {
	s.allowOrigin(w, r, nil)
	p, token, err := s.readCredential(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	lookup := consent.Lookup{SubjectToken: token}
	server := p != nil && p.Kind == auth.KindServer
	switch {
	case p != nil && !server:
		return tact.Errorf(tact.EFORBIDDEN, "the landing choice needs a server key or the shopper's subject token")
	case server:
		lookup = consent.Lookup{UserID: q.Get("userId"), AnonymousID: q.Get("anonymousId")}
		if (lookup.UserID == "") == (lookup.AnonymousID == "") {
			return tact.Errorf(tact.EINVALID, "name the shopper with exactly one of userId or anonymousId")
		}
	}
	loc := datamap.NormalizeLocale(q.Get("locale"))
	answer := map[string]any{"section": nil, "confidence": 0, "personalized": false,
		"reason": map[string]any{"code": "default", "text": landingReasons["default"].Get(loc)}}
	subj, state, err := s.Consent.State(r.Context(), server, lookup)
	switch {
	case err == consent.ErrNoShopper:
	case err != nil:
		return err
	case state[datamap.PurposePersonalization].Granted:
		prof, err := s.Interests.Profile(r.Context(), subj.ID, time.Now())
		if err != nil {
			return err
		}
		dm := s.DataMap()
		sensitiveOK := state[datamap.PurposeSensitivePersonalization].Granted
		l := interests.ChooseLanding(prof, func(cat string) bool {
			_, sensitive := dm.SensitiveProductCategory(cat)
			return sensitive && !sensitiveOK
		})
		if l.Section != "" {
			answer = map[string]any{"section": l.Section, "confidence": l.Confidence, "personalized": true,
				"reason": map[string]any{"code": "interest", "text": fmt.Sprintf(landingReasons["interest"].Get(loc), l.Section)}}
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, answer)
	return nil
}
