package destination

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// memQueue is an in-memory Queue with the semantics the store implements.
type memQueue struct {
	mu       sync.Mutex
	items    []*memItem
	dueCalls int
	dueSeen  chan struct{} // if set, signalled (non-blocking) on every Due
	finishFn func(id string) error
}

type memItem struct {
	d          Delivery
	nextAt     time.Time
	leaseUntil time.Time
	closed     bool // delivered or dead
	outcomes   []Outcome
}

func (q *memQueue) add(ds ...Delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, d := range ds {
		q.items = append(q.items, &memItem{d: d, nextAt: d.CreatedAt})
	}
}

func (q *memQueue) Due(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dueCalls++
	if q.dueSeen != nil {
		select {
		case q.dueSeen <- struct{}{}:
		default:
		}
	}
	var out []Delivery
	for _, it := range q.items {
		if len(out) == limit {
			break
		}
		if it.closed || it.nextAt.After(now) || it.leaseUntil.After(now) {
			continue
		}
		it.leaseUntil = now.Add(lease)
		out = append(out, it.d)
	}
	return out, nil
}

func (q *memQueue) Finish(ctx context.Context, id string, at time.Time, o Outcome) error {
	if q.finishFn != nil {
		if err := q.finishFn(id); err != nil {
			return err
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range q.items {
		if it.d.ID != id {
			continue
		}
		it.outcomes = append(it.outcomes, o)
		it.d.Attempts = o.Attempts
		it.nextAt = o.NextAt
		it.leaseUntil = time.Time{}
		it.closed = o.Delivered || o.Dead
		return nil
	}
	return fmt.Errorf("no delivery %s", id)
}

func (q *memQueue) outcomes(id string) []Outcome {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range q.items {
		if it.d.ID == id {
			return slices.Clone(it.outcomes)
		}
	}
	return nil
}

// clock is a controllable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// logs collects Logf lines.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

const backoffTest = time.Minute

func newTestSender(q Queue, clk *clock) (*Sender, *logs) {
	l := &logs{}
	return &Sender{
		Queue:   q,
		Client:  &http.Client{Timeout: 2 * time.Second},
		Backoff: func(int) time.Duration { return backoffTest },
		Now:     clk.Now,
		Logf:    l.Logf,
	}, l
}

func delivery(id, url string) Delivery {
	return Delivery{
		ID: id, DestinationID: "dst_1", URL: url, Secret: testSecret,
		Body: []byte(`{"id":"` + id + `"}`), CreatedAt: testNow.Add(-time.Second),
	}
}

func TestSenderDelivers(t *testing.T) {
	clk := &clock{t: testNow}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		if err := Verify(testSecret, r.Header.Get(SignatureHeader), body, clk.Now(), time.Minute); err != nil {
			t.Errorf("receiver: Verify: %v", err)
		}
		got := map[string]string{
			"method":       r.Method,
			"body":         string(body),
			"delivery":     r.Header.Get(DeliveryHeader),
			"content-type": r.Header.Get("Content-Type"),
			"user-agent":   r.Header.Get("User-Agent"),
		}
		want := map[string]string{
			"method":       "POST",
			"body":         `{"id":"d1"}`,
			"delivery":     "d1",
			"content-type": "application/json",
			"user-agent":   "tact-webhook/1",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("request (-want +got):\n%s", diff)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	q := &memQueue{}
	q.add(delivery("d1", srv.URL))
	s, _ := newTestSender(q, clk)
	delivered, failed, err := s.RunOnce(context.Background())
	if err != nil || delivered != 1 || failed != 0 {
		t.Fatalf("RunOnce = %d, %d, %v; want 1, 0, nil", delivered, failed, err)
	}
	want := []Outcome{{Delivered: true, Status: 204, Attempts: 1}}
	if diff := cmp.Diff(want, q.outcomes("d1")); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	// Delivered: nothing is due any more.
	clk.Advance(24 * time.Hour)
	if d, f, err := s.RunOnce(context.Background()); d+f != 0 || err != nil || hits.Load() != 1 {
		t.Errorf("second RunOnce = %d, %d, %v with %d hits; want nothing sent", d, f, err, hits.Load())
	}
}

func TestSenderRetriesThenDelivers(t *testing.T) {
	clk := &clock{t: testNow}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
	}))
	defer srv.Close()
	q := &memQueue{}
	q.add(delivery("d1", srv.URL))
	s, _ := newTestSender(q, clk)
	ctx := context.Background()

	if d, f, err := s.RunOnce(ctx); d != 0 || f != 1 || err != nil {
		t.Fatalf("first RunOnce = %d, %d, %v; want 0, 1, nil", d, f, err)
	}
	// Not due before its back-off.
	clk.Advance(backoffTest - time.Second)
	if d, f, _ := s.RunOnce(ctx); d+f != 0 {
		t.Fatalf("RunOnce before the back-off attempted %d", d+f)
	}
	clk.Advance(time.Second)
	if d, f, err := s.RunOnce(ctx); d != 1 || f != 0 || err != nil {
		t.Fatalf("second RunOnce = %d, %d, %v; want 1, 0, nil", d, f, err)
	}
	want := []Outcome{
		{Status: 500, Err: "http 500", Attempts: 1, NextAt: testNow.Add(backoffTest)},
		{Delivered: true, Status: 200, Attempts: 2},
	}
	if diff := cmp.Diff(want, q.outcomes("d1")); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestSenderTimeoutRetried(t *testing.T) {
	clk := &clock{t: testNow}
	var slow atomic.Bool
	slow.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body first: the server notices a closed connection (and
		// cancels r.Context) only once the body is consumed.
		io.Copy(io.Discard, r.Body)
		if slow.Load() {
			select { // sleeps past the client's timeout
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}))
	defer srv.Close()
	q := &memQueue{}
	q.add(delivery("d1", srv.URL))
	s, _ := newTestSender(q, clk)
	s.Client = &http.Client{Timeout: 50 * time.Millisecond}

	if d, f, err := s.RunOnce(context.Background()); d != 0 || f != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %d, %v; want 0, 1, nil", d, f, err)
	}
	slow.Store(false)
	clk.Advance(backoffTest)
	if d, f, err := s.RunOnce(context.Background()); d != 1 || f != 0 || err != nil {
		t.Fatalf("retry RunOnce = %d, %d, %v; want 1, 0, nil", d, f, err)
	}
	want := []Outcome{
		{Err: "timeout", Attempts: 1, NextAt: testNow.Add(backoffTest)},
		{Delivered: true, Status: 200, Attempts: 2},
	}
	if diff := cmp.Diff(want, q.outcomes("d1")); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestSenderRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		minDelay   time.Duration
	}{
		{"429 seconds", 429, "120", 120 * time.Second},
		{"503 seconds", 503, "120", 120 * time.Second},
		{"429 date", 429, testNow.Add(10 * time.Minute).Format(http.TimeFormat), 10 * time.Minute},
		{"429 capped", 429, "999999999", 24 * time.Hour},
		{"500 ignores it", 500, "3600", 0},
		{"429 garbage", 429, "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: testNow}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", tt.retryAfter)
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			q := &memQueue{}
			q.add(delivery("d1", srv.URL))
			s, _ := newTestSender(q, clk)
			s.Backoff = nil // the default: 30 s ± 20 % after the first failure
			s.RunOnce(context.Background())
			o := q.outcomes("d1")
			if len(o) != 1 {
				t.Fatalf("outcomes = %+v, want one", o)
			}
			delay := o[0].NextAt.Sub(testNow)
			lo, hi := max(tt.minDelay, 24*time.Second), max(tt.minDelay, 36*time.Second)
			if delay < lo || delay > hi {
				t.Errorf("NextAt = now+%s, want between %s and %s", delay, lo, hi)
			}
		})
	}
}

