// Package interests keeps each shopper's interest profile: a compact,
// decayed score per catalogue category (half-life 30 days by default) built
// only from events stored under personalisation while it is granted —
// never their raw history. The shopper can see it, delete a category, and
// pause it (DESIGN 5.3); a withdrawal of personalisation, an objection or
// an erasure deletes it at once.
package interests

import (
	"context"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultHalfLife is how long an interest takes to lose half its weight.
const DefaultHalfLife = 30 * 24 * time.Hour

// Weights of the event kinds an interest is learnt from: a purchase says
// more than a view.
var Weights = map[string]float64{
	"Product Viewed":   1,
	"Product Clicked":  1,
	"Product Added":    3,
	"Cart Viewed":      1,
	"Checkout Started": 3,
	"Order Completed":  5,
	"Product Reviewed": 2,
}

// Interest is one category of a profile.
type Interest struct {
	Category  string    `json:"category"`
	Score     float64   `json:"score"`     // decayed to UpdatedAt
	UpdatedAt time.Time `json:"updatedAt"` // of the last signal
}

// Profile is a shopper's interests and whether they paused them.
type Profile struct {
	Paused    bool
	Interests []Interest // strongest first
	// Muted are the categories the shopper deleted: not learnt again,
	// and recommendations use no signal in them (nor under them).
	Muted []string
}

// Muted reports whether category is one of mutes or lies under one.
func Muted(category string, mutes []string) bool {
	for _, m := range mutes {
		if category == m || strings.HasPrefix(category, m+"/") {
			return true
		}
	}
	return false
}

// Store is what profiles need from storage.
type Store interface {
	// AddInterests adds decayed weights: for each (subject, category) the
	// stored score decays from its updated_at to at, then w is added.
	AddInterests(ctx context.Context, adds []Add, halfLife time.Duration) error
	Interests(ctx context.Context, subjectID string) (Profile, error)
	DeleteInterest(ctx context.Context, subjectID, category string, at time.Time) error
	DeleteProfile(ctx context.Context, subjectID string) error
	SetPaused(ctx context.Context, subjectID string, paused bool, at time.Time) error
}

// Add is one signal.
type Add struct {
	SubjectID string
	Category  string
	Weight    float64
	At        time.Time
}

// Service learns and serves profiles.
type Service struct {
	store    Store
	HalfLife time.Duration

	mu      sync.Mutex
	pending map[[2]string]Add // (subject, category) → summed, decayed to At
}

// New returns the service.
func New(store Store) *Service {
	return &Service{store: store, HalfLife: DefaultHalfLife, pending: map[[2]string]Add{}}
}

// maxPending bounds the signals waiting for a flush.
const maxPending = 100000

// Decay is the weight left of w after d.
func Decay(w float64, d, halfLife time.Duration) float64 {
	if d <= 0 {
		return w
	}
	return w * math.Exp2(-float64(d)/float64(halfLife))
}

// Observe notes that a shopper's event, stored under personalisation, names
// a category. It is called after the event is committed and never blocks
// ingest; Flush writes what was observed.
func (s *Service) Observe(subjectID, category, event string, at time.Time) {
	w, ok := Weights[event]
	category = strings.Trim(strings.TrimSpace(category), "/")
	if !ok || category == "" || subjectID == "" {
		return
	}
	k := [2]string{subjectID, category}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, had := s.pending[k]
	if !had && len(s.pending) >= maxPending {
		return
	}
	switch {
	case !had:
		// An event's strings share its request body; copies let the body go.
		subjectID, category = strings.Clone(subjectID), strings.Clone(category)
		k = [2]string{subjectID, category}
		p = Add{SubjectID: subjectID, Category: category, Weight: w, At: at}
	case at.After(p.At):
		p.Weight = Decay(p.Weight, at.Sub(p.At), s.HalfLife) + w
		p.At = at
	default:
		p.Weight += Decay(w, p.At.Sub(at), s.HalfLife)
	}
	s.pending[k] = p
}

// Forget drops what is waiting for a subject (a withdrawal or an erasure
// must not be undone by a flush).
func (s *Service) Forget(subjectIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	drop := map[string]bool{}
	for _, id := range subjectIDs {
		drop[id] = true
	}
	for k := range s.pending {
		if drop[k[0]] {
			delete(s.pending, k)
		}
	}
}

// Flush writes the observed signals.
func (s *Service) Flush(ctx context.Context) error {
	s.mu.Lock()
	adds := make([]Add, 0, len(s.pending))
	for _, a := range s.pending {
		adds = append(adds, a)
	}
	s.pending = map[[2]string]Add{}
	s.mu.Unlock()
	if len(adds) == 0 {
		return nil
	}
	sort.Slice(adds, func(i, j int) bool {
		if adds[i].SubjectID != adds[j].SubjectID {
			return adds[i].SubjectID < adds[j].SubjectID
		}
		return adds[i].Category < adds[j].Category
	})
	return s.store.AddInterests(ctx, adds, s.HalfLife)
}

// Profile returns a shopper's profile, scores decayed to now, strongest
// first.
func (s *Service) Profile(ctx context.Context, subjectID string, now time.Time) (Profile, error) {
	p, err := s.store.Interests(ctx, subjectID)
	if err != nil {
		return p, err
	}
	for i := range p.Interests {
		p.Interests[i].Score = Decay(p.Interests[i].Score, now.Sub(p.Interests[i].UpdatedAt), s.HalfLife)
	}
	sort.SliceStable(p.Interests, func(i, j int) bool { return p.Interests[i].Score > p.Interests[j].Score })
	return p, nil
}

// Delete removes one category (and those under it) from a profile and
// mutes it: it is not learnt again while the profile lasts.
func (s *Service) Delete(ctx context.Context, subjectID, category string, now time.Time) error {
	s.mu.Lock()
	for k := range s.pending {
		if k[0] == subjectID && Muted(k[1], []string{category}) {
			delete(s.pending, k)
		}
	}
	s.mu.Unlock()
	return s.store.DeleteInterest(ctx, subjectID, category, now)
}

// DeleteProfile removes a whole profile (withdrawal, objection, erasure).
func (s *Service) DeleteProfile(ctx context.Context, subjectID string) error {
	s.Forget(subjectID)
	return s.store.DeleteProfile(ctx, subjectID)
}

// Pause stops learning and using the profile until Resume.
func (s *Service) Pause(ctx context.Context, subjectID string, now time.Time) error {
	s.Forget(subjectID)
	return s.store.SetPaused(ctx, subjectID, true, now)
}

// Resume lifts a pause.
func (s *Service) Resume(ctx context.Context, subjectID string, now time.Time) error {
	return s.store.SetPaused(ctx, subjectID, false, now)
}

// Landing is the section (top-level category) to open the shop on.
type Landing struct {
	Section    string  // "" when the shop's default applies
	Confidence float64 // the section's share of the profile's weight
}

// Landing thresholds: enough signal, and a clear favourite.
const (
	minLandingWeight     = 3.0
	minLandingConfidence = 0.4
)

// ChooseLanding picks the section a profile points at, or none when the
// signal is too weak or too spread out. skip reports categories that must
// not be used (sensitive ones without the separate grant).
func ChooseLanding(p Profile, skip func(category string) bool) Landing {
	if p.Paused {
		return Landing{}
	}
	sections := map[string]float64{}
	total := 0.0
	for _, in := range p.Interests {
		if skip != nil && skip(in.Category) {
			continue
		}
		sec, _, _ := strings.Cut(in.Category, "/")
		sections[sec] += in.Score
		total += in.Score
	}
	best, bestScore := "", 0.0
	for sec, sc := range sections {
		if sc > bestScore || (sc == bestScore && sec < best) {
			best, bestScore = sec, sc
		}
	}
	if total < minLandingWeight || bestScore/total < minLandingConfidence {
		return Landing{}
	}
	return Landing{Section: best, Confidence: math.Round(bestScore/total*100) / 100}
}
