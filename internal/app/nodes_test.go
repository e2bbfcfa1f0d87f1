package app_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/collect/segment"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/store/postgres"
	"github.com/tact-cdp/tact/internal/testenv"
	"github.com/tact-cdp/tact/internal/vault"
)

// A withdrawal recorded by one node reaches the gate of another node that
// has the shopper's consent cached: the change is published before the
// decision is answered (DESIGN 4), and the listening node drops its copy.
func TestWithdrawalOnOneNodeReachesTheOthersGate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	node := nodes(t, ctx)
	listening, deciding, deaf := node(), node(), node()
	go listening.Store.ListenSubjects(ctx, listening.Collect.RemoteChanged, func(msg string, err error) { t.Log(msg, err) })
	time.Sleep(300 * time.Millisecond) // LISTEN is in place

	decide := func(choices map[string]bool) {
		t.Helper()
		if _, err := deciding.Consent.Record(ctx, consent.Caller{Server: true}, consent.Request{
			UserID: "u-nodes", NoticeVersion: deciding.Policy.NoticeVersion, Method: consent.MethodAPI, Choices: choices,
		}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	ingest := func(a *app.App) []string {
		t.Helper()
		n++
		b, err := segment.DecodeBatch([]byte(fmt.Sprintf(`{"batch":[{"type":"track","event":"Product Viewed","userId":"u-nodes","messageId":"nodes-%d"}]}`, n)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Collect.Ingest(ctx, collect.Caller{Server: true, KeyID: "k"}, &b, collect.Request{}); err != nil {
			t.Fatal(err)
		}
		v, err := a.Collect.Read(ctx, vault.KindUserID, "u-nodes", "support", true, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range v.Events {
			if e.MessageID == fmt.Sprintf("nodes-%d", n) {
				return e.Purposes
			}
		}
		return nil
	}

	decide(map[string]bool{"analytics": true, "personalization": true})
	both := []string{"analytics", "personalization"}
	if got := ingest(listening); !slices.Equal(got, both) {
		t.Fatalf("before: %v", got)
	}
	if got := ingest(deaf); !slices.Equal(got, both) { // the deaf node caches it too
		t.Fatalf("before (deaf node): %v", got)
	}
	decide(map[string]bool{"personalization": false})
	time.Sleep(200 * time.Millisecond) // the notice travels
	if got := ingest(listening); !slices.Equal(got, []string{"analytics"}) {
		t.Errorf("the listening node still used the old consent: %v", got)
	}
	// The control: a node that does not listen keeps its copy until the TTL.
	if got := ingest(deaf); !slices.Equal(got, both) {
		t.Logf("the deaf node read the store anew (%v): the cache did not hold the shopper, so this run shows nothing about it", got)
	}
}

// A pause made on one node reaches another node's recommendations: the
// shopper leaves its model at once, and comes back when resumed there.
func TestPauseOnOneNodeReachesTheOthersRecommendations(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	node := nodes(t, ctx)
	listening, pausing := node(), node()
	go listening.Store.ListenSubjects(ctx, func(ids []string) {
		listening.Collect.RemoteChanged(ids)
		listening.Personalize.RemoteChanged(ids)
	}, func(msg string, err error) { t.Log(msg, err) })
	time.Sleep(300 * time.Millisecond) // LISTEN is in place

	user := fmt.Sprintf("u-pause-%d", time.Now().UnixNano())
	res, err := pausing.Consent.Record(ctx, consent.Caller{Server: true}, consent.Request{
		UserID: user, NoticeVersion: pausing.Policy.NoticeVersion, Method: consent.MethodAPI, Choices: map[string]bool{"personalization": true},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := segment.DecodeBatch([]byte(`{"batch":[{"type":"track","event":"Product Viewed","userId":"` + user + `","messageId":"pause-1","properties":{"product_id":"p1","category":"Home"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listening.Collect.Ingest(ctx, collect.Caller{Server: true, KeyID: "k"}, &b, collect.Request{}); err != nil {
		t.Fatal(err)
	}
	m := listening.Personalize.Model()
	if !m.Holds(res.SubjectID) {
		t.Fatal("the listening node did not learn the event")
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			listening.Personalize.Sync(ctx)
			if cond() {
				return
			}
		}
		t.Fatal(what)
	}
	if err := pausing.Personalize.Pause(ctx, res.SubjectID); err != nil {
		t.Fatal(err)
	}
	waitFor("the pause on the other node did not reach this node's model", func() bool { return !m.Holds(res.SubjectID) })
	if err := pausing.Personalize.Resume(ctx, res.SubjectID); err != nil {
		t.Fatal(err)
	}
	waitFor("the resume on the other node did not replay the shopper here", func() bool { return m.Holds(res.SubjectID) })
}

// nodes returns a constructor of tact nodes sharing one fresh PostgreSQL
// database and root secret.
func nodes(t *testing.T, ctx context.Context) func() *app.App {
	url := testenv.PostgresURL(t)
	root, _ := vault.GenerateRootSecret()
	return func() *app.App {
		db, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(ctx, app.Config{DataDir: t.TempDir()}, db, root, datamap.Default())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
}
