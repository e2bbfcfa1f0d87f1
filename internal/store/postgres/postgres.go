// Package postgres opens tact's PostgreSQL store, for shops that outgrow one
// machine: several tact nodes may share one database. Ledger appends are
// serialised by a row lock on the ledger head; everything else runs
// concurrently.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"

	"github.com/tact-cdp/tact/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects to url, migrates, and returns the store.
func Open(ctx context.Context, url string) (*store.DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	if err := store.Migrate(ctx, db, goose.DialectPostgres, sub, true); err != nil {
		db.Close()
		return nil, err
	}
	self := newOrigin()
	d := store.Dialect{
		Name:           "postgres",
		Dollar:         true,
		WritableCTE:    true,
		ArrayInsert:    true,
		ForUpdate:      " FOR UPDATE",
		LockLedgerHead: "SELECT size FROM ledger_head WHERE id = 1 FOR UPDATE",
		// Serialises messageId claims between nodes (store/dedup.go); the
		// number is tact's own ("tact" in ASCII, then 1).
		LockDedup: "SELECT pg_advisory_xact_lock(1952539508001)",
		Retryable: retryable,
		Notify:    func(ctx context.Context, ids []string) error { return notify(ctx, db, self, ids) },
		Listen: func(ctx context.Context, changed func([]string), logf func(string, error)) {
			listen(ctx, url, self, changed, logf)
		},
	}
	s, err := store.New(d, db, db, store.Options{Writers: 1, MaxBatch: 256})
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
	}
	return false
}
