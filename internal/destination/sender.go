package destination

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tact-cdp/tact"
)

// A Delivery is one webhook request waiting in the queue.
type Delivery struct {
	ID            string // unique; receivers deduplicate on it
	DestinationID string
	URL           string
	Secret        []byte
	Body          []byte // JSON
	Attempts      int    // failed attempts so far
	CreatedAt     time.Time
}

// An Outcome is the result of one delivery attempt.
type Outcome struct {
	Delivered bool
	Status    int       // HTTP status, 0 when no answer
	Err       string    // short, no secrets, no URL, no body contents
	Attempts  int       // after this attempt
	NextAt    time.Time // when not delivered and not dead
	Dead      bool      // attempts reached MaxAttempts: dead letter
}

// Queue is the persisted queue (the store implements it).
type Queue interface {
	// Due claims up to limit deliveries whose next attempt is due at now
	// (a claim lasts lease; an unfinished claim is retried after it).
	Due(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// Finish records one attempt's outcome.
	Finish(ctx context.Context, id string, at time.Time, o Outcome) error
}

// Defaults of a Sender.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 8
	DefaultConcurrency = 4
	DefaultLease       = 5 * time.Minute
	DefaultInterval    = 5 * time.Second
)

const (
	maxAnswer     = 64 << 10       // bytes of an answer read before closing it
	maxRetryAfter = 24 * time.Hour // a receiver cannot park a delivery longer
	finishTimeout = 10 * time.Second
	backoffBase   = 30 * time.Second
	backoffCap    = 6 * time.Hour
)

// A Sender delivers what a Queue holds. Run it in its own goroutine; Kick it
// after queueing deliveries. The zero values of the optional fields mean the
// defaults. A Sender must not be copied after first use.
//
// Delivery is at least once: an attempt whose outcome could not be recorded
// (crash, shutdown mid-request, store error) is retried when its claim's
// lease runs out, so a receiver may see a delivery id twice.
type Sender struct {
	Queue Queue
	// Client posts the requests. Default: 10 s timeout. Redirects are never
	// followed, whatever the client says (see Deliver).
	Client *http.Client
	// MaxAttempts is the number of failed attempts after which a delivery
	// is dead. Default 8.
	MaxAttempts int
	// Backoff is the delay after the attempt-th failed attempt (1 after the
	// first). Default DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// Concurrency bounds the deliveries in flight. Default 4.
	Concurrency int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logf, if set, receives one line per attempt and per run error. Lines
	// hold delivery and destination ids, statuses and short error classes,
	// never bodies, secrets or URLs.
	Logf func(format string, args ...any)
	// BatchSize is how many deliveries one Due call claims. Default
	// 8 × Concurrency.
	BatchSize int
	// Lease is how long a claim lasts. It must exceed the time a batch can
	// take (BatchSize / Concurrency × the client timeout); default 5 min.
	Lease time.Duration

	kickOnce sync.Once
	kick     chan struct{}
}

