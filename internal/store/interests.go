package store

import (
	"context"
	"strings"
	"time"

	"github.com/tact-cdp/tact/internal/interests"
)

// InterestStore adapts DB to interests.Store.
type InterestStore struct{ db *DB }

// Interests returns the interest profiles' view of the store.
func (db *DB) Interests() *InterestStore { return &InterestStore{db: db} }

var _ interests.Store = (*InterestStore)(nil)

// AddInterests implements interests.Store. Subjects that paused their
// profile, or no longer exist (erased), learn nothing. The current scores
// are read on the reader pool and each chunk is written with one statement,
// so the writer (shared with ingest) is held only for that.
func (s *InterestStore) AddInterests(ctx context.Context, adds []interests.Add, halfLife time.Duration) error {
	for start := 0; start < len(adds); start += maxInList {
		if err := s.addChunk(ctx, adds[start:min(start+maxInList, len(adds))], halfLife); err != nil {
			return err
		}
	}
	return nil
}

func (s *InterestStore) addChunk(ctx context.Context, adds []interests.Add, halfLife time.Duration) error {
	subjects := map[string]bool{}
	var ids []any
	for _, a := range adds {
		if !subjects[a.SubjectID] {
			subjects[a.SubjectID] = true
			ids = append(ids, a.SubjectID)
		}
	}
	live := map[string]bool{}
	if err := s.db.column(ctx, "SELECT id FROM subjects WHERE id IN "+inList(len(ids)), ids, func(id string) { live[id] = true }); err != nil {
		return err
	}
	if err := s.db.column(ctx, "SELECT subject_id FROM interest_pauses WHERE subject_id IN "+inList(len(ids)), ids, func(id string) { delete(live, id) }); err != nil {
		return err
	}
	muted := map[string][]string{}
	if err := s.pairs(ctx, "SELECT subject_id, category FROM interest_mutes WHERE subject_id IN "+inList(len(ids)), ids, func(id, cat string) {
		muted[id] = append(muted[id], cat)
	}); err != nil {
		return err
	}
	type key struct{ subject, category string }
	type cur struct {
		score float64
		at    time.Time
	}
	have := map[key]cur{}
	rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT subject_id, category, score, updated_at FROM interests WHERE subject_id IN "+inList(len(ids))), ids...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k key
		var c cur
		var at int64
		if err := rows.Scan(&k.subject, &k.category, &c.score, &at); err != nil {
			rows.Close()
			return err
		}
		c.at = fromMicros(at)
		have[k] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var args []any
	for _, a := range adds {
		if !live[a.SubjectID] || interests.Muted(a.Category, muted[a.SubjectID]) {
			continue
		}
		score, at := a.Weight, a.At
		if c, ok := have[key{a.SubjectID, a.Category}]; ok {
			if a.At.After(c.at) {
				score = interests.Decay(c.score, a.At.Sub(c.at), halfLife) + a.Weight
			} else {
				score, at = c.score+interests.Decay(a.Weight, c.at.Sub(a.At), halfLife), c.at
			}
		}
		args = append(args, a.SubjectID, a.Category, score, micros(at))
	}
	if len(args) == 0 {
		return nil
	}
	// Short transactions of jobShare rows: the single writer serves ingest
	// between them (one 500-row upsert held it for 230 ms).
	for start := 0; start < len(args); start += 4 * jobShare {
		chunk := args[start:min(start+4*jobShare, len(args))]
		q := "INSERT INTO interests (subject_id, category, score, updated_at) VALUES " + rows4(len(chunk)/4) +
			" ON CONFLICT (subject_id, category) DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at"
		if err := s.db.WriteTx(ctx, func(tx *Tx) error { return tx.exec(ctx, q, chunk...) }); err != nil {
			return err
		}
	}
	return nil
}

