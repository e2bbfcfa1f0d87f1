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

// WriteEvents implements collect.Store.
func (s *EventStore) WriteEvents(ctx context.Context, fn func(collect.Tx) error) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error { return fn(tx) })
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
	const cols = 11
	args := make([]any, 0, cols*personal)
	for i, r := range rs {
		if dup[i] || !r.Personal {
			continue
		}
		args = append(args, bucket, r.SubjectID, r.MessageID, r.Type, r.Event, micros(r.OccurredAt), micros(r.ReceivedAt),
			int64(r.Purposes), r.ReceiptID, r.KeyID[:], r.Payload)
	}
	if len(args) > 0 {
		if err := t.insertRows(ctx, "INSERT INTO events (bucket, subject_id, message_id, type, event, occurred_at, received_at, purposes, receipt_id, key_id, payload) VALUES ", cols, args); err != nil {
			return nil, err
		}
	}
	return dup, nil
}

// CountEvents implements collect.Tx.
func (t *Tx) CountEvents(ctx context.Context, counts map[string]int64) error {
	keys := make([]string, 0, len(counts))
	for k, n := range counts {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys) // one lock order for every writer
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		args = append(args, k, counts[k])
	}
	return t.exec(ctx, "INSERT INTO event_counts (reason, n) VALUES "+rows(len(keys), 2)+
		" ON CONFLICT (reason) DO UPDATE SET n = event_counts.n + excluded.n", args...)
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
