package audience

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Observation is a consented track event as the engine sees it.
type Observation struct {
	SubjectID  string
	Name       string    // track event name
	At         time.Time // occurredAt; a time after now counts as now
	Purposes   []string  // purposes the event is stored under
	Properties map[string]any
}

// Change is a subject joining or leaving an audience.
type Change struct {
	Audience  string
	SubjectID string
	Joined    bool // false: left
}

// Options configure an Engine.
type Options struct {
	// Eligible reports whether the subject may be a member of an audience
	// for purpose now: grants the purpose now, is not a known minor, not
	// restricted. It is called, with the engine locked, when membership is
	// evaluated and the conditions hold, so it must be cheap and must not
	// call the Engine. Nil means nobody is eligible.
	Eligible func(subjectID, purpose string) bool
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Engine keeps the members of every defined audience up to date from
// observations, interests and traits. All methods are safe for concurrent
// use.
type Engine struct {
	eligible func(subjectID, purpose string) bool
	now      func() time.Time

	// idx lets Observe drop events no audience uses without locking.
	idx atomic.Pointer[index]

	mu       sync.RWMutex
	auds     map[string]*audience
	order    []*audience // by ID
	subjects map[string]*subject
	// expiry holds, per UTC day, the subjects a count of which leaves its
	// window that day; days lists its keys in order.
	expiry map[int32]map[string]struct{}
	days   []int32
	// recheck are subjects whose state Define or Remove changed, and
	// fresh the audiences defined since; the next Advance settles them.
	recheck map[string]struct{}
	fresh   map[*audience]struct{}
}

type index struct {
	byName map[string][]leafRef // in audience ID order
	names  []string
}

type leafRef struct {
	a    *audience
	leaf int // into a.events
}

type audience struct {
	def           Definition
	root          *node
	events        []*eventLeaf
	usesInterests bool
	usesTraits    bool
	members       map[string]struct{}
	holders       map[string]struct{} // subjects with counts for this audience
}

type eventLeaf struct {
	name     string
	filters  []filter
	minCount int
	days     int32
}

func (l *eventLeaf) match(props map[string]any) bool {
	for i := range l.filters {
		if !l.filters[i].match(props) {
			return false
		}
	}
	return true
}

type nodeKind uint8

const (
	nodeFalse nodeKind = iota // a part that does not validate never matches
	nodeAll
	nodeAny
	nodeNot
	nodeEvent
	nodeInterest
	nodeTrait
)

type node struct {
	kind     nodeKind
	kids     []*node
	leaf     int // nodeEvent: index into audience.events
	category string
	minScore float64
	trait    filter
}

// subject is what the engine holds of one shopper.
type subject struct {
	id string
	// counts holds, per audience, the day buckets of each event leaf.
	counts    map[*audience][][]bucket
	interests map[string]float64
	traits    map[string]any
}

// bucket counts the matching events of one UTC day.
type bucket struct {
	day int32
	n   uint32
}

// NewEngine returns an engine with no audiences.
func NewEngine(opts Options) *Engine {
	e := &Engine{
		eligible: opts.Eligible,
		now:      opts.Now,
		auds:     map[string]*audience{},
		subjects: map[string]*subject{},
		expiry:   map[int32]map[string]struct{}{},
		recheck:  map[string]struct{}{},
		fresh:    map[*audience]struct{}{},
	}
	if e.eligible == nil {
		e.eligible = func(string, string) bool { return false }
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.idx.Store(&index{byName: map[string][]leafRef{}})
	return e
}

// dayOf returns the UTC day number of t (days since 1970-01-01).
func dayOf(t time.Time) int32 {
	u := t.Unix()
	d := u / 86400
	if u%86400 < 0 {
		d--
	}
	return int32(max(min(d, math.MaxInt32/2), math.MinInt32/2))
}

// Define adds an audience or replaces the one with the same ID. Replacing
// drops the audience's members and counts: the caller replays the events
// it needs. Define expects a validated definition; a part that does not
// validate never matches. The changes Define implies — members by the
// interests and traits the engine already holds, subjects whose only state
// was the replaced audience's counts — are reported by the next Advance.
func (e *Engine) Define(d Definition) {
	a := compile(d)
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.auds[d.ID]; old != nil {
		e.drop(old)
	}
	e.auds[d.ID] = a
	e.fresh[a] = struct{}{}
	e.reindex()
}

// Remove deletes an audience, its members and its counts.
func (e *Engine) Remove(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.auds[id]; old != nil {
		e.drop(old)
		delete(e.auds, id)
		e.reindex()
	}
}

// drop forgets a's counts; their subjects are settled by the next Advance.
func (e *Engine) drop(a *audience) {
	for id := range a.holders {
		if s := e.subjects[id]; s != nil {
			delete(s.counts, a)
			e.recheck[id] = struct{}{}
		}
	}
	delete(e.fresh, a)
}

func (e *Engine) reindex() {
	e.order = e.order[:0]
	for _, a := range e.auds {
		e.order = append(e.order, a)
	}
	slices.SortFunc(e.order, func(x, y *audience) int { return strings.Compare(x.def.ID, y.def.ID) })
	ix := &index{byName: map[string][]leafRef{}}
	for _, a := range e.order {
		for i, l := range a.events {
			if len(ix.byName[l.name]) == 0 {
				ix.names = append(ix.names, l.name)
			}
			ix.byName[l.name] = append(ix.byName[l.name], leafRef{a, i})
		}
	}
	slices.Sort(ix.names)
	e.idx.Store(ix)
}

// Definitions returns the defined audiences sorted by ID, normalised as
// Parse returns them (MinCount 0 reads 1).
func (e *Engine) Definitions() []Definition {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]Definition, len(e.order))
	for i, a := range e.order {
		out[i] = a.def
	}
	return out
}

