package rights

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/vault"
)

// Sender delivers a mail (SMTP); without one, mail stays in the outbox.
type Sender interface {
	Send(ctx context.Context, l Letter) error
}

// lease is how long a node may work on a request without saving a step
// before another may take it over (a crashed node's requests resume after
// it; a single-node store releases every lease at start, see
// ReleaseLeases).
const lease = 30 * time.Second

// purgeChunk is how many events one purge transaction deletes, so that
// ingest keeps getting the writer.
const purgeChunk = 2000

// Run does the request jobs every interval until ctx ends.
func (s *Service) Run(ctx context.Context, log *slog.Logger, sender Sender, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Pass(ctx, sender); err != nil && ctx.Err() == nil {
			log.Error("rights requests", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass expires unverified requests, works on verified ones and delivers
// due mail.
func (s *Service) Pass(ctx context.Context, sender Sender) error {
	now := s.Now().UTC()
	expired, err := s.Store.Expirable(ctx, now, 100)
	if err != nil {
		return err
	}
	for _, r := range expired {
		err := s.Store.WriteRequests(ctx, func(tx Tx) error {
			cur, err := tx.Request(ctx, r.ID)
			if err != nil || (cur.Status != StatusPendingVerification && cur.Status != StatusPaused) {
				return err
			}
			cur.Status = StatusExpired
			return tx.PutRequest(ctx, cur, "not verified in time")
		})
		if err != nil {
			return err
		}
	}
	for {
		work, err := s.Store.Workable(ctx, s.Now().UTC(), 50)
		if err != nil {
			return err
		}
		for _, r := range work {
			if err := s.Work(ctx, r.ID); err != nil {
				return fmt.Errorf("request %s: %w", r.ID, err)
			}
		}
		if len(work) < 50 || ctx.Err() != nil {
			break
		}
	}
	return s.Deliver(ctx, sender)
}

// Work runs a verified request to its end, step by step; each step is
// persisted, so after a crash the next Work resumes where it stopped and no
// step runs twice.
func (s *Service) Work(ctx context.Context, id string) error {
	now := s.Now().UTC()
	ok, err := s.Store.Claim(ctx, id, now, now.Add(lease))
	if err != nil || !ok {
		return err
	}
	defer s.release(id)
	for {
		r, err := s.Store.Request(ctx, id)
		if err != nil {
			return err
		}
		if r.Status != StatusVerified && r.Status != StatusInProgress {
			return nil
		}
		if err := s.step(ctx, &r); err != nil {
			return err
		}
	}
}

func (s *Service) release(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Store.WriteRequests(ctx, func(tx Tx) error {
		r, err := tx.Request(ctx, id)
		if err != nil {
			return err
		}
		if !r.Status.Open() || r.LeaseUntil.IsZero() {
			return nil
		}
		r.LeaseUntil = time.Time{}
		return tx.PutRequest(ctx, r, "lease released")
	})
}

// save persists a step's result and renews the lease on the request.
func (s *Service) save(ctx context.Context, r Request, note string, letter string, args ...any) error {
	now := s.Now().UTC()
	if r.Status.Open() {
		r.LeaseUntil = now.Add(lease)
	}
	return s.Store.WriteRequests(ctx, func(tx Tx) error {
		if err := tx.PutRequest(ctx, r, note); err != nil {
			return err
		}
		if letter == "" {
			return nil
		}
		return s.queueLetter(ctx, tx, r, letter, now, args...)
	})
}

// outcome is a request's completion record.
type outcome struct {
	SubjectFound    bool      `json:"subjectFound"`
	BrowserOnly     bool      `json:"browserOnly,omitempty"` // a subject token reached only its own browser's profile
	ShreddedAt      time.Time `json:"shreddedAt,omitzero"`
	EventsPurged    int64     `json:"eventsPurged,omitempty"`
	PurgedAt        time.Time `json:"purgedAt,omitzero"`
	SuppressedUntil time.Time `json:"suppressedUntil,omitzero"`
	EventsCorrected int       `json:"eventsCorrected,omitempty"`
	RestrictedAt    time.Time `json:"restrictedAt,omitzero"`
	ReceiptIDs      []string  `json:"receiptIds,omitempty"`
}

func readOutcome(r Request) outcome {
	var o outcome
	if len(r.Outcome) > 0 {
		_ = json.Unmarshal(r.Outcome, &o)
	}
	return o
}

func (o outcome) raw() json.RawMessage {
	b, _ := json.Marshal(o)
	return b
}

// resolve finds the subject a request is about: "" when tact holds nothing.
// browserOnly is set when a subject token reached a profile linked to
// other identifiers, which the token must not reach.
func (s *Service) resolve(ctx context.Context, r Request) (subjectID string, browserOnly bool, err error) {
	id, err := s.Consent.Store().Identity(ctx, r.Target)
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if r.Scope == ScopeBrowser {
		ids, err := s.Data.SubjectIdentities(ctx, id.SubjectID)
		if err != nil {
			return "", false, err
		}
		for _, other := range ids {
			if other.Kind != vault.KindAnonymousID {
				return id.SubjectID, true, nil
			}
		}
	}
	return id.SubjectID, false, nil
}

func (s *Service) step(ctx context.Context, r *Request) error {
	now := s.Now().UTC().Truncate(time.Microsecond)
	if r.Status == StatusVerified {
		subjectID, browserOnly, err := s.resolve(ctx, *r)
		if err != nil {
			return err
		}
		o := outcome{SubjectFound: subjectID != "", BrowserOnly: browserOnly}
		r.Status, r.SubjectID, r.Outcome, r.Step = StatusInProgress, subjectID, o.raw(), 0
		return s.save(ctx, *r, "work started", "")
	}
	switch r.Type {
	case TypeAccess, TypePortability, TypeExplain:
		return s.completeReport(ctx, r, now)
	case TypeErasure:
		return s.eraseStep(ctx, r, now)
	case TypeRectify:
		return s.rectify(ctx, r, now)
	case TypeRestrict:
		return s.restrict(ctx, r, now)
	default:
		// Immediate requests complete when filed; nothing to do.
		r.Status, r.CompletedAt = StatusCompleted, now
		return s.save(ctx, *r, "completed", "")
	}
}

func (s *Service) completeReport(ctx context.Context, r *Request, now time.Time) error {
	link, hash := newSecret()
	r.LinkHash, r.ReportUntil = hash, now.Add(ReportTTL)
	r.Status, r.CompletedAt = StatusCompleted, now
	return s.save(ctx, *r, "report ready", "report",
		s.url("/v1/requests/"+r.ID+"/open?link="+link), r.ReportUntil.Format("2006-01-02 15:04 MST"))
}

func (s *Service) done(ctx context.Context, r *Request, o outcome, now time.Time, note string) error {
	r.Outcome, r.Status, r.CompletedAt = o.raw(), StatusCompleted, now
	text := doneTexts[r.Type].Get(r.Locale)
	if !o.SubjectFound {
		text = nothingHeld.Get(r.Locale)
	}
	return s.save(ctx, *r, note, "done", text)
}

// Erasure steps, each persisted before the next starts.
const (
	eraseJournal  = 0 // write the journal entry (outside the database)
	eraseShred    = 1 // destroy the data keys, identities and state
	erasePurge    = 2 // delete the events and mail left behind
	eraseSuppress = 3 // suppress the identifiers for a while
	eraseCompact  = 4 // make the deleted rows unrecoverable
)

func (s *Service) eraseStep(ctx context.Context, r *Request, now time.Time) error {
	o := readOutcome(*r)
	if !o.SubjectFound {
		// Erasure of a shopper tact does not hold completes cleanly.
		return s.done(ctx, r, o, now, "nothing held")
	}
	if o.BrowserOnly {
		// The token proves only its own browser: detach it from the
		// profile it was linked to and keep it out; the linked data
		// needs a verified request.
		if err := s.Data.DetachIdentity(ctx, r.Target); err != nil {
			return err
		}
		s.Consent.Changed(r.SubjectID)
		until := now.Add(s.SuppressFor)
		if err := s.Collect.SuppressIdentities(ctx, []vault.Pseudonym{r.Target}, now, until); err != nil {
			return err
		}
		o.SuppressedUntil = until
		return s.done(ctx, r, o, now, "browser detached")
	}
	switch r.Step {
	case eraseJournal:
		ids, err := s.Data.SubjectIdentities(ctx, r.SubjectID)
		if err != nil {
			return err
		}
		e := JournalEntry{At: now, RequestID: r.ID, SubjectID: r.SubjectID, Until: now.Add(s.SuppressFor)}
		for _, id := range ids {
			e.Identities = append(e.Identities, id.Pseudonym)
		}
		if err := s.Journal.Append(e); err != nil {
			return err
		}
		r.Step = eraseShred
		return s.save(ctx, *r, "journalled", "")
	case eraseShred:
		keys, err := s.Data.SubjectKeys(ctx, r.SubjectID)
		if err != nil {
			return err
		}
		// Recipients are told first: their notices name the shopper by the
		// pseudonyms they know, which need nothing the shredding destroys.
		if s.Marketing != nil {
			if err := s.Marketing.Propagate(ctx, r.SubjectID, PropagateErasure, r.ID); err != nil {
				return err
			}
		}
		if err := s.Data.ShredSubject(ctx, r.SubjectID); err != nil {
			return err
		}
		for _, k := range keys {
			s.Collect.Forget(k.ID)
		}
		s.Consent.Changed(r.SubjectID)
		o.ShreddedAt = s.Now().UTC()
		r.Outcome, r.Step = o.raw(), erasePurge
		return s.save(ctx, *r, "data keys shredded", "")
	case erasePurge:
		n, err := s.purge(ctx, r.SubjectID)
		o.EventsPurged += n
		if err != nil {
			return err
		}
		o.PurgedAt = s.Now().UTC()
		r.Outcome, r.Step = o.raw(), eraseSuppress
		return s.save(ctx, *r, "events purged", "")
	case eraseSuppress:
		e, err := s.journalEntry(r.ID)
		if err != nil {
			return err
		}
		if err := s.Collect.SuppressIdentities(ctx, e.Identities, e.At, e.Until); err != nil {
			return err
		}
		d, _, err := s.detail(ctx, *r)
		if err != nil {
			return err
		}
		var clear []collect.LinkValue
		if d.Email != "" {
			clear = append(clear, collect.LinkValue{Kind: vault.KindEmail, Value: d.Email})
		}
		if d.UserID != "" {
			clear = append(clear, collect.LinkValue{Kind: vault.KindUserID, Value: d.UserID})
		}
		if err := s.Collect.Suppress(ctx, clear, e.At, e.Until); err != nil {
			return err
		}
		o.SuppressedUntil = e.Until
		r.Outcome, r.Step = o.raw(), eraseCompact
		return s.save(ctx, *r, "identifiers suppressed", "")
	default:
		// Events an ingest batch attributed before the shredding may have
		// committed since (sealed under a destroyed key): purge again.
		n, err := s.purge(ctx, r.SubjectID)
		o.EventsPurged += n
		if err != nil {
			return err
		}
		if err := s.Data.Compact(ctx); err != nil {
			return err
		}
		return s.done(ctx, r, o, now, "erased")
	}
}

// purge deletes what a shredded subject left behind, chunk by chunk, and
// reports how many events went.
func (s *Service) purge(ctx context.Context, subjectID string) (int64, error) {
	var total int64
	for {
		n, done, err := s.Data.PurgeSubject(ctx, subjectID, purgeChunk)
		total += n
		if err != nil || done {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

func (s *Service) journalEntry(requestID string) (JournalEntry, error) {
	es, err := s.Journal.Entries()
	if err != nil {
		return JournalEntry{}, err
	}
	for _, e := range es {
		if e.RequestID == requestID {
			return e, nil
		}
	}
	return JournalEntry{}, fmt.Errorf("the erasure journal %s has no entry for request %s", s.Journal.Path(), requestID)
}

// Replay re-applies every journalled erasure to the store: a backup
// restored after an erasure must not serve the erased shopper. It runs at
// start-up, before tact serves.
func (s *Service) Replay(ctx context.Context) (int, error) {
	es, err := s.Journal.Entries()
	if err != nil {
		return 0, err
	}
	replayed := 0
	now := s.Now()
	for _, e := range es {
		exists, err := s.Data.SubjectExists(ctx, e.SubjectID)
		if err != nil {
			return replayed, err
		}
		if exists {
			if err := s.Data.ShredSubject(ctx, e.SubjectID); err != nil {
				return replayed, err
			}
			if _, err := s.purge(ctx, e.SubjectID); err != nil {
				return replayed, err
			}
			replayed++
		}
		if now.Before(e.Until) {
			if err := s.Collect.SuppressIdentities(ctx, e.Identities, e.At, e.Until); err != nil {
				return replayed, err
			}
		}
	}
	if replayed > 0 {
		// A restored copy may hold the erased shopper's bytes in free
		// space that deletes never touch: rewrite the whole file.
		if err := s.Data.Rebuild(ctx); err != nil {
			return replayed, err
		}
	}
	return replayed, nil
}

func (s *Service) rectify(ctx context.Context, r *Request, now time.Time) error {
	o := readOutcome(*r)
	if !o.SubjectFound || o.BrowserOnly {
		return s.done(ctx, r, o, now, "nothing to correct")
	}
	d, _, err := s.detail(ctx, *r)
	if err != nil {
		return err
	}
	keys, err := s.Data.SubjectKeys(ctx, r.SubjectID)
	if err != nil {
		return err
	}
	opened := map[vault.KeyID]vault.DataKey{}
	for _, k := range keys {
		dk, err := s.Vault.UnwrapDataKey(ctx, k.ID, k.Wrapped)
		if err != nil {
			return err
		}
		opened[k.ID] = dk
	}
	n, err := s.Data.RewriteEvents(ctx, r.SubjectID, "identify", func(kid vault.KeyID, sealed []byte) ([]byte, error) {
		dk, ok := opened[kid]
		if !ok {
			return nil, nil
		}
		plain, err := dk.Open(collect.PayloadField, sealed)
		if err != nil {
			return nil, err
		}
		var ev map[string]any
		if err := json.Unmarshal(plain, &ev); err != nil {
			return nil, err
		}
		traits, _ := ev["traits"].(map[string]any)
		changed := false
		for k, v := range d.Traits {
			if _, has := traits[k]; has {
				traits[k], changed = v, true
			}
		}
		if !changed {
			return nil, nil
		}
		out, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		return dk.Seal(collect.PayloadField, out)
	})
	if err != nil {
		return err
	}
	o.EventsCorrected = n
	if s.Marketing != nil {
		if err := s.Marketing.Propagate(ctx, r.SubjectID, PropagateRectification, r.ID); err != nil {
			return err
		}
	}
	return s.done(ctx, r, o, now, "corrected")
}

func (s *Service) restrict(ctx context.Context, r *Request, now time.Time) error {
	o := readOutcome(*r)
	if !o.SubjectFound || o.BrowserOnly {
		return s.done(ctx, r, o, now, "nothing to restrict")
	}
	if err := s.Data.SetRestricted(ctx, r.SubjectID, now); err != nil {
		return err
	}
	s.Consent.Changed(r.SubjectID)
	if s.Marketing != nil {
		if err := s.Marketing.Propagate(ctx, r.SubjectID, PropagateRestriction, r.ID); err != nil {
			return err
		}
	}
	o.RestrictedAt = now
	return s.done(ctx, r, o, now, "restricted")
}

// Deliver sends due mail through sender; without one, mail waits in the
// outbox for `tact outbox`. Failed deliveries are retried with backoff.
func (s *Service) Deliver(ctx context.Context, sender Sender) error {
	now := s.Now().UTC()
	if _, err := s.Store.DeleteExpiredMail(ctx, now); err != nil {
		return err
	}
	if sender == nil {
		return nil
	}
	due, err := s.Store.DueMail(ctx, now, 50)
	if err != nil {
		return err
	}
	for _, m := range due {
		l, err := s.OpenMail(ctx, m)
		if err != nil {
			// Unreadable (its key shredded): nothing can ever send it.
			if err := s.Store.MarkMail(ctx, m.ID, now, now, m.Attempts); err != nil {
				return err
			}
			continue
		}
		if err := sender.Send(ctx, l); err != nil {
			backoff := time.Duration(1<<min(m.Attempts, 10)) * 30 * time.Second
			if err := s.Store.MarkMail(ctx, m.ID, time.Time{}, now.Add(backoff), m.Attempts+1); err != nil {
				return err
			}
			continue
		}
		if err := s.Store.MarkMail(ctx, m.ID, s.Now().UTC(), time.Time{}, m.Attempts+1); err != nil {
			return err
		}
	}
	return nil
}
