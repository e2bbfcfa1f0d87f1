package main

// TestCrashLosesNoAcknowledgedReceipt checks DESIGN principle 9 ("Nothing
// acknowledged is lost") for consent receipts (DESIGN 5.2) against the real
// binary: it SIGKILLs `tact serve` while 16 keep-alive clients are recording
// consent decisions, restarts it on the same store, and requires every
// receipt that was answered 201 to be readable, at the leaf index it was
// acknowledged with, and the ledger to verify (`tact ledger verify`, 5.6).
//
// A SIGKILL loses the process, not the kernel's page cache, so this covers a
// crash of tact itself, not a power cut.
//
// The random kill moments come from a logged seed; set TACT_CRASH_SEED to the
// logged value to replay the same delays.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/testenv"
)

const (
	crashClients = 16
	crashCycles  = 3
	// crashStoreBudget bounds one store's whole run (3 cycles).
	crashStoreBudget = 60 * time.Second
)

func TestCrashLosesNoAcknowledgedReceipt(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and runs the binary; skipped with -short")
	}
	bin := buildTact(t)

	seed := crashSeed(t)

	stores := []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"sqlite", func(t *testing.T) []string { return []string{"--data", t.TempDir()} }},
		{"postgres", func(t *testing.T) []string {
			u := testenv.PostgresURL(t) // skips outside CI without TACT_TEST_POSTGRES_URL
			return []string{"--data", t.TempDir(), "--database", u}
		}},
	}
	for i, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), crashStoreBudget)
			defer cancel()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			crashStore(ctx, t, bin, st.args(t), rng)
		})
	}
}

// ack is one acknowledged consent receipt.
type ack struct {
	id    string
	leaf  int64
	cycle int
}

func crashStore(ctx context.Context, t *testing.T, bin string, store []string, rng *rand.Rand) {
	writeKey := strings.TrimSpace(runTact(ctx, t, bin, 0, append([]string{"keys", "create", "--kind", "write", "--name", "crash-test"}, store...)...))
	if writeKey == "" || strings.ContainsAny(writeKey, " \n\t") {
		t.Fatalf("tact keys create --kind write printed %q, want the key alone", writeKey)
	}

	var acked []ack
	for cycle := 1; cycle <= crashCycles; cycle++ {
		srv := startTact(ctx, t, bin, store)
		notice := noticeVersion(ctx, t, srv.addr)
		delay := time.Duration(300+rng.IntN(1201)) * time.Millisecond

		got, stats := loadAndKill(ctx, t, srv, writeKey, notice, delay, cycle, func() { srv.kill(t) })
		t.Logf("cycle %d: killed after %v with %d clients: %d receipts acknowledged (201), %d other answers %v, %d requests failed on the connection",
			cycle, delay, crashClients, len(got), stats.otherCount(), stats.other, stats.connErrs)
		if stats.otherCount() > 0 {
			t.Logf("cycle %d: first non-201 answer: %s", cycle, stats.firstOther)
		}
		acked = append(acked, got...)

		srv = startTact(ctx, t, bin, store)
		checkReceipts(ctx, t, srv.addr, acked, cycle)
		srv.stop(ctx, t)
		runTact(ctx, t, bin, 0, append([]string{"ledger", "verify", "--quiet"}, store...)...)
		if t.Failed() {
			return
		}
	}
	if len(acked) == 0 {
		t.Fatalf("no consent decision was acknowledged in %d cycles: the test proved nothing", crashCycles)
	}
	t.Logf("%d acknowledged receipts over %d crashes, all present after restart; ledger verifies", len(acked), crashCycles)
}

// buildTact builds cmd/tact once into a temp dir.
func buildTact(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from cmd/tact: %v", err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the crash test builds tact with the go command: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "tact")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", bin, "./cmd/tact")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tact: %v\n%s", err, out)
	}
	return bin
}