// DefaultBackoff is the default delay after the attempt-th failure:
// 30 s doubling per attempt, capped at 6 h, with ±20 % jitter so that
// deliveries failed together do not retry together.
func DefaultBackoff(attempt int) time.Duration {
	d := backoffCap
	if n := attempt - 1; n < 0 {
		d = backoffBase
	} else if n < 20 { // 30 s << 20 is far above the cap
		d = min(backoffBase<<n, backoffCap)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// defaultClient does not set CheckRedirect: Deliver refuses redirects for
// every client.
var defaultClient = &http.Client{Timeout: DefaultTimeout}

// settings are a Sender's fields with defaults applied, resolved once per
// run so that a run never writes to the Sender.
type settings struct {
	client      *http.Client
	maxAttempts int
	backoff     func(int) time.Duration
	concurrency int
	batch       int
	lease       time.Duration
	now         func() time.Time
}

func (s *Sender) settings() settings {
	c := settings{
		client: s.Client, maxAttempts: s.MaxAttempts, backoff: s.Backoff,
		concurrency: s.Concurrency, batch: s.BatchSize, lease: s.Lease, now: s.Now,
	}
	if c.client == nil {
		c.client = defaultClient
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = DefaultMaxAttempts
	}
	if c.backoff == nil {
		c.backoff = DefaultBackoff
	}
	if c.concurrency <= 0 {
		c.concurrency = DefaultConcurrency
	}
	if c.batch <= 0 {
		c.batch = 8 * c.concurrency
	}
	if c.lease <= 0 {
		c.lease = DefaultLease
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

func (s *Sender) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// RunOnce delivers everything due now, Concurrency at a time, and returns
// how many attempts succeeded and failed (dead letters count as failed).
// It stops at the first queue error. A delivery is attempted at most once
// per run, even if a zero back-off makes it due again at once. When ctx is
// cancelled, requests in flight are abandoned without recording an attempt
// (their claims expire and they are retried) and RunOnce returns ctx.Err().
func (s *Sender) RunOnce(ctx context.Context) (delivered, failed int, err error) {
	if s.Queue == nil {
		return 0, 0, errors.New("destination: sender has no queue")
	}
	cfg := s.settings()
	var (
		mu        sync.Mutex
		wg        sync.WaitGroup
		finishErr error
	)
	sem := make(chan struct{}, cfg.concurrency)
	seen := make(map[string]bool)
	stopped := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return finishErr != nil
	}
claim:
	for ctx.Err() == nil && !stopped() {
		batch, derr := s.Queue.Due(ctx, cfg.now(), cfg.lease, cfg.batch)
		if derr != nil {
			err = fmt.Errorf("destination: claim due deliveries: %w", derr)
			break
		}
		fresh := 0
		for _, d := range batch {
			if seen[d.ID] {
				continue // already attempted in this run; its claim runs out
			}
			seen[d.ID] = true
			fresh++
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				break claim
			}
			wg.Go(func() {
				defer func() { <-sem }()
				o, ok := s.attempt(ctx, cfg, d)
				if !ok {
					return
				}
				ferr := s.finish(ctx, d, cfg.now(), o)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case ferr != nil:
					if finishErr == nil {
						finishErr = ferr
					}
				case o.Delivered:
					delivered++
				default:
					failed++
				}
			})
		}
		// The claims in flight are leased, so the next Due returns others;
		// a short or all-seen batch means nothing more is due.
		if fresh == 0 || len(batch) < cfg.batch {
			break
		}
	}
	wg.Wait()
	switch {
	case err != nil:
	case finishErr != nil:
		err = finishErr
	case ctx.Err() != nil:
		err = ctx.Err()
	}
	return delivered, failed, err
}

// attempt posts d once. ok is false when the attempt was cut short by ctx,
// which is no fault of the receiver and is not recorded.
func (s *Sender) attempt(ctx context.Context, cfg settings, d Delivery) (o Outcome, ok bool) {
	status, retryAfter, err := post(ctx, cfg.client, d, cfg.now())
	if err != nil && ctx.Err() != nil {
		return Outcome{}, false
	}
	at := cfg.now()
	o = Outcome{Status: status, Attempts: d.Attempts + 1}
	if err == nil {
		o.Delivered = true
		s.logf("destination: delivery %s to %s delivered (status %d, attempt %d)", d.ID, d.DestinationID, status, o.Attempts)
		return o, true
	}
	o.Err = err.Error()
	if o.Attempts >= cfg.maxAttempts {
		o.Dead = true
		s.logf("destination: delivery %s to %s dead after %d attempts (status %d): %s", d.ID, d.DestinationID, o.Attempts, status, o.Err)
		return o, true
	}
	delay := max(cfg.backoff(o.Attempts), retryAfter, 0)
	o.NextAt = at.Add(delay)
	s.logf("destination: delivery %s to %s failed (status %d, attempt %d of %d, retry in %s): %s", d.ID, d.DestinationID, status, o.Attempts, cfg.maxAttempts, delay.Round(time.Second), o.Err)
	return o, true
}

// finish records an outcome even when ctx was cancelled meanwhile: a
// delivered attempt left unrecorded would be sent again.
func (s *Sender) finish(ctx context.Context, d Delivery, at time.Time, o Outcome) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err := s.Queue.Finish(fctx, d.ID, at, o); err != nil {
		return fmt.Errorf("destination: record outcome of delivery %s: %w", d.ID, err)
	}
	return nil
}

