package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/loadgen"
)

// runBenchPurge measures what erasure costs ingest (issue 4): it fills a
// running tact with the events of shoppers to be erased, measures ingest at
// a fixed rate, then files an erasure for every one of those shoppers and
// measures ingest at the same rate while the purge runs.
func runBenchPurge(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench purge", "bench purge --rate EVENTS/S [--url URL] [--data DIR | --database URL] [--shoppers 1000] [--events-each 1000] [--duration 30s]")
	var sf storeFlags
	sf.register(fs, env)
	url := fs.String("url", "http://127.0.0.1:8080", "the running tact to drive")
	rate := fs.Float64("rate", 0, "ingest rate to hold during both measurements (events/s): half the measured maximum")
	shoppers := fs.Int("shoppers", 1000, "shoppers to erase")
	each := fs.Int("events-each", 1000, "events stored per erased shopper")
	duration := fs.Duration("duration", 30*time.Second, "length of the baseline measurement; the purge measurement runs until the purge is done")
	clients := fs.Int("clients", 16, "ingest clients")
	batch := fs.Int("batch", 100, "events per ingest request")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *rate <= 0 {
		return usageErr("--rate is required: half the maximum `tact bench ingest` measured")
	}
	a, err := sf.open(ctx)
	if err != nil {
		return err
	}
	key, _, err := a.Auth.Create(ctx, auth.KindServer, "bench purge", "", nil)
	if err != nil {
		a.Close()
		return err
	}
	admin, _, err := a.Auth.Create(ctx, auth.KindAdmin, "bench purge", "admin", nil)
	if err != nil {
		a.Close()
		return err
	}
	notice := a.Policy.NoticeVersion
	durability, err := a.Store.Durability(ctx)
	a.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "machine: %s, %d cores, %s/%s, %s (load generator on the same machine)\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(env.Stdout, "tact: %s; store: %s\n", *url, durability)

	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	post := func(path string, body any) ([]byte, error) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, "POST", *url+path, bytes.NewReader(raw))
		req.SetBasicAuth(key, "")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			return nil, fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
		}
		return b, nil
	}

	// The shoppers to erase: consent, then their events, 8 senders.
	total := *shoppers * *each
	bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("storing events to erase"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond))
	jobs := make(chan int)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for n := range jobs {
				user := fmt.Sprintf("purge-%d", n)
				if _, err := post("/v1/consent", map[string]any{"userId": user, "noticeVersion": notice, "method": "api", "choices": map[string]bool{"analytics": true}}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				for sent := 0; sent < *each; sent += 500 {
					evs := make([]map[string]any, min(500, *each-sent))
					for i := range evs {
						evs[i] = map[string]any{"type": "track", "event": "Product Viewed", "userId": user, "messageId": fmt.Sprintf("purge-%d-%d", n, sent+i),
							"properties": map[string]any{"product_id": fmt.Sprintf("P%d", i%500), "name": "A product to forget", "price": 9.99, "category": "Home/Lamps"}}
					}
					if _, err := post("/v1/batch", map[string]any{"batch": evs}); err != nil {
						firstErr.CompareAndSwap(nil, err)
					}
					bar.Add(len(evs))
				}
			}
		})
	}
	for n := range *shoppers {
		jobs <- n
	}
	close(jobs)
	wg.Wait()
	bar.Finish()
	fmt.Fprintln(env.Stderr)
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}

	ingest := func(d time.Duration) (loadgen.Result, error) {
		return loadgen.Run(ctx, loadgen.Config{URL: *url, ServerKey: key, Clients: *clients, BatchSize: *batch, Duration: d, Rate: *rate, Consent: loadgen.ConsentAll, Shoppers: 2000})
	}
	fmt.Fprintf(env.Stdout, "load: %d clients, batches of %d, held at %.0f events/s; %d shoppers with %d events each to erase (%d events)\n",
		*clients, *batch, *rate, *shoppers, *each, total)
	base, err := ingest(*duration)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "without purge: %.0f events/s, p50 %s, p99 %s, %d errors\n", base.EventsPerSec, base.Latency.P50.Round(10*time.Microsecond), base.Latency.P99.Round(10*time.Microsecond), base.Errors)

	// File the erasures (the shop, with its server key), then measure
	// ingest until every one has completed.
	started := time.Now()
	for n := range *shoppers {
		if _, err := post("/v1/requests", map[string]any{"type": "erasure", "userId": fmt.Sprintf("purge-%d", n)}); err != nil {
			return err
		}
	}
	filed := time.Since(started)
	// Ingest is measured from the first filing until the last erasure
	// completes: the whole purge, and nothing else.
	during, stopIngest := context.WithCancel(ctx)
	defer stopIngest()
	var purgeTime time.Duration
	go func() {
		defer stopIngest()
		for {
			n, err := completedRequests(ctx, client, *url, admin)
			if err == nil && n >= int64(*shoppers) {
				purgeTime = time.Since(started)
				return
			}
			if ctx.Err() != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	under, err := loadgen.Run(during, loadgen.Config{URL: *url, ServerKey: key, Clients: *clients, BatchSize: *batch, Duration: time.Hour, Warmup: -1,
		Rate: *rate, Consent: loadgen.ConsentNone, Shoppers: 2000})
	if err != nil && (ctx.Err() != nil || !errors.Is(err, context.Canceled)) {
		return err
	}
	fmt.Fprintf(env.Stdout, "during purge: %.0f events/s, p50 %s, p99 %s, %d errors\n", under.EventsPerSec, under.Latency.P50.Round(10*time.Microsecond), under.Latency.P99.Round(10*time.Microsecond), under.Errors)
	fmt.Fprintf(env.Stdout, "purge: %d erasures filed in %s, all completed %s after the first was filed (%.0f events purged/s)\n",
		*shoppers, filed.Round(time.Millisecond), purgeTime.Round(time.Millisecond), float64(total)/purgeTime.Seconds())
	fmt.Fprintf(env.Stdout, "p99 during purge / without: %.2f×\n", float64(under.Latency.P99)/float64(base.Latency.P99))
	return nil
}

func completedRequests(ctx context.Context, client *http.Client, url, admin string) (int64, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/admin/api/stats", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Requests map[string]int64 `json:"requests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return 0, err
	}
	return st.Requests["completed"], nil
}
