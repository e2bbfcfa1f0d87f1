// Package personalize runs tact's personalisation (DESIGN 5.3, principle 8)
// on top of its parts: the shopper's interest profile (package interests,
// in the store), the recommendation model (package recommend, in memory)
// and the events stored under the personalization purpose (package
// collect).
//
// It keeps the model current: at start it loads the catalogue and replays
// the events personalisation may use now, oldest first per shopper; new
// events reach it as they are committed (Learn) and everyone's answers at
// the next Refresh (every few seconds); a shopper who withdraws or objects,
// is erased or restricted leaves it as soon as consent tells of the change
// (and at the latest with the strip job's pass); a full rebuild runs in the
// background every day and replaces the model when done.
//
// It answers "what should this shopper see here": personal only when the
// caller found personalization granted now, the shopper did not pause their
// profile and did not ask for personalized=false; non-personal answers read
// nothing about the shopper.
package personalize

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/catalog"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/interests"
	"github.com/tact-cdp/tact/internal/measure"
	"github.com/tact-cdp/tact/internal/recommend"
)

// Kinds maps the e-commerce events (Segment spec v2 names) that
// recommendations learn from to the kind of signal they are.
var Kinds = map[string]recommend.Kind{
	"Product Viewed":   recommend.View,
	"Product Clicked":  recommend.View,
	"Product Added":    recommend.Cart,
	"Cart Viewed":      recommend.Cart,
	"Checkout Started": recommend.Cart,
	"Order Completed":  recommend.Purchase,
}

