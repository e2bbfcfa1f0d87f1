// Package marketing turns consented first-party data into audiences and
// delivers them to the shop's tools without exporting more than a
// destination needs: versioned audience definitions evaluated incrementally
// (package audience), a minimum size and a guard against near-duplicate
// exports that would single people out, destinations that name their
// recipient, purpose and fields, signed webhooks from a persisted queue
// (package destination), a disclosure log of every delivery, and the
// propagation of withdrawals, erasures, rectifications and restrictions to
// every recipient that received a shopper's data (GDPR Art. 19, CCPA).
package marketing

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/audience"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/destination"
	"github.com/tact-cdp/tact/internal/optin"
	"github.com/tact-cdp/tact/internal/vault"
)

// Defaults.
const (
	DefaultMinSize = 100
	// DefaultPropagationDue is how long a recipient has to be told of a
	// change before it is overdue: the shorter of CCPA's 15 business days
	// for opt-outs and GDPR's month.
	DefaultPropagationDue = 15 * 24 * time.Hour
	// membersPerDelivery bounds one webhook request.
	membersPerDelivery = 1000
	consentTTL         = 30 * time.Second
)

// Replayer replays stored events by purpose (collect.Service).
type Replayer interface {
	ReplayPurpose(ctx context.Context, purpose string, names []string, fn func(subjectID string, o collect.Observed) error) error
}

// InterestSource lists every stored interest score (for audiences with
// interest conditions).
type InterestSource interface {
	EachInterest(ctx context.Context, fn func(subjectID, category string, score float64, updated time.Time) error) error
}

// Service runs audiences and destinations.
type Service struct {
	Store     Store
	Consent   *consent.Service
	Vault     *vault.Vault
	OptIn     *optin.Service
	DataMap   func() *datamap.Map
	Replay    Replayer
	Interests InterestSource
	// SensitiveCategory reports whether a product category is sensitive
	// (catalogue flags and data map rules).
	SensitiveCategory func(category string) bool
	Engine            *audience.Engine
	Sender            *destination.Sender
	MinSize           int
	PropagationDue    time.Duration
	Now               func() time.Time
	Logf              func(format string, args ...any)

	deliveryKey []byte
	fpKey       []byte

	mu     sync.Mutex
	states map[string]cachedState // subject → consent state, for eligibility
	held   map[string]bool        // subjects some destination holds
	work   chan []string          // consent changes waiting for propagation
	needs  atomic.Pointer[map[string]bool]
}

type cachedState struct {
	subj consent.Subject
	ok   bool // exists
	at   time.Time
}

// New returns the service; Start loads it.
func New(st Store, cs *consent.Service, v *vault.Vault, oi *optin.Service, dm func() *datamap.Map) *Service {
	s := &Service{
		Store: st, Consent: cs, Vault: v, OptIn: oi, DataMap: dm,
		MinSize: DefaultMinSize, PropagationDue: DefaultPropagationDue, Now: time.Now,
		deliveryKey: v.DeriveKey("marketing/deliveries", 32),
		fpKey:       v.DeriveKey("marketing/export-fingerprint", 32),
		states:      map[string]cachedState{},
		held:        map[string]bool{},
		work:        make(chan []string, 4096),
	}
	s.Engine = audience.NewEngine(audience.Options{Eligible: s.eligible, Now: func() time.Time { return s.Now() }})
	s.Sender = &destination.Sender{Queue: queue{s}, Now: func() time.Time { return s.Now() }}
	cs.OnChange(s.consentChanged)
	return s
}

func (s *Service) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