// runTact runs a short tact command, bounded in time, and returns its stdout.
// It fails the test unless the command exits with want.
func runTact(ctx context.Context, t *testing.T, bin string, want int, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if ctx.Err() != nil {
		t.Fatalf("tact %s did not finish within its time bound: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	if code != want {
		t.Fatalf("tact %s exited %d (err %v), want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, err, want, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// tactServer is a running `tact serve`.
type tactServer struct {
	cmd    *exec.Cmd
	addr   string
	logs   *tailBuffer
	exited chan struct{}
	err    error // from Wait, valid once exited is closed
}

// startTact starts `tact serve` on a free port and waits for its address.
func startTact(ctx context.Context, t *testing.T, bin string, store []string) *tactServer {
	t.Helper()
	// Load from one loopback address on purpose: no per-IP rate limit.
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn", "--rate-limit-ip", "0"}, store...)
	cmd := exec.Command(bin, args...)
	s := &tactServer{cmd: cmd, logs: &tailBuffer{max: 32 << 10}, exited: make(chan struct{})}
	cmd.Stderr = s.logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting tact serve: %v", err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "tact listening on http://"); ok && !sent {
				addr, _, _ := strings.Cut(rest, " ")
				addrc <- addr
				sent = true
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			cmd.Process.Kill()
			<-s.exited
		}
	})

	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	select {
	case s.addr = <-addrc:
	case <-s.exited:
		t.Fatalf("tact serve exited before listening: %v\nstderr: %s", s.err, s.logs)
	case <-wait.Done():
		t.Fatalf("tact serve did not print its address within 20s\nstderr: %s", s.logs)
	}
	host, _, err := net.SplitHostPort(s.addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("tact serve printed address %q, want 127.0.0.1:PORT", s.addr)
	}
	return s
}

// kill SIGKILLs the server and reaps it.
func (s *tactServer) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Logf("kill: %v", err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("tact serve still running 10s after SIGKILL")
	}
}

// stop stops the server gracefully with SIGTERM and requires exit status 0.
func (s *tactServer) stop(ctx context.Context, t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to tact serve: %v", err)
	}
	wait, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	select {
	case <-s.exited:
		if s.err != nil {
			t.Fatalf("tact serve after SIGTERM: %v\nstderr: %s", s.err, s.logs)
		}
	case <-wait.Done():
		t.Fatalf("tact serve did not stop after SIGTERM within its bound\nstderr: %s", s.logs)
	}
}

