package loadgen

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// poolEvents is about how many distinct events are rendered before the
// run; requests cycle through them with fresh messageIds.
const poolEvents = 20_000

type runner struct {
	cfg        Config
	client     *http.Client
	eventAuth  string
	keyKind    string
	serverAuth string
	shoppers   []shopper
	pool       []batch

	windowStart, windowEnd time.Time
}

// Run sets up the shop, sends one batch to check that the server is there
// and takes the key, records consent when asked, then sends batches from
// cfg.Clients goroutines for cfg.Warmup plus cfg.Duration and reports the
// figures of the measured window. When ctx ends early Run returns what was
// measured with ctx's error.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	r := &runner{cfg: cfg, client: newClient(cfg.Clients), serverAuth: basicAuth(cfg.ServerKey)}
	defer r.client.CloseIdleConnections()
	key, kind := cfg.eventKey()
	r.eventAuth, r.keyKind = basicAuth(key), kind

	if err := r.prepare(); err != nil {
		return Result{}, err
	}
	if err := r.probe(ctx); err != nil {
		return Result{}, err
	}
	if cfg.Consent == ConsentAll {
		if err := r.recordConsent(ctx); err != nil {
			return Result{}, err
		}
	}
	return r.run(ctx)
}

// prepare builds the catalogue, the shoppers and the pool of batches.
func (r *runner) prepare() error {
	rng := rand.New(rand.NewPCG(uint64(r.cfg.Seed), 0x74616374)) // "tact"
	var products []product
	var customers []string
	if r.cfg.RetailCSV != "" {
		var err error
		if products, customers, err = loadRetailFile(r.cfg.RetailCSV); err != nil {
			return fmt.Errorf("retail data: %w", err)
		}
		customers = customers[:min(len(customers), r.cfg.Shoppers)]
	} else {
		products = synthCatalogue(rng, 4000)
	}
	r.shoppers = newShoppers(rng, customers, r.cfg.Shoppers)
	g := newGenerator(rng, newCatalogue(products), r.shoppers, time.Now())
	// At least one batch per client, so that concurrent requests differ.
	n := max(r.cfg.Clients, (poolEvents+r.cfg.BatchSize-1)/r.cfg.BatchSize)
	r.pool = make([]batch, n)
	for i := range r.pool {
		r.pool[i] = g.batch(r.cfg.BatchSize)
	}
	return nil
}

// idSource makes messageIds. It is seeded from crypto/rand whatever
// Config.Seed says: see Config.Seed.
func idSource() *rand.Rand {
	var seed [32]byte
	crand.Read(seed[:])
	return rand.New(rand.NewChaCha8(seed))
}

// fill copies b into buf with fresh messageIds.
func fill(buf []byte, b *batch, ids *rand.Rand) []byte {
	buf = append(buf[:0], b.body...)
	for _, at := range b.ids {
		putUUID(buf[at:], ids.Uint64(), ids.Uint64())
	}
	return buf
}

func stampSentAt(buf []byte, b *batch) {
	// Formatted aside: AppendFormat may write past the length it ends
	// with, which in place would clobber the closing bytes.
	var scratch [64]byte
	copy(buf[b.sentAt:b.sentAt+len(timeLayout)], time.Now().UTC().AppendFormat(scratch[:0], timeLayout))
}

// probe sends one batch so that a wrong URL or key fails at once rather
// than as a run full of errors.
func (r *runner) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	b := &r.pool[0]
	buf := fill(nil, b, idSource())
	for range 10 {
		stampSentAt(buf, b)
		a, err := post(ctx, r.client, r.cfg.URL+"/v1/batch", r.eventAuth, buf)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("first batch: %w", ctx.Err())
			}
			return fmt.Errorf("tact server not reachable at %s: %w", r.cfg.URL, err)
		}
		switch a.status {
		case http.StatusOK:
			return nil
		case http.StatusUnauthorized, http.StatusForbidden:
			return statusError("the server refused the "+r.keyKind, a)
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if !sleep(ctx, a.retryAfter) {
				return fmt.Errorf("first batch: %w", ctx.Err())
			}
		default:
			return statusError("first batch", a)
		}
	}
	return errors.New("first batch: the server kept answering 429 or 503")
}

// tally is one client's figures, merged when the run ends.
type tally struct {
	events, requests, rejected, retries, errors int64
	status                                      map[int]int64
	latency                                     []time.Duration
}

