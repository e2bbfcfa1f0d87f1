package loadgen

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func testConfig(url string) Config {
	return Config{URL: url, WriteKey: testWriteKey, Clients: 3, BatchSize: 20, Duration: 400 * time.Millisecond,
		Warmup: -1, Shoppers: 50, Seed: 1}
}

func TestRunCountsOnlyAcknowledgedEvents(t *testing.T) {
	f := newFakeServer(t, testWriteKey, 20)
	f.decide = func(n int, ids []string) (int, map[string]string, string) {
		switch {
		case n == 0:
			return 0, nil, "" // the probe
		case n%3 == 0:
			return 500, nil, `{"error":{"code":"internal","message":"boom"}}`
		case n%3 == 1:
			return 200, nil, `{"success":true,"rejected":[{"index":0,"code":"invalid","message":"x"},{"index":5,"code":"invalid","message":"y"}]}`
		}
		return 0, nil, ""
	}
	cfg := testConfig(f.srv.URL)
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ok := res.Status[200]
	if ok == 0 || res.Status[500] == 0 {
		t.Fatalf("status %v: want both 200 and 500 answers", res.Status)
	}
	if want := ok*20 - res.Rejected; res.Events != want {
		t.Errorf("Events = %d, want %d (200 answers × batch size − rejected)", res.Events, want)
	}
	if res.Rejected == 0 || res.Rejected%2 != 0 {
		t.Errorf("Rejected = %d, want a positive multiple of 2", res.Rejected)
	}
	if res.Errors != res.Status[500] {
		t.Errorf("Errors = %d, want the %d 500 answers", res.Errors, res.Status[500])
	}
	if res.Requests != ok+res.Status[500] {
		t.Errorf("Requests = %d, want %d", res.Requests, ok+res.Status[500])
	}
	f.mu.Lock()
	acked := int64(f.ackedEvents)
	f.mu.Unlock()
	// The server also acknowledged the probe and requests cut off at the end.
	if res.Events > acked {
		t.Errorf("Events = %d, more than the %d the server acknowledged", res.Events, acked)
	}
	if res.Duration <= 0 || res.Duration > cfg.Duration || res.EventsPerSec <= 0 {
		t.Errorf("Duration %s, %.0f events/s", res.Duration, res.EventsPerSec)
	}
	if l := res.Latency; l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
		t.Errorf("latency %+v not ordered", l)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns > cfg.Clients {
		t.Errorf("%d connections for %d clients: want them kept alive", f.conns, cfg.Clients)
	}
	if f.noticeCalls != 0 || f.consentCalls != 0 {
		t.Errorf("consent none: %d notice and %d consent requests", f.noticeCalls, f.consentCalls)
	}
}

func TestRunWarmupExcluded(t *testing.T) {
	f := newFakeServer(t, testWriteKey, 20)
	cfg := testConfig(f.srv.URL)
	cfg.Warmup = 500 * time.Millisecond
	cfg.Duration = 300 * time.Millisecond
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	acked := int64(f.ackedEvents)
	f.mu.Unlock()
	if res.Events == 0 || res.Events+20 >= acked { // 20: the probe
		t.Errorf("Events = %d of %d acknowledged: want the warm-up left out", res.Events, acked)
	}
}

func TestRunRetriesWithSameMessageIDs(t *testing.T) {
	f := newFakeServer(t, testWriteKey, 20)
	f.decide = func(n int, ids []string) (int, map[string]string, string) {
		if n == 1 {
			return 429, map[string]string{"Retry-After": "1"}, `{"error":{"code":"rate_limited","message":"slow down"}}`
		}
		return 0, nil, ""
	}
	cfg := testConfig(f.srv.URL)
	cfg.Clients = 2
	cfg.Duration = 1500 * time.Millisecond
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Retries != 1 || res.Status[429] != 1 || res.Errors != 0 {
		t.Errorf("Retries %d, status %v, errors %d: want one 429 retried", res.Retries, res.Status, res.Errors)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.retries) != 1 {
		t.Fatalf("%d batches sent again, want 1", len(f.retries))
	}
	r := f.retries[0]
	if !r.same {
		t.Error("the retry did not carry the messageIds of the batch answered 429")
	}
	if r.wait < time.Second {
		t.Errorf("retried after %s, before Retry-After's second", r.wait)
	}
}

