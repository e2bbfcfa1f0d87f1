package collect

import (
	"context"
	"log/slog"
	"time"

	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/vault"
)

// Suppress records that the shoppers named by ids were erased at erasedAt:
// their events are dropped until until, unless they consent again after
// erasedAt (a new receipt lifts it). Rights requests call it after an
// erasure.
func (s *Service) Suppress(ctx context.Context, ids []LinkValue, erasedAt, until time.Time) error {
	ps := make([]vault.Pseudonym, 0, len(ids))
	for _, id := range ids {
		v, err := vault.Normalize(id.Kind, id.Value)
		if err != nil {
			return err
		}
		ps = append(ps, s.vault.Pseudonym(vault.UseSuppression, id.Kind, v))
	}
	return s.SuppressIdentities(ctx, ps, erasedAt, until)
}

// SuppressIdentities is Suppress for identifiers tact knows only by their
// identity pseudonym: the erased shopper's other linked ids.
func (s *Service) SuppressIdentities(ctx context.Context, ps []vault.Pseudonym, erasedAt, until time.Time) error {
	if err := s.store.Suppress(ctx, ps, erasedAt, until); err != nil {
		return err
	}
	s.suppression.add(ps, erasedAt, until)
	return nil
}

// LinkValue is an identifier as sent (not yet normalised).
type LinkValue struct {
	Kind  vault.Kind
	Value string
}

// Stripper is the background job that strips withdrawn purposes from stored
// events and deletes events left with none (DESIGN principle 2). It follows
// the subjects whose consent changed; a full pass (at start, then daily)
// catches consent that expired without a change.
type Stripper struct {
	s         *Service
	cursor    int64
	afterID   string
	lastFull  time.Time
	Interval  time.Duration
	FullEvery time.Duration
}

// rewind is how far each pass looks back before its cursor.
const rewind = 10 * time.Second

// stripChunk is how many subjects one write transaction strips. One at a
// time, a pass under load advanced by a subject per group commit (2,500
// subjects in 14 s during a benchmark run); a chunk keeps each
// transaction's share of the writer short.
const stripChunk = 16

// stripPage is how many changed subjects a pass reads at a time.
const stripPage = 500

// NewStripper returns the job; Run it in the background.
func (s *Service) NewStripper() *Stripper {
	return &Stripper{s: s, Interval: 5 * time.Second, FullEvery: 24 * time.Hour}
}

// Run strips until ctx ends.
func (j *Stripper) Run(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(j.Interval)
	defer t.Stop()
	for {
		if _, _, err := j.Pass(ctx); err != nil && ctx.Err() == nil {
			log.Error("stripping withdrawn purposes", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass strips the events of every subject changed since the last pass (all
// subjects when a full pass is due).
func (j *Stripper) Pass(ctx context.Context) (stripped, deleted int64, err error) {
	now := j.s.Now()
	if now.Sub(j.lastFull) >= j.FullEvery {
		j.cursor, j.afterID, j.lastFull = 0, "", now
	} else if j.cursor > 0 {
		// updated_at is the writer's clock when the change was made, not
		// when it committed: go back a little so that a change committed
		// after a later-stamped one is not skipped.
		j.cursor, j.afterID = max(0, j.cursor-rewind.Microseconds()), ""
	}
	pol := j.s.consent.Policy()
	bits, err := j.s.purposeBits(ctx, pol)
	if err != nil {
		return 0, 0, err
	}
	for {
		changes, err := j.s.store.SubjectsChangedSince(ctx, j.cursor, j.afterID, stripPage)
		if err != nil {
			return stripped, deleted, err
		}
		full := len(changes) == stripPage
		for len(changes) > 0 {
			chunk := changes[:min(len(changes), stripChunk)]
			changes = changes[len(chunk):]
			var strips []Strip
			var forget []string
			for _, c := range chunk {
				if c.Subject.Flags().Restricted {
					// Restriction keeps the data as it is (Art. 18: only
					// storage continues); stripping would erase it.
					continue
				}
				var keep uint64
				for p, b := range bits {
					if pol.Allowed(c.Subject.State, c.Subject.Flags(), p, now) {
						keep |= 1 << b
					}
				}
				strips = append(strips, Strip{SubjectID: c.Subject.ID, Keep: keep})
				if b, ok := bits[datamap.PurposePersonalization]; ok && keep&(1<<b) == 0 {
					forget = append(forget, c.Subject.ID)
				}
			}
			if len(strips) > 0 {
				st, del, err := j.s.store.StripPurposes(ctx, strips)
				if err != nil {
					return stripped, deleted, err
				}
				stripped, deleted = stripped+st, deleted+del
			}
			if j.s.learner != nil {
				// A withdrawal or an objection ends the interest profile
				// and the shopper's part in recommendations.
				for _, id := range forget {
					if err := j.s.learner.Forget(ctx, id); err != nil {
						return stripped, deleted, err
					}
				}
			}
			last := chunk[len(chunk)-1]
			j.cursor, j.afterID = last.UpdatedAt, last.Subject.ID
		}
		if !full {
			return stripped, deleted, nil
		}
	}
}
