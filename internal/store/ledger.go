package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/ledger"
	"github.com/tact-cdp/tact/internal/vault"
)

const qReceiptExists = "SELECT 1 FROM receipts WHERE id = ?"

// pendingLeaf is a receipt waiting for its leaf at the end of the batch.
type pendingLeaf struct {
	r     consent.StoredReceipt
	keyID vault.KeyID
	idx   *int64
}

// AppendReceipt implements consent.Tx. The receipt joins the batch's pending
// leaves; flushLedger gives them consecutive leaf indexes just before the
// commit, so the ledger head is locked (on PostgreSQL, for every node) only
// for the end of the transaction, once per batch.
func (t *Tx) AppendReceipt(ctx context.Context, r consent.StoredReceipt, leafIndex *int64) error {
	keyID, err := vault.SealedKeyID(r.SealedSalt)
	if err != nil {
		return fmt.Errorf("store: receipt salt: %w", err)
	}
	if t.pendingIDs[r.ID] {
		return tact.Errorf(tact.ECONFLICT, "receipt %s is already appended", r.ID)
	}
	// Ids are random, so a clash with a stored receipt is a caller's bug.
	// Batches check all their ids at once in flushLedger and, on a clash,
	// run again write by write; only then is each id checked here, so that
	// the error goes to the one write that caused it.
	if t.savepoints {
		var exists int
		err = t.queryRow(ctx, qReceiptExists, r.ID).Scan(&exists)
		if err == nil {
			return tact.Errorf(tact.ECONFLICT, "receipt %s is already appended", r.ID)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	t.pendingIDs[r.ID] = true
	t.pending = append(t.pending, pendingLeaf{r: r, keyID: keyID, idx: leafIndex})
	return nil
}

// flushLedger appends the batch's pending receipts as consecutive leaves.
func (t *Tx) flushLedger(ctx context.Context) error {
	if len(t.pending) == 0 || len(t.pending) > 100 || len(t.freshSubjects) > 100 {
		// Fresh subjects go with the leaves' statement; without it (or
		// when the batch is too large for one), on their own.
		if err := t.flushFreshSubjects(ctx); err != nil {
			return err
		}
	}
	if len(t.pending) == 0 {
		return nil
	}
	var size int64
	if t.savepoints || len(t.pending) > 500 {
		// Ids were checked write by write (or are checked in chunks).
		if !t.savepoints {
			if err := t.checkNewIDs(ctx); err != nil {
				return err
			}
		}
		if err := t.queryRow(ctx, t.db.dialect.LockLedgerHead).Scan(&size); err != nil {
			return fmt.Errorf("store: reading the ledger head: %w", err)
		}
	} else {
		// One round trip: lock and read the head, and count the pending
		// ids already stored.
		ids := make([]any, len(t.pending))
		for i, p := range t.pending {
			ids[i] = p.r.ID
		}
		q := "SELECT size, (SELECT COUNT(*) FROM receipts WHERE id IN (" + strings.Repeat("?, ", len(ids)-1) + "?)) FROM ledger_head WHERE id = 1" + t.db.dialect.ForUpdate
		var clashes int
		if err := t.tx.QueryRowContext(ctx, t.db.q(q), ids...).Scan(&size, &clashes); err != nil {
			return fmt.Errorf("store: reading the ledger head: %w", err)
		}
		if clashes > 0 {
			return errDuplicateReceipt
		}
	}
	reader := t.hashReader(ctx)
	const receiptCols = 9
	receiptArgs := make([]any, 0, receiptCols*len(t.pending))
	var hashArgs []any
	for i, p := range t.pending {
		n := size + int64(i)
		leaf := ledger.LeafHash(ledger.LeafData(p.r.ID, p.r.Commitment))
		hashes, err := ledger.StoredHashes(n, leaf, reader)
		if err != nil {
			return fmt.Errorf("store: ledger hashes for leaf %d: %w", n, err)
		}
		base := ledger.StoredHashIndex(0, n)
		for j, h := range hashes {
			t.newHashes[base+int64(j)] = h
			hashArgs = append(hashArgs, base+int64(j), h[:])
		}
		var subjectID any
		if p.r.SubjectID != "" {
			subjectID = p.r.SubjectID
		}
		receiptArgs = append(receiptArgs, p.r.ID, n, base, subjectID, p.keyID[:], p.r.Body, p.r.SealedSalt, p.r.Commitment[:], micros(p.r.CreatedAt))
	}
	newSize := size + int64(len(t.pending))
	const receiptsInsert = "INSERT INTO receipts (id, leaf_index, hash_index, subject_id, key_id, body, sealed_salt, commitment, created_at) VALUES "
	const hashesInsert = "INSERT INTO ledger_hashes (idx, hash) VALUES "
	if t.db.dialect.WritableCTE && len(t.pending) <= 100 && len(hashArgs) <= 2*500 {
		// One round trip for the whole flush.
		q := "WITH r AS (" + receiptsInsert + rows(len(t.pending), receiptCols) + "), h AS (" + hashesInsert + rows(len(hashArgs)/2, 2) + ")"
		args := append(receiptArgs, hashArgs...)
		if fq, fargs := t.freshSubjectsSQL(); fq != "" {
			q += ", " + fq
			args = append(args, fargs...)
			t.freshSubjects = nil
		}
		q += " " + qSetLedgerSize
		args = append(args, newSize)
		if err := t.exec(ctx, q, args...); err != nil {
			return err
		}
	} else {
		if err := t.flushFreshSubjects(ctx); err != nil {
			return err
		}
		if err := t.insertRows(ctx, receiptsInsert, receiptCols, receiptArgs); err != nil {
			return err
		}
		if err := t.insertRows(ctx, hashesInsert, 2, hashArgs); err != nil {
			return err
		}
		if err := t.exec(ctx, qSetLedgerSize, newSize); err != nil {
			return err
		}
	}
	for i, p := range t.pending {
		if p.idx != nil {
			*p.idx = size + int64(i)
		}
	}
	return nil
}

// errDuplicateReceipt: a pending receipt's id is already stored.
var errDuplicateReceipt = errors.New("store: a receipt id is already stored")

// checkNewIDs looks up all pending receipt ids in one query.
func (t *Tx) checkNewIDs(ctx context.Context) error {
	args := make([]any, len(t.pending))
	for i, p := range t.pending {
		args[i] = p.r.ID
	}
	for start := 0; start < len(args); start += 500 {
		chunk := args[start:min(start+500, len(args))]
		var n int
		err := t.tx.QueryRowContext(ctx, t.db.q("SELECT COUNT(*) FROM receipts WHERE id IN ("+strings.Repeat("?, ", len(chunk)-1)+"?)"), chunk...).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			return errDuplicateReceipt
		}
	}
	return nil
}

// freshSubjectsSQL is the part of the flush statement that writes the
// batch's fresh subjects, their keys and identities ("" when none).
func (t *Tx) freshSubjectsSQL() (string, []any) {
	if len(t.freshSubjects) == 0 {
		return "", nil
	}
	var subj, keys, ids []any
	for _, f := range t.freshSubjects {
		s := f.s
		subj = append(subj, s.ID, micros(s.CreatedAt), s.Minor, micros(s.GPCAt), f.state, micros(s.CreatedAt))
		keys = append(keys, f.key.ID[:], s.ID, f.key.Wrapped.KEK, f.key.Wrapped.Blob, micros(s.CreatedAt))
		for _, id := range f.ids {
			ids = append(ids, id.Pseudonym[:], string(id.Kind), id.SubjectID, int64(id.TokenGen), micros(id.CreatedAt))
		}
	}
	q := "fs AS (INSERT INTO subjects (id, created_at, minor, gpc_at, state, updated_at) VALUES " + rows(len(subj)/6, 6) + "), " +
		"fk AS (INSERT INTO subject_keys (key_id, subject_id, kek, wrapped, created_at) VALUES " + rows(len(keys)/5, 5) + ")"
	args := append(subj, keys...)
	if len(ids) > 0 {
		q += ", fi AS (INSERT INTO identities (pseudonym, kind, subject_id, token_gen, created_at) VALUES " + rows(len(ids)/5, 5) + ")"
		args = append(args, ids...)
	}
	return q, args
}

// flushFreshSubjects writes the fresh subjects in statements of their own.
func (t *Tx) flushFreshSubjects(ctx context.Context) error {
	for _, f := range t.freshSubjects {
		if err := t.CreateSubject(ctx, f.s, f.key, f.ids...); err != nil {
			return err
		}
	}
	t.freshSubjects = nil
	return nil
}

// rows is the VALUES list of n rows of cols placeholders.
func rows(n, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// insertRows runs a multi-row INSERT of args in rows of cols values, in
// chunks that stay under every engine's limit on parameters. One statement
// per chunk (a round trip on PostgreSQL); each row count is a statement
// shape, prepared once (see prepared).
func (t *Tx) insertRows(ctx context.Context, prefix string, cols int, args []any) error {
	const maxRows = 100
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	if len(args)%cols != 0 {
		return fmt.Errorf("store: %d values for rows of %d columns", len(args), cols)
	}
	for start := 0; start < len(args); start += maxRows * cols {
		chunk := args[start:min(start+maxRows*cols, len(args))]
		var sb strings.Builder
		sb.WriteString(prefix)
		for i := 0; i < len(chunk)/cols; i++ {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(row)
		}
		if err := t.exec(ctx, sb.String(), chunk...); err != nil {
			return err
		}
	}
	return nil
}

// hashReader reads hashes from this batch, the cache, then the transaction.
func (t *Tx) hashReader(ctx context.Context) ledger.HashReader {
	return readerFunc(func(indexes []int64) ([]ledger.Hash, error) {
		out := make([]ledger.Hash, len(indexes))
		var missing []int64
		for i, idx := range indexes {
			if h, ok := t.newHashes[idx]; ok {
				out[i] = h
			} else if h, ok := t.db.hashes.get(idx); ok {
				out[i] = h
			} else {
				missing = append(missing, idx)
			}
		}
		if len(missing) == 0 {
			return out, nil
		}
		got, err := readHashes(ctx, t.db, t.tx, missing)
		if err != nil {
			return nil, err
		}
		for i, idx := range indexes {
			if h, ok := got[idx]; ok {
				out[i] = h
			}
		}
		return out, nil
	})
}

type readerFunc func([]int64) ([]ledger.Hash, error)

func (f readerFunc) ReadHashes(indexes []int64) ([]ledger.Hash, error) { return f(indexes) }

func readHashes(ctx context.Context, db *DB, q queryer, indexes []int64) (map[int64]ledger.Hash, error) {
	got := make(map[int64]ledger.Hash, len(indexes))
	for start := 0; start < len(indexes); start += 500 {
		chunk := indexes[start:min(start+500, len(indexes))]
		query := "SELECT idx, hash FROM ledger_hashes WHERE idx IN (" + strings.Repeat("?, ", len(chunk)-1) + "?)"
		args := make([]any, len(chunk))
		for i, v := range chunk {
			args[i] = v
		}
		rows, err := q.QueryContext(ctx, db.q(query), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var idx int64
			var h []byte
			if err := rows.Scan(&idx, &h); err != nil {
				rows.Close()
				return nil, err
			}
			var hh ledger.Hash
			copy(hh[:], h)
			got[idx] = hh
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	for _, idx := range indexes {
		if _, ok := got[idx]; !ok {
			return nil, fmt.Errorf("store: ledger hash %d is missing", idx)
		}
	}
	return got, nil
}

// LedgerStore is the ledger's view of the store: the committed tree, receipts
// and checkpoints.
type LedgerStore struct{ db *DB }

// Ledger returns the ledger's view of the store.
func (db *DB) Ledger() *LedgerStore { return &LedgerStore{db: db} }

// Size is the number of committed leaves.
func (s *LedgerStore) Size(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.read.QueryRowContext(ctx, "SELECT size FROM ledger_head WHERE id = 1").Scan(&n)
	return n, err
}

// HashReader reads committed hashes.
func (s *LedgerStore) HashReader(ctx context.Context) ledger.HashReader {
	return readerFunc(func(indexes []int64) ([]ledger.Hash, error) {
		out := make([]ledger.Hash, len(indexes))
		var missing []int64
		for i, idx := range indexes {
			if h, ok := s.db.hashes.get(idx); ok {
				out[i] = h
			} else {
				missing = append(missing, idx)
			}
		}
		if len(missing) == 0 {
			return out, nil
		}
		got, err := readHashes(ctx, s.db, s.db.read, missing)
		if err != nil {
			return nil, err
		}
		for i, idx := range indexes {
			if h, ok := got[idx]; ok {
				out[i] = h
			}
		}
		s.db.hashes.put(got)
		return out, nil
	})
}

// Receipt returns a stored receipt by id.
func (s *LedgerStore) Receipt(ctx context.Context, id string) (consent.StoredReceipt, error) {
	return scanReceipt(s.db.read.QueryRowContext(ctx, s.db.q(
		"SELECT id, leaf_index, subject_id, body, sealed_salt, commitment, created_at FROM receipts WHERE id = ?"), id))
}

type scanner interface{ Scan(...any) error }

func scanReceipt(row scanner) (consent.StoredReceipt, error) {
	var r consent.StoredReceipt
	var subject *string
	var commitment []byte
	var created int64
	if err := row.Scan(&r.ID, &r.LeafIndex, &subject, &r.Body, &r.SealedSalt, &commitment, &created); err != nil {
		return r, notFound(err, "receipt")
	}
	if subject != nil {
		r.SubjectID = *subject
	}
	copy(r.Commitment[:], commitment)
	r.CreatedAt = fromMicros(created)
	return r, nil
}

// LatestCheckpoint returns the newest checkpoint, ENOTFOUND when none exists.
func (s *LedgerStore) LatestCheckpoint(ctx context.Context) (ledger.SignedCheckpoint, error) {
	return scanCheckpoint(s.db.read.QueryRowContext(ctx, "SELECT size, root, created_at, signed FROM ledger_checkpoints ORDER BY size DESC LIMIT 1"))
}

// CheckpointCovering returns the oldest checkpoint whose tree includes leaf n.
func (s *LedgerStore) CheckpointCovering(ctx context.Context, n int64) (ledger.SignedCheckpoint, error) {
	return scanCheckpoint(s.db.read.QueryRowContext(ctx, s.db.q(
		"SELECT size, root, created_at, signed FROM ledger_checkpoints WHERE size > ? ORDER BY size LIMIT 1"), n))
}

// Checkpoint returns the checkpoint of a given size.
func (s *LedgerStore) Checkpoint(ctx context.Context, size int64) (ledger.SignedCheckpoint, error) {
	return scanCheckpoint(s.db.read.QueryRowContext(ctx, s.db.q(
		"SELECT size, root, created_at, signed FROM ledger_checkpoints WHERE size = ?"), size))
}

func scanCheckpoint(row scanner) (ledger.SignedCheckpoint, error) {
	var c ledger.SignedCheckpoint
	var root []byte
	var created int64
	if err := row.Scan(&c.Size, &root, &created, &c.Signed); err != nil {
		return c, notFound(err, "checkpoint")
	}
	copy(c.Root[:], root)
	c.CreatedAt = fromMicros(created)
	return c, nil
}

// PutCheckpoint stores a checkpoint; a second node cutting the same size is
// not an error.
func (s *LedgerStore) PutCheckpoint(ctx context.Context, c ledger.SignedCheckpoint) error {
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		return tx.exec(ctx, "INSERT INTO ledger_checkpoints (size, root, created_at, signed) VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING",
			c.Size, c.Root[:], micros(c.CreatedAt), c.Signed)
	})
}

// Checkpoints calls fn for every checkpoint in increasing size.
func (s *LedgerStore) Checkpoints(ctx context.Context, fn func(ledger.SignedCheckpoint) error) error {
	rows, err := s.db.read.QueryContext(ctx, "SELECT size, root, created_at, signed FROM ledger_checkpoints ORDER BY size")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Receipts calls fn for every receipt below leaf index below, in leaf order, with the wrapped key of
// the data key that sealed its salt, and the stored leaf hash.
func (s *LedgerStore) Receipts(ctx context.Context, below int64, fn func(consent.LeafReceipt, ledger.Hash) error) error {
	// The join finds the key that sealed the salt while it exists, and the
	// stored level-0 hash of the leaf (stored under hash_index).
	rows, err := s.db.read.QueryContext(ctx, `
SELECT r.id, r.leaf_index, r.subject_id, r.body, r.sealed_salt, r.commitment, r.created_at, h.hash, k.key_id, k.kek, k.wrapped
FROM receipts r
LEFT JOIN ledger_hashes h ON h.idx = r.hash_index
LEFT JOIN subject_keys k ON k.key_id = r.key_id
WHERE r.leaf_index < `+s.db.placeholder(1)+`
ORDER BY r.leaf_index`, below)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r consent.LeafReceipt
		var subject *string
		var commitment, hash []byte
		var created int64
		var kek *string
		var keyID, wrapped []byte
		if err := rows.Scan(&r.ID, &r.LeafIndex, &subject, &r.Body, &r.SealedSalt, &commitment, &created, &hash, &keyID, &kek, &wrapped); err != nil {
			return err
		}
		if subject != nil {
			r.SubjectID = *subject
		}
		copy(r.Commitment[:], commitment)
		r.CreatedAt = fromMicros(created)
		if kek != nil {
			r.Key = &consent.StoredKey{Wrapped: vault.WrappedKey{KEK: *kek, Blob: wrapped}}
			copy(r.Key.ID[:], keyID)
		}
		var h ledger.Hash
		copy(h[:], hash)
		if err := fn(r, h); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ShredSubject erases a subject at once: its data keys first
// (crypto-shredding: from then on nothing sealed for it can be opened, and
// its ledger leaves no longer link to it), then its identities, state and the
// pseudonymous body of its receipts, all in one transaction. The leaves and
// their commitments stay, so the ledger verifies. The subject's events and
// mail are unreadable from here on; PurgeSubject removes them in the
// background.
func (db *DB) ShredSubject(ctx context.Context, subjectID string) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		for _, q := range []string{
			"DELETE FROM subject_keys WHERE subject_id = ?",
			"DELETE FROM interests WHERE subject_id = ?",
			"DELETE FROM interest_pauses WHERE subject_id = ?",
			"DELETE FROM interest_mutes WHERE subject_id = ?",
			"UPDATE receipts SET body = NULL, subject_id = NULL WHERE subject_id = ?",
			"DELETE FROM identities WHERE subject_id = ?",
			"DELETE FROM subjects WHERE id = ?",
		} {
			if err := tx.exec(ctx, q, subjectID); err != nil {
				return err
			}
		}
		return nil
	})
}

// PurgeSubject deletes what a shredded subject left behind — events, then
// mail in the outbox — at most limit events per transaction, so that ingest
// keeps its writer. It reports how many events went and whether anything is
// left. Idempotent: purging a subject that is gone deletes nothing.
func (db *DB) PurgeSubject(ctx context.Context, subjectID string, limit int) (deleted int64, done bool, err error) {
	err = db.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, db.q("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE "+db.inSubjectBuckets()+" ORDER BY id LIMIT ?)"), subjectID, limit)
		if err != nil {
			return err
		}
		deleted, err = res.RowsAffected()
		if err != nil || deleted >= int64(limit) {
			return err
		}
		done = true
		// Mail to or about the shopper, and the contact details and report
		// links of their earlier requests (the request records stay).
		res, err = tx.tx.ExecContext(ctx, db.q("DELETE FROM outbox WHERE subject_id = ? OR request_id IN (SELECT id FROM requests WHERE subject_id = ?)"), subjectID, subjectID)
		if err != nil {
			return err
		}
		if _, err := res.RowsAffected(); err != nil {
			return err
		}
		if err := tx.exec(ctx, "UPDATE requests SET link_hash = NULL, report_until = 0, token_hash = NULL WHERE subject_id = ? AND type <> 'erasure'", subjectID); err != nil {
			return err
		}
		// Marketing: the sealed addresses and links go; the unsubscribe
		// token's hash stays so that its URL keeps answering; what each
		// destination holds goes (their deletion notices are queued).
		// The disclosure log and propagations name the shopper only by a
		// pseudonym and stay as the record of what was disclosed.
		for _, q := range []string{
			"DELETE FROM marketing_contacts WHERE subject_id = ?",
			"DELETE FROM optin_confirmations WHERE subject_id = ?",
			"UPDATE unsubscribe_tokens SET sealed = NULL WHERE subject_id = ?",
			"DELETE FROM destination_members WHERE subject_id = ?",
		} {
			if err := tx.exec(ctx, q, subjectID); err != nil {
				return err
			}
		}
		return nil
	})
	return deleted, done, err
}

