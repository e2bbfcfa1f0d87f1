package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/rights"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	receipts *prometheus.CounterVec

	eventsReceived prometheus.Counter
	eventsStored   prometheus.Counter
	eventsDropped  *prometheus.CounterVec
}

// events counts the outcome of one ingest call.
func (m *metrics) events(res *collect.Result, received int) {
	m.eventsReceived.Add(float64(received))
	m.eventsStored.Add(float64(res.Stored))
	for reason, n := range res.Dropped {
		m.eventsDropped.WithLabelValues(reason).Add(float64(n))
	}
}

// registerStoreMetrics exposes the group-commit writers' figures.
func (s *Server) registerStoreMetrics(reg *prometheus.Registry) {
	stat := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	reg.MustRegister(
		stat("tact_store_batches_total", "Group-commit transactions committed or attempted.", func() float64 { return float64(s.Store.WriterStats().Batches) }),
		stat("tact_store_writes_total", "Writes run through the group-commit writers.", func() float64 { return float64(s.Store.WriterStats().Writes) }),
		stat("tact_store_commit_seconds_total", "Time spent in COMMIT (durability).", func() float64 { return s.Store.WriterStats().Commit.Seconds() }),
		stat("tact_store_busy_seconds_total", "Time the writers spent running batches.", func() float64 { return s.Store.WriterStats().Busy.Seconds() }),
	)
	if s.Rights != nil {
		reg.MustRegister(requestGauges{s})
	}
	if s.Marketing != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tact_propagations_overdue",
			Help: "Changes (withdrawal, erasure, rectification, restriction, opt-out) not yet confirmed delivered to a recipient past their due date."},
			func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				n, err := s.Marketing.Store.OverduePropagations(ctx, time.Now())
				if err != nil {
					s.Log.Error("counting overdue propagations for /metrics", "err", err)
				}
				return float64(n)
			}))
	}
}

// requestGauges reports open and overdue rights requests, counted from the
// store at each scrape (so every node of a cluster reports the same).
type requestGauges struct{ s *Server }

var (
	descRequestsOpen = prometheus.NewDesc("tact_requests_open", "Open data subject requests, by status.", []string{"status"}, nil)
	descRequestsLate = prometheus.NewDesc("tact_requests_overdue", "Open data subject requests past their due date.", nil, nil)
)

func (g requestGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRequestsOpen
	ch <- descRequestsLate
}

func (g requestGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, overdue, err := g.s.Store.Requests().CountRequests(ctx, time.Now())
	if err != nil {
		g.s.Log.Error("counting requests for /metrics", "err", err)
		return
	}
	for _, st := range rights.Statuses {
		if st.Open() {
			ch <- prometheus.MustNewConstMetric(descRequestsOpen, prometheus.GaugeValue, float64(counts[st]), string(st))
		}
	}
	ch <- prometheus.MustNewConstMetric(descRequestsLate, prometheus.GaugeValue, float64(overdue))
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tact_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tact_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		receipts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tact_consent_receipts_total", Help: "Consent receipts written, by method.",
		}, []string{"method"}),
		eventsReceived: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tact_events_received_total", Help: "Events received (accepted or rejected).",
		}),
		eventsStored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tact_events_stored_total", Help: "Events stored as personal data.",
		}),
		eventsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tact_events_dropped_total", Help: "Events not stored as personal data, by reason.",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.requests, m.duration, m.receipts, m.eventsReceived, m.eventsStored, m.eventsDropped,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs and measures every request by its route pattern. It never
// logs the URL: query strings carry identifiers.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.Log.Error("handler panicked", "route", r.Pattern, "panic", p)
				if sw.status == 0 {
					writeJSON(sw, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "internal", "message": "internal error"}})
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
			s.Log.Debug("request", "route", route, "status", sw.status, "bytes", sw.bytes, "duration", d)
		}()
		next.ServeHTTP(sw, r)
	})
}
