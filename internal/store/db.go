// Package store is tact's storage adapter: plain SQL over database/sql, one
// implementation for both dialects (SQLite and PostgreSQL differ only in how
// they are opened, migrated and how the ledger head is locked), with every
// write funnelled through a group-commit writer so that each acknowledged
// write is durable while fsyncs are shared between concurrent requests.
//
// The dialect packages (store/sqlite, store/postgres) open a DB; storetest
// holds the conformance suite both pass.
package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/ledger"
)

// Dialect is what differs between SQL engines.
type Dialect struct {
	Name string // "sqlite" or "postgres"
	// Dollar placeholders ($1, $2…) instead of ?.
	Dollar bool
	// LockLedgerHead reads the ledger size and, where the engine needs it,
	// locks the head row until the transaction ends.
	LockLedgerHead string
	// ForUpdate is the clause that locks the rows a SELECT reads ("" where
	// the engine has one writer at a time anyway).
	ForUpdate string
	// LockDedup takes the lock that serialises messageId claims between
	// processes until the transaction ends ("" where the engine has one
	// writer at a time anyway); see dedup.go.
	LockDedup string
	// WritableCTE: INSERTs may be chained in one statement with WITH.
	WritableCTE bool
	// ArrayInsert: many rows may be inserted in one statement of one shape
	// from arrays (unnest), one per column.
	ArrayInsert bool
	// Notify and Listen carry the ids of subjects whose consent changed
	// between nodes sharing the store (nil where there is one node).
	Notify func(ctx context.Context, subjectIDs []string) error
	Listen func(ctx context.Context, changed func(subjectIDs []string), logf func(msg string, err error))
	// BetweenBatches, when set, runs in the writer between transactions,
	// while the write connection is free (SQLite restarts its WAL there).
	BetweenBatches func()
	// Retryable reports whether a failed transaction may simply be retried
	// (lock contention, serialisation failure, deadlock).
	Retryable func(error) bool
}

// Options tune a DB.
type Options struct {
	// Writers is the number of group-commit writers. SQLite has one writer
	// connection, so one; PostgreSQL benefits from a few.
	Writers int
	// MaxBatch caps how many writes share one transaction.
	MaxBatch int
}

// DB is an open store.
type DB struct {
	dialect Dialect
	write   *sql.DB // writes (SQLite: exactly one connection)
	read    *sql.DB // reads
	opts    Options

	queue   chan *writeReq
	closing chan struct{}
	wg      sync.WaitGroup
	mu      sync.RWMutex // guards closed against sends on a closed queue
	closed  bool
	rebinds sync.Map
	// spareEventRows keeps the column slices of a batch's event rows for
	// the next batch (*eventRows).
	spareEventRows sync.Pool
	stmts          map[string]*sql.Stmt // hot queries, prepared on the write pool; read-only after New
	// queries prepared on demand by the writers (see prepared)
	dynStmts  sync.Map // query → *sql.Stmt
	wantStmts sync.Map // query → struct{}
	readStmts sync.Map // query → *sql.Stmt on the reader pool
	dynCount  atomic.Int32
	hashes    *hashCache
	dedup     *dedupWindow
	buckets   *bucketCounter
	stats     writerStats
	onClose   []func() error
}

// New wraps open connections. The dialect packages call it after migrating.
func New(d Dialect, write, read *sql.DB, opts Options, onClose ...func() error) (*DB, error) {
	if opts.Writers <= 0 {
		opts.Writers = 1
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	db := &DB{
		dialect: d, write: write, read: read, opts: opts,
		queue:   make(chan *writeReq, 4096),
		closing: make(chan struct{}),
		hashes:  newHashCache(1 << 16),
		dedup:   newDedupWindow(),
		buckets: &bucketCounter{},
		onClose: onClose,
		stmts:   map[string]*sql.Stmt{},
	}
	if err := db.prepareHot(); err != nil {
		return nil, err
	}
	for range opts.Writers {
		db.wg.Add(1)
		go db.writer()
	}
	return db, nil
}

// Writers is the number of group-commit writers.
func (db *DB) Writers() int { return db.opts.Writers }

// Dialect names the engine.
func (db *DB) Dialect() string { return db.dialect.Name }

// Close finishes the writes already queued, then closes the connections.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	close(db.queue)
	db.mu.Unlock()
	db.wg.Wait()
	db.dedup.close()
	for _, s := range db.stmts {
		s.Close()
	}
	for _, m := range []*sync.Map{&db.dynStmts, &db.readStmts} {
		m.Range(func(_, s any) bool { s.(*sql.Stmt).Close(); return true })
	}
	var errs []error
	// Hooks (SQLite's final WAL checkpoint) need the connections still open.
	for _, f := range db.onClose {
		errs = append(errs, f())
	}
	errs = append(errs, db.write.Close())
	if db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// q rewrites ? placeholders for the dialect. Queries are constants, so the
// result is cached.
func (db *DB) q(query string) string {
	if !db.dialect.Dollar {
		return query
	}
	if v, ok := db.rebinds.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	out := b.String()
	db.rebinds.Store(query, out)
	return out
}

// placeholder is the n-th bind parameter in the dialect's syntax.
func (db *DB) placeholder(n int) string {
	if db.dialect.Dollar {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// notFound maps a driver's no-rows error to ENOTFOUND so that it never leaks
// past the store.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return tact.Errorf(tact.ENOTFOUND, "%s not found", what)
	}
	return err
}

// micros and fromMicros store times as integer microseconds since the epoch in
// both dialects, so that the same SQL and scanning serve both.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// queryer is what reads run on: the reader pool, or a write transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// hashCache remembers ledger hashes. Stored hashes never change once
// committed, so the cache needs no invalidation; it only bounds its size.
type hashCache struct {
	mu  sync.RWMutex
	m   map[int64]ledger.Hash
	max int
}

func newHashCache(max int) *hashCache { return &hashCache{m: map[int64]ledger.Hash{}, max: max} }

func (c *hashCache) get(i int64) (ledger.Hash, bool) {
	c.mu.RLock()
	h, ok := c.m[i]
	c.mu.RUnlock()
	return h, ok
}

func (c *hashCache) put(hs map[int64]ledger.Hash) {
	c.mu.Lock()
	if len(c.m)+len(hs) > c.max {
		clear(c.m)
	}
	for i, h := range hs {
		c.m[i] = h
	}
	c.mu.Unlock()
}

func errClosed() error { return tact.Errorf(tact.EUNAVAILABLE, "the store is shutting down") }

// NotifySubjects tells the other nodes sharing the store that these
// subjects' consent changed (a no-op on a single-node store).
func (db *DB) NotifySubjects(ctx context.Context, subjectIDs []string) error {
	if db.dialect.Notify == nil || len(subjectIDs) == 0 {
		return nil
	}
	return db.dialect.Notify(ctx, subjectIDs)
}

// ListenSubjects calls changed with the subject ids other nodes publish
// until ctx ends; changed(nil) means "anything may have changed" (after a
// reconnection). It returns at once on a single-node store.
func (db *DB) ListenSubjects(ctx context.Context, changed func(subjectIDs []string), logf func(msg string, err error)) {
	if db.dialect.Listen == nil {
		return
	}
	db.dialect.Listen(ctx, changed, logf)
}

// SharedByNodes reports whether other tact processes may write the store
// concurrently and tell this one about it (PostgreSQL).
func (db *DB) SharedByNodes() bool { return db.dialect.Listen != nil }