func rows4(n int) string { return strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", n), ", ") }

// pairs runs a two-column query on the reader pool.
func (s *InterestStore) pairs(ctx context.Context, q string, args []any, fn func(a, b string)) error {
	rows, err := s.db.read.QueryContext(ctx, s.db.q(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return err
		}
		fn(a, b)
	}
	return rows.Err()
}

// Interests implements interests.Store.
func (s *InterestStore) Interests(ctx context.Context, subjectID string) (interests.Profile, error) {
	var p interests.Profile
	var n int
	if err := s.db.read.QueryRowContext(ctx, s.db.q("SELECT COUNT(*) FROM interest_pauses WHERE subject_id = ?"), subjectID).Scan(&n); err != nil {
		return p, err
	}
	p.Paused = n > 0
	if err := s.pairs(ctx, "SELECT category, '' FROM interest_mutes WHERE subject_id = ? ORDER BY category", []any{subjectID}, func(cat, _ string) {
		p.Muted = append(p.Muted, cat)
	}); err != nil {
		return p, err
	}
	rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT category, score, updated_at FROM interests WHERE subject_id = ? ORDER BY category"), subjectID)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		var in interests.Interest
		var updated int64
		if err := rows.Scan(&in.Category, &in.Score, &updated); err != nil {
			return p, err
		}
		in.UpdatedAt = fromMicros(updated)
		p.Interests = append(p.Interests, in)
	}
	return p, rows.Err()
}

// DeleteInterest implements interests.Store: the category and those under
// it go, and the category is muted.
func (s *InterestStore) DeleteInterest(ctx context.Context, subjectID, category string, at time.Time) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		if err := tx.exec(ctx, "DELETE FROM interests WHERE subject_id = ? AND (category = ? OR substr(category, 1, ?) = ?)",
			subjectID, category, len(category)+1, category+"/"); err != nil {
			return err
		}
		return tx.exec(ctx, "INSERT INTO interest_mutes (subject_id, category, muted_at) VALUES (?, ?, ?) ON CONFLICT (subject_id, category) DO NOTHING",
			subjectID, category, micros(at))
	})
}

// DeleteProfile implements interests.Store. Most shoppers have none: a read
// first spares the writer.
func (s *InterestStore) DeleteProfile(ctx context.Context, subjectID string) error {
	var n int
	if err := s.db.read.QueryRowContext(ctx, s.db.q("SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM interests WHERE subject_id = ? LIMIT 1) x)"+
		" + (SELECT COUNT(*) FROM (SELECT 1 FROM interest_mutes WHERE subject_id = ? LIMIT 1) y)"), subjectID, subjectID).Scan(&n); err != nil || n == 0 {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		if err := tx.exec(ctx, "DELETE FROM interests WHERE subject_id = ?", subjectID); err != nil {
			return err
		}
		return tx.exec(ctx, "DELETE FROM interest_mutes WHERE subject_id = ?", subjectID)
	})
}

// SetPaused implements interests.Store.
func (s *InterestStore) SetPaused(ctx context.Context, subjectID string, paused bool, at time.Time) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		if !paused {
			return tx.exec(ctx, "DELETE FROM interest_pauses WHERE subject_id = ?", subjectID)
		}
		return tx.exec(ctx, "INSERT INTO interest_pauses (subject_id, paused_at) VALUES (?, ?) ON CONFLICT (subject_id) DO NOTHING", subjectID, micros(at))
	})
}

// InterestPrefs returns every paused shopper and every shopper's muted
// categories (few: they are the shoppers' own choices).
func (s *InterestStore) InterestPrefs(ctx context.Context) (paused map[string]bool, muted map[string][]string, err error) {
	paused, muted = map[string]bool{}, map[string][]string{}
	if err := s.db.column(ctx, "SELECT subject_id FROM interest_pauses", nil, func(id string) { paused[id] = true }); err != nil {
		return nil, nil, err
	}
	err = s.pairs(ctx, "SELECT subject_id, category FROM interest_mutes ORDER BY subject_id, category", nil, func(id, cat string) {
		muted[id] = append(muted[id], cat)
	})
	return paused, muted, err
}
