package collect

import (
	"context"
	"fmt"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/collect/segment"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/vault"
)

// PurposeEventsStore is the store query a replay reads with.
type PurposeEventsStore interface {
	// PurposeEvents returns track events named one of names and stored
	// under at least one purpose of mask, in (subject, id) order after
	// (afterSubject, afterID) — of one subject when only is set — at most
	// limit: the purpose filter is part of the store query.
	PurposeEvents(ctx context.Context, mask uint64, names []string, only, afterSubject string, afterID int64, limit int) ([]StoredEvent, error)
}

// replayPage is how many events one replay query reads.
const replayPage = 2000

// ReplayPersonal tells fn the signal of every stored track event named one
// of names that personalisation may use now: stored under personalization,
// of a shopper who grants it now (not restricted), and — for an event about
// a sensitive item or category — stored under and granted
// sensitive_personalization. Shopper by shopper, each shopper's events
// oldest first. Recommendations replay with it at start; with only set,
// one shopper's events (when they resume their profile).
func (s *Service) ReplayPersonal(ctx context.Context, names []string, only string, fn func(subjectID string, sig Signal) error) error {
	st, ok := s.store.(PurposeEventsStore)
	if !ok {
		return fmt.Errorf("collect: the store cannot replay events by purpose")
	}
	pol := s.consent.Policy()
	bits, err := s.purposeBits(ctx, pol)
	if err != nil {
		return err
	}
	pb, ok := bits[datamap.PurposePersonalization]
	if !ok {
		return nil
	}
	sb, hasSensitive := bits[datamap.PurposeSensitivePersonalization]
	mask := uint64(1) << pb
	if hasSensitive {
		mask |= 1 << sb
	}
	dm := s.dataMap()
	var (
		afterSubject string
		afterID      int64
		current      string // the subject whose keys and consent are loaded
		allowed      bool   // personalization granted now
		sensitiveOK  bool   // sensitive_personalization granted now
		keys         map[vault.KeyID]vault.DataKey
	)
	load := func(subjectID string) error {
		current, allowed, sensitiveOK, keys = subjectID, false, false, nil
		subj, err := s.consent.Store().Subject(ctx, subjectID)
		if tact.ErrorCode(err) == tact.ENOTFOUND {
			return nil // erased meanwhile
		}
		if err != nil {
			return err
		}
		now := s.Now()
		allowed = pol.Allowed(subj.State, subj.Flags(), datamap.PurposePersonalization, now)
		sensitiveOK = hasSensitive && pol.Allowed(subj.State, subj.Flags(), datamap.PurposeSensitivePersonalization, now)
		if !allowed {
			return nil
		}
		keys, err = s.openKeys(ctx, subjectID)
		if err != nil {
			return err
		}
		return nil
	}
	for {
		rows, err := st.PurposeEvents(ctx, mask, names, only, afterSubject, afterID, replayPage)
		if err != nil {
			return err
		}
		for _, r := range rows {
			afterSubject, afterID = r.SubjectID, r.ID
			if r.SubjectID != current {
				if err := load(r.SubjectID); err != nil {
					return err
				}
			}
			dk, ok := keys[r.KeyID]
			if !allowed || !ok {
				continue
			}
			props, err := openProperties(dk, r)
			if err != nil {
				return err
			}
			ev := &segment.Event{Type: segment.Track, Event: r.Event, Properties: props}
			sig := Signal{Event: r.Event, Items: productsOf(ev), Sensitive: s.sensitive(dm, ev), At: r.OccurredAt}
			// As when it was learnt live: an event about a sensitive item
			// counts under sensitive_personalization, any other under
			// personalization.
			if sig.Sensitive && (!sensitiveOK || r.Purposes&(1<<sb) == 0) || !sig.Sensitive && r.Purposes&(1<<pb) == 0 {
				continue
			}
			if len(sig.Items) == 0 {
				continue
			}
			if err := fn(r.SubjectID, sig); err != nil {
				return err
			}
		}
		if len(rows) < replayPage {
			return nil
		}
	}
}
