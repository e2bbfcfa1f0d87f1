package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tact-cdp/tact/internal/ledger"
)

// writeReq is one caller's unit of work waiting for a batch.
type writeReq struct {
	ctx context.Context
	fn  func(*Tx) error
	// appendsEvents: fn only adds event rows and counts (WriteEvents), so
	// it need not see the rows earlier writes of the batch left pending.
	appendsEvents bool
	done          chan error
}

// WriteTx runs fn in a write transaction shared with other concurrent
// writes (group commit) and returns once that transaction is durably
// committed, or fn's own error (its changes rolled back to a savepoint without
// disturbing the others).
func (db *DB) WriteTx(ctx context.Context, fn func(*Tx) error) error {
	return db.writeTx(ctx, fn, false)
}

func (db *DB) writeTx(ctx context.Context, fn func(*Tx) error, appendsEvents bool) error {
	req := &writeReq{ctx: ctx, fn: fn, appendsEvents: appendsEvents, done: make(chan error, 1)}

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
		db.prepareWanted()
		if db.dialect.BetweenBatches != nil {
			db.dialect.BetweenBatches()
		}
		t0 := time.Now()
		db.commitBatch(batch)
		db.stats.batches.Add(1)
		db.stats.writes.Add(int64(len(batch)))
		db.stats.busy.Add(int64(time.Since(t0)))
	}
}

// errRedoWithSavepoints asks commitBatch to run the batch again, each write
// in a savepoint of its own, because one write failed.
var errRedoWithSavepoints = errors.New("store: a write failed; redoing the batch with savepoints")

