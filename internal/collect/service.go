package collect

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/catalog"
	"github.com/tact-cdp/tact/internal/collect/segment"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/vault"
)

// payloadBuffers hold an event's payload between rendering and sealing.
var payloadBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// DedupWindow is how long a messageId is remembered (DESIGN 5.1).
const DedupWindow = 7 * 24 * time.Hour

// PayloadField is the sealed field name of an event's payload.
const PayloadField = "event.payload"

var errBadRaw = errors.New("collect: an event's raw JSON could not be re-read")

// Caller is who sends events.
type Caller struct {
	Server bool   // a server key: trusted (DESIGN principle 3)
	KeyID  string // the credential's id; messageIds are deduplicated per key
}

// Request is the transport's part of an ingest call.
type Request struct {
	ReceivedAt time.Time
	Peer       netip.Addr // the client address (already resolved through trusted proxies)
	UserAgent  string     // the request's User-Agent header
	GPC        bool       // Sec-GPC: 1
	// Historical, for imports, replaces the shopper's state now with the
	// consent evidence in force at each event's own time.
	Historical Historical
}

// Result is the outcome of one call.
type Result struct {
	Rejected []segment.Rejected
	Stored   int
	Dropped  map[string]int
}

// Measurement is one event as consent-free measurement sees it: no
// identifier, only what the daily aggregates need. Visitor is a raw key
// that the meter may hash with its in-memory daily salt and must not keep.
type Measurement struct {
	At           time.Time
	Type         string // segment type
	Event        string
	Path         string
	ProductID    string
	Country      string
	Device       string
	RevenueCents int64
	Visitor      string
}

// Meter counts measurements.
type Meter interface{ Count(Measurement) }

// UserHashChecker verifies a browser's context.userHash.
type UserHashChecker interface {
	ValidUserHash(ctx context.Context, userID, userHash string) (bool, error)
}

// Service ingests events.
type Service struct {
	store    Store
	consent  *consent.Service
	vault    *vault.Vault
	dataMap  func() *datamap.Map
	userHash UserHashChecker
	meter    Meter
	dedupKey []byte
	// dedupMACs reuses the HMAC state of dedup keys (*dedupMAC).
	dedupMACs sync.Pool
	signals   Signals
	inflight  chan struct{}
	keys      keyCache
	cache     *shopperCache
	// categories remembers which product category paths are sensitive
	categories categoryCache
	bits       atomic.Pointer[map[string]uint]
	bitsMu     sync.Mutex
	catalog    Catalog
	learner    Learner
	observer   Observer
	// suppression holds the running suppressions (erased shoppers' ids) in
	// memory: they are few, and ingest asks about every identifier.
	suppression suppressionCache
	Now         func() time.Time
}

// Learner learns from the events stored for personalisation: interest
// profiles and recommendations.
type Learner interface {
	// Learn is told of each event stored under personalization (one about
	// a sensitive item only under sensitive_personalization), after it is
	// committed. It must not block.
	Learn(subjectID string, sig Signal)
	// Forget drops what was learnt of a shopper who no longer grants
	// personalisation (the strip job calls it).
	Forget(ctx context.Context, subjectID string) error
}

// Signal is what a learner is told of one stored event.
type Signal struct {
	Event     string         // the track event's name ("Product Viewed")
	Items     []catalog.Item // the items it names, ids unchanged
	Sensitive bool           // about a sensitive item or category
	At        time.Time      // occurredAt
}

// Catalog is what collection tells the product catalogue and asks it: the
// items events name (added when new), and which items are flagged
// sensitive.
type Catalog interface {
	Seen(items ...catalog.Item)
	SensitiveItem(id string) bool
}

// Options configure a Service.
type Options struct {
	// MaxInFlight bounds concurrent ingest calls; beyond it calls are
	// refused with EUNAVAILABLE (503 + Retry-After) rather than queued
	// without bound. Default 64.
	MaxInFlight int
	Meter       Meter
	Signals     Signals
	// CacheTTL bounds how long a shopper's consent state is reused without
	// reading the store: decisions made by this process invalidate it at
	// once, those of other nodes when their notice arrives (Notify,
	// RemoteChanged); the TTL covers what no notice reaches. Default 30 s.
	CacheTTL time.Duration
	// Notify tells other nodes sharing the store which subjects changed
	// (nil: a single node).
	Notify func(ctx context.Context, subjectIDs []string) error
	// Catalog, when set, learns the items events name and says which are
	// sensitive.
	Catalog Catalog
	// Learner, when set, is told of events stored for personalisation.
	Learner Learner
	// Observer, when set, is told of stored personal track events it wants.
	Observer Observer
}

