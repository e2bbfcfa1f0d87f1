package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/vault"
)

// EventStore adapts DB to collect.Store.
type EventStore struct{ db *DB }

// Events returns collection's view of the store.
func (db *DB) Events() *EventStore { return &EventStore{db: db} }

var _ collect.Store = (*EventStore)(nil)
var _ collect.Tx = (*Tx)(nil)

// maxInList bounds the parameters of one IN (…) list.
const maxInList = 500

func inList(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// Shoppers implements collect.Store.
func (s *EventStore) Shoppers(ctx context.Context, ps []vault.Pseudonym) (map[vault.Pseudonym]collect.Shopper, error) {
	out := make(map[vault.Pseudonym]collect.Shopper, len(ps))
	states := map[string]consent.Subject{} // a subject's state is parsed once
	for start := 0; start < len(ps); start += maxInList {
		chunk := ps[start:min(start+maxInList, len(ps))]
		args := make([]any, len(chunk))
		for i := range chunk {
			args[i] = chunk[i][:]
		}
		rows, err := s.db.readQuery(ctx,
			"SELECT i.pseudonym, s.id, s.created_at, s.minor, s.gpc_at, s.restricted_at, s.state, k.key_id, k.kek, k.wrapped, k.created_at"+
				" FROM identities i JOIN subjects s ON s.id = i.subject_id JOIN subject_keys k ON k.subject_id = s.id"+
				" WHERE i.pseudonym IN "+inList(len(chunk)), args...)
		if err != nil {
			return nil, err
		}
		newest := map[vault.Pseudonym]int64{}
		for rows.Next() {
			var p, keyID, state []byte
			var sh collect.Shopper
			var created, gpc, restricted, keyCreated int64
			if err := rows.Scan(&p, &sh.Subject.ID, &created, &sh.Subject.Minor, &gpc, &restricted, &state, &keyID, &sh.Key.Wrapped.KEK, &sh.Key.Wrapped.Blob, &keyCreated); err != nil {
				rows.Close()
				return nil, err
			}
			var ps vault.Pseudonym
			copy(ps[:], p)
			if prev, ok := newest[ps]; ok && prev >= keyCreated {
				continue
			}
			newest[ps] = keyCreated
			copy(sh.Key.ID[:], keyID)
			if cached, ok := states[sh.Subject.ID]; ok {
				sh.Subject = cached
			} else {
				sh.Subject.CreatedAt, sh.Subject.GPCAt, sh.Subject.RestrictedAt = fromMicros(created), fromMicros(gpc), fromMicros(restricted)
				if err := json.Unmarshal(state, &sh.Subject.State); err != nil {
					rows.Close()
					return nil, fmt.Errorf("store: subject state: %w", err)
				}
				if sh.Subject.State == nil {
					sh.Subject.State = consent.State{}
				}
				states[sh.Subject.ID] = sh.Subject
			}
			out[ps] = sh
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Suppress records that the shoppers behind the suppression pseudonyms were
// erased at erasedAt, until until.
func (s *EventStore) Suppress(ctx context.Context, ps []vault.Pseudonym, erasedAt, until time.Time) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		for _, p := range ps {
			if err := tx.exec(ctx, "INSERT INTO suppression (pseudonym, erased_at, until) VALUES (?, ?, ?)"+
				" ON CONFLICT (pseudonym) DO UPDATE SET erased_at = excluded.erased_at, until = excluded.until",
				p[:], micros(erasedAt), micros(until)); err != nil {
				return err
			}
		}
		return nil
	})
}

// PurposeBits implements collect.Store.
func (s *EventStore) PurposeBits(ctx context.Context, purposes []string) (map[string]uint, error) {
	read := func(q queryer) (map[string]uint, error) {
		rows, err := q.QueryContext(ctx, "SELECT purpose, bit FROM purpose_bits")
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		m := map[string]uint{}
		for rows.Next() {
			var p string
			var b int64
			if err := rows.Scan(&p, &b); err != nil {
				return nil, err
			}
			m[p] = uint(b)
		}
		return m, rows.Err()
	}
	m, err := read(s.db.read)
	if err != nil {
		return nil, err
	}
	missing := false
	for _, p := range purposes {
		if _, ok := m[p]; !ok {
			missing = true
		}
	}
	if !missing {
		return m, nil
	}
	err = s.db.WriteTx(ctx, func(tx *Tx) error {
		have, err := read(tx.tx)
		if err != nil {
			return err
		}
		next := uint(0)
		for _, b := range have {
			next = max(next, b+1)
		}
		for _, p := range purposes {
			if _, ok := have[p]; ok {
				continue
			}
			if next > 62 {
				return fmt.Errorf("store: more than 63 purposes")
			}
			if err := tx.exec(ctx, "INSERT INTO purpose_bits (purpose, bit) VALUES (?, ?)", p, int64(next)); err != nil {
				return err
			}
			have[p] = next
			next++
		}
		m = have
		return nil
	})
	return m, err
}

// WriteEvents implements collect.Store. Its rows and counts wait in the
// transaction and are written together at the end of the batch (see
// eventRows).
func (s *EventStore) WriteEvents(ctx context.Context, fn func(collect.Tx) error) error {
	return s.db.writeTx(ctx, func(tx *Tx) error { return fn(tx) }, true)
}

// InsertEvents implements collect.Tx.
func (t *Tx) InsertEvents(ctx context.Context, rs []collect.Row) ([]bool, error) {
	dup := make([]bool, len(rs))
	// Claim the dedup keys against the window (dedup.go).
	for i, r := range rs {
		if !r.HasDedup {
			continue
		}
		if err := t.syncDedup(ctx); err != nil {
			return nil, err
		}
		dup[i] = !t.claimDedup(r.DedupKey, r.ReceivedAt.Unix()/86400)
	}
	personal := 0
	for i, r := range rs {
		if !dup[i] && r.Personal {
			personal++
		}
	}
	if personal == 0 {
		return dup, nil
	}
	bucket, err := t.bucketFor(ctx, personal)
	if err != nil {
		return nil, err
	}
	for i, r := range rs {
		if dup[i] || !r.Personal {
			continue
		}
		t.events.add(bucket, r)
	}
	if t.savepoints {
		// A write in a savepoint of its own must fail alone.
		return dup, t.flushEvents(ctx)
	}
	return dup, nil
}

// CountEvents implements collect.Tx.
func (t *Tx) CountEvents(ctx context.Context, counts map[string]int64) error {
	if t.events.counts == nil {
		t.events.counts = map[string]int64{}
	}
	for k, n := range counts {
		if n != 0 {
			t.events.counts[k] += n
		}
	}
	if t.savepoints {
		return t.flushEvents(ctx)
	}
	return nil
}

// eventRows are the event rows and counters a batch's writes have produced
// but not yet written. Written together at the end of the batch they cost
// a statement or two instead of two per request; every other statement
// on events sees them first (flushEvents runs before any write that does
// not only append events, and before a merge moves a subject's events).
type eventRows struct {
	n int
	// one slice per column, in eventColumns order
	bucket, occurredAt, receivedAt, purposes  []int64
	subjectID, messageID, typ, event, receipt []string
	keyID, payload                            [][]byte
	counts                                    map[string]int64
}

const eventColumns = "bucket, subject_id, message_id, type, event, occurred_at, received_at, purposes, receipt_id, key_id, payload"

func (e *eventRows) add(bucket int64, r collect.Row) {
	e.n++
	e.bucket = append(e.bucket, bucket)
	e.subjectID = append(e.subjectID, r.SubjectID)
	e.messageID = append(e.messageID, r.MessageID)
	e.typ = append(e.typ, r.Type)
	e.event = append(e.event, r.Event)
	e.occurredAt = append(e.occurredAt, micros(r.OccurredAt))
	e.receivedAt = append(e.receivedAt, micros(r.ReceivedAt))
	e.purposes = append(e.purposes, int64(r.Purposes))
	e.receipt = append(e.receipt, r.ReceiptID)
	e.keyID = append(e.keyID, r.KeyID[:])
	e.payload = append(e.payload, r.Payload)
}

func (e *eventRows) reset() {
	e.n = 0
	e.bucket, e.occurredAt, e.receivedAt, e.purposes = e.bucket[:0], e.occurredAt[:0], e.receivedAt[:0], e.purposes[:0]
	e.subjectID, e.messageID, e.typ, e.event, e.receipt = e.subjectID[:0], e.messageID[:0], e.typ[:0], e.event[:0], e.receipt[:0]
	e.keyID, e.payload = e.keyID[:0], e.payload[:0]
	clear(e.counts)
}

// flushEvents writes the pending event rows and counters.
func (t *Tx) flushEvents(ctx context.Context) error {
	e := &t.events
	if e.n == 0 && len(e.counts) == 0 {
		return nil
	}
	reasons := make([]string, 0, len(e.counts))
	for k := range e.counts {
		reasons = append(reasons, k)
	}
	slices.Sort(reasons) // one lock order for every writer
	ns := make([]int64, len(reasons))
	for i, k := range reasons {
		ns[i] = e.counts[k]
	}
	var err error
	switch {
	case t.db.dialect.ArrayInsert && e.n > 0 && len(reasons) > 0:
		// One round trip for the rows and the counters.
		err = t.exec(ctx, "WITH c AS ("+qAddCountArrays+") "+qInsertEventArrays, reasons, ns,
			e.bucket, e.subjectID, e.messageID, e.typ, e.event, e.occurredAt, e.receivedAt, e.purposes, e.receipt, e.keyID, e.payload)
	case t.db.dialect.ArrayInsert:
		if e.n > 0 {
			err = t.exec(ctx, qInsertEventArrays, e.bucket, e.subjectID, e.messageID, e.typ, e.event,
				e.occurredAt, e.receivedAt, e.purposes, e.receipt, e.keyID, e.payload)
		} else {
			err = t.exec(ctx, qAddCountArrays, reasons, ns)
		}
	default:
		if e.n > 0 {
			err = t.insertEventRows(ctx)
		}
		if err == nil && len(reasons) > 0 {
			args := make([]any, 0, 2*len(reasons))
			for i, k := range reasons {
				args = append(args, k, ns[i])
			}
			err = t.exec(ctx, "INSERT INTO event_counts (reason, n) VALUES "+rows(len(reasons), 2)+
				" ON CONFLICT (reason) DO UPDATE SET n = event_counts.n + excluded.n", args...)
		}
	}
	if err != nil {
		return err
	}
	e.reset()
	return nil
}

// qInsertEventArrays inserts any number of event rows in one statement of
// one shape, each column passed as an array; qAddCountArrays adds to the
// counters likewise.
const (
	qInsertEventArrays = "INSERT INTO events (" + eventColumns + ") SELECT * FROM unnest(" +
		"?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::bytea[], ?::bytea[])"
	qAddCountArrays = "INSERT INTO event_counts (reason, n) SELECT * FROM unnest(?::text[], ?::bigint[])" +
		" ON CONFLICT (reason) DO UPDATE SET n = event_counts.n + excluded.n"
)

// insertEventRows writes the pending rows as multi-row INSERTs.
func (t *Tx) insertEventRows(ctx context.Context) error {
	e := &t.events
	const cols = 11
	args := make([]any, 0, cols*e.n)
	for i := range e.n {
		args = append(args, e.bucket[i], e.subjectID[i], e.messageID[i], e.typ[i], e.event[i], e.occurredAt[i], e.receivedAt[i],
			e.purposes[i], e.receipt[i], e.keyID[i], e.payload[i])
	}
	return t.insertRows(ctx, "INSERT INTO events ("+eventColumns+") VALUES ", cols, args)
}

// EventCounts returns the event counters.
func (db *DB) EventCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := db.read.QueryContext(ctx, "SELECT reason, n FROM event_counts")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// readQuery runs a query on the reader pool through a statement prepared
// once per query shape.
func (db *DB) readQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s, ok := db.readStmts.Load(query); ok {
		return s.(*sql.Stmt).QueryContext(ctx, args...)
	}
	if db.dynCount.Load() >= maxDynamicStmts {
		return db.read.QueryContext(ctx, db.q(query), args...)
	}
	s, err := db.read.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.readStmts.LoadOrStore(query, s); loaded {
		s.Close()
		s = prev.(*sql.Stmt)
	} else {
		db.dynCount.Add(1)
	}
	return s.QueryContext(ctx, args...)
}

// Suppressions implements collect.Store.
func (s *EventStore) Suppressions(ctx context.Context, now time.Time) (map[vault.Pseudonym][2]time.Time, error) {
	rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT pseudonym, erased_at, until FROM suppression WHERE until > ?"), micros(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[vault.Pseudonym][2]time.Time{}
	for rows.Next() {
		var p []byte
		var at, until int64
		if err := rows.Scan(&p, &at, &until); err != nil {
			return nil, err
		}
		var ps vault.Pseudonym
		copy(ps[:], p)
		out[ps] = [2]time.Time{fromMicros(at), fromMicros(until)}
	}
	return out, rows.Err()
}

// column runs a one-column query on the reader pool and passes each value
// to fn.
func (db *DB) column(ctx context.Context, q string, args []any, fn func(string)) error {
	rows, err := db.read.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		fn(v)
	}
	return rows.Err()
}

// strings runs a one-column query on the reader pool.
func (db *DB) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	var out []string
	err := db.column(ctx, q, args, func(v string) { out = append(out, v) })
	return out, err
}
