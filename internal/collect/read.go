package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/vault"
)

// ReadEvent is a stored event opened for a read.
type ReadEvent struct {
	MessageID  string
	Type       string
	Event      string
	OccurredAt time.Time
	ReceivedAt time.Time
	Purposes   []string // stored purposes the read may see
	ReceiptID  string
	Payload    []byte // the opened, minimised payload (JSON)
}

// View is what a read of one shopper returns.
type View struct {
	Subject consent.Subject
	Traits  map[string]any
	Events  []ReadEvent
	Next    int64 // cursor of the next page, 0 at the end
}

// AuditPseudonym is the pseudonym the audit log names a shopper by.
func (s *Service) AuditPseudonym(kind vault.Kind, normalized string) vault.Pseudonym {
	return s.vault.Pseudonym(vault.UseAudit, kind, normalized)
}

// Read returns a shopper's events as a read for purpose may see them
// (DESIGN principle 2): with all set (access purposes: support, rights
// requests, audit, security) every stored event; otherwise only events
// stored under purpose, and only while the shopper still grants it now —
// the store query filters on the purpose bit.
func (s *Service) Read(ctx context.Context, kind vault.Kind, normalized, purpose string, all bool, after int64, limit int) (*View, error) {
	id, err := s.consent.Store().Identity(ctx, s.vault.Pseudonym(vault.UseIdentity, kind, normalized))
	if err != nil {
		if tact.ErrorCode(err) == tact.ENOTFOUND {
			return nil, tact.Errorf(tact.ENOTFOUND, "nothing is stored about this shopper")
		}
		return nil, err
	}
	return s.ReadSubject(ctx, id.SubjectID, purpose, all, after, limit)
}

// ReadSubject is Read for a subject known by its id (rights requests, which
// resolved the shopper themselves).
func (s *Service) ReadSubject(ctx context.Context, subjectID, purpose string, all bool, after int64, limit int) (*View, error) {
	subj, err := s.consent.Store().Subject(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	pol := s.consent.Policy()
	bits, err := s.purposeBits(ctx, pol)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	// granted: the bits the shopper grants now.
	var granted uint64
	for p, b := range bits {
		if pol.Allowed(subj.State, subj.Flags(), p, now) {
			granted |= 1 << b
		}
	}
	mask := AllPurposes
	if !all {
		b, ok := bits[purpose]
		if !ok || granted&(1<<b) == 0 {
			return &View{Subject: subj}, nil
		}
		mask = 1 << b
	}
	rows, err := s.store.SubjectEvents(ctx, subj.ID, mask, after, limit+1)
	if err != nil {
		return nil, err
	}
	v := &View{Subject: subj}
	if len(rows) > limit {
		rows = rows[:limit]
		v.Next = rows[limit-1].ID
	}
	keys, err := s.store.SubjectKeys(ctx, subj.ID)
	if err != nil {
		return nil, err
	}
	opened := map[vault.KeyID]vault.DataKey{}
	for _, k := range keys {
		dk, err := s.keys.get(ctx, s.vault, k)
		if err != nil {
			return nil, err
		}
		opened[k.ID] = dk
	}
	names := make(map[uint]string, len(bits))
	for p, b := range bits {
		names[b] = p
	}
	for _, r := range rows {
		dk, ok := opened[r.KeyID]
		if !ok {
			continue // its key is gone: erased
		}
		body, err := dk.Open(PayloadField, r.Payload)
		if err != nil {
			return nil, fmt.Errorf("opening event %d: %w", r.ID, err)
		}
		visible := r.Purposes
		if !all {
			visible &= granted
		}
		var ps []string
		for b := uint(0); b < 63; b++ {
			if visible&(1<<b) != 0 {
				ps = append(ps, names[b])
			}
		}
		sort.Strings(ps)
		v.Events = append(v.Events, ReadEvent{
			MessageID: r.MessageID, Type: r.Type, Event: r.Event, OccurredAt: r.OccurredAt, ReceivedAt: r.ReceivedAt,
			Purposes: ps, ReceiptID: r.ReceiptID, Payload: body,
		})
		if r.Type == "identify" {
			var p struct {
				Traits map[string]any `json:"traits"`
			}
			if json.Unmarshal(body, &p) == nil && len(p.Traits) > 0 {
				if v.Traits == nil {
					v.Traits = map[string]any{}
				}
				for k, t := range p.Traits { // later identify calls win
					v.Traits[k] = t
				}
			}
		}
	}
	return v, nil
}
