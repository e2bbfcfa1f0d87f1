// Package sqlite opens tact's embedded store: a SQLite database file in the
// data directory, in WAL mode with synchronous=FULL so that a committed write
// survives power loss, one writer connection (with group commit in package
// store) and a pool of read-only connections.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tact-cdp/tact/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "tact.db"

// dsn sets pragmas in the order PocketBase does: busy_timeout first so that
// the others wait for a lock instead of failing, then WAL, synchronous FULL,
// foreign keys, and secure_delete so erased rows are overwritten.
func dsn(path string, readOnly bool) string {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous(FULL)")
	v.Add("_pragma", "foreign_keys(ON)")
	v.Add("_pragma", "secure_delete(ON)")
	// Statement journals for savepoints stay in memory, not temp files.
	v.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		// Each reader connection has a cache of its own; the OS page cache
		// serves them too, so they stay small to bound tact's memory.
		v.Add("_pragma", "cache_size(-4096)")
		v.Add("_pragma", "query_only(ON)")
	} else {
		// The writer's cache keeps the index pages that random keys
		// (pseudonyms) touch; event writes touch only the current bucket's
		// region of the subject index (docs/storage.md).
		v.Add("_pragma", "cache_size(-8192)")
		v.Set("_txlock", "immediate")
		// Checkpoints run in the background (see checkpointer), not in
		// the commit path of the single writer.
		v.Add("_pragma", "wal_autocheckpoint(0)")
	}
	return "file:" + path + "?" + v.Encode()
}

// Open opens (creating and migrating when needed) the store in dir.
func Open(ctx context.Context, dir string) (*store.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: creating the data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	if err := store.Migrate(ctx, write, goose.DialectSQLite3, sub, false); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, err
	}
	n := max(2, runtime.NumCPU())
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	var cp *checkpointer
	d := store.Dialect{
		Name: "sqlite",
		// A RESTART checkpoint takes the write lock and waits for readers
		// to leave the WAL. Run from the checkpointer's connection it held
		// the writer off in busy-handler sleeps (40–60 ms stalls of ingest);
		// run by the writer itself, between its transactions, it waits only
		// for readers.
		BetweenBatches: func() {
			if cp != nil && cp.wantRestart.Swap(false) {
				write.Exec("PRAGMA wal_checkpoint(RESTART)")
			}
		},
		LockLedgerHead: "SELECT size FROM ledger_head WHERE id = 1",
		Retryable:      retryable,
	}
	cp, err = newCheckpointer(path)
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	closeCheckpointer := func() error {
		cp.stop()
		// Fold the WAL into the main file so erased data leaves the log too.
		_, err := write.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		return err
	}
	db, err := store.New(d, write, read, store.Options{Writers: 1, MaxBatch: 512}, closeCheckpointer)
	if err != nil {
		cp.stop()
		write.Close()
		read.Close()
		return nil, err
	}
	return db, nil
}

func retryable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// checkpointer copies the WAL into the database file in the background, on
// a connection of its own. A PASSIVE checkpoint never blocks the writer, so
// commits are not stalled behind it; it runs when the WAL has grown.
type checkpointer struct {
	db          *sql.DB
	wantRestart atomic.Bool
	done        chan struct{}
	wg          sync.WaitGroup
}

func newCheckpointer(path string) (*checkpointer, error) {
	// A checkpoint copies WAL frames to the database file without the page
	// cache, so this connection keeps a small one.
	db, err := sql.Open("sqlite", dsn(path, false)+"&_pragma=cache_size(-1024)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, done: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer c.wg.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			var busy, logFrames, done int
			// Errors here are transient (busy); the next tick tries again.
			c.db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done)
			if logFrames > 0 && logFrames == done && logFrames > 20000 {
				// Everything is copied: the writer restarts the WAL from
				// the beginning instead of growing it (restartWAL).
				c.wantRestart.Store(true)
			}
		}
	}
}

func (c *checkpointer) stop() {
	close(c.done)
	c.wg.Wait()
	c.db.Close()
}
