package recommend

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Model is the recommendation model. All its methods are safe for
// concurrent use: Recommend calls run in parallel with each other; Add,
// Remove, PutItem and the write phases of Refresh take turns with them.
//
// What the model learns from a shopper is kept per shopper (at most
// Config.MaxShopperItems items, the least recently touched dropped first),
// so that Remove can take it all back; the co-occurrence counts are kept
// per pair of items touched within Config.PairWindow of each other (at
// most Config.MaxPartners pairs per item). Memory grows with items and
// active shoppers, not with the number of events: about 1 GB for 100,000
// items and 10M events of 1M shoppers (TestMemoryAtScale), 60 MB for the
// Online Retail data set.
//
// Time weights are exponential decays stored relative to a fixed epoch
// (w·2^((t−epoch)/halfLife)): a decay is the same factor for every weight,
// so sums never need ageing, and the order of items never changes merely
// because time passes.
type Model struct {
	cfg      Config
	hp, hg   float64 // PairHalfLife and PairGap, seconds
	win      int64   // PairWindow, seconds
	ht       float64 // TrendHalfLife, seconds
	minSup   uint32
	pool     sync.Pool    // *scratch
	reads    atomic.Int64 // lookups of a shopper's data: tests prove non-personal answers make none
	mu       sync.RWMutex
	ids      map[string]int32
	items    []itemState
	shoppers map[string]*shopper
	epoch    int64 // Unix seconds; set by the first event
	hasEpoch bool
	dirty    []int32 // items whose neighbour row is out of date
	changed  bool    // anything since the last Refresh
	lists    lists   // as of the last Refresh, or of the last Remove
	settled  uint64  // Remove and Expire calls that recomputed lists
}

// itemState is what the model holds per item.
type itemState struct {
	info     Item
	listed   bool    // in the catalogue view: may be recommended
	norm     float64 // Σ pair weights of the shoppers holding it (epoch-scaled)
	trend    float64 // Σ trend weights (epoch-scaled)
	pop      float64 // popularity among all visitors, from measurement, in [0, 1]
	holders  int32   // shoppers holding it
	partners map[int32]pairStat
	row      []neighbour // strongest usable pairs, as of rowVer
	ver      uint64      // bumped by every change of norm or partners
	rowVer   uint64
	dirty    bool
}

// pairStat is one pair's co-occurrence: the distinct shoppers holding both
// items and the sum of their (epoch-scaled) pair weights. Each pair is
// kept in both items' partner maps.
type pairStat struct {
	support uint32
	w       float32
}

type neighbour struct {
	item int32
	sim  float32
}

// shopper is what the model holds per shopper: one entry per item, in the
// order first touched.
type shopper struct {
	entries []entry
	last    int64
}

// entry is a shopper's relation to one item, in 24 bytes (there are many).
type entry struct {
	item   int32
	kind   Kind    // the strongest kind seen
	last   int32   // the latest event, Unix minutes
	seen   int32   // the latest view or cart addition, Unix minutes; 0 for none
	bought int32   // the latest purchase, Unix minutes; 0 for none
	pw     float32 // pairWeight, kept to spare its exponential
}

// at is when the entry's weights count from: its latest event, to the
// hour (so that a burst of events within the hour moves no pair).
func (e entry) at() int64 { return hour(sec(e.last)) }

// sec converts Unix minutes to Unix seconds.
func sec(minutes int32) int64 { return int64(minutes) * 60 }

// lists are the non-personal rankings, rebuilt by Refresh.
type lists struct {
	trending []int32 // listed, non-sensitive items by popularity, best first
	eventMax float64 // the best trend from consented events among them
	trendMax float64 // the best popularity among them
	byCat    map[string][]int32
}

// Sizes of the non-personal lists.
const (
	trendingLen = 500
	categoryLen = 50
	// rebaseAfter is how many pair half-lives an event may lie after the
	// epoch before the epoch moves up (keeps float32 pair weights small).
	rebaseAfter = 24
	// maxAhead is how far after Config.Now() an event may be (clock skew);
	// an event further ahead would age every other weight away.
	maxAhead = 24 * time.Hour
)

