package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/vault"
)

// Queries on the consent hot path, prepared once on the write pool.
const (
	qIdentity       = "SELECT kind, subject_id, token_gen, created_at FROM identities WHERE pseudonym = ?"
	qSubject        = "SELECT created_at, minor, gpc_at, restricted_at, state FROM subjects WHERE id = ?"
	qSubjectHasKind = "SELECT COUNT(*) FROM identities WHERE subject_id = ? AND kind = ?"
	qInsertSubject  = "INSERT INTO subjects (id, created_at, minor, gpc_at, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
	qInsertKey      = "INSERT INTO subject_keys (key_id, subject_id, kek, wrapped, created_at) VALUES (?, ?, ?, ?, ?)"
	qInsertIdentity = "INSERT INTO identities (pseudonym, kind, subject_id, token_gen, created_at) VALUES (?, ?, ?, ?, ?)"
	qSetTokenGen    = "UPDATE identities SET token_gen = ? WHERE pseudonym = ?"
	qSaveSubject    = "UPDATE subjects SET minor = ?, gpc_at = ?, restricted_at = ?, state = ?, updated_at = ? WHERE id = ?"
	qSubjectKey     = "SELECT key_id, kek, wrapped FROM subject_keys WHERE subject_id = ? ORDER BY created_at DESC, key_id LIMIT 1"
)

// ConsentStore adapts DB to consent.Store.
type ConsentStore struct{ db *DB }

// Consent returns the consent service's view of the store.
func (db *DB) Consent() *ConsentStore { return &ConsentStore{db: db} }

var _ consent.Store = (*ConsentStore)(nil)
var _ consent.Tx = (*Tx)(nil)

// Write implements consent.Store.
func (s *ConsentStore) Write(ctx context.Context, fn func(consent.Tx) error) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error { return fn(tx) })
}

// Identity implements consent.Store.
func (s *ConsentStore) Identity(ctx context.Context, p vault.Pseudonym) (consent.Identity, error) {
	id, ok, err := identity(ctx, s.db, s.db.read, p)
	if err == nil && !ok {
		err = tact.Errorf(tact.ENOTFOUND, "identity not found")
	}
	return id, err
}

// Subject implements consent.Store.
func (s *ConsentStore) Subject(ctx context.Context, id string) (consent.Subject, error) {
	return subject(ctx, s.db, s.db.read, id, false)
}

// Notice implements consent.Store.
func (s *ConsentStore) Notice(ctx context.Context, version string) (consent.NoticeRecord, error) {
	var body []byte
	var n consent.NoticeRecord
	err := s.db.read.QueryRowContext(ctx, s.db.q("SELECT body FROM notices WHERE version = ?"), version).Scan(&body)
	if err != nil {
		return n, notFound(err, "notice")
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return n, fmt.Errorf("store: notice %s: %w", version, err)
	}
	return n, nil
}

// PutNotice implements consent.Store.
func (s *ConsentStore) PutNotice(ctx context.Context, n consent.NoticeRecord) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, "INSERT INTO notices (version, created_at, body) VALUES (?, ?, ?) ON CONFLICT (version) DO NOTHING",
			n.Version, micros(n.CreatedAt), body)
	})
}

func identity(ctx context.Context, db *DB, q queryer, p vault.Pseudonym) (consent.Identity, bool, error) {
	id := consent.Identity{Pseudonym: p}
	var kind string
	var created int64
	var gen int64
	err := q.QueryRowContext(ctx, db.q(qIdentity), p[:]).
		Scan(&kind, &id.SubjectID, &gen, &created)
	if err != nil {
		if tact.ErrorCode(notFound(err, "")) == tact.ENOTFOUND {
			return id, false, nil
		}
		return id, false, err
	}
	id.Kind, id.TokenGen, id.CreatedAt = vault.Kind(kind), uint32(gen), fromMicros(created)
	return id, true, nil
}

// subject reads a subject; with lock (inside a write transaction) the row
// stays locked until the transaction ends where the engine has row locks, so
// that concurrent writers (other nodes, PostgreSQL's event writers) never
// overwrite each other's consent state.
func subject(ctx context.Context, db *DB, q queryer, id string, lock bool) (consent.Subject, error) {
	s := consent.Subject{ID: id}
	var created, gpc, restricted int64
	var state []byte
	query := qSubject
	if lock {
		query += db.dialect.ForUpdate
	}
	err := q.QueryRowContext(ctx, db.q(query), id).
		Scan(&created, &s.Minor, &gpc, &restricted, &state)
	if err != nil {
		return s, notFound(err, "subject")
	}
	s.CreatedAt, s.GPCAt, s.RestrictedAt = fromMicros(created), fromMicros(gpc), fromMicros(restricted)
	if err := json.Unmarshal(state, &s.State); err != nil {
		return s, fmt.Errorf("store: subject state: %w", err)
	}
	if s.State == nil {
		s.State = consent.State{}
	}
	return s, nil
}

// Identity implements consent.Tx.
func (t *Tx) Identity(ctx context.Context, p vault.Pseudonym) (consent.Identity, bool, error) {
	return identity(ctx, t.db, t.tx, p)
}

// Subject implements consent.Tx.
func (t *Tx) Subject(ctx context.Context, id string) (consent.Subject, error) {
	return subject(ctx, t.db, t.tx, id, true)
}