// Run calls RunOnce every interval (DefaultInterval if zero or less), at
// once on start and whenever Kick is called, until ctx is done. It returns
// after the deliveries in flight are finished or abandoned.
func (s *Sender) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	kick := s.kickChan()
	for {
		if _, _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.logf("destination: delivery run: %v", err)
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// Kick wakes Run without blocking, after new deliveries were queued. Kicks
// while a run is going coalesce into one more run.
func (s *Sender) Kick() {
	select {
	case s.kickChan() <- struct{}{}:
	default:
	}
}

func (s *Sender) kickChan() chan struct{} {
	s.kickOnce.Do(func() { s.kick = make(chan struct{}, 1) })
	return s.kick
}

// Deliver makes one signed POST of d to d.URL, signed at now, with c (a
// 10 s-timeout client if nil). A 2xx answer means delivered; any other
// answer or no answer is an error whose text is a short class ("http 500",
// "timeout", "connection refused"…) that never holds the URL, the secret or
// either body. At most 64 KiB of the answer is read.
//
// Redirects are never followed, whatever c's CheckRedirect says: following
// one would post signed personal data to a host nobody registered as a
// destination. A redirect is a failed attempt.
func Deliver(ctx context.Context, c *http.Client, d Delivery, now time.Time) (status int, err error) {
	status, _, err = post(ctx, c, d, now)
	return status, err
}

// post is Deliver that also returns the delay a 429 or 503 answer asks for.
func post(ctx context.Context, c *http.Client, d Delivery, now time.Time) (status int, retryAfter time.Duration, err error) {
	if c == nil {
		c = defaultClient
	}
	if len(d.Secret) == 0 {
		// Never send unsigned: the receiver could not tell us from anyone.
		return 0, 0, &deliveryError{msg: "no signing secret"}
	}
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return 0, 0, &deliveryError{msg: "invalid url", err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, 0, &deliveryError{msg: "invalid url", err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tact-webhook/1")
	req.Header.Set(SignatureHeader, Sign(d.Secret, now, d.Body))
	req.Header.Set(DeliveryHeader, d.ID)

	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := nc.Do(req)
	if err != nil {
		return 0, 0, &deliveryError{msg: errorClass(err), err: err}
	}
	defer resp.Body.Close()
	// Read (a bounded part of) the answer so the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))

	status = resp.StatusCode
	switch {
	case status >= 200 && status <= 299:
		return status, 0, nil
	case status >= 300 && status <= 399:
		return status, 0, &deliveryError{msg: "redirect " + strconv.Itoa(status) + " not followed"}
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return status, retryAfter, &deliveryError{msg: "http " + strconv.Itoa(status)}
}

// parseRetryAfter reads delay-seconds or an HTTP date, capped at
// maxRetryAfter; anything else is no delay.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n >= int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

// deliveryError has a short public text and keeps its cause for errors.Is
// and errors.As; the cause's text (with the URL) is never shown.
type deliveryError struct {
	msg string
	err error
}

func (e *deliveryError) Error() string { return e.msg }
func (e *deliveryError) Unwrap() error { return e.err }

// errorClass names a transport error without its text, which holds the URL
// and can hold tokens a receiver put in it.
func errorClass(err error) string {
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		netErr  net.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &dnsErr):
		return "dns lookup failed"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &certErr):
		return "tls certificate rejected"
	case errors.As(err, &recErr):
		return "tls handshake failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	return "request failed"
}

// ValidURL checks a destination URL as it is registered: absolute http or
// https with a host, and no user:password (credentials in a URL end up in
// logs and listings; put them in the secret instead). It does not resolve
// the host: keeping deliveries away from internal addresses is the job of
// the client's dialer.
func ValidURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Opaque != "":
		return tact.Errorf(tact.EINVALID, "the destination url must be an absolute http or https url")
	case u.Scheme != "https" && u.Scheme != "http":
		return tact.Errorf(tact.EINVALID, "the destination url must use https or http")
	case u.Host == "" || u.Hostname() == "":
		return tact.Errorf(tact.EINVALID, "the destination url needs a host")
	case u.User != nil:
		return tact.Errorf(tact.EINVALID, "the destination url must not hold a user or password")
	case u.Fragment != "":
		return tact.Errorf(tact.EINVALID, "the destination url must not have a fragment")
	}
	return nil
}