func TestConsentAll(t *testing.T) {
	f := newFakeServer(t, testServerKey, 20)
	f.consent = func(n int) (int, map[string]string) {
		if n == 0 {
			return 429, map[string]string{"Retry-After": "0"}
		}
		return 201, nil
	}
	cfg := testConfig(f.srv.URL)
	cfg.ServerKey = testServerKey
	cfg.Consent = ConsentAll
	cfg.Duration = 100 * time.Millisecond
	var mu sync.Mutex
	var calls [][2]int
	cfg.Progress = func(done, total int) {
		mu.Lock()
		calls = append(calls, [2]int{done, total})
		mu.Unlock()
	}
	if _, err := Run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.consents) != cfg.Shoppers {
		t.Errorf("consent recorded for %d shoppers, want %d", len(f.consents), cfg.Shoppers)
	}
	for id, n := range f.consents {
		if n != 1 {
			t.Errorf("shopper %s: %d consents, want 1", id, n)
		}
	}
	if f.consentCalls != cfg.Shoppers+1 {
		t.Errorf("%d consent requests, want %d (one per shopper and one retry)", f.consentCalls, cfg.Shoppers+1)
	}
	if len(calls) != cfg.Shoppers+1 || calls[0] != [2]int{0, 50} || calls[len(calls)-1] != [2]int{50, 50} {
		t.Errorf("progress calls %v: want 0/50 … 50/50", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] != calls[i-1][0]+1 {
			t.Errorf("progress %v after %v", calls[i], calls[i-1])
		}
	}
}

func TestConsentAllNeedsServerKey(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Consent = ConsentAll
	if _, err := Run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "server key") {
		t.Errorf("err = %v, want one about the server key", err)
	}
}

func TestFailFast(t *testing.T) {
	closed := newFakeServer(t, testWriteKey, 20)
	closed.srv.Close()
	wrongEventKey := newFakeServer(t, "another key", 20)
	wrongEventKey.badAuthOK = true
	wrongServerKey := newFakeServer(t, testServerKey, 20)
	wrongServerKey.badAuthOK = true

	tests := []struct {
		name   string
		config func(Config) Config
		url    string
		want   string
	}{
		{"unreachable", nil, closed.srv.URL, "not reachable"},
		{"wrong write key", nil, wrongEventKey.srv.URL, "refused the write key: 401"},
		{"wrong server key", func(c Config) Config {
			c.ServerKey, c.WriteKey = "sk_wrong", ""
			return c
		}, wrongServerKey.srv.URL, "refused the server key: 401"},
		{"bad url", nil, "localhost:8080", "url"},
		{"bad consent", func(c Config) Config { c.Consent = "some"; return c }, closed.srv.URL, `consent "some"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(tt.url)
			if tt.config != nil {
				cfg = tt.config(cfg)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			_, err := Run(ctx, cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestRunStopsWithContext(t *testing.T) {
	f := newFakeServer(t, testWriteKey, 20)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f.decide = func(n int, ids []string) (int, map[string]string, string) {
		if n == 10 {
			cancel()
		}
		return 0, nil, ""
	}
	cfg := testConfig(f.srv.URL)
	cfg.Duration = time.Hour
	res, err := Run(ctx, cfg)
	if err != context.Canceled {
		t.Errorf("err = %v, want the context's", err)
	}
	if res.Events == 0 || res.Duration <= 0 || res.Duration > time.Minute {
		t.Errorf("partial result %d events in %s", res.Events, res.Duration)
	}
}