// NewService returns a collection service.
func NewService(st Store, cs *consent.Service, v *vault.Vault, dm func() *datamap.Map, uh UserHashChecker, opts Options) *Service {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 64
	}
	if opts.Signals == nil {
		opts.Signals = DefaultSignals
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 30 * time.Second
	}
	s := &Service{
		store: st, consent: cs, vault: v, dataMap: dm, userHash: uh, meter: opts.Meter, catalog: opts.Catalog, learner: opts.Learner, observer: opts.Observer,
		dedupKey: v.DeriveKey("collect/dedup", 32), signals: opts.Signals,
		inflight: make(chan struct{}, opts.MaxInFlight), keys: keyCache{m: map[vault.KeyID]cachedKey{}},
		cache: newShopperCache(opts.CacheTTL, 1<<18),
		Now:   time.Now,
	}
	// Consent reads (GET /v1/consent, recommendations, landing) share the
	// gate's cache and its invalidation.
	cs.SetResolver(func(ctx context.Context, p vault.Pseudonym) (consent.Subject, bool, error) {
		m, err := s.shoppers(ctx, []vault.Pseudonym{p})
		sh, ok := m[p]
		return sh.Subject, ok, err
	})
	cs.OnChange(func(ids []string) {
		s.cache.invalidate(ids)
		if opts.Notify != nil {
			// Other nodes drop their copies before this decision is
			// answered; should the notice fail, their TTL still bounds it.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			opts.Notify(ctx, ids)
			cancel()
		}
	})
	return s
}

// RemoteChanged drops cached state of subjects another node changed; nil
// drops everything (notices may have been missed).
func (s *Service) RemoteChanged(subjectIDs []string) {
	// Another node's change may be an erasure with new suppressions.
	s.suppression.stale()
	if subjectIDs == nil {
		s.cache.invalidateAll()
		return
	}
	s.cache.invalidate(subjectIDs)
}

// Invalidate drops cached state of subjects changed outside a consent
// decision (erasure). Call it before answering.
func (s *Service) Invalidate(subjectIDs ...string) { s.cache.invalidate(subjectIDs) }

// ErrBusy is returned when too many calls are in flight.
var ErrBusy = tact.Errorf(tact.EUNAVAILABLE, "tact is busy; retry after the time in Retry-After")

// ident is one identifier of an event.
type ident struct {
	kind  vault.Kind
	value string          // normalised
	p     vault.Pseudonym // identity pseudonym
	supp  vault.Pseudonym // suppression pseudonym
}

// item is one event on its way through the gate.
type item struct {
	ev         *segment.Event
	index      int
	occurred   time.Time
	declared   []string
	sensitive  bool
	trusted    bool
	anon, user *ident
	email      *ident   // identify traits.email (trusted only)
	prev       []*ident // alias previousId, as either kind (trusted only)
	shopper    *Shopper
	attributed vault.Pseudonym
	min        Minimal
	row        Row
	link       []consent.LinkID
	reason     string
	measured   bool
	linked     bool // every identifier to link already names the same shopper
}

// alreadyLinked reports whether a trusted identify or alias would change
// nothing: all its identifiers are known and belong to one subject.
func alreadyLinked(shoppers map[vault.Pseudonym]Shopper, it *item) bool {
	ids := append([]*ident{it.user, it.email, it.anon}, it.prev...)
	subject := ""
	n := 0
	for _, id := range ids {
		if id == nil {
			continue
		}
		sh, ok := shoppers[id.p]
		if !ok {
			if it.ev.Type == segment.Alias && len(it.prev) > 1 && slices.Contains(it.prev, id) {
				continue // previousId is looked up as both kinds; one may be unknown
			}
			return false
		}
		if subject != "" && sh.Subject.ID != subject {
			return false
		}
		subject = sh.Subject.ID
		n++
	}
	return n >= 2
}

