package collect

import (
	"context"
	"time"

	"github.com/tact-cdp/tact/internal/datamap"
)

// Retention deletes events older than their data categories allow,
// counted from occurredAt (DESIGN 5.1): an event is kept for the shortest
// retention among the categories its data-map rule declares, and events
// stored under a sensitive purpose for the shortest retention of the
// sensitive categories. It returns how many events it deleted.
func (s *Service) Retention(ctx context.Context, now time.Time) (int64, error) {
	dm := s.dataMap()
	pol := s.consent.Policy()
	bits, err := s.purposeBits(ctx, pol)
	if err != nil {
		return 0, err
	}
	var sensitiveMask uint64
	for _, p := range pol.Purposes() {
		if p.Sensitive {
			sensitiveMask |= 1 << bits[p.ID]
		}
	}
	sensitiveDays := 0
	for _, c := range dm.Categories {
		if c.Sensitive && c.RetentionDays > 0 && (sensitiveDays == 0 || c.RetentionDays < sensitiveDays) {
			sensitiveDays = c.RetentionDays
		}
	}
	kinds, err := s.store.EventKinds(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	del := func(typ, event string, mask uint64, days int) error {
		if days <= 0 {
			return nil
		}
		cutoff := now.AddDate(0, 0, -days)
		for {
			n, err := s.store.DeleteExpired(ctx, typ, event, mask, cutoff, 5000)
			total += n
			if err != nil || n < 5000 {
				return err
			}
		}
	}
	for _, k := range kinds {
		if err := del(k[0], k[1], 0, RetentionDays(dm, k[0], k[1])); err != nil {
			return total, err
		}
		if sensitiveMask != 0 {
			if err := del(k[0], k[1], sensitiveMask, sensitiveDays); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// RetentionDays is how long an event of a type and name is kept: the
// shortest retention among the categories its rule declares (0: no rule,
// kept until erased or withdrawn).
func RetentionDays(dm *datamap.Map, typ, event string) int {
	r, ok := dm.EventRule(typ, event)
	if !ok {
		return 0
	}
	days := 0
	for _, id := range r.Categories {
		if c, ok := dm.Category(id); ok && c.RetentionDays > 0 && (days == 0 || c.RetentionDays < days) {
			days = c.RetentionDays
		}
	}
	return days
}
