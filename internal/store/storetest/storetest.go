// Package storetest is the conformance suite every store implementation
// passes (STYLE habit 3): one table of subtests, run against SQLite and
// PostgreSQL alike, that exercises the store only through its exported API.
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/ledger"
	"github.com/tact-cdp/tact/internal/store"
	"github.com/tact-cdp/tact/internal/vault"
)

// Run runs the whole suite. open must return a fresh, empty, migrated store
// for each call; the suite opens one per subtest and closes it itself only
// where the subtest is about closing.
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	tests := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"SubjectAndIdentityRoundTrip", testSubjectAndIdentityRoundTrip},
		{"EmptySubject", testEmptySubject},
		{"MissingRowsAreNotFound", testMissingRowsAreNotFound},
		{"SubjectHasKind", testSubjectHasKind},
		{"SetIdentitySubjectAndTokenGen", testSetIdentitySubjectAndTokenGen},
		{"SaveSubject", testSaveSubject},
		{"MergeSubjects", testMergeSubjects},
		{"GroupCommitConcurrentWrites", testGroupCommitConcurrentWrites},
		{"GroupCommitFailedWriteRollsBackAlone", testGroupCommitFailedWriteRollsBackAlone},
		{"CancelledWriteDoesNotRun", testCancelledWriteDoesNotRun},
		{"LedgerReceiptRoundTrip", testLedgerReceiptRoundTrip},
		{"LedgerConcurrentAppends", testLedgerConcurrentAppends},
		{"LedgerFailedAppendsConsumeNoIndex", testLedgerFailedAppendsConsumeNoIndex},
		{"LedgerConcurrentAppendsWithFailures", testLedgerConcurrentAppendsWithFailures},
		{"Checkpoints", testCheckpoints},
		{"Notices", testNotices},
		{"Credentials", testCredentials},
		{"Meta", testMeta},
		{"ShredSubject", testShredSubject},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			tt.run(t, newEnv(t, db))
		})
	}
}

// env is one subtest's store with a real vault to make keys and seal salts.
type env struct {
	ctx   context.Context
	db    *store.DB
	vault *vault.Vault
}

func newEnv(t *testing.T, db *store.DB) *env {
	root, err := vault.GenerateRootSecret()
	if err != nil {
		t.Fatal(err)
	}
	return &env{ctx: t.Context(), db: db, vault: vault.New(root, nil)}
}

// base is a time with microsecond precision, the precision the store keeps.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

func at(minutes int) time.Time { return base.Add(time.Duration(minutes) * time.Minute) }

