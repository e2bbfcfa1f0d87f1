package marketing

import (
	"context"
	"slices"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/audience"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/interests"
)

// env is what audience validation knows of the data map and catalogue.
func (s *Service) env() audience.Env {
	m := s.DataMap()
	return audience.Env{
		EventServes: func(event, purpose string) bool {
			return slices.Contains(m.EventPurposes("track", event), purpose)
		},
		SensitiveEvent: func(event string) bool {
			for _, c := range eventCategories(m, event) {
				if cat, ok := m.Category(c); ok && cat.Sensitive {
					return true
				}
			}
			return false
		},
		SensitiveCategory: func(category string) bool {
			if s.SensitiveCategory != nil && s.SensitiveCategory(category) {
				return true
			}
			for _, c := range m.Categories {
				if c.Sensitive && c.MatchesProduct(category) {
					return true
				}
			}
			return false
		},
		PurposeCategories: func(purpose string) []string {
			p, _ := m.Purpose(purpose)
			return p.Categories
		},
	}
}

// AudienceInfo is an audience as the API and CLI show it.
type AudienceInfo struct {
	audience.Definition
	Size      int       `json:"size"`
	CreatedAt time.Time `json:"createdAt"`
	CreatedBy string    `json:"createdBy"`
}

// Create validates a definition and saves it as the audience's next
// version (unchanged definitions keep their version), then starts
// evaluating it from the stored events.
func (s *Service) Create(ctx context.Context, data []byte, by string) (AudienceInfo, bool, error) {
	d, err := audience.Parse(data, s.env())
	if err != nil {
		return AudienceInfo{}, false, tact.Errorf(tact.EINVALID, "%v", err)
	}
	now := s.now()
	version, created, err := s.Store.SaveAudience(ctx, d.ID, d.Canonical(), by, now)
	if err != nil {
		return AudienceInfo{}, false, err
	}
	d.Version = version
	if created || !s.defined(d.ID, version) {
		if err := s.define(ctx, d); err != nil {
			return AudienceInfo{}, false, err
		}
	}
	info, err := s.Audience(ctx, d.ID)
	return info, created, err
}

func (s *Service) defined(id string, version int) bool {
	for _, d := range s.Engine.Definitions() {
		if d.ID == id {
			return d.Version == version
		}
	}
	return false
}

// define starts evaluating d: its counts are rebuilt from the events stored
// under its purpose.
func (s *Service) define(ctx context.Context, d audience.Definition) error {
	s.Engine.Define(d)
	s.refreshNeeds()
	names := eventNames(d.Where)
	if s.Replay != nil && len(names) > 0 {
		err := s.Replay.ReplayPurpose(ctx, d.Purpose, names, func(subjectID string, o collect.Observed) error {
			s.Engine.Observe(audience.Observation{SubjectID: subjectID, Name: o.Event, At: o.At, Purposes: o.Purposes, Properties: o.Properties})
			return nil
		})
		if err != nil {
			return err
		}
	}
	if usesInterests(d.Where) {
		return s.refreshInterests(ctx)
	}
	return nil
}

func eventNames(c audience.Condition) []string {
	var out []string
	var walk func(c audience.Condition)
	walk = func(c audience.Condition) {
		if c.Event != nil && !slices.Contains(out, c.Event.Name) {
			out = append(out, c.Event.Name)
		}
		for _, x := range c.All {
			walk(x)
		}
		for _, x := range c.Any {
			walk(x)
		}
		if c.Not != nil {
			walk(*c.Not)
		}
	}
	walk(c)
	return out
}

func usesInterests(c audience.Condition) bool {
	if c.Interest != nil {
		return true
	}
	for _, x := range append(slices.Clone(c.All), c.Any...) {
		if usesInterests(x) {
			return true
		}
	}
	return c.Not != nil && usesInterests(*c.Not)
}

// refreshInterests tells the engine every shopper's current (decayed)
// interest scores.
func (s *Service) refreshInterests(ctx context.Context) error {
	if s.Interests == nil {
		return nil
	}
	now := s.Now()
	scores := map[string]map[string]float64{}
	err := s.Interests.EachInterest(ctx, func(subjectID, category string, score float64, updated time.Time) error {
		m := scores[subjectID]
		if m == nil {
			m = map[string]float64{}
			scores[subjectID] = m
		}
		m[category] = decay(score, now.Sub(updated))
		return nil
	})
	if err != nil {
		return err
	}
	for id, m := range scores {
		s.Engine.SetInterests(id, m)
	}
	return nil
}

// Audience returns one audience with its current size.
func (s *Service) Audience(ctx context.Context, id string) (AudienceInfo, error) {
	all, err := s.Audiences(ctx)
	if err != nil {
		return AudienceInfo{}, err
	}
	for _, a := range all {
		if a.ID == id {
			return a, nil
		}
	}
	return AudienceInfo{}, tact.Errorf(tact.ENOTFOUND, "no audience %q", id)
}

// Audiences lists the audiences (latest versions) with their sizes.
func (s *Service) Audiences(ctx context.Context) ([]AudienceInfo, error) {
	stored, err := s.Store.Audiences(ctx)
	if err != nil {
		return nil, err
	}
	var out []AudienceInfo
	for _, a := range stored {
		d, err := audience.Parse(a.Definition, s.env())
		if err != nil {
			continue
		}
		d.Version = a.Version
		if !s.defined(d.ID, d.Version) {
			if err := s.define(ctx, d); err != nil {
				return nil, err
			}
		}
		out = append(out, AudienceInfo{Definition: d, Size: s.Engine.Size(d.ID), CreatedAt: a.CreatedAt, CreatedBy: a.CreatedBy})
	}
	return out, nil
}

// Memberships lists the audiences a subject belongs to now (access reports).
func (s *Service) Memberships(subjectID string) []string {
	var out []string
	for _, d := range s.Engine.Definitions() {
		if s.Engine.IsMember(d.ID, subjectID) {
			out = append(out, d.ID)
		}
	}
	return out
}

// purposeUsesCategory: the data categories an audience's membership
// reveals (for the disclosure log).
func (s *Service) audienceCategories(d audience.Definition) []string {
	m := s.DataMap()
	p, _ := m.Purpose(d.Purpose)
	var out []string
	add := func(c string) {
		if slices.Contains(p.Categories, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, e := range eventNames(d.Where) {
		for _, c := range eventCategories(m, e) {
			if cat, ok := m.Category(c); ok && cat.Behavioral {
				add(c)
			}
		}
	}
	if usesInterests(d.Where) {
		add("profile.interests")
	}
	return out
}

func eventCategories(m *datamap.Map, event string) []string {
	r, _ := m.EventRule("track", event)
	return r.Categories
}

func decay(score float64, age time.Duration) float64 {
	return interests.Decay(score, age, interests.DefaultHalfLife)
}
