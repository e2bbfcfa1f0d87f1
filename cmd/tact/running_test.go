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
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := buildTact(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store := []string{"--data", t.TempDir()}
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
