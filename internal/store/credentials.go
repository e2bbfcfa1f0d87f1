package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/consent"
)

// Credential is an API key or admin token as stored: never the secret, only
// its SHA-256 (and, for user-hash secrets, which tact must use as HMAC keys,
// the secret sealed under a system key).
type Credential struct {
	ID           string
	Kind         string // write, server, userhash, admin
	Role         string // admin tokens: admin, privacy_officer, marketer, analyst, support
	Name         string
	SecretHash   []byte
	SealedSecret []byte
	Origins      []string
	CreatedAt    time.Time
	RevokedAt    time.Time
}

// CreateCredential stores a new credential.
func (db *DB) CreateCredential(ctx context.Context, c Credential) error {
	origins, err := json.Marshal(c.Origins)
	if err != nil {
		return err
	}
	if c.Origins == nil {
		origins = []byte("[]")
	}
	return db.WriteTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, "INSERT INTO credentials (id, kind, role, name, secret_hash, sealed_secret, origins, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
			c.ID, c.Kind, c.Role, c.Name, c.SecretHash, c.SealedSecret, string(origins), micros(c.CreatedAt))
	})
}

const credentialColumns = "id, kind, role, name, secret_hash, sealed_secret, origins, created_at, revoked_at"

func scanCredential(row scanner) (Credential, error) {
	var c Credential
	var origins string
	var created, revoked int64
	if err := row.Scan(&c.ID, &c.Kind, &c.Role, &c.Name, &c.SecretHash, &c.SealedSecret, &origins, &created, &revoked); err != nil {
		return c, notFound(err, "credential")
	}
	if err := json.Unmarshal([]byte(origins), &c.Origins); err != nil {
		return c, err
	}
	c.CreatedAt, c.RevokedAt = fromMicros(created), fromMicros(revoked)
	return c, nil
}

// CredentialByHash finds an unrevoked credential by the SHA-256 of its secret.
func (db *DB) CredentialByHash(ctx context.Context, hash []byte) (Credential, error) {
	return scanCredential(db.read.QueryRowContext(ctx, db.q("SELECT "+credentialColumns+" FROM credentials WHERE secret_hash = ? AND revoked_at = 0"), hash))
}

// Credentials lists unrevoked credentials of a kind ("" for all).
func (db *DB) Credentials(ctx context.Context, kind string) ([]Credential, error) {
	rows, err := db.read.QueryContext(ctx, db.q("SELECT "+credentialColumns+" FROM credentials WHERE revoked_at = 0 AND (? = '' OR kind = ?) ORDER BY created_at, id"), kind, kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Credential
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RevokeCredential revokes a credential by id.
func (db *DB) RevokeCredential(ctx context.Context, id string) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, db.q("UPDATE credentials SET revoked_at = ? WHERE id = ? AND revoked_at = 0"), time.Now().UnixMicro(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tact.Errorf(tact.ENOTFOUND, "no active credential with that id")
		}
		return nil
	})
}

// Meta returns a setting from the meta table, ENOTFOUND if unset.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.read.QueryRowContext(ctx, db.q("SELECT value FROM meta WHERE key = ?"), key).Scan(&v)
	return v, notFound(err, "setting "+key)
}

// InitMeta sets a setting unless it is set already, and returns the value in
// force: the first writer wins, so nodes starting together agree.
func (db *DB) InitMeta(ctx context.Context, key, value string) (string, error) {
	err := db.WriteTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", key, value)
	})
	if err != nil {
		return "", err
	}
	return db.Meta(ctx, key)
}

// SetMeta sets a setting.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
	})
}

// Stats are counts kept in the store, so they survive restarts.
type Stats struct {
	Receipts int64
	Subjects int64
}

// Stats counts what the store holds.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := db.read.QueryRowContext(ctx, "SELECT (SELECT size FROM ledger_head WHERE id = 1), (SELECT COUNT(*) FROM subjects)").Scan(&s.Receipts, &s.Subjects)
	return s, err
}

// KeysNotUnder lists up to limit data keys not wrapped by kek, in key order
// after the key id after (nil to start).
func (db *DB) KeysNotUnder(ctx context.Context, kek string, after []byte, limit int) ([]consent.StoredKey, error) {
	if after == nil {
		after = []byte{}
	}
	return db.keys(ctx, "SELECT key_id, kek, wrapped FROM subject_keys WHERE kek <> ? AND key_id > ? ORDER BY key_id LIMIT ?", kek, after, limit)
}

// keys runs a query selecting (key_id, kek, wrapped) rows.
func (db *DB) keys(ctx context.Context, query string, args ...any) ([]consent.StoredKey, error) {
	rows, err := db.read.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []consent.StoredKey
	for rows.Next() {
		var k consent.StoredKey
		var id []byte
		if err := rows.Scan(&id, &k.Wrapped.KEK, &k.Wrapped.Blob); err != nil {
			return nil, err
		}
		copy(k.ID[:], id)
		out = append(out, k)
	}
	return out, rows.Err()
}

// Rewrapped stores data keys wrapped anew. A key shredded in the meantime
// stays shredded: only existing rows are updated.
func (db *DB) Rewrapped(ctx context.Context, keys []consent.StoredKey) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		for _, k := range keys {
			if err := tx.exec(ctx, "UPDATE subject_keys SET kek = ?, wrapped = ? WHERE key_id = ?", k.Wrapped.KEK, k.Wrapped.Blob, k.ID[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

// CountKeys counts data keys, and those not wrapped by kek.
func (db *DB) CountKeys(ctx context.Context, kek string) (total, other int64, err error) {
	err = db.read.QueryRowContext(ctx, db.q("SELECT COUNT(*), COUNT(CASE WHEN kek <> ? THEN 1 END) FROM subject_keys"), kek).Scan(&total, &other)
	return total, other, err
}
