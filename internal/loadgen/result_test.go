package loadgen

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestFormat(t *testing.T) {
	r := Result{Events: 412_300, Requests: 4_131, Duration: 20 * time.Second, EventsPerSec: 20_615,
		Latency:  Latency{P50: 7_400 * time.Microsecond, P90: 12 * time.Millisecond, P99: 31_250 * time.Microsecond, Max: 88 * time.Millisecond},
		Rejected: 200, Retries: 3, Errors: 1, MeanEventBytes: 823.4,
		Status: map[int]int64{200: 4125, 429: 3, 503: 2, 500: 1}, Clients: 16, BatchSize: 100}
	var got bytes.Buffer
	r.Format(&got)
	golden := filepath.Join("testdata", "format.golden")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("Format (-want +got):\n%s", diff)
	}
}

func TestPercentiles(t *testing.T) {
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	want := Latency{P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got := percentiles(lat); got != want {
		t.Errorf("percentiles = %+v, want %+v", got, want)
	}
	if got := percentiles(nil); got != (Latency{}) {
		t.Errorf("percentiles(nil) = %+v", got)
	}
	if got := percentiles([]time.Duration{time.Second}); got != (Latency{time.Second, time.Second, time.Second, time.Second}) {
		t.Errorf("percentiles of one = %+v", got)
	}
}

func TestRejected(t *testing.T) {
	for body, want := range map[string]int{
		`{"success":true}`:               0,
		`{"success":true,"rejected":[]}`: 0,
		`{"success":true,"rejected":[{"index":3,"code":"too_large","message":"event over 32 KB"},{"index":7,"code":"invalid","message":"no type"}]}`: 2,
		`{"rejected":`: 0,
	} {
		if got := rejected([]byte(body)); got != want {
			t.Errorf("rejected(%s) = %d, want %d", body, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	in3s := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		header   string
		min, max time.Duration
	}{
		{"2", 2 * time.Second, 2 * time.Second},
		{"0", 10 * time.Millisecond, 10 * time.Millisecond},
		{"", time.Second, time.Second},
		{"soon", time.Second, time.Second},
		{in3s, 1 * time.Second, 3 * time.Second},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.header); got < tt.min || got > tt.max {
			t.Errorf("retryAfter(%q) = %s, want %s–%s", tt.header, got, tt.min, tt.max)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	got, err := Config{URL: "http://127.0.0.1:8080/", WriteKey: "k"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{URL: "http://127.0.0.1:8080", WriteKey: "k", Clients: 16, BatchSize: 100,
		Duration: 20 * time.Second, Warmup: 2 * time.Second, Shoppers: 10_000, Consent: ConsentNone}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	got, _ = Config{URL: "http://h", WriteKey: "k", Warmup: -1}.withDefaults()
	if got.Warmup != 0 {
		t.Errorf("negative warm-up became %s, want none", got.Warmup)
	}
	for name, c := range map[string]Config{
		"no key":     {URL: "http://h"},
		"no url":     {WriteKey: "k"},
		"negative":   {URL: "http://h", WriteKey: "k", Clients: -1},
		"consent":    {URL: "http://h", WriteKey: "k", Consent: "some"},
		"all no key": {URL: "http://h", WriteKey: "k", Consent: ConsentAll},
	} {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