func noticeVersion(ctx context.Context, t *testing.T, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/v1/notice", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /v1/notice: %v", err)
	}
	defer resp.Body.Close()
	var n struct {
		Version string `json:"version"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&n); err != nil || resp.StatusCode != 200 || n.Version == "" {
		t.Fatalf("GET /v1/notice: status %d, version %q, err %v", resp.StatusCode, n.Version, err)
	}
	return n.Version
}

// loadStats counts what the clients saw besides acknowledgements.
type loadStats struct {
	mu         sync.Mutex
	other      map[int]int // status → count, for answers other than 201
	firstOther string
	connErrs   int
}

func (s *loadStats) otherCount() int {
	n := 0
	for _, c := range s.other {
		n += c
	}
	return n
}

// loadAndKill runs crashClients keep-alive clients recording consent
// decisions against srv, SIGKILLs srv after delay while they run, and returns
// every receipt answered 201 with its leaf index.
func loadAndKill(ctx context.Context, t *testing.T, srv *tactServer, writeKey, notice string, delay time.Duration, cycle int, stop func()) ([]ack, *loadStats) {
	t.Helper()
	// The clients stop on their first connection error after the kill; the
	// deadline only bounds them should the kill not cut them off.
	load, cancel := context.WithTimeout(ctx, delay+10*time.Second)
	defer cancel()
	body := []byte(`{"noticeVersion":"` + notice + `","method":"banner","choices":{"analytics":true}}`)
	url := "http://" + srv.addr + "/v1/consent"

	var mu sync.Mutex
	var acked []ack
	stats := &loadStats{other: map[int]int{}}
	var wg sync.WaitGroup
	for c := 0; c < crashClients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			for load.Err() == nil {
				req, _ := http.NewRequestWithContext(load, "POST", url, bytes.NewReader(body))
				req.SetBasicAuth(writeKey, "")
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					stats.mu.Lock()
					stats.connErrs++
					stats.mu.Unlock()
					return
				}
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					// Cut mid-answer: not acknowledged.
					stats.mu.Lock()
					stats.connErrs++
					stats.mu.Unlock()
					return
				}
				if resp.StatusCode != http.StatusCreated {
					stats.mu.Lock()
					stats.other[resp.StatusCode]++
					if stats.firstOther == "" {
						stats.firstOther = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(raw))
					}
					stats.mu.Unlock()
					continue
				}
				var a struct {
					ReceiptID *string `json:"receiptId"`
					LeafIndex *int64  `json:"leafIndex"`
				}
				if err := json.Unmarshal(raw, &a); err != nil || a.ReceiptID == nil || *a.ReceiptID == "" || a.LeafIndex == nil {
					t.Errorf("cycle %d: 201 from POST /v1/consent without receiptId and leafIndex: %s (%v)", cycle, raw, err)
					return
				}
				mu.Lock()
				acked = append(acked, ack{id: *a.ReceiptID, leaf: *a.LeafIndex, cycle: cycle})
				mu.Unlock()
			}
		}()
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
	stop()
	wg.Wait()
	if errors.Is(load.Err(), context.DeadlineExceeded) {
		t.Logf("cycle %d: some clients ran until their deadline after the kill", cycle)
	}
	return acked, stats
}

// checkReceipts requires every acknowledged receipt to answer 200 at
// GET /v1/consent/receipts/{id} with the leaf index it was acknowledged at.
func checkReceipts(ctx context.Context, t *testing.T, addr string, acked []ack, cycle int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	type problem struct {
		a   ack
		why string
	}
	var mu sync.Mutex
	var missing, wrong []problem
	next := make(chan ack)
	tr := &http.Transport{MaxIdleConnsPerHost: crashClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for range crashClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range next {
				status, leaf, why := getReceipt(ctx, client, addr, a.id)
				mu.Lock()
				switch {
				case status == http.StatusNotFound:
					missing = append(missing, problem{a, why})
				case status != http.StatusOK:
					wrong = append(wrong, problem{a, why})
				case leaf != a.leaf:
					wrong = append(wrong, problem{a, fmt.Sprintf("leafIndex %d, acknowledged as %d", leaf, a.leaf)})
				}
				mu.Unlock()
			}
		}()
	}
	sent := 0
feed:
	for _, a := range acked {
		select {
		case next <- a:
			sent++
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if sent < len(acked) {
		t.Fatalf("after crash %d: checked only %d of %d acknowledged receipts before the time bound", cycle, sent, len(acked))
	}
	describe := func(ps []problem) string {
		var b strings.Builder
		for i, p := range ps {
			if i == 10 {
				fmt.Fprintf(&b, "\n  … and %d more", len(ps)-10)
				break
			}
			fmt.Fprintf(&b, "\n  %s (leaf %d, acknowledged in cycle %d): %s", p.a.id, p.a.leaf, p.a.cycle, p.why)
		}
		return b.String()
	}
	if len(missing) > 0 {
		t.Errorf("after crash %d: %d of %d acknowledged consent receipts are LOST (404 at GET /v1/consent/receipts/{id}):%s",
			cycle, len(missing), len(acked), describe(missing))
	}
	if len(wrong) > 0 {
		t.Errorf("after crash %d: %d of %d acknowledged consent receipts do not read back as acknowledged:%s",
			cycle, len(wrong), len(acked), describe(wrong))
	}
	if len(missing)+len(wrong) == 0 {
		t.Logf("after crash %d: all %d acknowledged receipts answer 200 at their leaf index", cycle, len(acked))
	}
}

func getReceipt(ctx context.Context, client *http.Client, addr, id string) (status int, leaf int64, why string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/v1/consent/receipts/"+id, nil)
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err.Error()
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, 0, err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, 0, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(raw))
	}
	var v struct {
		LeafIndex *int64          `json:"leafIndex"`
		Receipt   json.RawMessage `json:"receipt"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || v.LeafIndex == nil {
		return 0, 0, fmt.Sprintf("200 with an unreadable receipt: %s", raw)
	}
	if len(v.Receipt) == 0 || string(v.Receipt) == "null" {
		return 0, 0, fmt.Sprintf("200 without the receipt body: %s", raw)
	}
	return resp.StatusCode, *v.LeafIndex, ""
}

// tailBuffer keeps the last max bytes written to it (a server's stderr).
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > w.max {
		w.b = append(w.b[:0], w.b[len(w.b)-w.max:]...)
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}

// crashSeed is the seed of the kill delays: random, or TACT_CRASH_SEED to
// replay a failing run.
func crashSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TACT_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("TACT_CRASH_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("kill delays from seed %d (TACT_CRASH_SEED=%d replays them)", seed, seed)
	return seed
}
