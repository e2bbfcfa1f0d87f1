package loadgen

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Result holds the figures of the measured window (the warm-up excluded).
type Result struct {
	Events         int64         // events in batches answered 200, less those the answer listed as rejected
	Requests       int64         // requests answered, or failed, within the window
	Duration       time.Duration // the measured window
	EventsPerSec   float64
	Latency        Latency       // of the requests answered 200
	Rejected       int64         // events listed in a 200 answer's "rejected"
	Retries        int64         // 429 and 503 answers, each followed by a retry of the same batch
	Errors         int64         // other answers, and requests that failed without one
	MeanEventBytes float64       // mean JSON size of an event sent
	Status         map[int]int64 // answers within the window by HTTP status
	Clients        int
	BatchSize      int
}

// Latency is per request.
type Latency struct {
	P50, P90, P99, Max time.Duration
}

// Format writes a short summary for people.
func (r Result) Format(w io.Writer) {
	fmt.Fprintf(w, "%d clients, %d events per batch, %.0f bytes per event, measured for %s\n",
		r.Clients, r.BatchSize, r.MeanEventBytes, r.Duration.Round(time.Millisecond))
	fmt.Fprintf(w, "events     %d accepted, %.0f/s\n", r.Events, r.EventsPerSec)
	fmt.Fprintf(w, "requests   %d, latency p50 %s  p90 %s  p99 %s  max %s\n",
		r.Requests, ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max))
	fmt.Fprintf(w, "rejected   %d events\n", r.Rejected)
	fmt.Fprintf(w, "retries    %d (429 or 503 answers)\n", r.Retries)
	fmt.Fprintf(w, "errors     %d\n", r.Errors)
	codes := make([]int, 0, len(r.Status))
	for c := range r.Status {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d×%d", c, r.Status[c])
	}
	fmt.Fprintf(w, "status     %s\n", strings.Join(parts, "  "))
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