// Ingest gates, minimises, seals and stores a decoded batch. It returns
// once the accepted events are durably committed.
func (s *Service) Ingest(ctx context.Context, caller Caller, b *segment.Batch, req Request) (*Result, error) {
	select {
	case s.inflight <- struct{}{}:
		defer func() { <-s.inflight }()
	default:
		return nil, ErrBusy
	}
	now := req.ReceivedAt.UTC()
	if now.IsZero() {
		now = s.Now().UTC()
	}
	pol := s.consent.Policy()
	dm := s.dataMap()
	res := &Result{Rejected: b.Rejected, Dropped: map[string]int{}}

	items := make([]*item, 0, len(b.Events))
	slots := make([]item, len(b.Events)) // one allocation for the batch's items
	for i := range b.Events {
		it, rej := s.prepare(ctx, caller, &slots[i], &b.Events[i], b.Indexes[i], dm, now)
		if rej != nil {
			res.Rejected = append(res.Rejected, *rej)
			continue
		}
		items = append(items, it)
	}
	sortRejected(res.Rejected)

	if err := s.resolve(ctx, caller, items, req, pol, now); err != nil {
		return nil, err
	}
	bits, err := s.purposeBits(ctx, pol)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if err := s.gate(ctx, it, caller, req, pol, bits, now); err != nil {
			return nil, err
		}
	}

	rows := make([]Row, len(items))
	for i, it := range items {
		rows[i] = it.row
	}
	var dup []bool
	var counts map[string]int64
	var touched []string
	var stored []Row // as written, merges applied
	err = s.store.WriteEvents(ctx, func(tx Tx) error {
		merged := map[string]string{}
		touched = touched[:0]
		for _, it := range items {
			if len(it.link) == 0 || !it.row.Personal {
				continue
			}
			into, from, t, err := s.consent.Link(ctx, tx, it.link, now)
			if err != nil {
				return err
			}
			touched = append(touched, t...)
			for _, f := range from {
				merged[f] = into
			}
		}
		write := rows
		if len(merged) > 0 {
			write = make([]Row, len(rows))
			for i, r := range rows {
				if into, ok := merged[r.SubjectID]; ok {
					r.SubjectID = into
				}
				write[i] = r
			}
		}
		var err error
		if dup, err = tx.InsertEvents(ctx, write); err != nil {
			return err
		}
		stored = write
		counts = map[string]int64{"received": int64(len(items) + len(res.Rejected))}
		if n := len(res.Rejected); n > 0 {
			counts["dropped."+ReasonRejected] = int64(n)
		}
		for i, it := range items {
			switch {
			case dup[i]:
				counts["dropped."+ReasonDuplicate]++
			case it.row.Personal:
				counts["stored"]++
			default:
				counts["dropped."+it.reason]++
			}
		}
		return tx.CountEvents(ctx, counts)
	})
	if len(touched) > 0 {
		s.consent.Changed(touched...)
	}
	if err != nil {
		return nil, err
	}
	for k, n := range counts {
		switch {
		case k == "stored":
			res.Stored = int(n)
		case strings.HasPrefix(k, "dropped."):
			res.Dropped[strings.TrimPrefix(k, "dropped.")] = int(n)
		}
	}
	if s.meter != nil {
		for i, it := range items {
			if !dup[i] && it.measured {
				s.meter.Count(s.measurement(it, req))
			}
		}
	}
	if s.learner != nil {
		s.learn(items, stored, dup, bits)
	}
	if s.observer != nil {
		s.observe(items, stored, dup, bits)
	}
	return res, nil
}

// learn tells the learner about events stored for
// personalisation (sensitive ones only under the separate grant).
func (s *Service) learn(items []*item, stored []Row, dup []bool, bits map[string]uint) {
	p, okP := bits[datamap.PurposePersonalization]
	sp, okS := bits[datamap.PurposeSensitivePersonalization]
	for i, it := range items {
		if dup[i] || !it.row.Personal || it.ev.Type != segment.Track {
			continue
		}
		allowed := okP && stored[i].Purposes&(1<<p) != 0
		if it.sensitive {
			allowed = okS && stored[i].Purposes&(1<<sp) != 0
		}
		if !allowed {
			continue
		}
		if items := productsOf(it.ev); len(items) > 0 {
			s.learner.Learn(stored[i].SubjectID, Signal{Event: it.ev.Event, Items: items, Sensitive: it.sensitive, At: it.occurred})
		}
	}
}

