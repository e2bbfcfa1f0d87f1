package httpapi

import (
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
)

// shopperOf resolves the subject a request's subject token (Bearer or
// cookie) speaks for; "" when tact holds nothing for that browser. Only a
// subject token is accepted: the interests are the shopper's own.
func (s *Server) shopperOf(r *http.Request) (consent.Subject, map[string]consent.PurposeView, bool, error) {
	p, token, err := s.readCredential(r)
	if err != nil {
		return consent.Subject{}, nil, false, err
	}
	if p != nil || token == "" {
		return consent.Subject{}, nil, false, tact.Errorf(tact.EUNAUTHORIZED, "the shopper's subject token is required (Bearer, or tact's cookie)")
	}
	subj, state, err := s.Consent.State(r.Context(), false, consent.Lookup{SubjectToken: token})
	if err == consent.ErrNoShopper {
		return subj, state, false, nil
	}
	return subj, state, err == nil, err
}

// getInterests shows the shopper their interest profile.
func (s *Server) getInterests(w http.ResponseWriter, r *http.Request) error {
	s.allowOrigin(w, r, nil)
	subj, state, found, err := s.shopperOf(r)
	if err != nil {
		return err
	}
	out := map[string]any{"personalized": false, "paused": false, "interests": []any{}}
	if found && state[datamap.PurposePersonalization].Granted {
		prof, err := s.Interests.Profile(r.Context(), subj.ID, time.Now())
		if err != nil {
			return err
		}
		list := make([]map[string]any, 0, len(prof.Interests))
		for _, in := range prof.Interests {
			list = append(list, map[string]any{"category": in.Category, "score": math.Round(in.Score*1000) / 1000, "updatedAt": in.UpdatedAt.Format(time.RFC3339)})
		}
		removed := append([]string{}, prof.Muted...)
		out = map[string]any{"personalized": !prof.Paused, "paused": prof.Paused, "interests": list, "removed": removed}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteInterest removes one category from the shopper's profile.
func (s *Server) deleteInterest(w http.ResponseWriter, r *http.Request) error {
	s.allowOrigin(w, r, nil)
	subj, _, found, err := s.shopperOf(r)
	if err != nil {
		return err
	}
	category := strings.Trim(r.PathValue("category"), "/")
	if category == "" {
		return tact.Errorf(tact.EINVALID, "name the category to delete: DELETE /v1/interests/{category}")
	}
	if found {
		if err := s.Personalize.DeleteInterest(r.Context(), subj.ID, category); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pauseInterests and resumeInterests switch the profile off and on.
func (s *Server) pauseInterests(w http.ResponseWriter, r *http.Request) error {
	return s.setPaused(w, r, true)
}

func (s *Server) resumeInterests(w http.ResponseWriter, r *http.Request) error {
	return s.setPaused(w, r, false)
}

func (s *Server) setPaused(w http.ResponseWriter, r *http.Request, paused bool) error {
	s.allowOrigin(w, r, nil)
	subj, _, found, err := s.shopperOf(r)
	if err != nil {
		return err
	}
	if found {
		if paused {
			err = s.Personalize.Pause(r.Context(), subj.ID)
		} else {
			err = s.Personalize.Resume(r.Context(), subj.ID)
		}
		if err != nil {
			return err
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"paused": paused})
	return nil
}

// getHowItWorks explains personalisation in plain words (public).
func (s *Server) getHowItWorks(w http.ResponseWriter, r *http.Request) error {
	s.allowOrigin(w, r, nil)
	loc := datamap.NormalizeLocale(r.URL.Query().Get("locale"))
	sections := make([]map[string]string, 0, len(howItWorks))
	for _, sec := range howItWorks {
		sections = append(sections, map[string]string{"title": sec[0].Get(loc), "text": sec[1].Get(loc)})
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, map[string]any{"locale": loc, "sections": sections})
	return nil
}

var howItWorks = [][2]datamap.Text{
	{{"en": "What we use", "zh-CN": "我们使用什么"},
		{"en": "Only what you do on this shop — products you view, put in your cart and buy — and only if you allowed personalisation. Nothing from other sites, no data bought from others.",
			"zh-CN": "仅使用您在本店的行为——浏览、加入购物车和购买的商品——且仅在您同意个性化推荐后使用。不使用来自其他网站的信息，也不购买他人的数据。"}},
	{{"en": "What we keep", "zh-CN": "我们保存什么"},
		{"en": "Not your history but a short list of the categories you seem interested in, each with a score that fades by half every 30 days. You can see it, delete any category, or pause it.",
			"zh-CN": "我们保存的不是您的浏览记录，而是一份您可能感兴趣的商品类别简表，每个类别的分数每 30 天减半。您可以查看、删除任何类别或暂停使用。"}},
	{{"en": "How suggestions are made", "zh-CN": "推荐如何产生"},
		{"en": "Items often viewed or bought together by many shoppers (never fewer than five, so no one's basket can be seen), what is popular now, and your categories. Every suggestion says why it is shown and whether it is personalised.",
			"zh-CN": "根据许多顾客经常一起浏览或购买的商品（至少五位顾客，因此任何人的购物篮都不会被看出）、当前的热门商品以及您感兴趣的类别。每条推荐都会说明推荐原因以及是否个性化。"}},
	{{"en": "What we never do", "zh-CN": "我们绝不会做什么"},
		{"en": "We never use health, religion or other sensitive categories unless you allowed that separately, never show you the same viewed item more than three times or after a week, and never change prices for you.",
			"zh-CN": "除非您另行单独同意，我们绝不使用健康、宗教等敏感类别；同一件浏览过的商品最多向您再展示三次且不超过一周；我们也绝不会针对您调整价格。"}},
	{{"en": "Your choice", "zh-CN": "您的选择"},
		{"en": "Switch personalisation off at any time in the privacy choices, or ask for non-personalised results where they are shown; it takes effect at once and your profile is deleted.",
			"zh-CN": "您可以随时在隐私选项中关闭个性化推荐，或在推荐位置选择非个性化结果；关闭立即生效，您的兴趣档案也会被删除。"}},
}
