package main

// TestIngestSurvivesSIGKILL checks DESIGN principle 9 ("a 2xx answer means
// the write is durable") for event collection (DESIGN 5.1) against the real
// binary: server-key clients post batches of track events for shoppers who
// consented, `tact serve` is SIGKILLed under that load and restarted on the
// same store, and every messageId of a batch answered 200 must be stored
// exactly once. No messageId may be stored twice at all, though batches are
// re-sent (at once, and after the restart, as Segment's libraries retry), and
// the stored counter must equal the rows (both written in one transaction).
//
// It reuses the crash test's harness (crash_test.go): the same seed
// (TACT_CRASH_SEED) replays the same kill delays.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/tact-cdp/tact/internal/store/sqlite"
	"github.com/tact-cdp/tact/internal/testenv"
)

const (
	ingestShoppers  = 50
	ingestClients   = 8
	ingestBatchSize = 20
	// ingestResendEvery: each client sends every such batch twice in a row.
	ingestResendEvery = 5
)

// ingestStore is a store under test: the flags that reach it from a command
// and the driver and DSN that read it directly.
type ingestStore struct {
	args        []string
	driver, dsn string
}

func TestIngestSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and runs the binary; skipped with -short")
	}
	bin := buildTact(t)

	seed := crashSeed(t)

	stores := ingestStores()
	for i, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), crashStoreBudget)
			defer cancel()
			rng := rand.New(rand.NewPCG(seed, 100+uint64(i)))
			start := time.Now()
			ingestCrashStore(ctx, t, bin, st.open(t), rng)
			t.Logf("%s: %v", st.name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// sentBatch is one batch a client sends, and may send again.
type sentBatch struct {
	ids  []string
	body []byte
}

// ingestClient is a client whose state outlives a crash: what it sent last
// is what it retries after the restart.
type ingestClient struct {
	n         int
	next      int        // number of the next new batch
	cut       *sentBatch // the batch whose answer the kill cut off
	lastAcked *sentBatch
}

// ingestLedger is what the clients saw, over all cycles.
type ingestLedger struct {
	mu    sync.Mutex
	sent  map[string]bool
	acked map[string]int // messageId → cycle of its first 200
	// dupAcked counts events answered 200 a second time: the dedup counter
	// must have counted at least these.
	dupAcked int64
	batches  int // answered 200
	rejected int // events listed in "rejected" of a 200
}

func ingestCrashStore(ctx context.Context, t *testing.T, bin string, st ingestStore, rng *rand.Rand) {
	serverKey := strings.TrimSpace(runTact(ctx, t, bin, 0, append([]string{"keys", "create", "--kind", "server", "--name", "ingest-crash"}, st.args...)...))
	if serverKey == "" || strings.ContainsAny(serverKey, " \n\t") {
		t.Fatalf("tact keys create --kind server printed %q, want the key alone", serverKey)
	}
	admin := strings.TrimSpace(runTact(ctx, t, bin, 0, append([]string{"tokens", "create", "--role", "admin", "--name", "ingest-crash"}, st.args...)...))

	srv := startTact(ctx, t, bin, st.args)
	recordShoppers(ctx, t, srv.addr, serverKey, noticeVersion(ctx, t, srv.addr))

	db, err := sql.Open(st.driver, st.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	clients := make([]*ingestClient, ingestClients)
	for i := range clients {
		clients[i] = &ingestClient{n: i}
	}
	led := &ingestLedger{sent: map[string]bool{}, acked: map[string]int{}}
	for cycle := 1; cycle <= crashCycles; cycle++ {
		delay := time.Duration(1000+rng.IntN(1001)) * time.Millisecond
		stats := ingestAndKill(ctx, t, srv, serverKey, clients, led, delay, cycle)
		led.mu.Lock()
		t.Logf("cycle %d: killed after %v with %d clients: %d events acknowledged so far in %d batches (%d rejected), %d other answers %v, %d requests failed on the connection",
			cycle, delay, ingestClients, len(led.acked), led.batches, led.rejected, stats.otherCount(), stats.other, stats.connErrs)
		led.mu.Unlock()
		if stats.otherCount() > 0 {
			t.Logf("cycle %d: first non-200 answer: %s", cycle, stats.firstOther)
		}
		if t.Failed() {
			return
		}

		srv = startTact(ctx, t, bin, st.args)
		checkIngested(ctx, t, db, srv.addr, admin, led, cycle)
		if t.Failed() {
			return
		}
	}
	srv.stop(ctx, t)
	if len(led.acked) == 0 {
		t.Fatalf("no event was acknowledged in %d cycles: the test proved nothing", crashCycles)
	}
}

// recordShoppers gives crash-u0 … crash-u49 consent to analytics and
// personalisation, so that their Product Viewed events are stored.
func recordShoppers(ctx context.Context, t *testing.T, addr, serverKey, notice string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	for n := range ingestShoppers {
		body := fmt.Sprintf(`{"userId":"crash-u%d","noticeVersion":%q,"method":"api","choices":{"analytics":true,"personalization":true}}`, n, notice)
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/v1/consent", strings.NewReader(body))
		req.SetBasicAuth(serverKey, "")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST /v1/consent for crash-u%d: %v", n, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST /v1/consent for crash-u%d: %d %s, want 201", n, resp.StatusCode, bytes.TrimSpace(raw))
		}
	}
}