// prepare normalises an event's identifiers and works out what the data map
// says of it. A bad identifier rejects the event alone.
func (s *Service) prepare(ctx context.Context, caller Caller, it *item, e *segment.Event, index int, dm *datamap.Map, now time.Time) (*item, *segment.Rejected) {
	*it = item{ev: e, index: index, occurred: segment.OccurredAt(*e, now), trusted: caller.Server}
	bad := func(field string) *segment.Rejected {
		return &segment.Rejected{Index: index, Code: "invalid_identifier", Message: field + " is not a valid identifier"}
	}
	mk := func(kind vault.Kind, raw string) (*ident, bool) {
		if raw == "" {
			return nil, true
		}
		v, err := vault.Normalize(kind, raw)
		if err != nil {
			return nil, false
		}
		return &ident{kind: kind, value: v,
			p:    s.vault.Pseudonym(vault.UseIdentity, kind, v),
			supp: s.vault.Pseudonym(vault.UseSuppression, kind, v)}, true
	}
	var ok bool
	if it.anon, ok = mk(vault.KindAnonymousID, e.AnonymousID); !ok {
		return nil, bad("anonymousId")
	}
	if it.user, ok = mk(vault.KindUserID, e.UserID); !ok {
		return nil, bad("userId")
	}
	if it.user != nil && !caller.Server {
		// A browser's userId counts only with a valid userHash.
		valid := false
		if e.Context.UserHash != "" {
			var err error
			if valid, err = s.userHash.ValidUserHash(ctx, e.UserID, e.Context.UserHash); err != nil {
				return nil, &segment.Rejected{Index: index, Code: "internal", Message: "the userHash could not be checked"}
			}
		}
		if valid {
			it.trusted = true
		} else {
			it.user = nil
		}
	}
	if it.trusted {
		switch e.Type {
		case segment.Identify:
			if email, _ := e.Traits["email"].(string); email != "" {
				if it.email, ok = mk(vault.KindEmail, email); !ok {
					it.email = nil // a malformed email is not an identifier to link
				}
			}
		case segment.Alias:
			for _, kind := range []vault.Kind{vault.KindUserID, vault.KindAnonymousID} {
				if p, ok := mk(kind, e.PreviousID); ok && p != nil {
					it.prev = append(it.prev, p)
				}
			}
		}
	}
	it.declared = dm.EventPurposes(string(e.Type), eventName(e))
	it.sensitive = s.sensitive(dm, e)
	if s.catalog != nil && e.Type == segment.Track {
		s.catalog.Seen(productsOf(e)...)
	}
	return it, nil
}

// productsOf returns the catalogue items an e-commerce event names: its
// product_id, or the products of an order or cart (ids unchanged).
func productsOf(e *segment.Event) []catalog.Item {
	one := func(p map[string]any) (catalog.Item, bool) {
		id := ""
		switch v := p["product_id"].(type) {
		case string:
			id = v
		case json.Number:
			id = v.String()
		}
		if id == "" {
			return catalog.Item{}, false
		}
		it := catalog.Item{ID: id}
		it.Name, _ = p["name"].(string)
		it.Category, _ = p["category"].(string)
		if n, ok := p["price"].(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				it.PriceCents, _ = catalog.PriceToCents(f)
			}
		} else if f, ok := p["price"].(float64); ok {
			it.PriceCents, _ = catalog.PriceToCents(f)
		}
		return it, true
	}
	var out []catalog.Item
	if it, ok := one(e.Properties); ok {
		out = append(out, it)
	}
	if products, ok := e.Properties["products"].([]any); ok {
		for _, p := range products {
			if m, ok := p.(map[string]any); ok {
				if it, ok := one(m); ok {
					out = append(out, it)
				}
			}
		}
	}
	if cur, _ := e.Properties["currency"].(string); cur != "" {
		for i := range out {
			out[i].Currency = strings.ToUpper(cur)
		}
	}
	return out
}

// eventName is the name the data map's event rules match: the track event,
// or the page or screen name.
func eventName(e *segment.Event) string {
	switch e.Type {
	case segment.Track:
		return e.Event
	case segment.Page, segment.Screen:
		return e.Name
	}
	return ""
}