// eventNames are the events the start-up replay reads: those of Kinds and
// those interest profiles learn from.
func eventNames() []string {
	var names []string
	for n := range Kinds {
		names = append(names, n)
	}
	for n := range interests.Weights {
		if _, ok := Kinds[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// Store is what personalisation reads at start.
type Store interface {
	// EachItem calls fn with every catalogue item.
	EachItem(ctx context.Context, fn func(catalog.Item) error) error
	// InterestPrefs returns the paused shoppers and each shopper's muted
	// categories.
	InterestPrefs(ctx context.Context) (paused map[string]bool, muted map[string][]string, err error)
	// Measurements returns the consent-free daily measurement cells
	// between two days.
	Measurements(ctx context.Context, from, to time.Time) ([]measure.Cell, error)
}

// popularityDays is how far back popularity from measurement looks, and
// popularityHalfLife how fast a day's counts fade.
const (
	popularityDays     = 30
	popularityHalfLife = 14 * 24 * time.Hour
)

// popularity reads each product's popularity among all visitors from the
// consent-free measurement of the last popularityDays: product views, cart
// additions (×3) and orders (×5), each day's counts fading by
// popularityHalfLife, and each count used only when the report would show
// it (enough distinct visitors).
func (s *Service) popularity(ctx context.Context) (map[string]float64, error) {
	now := s.Now().UTC()
	cells, err := s.store.Measurements(ctx, now.AddDate(0, 0, -popularityDays), now)
	if err != nil {
		return nil, err
	}
	var products []measure.Cell
	for _, c := range cells {
		if c.Dim == measure.DimProduct {
			products = append(products, c)
		}
	}
	pop := map[string]float64{}
	for i, row := range measure.Suppress(products, measure.DefaultThreshold) {
		if row.Suppressed || row.Value == "" {
			continue
		}
		v := float64(*row.ProductViews + 3**row.AddToCarts)
		if row.Orders != nil {
			v += 5 * float64(*row.Orders)
		}
		age := now.Sub(products[i].Day)
		pop[row.Value] += v * math.Exp2(-float64(age)/float64(popularityHalfLife))
	}
	return pop, nil
}

// refreshPopularity gives the model the popularity from measurement.
func (s *Service) refreshPopularity(ctx context.Context, m *recommend.Model) error {
	pop, err := s.popularity(ctx)
	if err != nil {
		return err
	}
	m.SetPopularity(pop)
	return nil
}

// Replayer replays the events personalisation may use now
// (collect.Service.ReplayPersonal).
type Replayer interface {
	ReplayPersonal(ctx context.Context, names []string, only string, fn func(subjectID string, sig collect.Signal) error) error
}

// Catalog says which items are sensitive (catalog.Service).
type Catalog interface {
	Sensitive(it catalog.Item) bool
	SensitiveItem(id string) bool
}

// Service is personalisation. Create it with New, then Run it.
type Service struct {
	profiles *interests.Service
	consent  *consent.Service
	store    Store
	catalog  Catalog
	cfg      recommend.Config

	model atomic.Pointer[recommend.Model]
	ready atomic.Bool

	mu        sync.Mutex
	building  *recommend.Model // a full rebuild in progress: it learns too
	forgotten []string         // shoppers forgotten while it was built

	prefsMu sync.RWMutex
	paused  map[string]bool
	muted   map[string][]string

	retargets retargets
	changes   chan []string

	// Replay reads the stored events (set before Load: collection is built
	// with this service as its learner).
	Replay Replayer

	// RefreshEvery is how often new pairs and trends reach answers
	// (default 5 s); RebuildEvery how often the model is rebuilt from the
	// store (default 24 h); Forget is how long after their latest event a
	// shopper's signals leave the model (default 365 days).
	RefreshEvery, RebuildEvery, ForgetAfter time.Duration
	Now                                     func() time.Time
}

// New returns the service with an empty model. It listens to consent
// changes from now on.
func New(profiles *interests.Service, cs *consent.Service, st Store, cat Catalog, cfg recommend.Config) *Service {
	s := &Service{
		profiles: profiles, consent: cs, store: st, catalog: cat, cfg: cfg,
		paused: map[string]bool{}, muted: map[string][]string{},
		retargets:    retargets{m: map[string]map[string][]int64{}},
		changes:      make(chan []string, 4096),
		RefreshEvery: 5 * time.Second, RebuildEvery: 24 * time.Hour, ForgetAfter: 365 * 24 * time.Hour,
		Now: time.Now,
	}
	s.model.Store(recommend.New(cfg))
	cs.OnChange(func(ids []string) {
		select {
		case s.changes <- ids:
		default:
			// The strip job's pass forgets them within seconds; the
			// answers never were personal for them meanwhile, since every
			// answer checks consent first.
		}
	})
	return s
}

// Model is the model answering now.
func (s *Service) Model() *recommend.Model { return s.model.Load() }

// Ready reports whether the start-up replay has finished. Before, answers
// are what the model learnt so far (non-personal ones stay useful).
func (s *Service) Ready() bool { return s.ready.Load() }

// Load reads the catalogue, the shoppers' choices and the events
// personalisation may use now into the model, and refreshes it.
func (s *Service) Load(ctx context.Context) error {
	paused, muted, err := s.store.InterestPrefs(ctx)
	if err != nil {
		return err
	}
	s.prefsMu.Lock()
	s.paused, s.muted = paused, muted
	s.prefsMu.Unlock()
	m := s.Model()
	if err := s.fill(ctx, m); err != nil {
		return err
	}
	m.Refresh()
	s.ready.Store(true)
	return nil
}

// fill loads the catalogue, the popularity from measurement and the
// replayed events into m.
func (s *Service) fill(ctx context.Context, m *recommend.Model) error {
	if err := s.refreshPopularity(ctx, m); err != nil {
		return err
	}
	if err := s.store.EachItem(ctx, func(it catalog.Item) error {
		s.putItem(m, it)
		return nil
	}); err != nil {
		return err
	}
	return s.Replay.ReplayPersonal(ctx, eventNames(), "", func(subjectID string, sig collect.Signal) error {
		if !s.isPaused(subjectID) {
			s.addTo(m, subjectID, sig)
		}
		return nil
	})
}

// Run keeps the model current until ctx ends: Load first, then Refresh
// every RefreshEvery, consent changes as they come, and a full rebuild every
// RebuildEvery.
func (s *Service) Run(ctx context.Context, log *slog.Logger) {
	start := time.Now()
	if err := s.Load(ctx); err != nil {
		if ctx.Err() == nil {
			log.Error("personalisation: loading the model", "err", err)
		}
	} else {
		st := s.Model().Stats()
		log.Info("personalisation ready", "items", st.Items, "shoppers", st.Shoppers, "took", time.Since(start).Round(time.Millisecond))
	}
	refresh := time.NewTicker(s.RefreshEvery)
	defer refresh.Stop()
	rebuild := time.NewTicker(s.RebuildEvery)
	defer rebuild.Stop()
	popular := time.NewTicker(time.Hour)
	defer popular.Stop()
	rebuilding := make(chan error, 1)
	busy := false
	for {
		select {
		case <-ctx.Done():
			return
		case ids := <-s.changes:
			s.consentChanged(ctx, ids, log)
		case <-refresh.C:
			m := s.Model()
			m.Refresh()
			s.retargets.prune(s.Now().Add(-m.Config().RetargetWindow).Unix())
		case <-popular.C:
			if err := s.refreshPopularity(ctx, s.Model()); err != nil && ctx.Err() == nil {
				log.Error("personalisation: reading popularity from measurement", "err", err)
			}
		case <-rebuild.C:
			if !busy {
				busy = true
				go func() { rebuilding <- s.Rebuild(ctx) }()
			}
		case err := <-rebuilding:
			busy = false
			if err != nil && ctx.Err() == nil {
				log.Error("personalisation: rebuilding the model", "err", err)
			}
		}
	}
}

// Rebuild builds a new model from the store while the current one keeps
// answering and learning, then puts it in its place. Shoppers past
// ForgetAfter are left out.
func (s *Service) Rebuild(ctx context.Context) error {
	next := recommend.New(s.cfg)
	s.mu.Lock()
	if s.building != nil {
		s.mu.Unlock()
		return errors.New("personalize: a rebuild is already running")
	}
	s.building, s.forgotten = next, nil
	s.mu.Unlock()
	err := s.fill(ctx, next)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.building = nil
	if err != nil {
		return err
	}
	// A shopper forgotten while the replay ran may have been read before.
	for _, id := range s.forgotten {
		next.Remove(id)
	}
	s.forgotten = nil
	next.Expire(s.Now().Add(-s.ForgetAfter))
	next.Refresh()
	s.model.Store(next)
	return nil
}

// models are the models that learn and forget now.
func (s *Service) models() []*recommend.Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.building != nil {
		return []*recommend.Model{s.Model(), s.building}
	}
	return []*recommend.Model{s.Model()}
}

// Learn implements collect.Learner: an event stored under personalization
// (a sensitive one only under sensitive_personalization) was committed.
func (s *Service) Learn(subjectID string, sig collect.Signal) {
	for _, it := range sig.Items {
		if it.Category != "" {
			s.profiles.Observe(subjectID, it.Category, sig.Event, sig.At)
		}
	}
	if s.isPaused(subjectID) {
		return
	}
	for _, m := range s.models() {
		s.addTo(m, subjectID, sig)
	}
}

// addTo teaches m one signal; items it does not list yet are listed from
// the event (the shop's catalogue entry replaces them when written).
func (s *Service) addTo(m *recommend.Model, subjectID string, sig collect.Signal) {
	kind, ok := Kinds[sig.Event]
	if !ok {
		return
	}
	for _, it := range sig.Items {
		if !m.Listed(it.ID) {
			it.Available = true
			s.putItem(m, it)
		}
		// A bad time (from the future, say) costs the signal, not the
		// event: it is stored already.
		_ = m.Add(recommend.Event{Shopper: subjectID, Item: it.ID, Kind: kind, At: sig.At})
	}
}

// putItem puts a catalogue item into m's view, or takes it out when it is
// unavailable.
func (s *Service) putItem(m *recommend.Model, it catalog.Item) {
	if !it.Available {
		m.DeleteItem(it.ID)
		return
	}
	_ = m.PutItem(recommend.Item{ID: it.ID, Name: it.Name, Category: it.Category, RepeatPurchase: it.RepeatPurchase,
		Sensitive: s.catalog.Sensitive(it) || s.catalog.SensitiveItem(it.ID)})
}

// ItemsWritten keeps the model's catalogue view current
// (catalog.Service.OnWrite): the shop's items replace what the model had;
// items seen in events are added only when new.
func (s *Service) ItemsWritten(items []catalog.Item, fromShop bool) {
	for _, m := range s.models() {
		for _, it := range items {
			if fromShop || !m.Listed(it.ID) {
				s.putItem(m, it)
			}
		}
	}
}

// Forget implements collect.Learner and is what every end of
// personalisation calls: the shopper's contribution leaves the model (and
// the pairs it supported are recomputed before Forget returns), their
// interest profile is deleted, and the counts of items shown back to them
// go.
func (s *Service) Forget(ctx context.Context, subjectID string) error {
	s.mu.Lock()
	if s.building != nil {
		s.forgotten = append(s.forgotten, subjectID)
	}
	s.mu.Unlock()
	for _, m := range s.models() {
		m.Remove(subjectID)
	}
	s.retargets.drop(subjectID)
	s.prefsMu.Lock()
	delete(s.muted, subjectID)
	s.prefsMu.Unlock()
	return s.profiles.DeleteProfile(ctx, subjectID)
}

// consentChanged forgets the changed shoppers who no longer grant
// personalization (withdrawal, objection, restriction, erasure) and reloads
// the choices of the others (a pause or a deleted interest made on another
// node arrives this way too).
func (s *Service) consentChanged(ctx context.Context, ids []string, log *slog.Logger) {
	if ids == nil {
		// Notices may have been missed: reload every shopper's choices.
		paused, muted, err := s.store.InterestPrefs(ctx)
		if err != nil {
			log.Warn("personalisation: reloading the shoppers' choices", "err", err)
			return
		}
		s.prefsMu.Lock()
		s.paused, s.muted = paused, muted
		s.prefsMu.Unlock()
		for id := range paused {
			for _, m := range s.models() {
				m.Remove(id)
			}
		}
		return
	}
	pol := s.consent.Policy()
	for _, id := range ids {
		if id == "" {
			continue
		}
		subj, err := s.consent.Store().Subject(ctx, id)
		switch {
		case tact.ErrorCode(err) == tact.ENOTFOUND:
		case err != nil:
			log.Warn("personalisation: reading a changed shopper", "err", err)
			continue
		case pol.Allowed(subj.State, subj.Flags(), datamap.PurposePersonalization, s.Now()):
			if err := s.reloadChoices(ctx, id); err != nil {
				log.Warn("personalisation: reloading a shopper's choices", "err", err)
			}
			continue
		}
		if err := s.Forget(ctx, id); err != nil {
			log.Warn("personalisation: forgetting a shopper", "err", err)
		}
	}
}

// reloadChoices reads a shopper's pause and muted categories from the
// store; a pause takes them out of the model, a resume replays them.
func (s *Service) reloadChoices(ctx context.Context, subjectID string) error {
	prof, err := s.profiles.Profile(ctx, subjectID, s.Now())
	if err != nil {
		return err
	}
	s.prefsMu.Lock()
	was := s.paused[subjectID]
	if prof.Paused {
		s.paused[subjectID] = true
	} else {
		delete(s.paused, subjectID)
	}
	if len(prof.Muted) > 0 {
		s.muted[subjectID] = prof.Muted
	} else {
		delete(s.muted, subjectID)
	}
	s.prefsMu.Unlock()
	switch {
	case prof.Paused && !was:
		for _, m := range s.models() {
			m.Remove(subjectID)
		}
		s.retargets.drop(subjectID)
	case !prof.Paused && was:
		return s.replaySubject(ctx, subjectID)
	}
	return nil
}

// RemoteChanged is told which subjects another node changed (nil: notices
// may have been missed); they are handled as local consent changes.
func (s *Service) RemoteChanged(subjectIDs []string) {
	select {
	case s.changes <- subjectIDs:
	default:
	}
}

// Sync handles the consent changes waiting, at once (tests, and callers
// that must see a change's effect before they answer).
func (s *Service) Sync(ctx context.Context) {
	for {
		select {
		case ids := <-s.changes:
			s.consentChanged(ctx, ids, slog.New(slog.DiscardHandler))
		default:
			return
		}
	}
}

func (s *Service) isPaused(subjectID string) bool {
	s.prefsMu.RLock()
	defer s.prefsMu.RUnlock()
	return s.paused[subjectID]
}

// Pause stops learning and using the shopper's profile until Resume: what
// the model holds of them goes at once.
func (s *Service) Pause(ctx context.Context, subjectID string) error {
	if err := s.profiles.Pause(ctx, subjectID, s.Now()); err != nil {
		return err
	}
	s.prefsMu.Lock()
	s.paused[subjectID] = true
	s.prefsMu.Unlock()
	for _, m := range s.models() {
		m.Remove(subjectID)
	}
	s.retargets.drop(subjectID)
	s.consent.Changed(subjectID) // other nodes reload the shopper's choices
	return nil
}

// Resume lifts a pause and teaches the model the shopper's stored events
// again (those personalisation may use now).
func (s *Service) Resume(ctx context.Context, subjectID string) error {
	if err := s.profiles.Resume(ctx, subjectID, s.Now()); err != nil {
		return err
	}
	s.prefsMu.Lock()
	delete(s.paused, subjectID)
	s.prefsMu.Unlock()
	s.consent.Changed(subjectID) // other nodes reload the shopper's choices
	return s.replaySubject(ctx, subjectID)
}

// replaySubject teaches the models one shopper's stored events again.
func (s *Service) replaySubject(ctx context.Context, subjectID string) error {
	return s.Replay.ReplayPersonal(ctx, eventNames(), subjectID, func(id string, sig collect.Signal) error {
		for _, m := range s.models() {
			s.addTo(m, id, sig)
		}
		return nil
	})
}

// DeleteInterest removes a category from the shopper's profile and mutes
// it: recommendations use no signal in it from the next answer on.
func (s *Service) DeleteInterest(ctx context.Context, subjectID, category string) error {
	if err := s.profiles.Delete(ctx, subjectID, category, s.Now()); err != nil {
		return err
	}
	s.prefsMu.Lock()
	if !slices.Contains(s.muted[subjectID], category) {
		s.muted[subjectID] = append(slices.Clone(s.muted[subjectID]), category)
	}
	s.prefsMu.Unlock()
	s.consent.Changed(subjectID) // other nodes reload the shopper's choices
	return nil
}

// Request asks for recommendations.
type Request struct {
	Placement recommend.Placement
	ItemID    string
	Limit     int
	Locale    string
	// Shopper is set only when the caller found personalization granted
	// now and the shopper did not ask for personalized=false; Sensitive
	// when sensitive_personalization is granted too.
	Shopper   string
	Sensitive bool
}

// Placement and limit errors name the problem (400).
var (
	errPlacement = tact.Errorf(tact.EINVALID, "placement must be home, product or cart")
	errItemID    = tact.Errorf(tact.EINVALID, "placement product needs the itemId of the product on the page")
	errLimit     = tact.Errorf(tact.EINVALID, "limit must be between 1 and 100")
)

// Check validates a request's placement, item and limit.
func (r Request) Check() error {
	switch r.Placement {
	case recommend.Home, recommend.CartPage:
	case recommend.ProductPage:
		if r.ItemID == "" {
			return errItemID
		}
	default:
		return errPlacement
	}
	if r.Limit < 1 || r.Limit > recommend.MaxLimit {
		return errLimit
	}
	if len(r.ItemID) > catalog.MaxIDLen {
		return tact.Errorf(tact.EINVALID, "itemId is longer than %d bytes", catalog.MaxIDLen)
	}
	return nil
}

// Recommend answers a request. A paused shopper gets a non-personal
// answer; items shown back to the shopper are counted against the
// retargeting cap.
func (s *Service) Recommend(r Request) (recommend.Answer, error) {
	if err := r.Check(); err != nil {
		return recommend.Answer{}, err
	}
	now := s.Now()
	q := recommend.Query{Placement: r.Placement, ItemID: r.ItemID, Limit: r.Limit, Locale: r.Locale, Now: now}
	if r.Shopper != "" && !s.isPaused(r.Shopper) {
		q.Shopper, q.Sensitive = r.Shopper, r.Sensitive
		s.prefsMu.RLock()
		q.Muted = s.muted[r.Shopper]
		s.prefsMu.RUnlock()
	}
	m := s.Model()
	if q.Shopper != "" {
		q.Retargeted = s.retargets.counts(q.Shopper, now.Add(-m.Config().RetargetWindow).Unix())
	}
	a := m.Recommend(q)
	if a.Personalized && len(a.Items) == 0 {
		// Nothing personal to show (all the shopper's items bought, say):
		// the non-personal answer, which reads nothing about them.
		q.Shopper, q.Sensitive, q.Muted, q.Retargeted = "", false, nil, nil
		a = m.Recommend(q)
	}
	if a.Personalized {
		var shown []string
		for _, it := range a.Items {
			if it.Retarget {
				shown = append(shown, it.ID)
			}
		}
		s.retargets.add(q.Shopper, shown, now.Unix())
	}
	return a, nil
}

// retargets counts, per shopper and item, when the item was shown back to
// the shopper (Recommendation.Retarget), within the retargeting window.
// They are kept in memory: a restart forgets them, which can only let an
// item be shown back up to the cap again.
type retargets struct {
	mu sync.Mutex
	m  map[string]map[string][]int64 // shopper → item → Unix seconds
}

func (r *retargets) counts(shopper string, since int64) map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	items := r.m[shopper]
	if len(items) == 0 {
		return nil
	}
	out := make(map[string]int, len(items))
	for id, ts := range items {
		n := 0
		for _, t := range ts {
			if t >= since {
				n++
			}
		}
		out[id] = n
	}
	return out
}

func (r *retargets) add(shopper string, ids []string, at int64) {
	if len(ids) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	items := r.m[shopper]
	if items == nil {
		items = map[string][]int64{}
		r.m[shopper] = items
	}
	for _, id := range ids {
		items[id] = append(items[id], at)
	}
}

// Shown is how often an item was shown back to a shopper within the
// retargeting window, and until when that count lasts.
type Shown struct {
	ItemID string
	Times  int
	Until  time.Time
}

// Retargeting lists the items shown back to a shopper (access reports
// include it), by item id.
func (s *Service) Retargeting(subjectID string) []Shown {
	window := s.Model().Config().RetargetWindow
	since := s.Now().Add(-window).Unix()
	s.retargets.mu.Lock()
	defer s.retargets.mu.Unlock()
	var out []Shown
	for id, ts := range s.retargets.m[subjectID] {
		n, last := 0, int64(0)
		for _, t := range ts {
			if t >= since {
				n, last = n+1, max(last, t)
			}
		}
		if n > 0 {
			out = append(out, Shown{ItemID: id, Times: n, Until: time.Unix(last, 0).Add(window).UTC()})
		}
	}
	slices.SortFunc(out, func(a, b Shown) int { return strings.Compare(a.ItemID, b.ItemID) })
	return out
}

func (r *retargets) drop(shopper string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, shopper)
}

// prune forgets showings before since.
func (r *retargets) prune(since int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for shopper, items := range r.m {
		for id, ts := range items {
			ts = slices.DeleteFunc(ts, func(t int64) bool { return t < since })
			if len(ts) == 0 {
				delete(items, id)
			} else {
				items[id] = ts
			}
		}
		if len(items) == 0 {
			delete(r.m, shopper)
		}
	}
}