// NeedsEvents returns the distinct event names the audiences' conditions
// use, sorted; observations of other names change nothing.
func (e *Engine) NeedsEvents() []string {
	return slices.Clone(e.idx.Load().names)
}

// Observe counts the observation for every event leaf it matches, of the
// audiences whose purpose it is stored under, and re-evaluates those
// audiences for the subject. An observation older than a leaf's window
// does not count for it.
func (e *Engine) Observe(o Observation) []Change {
	refs := e.idx.Load().byName[o.Name]
	if len(refs) == 0 || o.SubjectID == "" {
		return nil
	}
	// Property filters need no lock: compiled audiences are immutable.
	var buf [8]leafRef
	hits := buf[:0]
	for _, r := range refs {
		if slices.Contains(o.Purposes, r.a.def.Purpose) && r.a.events[r.leaf].match(o.Properties) {
			hits = append(hits, r)
		}
	}
	if len(hits) == 0 {
		return nil
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	today := dayOf(e.now())
	day := min(dayOf(o.At), today)
	s := e.subjects[o.SubjectID]
	wasLive := s.live(today)
	var touched []*audience
	for _, r := range hits {
		if e.auds[r.a.def.ID] != r.a {
			continue // replaced or removed since the index was read
		}
		l := r.a.events[r.leaf]
		if day <= today-l.days {
			continue
		}
		if s == nil {
			s = &subject{id: o.SubjectID}
			e.subjects[o.SubjectID] = s
		}
		if s.add(r.a, r.leaf, day) {
			e.schedule(day+l.days, s.id)
		}
		r.a.holders[s.id] = struct{}{}
		if len(touched) == 0 || touched[len(touched)-1] != r.a {
			touched = append(touched, r.a)
		}
	}
	if len(touched) == 0 {
		return nil
	}
	if !wasLive {
		// A new candidate: every audience may now hold for it.
		return e.evaluate(s, e.order, today)
	}
	return e.evaluate(s, touched, today)
}

// add counts one event on day for leaf i of a and reports whether it
// opened a new day bucket.
func (s *subject) add(a *audience, i int, day int32) bool {
	if s.counts == nil {
		s.counts = map[*audience][][]bucket{}
	}
	leaves := s.counts[a]
	if leaves == nil {
		leaves = make([][]bucket, len(a.events))
		s.counts[a] = leaves
	}
	bs := leaves[i]
	// Days mostly arrive in order: search from the end.
	j := len(bs)
	for j > 0 && bs[j-1].day > day {
		j--
	}
	if j > 0 && bs[j-1].day == day {
		if bs[j-1].n < math.MaxUint32 {
			bs[j-1].n++
		}
		return false
	}
	leaves[i] = slices.Insert(bs, j, bucket{day: day, n: 1})
	return true
}

func (e *Engine) schedule(day int32, id string) {
	m := e.expiry[day]
	if m == nil {
		m = map[string]struct{}{}
		e.expiry[day] = m
		i, _ := slices.BinarySearch(e.days, day)
		e.days = slices.Insert(e.days, i, day)
	}
	m[id] = struct{}{}
}

// live reports whether the engine holds usable state for s on day today:
// counts inside a window, interests or traits. Only live subjects are
// candidates for membership.
func (s *subject) live(today int32) bool {
	if s == nil {
		return false
	}
	if len(s.interests) > 0 || len(s.traits) > 0 {
		return true
	}
	for a, leaves := range s.counts {
		for i, bs := range leaves {
			from := today - a.events[i].days
			for j := len(bs) - 1; j >= 0; j-- {
				if bs[j].day <= today {
					if bs[j].day > from {
						return true
					}
					break
				}
			}
		}
	}
	return false
}

// empty reports whether s holds nothing at all.
func (s *subject) empty() bool {
	return len(s.counts) == 0 && len(s.interests) == 0 && len(s.traits) == 0
}

// count returns the events of leaf i of a inside its window on today,
// stopping once it reaches need.
func (s *subject) count(a *audience, i int, today int32, need int) int {
	leaves := s.counts[a]
	if leaves == nil {
		return 0
	}
	bs := leaves[i]
	from := today - a.events[i].days
	n := 0
	for j := len(bs) - 1; j >= 0 && bs[j].day > from; j-- {
		if bs[j].day <= today {
			n += int(bs[j].n)
			if n >= need {
				break
			}
		}
	}
	return n
}

// prune drops the buckets outside their windows on today.
func (s *subject) prune(today int32) {
	for a, leaves := range s.counts {
		kept := false
		for i, bs := range leaves {
			from := today - a.events[i].days
			k := 0
			for k < len(bs) && bs[k].day <= from {
				k++
			}
			if k > 0 {
				leaves[i] = slices.Clone(bs[k:])
				if len(leaves[i]) == 0 {
					leaves[i] = nil
				}
			}
			kept = kept || len(leaves[i]) > 0
		}
		if !kept {
			delete(s.counts, a)
			delete(a.holders, s.id)
		}
	}
}

// evaluate recomputes s's membership of auds (in ID order) on today.
func (e *Engine) evaluate(s *subject, auds []*audience, today int32) []Change {
	live := s.live(today)
	var changes []Change
	var elig []struct {
		purpose string
		ok      bool
	}
	for _, a := range auds {
		is := false
		if live && a.eval(a.root, s, today) {
			found := false
			for _, x := range elig {
				if x.purpose == a.def.Purpose {
					is, found = x.ok, true
					break
				}
			}
			if !found {
				is = e.eligible(s.id, a.def.Purpose)
				elig = append(elig, struct {
					purpose string
					ok      bool
				}{a.def.Purpose, is})
			}
		}
		_, was := a.members[s.id]
		switch {
		case is && !was:
			a.members[s.id] = struct{}{}
			changes = append(changes, Change{Audience: a.def.ID, SubjectID: s.id, Joined: true})
		case !is && was:
			delete(a.members, s.id)
			changes = append(changes, Change{Audience: a.def.ID, SubjectID: s.id, Joined: false})
		}
	}
	return changes
}

func (a *audience) eval(n *node, s *subject, today int32) bool {
	switch n.kind {
	case nodeAll:
		for _, k := range n.kids {
			if !a.eval(k, s, today) {
				return false
			}
		}
		return true
	case nodeAny:
		for _, k := range n.kids {
			if a.eval(k, s, today) {
				return true
			}
		}
		return false
	case nodeNot:
		return !a.eval(n.kids[0], s, today)
	case nodeEvent:
		need := a.events[n.leaf].minCount
		return s.count(a, n.leaf, today, need) >= need
	case nodeInterest:
		return interestScore(s.interests, n.category) >= n.minScore
	case nodeTrait:
		return n.trait.match(s.traits)
	}
	return false
}

// interestScore sums the scores of category and the categories under it.
func interestScore(scores map[string]float64, category string) float64 {
	sum := 0.0
	for c, v := range scores {
		if c == category || (len(c) > len(category) && c[len(category)] == '/' && strings.HasPrefix(c, category)) {
			sum += v
		}
	}
	return sum
}

// SetInterests replaces the subject's interest scores (nil or empty: none;
// scores that are not positive are dropped) and re-evaluates the audiences
// with interest conditions.
func (e *Engine) SetInterests(subjectID string, scores map[string]float64) []Change {
	if subjectID == "" {
		return nil
	}
	var clean map[string]float64
	for c, v := range scores {
		if v > 0 && !math.IsInf(v, 0) && c != "" {
			if clean == nil {
				clean = make(map[string]float64, len(scores))
			}
			clean[c] = v
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.subjects[subjectID]
	if s == nil && clean == nil {
		return nil
	}
	if s == nil {
		s = &subject{id: subjectID}
		e.subjects[subjectID] = s
	}
	return e.update(s, func() { s.interests = clean }, func(a *audience) bool { return a.usesInterests })
}

// SetTraits merges the subject's latest traits: a nil value deletes the
// trait. Identifier keys (see IsIdentifier), at any depth, are dropped
// before anything is kept; only strings, numbers, booleans and maps and
// arrays of them are kept. It re-evaluates the audiences with trait
// conditions.
func (e *Engine) SetTraits(subjectID string, traits map[string]any) []Change {
	if subjectID == "" || len(traits) == 0 {
		return nil
	}
	set := map[string]any{}
	var del []string
	for k, v := range traits {
		if IsIdentifier(k) {
			continue
		}
		if v == nil {
			del = append(del, k)
			continue
		}
		if c, ok := cleanTrait(v, 0); ok {
			set[k] = c
		}
	}
	if len(set) == 0 && len(del) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.subjects[subjectID]
	if s == nil {
		if len(set) == 0 {
			return nil
		}
		s = &subject{id: subjectID}
		e.subjects[subjectID] = s
	}
	return e.update(s, func() {
		if s.traits == nil {
			s.traits = map[string]any{}
		}
		for _, k := range del {
			delete(s.traits, k)
		}
		for k, v := range set {
			s.traits[k] = v
		}
		if len(s.traits) == 0 {
			s.traits = nil
		}
	}, func(a *audience) bool { return a.usesTraits })
}

// update applies change to s and re-evaluates the audiences uses selects,
// or all of them when s became or stopped being a candidate.
func (e *Engine) update(s *subject, change func(), uses func(*audience) bool) []Change {
	today := dayOf(e.now())
	wasLive := s.live(today)
	change()
	auds := e.order
	if s.live(today) == wasLive {
		auds = nil
		for _, a := range e.order {
			if uses(a) {
				auds = append(auds, a)
			}
		}
	}
	changes := e.evaluate(s, auds, today)
	e.collect(s)
	return changes
}

// collect forgets s when it holds nothing and belongs to no audience.
func (e *Engine) collect(s *subject) {
	if !s.empty() {
		return
	}
	for _, a := range e.order {
		if _, ok := a.members[s.id]; ok {
			return
		}
	}
	delete(e.subjects, s.id)
}

// cleanTrait copies a trait value without identifier keys; ok is false for
// values of other types or nested too deep.
func cleanTrait(v any, depth int) (any, bool) {
	if depth > maxWalk {
		return nil, false
	}
	switch x := v.(type) {
	case string, bool, float64, float32, int, int64, int32, int16, int8, uint, uint64, uint32, uint16, uint8:
		return x, true
	case json.Number:
		return x, true
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			if IsIdentifier(k) || e == nil {
				continue
			}
			if c, ok := cleanTrait(e, depth+1); ok {
				m[k] = c
			}
		}
		return m, true
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if c, ok := cleanTrait(e, depth+1); ok {
				out = append(out, c)
			}
		}
		return out, true
	}
	return nil, false
}

// Reevaluate recomputes every membership of the subject, e.g. after a
// consent change made it (in)eligible.
func (e *Engine) Reevaluate(subjectID string) []Change {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.subjects[subjectID]
	if s == nil {
		return nil
	}
	return e.evaluate(s, e.order, dayOf(e.now()))
}

// Forget drops everything the engine holds of the subject (erasure, or
// withdrawal of every marketing purpose) and reports the audiences it
// left.
func (e *Engine) Forget(subjectID string) []Change {
	e.mu.Lock()
	defer e.mu.Unlock()
	var changes []Change
	for _, a := range e.order {
		if _, ok := a.members[subjectID]; ok {
			delete(a.members, subjectID)
			changes = append(changes, Change{Audience: a.def.ID, SubjectID: subjectID, Joined: false})
		}
		delete(a.holders, subjectID)
	}
	delete(e.subjects, subjectID)
	delete(e.recheck, subjectID)
	// Entries in e.expiry are left to lapse: Advance skips unknown ids.
	return changes
}

// Advance re-evaluates the subjects whose counts left their windows by
// now, drops those counts, and settles what Define and Remove changed.
// Call it hourly with the engine's clock; it returns at once when nothing
// is due.
func (e *Engine) Advance(now time.Time) []Change {
	today := dayOf(now)
	e.mu.Lock()
	defer e.mu.Unlock()
	if (len(e.days) == 0 || e.days[0] > today) && len(e.recheck) == 0 && len(e.fresh) == 0 {
		return nil
	}
	due := map[string]struct{}{}
	for len(e.days) > 0 && e.days[0] <= today {
		for id := range e.expiry[e.days[0]] {
			due[id] = struct{}{}
		}
		delete(e.expiry, e.days[0])
		e.days = e.days[1:]
	}
	for id := range e.recheck {
		due[id] = struct{}{}
	}
	clear(e.recheck)
	var changes []Change
	for _, id := range sortedKeys(due) {
		s := e.subjects[id]
		if s == nil {
			continue
		}
		s.prune(today)
		changes = append(changes, e.evaluate(s, e.order, today)...)
		e.collect(s)
	}
	if len(e.fresh) > 0 {
		var fresh []*audience
		for a := range e.fresh {
			fresh = append(fresh, a)
		}
		clear(e.fresh)
		slices.SortFunc(fresh, func(x, y *audience) int { return strings.Compare(x.def.ID, y.def.ID) })
		for _, id := range sortedKeys(e.subjects) {
			if _, done := due[id]; !done {
				changes = append(changes, e.evaluate(e.subjects[id], fresh, today)...)
			}
		}
	}
	slices.SortFunc(changes, func(x, y Change) int {
		return cmp.Or(strings.Compare(x.Audience, y.Audience), strings.Compare(x.SubjectID, y.SubjectID))
	})
	return changes
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Members returns the audience's members, sorted.
func (e *Engine) Members(id string) []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	a := e.auds[id]
	if a == nil {
		return nil
	}
	return sortedKeys(a.members)
}

// Size returns the number of members of the audience.
func (e *Engine) Size(id string) int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if a := e.auds[id]; a != nil {
		return len(a.members)
	}
	return 0
}