// sensitive reports whether an event is about a sensitive category: by its
// data-map rule, or by the category of a product it names.
func (s *Service) sensitive(dm *datamap.Map, e *segment.Event) bool {
	if r, ok := dm.EventRule(string(e.Type), eventName(e)); ok {
		for _, c := range r.Categories {
			if cat, ok := dm.Category(c); ok && cat.Sensitive {
				return true
			}
		}
	}
	check := func(props map[string]any) bool {
		if s.catalog != nil {
			if id, _ := props["product_id"].(string); id != "" && s.catalog.SensitiveItem(id) {
				return true
			}
		}
		for _, k := range []string{"category", "product_category"} {
			if c, _ := props[k].(string); c != "" {
				if s.categories.sensitive(dm, c) {
					return true
				}
			}
		}
		return false
	}
	if check(e.Properties) {
		return true
	}
	if products, ok := e.Properties["products"].([]any); ok {
		for _, p := range products {
			if m, ok := p.(map[string]any); ok && check(m) {
				return true
			}
		}
	}
	return false
}

// resolve looks up the shoppers and suppressions the batch names, records
// GPC signals, and attributes each event to a shopper.
func (s *Service) resolve(ctx context.Context, caller Caller, items []*item, req Request, pol *consent.Policy, now time.Time) error {
	seen := make(map[vault.Pseudonym]bool, 2*len(items))
	ps, supp := make([]vault.Pseudonym, 0, 2*len(items)), make([]vault.Pseudonym, 0, 4*len(items))
	add := func(id *ident) {
		if id == nil || seen[id.p] {
			return
		}
		seen[id.p] = true
		ps = append(ps, id.p)
		// An erasure suppresses the identifiers it knows in clear by their
		// suppression pseudonym, and the shopper's other identifiers by
		// their identity pseudonym (all tact ever held of them).
		supp = append(supp, id.supp, id.p)
	}
	for _, it := range items {
		add(it.anon)
		add(it.user)
		add(it.email)
		for _, p := range it.prev {
			add(p)
		}
	}
	if len(ps) == 0 {
		return nil
	}
	shoppers, err := s.shoppers(ctx, ps)
	if err != nil {
		return err
	}

	// A browser's GPC signal is recorded as a receipt (DESIGN 3, 5.2), once
	// per browser: later events find the flag on the shopper.
	if req.GPC && !caller.Server {
		recorded := map[vault.Pseudonym]bool{}
		for _, it := range items {
			if it.anon == nil || recorded[it.anon.p] {
				continue
			}
			recorded[it.anon.p] = true
			if sh, ok := shoppers[it.anon.p]; ok && !sh.Subject.GPCAt.IsZero() {
				continue
			}
			_, err := s.consent.Record(ctx, consent.Caller{KeyID: caller.KeyID}, consent.Request{
				AnonymousID: it.anon.value, NoticeVersion: pol.NoticeVersion, Method: consent.MethodGPC, GPC: true,
			})
			if err != nil {
				return fmt.Errorf("recording a GPC signal: %w", err)
			}
		}
		if len(recorded) > 0 {
			if shoppers, err = s.shoppers(ctx, ps); err != nil {
				return err
			}
		}
	}

	suppressed, err := s.suppression.lookup(ctx, s.store, supp, now)
	if err != nil {
		return err
	}
	if shoppers, err = s.ensureDefaults(ctx, items, shoppers, suppressed, ps, pol, now); err != nil {
		return err
	}
	for _, it := range items {
		// Trusted events belong to the userId's shopper, else the browser's;
		// an untrusted event only ever to the browser's own profile.
		for _, id := range []*ident{it.user, it.anon} {
			if id == nil {
				continue
			}
			if sh, ok := shoppers[id.p]; ok {
				it.shopper, it.attributed = &sh, id.p
				break
			}
		}
		if it.shopper == nil && it.trusted {
			// an alias or identify may name a known shopper only by its
			// other identifiers
			for _, id := range append([]*ident{it.email}, it.prev...) {
				if id == nil {
					continue
				}
				if sh, ok := shoppers[id.p]; ok {
					it.shopper, it.attributed = &sh, id.p
					break
				}
			}
		}
		it.linked = alreadyLinked(shoppers, it)
		for _, id := range []*ident{it.user, it.anon, it.email} {
			if id == nil {
				continue
			}
			for _, p := range []vault.Pseudonym{id.supp, id.p} {
				if erasedAt, ok := suppressed[p]; ok && !consentedSince(it.shopper, erasedAt) {
					it.reason = ReasonSuppressed
				}
			}
		}
	}
	return nil
}

