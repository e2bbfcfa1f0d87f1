package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/consent"
)

// SubjectKeys implements collect.Store: every data key of a subject.
func (s *EventStore) SubjectKeys(ctx context.Context, subjectID string) ([]consent.StoredKey, error) {
	return s.db.keys(ctx, "SELECT key_id, kek, wrapped FROM subject_keys WHERE subject_id = ?", subjectID)
}

// AllPurposes is the mask of a read that may see every stored purpose.
const AllPurposes = collect.AllPurposes

// SubjectEvents returns a subject's events stored under at least one
// purpose of mask, oldest first, after the event id after, at most limit.
// The purpose filter is part of the query: a read never sees what it may
// not use.
func (s *EventStore) SubjectEvents(ctx context.Context, subjectID string, mask uint64, after int64, limit int) ([]collect.StoredEvent, error) {
	db := s.db
	rows, err := db.read.QueryContext(ctx, db.q(
		"SELECT id, message_id, type, event, occurred_at, received_at, purposes, receipt_id, key_id, payload FROM events"+
			" WHERE "+db.inSubjectBuckets()+" AND id > ? AND (purposes & ?) <> 0 ORDER BY id LIMIT ?"),
		subjectID, after, int64(mask&AllPurposes), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []collect.StoredEvent
	for rows.Next() {
		e := collect.StoredEvent{SubjectID: subjectID}
		var occ, rec, purposes int64
		var keyID []byte
		if err := rows.Scan(&e.ID, &e.MessageID, &e.Type, &e.Event, &occ, &rec, &purposes, &e.ReceiptID, &keyID, &e.Payload); err != nil {
			return nil, err
		}
		e.OccurredAt, e.ReceivedAt, e.Purposes = fromMicros(occ), fromMicros(rec), uint64(purposes)
		copy(e.KeyID[:], keyID)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PurposeEvents implements collect.PurposeEventsStore: track events named
// one of names, stored under a purpose of mask, in (subject, id) order after
// (afterSubject, afterID); of one subject when only is set. The purpose
// filter is part of the query.
func (s *EventStore) PurposeEvents(ctx context.Context, mask uint64, names []string, only string, after collect.ReplayCursor, limit int) ([]collect.StoredEvent, error) {
	if len(names) == 0 {
		return nil, nil
	}
	db := s.db
	// All subjects: in index order, bucket by bucket. One subject: its
	// buckets, in id order.
	where, order := "(bucket, subject_id, id) > (?, ?, ?)", "bucket, subject_id, id"
	args := []any{after.Bucket, after.Subject, after.ID}
	if only != "" {
		where, order, args = db.inSubjectBuckets()+" AND id > ?", "id", []any{only, after.ID}
	}
	args = append(args, int64(mask&AllPurposes))
	for _, n := range names {
		args = append(args, n)
	}
	args = append(args, limit)
	rows, err := db.read.QueryContext(ctx, db.q(
		"SELECT bucket, id, subject_id, event, occurred_at, purposes, key_id, payload FROM events"+
			" WHERE "+where+" AND (purposes & ?) <> 0 AND type = 'track' AND event IN "+inList(len(names))+
			" ORDER BY "+order+" LIMIT ?"), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []collect.StoredEvent
	for rows.Next() {
		e := collect.StoredEvent{Type: "track"}
		var occ, purposes int64
		var keyID []byte
		if err := rows.Scan(&e.Bucket, &e.ID, &e.SubjectID, &e.Event, &occ, &purposes, &keyID, &e.Payload); err != nil {
			return nil, err
		}
		e.OccurredAt, e.Purposes = fromMicros(occ), uint64(purposes)
		copy(e.KeyID[:], keyID)
		out = append(out, e)
	}
	return out, rows.Err()
}

// CountEventsStored counts the events stored as personal data.
func (db *DB) CountEventsStored(ctx context.Context) (int64, error) {
	var n int64
	err := db.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM events").Scan(&n)
	return n, err
}

// SubjectsChangedSince lists subjects whose state changed after the cursor
// (a microsecond time; 0 lists all), oldest change first.
func (s *EventStore) SubjectsChangedSince(ctx context.Context, cursor int64, afterID string, limit int) ([]collect.SubjectChange, error) {
	db := s.db
	rows, err := db.read.QueryContext(ctx, db.q(
		"SELECT id, state, minor, gpc_at, restricted_at, updated_at FROM subjects WHERE updated_at > ? OR (updated_at = ? AND id > ?)"+
			" ORDER BY updated_at, id LIMIT ?"), cursor, cursor, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []collect.SubjectChange
	for rows.Next() {
		var c collect.SubjectChange
		var gpc, restricted int64
		var state []byte
		if err := rows.Scan(&c.Subject.ID, &state, &c.Subject.Minor, &gpc, &restricted, &c.UpdatedAt); err != nil {
			return nil, err
		}
		c.Subject.GPCAt, c.Subject.RestrictedAt = fromMicros(gpc), fromMicros(restricted)
		if err := json.Unmarshal(state, &c.Subject.State); err != nil {
			return nil, fmt.Errorf("store: subject state: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// StripPurposes implements collect.Store: for each subject, it keeps only
// the purposes in Keep on its events and deletes the events left with
// none. It returns how many events lost purposes and how many were
// deleted.
func (s *EventStore) StripPurposes(ctx context.Context, strips []collect.Strip) (stripped, deleted int64, err error) {
	db := s.db
	err = db.WriteTx(ctx, func(tx *Tx) error {
		stripped, deleted = 0, 0 // a retried batch runs fn again
		for _, st := range strips {
			res, err := tx.tx.ExecContext(ctx, db.q("UPDATE events SET purposes = (purposes & ?) WHERE "+db.inSubjectBuckets()+" AND (purposes & ?) <> 0"),
				int64(st.Keep&AllPurposes), st.SubjectID, int64(^st.Keep&AllPurposes))
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			if n == 0 {
				continue
			}
			stripped += n
			res, err = tx.tx.ExecContext(ctx, db.q("DELETE FROM events WHERE "+db.inSubjectBuckets()+" AND purposes = 0"), st.SubjectID)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
			deleted += n
		}
		return nil
	})
	return stripped, deleted, err
}

// EventKinds implements collect.Store: the distinct (type, event name)
// pairs stored.
func (s *EventStore) EventKinds(ctx context.Context) ([][2]string, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT DISTINCT type, event FROM events")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeleteExpired implements collect.Store: it deletes, up to limit, events
// of one type and name (with mask non-zero: only those stored under one of
// its purposes) that occurred before cutoff.
func (s *EventStore) DeleteExpired(ctx context.Context, typ, event string, mask uint64, cutoff time.Time, limit int) (int64, error) {
	db := s.db
	var n int64
	err := db.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, db.q("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE type = ? AND event = ? AND occurred_at < ?"+
			" AND (? = 0 OR (purposes & ?) <> 0) LIMIT ?)"), typ, event, micros(cutoff), int64(mask), int64(mask), limit)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// ExpireDedup forgets messageIds received before the day (Unix days). It
// reports the log rows (each holding a transaction's keys) and legacy keys
// deleted.
func (db *DB) ExpireDedup(ctx context.Context, beforeDay int64) (int64, error) {
	var n int64
	err := db.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, db.q("DELETE FROM event_dedup WHERE day < ?"), beforeDay)
		if err != nil {
			return err
		}
		legacy, _ := res.RowsAffected()
		if res, err = tx.tx.ExecContext(ctx, db.q("DELETE FROM event_dedup_log WHERE day < ?"), beforeDay); err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		n += legacy
		return nil
	})
	if err == nil {
		db.dedup.expire(beforeDay)
	}
	return n, err
}

var _ = sql.ErrNoRows
