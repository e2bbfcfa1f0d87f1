package httpapi_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/ledger"
	"github.com/tact-cdp/tact/internal/vault"
)

// storedPayloads returns a shopper's sealed event payloads as stored.
func storedPayloads(t *testing.T, a *app.App, userID string) (subjectID string, payloads [][]byte) {
	t.Helper()
	ctx := context.Background()
	id, err := a.Consent.Store().Identity(ctx, a.Vault.Pseudonym(vault.UseIdentity, vault.KindUserID, userID))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := a.Store.Events().SubjectEvents(ctx, id.SubjectID, collect.AllPurposes, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		payloads = append(payloads, e.Payload)
	}
	return id.SubjectID, payloads
}

func TestErasureEndToEnd(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := newShop(t, e)
		s.customer("eve-1", "eve@example.com", 20)
		subjectID, payloads := storedPayloads(t, e.app, "eve-1")
		if len(payloads) != 21 {
			t.Fatalf("%d events stored, want 21", len(payloads))
		}
		restore := e.inst.Backup() // a backup taken before the erasure

		filed := s.file(202, map[string]any{"type": "erasure", "email": "eve@example.com"})
		id := filed["requestId"].(string)
		token := s.verifyByMail(id)
		s.work()
		done := s.nextMail()
		if !bytes.Contains([]byte(done.Text), []byte("erased")) {
			t.Errorf("completion mail:\n%s", done.Text)
		}
		code, st, _ := s.do("GET", "/v1/requests/"+id, nil, bearer(token))
		outcome, _ := st["outcome"].(map[string]any)
		if code != 200 || st["status"] != "completed" || outcome["eventsPurged"] != 21.0 || outcome["shreddedAt"] == nil {
			t.Fatalf("request after erasure: %d %v", code, st)
		}

		// Nothing is found, nothing can be opened, nothing is left in the files.
		for _, q := range []string{"userId=eve-1", "email=eve@example.com"} {
			if got := e.read("dsr", q); got != nil {
				t.Errorf("GET /admin/api/subjects?%s after erasure: %v", q, got)
			}
		}
		keys, err := e.app.Store.SubjectKeys(ctx, subjectID)
		if err != nil || len(keys) != 0 {
			t.Errorf("data keys left: %d %v", len(keys), err)
		}
		kid, _ := vault.SealedKeyID(payloads[0])
		if _, err := e.app.Store.Ledger().ReceiptKey(ctx, firstReceipt(t, e)); tact.ErrorCode(err) != tact.ENOTFOUND {
			t.Errorf("the receipt's data key %s is still there: %v", kid, err)
		}
		dump := e.inst.Dump()
		for i, p := range payloads {
			if bytes.Contains(dump, p[len(p)-32:]) {
				t.Errorf("ciphertext of event %d is still in the store's files", i)
			}
		}
		if _, err := e.app.Ledger.Verify(ctx, nil); err != nil {
			t.Errorf("ledger verify after erasure: %v", err)
		}

		// New events from the same ids are dropped until a new receipt.
		before := dropped(e.stats(), collect.ReasonSuppressed)
		s.batch(s.server, []map[string]any{productViewed(map[string]any{"userId": "eve-1"}, nil)})
		if got := dropped(e.stats(), collect.ReasonSuppressed); got != before+1 {
			t.Errorf("an event from the erased userId: dropped as suppressed %v → %v", before, got)
		}
		time.Sleep(2 * time.Millisecond)
		e.grant("eve-1", map[string]any{"analytics": true})
		s.batch(s.server, []map[string]any{productViewed(map[string]any{"userId": "eve-1"}, nil)})
		if evs := eventsOf(e.read("support", "userId=eve-1")); len(evs) != 1 {
			t.Errorf("after a new consent: %d events, want 1", len(evs))
		}

		// The backup, restored after the erasure, does not serve the
		// erased shopper: the journal is replayed at start.
		old := restore()
		a2, err := app.New(ctx, app.Config{DataDir: e.dataDir}, old.DB, e.root, datamap.Default())
		if err != nil {
			t.Fatal(err)
		}
		if n, err := a2.Rights.Replay(ctx); err != nil || n != 1 {
			t.Fatalf("replay: %d erased again, %v; want 1", n, err)
		}
		if _, err := a2.Collect.Read(ctx, vault.KindUserID, "eve-1", "", true, 0, 10); tact.ErrorCode(err) != tact.ENOTFOUND {
			t.Errorf("the restored backup still serves the erased shopper: %v", err)
		}
		dump = old.Dump()
		for i, p := range payloads {
			if bytes.Contains(dump, p[len(p)-32:]) {
				t.Errorf("ciphertext of event %d survives in the restored backup", i)
			}
		}
	})
}

func firstReceipt(t *testing.T, e *env) string {
	t.Helper()
	var id string
	err := e.app.Store.Ledger().Receipts(context.Background(), 1, func(r consent.LeafReceipt, _ ledger.Hash) error {
		id = r.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestErasureOfAnUnknownShopperCompletesCleanly(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := newShop(t, e)
		filed := s.file(202, map[string]any{"type": "erasure", "userId": "never-seen"}, basic(s.server))
		s.work()
		code, st, _ := s.do("GET", "/v1/requests/"+filed["requestId"].(string), nil, bearer(filed["requestToken"].(string)))
		if code != 200 || st["status"] != "completed" || st["outcome"].(map[string]any)["subjectFound"] != false {
			t.Errorf("%d %v", code, st)
		}
	})
}

// An erasure racing with incoming events for the same shopper leaves
// nothing readable behind.
func TestErasureRacingWithEventsLeavesNothingReadable(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		s := newShop(t, e)
		s.customer("race-1", "race@example.com", 200)
		subjectID, _ := storedPayloads(t, e.app, "race-1")
		filed := s.file(202, map[string]any{"type": "erasure", "userId": "race-1"}, basic(s.server))
		stop := make(chan struct{})
		sent := make(chan int)
		go func() {
			n := 0
			defer func() { sent <- n }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				evs := []map[string]any{productViewed(map[string]any{"userId": "race-1"}, nil), productViewed(map[string]any{"userId": "race-1"}, nil)}
				code, _, _ := e.do("POST", "/v1/batch", map[string]any{"batch": evs}, basic(s.server))
				if code != 200 {
					t.Errorf("batch during the erasure: %d", code)
					return
				}
				n += len(evs)
			}
		}()
		s.work()
		close(stop)
		n := <-sent
		code, st, _ := s.do("GET", "/v1/requests/"+filed["requestId"].(string), nil, bearer(filed["requestToken"].(string)))
		if code != 200 || st["status"] != "completed" {
			t.Fatalf("%d %v", code, st)
		}
		left, err := e.app.Store.Events().SubjectEvents(ctx, subjectID, collect.AllPurposes, 0, 10)
		if err != nil || len(left) != 0 {
			t.Errorf("%d events of the erased subject left after %d sent during the erasure (%v)", len(left), n, err)
		}
		if got := e.read("dsr", "userId=race-1"); got != nil {
			t.Errorf("the erased shopper is readable: %v", got)
		}
		t.Logf("%d events sent while the erasure ran", n)
	})
}
