package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/store"
	"github.com/tact-cdp/tact/internal/testenv"
)

// personalRows makes n personal event rows of a subject.
func personalRows(t *testing.T, subjectID string, n int) []collect.Row {
	t.Helper()
	now := time.Now()
	rs := make([]collect.Row, n)
	for i := range rs {
		rs[i] = collect.Row{DedupKey: newKey(t), HasDedup: true, Personal: true, SubjectID: subjectID,
			MessageID: fmt.Sprint(subjectID, "-", i), Type: "track", Event: "Product Viewed",
			OccurredAt: now, ReceivedAt: now, Purposes: 1, ReceiptID: "r-" + subjectID, Payload: []byte{1, 2, 3}}
	}
	return rs
}

func insert(rs []collect.Row) func(*store.Tx) error {
	return func(tx *store.Tx) error {
		_, err := tx.InsertEvents(context.Background(), rs)
		return err
	}
}

func countEvents(t *testing.T, db *store.DB, subjectID string) int {
	t.Helper()
	evs, err := db.Events().SubjectEvents(context.Background(), subjectID, store.AllPurposes, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// TestBatchEventRows checks the event rows a batch's writes leave pending
// until the end of the batch: later statements of the same transaction see
// them, a merge moves them, and a failing write loses only its own.
func TestBatchEventRows(t *testing.T) {
	ctx := context.Background()
	for _, s := range testenv.Stores() {
		t.Run(s.Name, func(t *testing.T) {
			db := s.New(t).DB

			// Another kind of write in the batch sees the rows appended
			// before it.
			var seen int
			errs := db.RunBatch([]func(*store.Tx) error{
				insert(personalRows(t, "subj-a", 3)),
				func(tx *store.Tx) (err error) { seen, err = tx.CountInTx(ctx, "subj-a"); return err },
			}, []bool{true, false})
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			if seen != 3 {
				t.Errorf("a later write of the batch saw %d of the 3 events appended before it", seen)
			}

			// A merge in the batch moves the rows still pending.
			errs = db.RunBatch([]func(*store.Tx) error{
				insert(personalRows(t, "subj-b", 4)),
				func(tx *store.Tx) error {
					if err := tx.MergeSubjects(ctx, "subj-b", "subj-c"); err != nil {
						return err
					}
					_, err := tx.InsertEvents(ctx, personalRows(t, "subj-c", 2))
					return err
				},
			}, []bool{true, true})
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			if got, want := countEvents(t, db, "subj-b"), 0; got != want {
				t.Errorf("merged-away subject holds %d events, want %d", got, want)
			}
			if got, want := countEvents(t, db, "subj-c"), 6; got != want {
				t.Errorf("merged subject holds %d events, want %d", got, want)
			}

			// A write failing after it appended rows loses them alone.
			boom := errors.New("boom")
			errs = db.RunBatch([]func(*store.Tx) error{
				insert(personalRows(t, "subj-d", 2)),
				func(tx *store.Tx) error {
					if _, err := tx.InsertEvents(ctx, personalRows(t, "subj-e", 5)); err != nil {
						return err
					}
					return boom
				},
				insert(personalRows(t, "subj-f", 1)),
			}, []bool{true, true, true})
			if errs[0] != nil || !errors.Is(errs[1], boom) || errs[2] != nil {
				t.Fatalf("errors %v, want nil, boom, nil", errs)
			}
			for subj, want := range map[string]int{"subj-d": 2, "subj-e": 0, "subj-f": 1} {
				if got := countEvents(t, db, subj); got != want {
					t.Errorf("%s holds %d events, want %d", subj, got, want)
				}
			}

			// A write whose rows the store refuses (here a payload that
			// is not there) fails alone: with savepoints, its rows must not
			// wait for the next write's flush.
			unstorable := personalRows(t, "subj-h", 2)
			unstorable[1].Payload = nil
			errs = db.RunBatch([]func(*store.Tx) error{
				insert(personalRows(t, "subj-g", 2)),
				insert(unstorable),
				insert(personalRows(t, "subj-i", 3)),
			}, []bool{true, true, true})
			if errs[0] != nil || errs[1] == nil || errs[2] != nil {
				t.Fatalf("errors %v, want nil, an error, nil", errs)
			}
			for subj, want := range map[string]int{"subj-g": 2, "subj-h": 0, "subj-i": 3} {
				if got := countEvents(t, db, subj); got != want {
					t.Errorf("%s holds %d events, want %d", subj, got, want)
				}
			}
		})
	}
}