// newKey returns a fresh data key as the store keeps it, and the key itself
// for sealing.
func (e *env) newKey(t *testing.T) (consent.StoredKey, vault.DataKey) {
	t.Helper()
	id, dk, w, err := e.vault.NewDataKey(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return consent.StoredKey{ID: id, Wrapped: w}, dk
}

func (e *env) pseudonym(kind vault.Kind, value string) vault.Pseudonym {
	return e.vault.Pseudonym(vault.UseIdentity, kind, value)
}

// subject is a subject with its key and identities, as created in the store.
type subject struct {
	consent.Subject
	key        consent.StoredKey
	dk         vault.DataKey
	identities []consent.Identity
}

func state(receiptID string, since time.Time) consent.State {
	return consent.State{
		"analytics":       {Granted: true, Version: "2025-01", ReceiptID: receiptID, Method: consent.MethodBanner, Since: since, Expires: since.AddDate(1, 0, 0)},
		"marketing_email": {Granted: false, Pending: true, Version: "2025-02", ReceiptID: receiptID, Method: consent.MethodAPI, Since: since.Add(time.Second)},
	}
}

// newSubject builds (without storing) a subject with one anonymous id and
// one email identity.
func (e *env) newSubject(t *testing.T, id string, created time.Time) subject {
	t.Helper()
	k, dk := e.newKey(t)
	return subject{
		Subject: consent.Subject{ID: id, CreatedAt: created, Minor: true, GPCAt: created.Add(time.Minute), State: state("rcpt-"+id, created)},
		key:     k,
		dk:      dk,
		identities: []consent.Identity{
			{Pseudonym: e.pseudonym(vault.KindAnonymousID, "anon-"+id), Kind: vault.KindAnonymousID, SubjectID: id, TokenGen: 3, CreatedAt: created},
			{Pseudonym: e.pseudonym(vault.KindEmail, id+"@example.com"), Kind: vault.KindEmail, SubjectID: id, CreatedAt: created.Add(time.Second)},
		},
	}
}

func (s subject) create(ctx context.Context, tx *store.Tx) error {
	if err := tx.CreateSubject(ctx, s.Subject, s.key); err != nil {
		return err
	}
	for _, id := range s.identities {
		if err := tx.AddIdentity(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// createSubject builds and stores a subject.
func (e *env) createSubject(t *testing.T, id string, created time.Time) subject {
	t.Helper()
	s := e.newSubject(t, id, created)
	e.write(t, s.create)
	return s
}

// receipt builds a receipt of subject s the way the consent service does: a
// random salt sealed under the subject's data key and a commitment to it.
func (e *env) receipt(t *testing.T, id string, s subject, created time.Time) consent.StoredReceipt {
	t.Helper()
	salt := []byte(fmt.Sprintf("salt-%s-%032d", id, created.UnixMicro()))[:ledger.SaltSize]
	sealed, err := s.dk.Seal(consent.SaltField, salt)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(fmt.Sprintf(`{"id":%q,"subject":%q,"purposes":{"analytics":true}}`, id, s.ID))
	return consent.StoredReceipt{
		ID: id, SubjectID: s.ID, Body: body, SealedSalt: sealed,
		Commitment: ledger.Commitment(salt, body), CreatedAt: created,
	}
}

// write runs fn in a write transaction and fails the test on error.
func (e *env) write(t *testing.T, fn func(context.Context, *store.Tx) error) {
	t.Helper()
	if err := e.db.WriteTx(e.ctx, func(tx *store.Tx) error { return fn(e.ctx, tx) }); err != nil {
		t.Fatalf("WriteTx: %v", err)
	}
}

// appendReceipts appends receipts one write each and returns their indexes.
func (e *env) appendReceipts(t *testing.T, rs ...consent.StoredReceipt) []int64 {
	t.Helper()
	var out []int64
	for _, r := range rs {
		var n int64
		e.write(t, func(ctx context.Context, tx *store.Tx) error {
			return tx.AppendReceipt(ctx, r, &n)
		})
		out = append(out, n)
	}
	return out
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if got := tact.ErrorCode(err); got != tact.ENOTFOUND {
		t.Errorf("%s: got error %v (code %q), want code %q", what, err, got, tact.ENOTFOUND)
	}
	if errors.Is(err, sql.ErrNoRows) {
		t.Errorf("%s: error %v wraps sql.ErrNoRows; driver errors must not leak past the store", what, err)
	}
}

func (e *env) wantSubject(t *testing.T, want consent.Subject) {
	t.Helper()
	got, err := e.db.Consent().Subject(e.ctx, want.ID)
	if err != nil {
		t.Errorf("Subject(%s): %v", want.ID, err)
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Subject(%s) mismatch (-want +got):\n%s", want.ID, diff)
	}
}

func (e *env) wantIdentity(t *testing.T, want consent.Identity) {
	t.Helper()
	got, err := e.db.Consent().Identity(e.ctx, want.Pseudonym)
	if err != nil {
		t.Errorf("Identity(%s): %v", want.Kind, err)
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Identity(%s) mismatch (-want +got):\n%s", want.Kind, diff)
	}
}

func (e *env) wantStats(t *testing.T, want store.Stats) {
	t.Helper()
	got, err := e.db.Stats(e.ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if got != want {
		t.Errorf("Stats: got %+v, want %+v", got, want)
	}
}

// checkTree reads every receipt in leaf order and checks that the stored
// tree is exactly the tree an in-memory log builds from the same leaves: the
// stored leaf hashes, every stored hash, the size and the root. It returns the
// receipts.
func (e *env) checkTree(t *testing.T) []consent.LeafReceipt {
	t.Helper()
	var got []consent.LeafReceipt
	var mem ledger.MemoryTree
	err := e.db.Ledger().Receipts(e.ctx, math.MaxInt64, func(r consent.LeafReceipt, h ledger.Hash) error {
		if want := int64(len(got)); r.LeafIndex != want {
			t.Errorf("Receipts: receipt %s at position %d has leaf index %d, want %d (leaf order, no gaps)", r.ID, want, r.LeafIndex, want)
		}
		leaf := ledger.LeafHash(ledger.LeafData(r.ID, r.Commitment))
		if h != leaf {
			t.Errorf("Receipts: stored leaf hash of %s is %v, want %v", r.ID, h, leaf)
		}
		got = append(got, r)
		return mem.Append(leaf)
	})
	if err != nil {
		t.Fatalf("Receipts: %v", err)
	}
	size, err := e.db.Ledger().Size(e.ctx)
	if err != nil {
		t.Fatalf("Size: %v", err)
	}
	if size != mem.Size() {
		t.Fatalf("Size: got %d, want %d (the number of receipts)", size, mem.Size())
	}
	stored := e.db.Ledger().HashReader(e.ctx)
	n := ledger.StoredHashIndex(0, size)
	indexes := make([]int64, n)
	for i := range indexes {
		indexes[i] = int64(i)
	}
	hashes, err := stored.ReadHashes(indexes)
	if err != nil {
		t.Fatalf("reading %d stored hashes: %v", n, err)
	}
	for i, h := range hashes {
		if want := mem.StoredHash(int64(i)); h != want {
			t.Errorf("stored hash %d: got %v, want %v (in-memory tree)", i, h, want)
		}
	}
	gotRoot, err := ledger.TreeHash(size, stored)
	if err != nil {
		t.Fatalf("TreeHash(%d) over the store: %v", size, err)
	}
	wantRoot, err := ledger.TreeHash(size, &mem)
	if err != nil {
		t.Fatal(err)
	}
	if gotRoot != wantRoot {
		t.Errorf("tree root of size %d: got %v, want %v (in-memory tree)", size, gotRoot, wantRoot)
	}
	return got
}

// batches records which fns of a test ran in which shared transaction, to
// show that failing and succeeding writes really shared one batch.
type batches struct {
	mu   sync.Mutex
	byTx map[*store.Tx][]bool // tx -> outcome (true: fn failed) of each fn run in it
}

func (b *batches) record(tx *store.Tx, failed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byTx == nil {
		b.byTx = map[*store.Tx][]bool{}
	}
	b.byTx[tx] = append(b.byTx[tx], failed)
}

// mixed reports whether some transaction ran both a failing and a
// succeeding fn.
func (b *batches) mixed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, outcomes := range b.byTx {
		if slices.Contains(outcomes, true) && slices.Contains(outcomes, false) {
			return true
		}
	}
	return false
}

// concurrently runs WriteTx for fns[i] all at once while the writer is held
// busy by another write, so that they pile up in the queue and share
// batches; it returns each WriteTx's error.
func (e *env) concurrently(t *testing.T, fns []func(*store.Tx) error) []error {
	t.Helper()
	entered, release := make(chan struct{}), make(chan struct{})
	blocker := make(chan error, 1)
	go func() {
		blocker <- e.db.WriteTx(e.ctx, func(*store.Tx) error {
			close(entered)
			<-release
			return nil
		})
	}()
	<-entered
	errs := make([]error, len(fns))
	var done, calling sync.WaitGroup
	calling.Add(len(fns))
	for i, fn := range fns {
		done.Go(func() {
			calling.Done()
			errs[i] = e.db.WriteTx(e.ctx, fn)
		})
	}
	calling.Wait()
	close(release)
	done.Wait()
	if err := <-blocker; err != nil {
		t.Fatalf("blocking write: %v", err)
	}
	return errs
}

func testSubjectAndIdentityRoundTrip(t *testing.T, e *env) {
	s := e.createSubject(t, "subj-a", at(0))
	e.wantSubject(t, s.Subject)
	for _, id := range s.identities {
		e.wantIdentity(t, id)
	}
	// The same reads inside a write transaction.
	e.write(t, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.Subject(ctx, s.ID)
		if err != nil {
			t.Errorf("tx.Subject: %v", err)
		} else if diff := cmp.Diff(s.Subject, got); diff != "" {
			t.Errorf("tx.Subject mismatch (-want +got):\n%s", diff)
		}
		for _, want := range s.identities {
			got, ok, err := tx.Identity(ctx, want.Pseudonym)
			if err != nil || !ok {
				t.Errorf("tx.Identity(%s): got ok=%v err=%v, want ok=true err=nil", want.Kind, ok, err)
				continue
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tx.Identity(%s) mismatch (-want +got):\n%s", want.Kind, diff)
			}
		}
		k, err := tx.SubjectKey(ctx, s.ID)
		if err != nil {
			t.Errorf("tx.SubjectKey: %v", err)
		} else if diff := cmp.Diff(s.key, k); diff != "" {
			t.Errorf("tx.SubjectKey mismatch (-want +got):\n%s", diff)
		}
		return nil
	})
	// A write made inside a transaction is visible to later reads in it.
	e.write(t, func(ctx context.Context, tx *store.Tx) error {
		id := consent.Identity{Pseudonym: e.pseudonym(vault.KindUserID, "u-1"), Kind: vault.KindUserID, SubjectID: s.ID, CreatedAt: at(5)}
		if err := tx.AddIdentity(ctx, id); err != nil {
			return err
		}
		got, ok, err := tx.Identity(ctx, id.Pseudonym)
		if err != nil || !ok {
			t.Errorf("tx.Identity of an identity added in the same tx: got ok=%v err=%v, want ok=true err=nil", ok, err)
		} else if diff := cmp.Diff(id, got); diff != "" {
			t.Errorf("tx.Identity mismatch (-want +got):\n%s", diff)
		}
		return nil
	})
	e.wantStats(t, store.Stats{Subjects: 1})
}

func testEmptySubject(t *testing.T, e *env) {
	k, _ := e.newKey(t)
	s := consent.Subject{ID: "subj-empty", CreatedAt: at(0)}
	e.write(t, func(ctx context.Context, tx *store.Tx) error { return tx.CreateSubject(ctx, s, k) })
	got, err := e.db.Consent().Subject(e.ctx, s.ID)
	if err != nil {
		t.Fatalf("Subject: %v", err)
	}
	if got.State == nil {
		t.Errorf("Subject: got a nil State, want an empty non-nil State so callers can record into it")
	}
	want := consent.Subject{ID: s.ID, CreatedAt: at(0), State: consent.State{}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Subject mismatch (-want +got):\n%s", diff)
	}
	if !got.GPCAt.IsZero() || got.Minor {
		t.Errorf("Subject: got GPCAt=%v Minor=%v, want zero GPCAt and Minor=false", got.GPCAt, got.Minor)
	}
}

func testMissingRowsAreNotFound(t *testing.T, e *env) {
	// One of each, so "missing" is not confused with "empty store".
	s := e.createSubject(t, "subj-present", at(0))
	e.appendReceipts(t, e.receipt(t, "rcpt-present", s, at(1)))
	missing := e.pseudonym(vault.KindEmail, "nobody@example.com")
	ctx := e.ctx
	ls := e.db.Ledger()

	lookups := []struct {
		name string
		err  func() error
	}{
		{"Consent().Identity", func() error { _, err := e.db.Consent().Identity(ctx, missing); return err }},
		{"Consent().Subject", func() error { _, err := e.db.Consent().Subject(ctx, "subj-missing"); return err }},
		{"Consent().Notice", func() error { _, err := e.db.Consent().Notice(ctx, "v-missing"); return err }},
		{"Ledger().Receipt", func() error { _, err := ls.Receipt(ctx, "rcpt-missing"); return err }},
		{"Ledger().ReceiptKey", func() error { _, err := ls.ReceiptKey(ctx, "rcpt-missing"); return err }},
		{"Ledger().Checkpoint", func() error { _, err := ls.Checkpoint(ctx, 1); return err }},
		{"Ledger().LatestCheckpoint (none yet)", func() error { _, err := ls.LatestCheckpoint(ctx); return err }},
		{"Ledger().CheckpointCovering (none yet)", func() error { _, err := ls.CheckpointCovering(ctx, 0); return err }},
		{"Meta", func() error { _, err := e.db.Meta(ctx, "missing"); return err }},
		{"CredentialByHash", func() error { _, err := e.db.CredentialByHash(ctx, []byte("no such hash")); return err }},
		{"RevokeCredential", func() error { return e.db.RevokeCredential(ctx, "cred-missing") }},
		{"tx.Subject", func() error {
			var got error
			e.write(t, func(ctx context.Context, tx *store.Tx) error { _, got = tx.Subject(ctx, "subj-missing"); return nil })
			return got
		}},
		{"tx.SubjectKey", func() error {
			var got error
			e.write(t, func(ctx context.Context, tx *store.Tx) error { _, got = tx.SubjectKey(ctx, "subj-missing"); return nil })
			return got
		}},
	}
	for _, l := range lookups {
		wantNotFound(t, l.name, l.err())
	}

	// The transaction's Identity reports absence as ok=false, not an error.
	e.write(t, func(ctx context.Context, tx *store.Tx) error {
		got, ok, err := tx.Identity(ctx, missing)
		if err != nil || ok {
			t.Errorf("tx.Identity(missing): got ok=%v err=%v, want ok=false err=nil", ok, err)
		}
		if got.SubjectID != "" {
			t.Errorf("tx.Identity(missing): got SubjectID %q, want empty", got.SubjectID)
		}
		return nil
	})
}

func testSubjectHasKind(t *testing.T, e *env) {
	a := e.createSubject(t, "subj-a", at(0)) // anonymous id and email
	b := e.createSubject(t, "subj-b", at(1))
	e.write(t, func(ctx context.Context, tx *store.Tx) error {
		return tx.AddIdentity(ctx, consent.Identity{Pseudonym: e.pseudonym(vault.KindUserID, "user-b"), Kind: vault.KindUserID, SubjectID: b.ID, CreatedAt: at(2)})
	})
	tests := []struct {
		subject string
		kind    vault.Kind
		want    bool
	}{
		{a.ID, vault.KindEmail, true},
		{a.ID, vault.KindAnonymousID, true},
		{a.ID, vault.KindUserID, false},
		{b.ID, vault.KindUserID, true},
		{"subj-missing", vault.KindEmail, false},
	}
	e.write(t, func(ctx context.Context, tx *store.Tx) error {
		for _, tt := range tests {
			got, err := tx.SubjectHasKind(ctx, tt.subject, tt.kind)
			if err != nil {
				t.Errorf("SubjectHasKind(%s, %s): %v", tt.subject, tt.kind, err)
			} else if got != tt.want {
				t.Errorf("SubjectHasKind(%s, %s): got %v, want %v", tt.subject, tt.kind, got, tt.want)
			}
		}
		return nil
	})
}

func testSetIdentitySubjectAndTokenGen(t *testing.T, e *env) {
	a := e.createSubject(t, "subj-a", at(0))
	b := e.createSubject(t, "subj-b", at(1))
	moved, kept := a.identities[0], a.identities[1]
	e.write(t, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.SetIdentitySubject(ctx, moved.Pseudonym, b.ID); err != nil {
			return err
		}
		return tx.SetTokenGen(ctx, moved.Pseudonym, 7)
	})
	moved.SubjectID, moved.TokenGen = b.ID, 7
	e.wantIdentity(t, moved)
	e.wantIdentity(t, kept)
	e.wantIdentity(t, b.identities[0])

	// The whole uint32 range survives.
	e.write(t, func(ctx context.Context, tx *store.Tx) error {
		return tx.SetTokenGen(ctx, moved.Pseudonym, 1<<32-1)
	})
	moved.TokenGen = 1<<32 - 1
	e.wantIdentity(t, moved)
}

func testSaveSubject(t *testing.T, e *env) {
	s := e.createSubject(t, "subj-a", at(0))
	other := e.createSubject(t, "subj-b", at(0))
	s.Minor = false
	s.GPCAt = time.Time{}
	s.State = state("rcpt-later", at(30))
	s.State["advertising"] = consent.Record{Version: "2025-03", ReceiptID: "rcpt-later", Method: consent.MethodGPC, Since: at(31)}
	e.write(t, func(ctx context.Context, tx *store.Tx) error { return tx.SaveSubject(ctx, s.Subject) })
	e.wantSubject(t, s.Subject)
	e.wantSubject(t, other.Subject)
}

func testMergeSubjects(t *testing.T, e *env) {
	into := e.createSubject(t, "subj-into", at(0))
	from := e.createSubject(t, "subj-from", at(10)) // newer: its key is the newest after the merge
	bystander := e.createSubject(t, "subj-other", at(20))
	rInto := e.receipt(t, "rcpt-into", into, at(1))
	rFrom := e.receipt(t, "rcpt-from", from, at(11))
	rOther := e.receipt(t, "rcpt-other", bystander, at(21))
	e.appendReceipts(t, rInto, rFrom, rOther)

	e.write(t, func(ctx context.Context, tx *store.Tx) error { return tx.MergeSubjects(ctx, from.ID, into.ID) })

	_, err := e.db.Consent().Subject(e.ctx, from.ID)
	wantNotFound(t, "Subject(merged-away subject)", err)
	e.wantSubject(t, into.Subject)
	e.wantSubject(t, bystander.Subject)
	for _, id := range from.identities {
		id.SubjectID = into.ID
		e.wantIdentity(t, id)
	}
	for _, id := range into.identities {
		e.wantIdentity(t, id)
	}
	for _, tt := range []struct {
		id, subject string
	}{{rInto.ID, into.ID}, {rFrom.ID, into.ID}, {rOther.ID, bystander.ID}} {
		r, err := e.db.Ledger().Receipt(e.ctx, tt.id)
		if err != nil {
			t.Errorf("Receipt(%s): %v", tt.id, err)
		} else if r.SubjectID != tt.subject {
			t.Errorf("Receipt(%s).SubjectID: got %q, want %q", tt.id, r.SubjectID, tt.subject)
		}
	}
	e.write(t, func(ctx context.Context, tx *store.Tx) error {
		k, err := tx.SubjectKey(ctx, into.ID)
		if err != nil {
			t.Errorf("SubjectKey(into): %v", err)
		} else if diff := cmp.Diff(from.key, k); diff != "" {
			t.Errorf("SubjectKey(into) after merge: want the newest key, the merged subject's (-want +got):\n%s", diff)
		}
		_, err = tx.SubjectKey(ctx, from.ID)
		wantNotFound(t, "SubjectKey(merged-away subject)", err)
		for _, kind := range []vault.Kind{vault.KindAnonymousID, vault.KindEmail} {
			if got, err := tx.SubjectHasKind(ctx, from.ID, kind); err != nil || got {
				t.Errorf("SubjectHasKind(merged-away subject, %s): got %v, %v, want false, nil", kind, got, err)
			}
		}
		return nil
	})
	// The receipt still finds the key that sealed its salt.
	k, err := e.db.Ledger().ReceiptKey(e.ctx, rFrom.ID)
	if err != nil {
		t.Errorf("ReceiptKey(%s): %v", rFrom.ID, err)
	} else if diff := cmp.Diff(from.key, k); diff != "" {
		t.Errorf("ReceiptKey(%s) mismatch (-want +got):\n%s", rFrom.ID, diff)
	}
	e.wantStats(t, store.Stats{Receipts: 3, Subjects: 2})

	// Shredding the survivor shreds the merged-in key too: it really moved.
	if err := e.db.ShredSubject(e.ctx, into.ID); err != nil {
		t.Fatalf("ShredSubject: %v", err)
	}
	for _, id := range []string{rInto.ID, rFrom.ID} {
		_, err := e.db.Ledger().ReceiptKey(e.ctx, id)
		wantNotFound(t, "ReceiptKey("+id+") after shredding the merged subject", err)
	}
	if _, err := e.db.Ledger().ReceiptKey(e.ctx, rOther.ID); err != nil {
		t.Errorf("ReceiptKey(%s) of an untouched subject: %v", rOther.ID, err)
	}
}

func testGroupCommitConcurrentWrites(t *testing.T, e *env) {
	const n = 200
	subjects := make([]subject, n)
	for i := range subjects {
		subjects[i] = e.newSubject(t, fmt.Sprintf("subj-%03d", i), at(i))
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, s := range subjects {
		wg.Go(func() {
			<-start
			errs[i] = e.db.WriteTx(e.ctx, func(tx *store.Tx) error { return s.create(e.ctx, tx) })
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: got %v, want nil", i, err)
		}
	}
	for _, s := range subjects {
		e.wantSubject(t, s.Subject)
		for _, id := range s.identities {
			e.wantIdentity(t, id)
		}
	}
	e.wantStats(t, store.Stats{Subjects: n})
}

var errRefused = errors.New("storetest: fn refused")

func testGroupCommitFailedWriteRollsBackAlone(t *testing.T, e *env) {
	existing := e.createSubject(t, "subj-existing", at(0))

	// Each write is one of three kinds: it succeeds; it writes and then
	// returns its own error; or it writes and then hits a failing statement
	// (a duplicate primary key), whose error it returns.
	const (
		succeeds = iota
		refuses
		failsSQL
	)
	const n = 150
	var rec batches
	for round := 0; round < 5; round++ {
		kinds := make([]int, n)
		subjects := make([]subject, n)
		wantErrs := make([]error, n)
		fns := make([]func(*store.Tx) error, n)
		for i := range fns {
			kinds[i] = i % 3
			subjects[i] = e.newSubject(t, fmt.Sprintf("subj-r%d-%03d", round, i), at(i))
			wantErrs[i] = fmt.Errorf("write %d of round %d: %w", i, round, errRefused)
			s, kind, wantErr := subjects[i], kinds[i], wantErrs[i]
			fns[i] = func(tx *store.Tx) error {
				err := s.create(e.ctx, tx)
				if err == nil {
					// Read back in the transaction, then change it again.
					var got consent.Subject
					if got, err = tx.Subject(e.ctx, s.ID); err == nil {
						got.State["written"] = consent.Record{Granted: true, Version: "w", Since: at(99)}
						err = tx.SaveSubject(e.ctx, got)
					}
				}
				switch {
				case err != nil:
				case kind == refuses:
					err = wantErr
				case kind == failsSQL:
					dup := existing.Subject
					dup.State = consent.State{}
					err = tx.CreateSubject(e.ctx, dup, s.key)
					if err == nil {
						err = errors.New("creating a subject with an existing id succeeded")
					}
				}
				rec.record(tx, err != nil)
				return err
			}
		}
		errs := e.concurrently(t, fns)

		for i, err := range errs {
			switch kinds[i] {
			case succeeds:
				if err != nil {
					t.Errorf("round %d: succeeding write %d: got %v, want nil", round, i, err)
				}
				want := subjects[i].Subject
				want.State = want.State.Clone()
				want.State["written"] = consent.Record{Granted: true, Version: "w", Since: at(99)}
				e.wantSubject(t, want)
				e.wantIdentity(t, subjects[i].identities[1])
			case refuses, failsSQL:
				if kinds[i] == refuses && !errors.Is(err, wantErrs[i]) {
					t.Errorf("round %d: refusing write %d: got error %v, want its own error %v unchanged", round, i, err, wantErrs[i])
				}
				if kinds[i] == failsSQL && err == nil {
					t.Errorf("round %d: write %d with a duplicate key: got nil error, want the statement's error", round, i)
				}
				_, err := e.db.Consent().Subject(e.ctx, subjects[i].ID)
				wantNotFound(t, fmt.Sprintf("round %d: Subject written by failed write %d", round, i), err)
				for _, id := range subjects[i].identities {
					_, err := e.db.Consent().Identity(e.ctx, id.Pseudonym)
					wantNotFound(t, fmt.Sprintf("round %d: Identity written by failed write %d", round, i), err)
				}
			}
		}
		if t.Failed() || rec.mixed() {
			break
		}
	}
	if !rec.mixed() {
		t.Errorf("no transaction ran both a failing and a succeeding write in 5 rounds of %d concurrent writes; group commit with per-write rollback was not exercised", n)
	}
	e.wantSubject(t, existing.Subject)
}

func testCancelledWriteDoesNotRun(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	var ran atomic.Bool
	err := e.db.WriteTx(ctx, func(tx *store.Tx) error {
		ran.Store(true)
		return tx.CreateSubject(ctx, consent.Subject{ID: "subj-cancelled", CreatedAt: at(0)}, consent.StoredKey{Wrapped: vault.WrappedKey{KEK: "local-v1", Blob: []byte{1}}})
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("WriteTx with a cancelled context: got %v, want context.Canceled", err)
	}
	if ran.Load() {
		t.Errorf("WriteTx with a cancelled context ran its fn, want it not run")
	}
	_, err = e.db.Consent().Subject(e.ctx, "subj-cancelled")
	wantNotFound(t, "Subject of the cancelled write", err)
}

func testLedgerReceiptRoundTrip(t *testing.T, e *env) {
	a := e.createSubject(t, "subj-a", at(0))
	b := e.createSubject(t, "subj-b", at(0))
	rs := []consent.StoredReceipt{
		e.receipt(t, "rcpt-1", a, at(1)),
		e.receipt(t, "rcpt-2", b, at(2)),
		e.receipt(t, "rcpt-3", a, at(3)),
	}
	// A receipt without a subject (SubjectID empty) is stored as such.
	anon := e.receipt(t, "rcpt-4", a, at(4))
	anon.SubjectID = ""
	rs = append(rs, anon)

	got := e.appendReceipts(t, rs...)
	if diff := cmp.Diff([]int64{0, 1, 2, 3}, got); diff != "" {
		t.Errorf("AppendReceipt leaf indexes (-want +got):\n%s", diff)
	}
	// Several appends in one fn get consecutive indexes.
	more := []consent.StoredReceipt{e.receipt(t, "rcpt-5", b, at(5)), e.receipt(t, "rcpt-6", b, at(6)), e.receipt(t, "rcpt-7", a, at(7))}
	gotMore := make([]int64, len(more))
	e.write(t, func(ctx context.Context, tx *store.Tx) error {
		for i, r := range more {
			if err := tx.AppendReceipt(ctx, r, &gotMore[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if diff := cmp.Diff([]int64{4, 5, 6}, gotMore); diff != "" {
		t.Errorf("AppendReceipt leaf indexes within one fn (-want +got):\n%s", diff)
	}
	rs = append(rs, more...)
	keys := map[string]consent.StoredKey{"rcpt-1": a.key, "rcpt-2": b.key, "rcpt-3": a.key, "rcpt-4": a.key, "rcpt-5": b.key, "rcpt-6": b.key, "rcpt-7": a.key}

	for i, want := range rs {
		want.LeafIndex = int64(i)
		got, err := e.db.Ledger().Receipt(e.ctx, want.ID)
		if err != nil {
			t.Errorf("Receipt(%s): %v", want.ID, err)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Receipt(%s) mismatch (-want +got):\n%s", want.ID, diff)
		}
		k, err := e.db.Ledger().ReceiptKey(e.ctx, want.ID)
		if err != nil {
			t.Errorf("ReceiptKey(%s): %v", want.ID, err)
		} else if diff := cmp.Diff(keys[want.ID], k); diff != "" {
			t.Errorf("ReceiptKey(%s) mismatch (-want +got):\n%s", want.ID, diff)
		}
	}

	leaves := e.checkTree(t)
	var wantLeaves []consent.LeafReceipt
	for i, r := range rs {
		r.LeafIndex = int64(i)
		k := keys[r.ID]
		wantLeaves = append(wantLeaves, consent.LeafReceipt{StoredReceipt: r, Key: &k})
	}
	if diff := cmp.Diff(wantLeaves, leaves); diff != "" {
		t.Errorf("Receipts mismatch (-want +got):\n%s", diff)
	}
	e.wantStats(t, store.Stats{Receipts: int64(len(rs)), Subjects: 2})

	// An error from the callback stops the iteration and comes back.
	calls := 0
	errStop := errors.New("stop")
	err := e.db.Ledger().Receipts(e.ctx, math.MaxInt64, func(consent.LeafReceipt, ledger.Hash) error { calls++; return errStop })
	if !errors.Is(err, errStop) || calls != 1 {
		t.Errorf("Receipts with a failing callback: got err=%v after %d calls, want %v after 1 call", err, calls, errStop)
	}

	// A receipt id is unique.
	err = e.db.WriteTx(e.ctx, func(tx *store.Tx) error { return tx.AppendReceipt(e.ctx, rs[0], nil) })
	if err == nil {
		t.Errorf("appending receipt %s a second time: got nil error, want an error", rs[0].ID)
	}
	e.checkTree(t)
}

func testLedgerConcurrentAppends(t *testing.T, e *env) {
	const n = 200
	s := e.createSubject(t, "subj-a", at(0))
	rs := make([]consent.StoredReceipt, n)
	for i := range rs {
		rs[i] = e.receipt(t, fmt.Sprintf("rcpt-%03d", i), s, at(i))
	}
	idx := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, r := range rs {
		wg.Go(func() {
			<-start
			errs[i] = e.db.WriteTx(e.ctx, func(tx *store.Tx) error {
				return tx.AppendReceipt(e.ctx, r, &idx[i])
			})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	checkIndexes(t, idx, n)
	for i, r := range rs {
		got, err := e.db.Ledger().Receipt(e.ctx, r.ID)
		if err != nil {
			t.Errorf("Receipt(%s): %v", r.ID, err)
		} else if got.LeafIndex != idx[i] {
			t.Errorf("Receipt(%s).LeafIndex: got %d, want %d (the index AppendReceipt returned)", r.ID, got.LeafIndex, idx[i])
		}
	}
	e.checkTree(t)
	e.wantStats(t, store.Stats{Receipts: n, Subjects: 1})
}

// checkIndexes checks that the indexes the appends returned are 0..n-1, each
// once.
func checkIndexes(t *testing.T, idx []int64, n int) {
	t.Helper()
	sorted := slices.Sorted(slices.Values(idx))
	want := make([]int64, n)
	for i := range want {
		want[i] = int64(i)
	}
	if diff := cmp.Diff(want, sorted); diff != "" {
		t.Errorf("leaf indexes returned by AppendReceipt, sorted: want 0..%d each once (-want +got):\n%s", n-1, diff)
	}
}

func testLedgerFailedAppendsConsumeNoIndex(t *testing.T, e *env) {
	s := e.createSubject(t, "subj-a", at(0))
	r0, r1, r2, r3, r4 := e.receipt(t, "rcpt-0", s, at(0)), e.receipt(t, "rcpt-1", s, at(1)), e.receipt(t, "rcpt-2", s, at(2)), e.receipt(t, "rcpt-3", s, at(3)), e.receipt(t, "rcpt-4", s, at(4))

	if got := e.appendReceipts(t, r0); got[0] != 0 {
		t.Errorf("first append: got index %d, want 0", got[0])
	}
	// A fn that appends two receipts and then fails.
	err := e.db.WriteTx(e.ctx, func(tx *store.Tx) error {
		for _, r := range []consent.StoredReceipt{r1, r2} {
			if err := tx.AppendReceipt(e.ctx, r, nil); err != nil {
				return err
			}
		}
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Fatalf("failing write: got %v, want %v", err, errRefused)
	}
	// A fn whose append fails on a duplicate id.
	err = e.db.WriteTx(e.ctx, func(tx *store.Tx) error { return tx.AppendReceipt(e.ctx, r0, nil) })
	if err == nil {
		t.Fatalf("appending a duplicate receipt id: got nil error, want an error")
	}
	if got := e.appendReceipts(t, r3); got[0] != 1 {
		t.Errorf("append after failed appends: got index %d, want 1", got[0])
	}
	for _, r := range []consent.StoredReceipt{r1, r2} {
		_, err := e.db.Ledger().Receipt(e.ctx, r.ID)
		wantNotFound(t, "Receipt appended by a failed write", err)
	}
	// The receipts of the failed write may be appended later.
	if got := e.appendReceipts(t, r1, r4); !slices.Equal(got, []int64{2, 3}) {
		t.Errorf("appends after failures: got indexes %v, want [2 3]", got)
	}
	leaves := e.checkTree(t)
	var ids []string
	for _, l := range leaves {
		ids = append(ids, l.ID)
	}
	if diff := cmp.Diff([]string{"rcpt-0", "rcpt-3", "rcpt-1", "rcpt-4"}, ids); diff != "" {
		t.Errorf("receipts in leaf order (-want +got):\n%s", diff)
	}
}

func testLedgerConcurrentAppendsWithFailures(t *testing.T, e *env) {
	s := e.createSubject(t, "subj-a", at(0))
	const n = 150
	var rec batches
	var ok []consent.StoredReceipt
	var okIdx []int64
	for round := 0; round < 5; round++ {
		rs := make([]consent.StoredReceipt, n)
		idx := make([]int64, n)
		fns := make([]func(*store.Tx) error, n)
		failed := make([]bool, n)
		for i := range fns {
			rs[i] = e.receipt(t, fmt.Sprintf("rcpt-r%d-%03d", round, i), s, at(i))
			r, refuses := rs[i], i%3 == 1
			// From the second round on, some appends reuse the id of a
			// committed receipt: a statement inside the fn fails.
			dup := round > 0 && i%6 == 2
			if dup {
				r = ok[i%len(ok)]
			}
			failed[i] = refuses || dup
			fns[i] = func(tx *store.Tx) error {
				err := tx.AppendReceipt(e.ctx, r, &idx[i])
				switch {
				case dup && err == nil:
					err = fmt.Errorf("appending duplicate receipt id %s succeeded", r.ID)
				case dup:
					err = fmt.Errorf("%w: %w", errRefused, err)
				case err == nil && refuses:
					err = errRefused
				}
				rec.record(tx, err != nil)
				return err
			}
		}
		errs := e.concurrently(t, fns)
		for i, err := range errs {
			if failed[i] {
				if !errors.Is(err, errRefused) {
					t.Errorf("round %d: failing append %d: got %v, want %v", round, i, err, errRefused)
				}
				if i%3 == 1 {
					_, err := e.db.Ledger().Receipt(e.ctx, rs[i].ID)
					wantNotFound(t, "Receipt of a failed append", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("round %d: append %d: %v", round, i, err)
			}
			ok = append(ok, rs[i])
			okIdx = append(okIdx, idx[i])
		}
		checkIndexes(t, okIdx, len(ok))
		leaves := e.checkTree(t)
		if len(leaves) != len(ok) {
			t.Fatalf("round %d: got %d receipts, want %d (only successful appends)", round, len(leaves), len(ok))
		}
		for i, r := range ok {
			got, err := e.db.Ledger().Receipt(e.ctx, r.ID)
			if err != nil {
				t.Errorf("Receipt(%s): %v", r.ID, err)
			} else if got.LeafIndex != okIdx[i] {
				t.Errorf("Receipt(%s).LeafIndex: got %d, want %d (the index AppendReceipt returned)", r.ID, got.LeafIndex, okIdx[i])
			}
		}
		if t.Failed() || (rec.mixed() && round > 0) {
			break
		}
	}
	if !rec.mixed() {
		t.Errorf("no transaction ran both a failing and a succeeding append in 5 rounds of %d concurrent appends; per-write rollback of ledger appends was not exercised", n)
	}
}

func testCheckpoints(t *testing.T, e *env) {
	ls := e.db.Ledger()
	cp := func(size int64, minute int) ledger.SignedCheckpoint {
		var root ledger.Hash
		copy(root[:], fmt.Sprintf("root of a tree of size %d.......", size))
		return ledger.SignedCheckpoint{Size: size, Root: root, CreatedAt: at(minute), Signed: fmt.Sprintf("tact.example\n%d\nroot\n\n— sig %d\n", size, size)}
	}
	cps := []ledger.SignedCheckpoint{cp(5, 2), cp(2, 1), cp(10, 3)} // stored out of order
	for _, c := range cps {
		if err := ls.PutCheckpoint(e.ctx, c); err != nil {
			t.Fatalf("PutCheckpoint(%d): %v", c.Size, err)
		}
	}
	// A second node cutting the same size is not an error.
	if err := ls.PutCheckpoint(e.ctx, cps[0]); err != nil {
		t.Errorf("PutCheckpoint of an existing size: got %v, want nil", err)
	}

	latest, err := ls.LatestCheckpoint(e.ctx)
	if err != nil {
		t.Fatalf("LatestCheckpoint: %v", err)
	}
	if diff := cmp.Diff(cps[2], latest); diff != "" {
		t.Errorf("LatestCheckpoint mismatch (-want +got):\n%s", diff)
	}
	for _, want := range cps {
		got, err := ls.Checkpoint(e.ctx, want.Size)
		if err != nil {
			t.Errorf("Checkpoint(%d): %v", want.Size, err)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Checkpoint(%d) mismatch (-want +got):\n%s", want.Size, diff)
		}
	}
	_, err = ls.Checkpoint(e.ctx, 3)
	wantNotFound(t, "Checkpoint(3)", err)

	var sizes []int64
	if err := ls.Checkpoints(e.ctx, func(c ledger.SignedCheckpoint) error { sizes = append(sizes, c.Size); return nil }); err != nil {
		t.Fatalf("Checkpoints: %v", err)
	}
	if diff := cmp.Diff([]int64{2, 5, 10}, sizes); diff != "" {
		t.Errorf("Checkpoints sizes, in increasing order, each once (-want +got):\n%s", diff)
	}
	errStop := errors.New("stop")
	if err := ls.Checkpoints(e.ctx, func(ledger.SignedCheckpoint) error { return errStop }); !errors.Is(err, errStop) {
		t.Errorf("Checkpoints with a failing callback: got %v, want %v", err, errStop)
	}

	// CheckpointCovering(n) is the oldest checkpoint whose tree includes
	// leaf n, i.e. the smallest size > n.
	for _, tt := range []struct {
		leaf     int64
		wantSize int64 // 0: ENOTFOUND
	}{
		{0, 2}, {1, 2}, {2, 5}, {4, 5}, {5, 10}, {9, 10}, {10, 0}, {11, 0},
	} {
		got, err := ls.CheckpointCovering(e.ctx, tt.leaf)
		if tt.wantSize == 0 {
			wantNotFound(t, fmt.Sprintf("CheckpointCovering(%d)", tt.leaf), err)
			continue
		}
		if err != nil {
			t.Errorf("CheckpointCovering(%d): %v", tt.leaf, err)
		} else if got.Size != tt.wantSize {
			t.Errorf("CheckpointCovering(%d): got the checkpoint of size %d, want size %d (the oldest checkpoint that includes the leaf)", tt.leaf, got.Size, tt.wantSize)
		}
	}
}

func testNotices(t *testing.T, e *env) {
	cs := e.db.Consent()
	n := consent.NoticeRecord{Version: "2025-03", CreatedAt: at(0), Purposes: map[string]consent.PurposeRule{
		"analytics":       {ID: "analytics", Version: "2025-01", LegalBasis: "consent"},
		"necessary":       {ID: "necessary", Version: "2024-01", LegalBasis: "contract", Required: true},
		"health_interest": {ID: "health_interest", Version: "2025-03", LegalBasis: "consent", SeparateConsent: true, Sensitive: true},
	}}
	for i := range 2 {
		if err := cs.PutNotice(e.ctx, n); err != nil {
			t.Fatalf("PutNotice #%d: got %v, want nil", i+1, err)
		}
	}
	// Publishing another text under a published version changes nothing:
	// decisions already refer to what that version said.
	changed := n
	changed.Purposes = map[string]consent.PurposeRule{"advertising": {ID: "advertising"}}
	if err := cs.PutNotice(e.ctx, changed); err != nil {
		t.Errorf("PutNotice of an existing version: got %v, want nil", err)
	}
	got, err := cs.Notice(e.ctx, n.Version)
	if err != nil {
		t.Fatalf("Notice: %v", err)
	}
	if diff := cmp.Diff(n, got); diff != "" {
		t.Errorf("Notice mismatch (-want +got):\n%s", diff)
	}
	_, err = cs.Notice(e.ctx, "2025-04")
	wantNotFound(t, "Notice(unknown version)", err)
}

func testCredentials(t *testing.T, e *env) {
	creds := []store.Credential{
		{ID: "cred-w1", Kind: "write", Name: "shop front", SecretHash: []byte("hash-w1-................"), Origins: []string{"https://shop.example", "https://www.shop.example"}, CreatedAt: at(0)},
		{ID: "cred-a1", Kind: "admin", Role: "privacy_officer", Name: "dpo", SecretHash: []byte("hash-a1-................"), Origins: []string{}, CreatedAt: at(1)},
		{ID: "cred-u1", Kind: "userhash", Name: "user hash", SecretHash: []byte("hash-u1-................"), SealedSecret: []byte("sealed secret bytes"), Origins: []string{}, CreatedAt: at(2)},
		{ID: "cred-w2", Kind: "write", Name: "app", SecretHash: []byte("hash-w2-................"), Origins: []string{"https://app.shop.example"}, CreatedAt: at(3)},
	}
	for _, c := range creds {
		if err := e.db.CreateCredential(e.ctx, c); err != nil {
			t.Fatalf("CreateCredential(%s): %v", c.ID, err)
		}
	}
	for _, want := range creds {
		got, err := e.db.CredentialByHash(e.ctx, want.SecretHash)
		if err != nil {
			t.Errorf("CredentialByHash(%s): %v", want.ID, err)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("CredentialByHash(%s) mismatch (-want +got):\n%s", want.ID, diff)
		}
	}
	list := func(kind string) []string {
		t.Helper()
		cs, err := e.db.Credentials(e.ctx, kind)
		if err != nil {
			t.Fatalf("Credentials(%q): %v", kind, err)
		}
		ids := []string{}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		return ids
	}
	for _, tt := range []struct {
		kind string
		want []string
	}{
		{"", []string{"cred-w1", "cred-a1", "cred-u1", "cred-w2"}},
		{"write", []string{"cred-w1", "cred-w2"}},
		{"admin", []string{"cred-a1"}},
		{"server", []string{}},
	} {
		if diff := cmp.Diff(tt.want, list(tt.kind)); diff != "" {
			t.Errorf("Credentials(%q) ids (-want +got):\n%s", tt.kind, diff)
		}
	}
	all, err := e.db.Credentials(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(creds, all); diff != "" {
		t.Errorf("Credentials(\"\") mismatch (-want +got):\n%s", diff)
	}

	if err := e.db.RevokeCredential(e.ctx, "cred-w1"); err != nil {
		t.Fatalf("RevokeCredential: %v", err)
	}
	_, err = e.db.CredentialByHash(e.ctx, creds[0].SecretHash)
	wantNotFound(t, "CredentialByHash(revoked)", err)
	if diff := cmp.Diff([]string{"cred-w2"}, list("write")); diff != "" {
		t.Errorf("Credentials(\"write\") after revoking cred-w1 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"cred-a1", "cred-u1", "cred-w2"}, list("")); diff != "" {
		t.Errorf("Credentials(\"\") after revoking cred-w1 (-want +got):\n%s", diff)
	}
	wantNotFound(t, "RevokeCredential a second time", e.db.RevokeCredential(e.ctx, "cred-w1"))
	if _, err := e.db.CredentialByHash(e.ctx, creds[3].SecretHash); err != nil {
		t.Errorf("CredentialByHash(cred-w2) after revoking another: %v", err)
	}
}

func testMeta(t *testing.T, e *env) {
	_, err := e.db.Meta(e.ctx, "log-name")
	wantNotFound(t, "Meta(unset)", err)
	steps := []struct {
		name     string
		do       func() (string, error)
		wantRet  string
		wantMeta string
	}{
		{"InitMeta first", func() (string, error) { return e.db.InitMeta(e.ctx, "log-name", "first") }, "first", "first"},
		{"InitMeta second", func() (string, error) { return e.db.InitMeta(e.ctx, "log-name", "second") }, "first", "first"},
		{"SetMeta", func() (string, error) { return "", e.db.SetMeta(e.ctx, "log-name", "third") }, "", "third"},
		{"InitMeta after SetMeta", func() (string, error) { return e.db.InitMeta(e.ctx, "log-name", "fourth") }, "third", "third"},
		{"SetMeta another key", func() (string, error) { return "", e.db.SetMeta(e.ctx, "other", "x") }, "", "third"},
	}
	for _, s := range steps {
		got, err := s.do()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got != s.wantRet {
			t.Errorf("%s: got %q, want %q", s.name, got, s.wantRet)
		}
		if got, err := e.db.Meta(e.ctx, "log-name"); err != nil || got != s.wantMeta {
			t.Errorf("after %s: Meta = %q, %v, want %q, nil", s.name, got, err, s.wantMeta)
		}
	}
	if got, err := e.db.Meta(e.ctx, "other"); err != nil || got != "x" {
		t.Errorf("Meta(other) = %q, %v, want %q, nil", got, err, "x")
	}

	// Nodes starting together agree on one value.
	const n = 50
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			got[i], errs[i] = e.db.InitMeta(e.ctx, "node-key", fmt.Sprintf("value-%d", i))
		})
	}
	close(start)
	wg.Wait()
	stored, err := e.db.Meta(e.ctx, "node-key")
	if err != nil {
		t.Fatalf("Meta(node-key): %v", err)
	}
	for i := range n {
		if errs[i] != nil || got[i] != stored {
			t.Errorf("concurrent InitMeta %d: got %q, %v, want the value in force %q, nil", i, got[i], errs[i], stored)
		}
	}
}

func testShredSubject(t *testing.T, e *env) {
	gone := e.createSubject(t, "subj-gone", at(0))
	kept := e.createSubject(t, "subj-kept", at(1))
	rs := []consent.StoredReceipt{
		e.receipt(t, "rcpt-0", gone, at(2)),
		e.receipt(t, "rcpt-1", kept, at(3)),
		e.receipt(t, "rcpt-2", gone, at(4)),
	}
	e.appendReceipts(t, rs...)
	before := e.checkTree(t)

	if err := e.db.ShredSubject(e.ctx, gone.ID); err != nil {
		t.Fatalf("ShredSubject: %v", err)
	}

	_, err := e.db.Consent().Subject(e.ctx, gone.ID)
	wantNotFound(t, "Subject(shredded)", err)
	for _, id := range gone.identities {
		_, err := e.db.Consent().Identity(e.ctx, id.Pseudonym)
		wantNotFound(t, "Identity("+string(id.Kind)+") of the shredded subject", err)
	}
	e.write(t, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.SubjectKey(ctx, gone.ID)
		wantNotFound(t, "SubjectKey(shredded)", err)
		if has, err := tx.SubjectHasKind(ctx, gone.ID, vault.KindEmail); err != nil || has {
			t.Errorf("SubjectHasKind(shredded, email): got %v, %v, want false, nil", has, err)
		}
		return nil
	})

	after := e.checkTree(t) // leaves and commitments stay: the tree still verifies
	if len(after) != len(before) {
		t.Fatalf("receipts after shredding: got %d, want %d", len(after), len(before))
	}
	for i, r := range rs {
		want := before[i]
		if r.SubjectID == gone.ID {
			want.Body, want.SubjectID, want.Key = nil, "", nil
			_, err := e.db.Ledger().ReceiptKey(e.ctx, r.ID)
			wantNotFound(t, "ReceiptKey("+r.ID+") of the shredded subject", err)
		}
		if diff := cmp.Diff(want, after[i]); diff != "" {
			t.Errorf("Receipts[%d] after shredding (-want +got):\n%s", i, diff)
		}
		got, err := e.db.Ledger().Receipt(e.ctx, r.ID)
		if err != nil {
			t.Errorf("Receipt(%s) after shredding: %v", r.ID, err)
		} else if diff := cmp.Diff(want.StoredReceipt, got); diff != "" {
			t.Errorf("Receipt(%s) after shredding (-want +got):\n%s", r.ID, diff)
		}
	}

	// The other subject is untouched.
	e.wantSubject(t, kept.Subject)
	for _, id := range kept.identities {
		e.wantIdentity(t, id)
	}
	if k, err := e.db.Ledger().ReceiptKey(e.ctx, "rcpt-1"); err != nil {
		t.Errorf("ReceiptKey(rcpt-1) of the kept subject: %v", err)
	} else if diff := cmp.Diff(kept.key, k); diff != "" {
		t.Errorf("ReceiptKey(rcpt-1) mismatch (-want +got):\n%s", diff)
	}
	e.wantStats(t, store.Stats{Receipts: 3, Subjects: 1})

	// The ledger goes on after a shred.
	if got := e.appendReceipts(t, e.receipt(t, "rcpt-3", kept, at(5))); got[0] != 3 {
		t.Errorf("append after shredding: got index %d, want 3", got[0])
	}
	e.checkTree(t)
}

func testClose(t *testing.T, e *env) {
	// Hold the writer busy so that writes queue up behind it, then close the
	// store while they wait.
	entered, release := make(chan struct{}), make(chan struct{})
	inflight := make(chan error, 1)
	go func() {
		inflight <- e.db.WriteTx(e.ctx, func(tx *store.Tx) error {
			close(entered)
			<-release
			return tx.CreateSubject(e.ctx, consent.Subject{ID: "subj-inflight", CreatedAt: at(0)}, consent.StoredKey{Wrapped: vault.WrappedKey{KEK: "local-v1", Blob: []byte{1}}})
		})
	}()
	<-entered

	closed := make(chan error, 1)
	go func() { closed <- e.db.Close() }()

	// Keep adding writes until one is refused: those before it were queued
	// before Close and must still commit.
	type probe struct {
		err error
		ran atomic.Bool
	}
	var probes []*probe
	var wg sync.WaitGroup
	refused := make(chan struct{})
	var once sync.Once
spawn:
	for i := 0; ; i++ {
		select {
		case <-refused:
			break spawn
		default:
		}
		if i == 2000 {
			// Whether Close has taken its lock by now is up to the
			// scheduler; what matters is checked below: every write is
			// either committed or refused, none hangs or half-runs.
			break
		}
		runtime.Gosched()
		p := &probe{}
		probes = append(probes, p)
		wg.Go(func() {
			p.err = e.db.WriteTx(e.ctx, func(tx *store.Tx) error {
				p.ran.Store(true)
				return tx.AddIdentity(e.ctx, consent.Identity{Pseudonym: e.pseudonym(vault.KindAnonymousID, fmt.Sprint("probe-", i)), Kind: vault.KindAnonymousID, SubjectID: "subj-inflight", CreatedAt: at(1)})
			})
			if tact.ErrorCode(p.err) == tact.EUNAVAILABLE {
				once.Do(func() { close(refused) })
			}
		})
	}
	close(release)
	wg.Wait()

	if err := <-inflight; err != nil {
		t.Errorf("the write in flight when Close was called: got %v, want nil (committed)", err)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: got %v, want nil", err)
	}
	var queued, refusedN int
	for i, p := range probes {
		switch {
		case p.err == nil:
			queued++
			if !p.ran.Load() {
				t.Errorf("write %d: got nil error, but its fn never ran", i)
			}
		case tact.ErrorCode(p.err) == tact.EUNAVAILABLE:
			refusedN++
			if p.ran.Load() {
				t.Errorf("write %d: refused with %v, but its fn ran", i, p.err)
			}
		default:
			t.Errorf("write %d during Close: got %v, want nil (queued before Close: committed) or code %q (refused)", i, p.err, tact.EUNAVAILABLE)
		}
	}
	t.Logf("during Close: %d writes committed, %d refused", queued, refusedN)

	// After Close, a write is refused at once instead of hanging.
	after := make(chan error, 1)
	var ran atomic.Bool
	go func() {
		after <- e.db.WriteTx(e.ctx, func(*store.Tx) error { ran.Store(true); return nil })
	}()
	select {
	case err := <-after:
		if got := tact.ErrorCode(err); got != tact.EUNAVAILABLE {
			t.Errorf("WriteTx after Close: got %v (code %q), want code %q", err, got, tact.EUNAVAILABLE)
		}
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatalf("WriteTx after Close: no answer after 10s, want an immediate %q error", tact.EUNAVAILABLE)
	}
	if ran.Load() {
		t.Errorf("WriteTx after Close ran its fn, want it not run")
	}
	if err := e.db.Close(); err != nil {
		t.Errorf("Close a second time: got %v, want nil", err)
	}
}