// commitBatch runs a batch in one transaction. Writes run back to back
// without savepoints (the common case, where none fails); if one fails, the
// batch is run again with a savepoint around each write, so the failing one
// is rolled back alone. The whole batch is retried when the engine reports
// contention.
func (db *DB) commitBatch(batch []*writeReq) {
	results := make([]error, len(batch))
	savepoints := false
	var err error
	for attempt := 0; ; attempt++ {
		err = db.tryBatch(batch, results, savepoints)
		if err == errRedoWithSavepoints {
			savepoints = true
			continue
		}
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

func (db *DB) tryBatch(batch []*writeReq, results []error, savepoints bool) error {
	clear(results) // a retried batch must not report an earlier attempt's errors
	ctx := context.Background()
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	tx := &Tx{db: db, tx: sqlTx, newHashes: map[int64]ledger.Hash{}, pendingIDs: map[string]bool{}, savepoints: savepoints || len(batch) == 1}
	if e, ok := db.spareEventRows.Get().(*eventRows); ok {
		tx.events = *e // the column slices of an earlier batch, emptied
	}
	defer func() {
		spare := tx.events
		spare.reset()
		db.spareEventRows.Put(&spare)
	}()
	retryable := func(err error) bool { return db.dialect.Retryable != nil && db.dialect.Retryable(err) }
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if !savepoints {
			if !r.appendsEvents {
				// Any other write sees the batch's events so far.
				if err := tx.flushEvents(ctx); err != nil {
					sqlTx.Rollback()
					if retryable(err) {
						return err
					}
					return errRedoWithSavepoints
				}
			}
			t0 := time.Now()
			err := r.fn(tx)
			db.stats.fn.Add(int64(time.Since(t0)))
			if err == nil {
				continue
			}
			sqlTx.Rollback()
			switch {
			case retryable(err):
				return err
			case len(batch) > 1:
				return errRedoWithSavepoints
			}
			results[i] = err
			return nil
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
			if retryable(err) {
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
	if err := tx.flushEvents(ctx); err != nil {
		sqlTx.Rollback()
		if !savepoints && !retryable(err) {
			return errRedoWithSavepoints
		}
		return err
	}
	if err := tx.flushLedger(ctx); err != nil {
		sqlTx.Rollback()
		if errors.Is(err, errDuplicateReceipt) && !savepoints {
			return errRedoWithSavepoints
		}
		return err
	}
	if err := tx.flushBuckets(ctx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := tx.flushDedup(ctx); err != nil {
		sqlTx.Rollback()
		return err
	}
	t0 := time.Now()
	if err := sqlTx.Commit(); err != nil {
		return err
	}
	db.stats.commit.Add(int64(time.Since(t0)))
	db.hashes.put(tx.newHashes)
	tx.commitDedup()
	return nil
}

// Tx is a write transaction shared by a batch of writes.
type Tx struct {
	db *DB
	tx *sql.Tx
	// receipts waiting for their leaves, and the hashes the flush wrote
	pending    []pendingLeaf
	pendingIDs map[string]bool
	// new subjects written by the flush (PostgreSQL)
	freshSubjects []freshSubject
	newHashes     map[int64]ledger.Hash
	// savepoints: each write runs alone, so its errors must show at once.
	savepoints bool
	// messageId claims (dedup.go)
	dedupSynced  bool
	dedupSeen    map[uint64]struct{}
	dedupPending []dedupClaim
	dedupLastID  int64
	// event buckets written (buckets.go)
	buckets map[int64]bool
	// event rows and counts not yet written (events.go)
	events eventRows
}

type txSnapshot struct{ pending, fresh, claims int }

func (t *Tx) snapshot() txSnapshot {
	return txSnapshot{pending: len(t.pending), fresh: len(t.freshSubjects), claims: len(t.dedupPending)}
}

func (t *Tx) restore(s txSnapshot) {
	for _, p := range t.pending[s.pending:] {
		delete(t.pendingIDs, p.r.ID)
	}
	t.pending = t.pending[:s.pending]
	t.freshSubjects = t.freshSubjects[:s.fresh]
	t.dropClaimsAfter(s.claims)
	// In savepoints every write flushes its own events; what a failed
	// write left pending goes with it.
	t.events.reset()
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
		qSetTokenGen, qSaveSubject, qSubjectKey, qSetLedgerSize, qReceiptExists, db.dialect.LockLedgerHead,
		qSavepoint, qRelease, qRollbackTo}
}

func (db *DB) prepareHot() error {
	qs := db.hotQueries()
	if db.dialect.WritableCTE {
		for n := 1; n <= maxCTEIdentities; n++ {
			qs = append(qs, qCreateSubjectCTE(n))
		}
	}
	for _, q := range qs {
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
	if stmt := t.db.prepared(query); stmt != nil {
		_, err = t.tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	} else {
		_, err = t.tx.ExecContext(ctx, t.db.q(query), args...)
	}
	return err
}

func (t *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if stmt := t.db.prepared(query); stmt != nil {
		return t.tx.StmtContext(ctx, stmt).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.db.q(query), args...)
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if stmt := t.db.prepared(query); stmt != nil {
		return t.tx.StmtContext(ctx, stmt).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.db.q(query), args...)
}

// maxDynamicStmts bounds the statements prepared on demand (multi-row
// INSERTs come in one shape per row count).
const maxDynamicStmts = 1024

// prepared returns the prepared form of a write query, or nil. A query run
// unprepared is noted, and the writer prepares it between transactions (the
// write connection is busy inside one), so that the engine parses each
// statement shape once rather than on every batch.
func (db *DB) prepared(query string) *sql.Stmt {
	if s, ok := db.stmts[query]; ok {
		return s
	}
	if s, ok := db.dynStmts.Load(query); ok {
		return s.(*sql.Stmt)
	}
	if db.dynCount.Load() < maxDynamicStmts {
		db.wantStmts.Store(query, struct{}{})
	}
	return nil
}

// prepareWanted prepares the queries noted by prepared; the writer calls it
// while no transaction holds the write connection.
func (db *DB) prepareWanted() {
	db.wantStmts.Range(func(k, _ any) bool {
		q := k.(string)
		db.wantStmts.Delete(q)
		if _, ok := db.dynStmts.Load(q); ok || db.dynCount.Load() >= maxDynamicStmts {
			return true
		}
		s, err := db.write.Prepare(db.q(q))
		if err != nil {
			return true // it runs unprepared, as before
		}
		if _, loaded := db.dynStmts.LoadOrStore(q, s); loaded {
			s.Close() // another writer prepared it meanwhile
			return true
		}
		db.dynCount.Add(1)
		return true
	})
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
