package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tact-cdp/tact/internal/interests"
)

// InterestStore adapts DB to interests.Store.
type InterestStore struct{ db *DB }

// Interests returns the interest profiles' view of the store.
func (db *DB) Interests() *InterestStore { return &InterestStore{db: db} }

var _ interests.Store = (*InterestStore)(nil)

// AddInterests implements interests.Store. Subjects that paused their
// profile, or no longer exist (erased), learn nothing.
func (s *InterestStore) AddInterests(ctx context.Context, adds []interests.Add, halfLife time.Duration) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		skip := map[string]bool{}
		for _, a := range adds {
			if _, seen := skip[a.SubjectID]; seen {
				continue
			}
			var n int
			err := tx.queryRow(ctx, "SELECT (SELECT COUNT(*) FROM interest_pauses WHERE subject_id = ?) + (1 - (SELECT COUNT(*) FROM subjects WHERE id = ?))", a.SubjectID, a.SubjectID).Scan(&n)
			if err != nil {
				return err
			}
			skip[a.SubjectID] = n > 0
		}
		for _, a := range adds {
			if skip[a.SubjectID] {
				continue
			}
			var score float64
			var updated int64
			err := tx.queryRow(ctx, "SELECT score, updated_at FROM interests WHERE subject_id = ? AND category = ?", a.SubjectID, a.Category).Scan(&score, &updated)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				score, updated = a.Weight, micros(a.At)
			case err != nil:
				return err
			default:
				last := fromMicros(updated)
				if a.At.After(last) {
					score = interests.Decay(score, a.At.Sub(last), halfLife) + a.Weight
					updated = micros(a.At)
				} else {
					score += interests.Decay(a.Weight, last.Sub(a.At), halfLife)
				}
			}
			if err := tx.exec(ctx, "INSERT INTO interests (subject_id, category, score, updated_at) VALUES (?, ?, ?, ?) "+
				"ON CONFLICT (subject_id, category) DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at",
				a.SubjectID, a.Category, score, updated); err != nil {
				return err
			}
		}
		return nil
	})
}

// Interests implements interests.Store.
func (s *InterestStore) Interests(ctx context.Context, subjectID string) (interests.Profile, error) {
	var p interests.Profile
	var n int
	if err := s.db.read.QueryRowContext(ctx, s.db.q("SELECT COUNT(*) FROM interest_pauses WHERE subject_id = ?"), subjectID).Scan(&n); err != nil {
		return p, err
	}
	p.Paused = n > 0
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

// DeleteInterest implements interests.Store.
func (s *InterestStore) DeleteInterest(ctx context.Context, subjectID, category string) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, "DELETE FROM interests WHERE subject_id = ? AND category = ?", subjectID, category)
	})
}

// DeleteProfile implements interests.Store. Most shoppers have none: a read
// first spares the writer.
func (s *InterestStore) DeleteProfile(ctx context.Context, subjectID string) error {
	var n int
	if err := s.db.read.QueryRowContext(ctx, s.db.q("SELECT COUNT(*) FROM (SELECT 1 FROM interests WHERE subject_id = ? LIMIT 1) x"), subjectID).Scan(&n); err != nil || n == 0 {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, "DELETE FROM interests WHERE subject_id = ?", subjectID)
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
