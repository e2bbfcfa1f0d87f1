package store

import (
	"context"
	"fmt"

	"github.com/tact-cdp/tact/internal/audit"
	"github.com/tact-cdp/tact/internal/vault"
)

// AuditEntry is one line of the access audit log.
type AuditEntry = audit.Entry

// AppendAudit writes an audit entry durably, chained to the one before it
// (before the answer it covers: a failure here fails the read).
func (db *DB) AppendAudit(ctx context.Context, e AuditEntry) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		var last int64
		var head []byte
		if err := tx.tx.QueryRowContext(ctx, db.q("SELECT last, hash FROM audit_head WHERE id = 1"+db.dialect.ForUpdate)).Scan(&last, &head); err != nil {
			return err
		}
		var prev [32]byte
		copy(prev[:], head)
		if last == 0 {
			// Entries written before the log was chained get their
			// hashes now, in order, once.
			var err error
			if last, prev, err = db.chainLegacy(ctx, tx); err != nil {
				return err
			}
		}
		e.ID = last + 1
		e.Hash = audit.Chain(prev, e)
		if err := tx.exec(ctx, "INSERT INTO audit_log (id, at, actor, role, purpose, action, subject, fields, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			e.ID, micros(e.At), e.Actor, e.Role, e.Purpose, e.Action, e.Subject[:], e.Fields, e.Detail, e.Hash[:]); err != nil {
			return err
		}
		return tx.exec(ctx, "UPDATE audit_head SET last = ?, hash = ? WHERE id = 1", e.ID, e.Hash[:])
	})
}

func (db *DB) chainLegacy(ctx context.Context, tx *Tx) (last int64, prev [32]byte, err error) {
	rows, err := tx.tx.QueryContext(ctx, "SELECT id, at, actor, role, purpose, action, subject, fields, detail FROM audit_log ORDER BY id")
	if err != nil {
		return 0, prev, err
	}
	var legacy []AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows, false)
		if err != nil {
			rows.Close()
			return 0, prev, err
		}
		legacy = append(legacy, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, prev, err
	}
	for _, e := range legacy {
		e.Hash = audit.Chain(prev, e)
		if err := tx.exec(ctx, "UPDATE audit_log SET hash = ? WHERE id = ?", e.Hash[:], e.ID); err != nil {
			return 0, prev, err
		}
		prev, last = e.Hash, e.ID
	}
	return last, prev, nil
}

func scanAudit(row scanner, withHash bool) (AuditEntry, error) {
	var e AuditEntry
	var at int64
	var subject, hash []byte
	dst := []any{&e.ID, &at, &e.Actor, &e.Role, &e.Purpose, &e.Action, &subject, &e.Fields, &e.Detail}
	if withHash {
		dst = append(dst, &hash)
	}
	if err := row.Scan(dst...); err != nil {
		return e, err
	}
	e.At = fromMicros(at)
	copy(e.Subject[:], subject)
	copy(e.Hash[:], hash)
	return e, nil
}

// AuditEntries returns the audit entries about a subject, oldest first.
func (db *DB) AuditEntries(ctx context.Context, subject vault.Pseudonym) ([]AuditEntry, error) {
	rows, err := db.read.QueryContext(ctx, db.q("SELECT id, at, actor, role, purpose, action, subject, fields, detail, hash FROM audit_log WHERE subject = ? ORDER BY id"), subject[:])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows, true)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// VerifyAudit checks the whole chain and that it ends at the stored head;
// progress, when set, is told how many entries were checked so far.
func (db *DB) VerifyAudit(ctx context.Context, progress func(n int64)) (int64, error) {
	var total, last int64
	var head []byte
	if err := db.read.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM audit_log), last, hash FROM audit_head WHERE id = 1").Scan(&total, &last, &head); err != nil {
		return 0, err
	}
	var v audit.Verifier
	after := int64(0)
	for {
		rows, err := db.read.QueryContext(ctx, db.q("SELECT id, at, actor, role, purpose, action, subject, fields, detail, hash FROM audit_log WHERE id > ? ORDER BY id LIMIT 10000"), after)
		if err != nil {
			return v.Count(), err
		}
		n := 0
		for rows.Next() {
			e, err := scanAudit(rows, true)
			if err == nil {
				err = v.Add(e)
			}
			if err != nil {
				rows.Close()
				return v.Count(), err
			}
			after, n = e.ID, n+1
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return v.Count(), err
		}
		if progress != nil {
			progress(v.Count())
		}
		if n < 10000 {
			break
		}
	}
	var want [32]byte
	copy(want[:], head)
	if v.Last() != last || v.Head() != want {
		return v.Count(), fmt.Errorf("audit log: the chain ends at entry %d but the head names entry %d (entries were removed or added outside tact)", v.Last(), last)
	}
	return v.Count(), nil
}