func newID(prefix string) string {
	b := make([]byte, 15)
	rand.Read(b)
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// state returns a subject's consent state, cached for a short while and
// dropped when a decision touches the subject.
func (s *Service) state(ctx context.Context, subjectID string) (consent.Subject, bool, error) {
	now := s.Now()
	s.mu.Lock()
	c, ok := s.states[subjectID]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < consentTTL {
		return c.subj, c.ok, nil
	}
	subj, err := s.Consent.Store().Subject(ctx, subjectID)
	exists := err == nil
	if err != nil && tact.ErrorCode(err) != tact.ENOTFOUND {
		return subj, false, err
	}
	s.mu.Lock()
	if len(s.states) > 1<<20 {
		clear(s.states)
	}
	s.states[subjectID] = cachedState{subj: subj, ok: exists, at: now}
	s.mu.Unlock()
	return subj, exists, nil
}

// allows reports whether the subject may receive or be targeted for purpose
// now: granted (not pending), not restricted, not a known minor.
func (s *Service) allows(ctx context.Context, subjectID, purpose string) bool {
	subj, ok, err := s.state(ctx, subjectID)
	if err != nil || !ok || subj.Minor {
		return false
	}
	return s.Consent.Policy().Allowed(subj.State, subj.Flags(), purpose, s.Now())
}

func (s *Service) eligible(subjectID, purpose string) bool {
	return s.allows(context.Background(), subjectID, purpose)
}

// consentChanged runs before a decision is answered: drop the cached state
// and queue the subjects for re-evaluation and propagation.
func (s *Service) consentChanged(subjectIDs []string) {
	s.mu.Lock()
	for _, id := range subjectIDs {
		delete(s.states, id)
	}
	s.mu.Unlock()
	select {
	case s.work <- subjectIDs:
	default:
		s.logf("marketing: consent change queue full; %d subjects are re-evaluated at the next sync", len(subjectIDs))
	}
}

// Start loads the audiences and replays their events, then runs the
// consent-change worker, the hourly window expiry and the webhook sender
// until ctx ends.
func (s *Service) Start(ctx context.Context) error {
	if err := s.Load(ctx); err != nil {
		return err
	}
	go s.worker(ctx)
	go s.Sender.Run(ctx, 10*time.Second)
	return nil
}

// Load reads the audiences and destinations' holdings and replays events.
func (s *Service) Load(ctx context.Context) error {
	held, err := s.Store.HeldSubjects(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	for _, id := range held {
		s.held[id] = true
	}
	s.mu.Unlock()
	auds, err := s.Store.Audiences(ctx)
	if err != nil {
		return err
	}
	for _, a := range auds {
		d, err := audience.Parse(a.Definition, s.env())
		if err != nil {
			s.logf("audience %s v%d no longer validates against the data map: %v", a.ID, a.Version, err)
			continue
		}
		d.Version = a.Version
		if err := s.define(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) worker(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ids := <-s.work:
			for _, id := range ids {
				if id == "" {
					continue
				}
				s.Engine.Reevaluate(id)
				if err := s.propagateConsent(ctx, id); err != nil {
					s.logf("propagating a consent change: %v", err)
				}
			}
		case <-tick.C:
			s.Engine.Advance(s.Now())
		}
	}
}

// Drain handles the consent changes queued so far (tests, shutdown).
func (s *Service) Drain(ctx context.Context) error {
	for {
		select {
		case ids := <-s.work:
			for _, id := range ids {
				if id == "" {
					continue
				}
				s.Engine.Reevaluate(id)
				if err := s.propagateConsent(ctx, id); err != nil {
					return err
				}
			}
		default:
			return nil
		}
	}
}

// Wants implements collect.Observer.
func (s *Service) Wants(event string) bool { return s.wants(event) }

func (s *Service) wants(event string) bool {
	m := s.needs.Load()
	return m != nil && (*m)[event]
}

// refreshNeeds caches the event names audiences use: Wants is asked for
// every stored event.
func (s *Service) refreshNeeds() {
	m := map[string]bool{}
	for _, n := range s.Engine.NeedsEvents() {
		m[n] = true
	}
	s.needs.Store(&m)
}

// Observe implements collect.Observer.
func (s *Service) Observe(subjectID string, o collect.Observed) {
	s.Engine.Observe(audience.Observation{SubjectID: subjectID, Name: o.Event, At: o.At, Purposes: o.Purposes, Properties: o.Properties})
}

// DisclosureSubject is the pseudonym the disclosure log names a subject by.
func (s *Service) DisclosureSubject(subjectID string) string {
	return s.Vault.Pseudonym("disclosure", consent.KindSubject, subjectID).String()
}

// destinationPseudonym is what a destination knows a shopper as: keyed per
// destination, so two destinations cannot join their lists by it.
func (s *Service) destinationPseudonym(destinationID, subjectID string) string {
	return s.Vault.Pseudonym("destination", vault.Kind("destination:"+destinationID), subjectID).String()
}
