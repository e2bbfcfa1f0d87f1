package recommend

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// Interest is one category of a shopper's interest profile.
type Interest struct {
	Category string  `json:"category"`
	Weight   float64 `json:"weight"` // share of the profile, in (0, 1]
}

// Interests is the shopper's interest profile at now (zero: Config.Now()),
// the one personal answers use: the categories of the items the shopper
// viewed, put in a cart or bought, each event weighted by its kind and
// halved every InterestHalfLife, strongest first. Sensitive items count
// only when sensitive is true (the shopper granted
// sensitive_personalization). It is derived from the items the model
// holds for the shopper, so it is as compact as they are, and Remove
// clears it with them.
func (m *Model) Interests(shopperKey string, sensitive bool, now time.Time) []Interest {
	if now.IsZero() {
		now = m.cfg.Now()
	}
	t := now.Unix()
	h := m.cfg.InterestHalfLife.Seconds()
	m.mu.RLock()
	defer m.mu.RUnlock()
	m.reads.Add(1)
	s := m.shoppers[shopperKey]
	if s == nil {
		return nil
	}
	aff := map[string]float64{}
	total := 0.0
	for _, e := range s.entries {
		info := &m.items[e.item].info
		if info.Category == "" || info.Sensitive && !sensitive {
			continue
		}
		v := m.cfg.kindWeight(e.kind) * math.Exp2(-float64(max(t-sec(e.last), 0))/h)
		aff[info.Category] += v
		total += v
	}
	out := make([]Interest, 0, len(aff))
	for c, v := range aff {
		out = append(out, Interest{Category: c, Weight: v / total})
	}
	slices.SortFunc(out, func(a, b Interest) int {
		if c := cmp.Compare(b.Weight, a.Weight); c != 0 {
			return c
		}
		return strings.Compare(a.Category, b.Category)
	})
	return out
}
