package consent

import (
	"context"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/vault"
)

// KindSubject names a subject in a receipt by its subject id (through a
// ledger pseudonym) when tact records a decision it holds no identifier for:
// an unsubscribe link or a confirmation names a subject, not a browser.
const KindSubject vault.Kind = "subject"

// RecordForSubject records a decision tact itself takes for a known subject
// (method double_opt_in, soft_opt_in, unsubscribe or request): a confirmed
// address, a one-click unsubscribe. It carries the authority the method
// gives and no other; ENOTFOUND when the subject no longer exists (erased).
func (s *Service) RecordForSubject(ctx context.Context, caller Caller, subjectID string, req Request) (*Result, error) {
	if !caller.System || ClientMethod(req.Method) {
		return nil, tact.Errorf(tact.EFORBIDDEN, "only tact records decisions for a subject by its id")
	}
	pol := s.Policy()
	now := s.Now().UTC().Truncate(time.Microsecond)
	if req.NoticeVersion == "" {
		req.NoticeVersion = pol.NoticeVersion
	}
	notice, err := s.notice(ctx, req.NoticeVersion)
	if err != nil {
		return nil, err
	}
	if _, err := checkRequest(&req, notice); err != nil {
		return nil, err
	}
	res := &Result{}
	err = s.store.Write(ctx, func(tx Tx) error {
		*res = Result{}
		subj, err := tx.Subject(ctx, subjectID)
		if err != nil {
			return err
		}
		choices := map[string]bool{}
		for id, g := range req.Choices {
			if !notice.Purposes[id].Required {
				choices[id] = g
			}
		}
		refs := []SubjectRef{{Kind: string(KindSubject), Pseudonym: s.vault.Pseudonym(vault.UseLedger, KindSubject, subjectID).String()}}
		id, idx, err := s.appendReceipt(ctx, tx, pol, notice, &subj, &target{}, refs, choices, req.Method, AuthoritySystem, false, req, now)
		if err != nil {
			return err
		}
		if err := tx.SaveSubject(ctx, subj); err != nil {
			return err
		}
		res.ReceiptID, res.ReceiptIDs, res.leafIndex = id, []string{id}, idx
		res.SubjectID = subj.ID
		res.State = pol.View(subj.State, subj.Flags(), now)
		return nil
	})
	s.changed([]string{subjectID})
	if err != nil {
		return nil, err
	}
	if res.leafIndex != nil {
		res.LeafIndex = *res.leafIndex
	}
	return res, nil
}
