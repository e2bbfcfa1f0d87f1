// Package testenv gives tests the real components they run against: a
// SQLite store in a temp dir and, when TACT_TEST_POSTGRES_URL is set, a fresh
// PostgreSQL database. Without PostgreSQL such tests skip with a message,
// except under CI=true, where a missing component fails the test so that CI
// always runs them.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/tact-cdp/tact/internal/store"
	"github.com/tact-cdp/tact/internal/store/postgres"
	"github.com/tact-cdp/tact/internal/store/sqlite"
)

// CI reports whether the tests run in CI, where nothing may be skipped for a
// missing component.
func CI() bool { return os.Getenv("CI") == "true" }

// SkipOrFail skips the test with why, or fails it under CI.
func SkipOrFail(t testing.TB, why string) {
	t.Helper()
	if CI() {
		t.Fatalf("%s (CI=true: this test must run)", why)
	}
	t.Skip(why)
}

// PostgresURL returns the URL of a fresh, empty PostgreSQL database that is
// dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TACT_TEST_POSTGRES_URL")
	if base == "" {
		SkipOrFail(t, "PostgreSQL tests need TACT_TEST_POSTGRES_URL (bash .ci/run sets it up)")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	name := "tact_t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		SkipOrFail(t, "cannot create a PostgreSQL test database at TACT_TEST_POSTGRES_URL: "+err.Error())
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("TACT_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	return u.String()
}

// Instance is one opened store for a test.
type Instance struct {
	DB *store.DB
	// Args are the --data/--database flags that reach the same store from a
	// command.
	Args []string
	// Exec runs raw SQL on the store behind tact's back (to tamper with it).
	Exec func(query string, args ...any)
	// Dollar reports whether raw SQL uses $1 placeholders.
	Dollar bool
	// Dump returns every byte the store holds that a thief could read: the
	// SQLite files (database, WAL, shared memory), or on PostgreSQL the text
	// of every row of every table.
	Dump func() []byte
	// Backup copies the store as it is now (SQLite: VACUUM INTO; PostgreSQL:
	// pg_dump) and returns what restores that copy as a new store.
	Backup func() (restore func() Instance)
	// Open opens another handle on the same store, as a second process (a
	// command beside tact serve) or PostgreSQL node would; the test's
	// cleanup closes it.
	Open func() *store.DB
}

// Store is a way to open a store for a test.
type Store struct {
	Name string
	New  func(t testing.TB) Instance
}

// Stores lists both implementations; run a test table against each.
func Stores() []Store {
	return []Store{
		{Name: "sqlite", New: func(t testing.TB) Instance {
			dir := t.TempDir()
			open := func() *store.DB {
				db, err := sqlite.Open(context.Background(), dir)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
			return Instance{DB: open(), Open: open, Args: []string{"--data", dir}, Exec: rawExec(t, "sqlite", "file:"+dir+"/"+sqlite.FileName+"?_pragma=busy_timeout(10000)"),
				Dump: func() []byte { return dumpDir(t, dir) }, Backup: func() func() Instance { return backupSQLite(t, dir) }}
		}},
		{Name: "postgres", New: func(t testing.TB) Instance {
			u := PostgresURL(t)
			open := func() *store.DB {
				db, err := postgres.Open(context.Background(), u)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
			return Instance{DB: open(), Open: open, Args: []string{"--data", t.TempDir(), "--database", u}, Exec: rawExec(t, "pgx", u), Dollar: true,
				Dump: func() []byte { return dumpPostgres(t, u) }, Backup: func() func() Instance { return backupPostgres(t, u) }}
		}},
	}
}

func rawExec(t testing.TB, driver, dsn string) func(string, ...any) {
	return func(q string, args ...any) {
		t.Helper()
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("raw SQL %q: %v", q, err)
		}
	}
}

func dumpDir(t testing.TB, dir string) []byte {
	t.Helper()
	var out []byte
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

func dumpPostgres(t testing.TB, dsn string) []byte {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var out []byte
	for _, tbl := range tables {
		// Text form of each row; bytea columns come out as hex, so the
		// raw bytes are decoded back too.
		rs, err := db.Query("SELECT t::text FROM " + tbl + " t")
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var line string
			rs.Scan(&line)
			out = append(out, line...)
			out = append(out, '\n')
			for _, f := range strings.Split(line, "\\\\x") {
				n := 0
				for n < len(f) && strings.IndexByte("0123456789abcdef", f[n]) >= 0 {
					n++
				}
				if b, err := hex.DecodeString(f[:n&^1]); err == nil {
					out = append(out, b...)
				}
			}
		}
		rs.Close()
	}
	return out
}

// backupSQLite copies the database with VACUUM INTO (a consistent copy of a
// live database); restoring opens the copy as a store of its own.
func backupSQLite(t testing.TB, dir string) func() Instance {
	t.Helper()
	copyDir := t.TempDir()
	rawExec(t, "sqlite", "file:"+dir+"/"+sqlite.FileName+"?_pragma=busy_timeout(10000)")("VACUUM INTO '" + filepath.Join(copyDir, sqlite.FileName) + "'")
	return func() Instance {
		db, err := sqlite.Open(context.Background(), copyDir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return Instance{DB: db, Args: []string{"--data", copyDir}, Dump: func() []byte { return dumpDir(t, copyDir) }}
	}
}

// backupPostgres dumps the database with pg_dump; restoring loads the dump
// into a new database with pg_restore.
func backupPostgres(t testing.TB, dsn string) func() Instance {
	t.Helper()
	file := filepath.Join(t.TempDir(), "backup.dump")
	if out, err := exec.Command("pg_dump", "--format=custom", "--file="+file, "--dbname="+dsn).CombinedOutput(); err != nil {
		SkipOrFail(t, fmt.Sprintf("pg_dump failed (%v): %s", err, out))
	}
	return func() Instance {
		u := PostgresURL(t)
		if out, err := exec.Command("pg_restore", "--no-owner", "--dbname="+u, file).CombinedOutput(); err != nil {
			t.Fatalf("pg_restore: %v: %s", err, out)
		}
		db, err := postgres.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return Instance{DB: db, Args: []string{"--database", u}, Dollar: true, Dump: func() []byte { return dumpPostgres(t, u) }}
	}
}
