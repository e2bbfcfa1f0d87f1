package store

import (
	"context"
	"time"

	"github.com/tact-cdp/tact/internal/optin"
	"github.com/tact-cdp/tact/internal/vault"
)

// OptInStore adapts DB to optin.Store.
type OptInStore struct{ db *DB }

// OptIns returns the double opt-in and unsubscribe view of the store.
func (db *DB) OptIns() *OptInStore { return &OptInStore{db: db} }

var _ optin.Store = (*OptInStore)(nil)

// execN runs one write statement and returns how many rows it changed.
func (db *DB) execN(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := db.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, db.q(query), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

func (s *OptInStore) PutContact(ctx context.Context, c optin.Contact) error {
	_, err := s.db.execN(ctx, `INSERT INTO marketing_contacts (subject_id, channel, contact, sealed, locale, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (subject_id, channel) DO UPDATE SET contact = excluded.contact, sealed = excluded.sealed, locale = excluded.locale, updated_at = excluded.updated_at`,
		c.SubjectID, c.Channel, c.Contact[:], c.Sealed, c.Locale, micros(c.UpdatedAt))
	return err
}

func (s *OptInStore) Contact(ctx context.Context, subjectID, channel string) (optin.Contact, error) {
	c := optin.Contact{SubjectID: subjectID, Channel: channel}
	var contact []byte
	var at int64
	err := s.db.read.QueryRowContext(ctx, s.db.q("SELECT contact, sealed, locale, updated_at FROM marketing_contacts WHERE subject_id = ? AND channel = ?"),
		subjectID, channel).Scan(&contact, &c.Sealed, &c.Locale, &at)
	if err != nil {
		return c, notFound(err, "contact")
	}
	copy(c.Contact[:], contact)
	c.UpdatedAt = fromMicros(at)
	return c, nil
}

func (s *OptInStore) RecentConfirmations(ctx context.Context, contact vault.Pseudonym, since time.Time) (int, error) {
	var n int
	err := s.db.read.QueryRowContext(ctx, s.db.q("SELECT COUNT(*) FROM optin_confirmations WHERE contact = ? AND created_at >= ?"), contact[:], micros(since)).Scan(&n)
	return n, err
}

func (s *OptInStore) PutConfirmation(ctx context.Context, c optin.Confirmation) error {
	_, err := s.db.execN(ctx, "INSERT INTO optin_confirmations (token_hash, subject_id, channel, contact, receipt_id, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
		c.TokenHash, c.SubjectID, c.Channel, c.Contact[:], c.ReceiptID, micros(c.CreatedAt), micros(c.ExpiresAt))
	return err
}

func (s *OptInStore) Confirmation(ctx context.Context, tokenHash []byte) (optin.Confirmation, error) {
	c := optin.Confirmation{TokenHash: tokenHash}
	var contact []byte
	var created, expires, used int64
	err := s.db.read.QueryRowContext(ctx, s.db.q("SELECT subject_id, channel, contact, receipt_id, created_at, expires_at, used_at FROM optin_confirmations WHERE token_hash = ?"), tokenHash).
		Scan(&c.SubjectID, &c.Channel, &contact, &c.ReceiptID, &created, &expires, &used)
	if err != nil {
		return c, notFound(err, "confirmation")
	}
	copy(c.Contact[:], contact)
	c.CreatedAt, c.ExpiresAt, c.UsedAt = fromMicros(created), fromMicros(expires), fromMicros(used)
	return c, nil
}

func (s *OptInStore) ClaimConfirmation(ctx context.Context, tokenHash []byte, at time.Time) (bool, error) {
	n, err := s.db.execN(ctx, "UPDATE optin_confirmations SET used_at = ? WHERE token_hash = ? AND used_at = 0", micros(at), tokenHash)
	return n == 1, err
}

func (s *OptInStore) ReleaseConfirmation(ctx context.Context, tokenHash []byte) error {
	_, err := s.db.execN(ctx, "UPDATE optin_confirmations SET used_at = 0 WHERE token_hash = ?", tokenHash)
	return err
}

func (s *OptInStore) UnsubscribeToken(ctx context.Context, subjectID, list string) (optin.UnsubscribeToken, error) {
	t := optin.UnsubscribeToken{SubjectID: subjectID, List: list}
	var at int64
	err := s.db.read.QueryRowContext(ctx, s.db.q("SELECT token_hash, sealed, created_at FROM unsubscribe_tokens WHERE subject_id = ? AND list = ?"), subjectID, list).
		Scan(&t.Hash, &t.Sealed, &at)
	if err != nil {
		return t, notFound(err, "unsubscribe token")
	}
	t.CreatedAt = fromMicros(at)
	return t, nil
}

func (s *OptInStore) PutUnsubscribeToken(ctx context.Context, t optin.UnsubscribeToken) (bool, error) {
	n, err := s.db.execN(ctx, "INSERT INTO unsubscribe_tokens (token_hash, subject_id, list, sealed, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		t.Hash, t.SubjectID, t.List, t.Sealed, micros(t.CreatedAt))
	return n == 1, err
}

func (s *OptInStore) UnsubscribeByHash(ctx context.Context, hash []byte) (optin.UnsubscribeToken, error) {
	t := optin.UnsubscribeToken{Hash: hash}
	var at int64
	err := s.db.read.QueryRowContext(ctx, s.db.q("SELECT subject_id, list, sealed, created_at FROM unsubscribe_tokens WHERE token_hash = ?"), hash).
		Scan(&t.SubjectID, &t.List, &t.Sealed, &at)
	if err != nil {
		return t, notFound(err, "unsubscribe token")
	}
	t.CreatedAt = fromMicros(at)
	return t, nil
}