// ensureDefaults creates the shoppers an opt-out regime lets tact store data
// about before they decide anything: an unknown browser (or, from a trusted
// caller, userId) whose event serves a purpose that starts granted. Under
// opt-in regimes nothing starts granted and nothing is created.
// An erased (suppressed) shopper is never brought back this way.
func (s *Service) ensureDefaults(ctx context.Context, items []*item, shoppers map[vault.Pseudonym]Shopper, suppressed map[vault.Pseudonym]time.Time,
	ps []vault.Pseudonym, pol *consent.Policy, now time.Time) (map[vault.Pseudonym]Shopper, error) {
	created := false
	done := map[vault.Pseudonym]bool{}
	for _, it := range items {
		id := it.anon
		if it.user != nil {
			id = it.user // trusted: an untrusted userId was dropped in prepare
		}
		if id == nil || done[id.p] || !pol.GrantsByDefault(it.declared, now) {
			continue
		}
		if _, known := shoppers[id.p]; known {
			continue
		}
		if isSuppressed(suppressed, it) {
			continue
		}
		if other := it.anon; other != nil && other != id {
			if _, known := shoppers[other.p]; known {
				continue // attributed to the browser's existing profile
			}
		}
		done[id.p] = true
		if err := s.consent.Ensure(ctx, consent.LinkID{Kind: id.kind, Value: id.value}, now); err != nil {
			return nil, err
		}
		created = true
	}
	if !created {
		return shoppers, nil
	}
	return s.shoppers(ctx, ps)
}

func isSuppressed(suppressed map[vault.Pseudonym]time.Time, it *item) bool {
	for _, id := range []*ident{it.user, it.anon, it.email} {
		if id != nil {
			if _, ok := suppressed[id.supp]; ok {
				return true
			}
			if _, ok := suppressed[id.p]; ok {
				return true
			}
		}
	}
	return false
}

// consentedSince reports whether a shopper made a decision after t: a
// receipt dated after an erasure lifts the suppression.
func consentedSince(sh *Shopper, t time.Time) bool {
	if sh == nil {
		return false
	}
	for _, r := range sh.Subject.State {
		if r.Since.After(t) {
			return true
		}
	}
	return false
}

// gate decides an event's purposes and, when it has any, seals its row.
func (s *Service) gate(ctx context.Context, it *item, caller Caller, req Request, pol *consent.Policy, bits map[string]uint, now time.Time) error {
	e := it.ev
	it.min = minimal(e, req.Peer, req.UserAgent, caller.Server)
	it.row = Row{MessageID: e.MessageID, Type: string(e.Type), Event: eventName(e), OccurredAt: it.occurred, ReceivedAt: now}
	if !e.GeneratedID {
		it.row.DedupKey, it.row.HasDedup = s.dedup(caller.KeyID, e.MessageID), true
	}
	in := GateInput{Declared: it.declared, Sensitive: it.sensitive, Suppressed: it.reason == ReasonSuppressed, Denied: s.denied(e, req, pol)}
	var flags consent.Flags
	historicalReceipt := ""
	if it.shopper != nil {
		subj := it.shopper.Subject
		flags = subj.Flags()
		in.Granted = func(p string) bool { return pol.Allowed(subj.State, flags, p, now) }
		if req.Historical != nil {
			then, receipt := req.Historical(e, it.occurred)
			historicalReceipt = receipt
			in.Granted = func(p string) bool {
				// What was granted then, as far as the purpose still exists
				// and what holds now (a minor, GPC) allows.
				if !slices.Contains(then, p) || (flags.GPC && slices.Contains(pol.GPCDenies(), p)) {
					return false
				}
				rec := consent.Record{Granted: true, Version: versionOf(pol, p), Since: now, Expires: now.Add(time.Hour)}
				return pol.Allowed(consent.State{p: rec}, flags, p, now)
			}
		}
	}
	in.Separate = func(p string) (string, bool) {
		q := "sensitive_" + p
		r, ok := pol.Purpose(q)
		return q, ok && r.SeparateConsent
	}
	purposes, reason := Gate(in)
	it.measured = !objects(it.shopper, flags, req, pol, now)
	if !e.HasIdentifier() {
		it.reason = ReasonNoIdentifier
		return nil
	}
	if len(purposes) == 0 {
		it.reason = reason
		return nil
	}

	subj := it.shopper.Subject
	var mask uint64
	var since time.Time
	for _, p := range purposes {
		mask |= 1 << bits[p]
		if r, ok := subj.State[p]; ok && r.Since.After(since) && req.Historical == nil {
			since, it.row.ReceiptID = r.Since, r.ReceiptID
		}
	}
	if req.Historical != nil {
		it.row.ReceiptID = historicalReceipt
	}
	dk, err := s.keys.get(ctx, s.vault, it.shopper.Key)
	if err != nil {
		return err
	}
	buf := payloadBuffers.Get().(*[]byte)
	body, err := payload((*buf)[:0], e, it.min)
	if err != nil {
		payloadBuffers.Put(buf)
		return err
	}
	sealed, err := dk.Seal(PayloadField, body)
	*buf = body[:0]
	payloadBuffers.Put(buf)
	if err != nil {
		return err
	}
	it.row.Personal, it.row.SubjectID, it.row.Purposes = true, subj.ID, mask
	it.row.KeyID, it.row.Payload = it.shopper.Key.ID, sealed
	if it.trusted {
		switch e.Type {
		case segment.Identify:
			for _, id := range []*ident{it.user, it.email, it.anon} {
				if id != nil {
					it.link = append(it.link, consent.LinkID{Kind: id.kind, Value: id.value})
				}
			}
		case segment.Alias:
			if it.user != nil {
				it.link = append(it.link, consent.LinkID{Kind: it.user.kind, Value: it.user.value})
			}
			for _, id := range it.prev {
				it.link = append(it.link, consent.LinkID{Kind: id.kind, Value: id.value})
			}
		}
		if len(it.link) < 2 || it.linked {
			it.link = nil
		}
	}
	return nil
}

