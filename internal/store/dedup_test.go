package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/store"
	"github.com/tact-cdp/tact/internal/testenv"
)

func newKey(t *testing.T) [16]byte {
	var k [16]byte
	if _, err := rand.Read(k[:]); err != nil {
		t.Fatal(err)
	}
	return k
}

// claim runs InsertEvents for measurement-only rows with these keys,
// received at at, and reports which were duplicates.
func claim(t *testing.T, db *store.DB, at time.Time, keys ...[16]byte) []bool {
	t.Helper()
	var dup []bool
	err := db.Events().WriteEvents(context.Background(), func(tx collect.Tx) error {
		rows := make([]collect.Row, len(keys))
		for i, k := range keys {
			rows[i] = collect.Row{DedupKey: k, HasDedup: true, ReceivedAt: at}
		}
		var err error
		dup, err = tx.InsertEvents(context.Background(), rows)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dup
}

func wantDup(t *testing.T, what string, got []bool, want ...bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d answers, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: key %d duplicate = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestDedupWindow checks that a messageId key is stored once across
// transactions, handles on the same store (another process, another
// PostgreSQL node), restarts, rolled-back writes and the expiry of the
// window, on both stores.
func TestDedupWindow(t *testing.T) {
	for _, s := range testenv.Stores() {
		t.Run(s.Name, func(t *testing.T) {
			inst := s.New(t)
			db := inst.DB
			now := time.Now()
			a, b, c := newKey(t), newKey(t), newKey(t)

			wantDup(t, "first claims", claim(t, db, now, a, b, a), false, false, true)
			wantDup(t, "the same keys again", claim(t, db, now, a, b, c), true, true, false)

			// A write that fails after claiming leaves no claim behind, also
			// when it shares its transaction with writes that succeed (the
			// batch is redone with savepoints): rounds of concurrent writes,
			// every other one failing.
			var failed, committed [][16]byte
			for range 8 {
				keys := make([][16]byte, 8)
				errs := make([]error, len(keys))
				var wg sync.WaitGroup
				for i := range keys {
					keys[i] = newKey(t)
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs[i] = db.Events().WriteEvents(context.Background(), func(tx collect.Tx) error {
							if _, err := tx.InsertEvents(context.Background(), []collect.Row{{DedupKey: keys[i], HasDedup: true, ReceivedAt: now}}); err != nil {
								return err
							}
							if i%2 == 1 {
								return errors.New("this write fails")
							}
							return nil
						})
					}()
				}
				wg.Wait()
				for i, err := range errs {
					switch {
					case i%2 == 1 && err == nil:
						t.Fatalf("write %d: no error, want its own", i)
					case i%2 == 1:
						failed = append(failed, keys[i])
					case err != nil:
						t.Fatalf("write %d: %v", i, err)
					default:
						committed = append(committed, keys[i])
					}
				}
			}
			for _, dup := range claim(t, db, now, failed...) {
				if dup {
					t.Errorf("a key claimed only by a failed write is a duplicate")
				}
			}
			for _, dup := range claim(t, db, now, committed...) {
				if !dup {
					t.Errorf("a key claimed by a committed write is not a duplicate")
				}
			}
			d := failed[0]

			// Another handle on the same store sees this one's claims, and
			// this one sees the other's.
			other := inst.Open()
			wantDup(t, "other handle", claim(t, other, now, a, c, d), true, true, true)
			f := newKey(t)
			wantDup(t, "other handle's new key", claim(t, other, now, f), false)
			wantDup(t, "first handle after the other's claim", claim(t, db, now, f), true)

			// Keys claimed before the log existed are honoured.
			g := newKey(t)
			day := now.Unix() / 86400
			if inst.Dollar {
				inst.Exec("INSERT INTO event_dedup (key, day) VALUES ($1, $2)", g[:], day)
			} else {
				inst.Exec("INSERT INTO event_dedup (key, day) VALUES (?, ?)", g[:], day)
			}
			fresh := inst.Open()
			wantDup(t, "a new handle (a restart)", claim(t, fresh, now, a, f, g, newKey(t)), true, true, true, false)

			// Expiry forgets days before the cutoff, in memory and in the log.
			old := newKey(t)
			wantDup(t, "a key received 9 days ago", claim(t, db, now.Add(-9*24*time.Hour), old), false)
			if _, err := db.ExpireDedup(context.Background(), day-7); err != nil {
				t.Fatal(err)
			}
			wantDup(t, "the expired key, same handle", claim(t, db, now, old), false)
			restarted := inst.Open()
			if _, err := restarted.ExpireDedup(context.Background(), day-7); err != nil {
				t.Fatal(err)
			}
			wantDup(t, "recent keys after expiry, new handle", claim(t, restarted, now, a, b, old), true, true, true)
		})
	}
}
