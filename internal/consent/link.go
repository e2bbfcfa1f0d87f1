package consent

import (
	"context"
	"time"

	"github.com/tact-cdp/tact"

	"github.com/tact-cdp/tact/internal/vault"
)

// LinkID is one identifier to link, already normalised.
type LinkID struct {
	Kind  vault.Kind
	Value string
}

// Link joins identifiers into one subject inside tx, as a trusted identify or
// alias call asks (DESIGN principle 3: the caller must be the shop — a server
// key or a valid userHash; the caller checks that). Identifiers are given
// most durable first (userId, email, anonymousId): the first known one's
// subject survives, unknown identifiers are added to it, and other subjects
// are merged in with the stricter consent state winning — except another
// registered user's subject, from which only the identifier moves, so two
// people are never merged. When none of the identifiers is known nothing is
// created (there is no consent to link under) and Link returns "", nil.
// merged lists the subjects folded into the survivor; touched, every subject
// the link may have changed (for cache invalidation once committed).
func (s *Service) Link(ctx context.Context, tx Tx, ids []LinkID, now time.Time) (subjectID string, merged, touched []string, err error) {
	var idents []*identifier
	known := false
	for _, l := range ids {
		id := &identifier{kind: l.Kind, p: s.vault.Pseudonym(vault.UseIdentity, l.Kind, l.Value), ledgerP: s.vault.Pseudonym(vault.UseLedger, l.Kind, l.Value)}
		got, ok, err := tx.Identity(ctx, id.p)
		if err != nil {
			return "", nil, nil, err
		}
		if ok {
			id.existing, known = &got, true
		}
		idents = append(idents, id)
	}
	if !known {
		return "", nil, nil, nil
	}
	before := map[string]bool{}
	for _, id := range idents {
		if id.existing != nil {
			before[id.existing.SubjectID] = true
		}
	}
	t, err := s.joinSubjects(ctx, tx, idents, nil, now)
	if err != nil {
		return "", nil, nil, err
	}
	if err := tx.SaveSubject(ctx, t.subject); err != nil {
		return "", nil, nil, err
	}
	touched = append(touched, t.subject.ID)
	for id := range before {
		if id == t.subject.ID {
			continue
		}
		touched = append(touched, id)
		// joinSubjects merged it, unless only an identifier moved away
		// from another registered user.
		switch _, err := tx.Subject(ctx, id); {
		case tact.ErrorCode(err) == tact.ENOTFOUND:
			merged = append(merged, id)
		case err != nil:
			return "", nil, nil, err
		}
	}
	return t.subject.ID, merged, touched, nil
}

// Ensure makes sure the shopper named by id exists, creating a subject (with
// its data key and this one identity) when nobody has seen the identifier:
// under an opt-out regime data of a new shopper may be stored for the
// purposes that start granted (DESIGN principle 1), and stored data needs a
// subject to be sealed for. A known identifier is left as it is.
func (s *Service) Ensure(ctx context.Context, id LinkID, now time.Time) error {
	keyID, _, wrapped, err := s.vault.NewDataKey(ctx)
	if err != nil {
		return err
	}
	p := s.vault.Pseudonym(vault.UseIdentity, id.Kind, id.Value)
	err = s.store.Write(ctx, func(tx Tx) error {
		if _, known, err := tx.Identity(ctx, p); err != nil || known {
			return err
		}
		subj := Subject{ID: NewSubjectID(), CreatedAt: now, State: State{}}
		gen := uint32(0)
		return tx.CreateSubject(ctx, subj, StoredKey{ID: keyID, Wrapped: wrapped},
			Identity{Pseudonym: p, Kind: id.Kind, SubjectID: subj.ID, TokenGen: gen, CreatedAt: now})
	})
	s.Changed() // a new identity: cached "unknown" answers are stale
	return err
}

// GrantsByDefault reports whether any of purposes is allowed for a shopper
// of whom nothing is recorded (only in opt-out regimes).
func (p *Policy) GrantsByDefault(purposes []string, now time.Time) bool {
	for _, id := range purposes {
		if p.Allowed(State{}, Flags{}, id, now) {
			return true
		}
	}
	return false
}
