package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/rights"
	"github.com/tact-cdp/tact/internal/vault"
)

// RequestStore adapts DB to rights.Store.
type RequestStore struct{ db *DB }

// Requests returns the rights requests' view of the store.
func (db *DB) Requests() *RequestStore { return &RequestStore{db: db} }

var _ rights.Store = (*RequestStore)(nil)

// requestTx is a write transaction as rights sees it.
type requestTx struct{ t *Tx }

var _ rights.Tx = requestTx{}

const requestCols = "id, type, status, regime, locale, scope, verified_by, target_kind, target, subject_id, " +
	"key_id, kek, wrapped_key, sealed_detail, received_at, due_at, first_due_at, paused_at, acknowledged_at, " +
	"verified_at, completed_at, extension_reason, denial_reason, outcome, step, token_hash, link_hash, report_until, lease_until, updated_at"

func scanRequest(row scanner) (rights.Request, error) {
	var r rights.Request
	var typ, status, scope, kind, outcome string
	var target, keyID, wrapped []byte
	var received, due, firstDue, paused, acked, verified, completed, reportUntil, lease, updated int64
	err := row.Scan(&r.ID, &typ, &status, &r.Regime, &r.Locale, &scope, &r.VerifiedBy, &kind, &target, &r.SubjectID,
		&keyID, &r.Key.Wrapped.KEK, &wrapped, &r.SealedDetail, &received, &due, &firstDue, &paused, &acked,
		&verified, &completed, &r.ExtensionReason, &r.DenialReason, &outcome, &r.Step, &r.TokenHash, &r.LinkHash, &reportUntil, &lease, &updated)
	if err != nil {
		return r, notFound(err, "request")
	}
	r.Type, r.Status, r.Scope, r.TargetKind = rights.Type(typ), rights.Status(status), rights.Scope(scope), vault.Kind(kind)
	copy(r.Target[:], target)
	copy(r.Key.ID[:], keyID)
	r.Key.Wrapped.Blob, r.Shredded = wrapped, wrapped == nil
	if outcome != "" {
		r.Outcome = []byte(outcome)
	}
	r.ReceivedAt, r.DueAt, r.FirstDueAt, r.PausedAt = fromMicros(received), fromMicros(due), fromMicros(firstDue), fromMicros(paused)
	r.AcknowledgedAt, r.VerifiedAt, r.CompletedAt = fromMicros(acked), fromMicros(verified), fromMicros(completed)
	r.ReportUntil, r.LeaseUntil, r.UpdatedAt = fromMicros(reportUntil), fromMicros(lease), fromMicros(updated)
	return r, nil
}

// WriteRequests implements rights.Store.
func (s *RequestStore) WriteRequests(ctx context.Context, fn func(rights.Tx) error) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error { return fn(requestTx{tx}) })
}

// Request implements rights.Store.
func (s *RequestStore) Request(ctx context.Context, id string) (rights.Request, error) {
	return scanRequest(s.db.read.QueryRowContext(ctx, s.db.q("SELECT "+requestCols+" FROM requests WHERE id = ?"), id))
}