// newBatch makes a client's next batch of Product Viewed events, spread over
// the shoppers.
func (c *ingestClient) newBatch() *sentBatch {
	b := &sentBatch{ids: make([]string, ingestBatchSize)}
	type event struct {
		Type       string            `json:"type"`
		Event      string            `json:"event"`
		UserID     string            `json:"userId"`
		MessageID  string            `json:"messageId"`
		Properties map[string]string `json:"properties"`
	}
	evs := make([]event, ingestBatchSize)
	for i := range evs {
		b.ids[i] = fmt.Sprintf("crash-m-c%d-b%d-e%d", c.n, c.next, i)
		evs[i] = event{"track", "Product Viewed", fmt.Sprintf("crash-u%d", (c.n*7+c.next*ingestBatchSize+i)%ingestShoppers), b.ids[i], map[string]string{"product_id": "P1"}}
	}
	b.body, _ = json.Marshal(map[string]any{"batch": evs})
	c.next++
	return b
}

// ingestAndKill runs the clients against srv and SIGKILLs it after delay.
// Each client first re-sends what the previous kill cut off and its last
// acknowledged batch, then sends new batches, every ingestResendEvery-th
// twice; it stops at its first connection error.
func ingestAndKill(ctx context.Context, t *testing.T, srv *tactServer, serverKey string, clients []*ingestClient, led *ingestLedger, delay time.Duration, cycle int) *loadStats {
	t.Helper()
	load, cancel := context.WithTimeout(ctx, delay+10*time.Second)
	defer cancel()
	u := "http://" + srv.addr + "/v1/batch"
	stats := &loadStats{other: map[int]int{}}

	// send posts b and reports whether the client may go on.
	send := func(client *http.Client, c *ingestClient, b *sentBatch) bool {
		led.mu.Lock()
		for _, id := range b.ids {
			led.sent[id] = true
		}
		led.mu.Unlock()
		req, _ := http.NewRequestWithContext(load, "POST", u, bytes.NewReader(b.body))
		req.SetBasicAuth(serverKey, "")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		var raw []byte
		if err == nil {
			raw, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if err != nil {
			// No answer, or cut mid-answer: not acknowledged; retried
			// after the restart.
			c.cut = b
			stats.mu.Lock()
			stats.connErrs++
			stats.mu.Unlock()
			return false
		}
		if resp.StatusCode != http.StatusOK {
			stats.mu.Lock()
			stats.other[resp.StatusCode]++
			if stats.firstOther == "" {
				stats.firstOther = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(raw))
			}
			stats.mu.Unlock()
			return true
		}
		var a struct {
			Success  bool `json:"success"`
			Rejected []struct {
				Index int    `json:"index"`
				Code  string `json:"code"`
			} `json:"rejected"`
		}
		if err := json.Unmarshal(raw, &a); err != nil || !a.Success {
			t.Errorf("cycle %d: 200 from POST /v1/batch without success:true: %s (%v)", cycle, raw, err)
			return false
		}
		rejected := map[int]bool{}
		for _, r := range a.Rejected {
			rejected[r.Index] = true
		}
		led.mu.Lock()
		defer led.mu.Unlock()
		led.batches++
		led.rejected += len(rejected)
		for i, id := range b.ids {
			if rejected[i] {
				continue
			}
			if _, ok := led.acked[id]; ok {
				led.dupAcked++
			} else {
				led.acked[id] = cycle
			}
		}
		if c.cut == b {
			c.cut = nil
		}
		c.lastAcked = b
		return true
	}

	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			var retry []*sentBatch
			if c.cut != nil {
				retry = append(retry, c.cut)
			}
			if c.lastAcked != nil && c.lastAcked != c.cut {
				retry = append(retry, c.lastAcked)
			}
			for _, b := range retry {
				if load.Err() != nil || !send(client, c, b) {
					return
				}
			}
			for load.Err() == nil {
				resend := c.next%ingestResendEvery == ingestResendEvery-1
				b := c.newBatch()
				if !send(client, c, b) {
					return
				}
				if resend && (load.Err() != nil || !send(client, c, b)) {
					return
				}
			}
		})
	}

	select {
	case <-time.After(delay):
	case <-load.Done():
	}
	select {
	case <-srv.exited:
		cancel()
		wg.Wait()
		t.Fatalf("cycle %d: tact serve exited on its own under load before the kill: %v\nstderr: %s", cycle, srv.err, srv.logs)
	default:
	}
	srv.kill(t)
	wg.Wait()
	if load.Err() != nil {
		t.Logf("cycle %d: some clients ran until their deadline after the kill", cycle)
	}
	return stats
}

