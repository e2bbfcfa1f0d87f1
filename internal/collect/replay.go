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
	// under at least one purpose of mask, at most limit, after the cursor:
	// in (bucket, subject, id) order, so each subject's events oldest first
	// within a bucket and buckets in the order they were written; of one
	// subject, in id order, when only is set. The purpose filter is part of
	// the store query.
	PurposeEvents(ctx context.Context, mask uint64, names []string, only string, after ReplayCursor, limit int) ([]StoredEvent, error)
}

// ReplayCursor is where a replay stopped: the last event it read.
type ReplayCursor struct {
	Bucket  int64
	Subject string
	ID      int64
}

// cursorAt is the cursor just after r.
func cursorAt(r StoredEvent) ReplayCursor {
	return ReplayCursor{Bucket: r.Bucket, Subject: r.SubjectID, ID: r.ID}
}

// replayCache keeps what a replay loaded per subject (consent, opened
// keys): events come bucket by bucket, so a subject recurs once per bucket
// it has events in. It forgets everything when full, which bounds memory.
type replayCache[V any] struct{ m map[string]V }

const replayCacheMax = 8192

func (c *replayCache[V]) get(id string) (V, bool) {
	v, ok := c.m[id]
	return v, ok
}

func (c *replayCache[V]) put(id string, v V) {
	if c.m == nil || len(c.m) >= replayCacheMax {
		c.m = make(map[string]V, 256)
	}
	c.m[id] = v
}

// replayPage is how many events one replay query reads.
const replayPage = 2000

// ReplayPersonal tells fn the signal of every stored track event named one
// of names that personalisation may use now: stored under personalization,
// of a shopper who grants it now (not restricted), and — for an event about
// a sensitive item or category — stored under and granted
// sensitive_personalization. In the store's order (bucket by bucket,
// shopper by shopper within a bucket), so each shopper's events come oldest
// first. Recommendations replay with it at start; with only set,
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
	type loaded struct {
		allowed, sensitiveOK bool
		keys                 map[vault.KeyID]vault.DataKey
	}
	var (
		after       ReplayCursor
		current     string // the subject whose keys and consent are loaded
		allowed     bool   // personalization granted now
		sensitiveOK bool   // sensitive_personalization granted now
		keys        map[vault.KeyID]vault.DataKey
		cache       replayCache[loaded]
	)
	load := func(subjectID string) error {
		if l, ok := cache.get(subjectID); ok {
			current, allowed, sensitiveOK, keys = subjectID, l.allowed, l.sensitiveOK, l.keys
			return nil
		}
		defer func() { cache.put(subjectID, loaded{allowed, sensitiveOK, keys}) }()
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
		rows, err := st.PurposeEvents(ctx, mask, names, only, after, replayPage)
		if err != nil {
			return err
		}
		for _, r := range rows {
			after = cursorAt(r)
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
