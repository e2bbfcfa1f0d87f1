package store

import (
	"context"
	"time"

	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/vault"
)

// SubjectIdentities returns the identities linked to a subject, oldest
// first.
func (db *DB) SubjectIdentities(ctx context.Context, subjectID string) ([]consent.Identity, error) {
	rows, err := db.read.QueryContext(ctx, db.q("SELECT pseudonym, kind, token_gen, created_at FROM identities WHERE subject_id = ? ORDER BY kind, created_at, pseudonym"), subjectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []consent.Identity
	for rows.Next() {
		id := consent.Identity{SubjectID: subjectID}
		var p []byte
		var kind string
		var created int64
		if err := rows.Scan(&p, &kind, &id.TokenGen, &created); err != nil {
			return nil, err
		}
		copy(id.Pseudonym[:], p)
		id.Kind, id.CreatedAt = vault.Kind(kind), fromMicros(created)
		out = append(out, id)
	}
	return out, rows.Err()
}

// SubjectReceiptIDs returns the ids of a subject's receipts in ledger order.
func (db *DB) SubjectReceiptIDs(ctx context.Context, subjectID string) ([]string, error) {
	return db.strings(ctx, "SELECT id FROM receipts WHERE subject_id = ? ORDER BY leaf_index", subjectID)
}

// RewriteEvents passes each of a subject's events of type typ to fn, oldest
// first, and stores the payload fn returns in its place (nil: unchanged).
// Rectification uses it to correct sealed traits.
func (db *DB) RewriteEvents(ctx context.Context, subjectID, typ string, fn func(keyID vault.KeyID, sealed []byte) ([]byte, error)) (int, error) {
	changed := 0
	after := int64(0)
	for {
		rows, err := db.read.QueryContext(ctx, db.q("SELECT id, key_id, payload FROM events WHERE "+db.inSubjectBuckets()+" AND type = ? AND id > ? ORDER BY id LIMIT 500"), subjectID, typ, after)
		if err != nil {
			return changed, err
		}
		type upd struct {
			id      int64
			payload []byte
		}
		var updates []upd
		n := 0
		for rows.Next() {
			var id int64
			var key, payload []byte
			if err := rows.Scan(&id, &key, &payload); err != nil {
				rows.Close()
				return changed, err
			}
			var kid vault.KeyID
			copy(kid[:], key)
			out, err := fn(kid, payload)
			if err != nil {
				rows.Close()
				return changed, err
			}
			if out != nil {
				updates = append(updates, upd{id, out})
			}
			after, n = id, n+1
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return changed, err
		}
		if len(updates) > 0 {
			err := db.WriteTx(ctx, func(tx *Tx) error {
				for _, u := range updates {
					if err := tx.exec(ctx, "UPDATE events SET payload = ? WHERE id = ? AND subject_id = ?", u.payload, u.id, subjectID); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return changed, err
			}
			changed += len(updates)
		}
		if n < 500 {
			return changed, nil
		}
	}
}

// SetRestricted marks a subject's processing as restricted (GDPR Art. 18)
// from at, or lifts the restriction when at is zero.
func (db *DB) SetRestricted(ctx context.Context, subjectID string, at time.Time) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, "UPDATE subjects SET restricted_at = ?, updated_at = ? WHERE id = ?", micros(at), time.Now().UnixMicro(), subjectID)
	})
}

// SubjectKeys returns every data key of a subject.
func (db *DB) SubjectKeys(ctx context.Context, subjectID string) ([]consent.StoredKey, error) {
	return db.keys(ctx, "SELECT key_id, kek, wrapped FROM subject_keys WHERE subject_id = ?", subjectID)
}

// DetachIdentity removes one identifier from its subject (a browser's
// erasure of its own profile when the profile is linked to others).
func (db *DB) DetachIdentity(ctx context.Context, p vault.Pseudonym) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, "DELETE FROM identities WHERE pseudonym = ?", p[:])
	})
}