// checkIngested reads the events table directly and the admin stats: every
// acknowledged messageId stored once, none twice, none unknown, and the
// stored counter equal to the rows.
func checkIngested(ctx context.Context, t *testing.T, db *sql.DB, addr, admin string, led *ingestLedger, cycle int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stats := adminStats(ctx, t, addr, admin)

	counts := map[string]int{}
	var rowCount int64
	rows, err := db.QueryContext(ctx, "SELECT message_id, COUNT(*) FROM events GROUP BY message_id")
	if err != nil {
		t.Fatalf("after crash %d: reading the events table: %v", cycle, err)
	}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		counts[id] = n
		rowCount += int64(n)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	led.mu.Lock()
	defer led.mu.Unlock()
	var lost, twice, unknown []string
	for id := range led.acked {
		if counts[id] == 0 {
			lost = append(lost, id)
		}
	}
	unacked := 0
	for id, n := range counts {
		if n > 1 {
			twice = append(twice, fmt.Sprintf("%s ×%d", id, n))
		}
		if !led.sent[id] {
			unknown = append(unknown, id)
		} else if _, ok := led.acked[id]; !ok {
			unacked++
		}
	}
	describe := func(ids []string) string {
		slices.Sort(ids)
		var b strings.Builder
		for i, id := range ids {
			if i == 10 {
				fmt.Fprintf(&b, "\n  … and %d more", len(ids)-10)
				break
			}
			b.WriteString("\n  " + id)
			if c, ok := led.acked[id]; ok {
				fmt.Fprintf(&b, " (acknowledged in cycle %d)", c)
			}
		}
		return b.String()
	}
	if len(lost) > 0 {
		t.Errorf("after crash %d: %d of %d acknowledged events are LOST (no row in events; counters %+v):%s",
			cycle, len(lost), len(led.acked), stats, describe(lost))
	}
	if len(twice) > 0 {
		t.Errorf("after crash %d: %d messageIds are stored more than once:%s", cycle, len(twice), describe(twice))
	}
	if len(unknown) > 0 {
		t.Errorf("after crash %d: %d stored messageIds were never sent:%s", cycle, len(unknown), describe(unknown))
	}
	if stats.Events.Stored != rowCount {
		t.Errorf("after crash %d: GET /admin/api/stats says %d events stored; the events table has %d rows", cycle, stats.Events.Stored, rowCount)
	}
	if got := stats.Events.Dropped["duplicate"]; got < led.dupAcked {
		t.Errorf("after crash %d: %d duplicate events counted, want at least the %d answered 200 a second time", cycle, got, led.dupAcked)
	}
	if !t.Failed() {
		t.Logf("after crash %d: all %d acknowledged events stored once (%d rows; %d more committed without an answer; %d re-sent and answered again, %d duplicates counted)",
			cycle, len(led.acked), rowCount, unacked, led.dupAcked, stats.Events.Dropped["duplicate"])
	}
}

type ingestStats struct {
	Events struct {
		Received int64            `json:"received"`
		Stored   int64            `json:"stored"`
		Dropped  map[string]int64 `json:"dropped"`
	} `json:"events"`
}

func adminStats(ctx context.Context, t *testing.T, addr, admin string) ingestStats {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/admin/api/stats", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /admin/api/stats: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var s ingestStats
	if err := json.Unmarshal(raw, &s); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/api/stats: %d %s (%v)", resp.StatusCode, bytes.TrimSpace(raw), err)
	}
	return s
}

// ingestStores are the stores the crash tests run on, each with the DSN a
// test reads it by behind tact's back.
func ingestStores() []struct {
	name string
	open func(t *testing.T) ingestStore
} {
	return []struct {
		name string
		open func(t *testing.T) ingestStore
	}{
		{"sqlite", func(t *testing.T) ingestStore {
			dir := t.TempDir()
			// The store's own read pragmas: wait for the writer, never write.
			v := url.Values{}
			v.Add("_pragma", "busy_timeout(10000)")
			v.Add("_pragma", "query_only(ON)")
			return ingestStore{[]string{"--data", dir}, "sqlite", "file:" + filepath.Join(dir, sqlite.FileName) + "?" + v.Encode()}
		}},
		{"postgres", func(t *testing.T) ingestStore {
			u := testenv.PostgresURL(t) // skips outside CI without TACT_TEST_POSTGRES_URL
			return ingestStore{[]string{"--data", t.TempDir(), "--database", u}, "pgx", u}
		}},
	}
}
