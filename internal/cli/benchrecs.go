package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/auth"
	"github.com/tact-cdp/tact/internal/catalog"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/collect/segment"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/httpapi"
	"github.com/tact-cdp/tact/internal/recommend"
	"github.com/tact-cdp/tact/internal/recommend/eval"
)

// runBenchRecs measures GET /v1/recommendations through tact's real HTTP
// handler, consent lookup and model, in one process on a fresh store
// (SQLite in a temporary directory, or the scratch PostgreSQL database
// named with --database).
//
// With --orders it loads the Online Retail history the way a shop would:
// catalogue items, a personalisation consent per customer, and one Order
// Completed event per invoice through collection (stored, sealed), then the
// model is replayed from the store as at start-up. With --items/--events it
// builds a synthetic shop: the catalogue and --consented shoppers with
// consent go through the store, and the events are fed to the model
// directly (storing 10M sealed events first would take an hour and measure
// ingest, not recommendations).
func runBenchRecs(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bench recs", "bench recs (--orders FILE | --items 100000 --events 10000000) [--clients 16] [--duration 20s] [--runs 3] [--database URL]")
	database := fs.String("database", env.Getenv("TACT_BENCH_DATABASE"), "scratch PostgreSQL database instead of SQLite (TACT_BENCH_DATABASE)")
	orders := fs.String("orders", "", "Online Retail CSV (.csv or .csv.gz) to load")
	items := fs.Int("items", 0, "synthetic catalogue size")
	events := fs.Int("events", 0, "synthetic consented events")
	shoppers := fs.Int("shoppers", 0, "synthetic shoppers (default events/10)")
	consented := fs.Int("consented", 10000, "synthetic shoppers given a consent in the store (the ones the load asks for)")
	clients := fs.Int("clients", 16, "concurrent keep-alive clients")
	duration := fs.Duration("duration", 20*time.Second, "measured length of one run")
	warmup := fs.Duration("warmup", 2*time.Second, "warm-up before each run")
	runs := fs.Int("runs", 3, "runs; the median is reported")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if (*orders == "") == (*items == 0) {
		return usageErr("give either --orders FILE or --items N --events N")
	}
	if *items < 0 || *events < 0 || *shoppers < 0 || *consented < 1 || *clients < 1 || *runs < 1 {
		return usageErr("--items, --events, --shoppers must not be negative; --consented, --clients and --runs at least 1")
	}
	if *orders != "" {
		if _, err := os.Stat(*orders); err != nil {
			return fmt.Errorf("--orders: %w", err)
		}
	}
	a, _, closeApp, err := openScratch(ctx, *database)
	if err != nil {
		return err
	}
	defer closeApp()
	fmt.Fprintf(env.Stdout, "machine: %s, %d cores, %s/%s, %s (load generator in the same process)\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(env.Stdout, "store: %s\n", a.Store.Dialect())

	var users []string
	var itemIDs []string
	if *orders != "" {
		users, itemIDs, err = loadRetail(ctx, env, a, *orders)
	} else {
		if *shoppers == 0 {
			*shoppers = max(*events/10, *consented)
		}
		users, itemIDs, err = loadSynthetic(ctx, env, a, *items, *events, *shoppers, min(*consented, *shoppers))
	}
	if err != nil {
		return err
	}
	m := a.Personalize.Model()
	runtime.GC()
	st := m.Stats()
	fmt.Fprintf(env.Stdout, "model: %d items, %d shoppers, %d pairs; heap in use %d MB; process RSS %d MB\n",
		st.Items, st.Shoppers, st.Pairs, heapInUse()>>20, selfRSS()>>20)

	server, _, err := a.Auth.Create(ctx, auth.KindServer, "bench recs", "", nil)
	if err != nil {
		return err
	}
	api := &httpapi.Server{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: a.Store, Auth: a.Auth, Consent: a.Consent, Collect: a.Collect, Ledger: a.Ledger,
		DataMap: func() *datamap.Map { return a.DataMap }, TokenTTL: time.Hour, Catalog: a.Catalog, Interests: a.Interests, Personalize: a.Personalize,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api.Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String() + "/v1/recommendations?"
	fmt.Fprintf(env.Stdout, "load: %d keep-alive clients, %s per run after %s warm-up, %d runs; per request one of: home for a consented shopper (40%%), product page for one (30%%), cart for one (10%%), non-personal product page (10%%), non-personal home (10%%)\n",
		*clients, *duration, *warmup, *runs)

	type result struct {
		rate     float64
		p50, p99 time.Duration
		errors   int64
		personal float64
	}
	var results []result
	var peakRSS atomic.Int64
	for run := 1; run <= *runs; run++ {
		measure := func(d time.Duration) result {
			tr := &http.Transport{MaxIdleConns: *clients, MaxIdleConnsPerHost: *clients, IdleConnTimeout: time.Minute}
			client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			defer tr.CloseIdleConnections()
			var wg sync.WaitGroup
			lat := make([][]time.Duration, *clients)
			var errs, personal atomic.Int64
			deadline := time.Now().Add(d)
			start := time.Now()
			for c := range *clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(run), uint64(c)))
					for time.Now().Before(deadline) {
						q := recsQuery(rng, users, itemIDs)
						t0 := time.Now()
						req, _ := http.NewRequest("GET", base+q, nil)
						req.SetBasicAuth(server, "")
						resp, err := client.Do(req)
						if err != nil {
							errs.Add(1)
							continue
						}
						var out struct {
							Personalized bool `json:"personalized"`
						}
						err = json.NewDecoder(resp.Body).Decode(&out)
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if err != nil || resp.StatusCode != 200 {
							errs.Add(1)
							continue
						}
						if out.Personalized {
							personal.Add(1)
						}
						lat[c] = append(lat[c], time.Since(t0))
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			var all []time.Duration
			for _, l := range lat {
				all = append(all, l...)
			}
			slices.Sort(all)
			r := result{errors: errs.Load()}
			if len(all) > 0 {
				r.rate = float64(len(all)) / elapsed.Seconds()
				r.p50, r.p99 = all[len(all)/2], all[len(all)*99/100]
				r.personal = float64(personal.Load()) / float64(len(all))
			}
			return r
		}
		measure(*warmup)
		sampling, stop := context.WithCancel(ctx)
		go func() {
			t := time.NewTicker(250 * time.Millisecond)
			defer t.Stop()
			for {
				if v := selfRSS(); v > peakRSS.Load() {
					peakRSS.Store(v)
				}
				select {
				case <-sampling.Done():
					return
				case <-t.C:
				}
			}
		}()
		r := measure(*duration)
		stop()
		fmt.Fprintf(env.Stdout, "run %d: %.0f requests/s, p50 %s, p99 %s, %.0f%% personalised, %d errors\n", run, r.rate,
			r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.personal*100, r.errors)
		results = append(results, r)
	}
	slices.SortFunc(results, func(x, y result) int { return cmp.Compare(x.rate, y.rate) })
	med := results[len(results)/2]
	fmt.Fprintf(env.Stdout, "median run: %.0f requests/s, p50 %s, p99 %s\n", med.rate, med.p50.Round(10*time.Microsecond), med.p99.Round(10*time.Microsecond))
	fmt.Fprintf(env.Stdout, "process peak RSS during the runs: %d MB (tact and the load generator)\n", peakRSS.Load()>>20)
	return nil
}

// recsQuery draws one request of the benchmark's mix.
func recsQuery(rng *rand.Rand, users, items []string) string {
	user := "&userId=" + users[rng.IntN(len(users))]
	item := "&itemId=" + items[rng.IntN(len(items))]
	switch r := rng.IntN(10); {
	case r < 4:
		return "placement=home" + user
	case r < 7:
		return "placement=product" + item + user
	case r < 8:
		return "placement=cart" + item + user
	case r < 9:
		return "placement=product" + item + "&personalized=false"
	default:
		return "placement=home&personalized=false"
	}
}

// grantPersonalization records a personalisation consent for each userId,
// as the shop's backend would, and returns their subject ids.
func grantPersonalization(ctx context.Context, env *Env, a *app.App, users []string) ([]string, error) {
	bar := progressbar.NewOptions(len(users), progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("recording consent"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond))
	defer fmt.Fprintln(env.Stderr)
	ids := make([]string, len(users))
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(users) {
					return
				}
				res, err := a.Consent.Record(ctx, consent.Caller{Server: true, KeyID: "bench"}, consent.Request{
					UserID: users[i], NoticeVersion: a.Policy.NoticeVersion, Method: consent.MethodAPI,
					Choices: map[string]bool{datamap.PurposePersonalization: true},
				})
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				ids[i] = res.SubjectID
				bar.Add(1)
			}
		}()
	}
	wg.Wait()
	bar.Finish()
	return ids, firstErr
}

