package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/collect/segment"
	"github.com/tact-cdp/tact/internal/vault"
)

// Observer is told of stored personal events after they are committed
// (audiences count them). Wants is asked first, for every stored track
// event, and must be cheap; Observe must not block.
type Observer interface {
	Wants(event string) bool
	Observe(subjectID string, o Observed)
}

// Observed is what an observer is told of one stored event.
type Observed struct {
	Event      string
	At         time.Time // occurredAt
	Purposes   []string  // the purposes it is stored under
	Properties map[string]any
}

// observe tells the observer about the stored track events it wants.
func (s *Service) observe(items []*item, stored []Row, dup []bool, bitsOf map[string]uint) {
	var names []string // purpose by bit
	for i, it := range items {
		if dup[i] || !it.row.Personal || it.ev.Type != segment.Track || !s.observer.Wants(it.ev.Event) {
			continue
		}
		if names == nil {
			names = purposeNames(bitsOf)
		}
		s.observer.Observe(stored[i].SubjectID, Observed{Event: it.ev.Event, At: it.occurred,
			Purposes: purposesIn(stored[i].Purposes, names), Properties: it.ev.Properties})
	}
}

func purposeNames(bitsOf map[string]uint) []string {
	names := make([]string, 64)
	for id, b := range bitsOf {
		if b < 64 {
			names[b] = id
		}
	}
	return names
}

func purposesIn(mask uint64, names []string) []string {
	out := make([]string, 0, bits.OnesCount64(mask))
	for m := mask; m != 0; m &= m - 1 {
		if n := names[bits.TrailingZeros64(m)]; n != "" {
			out = append(out, n)
		}
	}
	return out
}

// ReplayPurpose tells fn of every stored track event named one of names
// and stored under purpose, shopper by shopper, each shopper's events
// oldest first — with the purposes each is still stored under. Audiences
// rebuild their counts with it at start; whether the shopper may be a
// member now is the caller's question.
func (s *Service) ReplayPurpose(ctx context.Context, purpose string, names []string, fn func(subjectID string, o Observed) error) error {
	st, ok := s.store.(PurposeEventsStore)
	if !ok {
		return fmt.Errorf("collect: the store cannot replay events by purpose")
	}
	if len(names) == 0 {
		return nil
	}
	bitsOf, err := s.purposeBits(ctx, s.consent.Policy())
	if err != nil {
		return err
	}
	b, ok := bitsOf[purpose]
	if !ok {
		return nil
	}
	pnames := purposeNames(bitsOf)
	var (
		after   ReplayCursor
		current string
		keys    map[vault.KeyID]vault.DataKey
		cache   replayCache[map[vault.KeyID]vault.DataKey]
	)
	load := func(subjectID string) error {
		current = subjectID
		if k, ok := cache.get(subjectID); ok {
			keys = k
			return nil
		}
		var err error
		keys, err = s.openKeys(ctx, subjectID)
		if err == nil {
			cache.put(subjectID, keys)
		}
		return err
	}
	for {
		rows, err := st.PurposeEvents(ctx, 1<<b, names, "", after, replayPage)
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
			if !ok {
				continue // shredded
			}
			props, err := openProperties(dk, r)
			if err != nil {
				return err
			}
			if err := fn(r.SubjectID, Observed{Event: r.Event, At: r.OccurredAt, Purposes: purposesIn(r.Purposes, pnames), Properties: props}); err != nil {
				return err
			}
		}
		if len(rows) < replayPage {
			return nil
		}
	}
}

// openKeys unwraps every data key of a subject (none once erased).
func (s *Service) openKeys(ctx context.Context, subjectID string) (map[vault.KeyID]vault.DataKey, error) {
	stored, err := s.store.SubjectKeys(ctx, subjectID)
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	keys := make(map[vault.KeyID]vault.DataKey, len(stored))
	for _, k := range stored {
		dk, err := s.vault.UnwrapDataKey(ctx, k.ID, k.Wrapped)
		if err != nil {
			return nil, err
		}
		keys[k.ID] = dk
	}
	return keys, nil
}

// openProperties opens a stored event's payload and reads its properties.
func openProperties(dk vault.DataKey, r StoredEvent) (map[string]any, error) {
	body, err := dk.Open(PayloadField, r.Payload)
	if err != nil {
		return nil, fmt.Errorf("opening event %d: %w", r.ID, err)
	}
	var p struct {
		Properties map[string]any `json:"properties"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("reading event %d: %w", r.ID, err)
	}
	return p.Properties, nil
}