// Compact makes deleted rows unrecoverable from the files: SQLite already
// overwrites them (secure_delete); a checkpoint moves the WAL's copies into
// the database and truncates it. PostgreSQL reclaims the dead tuples with
// VACUUM.
func (db *DB) Compact(ctx context.Context) error {
	switch db.dialect.Name {
	case "sqlite":
		var busy, logged, done int
		return db.write.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &done)
	default:
		for _, t := range []string{"events", "outbox", "identities", "subject_keys", "subjects", "receipts", "requests", "marketing_contacts", "optin_confirmations", "unsubscribe_tokens", "destination_members"} {
			if _, err := db.write.ExecContext(ctx, "VACUUM "+t); err != nil {
				return err
			}
		}
		return nil
	}
}

// Rebuild rewrites the whole database file (SQLite VACUUM; PostgreSQL
// VACUUM FULL), so that no byte of a deleted row survives even in free
// space a copy left behind (a backup restored with residue of shoppers
// erased since). It is slow and locks the store: start-up only.
func (db *DB) Rebuild(ctx context.Context) error {
	switch db.dialect.Name {
	case "sqlite":
		if _, err := db.write.ExecContext(ctx, "VACUUM"); err != nil {
			return err
		}
		return db.Compact(ctx)
	default:
		_, err := db.write.ExecContext(ctx, "VACUUM FULL")
		return err
	}
}

// SubjectExists reports whether anything of a subject is left: its state,
// keys or events.
func (db *DB) SubjectExists(ctx context.Context, subjectID string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, db.q("SELECT (SELECT COUNT(*) FROM subjects WHERE id = ?) + (SELECT COUNT(*) FROM subject_keys WHERE subject_id = ?) + (SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE "+db.inSubjectBuckets()+" LIMIT 1) e)"),
		subjectID, subjectID, subjectID).Scan(&n)
	return n > 0, err
}

// ReceiptKey returns the data key that sealed a receipt's salt.
func (s *LedgerStore) ReceiptKey(ctx context.Context, id string) (consent.StoredKey, error) {
	var k consent.StoredKey
	var keyID []byte
	err := s.db.read.QueryRowContext(ctx, s.db.q(
		"SELECT k.key_id, k.kek, k.wrapped FROM receipts r JOIN subject_keys k ON k.key_id = r.key_id WHERE r.id = ?"), id).
		Scan(&keyID, &k.Wrapped.KEK, &k.Wrapped.Blob)
	if err != nil {
		return k, notFound(err, "data key")
	}
	copy(k.ID[:], keyID)
	return k, nil
}