// loadRetail loads the Online Retail history through the store and replays
// the model from it.
func loadRetail(ctx context.Context, env *Env, a *app.App, path string) (users, items []string, err error) {
	o, err := eval.LoadFile(path, nil)
	if err != nil {
		return nil, nil, err
	}
	var cat []catalog.Item
	for _, p := range o.Products {
		cat = append(cat, catalog.Item{ID: p.Code, Name: p.Name, Available: true})
		items = append(items, p.Code)
	}
	if err := a.Catalog.Put(ctx, catalog.SourceImport, cat...); err != nil {
		return nil, nil, err
	}
	orders, lines, err := storeOrders(ctx, env, a, o, nil)
	if err != nil {
		return nil, nil, err
	}
	// The model learnt the orders as they were stored; start over and
	// replay them from the store, as tact serve does at start.
	t0 := time.Now()
	if err := a.Personalize.Rebuild(ctx); err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(env.Stdout, "data: Online Retail, %d items, %d customers with personalisation consent, %d orders (%d lines) stored; model replayed from the store in %s\n",
		len(items), len(o.Customers), orders, lines, time.Since(t0).Round(time.Millisecond))
	return o.Customers, items, nil
}

// storeOrders gives each customer of an order history a personalisation
// consent and stores one Order Completed event per invoice with a server
// key, shifted so that the last order was yesterday (recency weights count
// from now). With keep set, only lines of those items count, and only
// customers who bought one of them. It returns the orders and lines stored.
func storeOrders(ctx context.Context, env *Env, a *app.App, o *eval.Orders, keep map[string]bool) (orders, lines int, err error) {
	if len(o.Purchases) == 0 {
		return 0, 0, nil
	}
	shift := time.Since(time.Unix(o.Purchases[len(o.Purchases)-1].At, 0)) - 24*time.Hour
	type invoice struct {
		customer int32
		at       int64
		products []any
	}
	var invs []*invoice
	byNo := map[int32]*invoice{}
	buyers := map[int32]bool{}
	for _, p := range o.Purchases {
		code := o.Products[p.Item].Code
		if keep != nil && !keep[code] {
			continue
		}
		inv := byNo[p.Invoice]
		if inv == nil {
			inv = &invoice{customer: p.Customer, at: p.At}
			byNo[p.Invoice] = inv
			invs = append(invs, inv)
		}
		buyers[p.Customer] = true
		inv.products = append(inv.products, map[string]any{"product_id": code, "name": o.Products[p.Item].Name})
		lines++
	}
	var users []string
	for c := range buyers {
		users = append(users, o.Customers[c])
	}
	slices.Sort(users)
	if _, err := grantPersonalization(ctx, env, a, users); err != nil {
		return 0, 0, err
	}
	bar := progressbar.NewOptions(len(invs), progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("storing orders"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond))
	caller := collect.Caller{Server: true, KeyID: "orders"}
	for start := 0; start < len(invs); start += 100 {
		var batch []map[string]any
		for i, inv := range invs[start:min(start+100, len(invs))] {
			batch = append(batch, map[string]any{
				"type": "track", "event": "Order Completed", "userId": o.Customers[inv.customer],
				"messageId":  "order-" + strconv.Itoa(start+i),
				"timestamp":  time.Unix(inv.at, 0).Add(shift).UTC().Format(time.RFC3339),
				"properties": map[string]any{"order_id": strconv.Itoa(start + i), "products": inv.products},
			})
		}
		body, err := json.Marshal(map[string]any{"batch": batch})
		if err != nil {
			return 0, 0, err
		}
		b, err := segment.DecodeBatch(body)
		if err != nil {
			return 0, 0, err
		}
		res, err := a.Collect.Ingest(ctx, caller, &b, collect.Request{ReceivedAt: time.Now()})
		if err != nil {
			return 0, 0, err
		}
		if len(res.Rejected) > 0 {
			return 0, 0, fmt.Errorf("orders rejected: %v", res.Rejected[0])
		}
		bar.Add(len(batch))
	}
	bar.Finish()
	fmt.Fprintln(env.Stderr)
	return len(invs), lines, nil
}

