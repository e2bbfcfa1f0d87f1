package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/httpapi"
)

// runBench measures whole-system figures for docs/benchmarks.md. It always
// works on a fresh SQLite store in a temporary directory, or on the
// PostgreSQL database named with --database (which it writes into: use a
// scratch database).
func runBench(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 && args[0] == "ingest" {
		return runBenchIngest(ctx, env, args[1:])
	}
	if len(args) > 0 && args[0] == "purge" {
		return runBenchPurge(ctx, env, args[1:])
	}
	if len(args) > 0 && args[0] == "export" {
		return runBenchExport(ctx, env, args[1:])
	}
	if len(args) > 0 && args[0] == "recs" {
		return runBenchRecs(ctx, env, args[1:])
	}
	fs := newFlagSet(env, "bench", "bench consent [--clients 16] [--duration 10s] [--runs 3] | bench ingest [flags] | bench purge [flags] | bench recs [flags] | bench export [--members N] | bench ledger [--receipts 1000000] [--database URL]")
	database := fs.String("database", env.Getenv("TACT_BENCH_DATABASE"), "scratch PostgreSQL database to benchmark instead of SQLite (TACT_BENCH_DATABASE)")
	clients := fs.Int("clients", 16, "concurrent keep-alive clients (consent)")
	duration := fs.Duration("duration", 10*time.Second, "length of one run (consent)")
	runs := fs.Int("runs", 3, "runs; the median is reported (consent)")
	receipts := fs.Int("receipts", 1_000_000, "receipts to write before verifying (ledger)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "consent" && pos[0] != "ledger") {
		return usageErr("usage: tact bench consent|ingest|purge|recs|ledger")
	}
	a, dir, closeApp, err := openScratch(ctx, *database)
	if err != nil {
		return err
	}
	defer closeApp()
	fmt.Fprintf(env.Stdout, "machine: %s, %d cores, %s/%s, %s\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if *database != "" {
		fmt.Fprintf(env.Stdout, "store: postgres (%d group-commit writers, synchronous_commit as configured on the server)\n", a.Store.Writers())
	} else {
		fmt.Fprintln(env.Stdout, "store: sqlite, WAL, synchronous=FULL, one writer connection with group commit, temp dir", dir)
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if pos[0] == "consent" {
		return benchConsent(ctx, env, a, *clients, *duration, *runs)
	}
	return benchLedger(ctx, env, a, *receipts)
}

// openScratch opens tact on a fresh SQLite store in a temporary directory,
// or on the scratch PostgreSQL database named by database; closeApp closes
// it and removes the directory.
func openScratch(ctx context.Context, database string) (a *app.App, dir string, closeApp func(), err error) {
	dir, err = os.MkdirTemp("", "tact-bench-*")
	if err != nil {
		return nil, "", nil, err
	}
	a, err = app.Open(ctx, app.Config{DataDir: dir, Database: database})
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", nil, err
	}
	return a, dir, func() { a.Close(); os.RemoveAll(dir) }, nil
}

func benchConsent(ctx context.Context, env *Env, a *app.App, clients int, d time.Duration, runs int) error {
	key, _, err := a.Auth.Create(ctx, auth.KindWrite, "bench", "", nil)
	if err != nil {
		return err
	}
	api := &httpapi.Server{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: a.Store, Auth: a.Auth, Consent: a.Consent, Collect: a.Collect, Ledger: a.Ledger,
		DataMap: func() *datamap.Map { return a.DataMap }, TokenTTL: time.Hour,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	jobs, stop := context.WithCancel(ctx)
	defer stop()
	go a.Ledger.Run(jobs, slog.New(slog.NewTextHandler(io.Discard, nil)))

	url := "http://" + ln.Addr().String() + "/v1/consent"
	body := []byte(`{"noticeVersion":"` + a.Policy.NoticeVersion + `","method":"banner","choices":{"analytics":true,"personalization":true,"advertising":false}}`)
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	fmt.Fprintf(env.Stdout, "POST /v1/consent, new browser per request (new subject, data key, sealed salt, receipt, ledger leaf), %d keep-alive clients, %s per run\n", clients, d)
	var rates []float64
	for run := 1; run <= runs; run++ {
		var ok, failed atomic.Int64
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
					req.SetBasicAuth(key, "")
					resp, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusCreated {
						ok.Add(1)
					} else {
						failed.Add(1)
					}
				}
			}()
		}
		before := a.Store.WriterStats()
		wg.Wait()
		elapsed := time.Since(start)
		ws := a.Store.WriterStats()
		if n := ws.Batches - before.Batches; n > 0 {
			fmt.Fprintf(env.Stdout, "  group commit: %d batches, %.1f writes/batch, %.2f ms/batch (%.2f ms in COMMIT, %.2f ms in the writes)\n", n,
				float64(ws.Writes-before.Writes)/float64(n), float64(ws.Busy-before.Busy)/float64(n)/1e6, float64(ws.Commit-before.Commit)/float64(n)/1e6,
				float64(ws.Fn-before.Fn)/float64(n)/1e6)
		}
		rate := float64(ok.Load()) / elapsed.Seconds()
		rates = append(rates, rate)
		fmt.Fprintf(env.Stdout, "run %d: %d receipts in %.2fs = %.0f receipts/s (%d failed)\n", run, ok.Load(), elapsed.Seconds(), rate, failed.Load())
	}
	slices.Sort(rates)
	fmt.Fprintf(env.Stdout, "median: %.0f receipts/s\n", rates[len(rates)/2])
	return nil
}

func benchLedger(ctx context.Context, env *Env, a *app.App, n int) error {
	fmt.Fprintf(env.Stdout, "writing %d receipts through the consent service (64 concurrent writers)…\n", n)
	bar := progressbar.NewOptions(n, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("writing receipts"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	var next atomic.Int64
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				_, err := a.Consent.Record(ctx, consent.Caller{Server: true}, consent.Request{
					UserID: fmt.Sprintf("bench-%d", i), NoticeVersion: a.Policy.NoticeVersion, Method: consent.MethodImport,
					Choices: map[string]bool{"analytics": i%2 == 0, "personalization": i%3 == 0},
				})
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				if d := done.Add(1); d%1000 == 0 {
					bar.Set64(d)
					if d%100_000 == 0 {
						a.Ledger.CutCheckpoint(ctx)
					}
				}
			}
		}()
	}
	wg.Wait()
	bar.Finish()
	if firstErr != nil {
		return firstErr
	}
	if _, err := a.Ledger.CutCheckpoint(ctx); err != nil {
		return err
	}
	fill := time.Since(start)
	fmt.Fprintf(env.Stdout, "wrote %d receipts in %.1fs (%.0f/s)\n", n, fill.Seconds(), float64(n)/fill.Seconds())
	start = time.Now()
	rep, err := a.Ledger.Verify(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "ledger verify: %d receipts, %d checkpoints in %.2fs\n", rep.Leaves, rep.Checkpoints, time.Since(start).Seconds())
	return nil
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// writeHeapProfile writes the live heap to path (empty: nothing).
func writeHeapProfile(path string, log *slog.Logger) {
	if path == "" {
		return
	}
	runtime.GC()
	f, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		log.Error("writing the heap profile", "err", err)
	}
}

// startCPUProfile writes a CPU profile to path until stop is called (path
// empty: nothing).
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