// denied collects the purposes the event's own signals refuse: Segment's
// categoryPreferences set to false, RudderStack's denied consent ids, and a
// GPC header (DESIGN 5.1: the stricter of these and the server state wins).
func (s *Service) denied(e *segment.Event, req Request, pol *consent.Policy) map[string]bool {
	c := e.Context.Consent
	if c == nil && !req.GPC {
		return nil
	}
	out := map[string]bool{}
	isPurpose := func(id string) bool { _, ok := pol.Purpose(id); return ok }
	if c != nil {
		for id, granted := range c.Categories {
			if !granted {
				for _, p := range s.signals.purposesOf(id, isPurpose) {
					out[p] = true
				}
			}
		}
		for _, id := range c.Denied {
			for _, p := range s.signals.purposesOf(id, isPurpose) {
				out[p] = true
			}
		}
	}
	if req.GPC {
		for _, p := range pol.GPCDenies() {
			out[p] = true
		}
	}
	return out
}

func versionOf(pol *consent.Policy, p string) string {
	r, _ := pol.Purpose(p)
	return r.Version
}

// objects reports whether the shopper objected to consent-free measurement:
// "reject all" (analytics refused on record) or GPC.
func objects(sh *Shopper, f consent.Flags, req Request, pol *consent.Policy, now time.Time) bool {
	if req.GPC || f.GPC {
		return true
	}
	if sh == nil {
		return false
	}
	r, ok := sh.Subject.State["analytics"]
	return ok && !r.Granted
}

func (s *Service) dedup(keyID, messageID string) [16]byte {
	d, _ := s.dedupMACs.Get().(*dedupMAC)
	if d == nil {
		d = &dedupMAC{mac: hmac.New(sha256.New, s.dedupKey)}
	}
	d.in = append(append(append(d.in[:0], keyID...), 0), messageID...)
	d.mac.Reset()
	d.mac.Write(d.in)
	d.sum = d.mac.Sum(d.sum[:0])
	var k [16]byte
	copy(k[:], d.sum)
	s.dedupMACs.Put(d)
	return k
}

// dedupMAC is a dedup key's HMAC with its buffers, reused across events
// (Service.dedupMACs).
type dedupMAC struct {
	mac     hash.Hash
	in, sum []byte
}