// New returns an empty model.
func New(cfg Config) *Model {
	cfg = cfg.withDefaults()
	return &Model{
		cfg:      cfg,
		hp:       cfg.PairHalfLife.Seconds(),
		hg:       cfg.PairGap.Seconds(),
		win:      int64(cfg.PairWindow.Seconds()),
		ht:       cfg.TrendHalfLife.Seconds(),
		minSup:   uint32(cfg.MinSupport),
		ids:      map[string]int32{},
		shoppers: map[string]*shopper{},
	}
}

// Config returns the model's configuration, defaults filled in.
func (m *Model) Config() Config { return m.cfg }

// PutItem adds or updates an item of the catalogue view. Only items put
// here are recommended. A change of the sensitive flag counts at once; a
// change of category from the next Refresh.
func (m *Model) PutItem(it Item) error {
	if it.ID == "" {
		return errors.New("recommend: an item needs an id")
	}
	it.Category = strings.Trim(it.Category, "/")
	m.mu.Lock()
	defer m.mu.Unlock()
	i := m.intern(it.ID)
	// Items listed from events share the request body; copies let it go.
	it.ID, it.Name, it.Category = m.items[i].info.ID, strings.Clone(it.Name), strings.Clone(it.Category)
	m.items[i].info = it
	m.items[i].listed = true
	m.changed = true
	return nil
}

// DeleteItem takes an item out of the catalogue view (it is no longer
// recommended; what shoppers did with it still counts for its pairs).
func (m *Model) DeleteItem(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.ids[id]; ok {
		m.items[i].listed = false
		m.changed = true
	}
}

func (m *Model) intern(id string) int32 {
	if i, ok := m.ids[id]; ok {
		return i
	}
	i := int32(len(m.items))
	id = strings.Clone(id) // an event's strings share its request body
	m.ids[id] = i
	m.items = append(m.items, itemState{info: Item{ID: id}})
	return i
}

// Add learns from one event. Its effect on the shopper's own answers is
// immediate; on pairs, trending and other shoppers' answers from the next
// Refresh.
func (m *Model) Add(e Event) error {
	switch {
	case e.Shopper == "":
		return errors.New("recommend: an event needs a shopper")
	case e.Item == "":
		return errors.New("recommend: an event needs an item")
	case !e.Kind.valid():
		return errors.New("recommend: unknown event kind")
	case e.At.IsZero():
		return errors.New("recommend: an event needs a time")
	case e.At.After(m.cfg.Now().Add(maxAhead)):
		return errors.New("recommend: an event from the future")
	case e.At.Unix() < 60 || e.At.Unix()/60 > math.MaxInt32:
		return errors.New("recommend: an event time out of range")
	}
	at := e.At.Unix()
	mins := int32(at / 60)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ensureEpoch(at)
	idx := m.intern(e.Item)
	s := m.shoppers[e.Shopper]
	if s == nil {
		s = &shopper{}
		m.shoppers[e.Shopper] = s
	}
	s.last = max(s.last, at)
	m.changed = true
	pos := slices.IndexFunc(s.entries, func(x entry) bool { return x.item == idx })
	if pos < 0 {
		ne := entry{item: idx, kind: e.Kind, last: mins}
		ne.note(e.Kind, mins)
		m.addEntry(s, ne)
		if len(s.entries) > m.cfg.MaxShopperItems {
			m.removeEntry(s, oldest(s.entries))
		}
		return nil
	}
	old := s.entries[pos]
	upd := old
	upd.kind = max(upd.kind, e.Kind)
	upd.last = max(upd.last, mins)
	upd.note(e.Kind, mins)
	if upd.kind == old.kind && upd.at() == old.at() {
		s.entries[pos] = upd // nothing its weights depend on changed
		return nil
	}
	m.moveEntry(s, pos, upd)
	return nil
}

func (e *entry) note(k Kind, at int32) {
	if k == Purchase {
		e.bought = max(e.bought, at)
	} else {
		e.seen = max(e.seen, at)
	}
}

func hour(t int64) int64 { return t - (t%3600+3600)%3600 }