func TestSenderDeadLetter(t *testing.T) {
	clk := &clock{t: testNow}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusBadRequest) // misconfigured receiver: still retried
	}))
	defer srv.Close()
	q := &memQueue{}
	q.add(delivery("d1", srv.URL))
	s, l := newTestSender(q, clk)
	s.MaxAttempts = 3
	for range 5 {
		s.RunOnce(context.Background())
		clk.Advance(backoffTest)
	}
	if hits.Load() != 3 {
		t.Errorf("receiver hit %d times, want 3", hits.Load())
	}
	want := []Outcome{
		{Status: 400, Err: "http 400", Attempts: 1, NextAt: testNow.Add(backoffTest)},
		{Status: 400, Err: "http 400", Attempts: 2, NextAt: testNow.Add(2 * backoffTest)},
		{Status: 400, Err: "http 400", Attempts: 3, Dead: true},
	}
	if diff := cmp.Diff(want, q.outcomes("d1")); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if !strings.Contains(l.String(), "dead after 3 attempts") {
		t.Errorf("logs do not mention the dead letter:\n%s", l)
	}
}

func TestSenderRedirectIsFailure(t *testing.T) {
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
	}))
	defer target.Close()
	for _, status := range []int{301, 302, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			clk := &clock{t: testNow}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL, status)
			}))
			defer srv.Close()
			q := &memQueue{}
			q.add(delivery("d1", srv.URL))
			s, _ := newTestSender(q, clk)
			s.Client = &http.Client{} // follows redirects: Deliver must override it
			if d, f, err := s.RunOnce(context.Background()); d != 0 || f != 1 || err != nil {
				t.Fatalf("RunOnce = %d, %d, %v; want 0, 1, nil", d, f, err)
			}
			want := []Outcome{{Status: status, Err: fmt.Sprintf("redirect %d not followed", status), Attempts: 1, NextAt: testNow.Add(backoffTest)}}
			if diff := cmp.Diff(want, q.outcomes("d1")); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
		})
	}
	if followed.Load() != 0 {
		t.Errorf("redirect target hit %d times", followed.Load())
	}
}

