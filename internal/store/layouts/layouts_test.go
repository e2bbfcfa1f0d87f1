package layouts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/tact-cdp/tact/internal/testenv"
)

// event is what one stored event carries in every layout.
type event struct {
	writeKey  string
	messageID string
	subject   [16]byte
	typ       int
	name      string
	occurred  int64
	received  int64
	purposes  int64
	receiptID string
	path      string
	country   string
	device    string
	sealed    []byte // ~800 bytes: the sealed raw payload and traits
}

type layout struct {
	name   string
	schema []string // statements; {{BLOB}} and {{INT}} are replaced per dialect
	// write stores one commit group in tx.
	write func(tx *sql.Tx, d dialect, evs []event) error
}

type dialect struct {
	name   string
	dollar bool
}

func (d dialect) q(s string) string {
	if !d.dollar {
		return s
	}
	var b strings.Builder
	n := 0
	for _, c := range s {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (d dialect) types(s string) string {
	blob, intType, without := "BLOB", "INTEGER", " WITHOUT ROWID"
	if d.dollar {
		blob, intType, without = "BYTEA", "BIGINT", ""
	}
	return strings.NewReplacer("{{BLOB}}", blob, "{{INT}}", intType, "{{WITHOUT_ROWID}}", without, "{{SERIAL}}", serial(d)).Replace(s)
}

func serial(d dialect) string {
	if d.dollar {
		return "BIGSERIAL PRIMARY KEY"
	}
	return "INTEGER PRIMARY KEY"
}

// insertMany runs a multi-row INSERT in chunks of at most 100 rows.
func insertMany(tx *sql.Tx, d dialect, prefix string, cols int, args []any) error {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	for start := 0; start < len(args); start += 100 * cols {
		chunk := args[start:min(start+100*cols, len(args))]
		q := prefix + strings.TrimSuffix(strings.Repeat(row+", ", len(chunk)/cols), ", ")
		if _, err := tx.Exec(d.q(q), chunk...); err != nil {
			return err
		}
	}
	return nil
}

func dedupKey(e event) []byte {
	h := sha256.Sum256([]byte(e.writeKey + "\x00" + e.messageID))
	return h[:8]
}

var candidates = []layout{
	{
		// A: one row per event; dedup by a unique index on (write key,
		// messageId); a subject index for a shopper's events in time order.
		name: "row-per-event",
		schema: []string{
			`CREATE TABLE events (id {{SERIAL}}, write_key TEXT NOT NULL, message_id TEXT NOT NULL, subject {{BLOB}} NOT NULL,
				type {{INT}} NOT NULL, name TEXT NOT NULL, occurred_at {{INT}} NOT NULL, received_at {{INT}} NOT NULL,
				purposes {{INT}} NOT NULL, receipt_id TEXT NOT NULL, path TEXT NOT NULL, country TEXT NOT NULL, device TEXT NOT NULL, sealed {{BLOB}} NOT NULL)`,
			`CREATE UNIQUE INDEX events_dedup ON events (write_key, message_id)`,
			`CREATE INDEX events_subject ON events (subject, occurred_at)`,
		},
		write: func(tx *sql.Tx, d dialect, evs []event) error {
			args := make([]any, 0, 13*len(evs))
			for _, e := range evs {
				args = append(args, e.writeKey, e.messageID, e.subject[:], e.typ, e.name, e.occurred, e.received, e.purposes, e.receiptID, e.path, e.country, e.device, e.sealed)
			}
			return insertMany(tx, d, "INSERT INTO events (write_key, message_id, subject, type, name, occurred_at, received_at, purposes, receipt_id, path, country, device, sealed) VALUES ", 13, args)
		},
	},
	{
		// A': one row per event, compact keys: dedup in a WITHOUT ROWID table
		// keyed by an 8-byte hash of (write key, messageId); the subject index
		// on (subject, id).
		name: "row-per-event-compact",
		schema: []string{
			`CREATE TABLE events (id {{SERIAL}}, subject {{BLOB}} NOT NULL,
				type {{INT}} NOT NULL, name TEXT NOT NULL, occurred_at {{INT}} NOT NULL, received_at {{INT}} NOT NULL,
				purposes {{INT}} NOT NULL, receipt_id TEXT NOT NULL, path TEXT NOT NULL, country TEXT NOT NULL, device TEXT NOT NULL, sealed {{BLOB}} NOT NULL)`,
			`CREATE INDEX events_subject ON events (subject, id)`,
			`CREATE TABLE event_dedup (k {{BLOB}} PRIMARY KEY, at {{INT}} NOT NULL){{WITHOUT_ROWID}}`,
		},
		write: func(tx *sql.Tx, d dialect, evs []event) error {
			args := make([]any, 0, 11*len(evs))
			dedup := make([]any, 0, 2*len(evs))
			for _, e := range evs {
				args = append(args, e.subject[:], e.typ, e.name, e.occurred, e.received, e.purposes, e.receiptID, e.path, e.country, e.device, e.sealed)
				dedup = append(dedup, dedupKey(e), e.received)
			}
			if err := insertMany(tx, d, "INSERT INTO event_dedup (k, at) VALUES ", 2, dedup); err != nil {
				return err
			}
			return insertMany(tx, d, "INSERT INTO events (subject, type, name, occurred_at, received_at, purposes, receipt_id, path, country, device, sealed) VALUES ", 11, args)
		},
	},
	{
		// B: one row per commit group holding every event of the group (each
		// sealed on its own, with a small header); a compact per-subject
		// index (subject, group) with one entry per shopper per group; the
		// same bounded dedup table.
		name: "group-per-commit",
		schema: []string{
			`CREATE TABLE event_groups (id {{SERIAL}}, received_at {{INT}} NOT NULL, n {{INT}} NOT NULL, events {{BLOB}} NOT NULL)`,
			`CREATE TABLE event_subjects (subject {{BLOB}} NOT NULL, group_id {{INT}} NOT NULL, purposes {{INT}} NOT NULL, PRIMARY KEY (subject, group_id)){{WITHOUT_ROWID}}`,
			`CREATE TABLE event_dedup (k {{BLOB}} PRIMARY KEY, at {{INT}} NOT NULL){{WITHOUT_ROWID}}`,
		},
		write: func(tx *sql.Tx, d dialect, evs []event) error {
			var blob []byte
			subjects := map[[16]byte]int64{}
			dedup := make([]any, 0, 2*len(evs))
			for _, e := range evs {
				blob = binary.AppendUvarint(blob, uint64(len(e.sealed)+len(e.name)+len(e.path)+64))
				blob = append(blob, e.subject[:]...)
				blob = binary.AppendVarint(blob, e.occurred)
				blob = binary.AppendVarint(blob, e.purposes)
				blob = append(blob, e.name...)
				blob = append(blob, e.path...)
				blob = append(blob, e.sealed...)
				subjects[e.subject] |= e.purposes
				dedup = append(dedup, dedupKey(e), e.received)
			}
			var id int64
			if err := tx.QueryRow(d.q("INSERT INTO event_groups (received_at, n, events) VALUES (?, ?, ?) RETURNING id"), evs[0].received, len(evs), blob).Scan(&id); err != nil {
				return err
			}
			idx := make([]any, 0, 3*len(subjects))
			for s, p := range subjects {
				idx = append(idx, s[:], id, p)
			}
			if err := insertMany(tx, d, "INSERT INTO event_subjects (subject, group_id, purposes) VALUES ", 3, idx); err != nil {
				return err
			}
			return insertMany(tx, d, "INSERT INTO event_dedup (k, at) VALUES ", 2, dedup)
		},
	},
	{
		// A2: as A', but messageIds are claimed in an in-memory window and
		// each commit appends one row holding the group's keys (tact's
		// store since the in-memory window, store/dedup.go).
		name: "row-per-event-dedup-log",
		schema: []string{
			`CREATE TABLE events (id {{SERIAL}}, subject {{BLOB}} NOT NULL,
				type {{INT}} NOT NULL, name TEXT NOT NULL, occurred_at {{INT}} NOT NULL, received_at {{INT}} NOT NULL,
				purposes {{INT}} NOT NULL, receipt_id TEXT NOT NULL, path TEXT NOT NULL, country TEXT NOT NULL, device TEXT NOT NULL, sealed {{BLOB}} NOT NULL)`,
			`CREATE INDEX events_subject ON events (subject, id)`,
			`CREATE TABLE event_dedup_log (id {{SERIAL}}, day {{INT}} NOT NULL, keys {{BLOB}} NOT NULL)`,
		},
		write: func(tx *sql.Tx, d dialect, evs []event) error {
			return writeWithDedupLog(tx, d, evs)
		},
	},
	{
		// A3: as A2, without a subject index kept per insert: every 32nd
		// commit (~51,000 events) adds the new events' (subject, id) to a
		// side index in one sorted bulk insert, so that each index page is
		// written once per 32 commits instead of once per commit. Reads by
		// subject would use the side index plus a scan of the unindexed tail.
		name: "row-per-event-deferred-subject-index",
		schema: []string{
			`CREATE TABLE events (id {{SERIAL}}, subject {{BLOB}} NOT NULL,
				type {{INT}} NOT NULL, name TEXT NOT NULL, occurred_at {{INT}} NOT NULL, received_at {{INT}} NOT NULL,
				purposes {{INT}} NOT NULL, receipt_id TEXT NOT NULL, path TEXT NOT NULL, country TEXT NOT NULL, device TEXT NOT NULL, sealed {{BLOB}} NOT NULL)`,
			`CREATE TABLE event_subjects (subject {{BLOB}} NOT NULL, event_id {{INT}} NOT NULL, PRIMARY KEY (subject, event_id)){{WITHOUT_ROWID}}`,
			`CREATE TABLE event_subjects_head (upto {{INT}} NOT NULL)`,
			`INSERT INTO event_subjects_head (upto) VALUES (0)`,
			`CREATE TABLE event_dedup_log (id {{SERIAL}}, day {{INT}} NOT NULL, keys {{BLOB}} NOT NULL)`,
		},
		write: func(tx *sql.Tx, d dialect, evs []event) error {
			if err := writeWithDedupLog(tx, d, evs); err != nil {
				return err
			}
			deferredCommits++
			if deferredCommits%32 != 0 {
				return nil
			}
			if _, err := tx.Exec("INSERT INTO event_subjects (subject, event_id) SELECT subject, id FROM events WHERE id > (SELECT upto FROM event_subjects_head) ORDER BY subject, id"); err != nil {
				return err
			}
			_, err := tx.Exec("UPDATE event_subjects_head SET upto = (SELECT max(id) FROM events)")
			return err
		},
	},
	{
		// A4: as A2, with the subject index led by a bucket that advances
		// every ~16,000 events: a commit's index entries land in the current
		// bucket's few hundred pages instead of one page per event anywhere
		// in the index. Reads by subject seek once per bucket.
		name: "row-per-event-bucketed-subject-index",
		schema: []string{
			`CREATE TABLE events (id {{SERIAL}}, bucket {{INT}} NOT NULL, subject {{BLOB}} NOT NULL,
				type {{INT}} NOT NULL, name TEXT NOT NULL, occurred_at {{INT}} NOT NULL, received_at {{INT}} NOT NULL,
				purposes {{INT}} NOT NULL, receipt_id TEXT NOT NULL, path TEXT NOT NULL, country TEXT NOT NULL, device TEXT NOT NULL, sealed {{BLOB}} NOT NULL)`,
			`CREATE INDEX events_subject ON events (bucket, subject, id)`,
			`CREATE TABLE event_dedup_log (id {{SERIAL}}, day {{INT}} NOT NULL, keys {{BLOB}} NOT NULL)`,
		},
		write: func(tx *sql.Tx, d dialect, evs []event) error {
			keys, err := claimInMemory(tx, d, evs)
			if err != nil {
				return err
			}
			bucketed += len(evs)
			bucket := bucketed / 16384
			args := make([]any, 0, 12*len(evs))
			for _, e := range evs {
				args = append(args, bucket, e.subject[:], e.typ, e.name, e.occurred, e.received, e.purposes, e.receiptID, e.path, e.country, e.device, e.sealed)
			}
			if err := insertMany(tx, d, "INSERT INTO event_dedup_log (day, keys) VALUES ", 2, []any{evs[0].received / 86_400_000_000, keys}); err != nil {
				return err
			}
			return insertMany(tx, d, "INSERT INTO events (bucket, subject, type, name, occurred_at, received_at, purposes, receipt_id, path, country, device, sealed) VALUES ", 12, args)
		},
	},
}

// bucketed counts the events the bucketed layout wrote.
var bucketed int

// deferredCommits counts the deferred-index layout's commits.
var deferredCommits int

// writeWithDedupLog claims the events' messageIds in the in-memory window,
// appends the group's keys as one log row and inserts the events.
func writeWithDedupLog(tx *sql.Tx, d dialect, evs []event) error {
	keys, err := claimInMemory(tx, d, evs)
	if err != nil {
		return err
	}
	args := make([]any, 0, 11*len(evs))
	for _, e := range evs {
		args = append(args, e.subject[:], e.typ, e.name, e.occurred, e.received, e.purposes, e.receiptID, e.path, e.country, e.device, e.sealed)
	}
	if err := insertMany(tx, d, "INSERT INTO event_dedup_log (day, keys) VALUES ", 2, []any{evs[0].received / 86_400_000_000, keys}); err != nil {
		return err
	}
	return insertMany(tx, d, "INSERT INTO events (subject, type, name, occurred_at, received_at, purposes, receipt_id, path, country, device, sealed) VALUES ", 11, args)
}

// dbWindows are the in-memory dedup windows of the dedup-log layouts, per
// database.
var dbWindows = map[string]map[[16]byte]bool{}

// claimInMemory claims the events' 16-byte dedup keys in the window of tx's
// database and returns them concatenated; a repeated one is an error, like
// a unique index's.
func claimInMemory(tx *sql.Tx, d dialect, evs []event) ([]byte, error) {
	q := "SELECT file FROM pragma_database_list WHERE name = 'main'"
	if d.name == "postgres" {
		q = "SELECT current_database()"
	}
	var dbName string
	if err := tx.QueryRow(q).Scan(&dbName); err != nil {
		return nil, err
	}
	w := dbWindows[dbName]
	if w == nil {
		w = map[[16]byte]bool{}
		dbWindows[dbName] = w
	}
	keys := make([]byte, 0, 16*len(evs))
	for _, e := range evs {
		h := sha256.Sum256([]byte(e.writeKey + "\x00" + e.messageID))
		if w[[16]byte(h[:16])] {
			return nil, fmt.Errorf("messageId %s was stored before", e.messageID)
		}
		keys = append(keys, h[:16]...)
	}
	for i := 0; i < len(keys); i += 16 {
		w[[16]byte(keys[i:])] = true // only once the whole group is accepted
	}
	return keys, nil
}

// gen makes realistic events: shoppers from a pool, 800 bytes of sealed
// payload, e-commerce names and templated paths.
type gen struct {
	rng      *mrand.Rand
	subjects [][16]byte
	now      int64
}

func newGen(shoppers int) *gen {
	g := &gen{rng: mrand.New(mrand.NewPCG(1, 2)), now: time.Now().UnixMicro()}
	for range shoppers {
		var s [16]byte
		rand.Read(s[:])
		g.subjects = append(g.subjects, s)
	}
	return g
}

var names = []string{"Product Viewed", "Product Added", "Cart Viewed", "Checkout Started", "Order Completed", "Products Searched", "Page Viewed"}
var paths = []string{"/products/:id", "/category/mens-shoes", "/cart", "/checkout", "/search", "/"}

func (g *gen) batch(n int) []event {
	evs := make([]event, n)
	for i := range evs {
		sealed := make([]byte, 800)
		rand.Read(sealed)
		var id [16]byte
		rand.Read(id[:])
		g.now++
		evs[i] = event{
			writeKey: "wk_0123456789abcdef", messageID: fmt.Sprintf("%x-%x-%x-%x-%x", id[:4], id[4:6], id[6:8], id[8:10], id[10:]),
			subject: g.subjects[g.rng.IntN(len(g.subjects))], typ: 1, name: names[g.rng.IntN(len(names))],
			occurred: g.now, received: g.now, purposes: 3, receiptID: "rc_0123456789abcdefghijklmnopqrstuv",
			path: paths[g.rng.IntN(len(paths))], country: "DE", device: "mobile", sealed: sealed,
		}
	}
	return evs
}

// Sizes: the table is filled to prefill events first (indexes of a shop's
// working size), then commits of group events each are timed.
const (
	prefill = 300_000
	group   = 1600 // 16 clients × batches of 100, one group commit
	timed   = 100  // commit groups timed per benchmark iteration
)

// openSQLite opens SQLite as tact does (WAL, synchronous=FULL, checkpoints
// kept out of the commit path: tact runs them in the background). The page
// size is checked: modernc applies DSN pragmas in lexical order, so a
// page_size other than the default does not take once journal_mode=WAL ran.
func openSQLite(pageSize int) func(t testing.TB) (*sql.DB, dialect, func() int64) {
	return func(t testing.TB) (*sql.DB, dialect, func() int64) {
		path := filepath.Join(t.TempDir(), "events.db")
		db, err := sql.Open("sqlite", fmt.Sprintf("file:%s?_pragma=busy_timeout(10000)&_pragma=page_size(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(0)&_txlock=immediate", path, pageSize))
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { db.Close() })
		var got int
		if err := db.QueryRow("PRAGMA page_size").Scan(&got); err != nil || got != pageSize {
			t.Fatalf("page_size = %d (%v), want %d", got, err, pageSize)
		}
		// No checkpoint runs during the benchmark (wal_autocheckpoint(0)), so
		// the WAL file only grows: its size is the bytes written.
		return db, dialect{name: "sqlite"}, func() int64 {
			fi, err := os.Stat(path + "-wal")
			if err != nil {
				return 0
			}
			return fi.Size()
		}
	}
}

func openPostgres(t testing.TB) (*sql.DB, dialect, func() int64) {
	db, err := sql.Open("pgx", testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	walBytes := func() int64 {
		var lsn string
		var n int64
		if err := db.QueryRow("SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
			return 0
		}
		var hi, lo int64
		fmt.Sscanf(lsn, "%X/%X", &hi, &lo)
		n = hi<<32 | lo
		return n
	}
	return db, dialect{name: "postgres", dollar: true}, walBytes
}

type storeOpener struct {
	name string
	open func(testing.TB) (*sql.DB, dialect, func() int64)
}

func stores() []storeOpener {
	return []storeOpener{{"sqlite", openSQLite(4096)}, {"postgres", openPostgres}}
}

func commit(tb testing.TB, db *sql.DB, d dialect, l layout, evs []event) {
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := l.write(tx, d, evs); err != nil {
		tx.Rollback()
		tb.Fatalf("%s: %v", l.name, err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkLayouts reports events/s and WAL bytes per event for each
// layout on each store. Run it on an idle machine:
//
//	go test -run '^$' -bench Layouts -benchtime 1x ./internal/store/layouts/
func BenchmarkLayouts(b *testing.B) {
	for _, st := range stores() {
		for _, l := range candidates {
			b.Run(st.name+"/"+l.name, func(b *testing.B) {
				db, d, wal := st.open(b)
				for _, s := range l.schema {
					if _, err := db.Exec(d.types(s)); err != nil {
						b.Fatal(err)
					}
				}
				g := newGen(100_000)
				for range prefill / group {
					commit(b, db, d, l, g.batch(group))
				}
				batches := make([][]event, timed)
				for i := range batches {
					batches[i] = g.batch(group)
				}
				b.ResetTimer()
				var events int
				var walStart = wal()
				start := time.Now()
				for b.Loop() {
					for _, evs := range batches {
						commit(b, db, d, l, evs)
						events += len(evs)
					}
					b.StopTimer()
					for i := range batches { // fresh message ids for the next round
						batches[i] = g.batch(group)
					}
					b.StartTimer()
				}
				elapsed := time.Since(start)
				b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
				if w := wal() - walStart; w > 0 {
					b.ReportMetric(float64(w)/float64(events), "WAL-bytes/event")
				}
			})
		}
	}
}

// TestLayoutsWrite checks that every candidate layout's schema and writer
// work on both stores (the benchmark is only worth its numbers if they do),
// and that the dedup keys reject a repeated messageId.
func TestLayoutsWrite(t *testing.T) {
	for _, st := range stores() {
		for _, l := range candidates {
			t.Run(st.name+"/"+l.name, func(t *testing.T) {
				db, d, _ := st.open(t)
				for _, s := range l.schema {
					if _, err := db.Exec(d.types(s)); err != nil {
						t.Fatal(err)
					}
				}
				g := newGen(10)
				evs := g.batch(50)
				commit(t, db, d, l, evs)
				tx, _ := db.Begin()
				defer tx.Rollback()
				if err := l.write(tx, d, evs[:1]); err == nil {
					t.Errorf("%s: a repeated messageId was stored again", l.name)
				}
			})
		}
	}
}