// IsMember reports whether the subject is a member of the audience.
func (e *Engine) IsMember(id, subjectID string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if a := e.auds[id]; a != nil {
		_, ok := a.members[subjectID]
		return ok
	}
	return false
}

// compile turns a definition into an audience. Depth and leaves are
// bounded as in Validate, so an unvalidated definition cannot recurse
// deeply either.
func compile(d Definition) *audience {
	a := &audience{
		def:     d.normalized(),
		members: map[string]struct{}{},
		holders: map[string]struct{}{},
	}
	leaves := 0
	a.root = a.compile(d.Where, 0, &leaves)
	return a
}

var falseNode = &node{kind: nodeFalse}

func (a *audience) compile(c Condition, depth int, leaves *int) *node {
	if len(c.members()) != 1 {
		return falseNode
	}
	switch {
	case c.All != nil, c.Any != nil:
		kids, kind := c.All, nodeAll
		if c.Any != nil {
			kids, kind = c.Any, nodeAny
		}
		if len(kids) == 0 || depth+1 > MaxDepth {
			return falseNode
		}
		n := &node{kind: kind}
		for _, k := range kids {
			n.kids = append(n.kids, a.compile(k, depth+1, leaves))
		}
		return n
	case c.Not != nil:
		if depth+1 > MaxDepth {
			return falseNode
		}
		return &node{kind: nodeNot, kids: []*node{a.compile(*c.Not, depth+1, leaves)}}
	}
	*leaves++
	if *leaves > MaxConditions {
		return falseNode
	}
	switch {
	case c.Event != nil:
		ev := c.Event
		if ev.Name == "" || ev.WithinDays < 1 || ev.WithinDays > MaxWithinDays || ev.MinCount < 0 || ev.MinCount > MaxMinCount {
			return falseNode
		}
		l := &eventLeaf{name: ev.Name, minCount: max(ev.MinCount, 1), days: int32(ev.WithinDays)}
		for _, pf := range ev.Where {
			f, ok := compileFilter(pf.Property, pf.Op, pf.Value)
			if !ok || IsIdentifier(pf.Property) {
				return falseNode
			}
			l.filters = append(l.filters, f)
		}
		a.events = append(a.events, l)
		return &node{kind: nodeEvent, leaf: len(a.events) - 1}
	case c.Interest != nil:
		in := c.Interest
		if in.Category == "" || math.IsNaN(in.MinScore) || in.MinScore < 0 {
			return falseNode
		}
		a.usesInterests = true
		// Scores are positive, so "above zero" is "at least the smallest
		// positive float".
		return &node{kind: nodeInterest, category: in.Category, minScore: max(in.MinScore, math.SmallestNonzeroFloat64)}
	default:
		t := c.Trait
		f, ok := compileFilter(t.Name, t.Op, t.Value)
		if !ok || IsIdentifier(t.Name) {
			return falseNode
		}
		a.usesTraits = true
		return &node{kind: nodeTrait, trait: f}
	}
}