func TestSenderConcurrencyBound(t *testing.T) {
	const limit, n = 3, 10
	clk := &clock{t: testNow}
	var (
		mu             sync.Mutex
		inflight, most int
		full           = make(chan struct{})
		fullOnce       sync.Once
		stuck          atomic.Bool
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inflight++
		most = max(most, inflight)
		if inflight == limit {
			fullOnce.Do(func() { close(full) })
		}
		mu.Unlock()
		// Hold the first requests until the bound is reached, so that the
		// test shows deliveries do run in parallel, up to the bound.
		select {
		case <-full:
		case <-time.After(2 * time.Second):
			stuck.Store(true)
		}
		mu.Lock()
		inflight--
		mu.Unlock()
	}))
	defer srv.Close()
	q := &memQueue{}
	for i := range n {
		q.add(delivery(fmt.Sprintf("d%02d", i), srv.URL))
	}
	s, _ := newTestSender(q, clk)
	s.Concurrency = limit
	s.BatchSize = 4 // several claims in one run
	d, f, err := s.RunOnce(context.Background())
	if d != n || f != 0 || err != nil {
		t.Fatalf("RunOnce = %d, %d, %v; want %d, 0, nil", d, f, err, n)
	}
	if most != limit || stuck.Load() {
		t.Errorf("at most %d deliveries in flight (stuck waiting: %v), want exactly %d", most, stuck.Load(), limit)
	}
}

func TestSenderEmptyQueue(t *testing.T) {
	q := &memQueue{}
	s, l := newTestSender(q, &clock{t: testNow})
	d, f, err := s.RunOnce(context.Background())
	if d != 0 || f != 0 || err != nil {
		t.Fatalf("RunOnce = %d, %d, %v; want 0, 0, nil", d, f, err)
	}
	if q.dueCalls != 1 || l.String() != "" {
		t.Errorf("%d Due calls and logs %q, want 1 and none", q.dueCalls, l)
	}
}

func TestSenderNoQueue(t *testing.T) {
	if _, _, err := (&Sender{}).RunOnce(context.Background()); err == nil {
		t.Fatal("RunOnce without a queue succeeded")
	}
}

// A zero back-off makes a failed delivery due again at once; RunOnce must
// still end, attempting it once.
func TestSenderZeroBackoffEnds(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(500)
	}))
	defer srv.Close()
	q := &memQueue{}
	q.add(delivery("d1", srv.URL))
	s, _ := newTestSender(q, &clock{t: testNow})
	s.Backoff = func(int) time.Duration { return 0 }
	if d, f, err := s.RunOnce(context.Background()); d != 0 || f != 1 || err != nil || hits.Load() != 1 {
		t.Fatalf("RunOnce = %d, %d, %v with %d hits; want 0, 1, nil with 1", d, f, err, hits.Load())
	}
}

// Cancelling mid-request is no fault of the receiver: nothing is recorded
// and the claim's lease brings the delivery back.
func TestSenderCancelMidRequest(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // see TestSenderTimeoutRetried
		close(arrived)
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	q := &memQueue{}
	q.add(delivery("d1", srv.URL))
	s, _ := newTestSender(q, &clock{t: testNow})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	d, f, err := s.RunOnce(ctx)
	if d != 0 || f != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("RunOnce = %d, %d, %v; want 0, 0, context.Canceled", d, f, err)
	}
	if o := q.outcomes("d1"); len(o) != 0 {
		t.Errorf("outcomes recorded: %+v", o)
	}
}

func TestSenderFinishError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	q := &memQueue{finishFn: func(string) error { return errors.New("database is locked") }}
	q.add(delivery("d1", srv.URL))
	s, _ := newTestSender(q, &clock{t: testNow})
	if _, _, err := s.RunOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("RunOnce error = %v, want the Finish error", err)
	}
}

