package marketing

import (
	"context"
	"slices"
	"time"

	"github.com/tact-cdp/tact/internal/datamap"
)

// Kinds of change propagated to recipients.
const (
	KindWithdrawal    = "withdrawal"
	KindOptOut        = "opt_out"
	KindErasure       = "erasure"
	KindRectification = "rectification"
	KindRestriction   = "restriction"
)

var noticeTypes = map[string]string{
	KindWithdrawal:    "subject.withdrawn",
	KindOptOut:        "subject.opted_out",
	KindErasure:       "subject.deleted",
	KindRectification: "subject.rectified",
	KindRestriction:   "subject.restricted",
}

type noticeBody struct {
	Type        string    `json:"type"`
	DeliveryID  string    `json:"deliveryId"`
	Destination string    `json:"destination"`
	Pseudonym   string    `json:"pseudonym"`
	Audiences   []string  `json:"audiences,omitempty"`
	Purpose     string    `json:"purpose"`
	SentAt      time.Time `json:"sentAt"`
}

// propagateConsent runs after a consent change: every destination holding
// the shopper whose purpose the shopper no longer allows is told to drop
// them (a withdrawal, or an opt-out for advertising), and stops holding
// them. Shoppers no destination holds cost nothing.
func (s *Service) propagateConsent(ctx context.Context, subjectID string) error {
	s.mu.Lock()
	held := s.held[subjectID]
	delete(s.states, subjectID)
	s.mu.Unlock()
	if !held {
		return nil
	}
	if _, exists, err := s.state(ctx, subjectID); err != nil || !exists {
		return err // an erased shopper's recipients are told by the erasure
	}
	holdings, err := s.Store.SubjectHoldings(ctx, subjectID)
	if err != nil {
		return err
	}
	byDest := map[string][]Holding{}
	for _, h := range holdings {
		byDest[h.DestinationID] = append(byDest[h.DestinationID], h)
	}
	var w SyncWrite
	now := s.now()
	for destID, hs := range byDest {
		d, err := s.Store.Destination(ctx, destID)
		if err != nil {
			return err
		}
		if s.allows(ctx, subjectID, d.Purpose) {
			continue
		}
		kind := KindWithdrawal
		if d.Purpose == datamap.PurposeAdvertising {
			kind = KindOptOut
		}
		var auds []string
		for _, h := range hs {
			auds = append(auds, h.AudienceID)
		}
		slices.Sort(auds)
		if err := s.notice(&w, d, subjectID, hs[0].Pseudonym, kind, auds, now); err != nil {
			return err
		}
		w.Remove = append(w.Remove, hs...)
	}
	if len(w.Deliveries) == 0 {
		return nil
	}
	if err := s.Store.CommitSync(ctx, w); err != nil {
		return err
	}
	s.Sender.Kick()
	return nil
}

// notice adds one change notice for one destination to w.
func (s *Service) notice(w *SyncWrite, d Destination, subjectID, pseudonym, kind string, auds []string, now time.Time) error {
	id := newID("dlv_")
	dl, err := s.delivery(id, d.ID, noticeTypes[kind], noticeBody{Type: noticeTypes[kind], DeliveryID: id, Destination: d.ID,
		Pseudonym: pseudonym, Audiences: auds, Purpose: d.Purpose, SentAt: now}, now)
	if err != nil {
		return err
	}
	w.Deliveries = append(w.Deliveries, dl)
	w.Propagations = append(w.Propagations, Propagation{ID: newID("prp_"), Subject: s.DisclosureSubject(subjectID), DestinationID: d.ID,
		Recipient: d.Recipient, Kind: kind, DeliveryID: id, CreatedAt: now, DueAt: now.Add(s.PropagationDue), Status: "pending"})
	return nil
}

// Propagate tells every recipient that received the shopper's data of an
// erasure, rectification or restriction (rights requests call it; an
// erasure calls it before the shopper's keys are shredded). Webhook
// destinations get a signed notice naming the shopper by the pseudonym
// they know; file destinations get a propagation record the operator
// works through (`tact destinations list`). Idempotent per ref: a step
// that runs again after a crash queues nothing twice.
func (s *Service) Propagate(ctx context.Context, subjectID, kind, ref string) error {
	subject := s.DisclosureSubject(subjectID)
	log, err := s.Store.Disclosures(ctx, subject)
	if err != nil {
		return err
	}
	done, err := s.Store.PropagationRefs(ctx, subject, kind, ref)
	if err != nil {
		return err
	}
	var w SyncWrite
	now := s.now()
	seen := map[string]bool{}
	for _, e := range log {
		if seen[e.DestinationID] || done[e.DestinationID] {
			continue
		}
		seen[e.DestinationID] = true
		d, err := s.Store.Destination(ctx, e.DestinationID)
		if err != nil {
			return err
		}
		before := len(w.Propagations)
		if d.Kind == "webhook" {
			if err := s.notice(&w, d, subjectID, s.destinationPseudonym(d.ID, subjectID), kind, nil, now); err != nil {
				return err
			}
		} else {
			w.Propagations = append(w.Propagations, Propagation{ID: newID("prp_"), Subject: subject, DestinationID: d.ID,
				Recipient: d.Recipient, Kind: kind, CreatedAt: now, DueAt: now.Add(s.PropagationDue), Status: "pending"})
		}
		for i := before; i < len(w.Propagations); i++ {
			w.Propagations[i].Ref = ref
		}
	}
	if kind == KindErasure {
		holdings, err := s.Store.SubjectHoldings(ctx, subjectID)
		if err != nil {
			return err
		}
		w.Remove = append(w.Remove, holdings...)
		s.Engine.Forget(subjectID)
		s.mu.Lock()
		delete(s.held, subjectID)
		s.mu.Unlock()
	}
	if len(w.Propagations) == 0 && len(w.Remove) == 0 {
		return nil
	}
	if err := s.Store.CommitSync(ctx, w); err != nil {
		return err
	}
	s.Sender.Kick()
	return nil
}

// Disclosures lists what was disclosed of a subject, for access reports.
func (s *Service) Disclosures(ctx context.Context, subjectID string) ([]Disclosure, error) {
	return s.Store.Disclosures(ctx, s.DisclosureSubject(subjectID))
}
