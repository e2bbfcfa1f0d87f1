package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tact-cdp/tact/internal/ledger"
)

// writeReq is one caller's unit of work waiting for a batch.
type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
}

// WriteTx runs fn in a write transaction shared with other concurrent
// writes (group commit) and returns once that transaction is durably
// committed, or fn's own error (its changes rolled back to a savepoint without
// disturbing the others).
func (db *DB) WriteTx(ctx context.Context, fn func(*Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return errClosed()
	}
	db.queue <- req
	db.mu.RUnlock()
	// The write may already be in a transaction: wait for its outcome even if
	// ctx ends, so that "no answer" never hides "committed".
	return <-req.done
}

func (db *DB) writer() {
	defer db.wg.Done()
	batch := make([]*writeReq, 0, db.opts.MaxBatch)
	for first := range db.queue {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < db.opts.MaxBatch {
			select {
			case r, ok := <-db.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		t0 := time.Now()
		db.commitBatch(batch)
		db.stats.batches.Add(1)
		db.stats.writes.Add(int64(len(batch)))
		db.stats.busy.Add(int64(time.Since(t0)))
	}
}

// commitBatch runs a batch in one transaction, retrying the whole batch when
// the engine reports contention.
func (db *DB) commitBatch(batch []*writeReq) {
	results := make([]error, len(batch))
	var err error
	for attempt := 0; ; attempt++ {
		err = db.tryBatch(batch, results)
		if err == nil || db.dialect.Retryable == nil || !db.dialect.Retryable(err) || attempt >= 20 {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 2 * time.Millisecond)
	}
	for i, r := range batch {
		if err != nil && results[i] == nil {
			r.done <- fmt.Errorf("store: committing: %w", err)
			continue
		}
		r.done <- results[i]
	}
}

func (db *DB) tryBatch(batch []*writeReq, results []error) error {
	clear(results) // a retried batch must not report an earlier attempt's errors
	ctx := context.Background()
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &Tx{db: db, tx: sqlTx, ledgerSize: -1, newHashes: map[int64]ledger.Hash{}}
	single := len(batch) == 1
	for i, r := range batch {
		results[i] = nil
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if single {
			t0 := time.Now()
			err := r.fn(tx)
			db.stats.fn.Add(int64(time.Since(t0)))
			if err != nil {
				sqlTx.Rollback()
				results[i] = err
				if db.dialect.Retryable != nil && db.dialect.Retryable(err) {
					return err
				}
				return nil
			}
			continue
		}
		snap := tx.snapshot()
		if err := tx.exec(ctx, qSavepoint); err != nil {
			sqlTx.Rollback()
			return err
		}
		t0 := time.Now()
		err := r.fn(tx)
		db.stats.fn.Add(int64(time.Since(t0)))
		if err != nil {
			if db.dialect.Retryable != nil && db.dialect.Retryable(err) {
				sqlTx.Rollback()
				return err
			}
			if rerr := tx.exec(ctx, qRollbackTo); rerr != nil {
				sqlTx.Rollback()
				return rerr
			}
			tx.restore(snap)
			results[i] = err
		}
		if err := tx.exec(ctx, qRelease); err != nil {
			sqlTx.Rollback()
			return err
		}
	}
	if err := tx.finish(ctx); err != nil {
		sqlTx.Rollback()
		return err
	}
	t0 := time.Now()
	if err := sqlTx.Commit(); err != nil {
		return err
	}
	db.stats.commit.Add(int64(time.Since(t0)))
	db.hashes.put(tx.newHashes)
	return nil
}

// Tx is a write transaction shared by a batch of writes.
type Tx struct {
	db *DB
	tx *sql.Tx
	// ledger state of this batch: the size once read under lock (-1 before),
	// and the hashes written so far.
	ledgerSize  int64
	sizeChanged bool
	newHashes   map[int64]ledger.Hash
	added       []int64
}

type txSnapshot struct {
	size    int64
	changed bool
	added   int
}

func (t *Tx) snapshot() txSnapshot {
	return txSnapshot{size: t.ledgerSize, changed: t.sizeChanged, added: len(t.added)}
}

func (t *Tx) restore(s txSnapshot) {
	for _, i := range t.added[s.added:] {
		delete(t.newHashes, i)
	}
	t.added = t.added[:s.added]
	t.ledgerSize, t.sizeChanged = s.size, s.changed
}

// finish writes the batch's ledger head.
func (t *Tx) finish(ctx context.Context) error {
	if !t.sizeChanged {
		return nil
	}
	return t.exec(ctx, qSetLedgerSize, t.ledgerSize)
}

const (
	qSetLedgerSize = "UPDATE ledger_head SET size = ? WHERE id = 1"
	qSavepoint     = "SAVEPOINT w"
	qRelease       = "RELEASE SAVEPOINT w"
	qRollbackTo    = "ROLLBACK TO SAVEPOINT w"
)

// hotQueries run for every consent decision; New prepares them on the write
// pool before the writers start (SQLite's single write connection is busy
// inside every transaction afterwards), so their SQL is parsed once.
func (db *DB) hotQueries() []string {
	return []string{qIdentity, qSubject, qSubjectHasKind, qInsertSubject, qInsertKey, qInsertIdentity,
		qSetTokenGen, qSaveSubject, qSubjectKey, qInsertReceipt, qSetLedgerSize, db.dialect.LockLedgerHead,
		qSavepoint, qRelease, qRollbackTo}
}

func (db *DB) prepareHot() error {
	for _, q := range db.hotQueries() {
		s, err := db.write.Prepare(db.q(q))
		if err != nil {
			return fmt.Errorf("store: preparing %q: %w", q, err)
		}
		db.stmts[q] = s
	}
	return nil
}

func (t *Tx) exec(ctx context.Context, query string, args ...any) error {
	var err error
	if stmt, ok := t.db.stmts[query]; ok {
		_, err = t.tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	} else {
		_, err = t.tx.ExecContext(ctx, t.db.q(query), args...)
	}
	return err
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if stmt, ok := t.db.stmts[query]; ok {
		return t.tx.StmtContext(ctx, stmt).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.db.q(query), args...)
}

// WriterStats are cumulative figures of the group-commit writers.
type WriterStats struct {
	Batches, Writes  int64
	Busy, Commit, Fn time.Duration // time spent running batches, in COMMIT, and in the writes' own functions
}

type writerStats struct {
	batches, writes, busy, commit, fn atomic.Int64
}

// WriterStats reports how the group-commit writers have done so far.
func (db *DB) WriterStats() WriterStats {
	return WriterStats{Batches: db.stats.batches.Load(), Writes: db.stats.writes.Load(),
		Busy: time.Duration(db.stats.busy.Load()), Commit: time.Duration(db.stats.commit.Load()), Fn: time.Duration(db.stats.fn.Load())}
}
