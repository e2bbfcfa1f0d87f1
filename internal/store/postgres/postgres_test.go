package postgres_test

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/ledger"
	"github.com/tact-cdp/tact/internal/store"
	"github.com/tact-cdp/tact/internal/store/postgres"
	"github.com/tact-cdp/tact/internal/testenv"
	"github.com/tact-cdp/tact/internal/vault"
)

// Two tact nodes on one database append to one ledger: every receipt gets
// its own consecutive leaf, and the stored tree is the tree of the leaves in
// leaf order (each node's cached head is checked by its flush statement).
func TestTwoNodesShareOneLedger(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx := context.Background()
	var nodes []*store.DB
	for range 2 {
		db, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		nodes = append(nodes, db)
	}
	root, _ := vault.GenerateRootSecret()
	v := vault.New(root, nil)
	_, dk, _, err := v.NewDataKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const perNode, writers = 150, 8
	var mu sync.Mutex
	leaves := map[int64]ledger.Hash{}
	var wg sync.WaitGroup
	for n, db := range nodes {
		for w := range writers {
			wg.Go(func() {
				for i := range perNode / writers {
					salt := []byte(fmt.Sprintf("salt-%d-%d-%d-%020d", n, w, i, time.Now().UnixNano()))
					sealed, _ := dk.Seal(consent.SaltField, salt)
					body := []byte(fmt.Sprintf(`{"n":%d,"w":%d,"i":%d}`, n, w, i))
					r := consent.StoredReceipt{ID: consent.NewReceiptID(), Body: body, SealedSalt: sealed, Commitment: ledger.Commitment(salt, body), CreatedAt: time.Now()}
					var idx int64
					if err := db.WriteTx(ctx, func(tx *store.Tx) error { return tx.AppendReceipt(ctx, r, &idx) }); err != nil {
						t.Errorf("node %d: %v", n, err)
						return
					}
					mu.Lock()
					if _, dup := leaves[idx]; dup {
						t.Errorf("leaf %d given twice", idx)
					}
					leaves[idx] = ledger.LeafHash(ledger.LeafData(r.ID, r.Commitment))
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	want := int64(2 * writers * (perNode / writers))
	if int64(len(leaves)) != want {
		t.Fatalf("%d leaves, want %d", len(leaves), want)
	}
	idxs := make([]int64, 0, len(leaves))
	for i := range leaves {
		idxs = append(idxs, i)
	}
	sort.Slice(idxs, func(a, b int) bool { return idxs[a] < idxs[b] })
	var tree ledger.MemoryTree
	for k, i := range idxs {
		if i != int64(k) {
			t.Fatalf("leaf indexes are not 0..%d: position %d holds %d", want-1, k, i)
		}
		tree.Append(leaves[i])
	}
	size, err := nodes[1].Ledger().Size(ctx)
	if err != nil || size != want {
		t.Fatalf("head: %d (%v), want %d", size, err, want)
	}
	wantRoot, _ := ledger.TreeHash(want, &tree)
	gotRoot, err := ledger.TreeHash(want, nodes[0].Ledger().HashReader(ctx))
	if err != nil || gotRoot != wantRoot {
		t.Fatalf("stored root %x (%v), want %x", gotRoot, err, wantRoot)
	}
	n := 0
	nodes[0].Ledger().Receipts(ctx, math.MaxInt64, func(r consent.LeafReceipt, h ledger.Hash) error {
		if h != leaves[r.LeafIndex] {
			t.Errorf("leaf %d: stored hash differs", r.LeafIndex)
		}
		n++
		return nil
	})
	if int64(n) != want {
		t.Errorf("%d receipts stored, want %d", n, want)
	}
}

// A node acts on its own consent changes before it publishes them, so its
// listener passes on only what the other nodes publish.
func TestListenersSkipTheirOwnNodesNotices(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var self, other *store.DB
	for _, db := range []**store.DB{&self, &other} {
		var err error
		if *db, err = postgres.Open(ctx, url); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { (*db).Close() })
	}
	got := make(chan []string, 16)
	go self.ListenSubjects(ctx, func(ids []string) { got <- ids }, func(msg string, err error) { t.Log(msg, err) })
	select {
	case ids := <-got: // LISTEN is in place
		if ids != nil {
			t.Fatalf("first call %q, want nil (anything may have changed)", ids)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the listener did not start")
	}
	// Published in this order, the own notice would arrive first.
	if err := self.NotifySubjects(ctx, []string{"subject-of-this-node"}); err != nil {
		t.Fatal(err)
	}
	if err := other.NotifySubjects(ctx, []string{"subject-a", "subject-b"}); err != nil {
		t.Fatal(err)
	}
	select {
	case ids := <-got:
		if want := []string{"subject-a", "subject-b"}; fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Fatalf("listener got %q, want the other node's %q", ids, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other node's notice did not arrive")
	}
}
