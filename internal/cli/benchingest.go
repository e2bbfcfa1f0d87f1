package cli

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/loadgen"
)

// runBenchIngest drives a running tact with realistic e-commerce batches
// (DESIGN 5.1) and prints events/s, latency percentiles and tact's resident
// memory, with the store, its durability setting and sealing. It reaches the
// same store as the server (--data or --database) to create its server key
// and to read the store's settings.
func runBenchIngest(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench ingest", "bench ingest [--url URL] [--data DIR | --database URL] [--batch 100] [--clients 16] [--duration 20s] [--runs 3] [--consent all|none]")
	var sf storeFlags
	sf.register(fs, env)
	url := fs.String("url", "http://127.0.0.1:8080", "the running tact to drive")
	key := fs.String("server-key", env.Getenv("TACT_BENCH_SERVER_KEY"), "server key to send with (default: create one in the store) (TACT_BENCH_SERVER_KEY)")
	clients := fs.Int("clients", 16, "concurrent keep-alive clients")
	batch := fs.Int("batch", 100, "events per request")
	duration := fs.Duration("duration", 20*time.Second, "measured length of one run")
	warmup := fs.Duration("warmup", 2*time.Second, "warm-up before each run, not measured")
	runs := fs.Int("runs", 3, "runs; the median is reported")
	shoppers := fs.Int("shoppers", 10000, "distinct shoppers the events are about")
	consentMode := fs.String("consent", "all", "all: every shopper grants every purpose first; none: nobody consented (measurement only)")
	retail := fs.String("retail-csv", "", "optional: products and customers from the Online Retail CSV (../shared/data/online-retail/online-retail-train.csv.gz)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *consentMode != loadgen.ConsentAll && *consentMode != loadgen.ConsentNone {
		return usageErr("--consent must be all or none")
	}
	if *runs < 1 {
		return usageErr("--runs must be at least 1")
	}
	a, err := sf.open(ctx)
	if err != nil {
		return err
	}
	secret := *key
	if secret == "" {
		if secret, _, err = a.Auth.Create(ctx, auth.KindServer, "bench ingest", "", nil); err != nil {
			a.Close()
			return err
		}
	}
	durability, err := a.Store.Durability(ctx)
	a.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "machine: %s, %d cores, %s/%s, %s (load generator on the same machine)\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(env.Stdout, "tact: %s; store: %s; sealing: on (AES-256-GCM under each shopper's data key, always on)\n", *url, durability)
	fmt.Fprintf(env.Stdout, "load: %d clients, batches of %d, %d shoppers, consent %s, %s per run after %s warm-up, %d runs\n",
		*clients, *batch, *shoppers, *consentMode, *duration, *warmup, *runs)

	var results []loadgen.Result
	var peakRSS atomic.Int64
	for run := 1; run <= *runs; run++ {
		var bar *progressbar.ProgressBar
		cfg := loadgen.Config{
			URL: *url, ServerKey: secret, Clients: *clients, BatchSize: *batch, Duration: *duration, Warmup: *warmup,
			Shoppers: *shoppers, Consent: *consentMode, RetailCSV: *retail,
			Progress: func(done, total int) {
				if bar == nil {
					bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("recording consent"),
						progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond))
				}
				bar.Set(done)
			},
		}
		sampling, stop := context.WithCancel(ctx)
		go sampleRSS(sampling, *url, &peakRSS)
		res, err := loadgen.Run(ctx, cfg)
		stop()
		if bar != nil {
			bar.Finish()
			fmt.Fprintln(env.Stderr)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "run %d: %.0f events/s, p50 %s, p99 %s, %d errors, %d retries\n", run, res.EventsPerSec,
			res.Latency.P50.Round(10*time.Microsecond), res.Latency.P99.Round(10*time.Microsecond), res.Errors, res.Retries)
		results = append(results, res)
	}
	slices.SortFunc(results, func(x, y loadgen.Result) int { return cmp.Compare(x.EventsPerSec, y.EventsPerSec) })
	median := results[len(results)/2]
	fmt.Fprintln(env.Stdout, "median run:")
	median.Format(env.Stdout)
	if rss := peakRSS.Load(); rss > 0 {
		fmt.Fprintf(env.Stdout, "tact peak RSS: %.0f MB (process_resident_memory_bytes, sampled every 250 ms)\n", float64(rss)/1e6)
	}
	return nil
}

// sampleRSS polls tact's /metrics for its resident memory and keeps the peak.
func sampleRSS(ctx context.Context, url string, peak *atomic.Int64) {
	client := &http.Client{Timeout: 2 * time.Second}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		if rss := readRSS(ctx, client, url); rss > peak.Load() {
			peak.Store(rss)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func readRSS(ctx context.Context, client *http.Client, url string) int64 {
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(url, "/")+"/metrics", nil)
	if err != nil {
		return 0
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int64(f)
		}
	}
	return 0
}