// SubjectHasKind implements consent.Tx.
func (t *Tx) SubjectHasKind(ctx context.Context, subjectID string, kind vault.Kind) (bool, error) {
	var n int
	err := t.queryRow(ctx, qSubjectHasKind, subjectID, string(kind)).Scan(&n)
	return n > 0, err
}

// CreateSubject implements consent.Tx. Where the engine has writable CTEs
// (PostgreSQL) the subject, its key and its identities are one statement.
func (t *Tx) CreateSubject(ctx context.Context, s consent.Subject, key consent.StoredKey, ids ...consent.Identity) error {
	state, err := json.Marshal(s.State)
	if err != nil {
		return err
	}
	args := []any{s.ID, micros(s.CreatedAt), s.Minor, micros(s.GPCAt), state, micros(s.CreatedAt),
		key.ID[:], s.ID, key.Wrapped.KEK, key.Wrapped.Blob, micros(s.CreatedAt)}
	idArgs := make([]any, 0, 5*len(ids))
	for _, id := range ids {
		idArgs = append(idArgs, id.Pseudonym[:], string(id.Kind), id.SubjectID, int64(id.TokenGen), micros(id.CreatedAt))
	}
	if t.db.dialect.WritableCTE && len(ids) > 0 && len(ids) <= maxCTEIdentities {
		return t.exec(ctx, qCreateSubjectCTE(len(ids)), append(args, idArgs...)...)
	}
	if err := t.exec(ctx, qInsertSubject, args[:6]...); err != nil {
		return err
	}
	if err := t.exec(ctx, qInsertKey, args[6:]...); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	return t.insertRows(ctx, "INSERT INTO identities (pseudonym, kind, subject_id, token_gen, created_at) VALUES ", 5, idArgs)
}

// CreateFreshSubject implements consent.Tx. Where the flush is one statement
// (PostgreSQL) the rows join it; elsewhere they are written now.
func (t *Tx) CreateFreshSubject(ctx context.Context, s consent.Subject, key consent.StoredKey, ids ...consent.Identity) error {
	if !t.db.dialect.WritableCTE {
		return t.CreateSubject(ctx, s, key, ids...)
	}
	state, err := json.Marshal(s.State)
	if err != nil {
		return err
	}
	t.freshSubjects = append(t.freshSubjects, freshSubject{s: s, state: state, key: key, ids: ids})
	return nil
}

// freshSubject is a new subject waiting for the flush.
type freshSubject struct {
	s     consent.Subject
	state []byte
	key   consent.StoredKey
	ids   []consent.Identity
}

// maxCTEIdentities is how many identities (anonymous id, user id, email)
// a new subject can bring at once.
const maxCTEIdentities = 3

// qCreateSubjectCTE inserts a subject, its key and n identities at once.
func qCreateSubjectCTE(n int) string {
	ids := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", n), ", ")
	return "WITH s AS (" + qInsertSubject + "), k AS (" + qInsertKey + ") " +
		"INSERT INTO identities (pseudonym, kind, subject_id, token_gen, created_at) VALUES " + ids
}

// AddIdentity implements consent.Tx.
func (t *Tx) AddIdentity(ctx context.Context, id consent.Identity) error {
	return t.exec(ctx, qInsertIdentity,
		id.Pseudonym[:], string(id.Kind), id.SubjectID, int64(id.TokenGen), micros(id.CreatedAt))
}

// SetIdentitySubject implements consent.Tx.
func (t *Tx) SetIdentitySubject(ctx context.Context, p vault.Pseudonym, subjectID string) error {
	return t.exec(ctx, "UPDATE identities SET subject_id = ? WHERE pseudonym = ?", subjectID, p[:])
}

// SetTokenGen implements consent.Tx.
func (t *Tx) SetTokenGen(ctx context.Context, p vault.Pseudonym, gen uint32) error {
	return t.exec(ctx, qSetTokenGen, int64(gen), p[:])
}

// MergeSubjects implements consent.Tx.
func (t *Tx) MergeSubjects(ctx context.Context, from, into string) error {
	// Events of this batch still waiting to be written move too.
	if err := t.flushEvents(ctx); err != nil {
		return err
	}
	for _, q := range []string{
		"UPDATE identities SET subject_id = ? WHERE subject_id = ?",
		"UPDATE subject_keys SET subject_id = ? WHERE subject_id = ?",
		"UPDATE receipts SET subject_id = ? WHERE subject_id = ?",
		"UPDATE events SET subject_id = ? WHERE " + t.db.inSubjectBuckets(),
	} {
		if err := t.exec(ctx, q, into, from); err != nil {
			return err
		}
	}
	return t.exec(ctx, "DELETE FROM subjects WHERE id = ?", from)
}

// SaveSubject implements consent.Tx.
func (t *Tx) SaveSubject(ctx context.Context, s consent.Subject) error {
	state, err := json.Marshal(s.State)
	if err != nil {
		return err
	}
	return t.exec(ctx, qSaveSubject,
		s.Minor, micros(s.GPCAt), micros(s.RestrictedAt), state, time.Now().UnixMicro(), s.ID)
}

// SubjectKey implements consent.Tx: the subject's newest data key.
func (t *Tx) SubjectKey(ctx context.Context, subjectID string) (consent.StoredKey, error) {
	var k consent.StoredKey
	var id []byte
	err := t.queryRow(ctx, qSubjectKey, subjectID).
		Scan(&id, &k.Wrapped.KEK, &k.Wrapped.Blob)
	if err != nil {
		return k, notFound(err, "data key")
	}
	copy(k.ID[:], id)
	return k, nil
}