func TestRunKickAndStop(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get(DeliveryHeader)
	}))
	defer srv.Close()
	q := &memQueue{dueSeen: make(chan struct{}, 1)}
	s, _ := newTestSender(q, &clock{t: testNow})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx, time.Hour); close(done) }()

	wait := func(c <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-c:
		case <-time.After(2 * time.Second):
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	wait(q.dueSeen, "the first run") // the queue was empty then
	q.add(delivery("d1", srv.URL))
	s.Kick()
	s.Kick() // coalesces, never blocks
	select {
	case id := <-got:
		if id != "d1" {
			t.Errorf("delivered %q, want d1", id)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Kick did not wake Run")
	}
	cancel()
	wait(done, "Run to return")
}

func TestLogsHoldNoSecrets(t *testing.T) {
	clk := &clock{t: testNow}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(DeliveryHeader) == "ok" {
			return
		}
		w.WriteHeader(502)
	}))
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	gone.Close() // connection refused
	defer srv.Close()

	const (
		email  = "planted.person@example.org"
		secret = "planted-secret-value"
		token  = "planted-url-token"
	)
	q := &memQueue{}
	for _, d := range []Delivery{
		delivery("ok", srv.URL+"/hook?token="+token),
		delivery("fails", srv.URL+"/hook?token="+token),
		delivery("refused", gone.URL+"/hook?token="+token),
		delivery("bad-url", "ftp://"+token+"/x"),
	} {
		d.Secret = []byte(secret)
		d.Body = []byte(`{"email":"` + email + `"}`)
		q.add(d)
	}
	s, l := newTestSender(q, clk)
	s.RunOnce(context.Background())
	text := l.String()
	for _, id := range []string{"ok", "fails", "refused", "bad-url"} {
		if !strings.Contains(text, "delivery "+id+" to dst_1") {
			t.Errorf("logs miss delivery %s:\n%s", id, text)
		}
	}
	var errs []string
	for _, id := range []string{"fails", "refused", "bad-url"} {
		errs = append(errs, q.outcomes(id)[0].Err)
	}
	if diff := cmp.Diff([]string{"http 502", "connection refused", "invalid url"}, errs); diff != "" {
		t.Errorf("outcome errors (-want +got):\n%s", diff)
	}
	all := text + "\n" + strings.Join(errs, "\n")
	for _, planted := range []string{email, secret, token, "127.0.0.1"} {
		if strings.Contains(all, planted) {
			t.Errorf("logs or outcomes contain %q:\n%s", planted, all)
		}
	}
}

func TestDeliverRefusesUnsigned(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	d := delivery("d1", srv.URL)
	d.Secret = nil
	if _, err := Deliver(context.Background(), nil, d, testNow); err == nil || hits.Load() != 0 {
		t.Fatalf("Deliver without a secret = %v with %d hits, want an error and no request", err, hits.Load())
	}
}

func TestDeliverReadsBoundedAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// An endless answer: Deliver must stop reading, not hang.
		buf := make([]byte, 32<<10)
		for {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	status, err := Deliver(context.Background(), &http.Client{Timeout: 2 * time.Second}, delivery("d1", srv.URL), testNow)
	if status != 200 || err != nil {
		t.Fatalf("Deliver = %d, %v; want 200, nil", status, err)
	}
}

func TestDefaultBackoff(t *testing.T) {
	for attempt := 0; attempt <= 40; attempt++ {
		base := 6 * time.Hour
		if attempt <= 10 {
			base = min(30*time.Second<<max(attempt-1, 0), 6*time.Hour)
		}
		lo, hi := base*8/10, base*12/10
		for range 50 {
			if d := DefaultBackoff(attempt); d < lo || d > hi {
				t.Fatalf("DefaultBackoff(%d) = %s, want within [%s, %s]", attempt, d, lo, hi)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{" 120 ", 120 * time.Second},
		{"86400", 24 * time.Hour},
		{"9223372036854775807", 24 * time.Hour},
		{testNow.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{testNow.Add(-time.Hour).Format(http.TimeFormat), 0},
		{testNow.Add(1000 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
		{"1.5", 0},
		{"later", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, testNow); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestValidURL(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"https://hooks.example.com/tact", true},
		{"http://localhost:8080/hook?x=1", true},
		{"https://[::1]:443/", true},
		{"", false},
		{"hooks.example.com/tact", false},
		{"/relative", false},
		{"ftp://example.com/", false},
		{"mailto:a@example.com", false},
		{"https://", false},
		{"https://:443/", false},
		{"https://user:pw@example.com/", false},
		{"https://example.com/#frag", false},
		{"https://exa mple.com/", false},
	}
	for _, tt := range tests {
		if err := ValidURL(tt.in); (err == nil) != tt.ok {
			t.Errorf("ValidURL(%q) = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}