func (s *RequestStore) list(ctx context.Context, where string, args ...any) ([]rights.Request, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT "+requestCols+" FROM requests "+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rights.Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

var openStatuses = "('received','pending_verification','paused','verified','in_progress')"

// Requests implements rights.Store.
func (s *RequestStore) Requests(ctx context.Context, f rights.Filter) ([]rights.Request, error) {
	var conds []string
	var args []any
	if f.Open {
		conds = append(conds, "status IN "+openStatuses)
	}
	if !f.DueBefore.IsZero() {
		conds = append(conds, "due_at < ?")
		args = append(args, micros(f.DueBefore))
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	return s.list(ctx, where+" ORDER BY received_at, id LIMIT ?", args...)
}

// RequestsOfSubject implements rights.Store.
func (s *RequestStore) RequestsOfSubject(ctx context.Context, subjectID string) ([]rights.Request, error) {
	return s.list(ctx, "WHERE subject_id = ? ORDER BY received_at, id", subjectID)
}

// RequestLog implements rights.Store.
func (s *RequestStore) RequestLog(ctx context.Context, id string) ([]rights.LogEntry, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT seq, at, status, note FROM request_log WHERE request_id = ? ORDER BY seq"), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rights.LogEntry
	for rows.Next() {
		var e rights.LogEntry
		var at int64
		var st string
		if err := rows.Scan(&e.Seq, &at, &st, &e.Note); err != nil {
			return nil, err
		}
		e.At, e.Status = fromMicros(at), rights.Status(st)
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountRequests implements rights.Store.
func (s *RequestStore) CountRequests(ctx context.Context, now time.Time) (map[rights.Status]int64, int64, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(
		"SELECT status, COUNT(*), SUM(CASE WHEN due_at < ? AND status IN "+openStatuses+" THEN 1 ELSE 0 END) FROM requests GROUP BY status"), micros(now))
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := map[rights.Status]int64{}
	var overdue int64
	for rows.Next() {
		var st string
		var n, late int64
		if err := rows.Scan(&st, &n, &late); err != nil {
			return nil, 0, err
		}
		out[rights.Status(st)] = n
		overdue += late
	}
	return out, overdue, rows.Err()
}

// Claim implements rights.Store.
func (s *RequestStore) Claim(ctx context.Context, id string, now, until time.Time) (bool, error) {
	var n int64
	err := s.db.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, s.db.q("UPDATE requests SET lease_until = ? WHERE id = ? AND lease_until < ?"), micros(until), id, micros(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n == 1, err
}

// ReleaseLeases implements rights.Store.
func (s *RequestStore) ReleaseLeases(ctx context.Context) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, "UPDATE requests SET lease_until = 0 WHERE lease_until <> 0")
	})
}

// Workable implements rights.Store.
func (s *RequestStore) Workable(ctx context.Context, now time.Time, limit int) ([]rights.Request, error) {
	return s.list(ctx, "WHERE status IN ('verified','in_progress') AND lease_until < ? ORDER BY received_at, id LIMIT ?", micros(now), limit)
}

// Expirable implements rights.Store.
func (s *RequestStore) Expirable(ctx context.Context, now time.Time, limit int) ([]rights.Request, error) {
	return s.list(ctx, "WHERE status IN ('pending_verification','paused') AND id IN (SELECT request_id FROM request_codes WHERE expires_at < ? OR used = 1 OR attempts >= 5) ORDER BY received_at, id LIMIT ?", micros(now), limit)
}

// Request implements rights.Tx: the row is locked until the transaction ends
// where the engine has row locks.
func (t requestTx) Request(ctx context.Context, id string) (rights.Request, error) {
	return scanRequest(t.t.tx.QueryRowContext(ctx, t.t.db.q("SELECT "+requestCols+" FROM requests WHERE id = ?"+t.t.db.dialect.ForUpdate), id))
}

// PutRequest implements rights.Tx.
func (t requestTx) PutRequest(ctx context.Context, r rights.Request, note string) error {
	var wrapped []byte
	if !r.Shredded {
		wrapped = r.Key.Wrapped.Blob
	}
	now := time.Now()
	args := []any{r.ID, string(r.Type), string(r.Status), r.Regime, r.Locale, string(r.Scope), r.VerifiedBy, string(r.TargetKind), r.Target[:], r.SubjectID,
		r.Key.ID[:], r.Key.Wrapped.KEK, wrapped, r.SealedDetail, micros(r.ReceivedAt), micros(r.DueAt), micros(r.FirstDueAt), micros(r.PausedAt), micros(r.AcknowledgedAt),
		micros(r.VerifiedAt), micros(r.CompletedAt), r.ExtensionReason, r.DenialReason, string(r.Outcome), r.Step, r.TokenHash, r.LinkHash, micros(r.ReportUntil), micros(r.LeaseUntil), micros(now)}
	cols := strings.Split(requestCols, ", ")
	set := make([]string, 0, len(cols)-1)
	for _, c := range cols[1:] {
		set = append(set, c+" = excluded."+c)
	}
	q := "INSERT INTO requests (" + requestCols + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") +
		") ON CONFLICT (id) DO UPDATE SET " + strings.Join(set, ", ")
	if err := t.t.exec(ctx, q, args...); err != nil {
		return err
	}
	var seq int
	if err := t.t.queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM request_log WHERE request_id = ?", r.ID).Scan(&seq); err != nil {
		return err
	}
	return t.t.exec(ctx, "INSERT INTO request_log (request_id, seq, at, status, note) VALUES (?, ?, ?, ?, ?)",
		r.ID, seq+1, micros(now), string(r.Status), note)
}

