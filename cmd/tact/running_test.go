package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Commands work against a store that a running `tact serve` is using, and
// what they create is valid at once (DESIGN 5.6). The binary is built once
// and shared with the crash test.
func TestCommandsAgainstRunningServer(t *testing.T) {
	ctx, bin, store := binaryAndStore(t)
	srv := startTact(ctx, t, bin, store)
	defer srv.stop(ctx, t)

	key := strings.TrimSpace(runTact(ctx, t, bin, 0, append([]string{"keys", "create", "--kind", "write"}, store...)...))
	notice := noticeVersion(ctx, t, srv.addr)
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range 20 {
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+srv.addr+"/v1/consent",
			strings.NewReader(`{"noticeVersion":"`+notice+`","method":"banner","choices":{"analytics":true}}`))
		req.SetBasicAuth(key, "")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("decision %d with a key created while the server runs: %d, want 201", i, resp.StatusCode)
		}
	}
	// Verification reads a consistent tree while the server keeps writing.
	out := runTact(ctx, t, bin, 0, append([]string{"ledger", "verify", "--quiet"}, store...)...)
	if !strings.Contains(out, "ledger OK") {
		t.Fatalf("ledger verify against a running server: %s", out)
	}
	runTact(ctx, t, bin, 0, append([]string{"keys", "list"}, store...)...)
	runTact(ctx, t, bin, 0, append([]string{"migrate"}, store...)...)
}

// A graceful stop (SIGTERM) under load finishes the requests in flight:
// every decision answered 201 is stored, and tact exits 0.
func TestGracefulStopUnderLoadKeepsAcknowledged(t *testing.T) {
	ctx, bin, store := binaryAndStore(t)
	key := strings.TrimSpace(runTact(ctx, t, bin, 0, append([]string{"keys", "create", "--kind", "write"}, store...)...))
	srv := startTact(ctx, t, bin, store)
	notice := noticeVersion(ctx, t, srv.addr)
	acked, stats := loadAndKill(ctx, t, srv, key, notice, 700*time.Millisecond, 1, func() { srv.stop(ctx, t) })
	if len(acked) == 0 {
		t.Fatalf("no decision was acknowledged before the stop (other answers: %v)", stats.other)
	}
	srv = startTact(ctx, t, bin, store)
	defer srv.stop(ctx, t)
	checkReceipts(ctx, t, srv.addr, acked, 1)
	t.Logf("%d decisions acknowledged before SIGTERM, all stored", len(acked))
}

// binaryAndStore builds tact (skipped with -short) and gives a fresh store
// and a context bounding the test.
func binaryAndStore(t *testing.T) (context.Context, string, []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildTact(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx, bin, []string{"--data", t.TempDir()}
}