// loadSynthetic builds a synthetic shop: items in categories of 50 (8
// departments), shoppers keeping mostly to three favourite categories with
// Zipf popularity inside each, views, carts and purchases over 300 days.
// The first consented shoppers are real subjects with consent in the store.
func loadSynthetic(ctx context.Context, env *Env, a *app.App, nItems, nEvents, nShoppers, nConsented int) (users, items []string, err error) {
	const perCat = 50
	nCats := max(nItems/perCat, 1)
	var cat []catalog.Item
	for i := range nItems {
		id := fmt.Sprintf("P%06d", i)
		items = append(items, id)
		cat = append(cat, catalog.Item{ID: id, Name: fmt.Sprintf("Product %d", i), Category: fmt.Sprintf("Dept%d/Cat%d", i/perCat%8, i/perCat), Available: true})
	}
	for start := 0; start < len(cat); start += 5000 {
		if err := a.Catalog.Put(ctx, catalog.SourceImport, cat[start:min(start+5000, len(cat))]...); err != nil {
			return nil, nil, err
		}
	}
	cat = nil
	for i := range nConsented {
		users = append(users, fmt.Sprintf("bench-user-%d", i))
	}
	subjects, err := grantPersonalization(ctx, env, a, users)
	if err != nil {
		return nil, nil, err
	}
	key := func(s int) string {
		if s < len(subjects) {
			return subjects[s]
		}
		return "synthetic-" + strconv.Itoa(s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 2, perCat-1)
	favs := make([][3]int32, nShoppers)
	for s := range favs {
		favs[s] = [3]int32{int32(rng.IntN(nCats)), int32(rng.IntN(nCats)), int32(rng.IntN(nCats))}
	}
	m := a.Personalize.Model()
	now := time.Now()
	start := now.Add(-300 * 24 * time.Hour)
	bar := progressbar.NewOptions(nEvents, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("teaching the model"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(500*time.Millisecond))
	t0 := time.Now()
	// Events in time order, a day's worth at a time, as a replay gives them.
	perDay := max(nEvents/300, 1)
	for done := 0; done < nEvents; {
		day := min(done/perDay, 299)
		for range min(perDay, nEvents-done) {
			s := rng.IntN(nShoppers)
			c := int(favs[s][rng.IntN(3)])
			if rng.IntN(5) == 0 {
				c = rng.IntN(nCats)
			}
			it := min(c*perCat+int(zipf.Uint64()), nItems-1)
			k := recommend.View
			switch r := rng.IntN(10); {
			case r == 0:
				k = recommend.Purchase
			case r < 3:
				k = recommend.Cart
			}
			at := start.Add(time.Duration(day)*24*time.Hour + time.Duration(rng.Int64N(int64(24*time.Hour))))
			if err := m.Add(recommend.Event{Shopper: key(s), Item: items[it], Kind: k, At: at}); err != nil {
				return nil, nil, err
			}
			done++
		}
		bar.Set(done)
	}
	bar.Finish()
	fmt.Fprintln(env.Stderr)
	learnt := time.Since(t0)
	t0 = time.Now()
	m.Refresh()
	fmt.Fprintf(env.Stdout, "data: synthetic, %d items, %d events of %d shoppers fed to the model in %s (refresh %s); %d shoppers with consent in the store\n",
		nItems, nEvents, nShoppers, learnt.Round(time.Second), time.Since(t0).Round(time.Millisecond), len(subjects))
	return users, items, nil
}

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// selfRSS reads this process's resident set size (Linux; 0 elsewhere).
func selfRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