// purposeBits returns the bits of the policy's purposes, assigning new ones
// once.
func (s *Service) purposeBits(ctx context.Context, pol *consent.Policy) (map[string]uint, error) {
	if m := s.bits.Load(); m != nil && len(*m) >= len(pol.Purposes()) {
		return *m, nil
	}
	s.bitsMu.Lock()
	defer s.bitsMu.Unlock()
	ids := make([]string, 0, len(pol.Purposes()))
	for _, p := range pol.Purposes() {
		ids = append(ids, p.ID)
	}
	m, err := s.store.PurposeBits(ctx, ids)
	if err != nil {
		return nil, err
	}
	s.bits.Store(&m)
	return m, nil
}

// measurement is what the meter sees of an event.
func (s *Service) measurement(it *item, req Request) Measurement {
	e := it.ev
	m := Measurement{At: it.occurred, Type: string(e.Type), Event: e.Event, Path: it.min.Path, Country: it.min.Country, Device: it.min.Device.Class}
	if id, ok := e.Properties["product_id"].(string); ok {
		m.ProductID = id
	} else if n, ok := e.Properties["product_id"].(json.Number); ok {
		m.ProductID = n.String()
	}
	if e.Type == segment.Track && e.Event == "Order Completed" {
		m.RevenueCents = cents(e.Properties["revenue"])
		if m.RevenueCents == 0 {
			m.RevenueCents = cents(e.Properties["total"])
		}
	}
	switch {
	case e.AnonymousID != "":
		m.Visitor = "a:" + e.AnonymousID
	case e.UserID != "":
		m.Visitor = "u:" + e.UserID
	case req.Peer.IsValid():
		m.Visitor = "r:" + req.Peer.String() + "\x00" + req.UserAgent
	}
	return m
}

func cents(v any) int64 {
	var f float64
	switch n := v.(type) {
	case json.Number:
		f, _ = n.Float64()
	case string:
		f, _ = json.Number(n).Float64()
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f > 1e12 {
		return 0
	}
	return int64(math.Round(f * 100))
}

func sortRejected(r []segment.Rejected) {
	slices.SortStableFunc(r, func(a, b segment.Rejected) int { return a.Index - b.Index })
}

// keyCache keeps unwrapped data keys for a short while: unwrapping costs a
// KEK operation (a KMS call, for remote key sources) per event otherwise.
type keyCache struct {
	mu sync.Mutex
	m  map[vault.KeyID]cachedKey
}

type cachedKey struct {
	dk vault.DataKey
	at time.Time
}

const (
	keyCacheTTL = 5 * time.Minute
	keyCacheMax = 1 << 16
)

func (c *keyCache) get(ctx context.Context, v *vault.Vault, k consent.StoredKey) (vault.DataKey, error) {
	now := time.Now()
	c.mu.Lock()
	if e, ok := c.m[k.ID]; ok && now.Sub(e.at) < keyCacheTTL {
		c.mu.Unlock()
		return e.dk, nil
	}
	c.mu.Unlock()
	dk, err := v.UnwrapDataKey(ctx, k.ID, k.Wrapped)
	if err != nil {
		return dk, fmt.Errorf("opening a data key: %w", err)
	}
	c.mu.Lock()
	if len(c.m) >= keyCacheMax {
		for id := range c.m { // evict an arbitrary eighth
			delete(c.m, id)
			if len(c.m) < keyCacheMax*7/8 {
				break
			}
		}
	}
	c.m[k.ID] = cachedKey{dk: dk, at: now}
	c.mu.Unlock()
	return dk, nil
}

// Forget drops data keys from the cache (after an erasure).
func (s *Service) Forget(ids ...vault.KeyID) {
	s.keys.mu.Lock()
	for _, id := range ids {
		delete(s.keys.m, id)
	}
	s.keys.mu.Unlock()
}

// categoryCache remembers the data map's answer for product category paths
// (a shop has a few thousand; checking one splits and compares paths).
type categoryCache struct {
	mu    sync.Mutex
	dm    *datamap.Map
	paths map[string]bool
}

const maxCachedCategories = 1 << 14

func (c *categoryCache) sensitive(dm *datamap.Map, path string) bool {
	c.mu.Lock()
	if c.dm != dm { // a new data map: answers may differ
		c.dm, c.paths = dm, map[string]bool{}
	}
	v, ok := c.paths[path]
	c.mu.Unlock()
	if ok {
		return v
	}
	_, v = dm.SensitiveProductCategory(path)
	c.mu.Lock()
	if c.dm == dm && len(c.paths) < maxCachedCategories {
		c.paths[path] = v
	}
	c.mu.Unlock()
	return v
}