func (r *runner) run(parent context.Context) (Result, error) {
	start := time.Now()
	r.windowStart = start.Add(r.cfg.Warmup)
	r.windowEnd = r.windowStart.Add(r.cfg.Duration)
	// At the end of the window no new request starts, but those in flight
	// finish (uncounted) rather than being cut off: a cancelled request
	// would cost the server a rollback and a logged error.
	stop, cancel := context.WithDeadline(parent, r.windowEnd)
	defer cancel()

	tallies := make([]tally, r.cfg.Clients)
	var wg sync.WaitGroup
	for i := range tallies {
		t := &tallies[i]
		t.status = map[int]int64{}
		t.latency = make([]time.Duration, 0, 1024)
		wg.Go(func() { r.sender(parent, stop, i, t) })
	}
	wg.Wait()

	window := min(time.Since(r.windowStart), r.cfg.Duration)
	res := r.result(tallies, max(window, 0))
	return res, parent.Err()
}

// sender is one client: it sends batches one after another until stop
// ends; requests run under ctx.
func (r *runner) sender(ctx, stop context.Context, i int, t *tally) {
	ids := idSource()
	size := 0
	for _, b := range r.pool {
		size = max(size, len(b.body))
	}
	buf := make([]byte, 0, size)
	// At a fixed rate each client sends one batch per interval, its
	// schedule offset from the others'.
	var interval time.Duration
	var due time.Time
	if r.cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(r.cfg.Clients*r.cfg.BatchSize) / r.cfg.Rate)
		due = time.Now().Add(interval * time.Duration(i) / time.Duration(r.cfg.Clients))
	}
	// Clients start apart in the pool so they do not send the same events.
	for next := i * len(r.pool) / r.cfg.Clients; stop.Err() == nil; next = (next + 1) % len(r.pool) {
		if interval > 0 {
			if !sleep(stop, time.Until(due)) {
				return
			}
			due = due.Add(interval)
		}
		b := &r.pool[next]
		buf = fill(buf, b, ids)
		r.send(ctx, stop, buf, b, t)
	}
}

// send sends one batch until it is answered other than 429 or 503; a retry
// carries the same messageIds, as an SDK's retry does.
func (r *runner) send(ctx, stop context.Context, buf []byte, b *batch, t *tally) {
	for {
		stampSentAt(buf, b)
		began := time.Now()
		a, err := post(ctx, r.client, r.cfg.URL+"/v1/batch", r.eventAuth, buf)
		if ctx.Err() != nil {
			return // the run was cancelled
		}
		end := time.Now()
		counted := !end.Before(r.windowStart) && !end.After(r.windowEnd)
		if counted {
			t.requests++
		}
		if err != nil {
			if counted {
				t.errors++
			}
			sleep(stop, 100*time.Millisecond) // do not spin on a broken server
			return
		}
		if counted {
			t.status[a.status]++
		}
		switch a.status {
		case http.StatusOK:
			if counted {
				rej := int64(rejected(a.body))
				t.events += int64(len(b.ids)) - rej
				t.rejected += rej
				t.latency = append(t.latency, end.Sub(began))
			}
			return
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			if counted {
				t.retries++
			}
			if !sleep(stop, a.retryAfter) {
				return
			}
		default:
			if counted {
				t.errors++
			}
			return
		}
	}
}

var rejectedKey = []byte(`"rejected"`)

// rejected counts the entries of a 200 answer's "rejected" list.
func rejected(body []byte) int {
	if !bytes.Contains(body, rejectedKey) {
		return 0 // the usual {"success":true}: no need to decode
	}
	var a struct {
		Rejected []json.RawMessage `json:"rejected"`
	}
	if json.Unmarshal(body, &a) != nil {
		return 0
	}
	return len(a.Rejected)
}

func (r *runner) result(tallies []tally, window time.Duration) Result {
	res := Result{Duration: window, Clients: r.cfg.Clients, BatchSize: r.cfg.BatchSize, Status: map[int]int64{}}
	var lat []time.Duration
	for _, t := range tallies {
		res.Events += t.events
		res.Requests += t.requests
		res.Rejected += t.rejected
		res.Retries += t.retries
		res.Errors += t.errors
		for s, n := range t.status {
			res.Status[s] += n
		}
		lat = append(lat, t.latency...)
	}
	if window > 0 {
		res.EventsPerSec = float64(res.Events) / window.Seconds()
	}
	res.Latency = percentiles(lat)
	var size, events int
	for _, b := range r.pool {
		size += b.eventBytes
		events += len(b.ids)
	}
	if events > 0 {
		res.MeanEventBytes = float64(size) / float64(events)
	}
	return res
}

func percentiles(lat []time.Duration) Latency {
	if len(lat) == 0 {
		return Latency{}
	}
	slices.Sort(lat)
	at := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(lat)))) - 1 // nearest rank
		return lat[max(i, 0)]
	}
	return Latency{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: lat[len(lat)-1]}
}
