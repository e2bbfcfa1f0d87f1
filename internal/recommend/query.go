package recommend

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// scratch is one Recommend call's working memory, indexed by item and
// reset through the candidate list, so a call costs what it touches.
type scratch struct {
	knn     []float64 // the shopper's co-occurrence score
	knnBest []float64 // the strongest single seed's part of it
	knnFrom []int32   // that seed: index into the shopper's entries
	ctx     []float64 // the context items' co-occurrence score
	ctxBest []float64
	ctxFrom []int32 // the strongest context item
	pos     []int32 // the item's index in the shopper's entries, or -1
	cand    []bool
	cands   []int32
	ranked  []scored
}

type scored struct {
	item  int32
	score float64
	parts parts
	flags uint8
}

// parts of a score, for the reason.
type parts struct {
	knn, ctx, trend, interest float64
}

const (
	flagRetarget uint8 = 1 << iota
	flagBought
)

func (m *Model) getScratch(n int) *scratch {
	sc, _ := m.pool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	if len(sc.pos) < n {
		grow := func(f []float64) []float64 { return append(f, make([]float64, n-len(f))...) }
		growI := func(f []int32, v int32) []int32 {
			for len(f) < n {
				f = append(f, v)
			}
			return f
		}
		sc.knn, sc.knnBest, sc.ctx, sc.ctxBest = grow(sc.knn), grow(sc.knnBest), grow(sc.ctx), grow(sc.ctxBest)
		sc.knnFrom, sc.ctxFrom, sc.pos = growI(sc.knnFrom, -1), growI(sc.ctxFrom, -1), growI(sc.pos, -1)
		sc.cand = append(sc.cand, make([]bool, n-len(sc.cand))...)
	}
	return sc
}

func (m *Model) putScratch(sc *scratch) {
	for _, i := range sc.cands {
		sc.knn[i], sc.knnBest[i], sc.knnFrom[i] = 0, 0, -1
		sc.ctx[i], sc.ctxBest[i], sc.ctxFrom[i] = 0, 0, -1
		sc.cand[i], sc.pos[i] = false, -1
	}
	sc.cands = sc.cands[:0]
	sc.ranked = sc.ranked[:0]
	m.pool.Put(sc)
}

func (sc *scratch) candidate(i int32) {
	if !sc.cand[i] {
		sc.cand[i] = true
		sc.cands = append(sc.cands, i)
	}
}