// Code implements rights.Tx.
func (t requestTx) Code(ctx context.Context, id string) (rights.Code, bool, error) {
	c := rights.Code{RequestID: id}
	var expires int64
	var used bool
	err := t.t.tx.QueryRowContext(ctx, t.t.db.q("SELECT code_mac, link_hash, expires_at, attempts, used FROM request_codes WHERE request_id = ?"+t.t.db.dialect.ForUpdate), id).
		Scan(&c.MAC, &c.LinkHash, &expires, &c.Attempts, &used)
	if err == sql.ErrNoRows {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	c.ExpiresAt, c.Used = fromMicros(expires), used
	return c, true, nil
}

// PutCode implements rights.Tx.
func (t requestTx) PutCode(ctx context.Context, c rights.Code) error {
	return t.t.exec(ctx, "INSERT INTO request_codes (request_id, code_mac, link_hash, expires_at, attempts, used) VALUES (?, ?, ?, ?, ?, ?) "+
		"ON CONFLICT (request_id) DO UPDATE SET code_mac = excluded.code_mac, link_hash = excluded.link_hash, expires_at = excluded.expires_at, attempts = excluded.attempts, used = excluded.used",
		c.RequestID, c.MAC, c.LinkHash, micros(c.ExpiresAt), c.Attempts, boolInt(c.Used))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// QueueMail implements rights.Tx.
func (t requestTx) QueueMail(ctx context.Context, m rights.Mail) error {
	return t.t.exec(ctx, "INSERT INTO outbox (id, created_at, subject_id, request_id, key_owner, sealed, sent_at, attempts, next_try, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		m.ID, micros(m.CreatedAt), m.SubjectID, m.RequestID, m.KeyOwner, m.Sealed, micros(m.SentAt), m.Attempts, micros(m.NextTry), micros(m.ExpiresAt))
}

const mailCols = "id, created_at, subject_id, request_id, key_owner, sealed, sent_at, attempts, next_try, expires_at"

func scanMail(row scanner) (rights.Mail, error) {
	var m rights.Mail
	var created, sent, next, expires int64
	if err := row.Scan(&m.ID, &created, &m.SubjectID, &m.RequestID, &m.KeyOwner, &m.Sealed, &sent, &m.Attempts, &next, &expires); err != nil {
		return m, notFound(err, "mail")
	}
	m.CreatedAt, m.SentAt, m.NextTry, m.ExpiresAt = fromMicros(created), fromMicros(sent), fromMicros(next), fromMicros(expires)
	return m, nil
}

func (s *RequestStore) mails(ctx context.Context, where string, args ...any) ([]rights.Mail, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT "+mailCols+" FROM outbox "+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rights.Mail
	for rows.Next() {
		m, err := scanMail(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Outbox implements rights.Store.
func (s *RequestStore) Outbox(ctx context.Context) ([]rights.Mail, error) {
	return s.mails(ctx, "ORDER BY created_at, id")
}

// Mail implements rights.Store.
func (s *RequestStore) Mail(ctx context.Context, id string) (rights.Mail, error) {
	return scanMail(s.db.read.QueryRowContext(ctx, s.db.q("SELECT "+mailCols+" FROM outbox WHERE id = ?"), id))
}

// DueMail implements rights.Store.
func (s *RequestStore) DueMail(ctx context.Context, now time.Time, limit int) ([]rights.Mail, error) {
	return s.mails(ctx, "WHERE sent_at = 0 AND next_try <= ? ORDER BY created_at, id LIMIT ?", micros(now), limit)
}

// MarkMail implements rights.Store.
func (s *RequestStore) MarkMail(ctx context.Context, id string, sentAt, nextTry time.Time, attempts int) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, "UPDATE outbox SET sent_at = ?, next_try = ?, attempts = ? WHERE id = ?", micros(sentAt), micros(nextTry), attempts, id)
	})
}

// DeleteExpiredMail implements rights.Store.
func (s *RequestStore) DeleteExpiredMail(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.db.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, s.db.q("DELETE FROM outbox WHERE expires_at < ?"), micros(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// errGone is what reads of an erased shopper find.
func errGone() error { return tact.Errorf(tact.ENOTFOUND, "nothing is stored about this shopper") }