// oldest is the position of the least recently touched entry (the first
// touched among equals).
func oldest(es []entry) int {
	o := 0
	for i, e := range es {
		if e.last < es[o].last {
			o = i
		}
	}
	return o
}

// Remove takes a shopper's whole contribution out of the model (consent
// withdrawn, objection, erasure) and reports whether there was any. The
// pairs and lists it touched are recomputed before Remove returns, so no
// answer after it uses a pair the shopper's data was needed for.
func (m *Model) Remove(shopperKey string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.shoppers[shopperKey]
	if s == nil {
		return false
	}
	touched := m.dropShopper(shopperKey, s)
	m.settle(touched)
	return true
}

// Expire removes the shoppers whose latest event is before t (their
// weights have decayed to next to nothing) and returns how many.
func (m *Model) Expire(before time.Time) int {
	t := before.Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k, s := range m.shoppers {
		if s.last < t {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys) // the same float sums whatever the map order
	var touched []int32
	for _, k := range keys {
		touched = append(touched, m.dropShopper(k, m.shoppers[k])...)
	}
	if len(keys) > 0 {
		m.settle(touched)
	}
	return len(keys)
}

func (m *Model) dropShopper(key string, s *shopper) []int32 {
	touched := make([]int32, 0, len(s.entries))
	for len(s.entries) > 0 {
		last := len(s.entries) - 1
		touched = append(touched, s.entries[last].item)
		m.removeEntry(s, last)
	}
	delete(m.shoppers, key)
	m.changed = true
	return touched
}

// settle recomputes the rows of the touched items and the lists at once.
func (m *Model) settle(touched []int32) {
	for _, i := range touched {
		it := &m.items[i]
		it.row, it.rowVer = m.computeRow(i), it.ver
	}
	m.lists = m.computeLists()
	m.settled++
}

// ensureEpoch sets the epoch from the first event and moves it up when an
// event lies too many half-lives after it.
func (m *Model) ensureEpoch(at int64) {
	if !m.hasEpoch {
		m.epoch, m.hasEpoch = hour(at), true
		return
	}
	if float64(at-m.epoch)/m.hp <= rebaseAfter {
		return
	}
	shift := hour(at) - m.epoch
	fp := math.Exp2(-float64(shift) / m.hp)
	ft := math.Exp2(-float64(shift) / m.ht)
	for i := range m.items {
		it := &m.items[i]
		it.norm *= fp
		it.trend *= ft
		for j, p := range it.partners {
			p.w = float32(float64(p.w) * fp)
			it.partners[j] = p
		}
	}
	for _, s := range m.shoppers {
		for k := range s.entries {
			s.entries[k].pw = float32(float64(s.entries[k].pw) * fp)
		}
	}
	m.epoch += shift
}

// pairWeight is an entry's weight in co-occurrence: its kind's weight,
// aged by PairHalfLife (epoch-scaled).
func (m *Model) pairWeight(e entry) float64 {
	return m.cfg.kindWeight(e.kind) * math.Exp2(float64(e.at()-m.epoch)/m.hp)
}

// weigh sets the entry's cached pair weight.
func (m *Model) weigh(e entry) entry {
	e.pw = float32(m.pairWeight(e))
	return e
}

func (m *Model) trendWeight(e entry) float64 {
	return m.cfg.kindWeight(e.kind) * math.Exp2(float64(e.at()-m.epoch)/m.ht)
}

// pairContrib is what one shopper adds to a pair: the weaker of the two
// items' weights, halved for every PairGap between them.
func (m *Model) pairContrib(a, b entry) float64 {
	gap := a.at() - b.at()
	if gap < 0 {
		gap = -gap
	}
	return float64(min(a.pw, b.pw)) * math.Exp2(-float64(gap)/m.hg)
}

// paired reports whether two of a shopper's entries make a pair: when
// they were touched at most PairWindow apart.
func (m *Model) paired(a, b entry) bool {
	gap := a.at() - b.at()
	return gap <= m.win && -gap <= m.win
}

func (m *Model) addEntry(s *shopper, ne entry) {
	ne = m.weigh(ne)
	for _, f := range s.entries {
		if m.paired(ne, f) {
			m.bump(ne.item, f.item, m.pairContrib(ne, f), 1)
		}
	}
	it := &m.items[ne.item]
	it.norm += float64(ne.pw)
	it.trend += m.trendWeight(ne)
	it.holders++
	m.touch(ne.item)
	s.entries = append(s.entries, ne)
}

func (m *Model) removeEntry(s *shopper, pos int) {
	e := s.entries[pos]
	s.entries = slices.Delete(s.entries, pos, pos+1)
	for _, f := range s.entries {
		if m.paired(e, f) {
			m.bump(e.item, f.item, -m.pairContrib(e, f), -1)
		}
	}
	it := &m.items[e.item]
	it.norm = max(it.norm-float64(e.pw), 0)
	it.trend = max(it.trend-m.trendWeight(e), 0)
	it.holders--
	if it.holders == 0 {
		it.norm, it.trend = 0, 0 // no rounding dust
	}
	m.touch(e.item)
}

func (m *Model) moveEntry(s *shopper, pos int, upd entry) {
	old := s.entries[pos]
	upd = m.weigh(upd)
	for i, f := range s.entries {
		if i == pos {
			continue
		}
		// The pair may come into the window, or leave it.
		switch was, is := m.paired(old, f), m.paired(upd, f); {
		case was && is:
			m.bump(old.item, f.item, m.pairContrib(upd, f)-m.pairContrib(old, f), 0)
		case is:
			m.bump(old.item, f.item, m.pairContrib(upd, f), 1)
		case was:
			m.bump(old.item, f.item, -m.pairContrib(old, f), -1)
		}
	}
	it := &m.items[old.item]
	it.norm = max(it.norm+float64(upd.pw)-float64(old.pw), 0)
	it.trend = max(it.trend+m.trendWeight(upd)-m.trendWeight(old), 0)
	m.touch(old.item)
	s.entries[pos] = upd
}

// bump changes the pair (a, b) by dw and ds shoppers, in both items' maps.
func (m *Model) bump(a, b int32, dw float64, ds int32) {
	newA := m.bumpOne(a, b, dw, ds)
	newB := m.bumpOne(b, a, dw, ds)
	// Pruned only once both maps agree, so a pair is in both or in neither.
	if newA && len(m.items[a].partners) > m.cfg.MaxPartners {
		m.prune(a)
	}
	if newB && len(m.items[b].partners) > m.cfg.MaxPartners {
		m.prune(b)
	}
}

// bumpOne changes the pair in a's map and reports whether it was new.
func (m *Model) bumpOne(a, b int32, dw float64, ds int32) bool {
	it := &m.items[a]
	p, ok := it.partners[b]
	if !ok && ds <= 0 {
		return false // pruned: there is nothing to take back (support can only be undercounted)
	}
	if it.partners == nil {
		it.partners = map[int32]pairStat{}
	}
	usable := p.support >= m.minSup
	sup := int64(p.support) + int64(ds)
	if sup <= 0 {
		delete(it.partners, b)
	} else {
		it.partners[b] = pairStat{support: uint32(sup), w: float32(max(float64(p.w)+dw, 0))}
	}
	if usable || sup >= int64(m.minSup) {
		m.touch(a)
	}
	return !ok
}

// prune drops an item's weakest pairs, those below MinSupport first, down
// to nine tenths of MaxPartners, from both items of each pair.
func (m *Model) prune(a int32) {
	it := &m.items[a]
	type cand struct {
		b int32
		p pairStat
	}
	cs := make([]cand, 0, len(it.partners))
	for b, p := range it.partners {
		cs = append(cs, cand{b, p})
	}
	slices.SortFunc(cs, func(x, y cand) int {
		if ux, uy := x.p.support >= m.minSup, y.p.support >= m.minSup; ux != uy {
			if ux {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(x.p.w, y.p.w); c != 0 {
			return c
		}
		return cmp.Compare(m.items[x.b].info.ID, m.items[y.b].info.ID)
	})
	drop := len(cs) - m.cfg.MaxPartners*9/10
	for _, c := range cs[:drop] {
		delete(it.partners, c.b)
		delete(m.items[c.b].partners, a)
		if c.p.support >= m.minSup {
			m.touch(a)
			m.touch(c.b)
		}
	}
}

// touch records a change of an item's pairs or weight.
func (m *Model) touch(i int32) {
	it := &m.items[i]
	it.ver++
	if !it.dirty {
		it.dirty = true
		m.dirty = append(m.dirty, i)
	}
}

// Refresh brings the neighbour rows of the items changed since the last
// Refresh, and the trending lists, up to date. It reads under the shared
// lock, so Recommend keeps answering meanwhile (Add waits); rows changed
// again while it computed are left for the next Refresh. Call it every
// few seconds.
func (m *Model) Refresh() {
	m.mu.Lock()
	dirty := m.dirty
	m.dirty = nil
	for _, i := range dirty {
		m.items[i].dirty = false
	}
	changed := m.changed
	m.changed = false
	m.mu.Unlock()
	if len(dirty) == 0 && !changed {
		return
	}

	m.mu.RLock()
	settled := m.settled
	rows := make([][]neighbour, len(dirty))
	vers := make([]uint64, len(dirty))
	for k, i := range dirty {
		rows[k], vers[k] = m.computeRow(i), m.items[i].ver
	}
	ls := m.computeLists()
	m.mu.RUnlock()

	m.mu.Lock()
	defer m.mu.Unlock()
	for k, i := range dirty {
		// A row changed since (by Add, or Remove's own recomputation)
		// is newer or waits for the next Refresh.
		if it := &m.items[i]; it.ver == vers[k] && it.rowVer < vers[k] {
			it.row, it.rowVer = rows[k], vers[k]
		}
	}
	if m.settled == settled {
		m.lists = ls
	} else {
		m.changed = true // a Remove's lists are newer than ours; the next Refresh redoes them
	}
}

// Rebuild recomputes every neighbour row and list (after a change of the
// catalogue's categories, say). It is the same as Refresh with every item
// changed; no event is replayed.
func (m *Model) Rebuild() {
	m.mu.Lock()
	for i := range m.items {
		m.touch(int32(i))
	}
	m.changed = true
	m.mu.Unlock()
	m.Refresh()
}

// computeRow ranks an item's usable pairs by cosine similarity of the
// weighted co-occurrence, sim(i,j) = w(i,j)/√(norm(i)·norm(j)), and keeps
// the strongest Config.Neighbours (ties by item id).
func (m *Model) computeRow(i int32) []neighbour {
	it := &m.items[i]
	if it.norm <= 0 {
		return nil
	}
	k := m.cfg.Neighbours
	better := func(a, b neighbour) bool {
		if a.sim != b.sim {
			return a.sim > b.sim
		}
		return m.items[a.item].info.ID < m.items[b.item].info.ID
	}
	var row []neighbour
	for j, p := range it.partners {
		if p.support < m.minSup || p.w <= 0 {
			continue
		}
		nj := m.items[j].norm
		if nj <= 0 {
			continue
		}
		nb := neighbour{item: j, sim: float32(float64(p.w) / math.Sqrt(it.norm*nj))}
		if len(row) == k && !better(nb, row[k-1]) {
			continue
		}
		at, _ := slices.BinarySearchFunc(row, nb, func(x, y neighbour) int {
			if better(x, y) {
				return -1
			}
			return 1
		})
		if len(row) < k {
			row = append(row, neighbour{})
		}
		copy(row[at+1:], row[at:len(row)-1])
		row[at] = nb
	}
	return slices.Clip(row)
}

// computeLists ranks the listed, non-sensitive items by popularity,
// overall and per category.
func (m *Model) computeLists() lists {
	var all []int32
	ls := lists{byCat: map[string][]int32{}}
	for i := range m.items {
		if it := &m.items[i]; it.listed && !it.info.Sensitive && (it.trend > 0 || it.pop > 0) {
			all = append(all, int32(i))
			ls.eventMax = max(ls.eventMax, it.trend)
		}
	}
	slices.SortFunc(all, func(a, b int32) int {
		if c := cmp.Compare(ls.popularity(m, b), ls.popularity(m, a)); c != 0 {
			return c
		}
		return strings.Compare(m.items[a].info.ID, m.items[b].info.ID)
	})
	if len(all) > 0 {
		ls.trendMax = ls.popularity(m, all[0])
	}
	ls.trending = slices.Clip(all[:min(len(all), trendingLen)])
	for _, i := range all {
		c := m.items[i].info.Category
		if c != "" && len(ls.byCat[c]) < categoryLen {
			ls.byCat[c] = append(ls.byCat[c], i)
		}
	}
	return ls
}

// popularity is what "trending now" ranks by: the item's trend from
// consented events, against the best of the lists, plus its popularity
// among all visitors from consent-free measurement (SetPopularity).
func (ls *lists) popularity(m *Model, i int32) float64 {
	it := &m.items[i]
	v := m.cfg.PopularityWeight * it.pop
	if ls.eventMax > 0 {
		v += it.trend / ls.eventMax
	}
	return v
}

// SetPopularity sets each item's popularity among all visitors, consenting
// or not, from the shop's consent-free measurement (product views, cart
// additions and orders counted without identifiers, each count reported
// only with enough distinct visitors). It is scaled to the most popular
// item and blended into "trending now" from the next Refresh; items not
// named lose theirs. It reads nothing about any shopper.
func (m *Model) SetPopularity(weights map[string]float64) {
	top := 0.0
	for _, w := range weights {
		top = max(top, w)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.items {
		m.items[i].pop = 0
	}
	if top <= 0 {
		m.changed = true
		return
	}
	for id, w := range weights {
		if w > 0 && id != "" {
			m.items[m.intern(id)].pop = w / top
		}
	}
	m.changed = true
}

// Stats describe the model's size.
type Stats struct {
	Items         int   // items known, from the catalogue or from events
	Listed        int   // items in the catalogue view
	Shoppers      int   // shoppers with a contribution
	ShopperItems  int   // entries over all shoppers
	Pairs         int   // item pairs counted
	UsablePairs   int   // pairs with at least MinSupport shoppers
	Neighbours    int   // entries of all neighbour rows
	ApproxBytes   int64 // an estimate of the model's heap
	PendingChange int   // items whose rows wait for Refresh
}

// Stats returns the model's size now.
func (m *Model) Stats() Stats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var s Stats
	s.Items = len(m.items)
	s.Shoppers = len(m.shoppers)
	s.PendingChange = len(m.dirty)
	for i := range m.items {
		it := &m.items[i]
		if it.listed {
			s.Listed++
		}
		s.Pairs += len(it.partners)
		for _, p := range it.partners {
			if p.support >= m.minSup {
				s.UsablePairs++
			}
		}
		s.Neighbours += len(it.row)
	}
	s.Pairs /= 2
	s.UsablePairs /= 2
	for _, sh := range m.shoppers {
		s.ShopperItems += len(sh.entries)
	}
	// Sizes measured on the heap (Go 1.26, amd64): a pair is two map
	// slots with their share of the maps' tables, a shopper's item an
	// entry with the slack of its slice, a shopper a map slot, its key and
	// its struct. Within about 15% on the Online Retail model and on a
	// synthetic 100,000 items × 10M events one.
	s.ApproxBytes = int64(s.Pairs)*48 + int64(s.ShopperItems)*40 + int64(s.Shoppers)*150 +
		int64(s.Neighbours)*8 + int64(s.Items)*400
	return s
}

// Holds reports whether the model holds anything of a shopper (it is not a
// read of what it holds: the caller asks it to decide whether to Remove).
func (m *Model) Holds(shopperKey string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.shoppers[shopperKey]
	return ok
}

// Listed reports whether an item is in the catalogue view.
func (m *Model) Listed(id string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	i, ok := m.ids[id]
	return ok && m.items[i].listed
}

// ShopperReads counts the lookups of shoppers' data so far (Recommend with
// Query.Shopper set, Interests): callers' tests prove with it that a
// non-personal answer reads nothing about the shopper.
func (m *Model) ShopperReads() int64 { return m.reads.Load() }