// Recommend answers a query. A query without a shopper, or for a shopper
// of whom the model holds no signal it may use (none at all, or only
// sensitive items without the grant, or only muted categories), gets a
// non-personal answer computed from aggregates only.
func (m *Model) Recommend(q Query) Answer {
	if q.Limit <= 0 {
		q.Limit = 10
	}
	q.Limit = min(q.Limit, MaxLimit)
	q.Locale = normaliseLocale(q.Locale)
	if q.Now.IsZero() {
		q.Now = m.cfg.Now()
	}
	if q.Placement != ProductPage && q.Placement != CartPage {
		q.Placement = Home
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if q.Shopper != "" {
		m.reads.Add(1)
		if s := m.shoppers[q.Shopper]; s != nil && slices.ContainsFunc(s.entries, func(e entry) bool { return m.usable(q, e) }) {
			return m.personal(q, s)
		}
	}
	return m.nonPersonal(q)
}

// usable reports whether a shopper's entry may be a signal: not sensitive
// (without the grant), not in a muted category.
func (m *Model) usable(q Query, e entry) bool {
	info := &m.items[e.item].info
	return (!info.Sensitive || q.Sensitive) && !muted(info.Category, q.Muted)
}

// trendOf is an item's trend against the best of the last Refresh, in
// [0, 1].
func (m *Model) trendOf(i int32) float64 {
	if m.lists.trendMax <= 0 {
		return 0
	}
	return min(m.lists.popularity(m, i)/m.lists.trendMax, 1)
}

// candidatesFromLists adds the head of the trending list and of the
// given categories' lists.
func (m *Model) candidatesFromLists(sc *scratch, n int, cats ...string) {
	for _, i := range m.lists.trending[:min(n, len(m.lists.trending))] {
		sc.candidate(i)
	}
	for _, c := range cats {
		l := m.lists.byCat[c]
		for _, i := range l[:min(n, len(l))] {
			sc.candidate(i)
		}
	}
}

// nonPersonal answers from aggregates: the context item's neighbours and
// category when there is one, what is trending otherwise. Sensitive items
// are left out.
func (m *Model) nonPersonal(q Query) Answer {
	sc := m.getScratch(len(m.items))
	defer m.putScratch(sc)
	ctx := int32(-1)
	if q.Placement != Home {
		if i, ok := m.ids[q.ItemID]; ok {
			ctx = i
		}
	}
	cat := ""
	maxCtx := 0.0
	if ctx >= 0 {
		if !m.items[ctx].info.Sensitive {
			cat = m.items[ctx].info.Category // never "popular in" a sensitive item's category
		}
		for _, nb := range m.items[ctx].row {
			sc.ctx[nb.item] = float64(nb.sim)
			sc.candidate(nb.item)
		}
	}
	m.candidatesFromLists(sc, 3*q.Limit+20, cat)
	for _, i := range sc.cands {
		if m.eligibleNonPersonal(i, ctx) {
			maxCtx = max(maxCtx, sc.ctx[i])
		}
	}
	beta, gamma := m.cfg.TrendWeight, m.cfg.InterestWeight
	for _, i := range sc.cands {
		if !m.eligibleNonPersonal(i, ctx) {
			continue
		}
		var p parts
		tr := m.trendOf(i)
		if maxCtx > 0 {
			p.ctx = (1 - beta) * sc.ctx[i] / maxCtx
			p.trend = beta * tr
		} else {
			p.trend = tr
		}
		if cat != "" && m.items[i].info.Category == cat {
			p.interest = gamma * tr
		}
		m.offer(sc, scored{item: i, score: p.ctx + p.trend + p.interest, parts: p}, q.Limit)
	}
	top := sc.ranked
	a := Answer{Items: make([]Recommendation, len(top))}
	for k, r := range top {
		it := &m.items[r.item].info
		var rs Reason
		switch {
		case r.parts.ctx > 0 && r.parts.ctx >= r.parts.trend && r.parts.ctx >= r.parts.interest:
			rs = reason(q.Locale, ReasonBoughtTogether, m.nameOf(ctx))
		case r.parts.interest > 0:
			rs = reason(q.Locale, ReasonPopularInCategory, leaf(it.Category))
		default:
			rs = reason(q.Locale, ReasonTrending, "")
		}
		a.Items[k] = Recommendation{ID: it.ID, Score: round(r.score), Reason: rs}
	}
	return a
}

func (m *Model) eligibleNonPersonal(i, ctx int32) bool {
	it := &m.items[i]
	return it.listed && !it.info.Sensitive && i != ctx
}

// nameOf is an item's name as a reason may show it: empty for a sensitive
// item.
func (m *Model) nameOf(i int32) string {
	if i < 0 || m.items[i].info.Sensitive {
		return ""
	}
	return strings.TrimSpace(m.items[i].info.Name)
}

// personal answers for a shopper the model holds signals of.
func (m *Model) personal(q Query, s *shopper) Answer {
	sc := m.getScratch(len(m.items))
	defer m.putScratch(sc)
	now := q.Now.Unix()
	cfg := &m.cfg
	seedH, interestH := cfg.SeedHalfLife.Seconds(), cfg.InterestHalfLife.Seconds()
	window := int64(cfg.RetargetWindow.Seconds())

	usable := func(e entry) bool { return m.usable(q, e) }
	var interests map[string]float64
	for k, e := range s.entries {
		sc.pos[e.item] = int32(k)
		sc.candidate(e.item) // so that pos is reset
		if !usable(e) {
			continue
		}
		age := float64(max(now-sec(e.last), 0))
		r := cfg.kindWeight(e.kind) * math.Exp2(-age/seedH)
		for _, nb := range m.items[e.item].row {
			v := r * float64(nb.sim)
			sc.knn[nb.item] += v
			if v > sc.knnBest[nb.item] {
				sc.knnBest[nb.item], sc.knnFrom[nb.item] = v, int32(k)
			}
			sc.candidate(nb.item)
		}
		if c := m.items[e.item].info.Category; c != "" {
			if interests == nil {
				interests = map[string]float64{}
			}
			interests[c] += cfg.kindWeight(e.kind) * math.Exp2(-age/interestH)
		}
	}

	// Context: the page's item, and on the cart page what the shopper
	// has put in the cart lately and not bought since.
	ctx := int32(-1)
	if q.Placement != Home {
		if i, ok := m.ids[q.ItemID]; ok {
			ctx = i
		}
	}
	inCart := func(e entry) bool {
		return q.Placement == CartPage && e.kind >= Cart && e.seen > e.bought && now-sec(e.seen) <= window
	}
	addCtx := func(i int32, w float64) {
		for _, nb := range m.items[i].row {
			v := w * float64(nb.sim)
			sc.ctx[nb.item] += v
			if v > sc.ctxBest[nb.item] {
				sc.ctxBest[nb.item], sc.ctxFrom[nb.item] = v, i
			}
			sc.candidate(nb.item)
		}
	}
	if ctx >= 0 {
		addCtx(ctx, 1)
	}
	for _, e := range s.entries {
		if e.item != ctx && inCart(e) && usable(e) {
			addCtx(e.item, 1)
		}
	}

	// The strongest interests bring their categories' lists.
	var cats []string
	maxAff := 0.0
	for c, v := range interests {
		cats = append(cats, c)
		maxAff = max(maxAff, v)
	}
	slices.SortFunc(cats, func(a, b string) int {
		if c := cmp.Compare(interests[b], interests[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	// Enough of the trending list that the shopper's own items, all
	// possibly excluded, cannot leave the answer short.
	m.candidatesFromLists(sc, 3*q.Limit+20+len(s.entries), cats[:min(3, len(cats))]...)

	// What may be shown: listed, not sensitive without the grant, not the
	// page's item, not in the cart; of the shopper's own items, bought
	// ones only when made to be bought again and viewed ones only as
	// retargets within the caps.
	type verdict struct {
		ok    bool
		flags uint8
	}
	judge := func(i int32) verdict {
		it := &m.items[i]
		if !it.listed || it.info.Sensitive && !q.Sensitive || i == ctx {
			return verdict{}
		}
		p := sc.pos[i]
		if p < 0 {
			return verdict{ok: true}
		}
		e := s.entries[p]
		if !usable(e) {
			// A signal the shopper took away (a deleted interest) is not
			// shown back either.
			return verdict{}
		}
		if inCart(e) || e.bought > 0 && !it.info.RepeatPurchase {
			return verdict{}
		}
		if e.seen > e.bought {
			if now-sec(e.seen) > window || q.Retargeted[it.info.ID] >= cfg.RetargetMax {
				return verdict{}
			}
			return verdict{ok: true, flags: flagRetarget}
		}
		return verdict{ok: true, flags: flagBought}
	}
	maxKnn, maxCtx := 0.0, 0.0
	for _, i := range sc.cands {
		if judge(i).ok {
			maxKnn, maxCtx = max(maxKnn, sc.knn[i]), max(maxCtx, sc.ctx[i])
		}
	}
	beta, gamma := cfg.TrendWeight, cfg.InterestWeight
	share := 0.0
	if maxCtx > 0 {
		share = cfg.ContextShare
		if maxKnn == 0 {
			share = 1
		}
	}
	for _, i := range sc.cands {
		v := judge(i)
		if !v.ok {
			continue
		}
		var p parts
		if maxKnn > 0 {
			p.knn = (1 - beta) * (1 - share) * sc.knn[i] / maxKnn
		}
		if maxCtx > 0 {
			p.ctx = (1 - beta) * share * sc.ctx[i] / maxCtx
		}
		tr := m.trendOf(i)
		p.trend = beta * tr
		if maxKnn == 0 && maxCtx == 0 {
			p.trend = tr
		}
		if c := m.items[i].info.Category; maxAff > 0 && interests[c] > 0 && !muted(c, q.Muted) {
			p.interest = gamma * interests[c] / maxAff * tr
		}
		score := p.knn + p.ctx + p.trend + p.interest
		if v.flags&flagRetarget != 0 {
			e := s.entries[sc.pos[i]]
			score += cfg.RetargetWeight * (1 - float64(now-sec(e.seen))/float64(window))
		}
		m.offer(sc, scored{item: i, score: score, parts: p, flags: v.flags}, q.Limit)
	}
	top := sc.ranked
	a := Answer{Items: make([]Recommendation, len(top)), Personalized: true}
	for k, r := range top {
		a.Items[k] = Recommendation{ID: m.items[r.item].info.ID, Score: round(r.score),
			Reason: m.personalReason(q, s, sc, r), Retarget: r.flags&flagRetarget != 0}
	}
	return a
}

// personalReason names the strongest part of a personal score. Sensitive
// items and their categories are never named, granted or not: the grant
// allows their use, not their display on a screen others may see.
func (m *Model) personalReason(q Query, s *shopper, sc *scratch, r scored) Reason {
	it := &m.items[r.item].info
	switch {
	case r.flags&flagRetarget != 0:
		return reason(q.Locale, ReasonViewedRecently, "")
	case r.flags&flagBought != 0:
		return reason(q.Locale, ReasonBuyAgain, "")
	}
	p := r.parts
	switch {
	case p.ctx > 0 && p.ctx >= p.knn && p.ctx >= p.trend && p.ctx >= p.interest:
		return reason(q.Locale, ReasonBoughtTogether, m.nameOf(sc.ctxFrom[r.item]))
	case p.knn > 0 && p.knn >= p.trend && p.knn >= p.interest:
		seed := s.entries[sc.knnFrom[r.item]]
		code := ReasonBecauseViewed
		switch seed.kind {
		case Purchase:
			code = ReasonBecauseBought
		case Cart:
			code = ReasonBecauseCarted
		}
		name := m.nameOf(seed.item)
		if name == "" {
			code = ReasonActivity
		}
		return reason(q.Locale, code, name)
	case p.interest > 0 && p.interest >= p.trend:
		name := leaf(it.Category)
		if it.Sensitive {
			name = ""
		}
		return reason(q.Locale, ReasonInterest, name)
	}
	return reason(q.Locale, ReasonTrending, "")
}

// offer keeps r if it is among the best n so far: sc.ranked stays sorted,
// best first, ties by item id.
func (m *Model) offer(sc *scratch, r scored, n int) {
	better := func(a, b scored) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return m.items[a.item].info.ID < m.items[b.item].info.ID
	}
	rs := sc.ranked
	if len(rs) == n && !better(r, rs[n-1]) {
		return
	}
	at, _ := slices.BinarySearchFunc(rs, r, func(x, y scored) int {
		if better(x, y) {
			return -1
		}
		return 1
	})
	if len(rs) < n {
		rs = append(rs, scored{})
	}
	copy(rs[at+1:], rs[at:len(rs)-1])
	rs[at] = r
	sc.ranked = rs
}

// round keeps scores short in JSON.
func round(v float64) float64 { return math.Round(v*1e6) / 1e6 }
