package cli

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A short synthetic run goes through the whole path: catalogue and consent
// in the store, the model, the HTTP handler, and personal answers for the
// consented shoppers.
func TestBenchRecsSmallSyntheticShop(t *testing.T) {
	code, out, errOut := run(t, "bench", "recs", "--items", "500", "--events", "20000", "--consented", "50",
		"--duration", "300ms", "--warmup", "50ms", "--runs", "1", "--clients", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m := regexp.MustCompile(`run 1: (\d+) requests/s, .* (\d+)% personalised, 0 errors`).FindStringSubmatch(out)
	if m == nil || m[1] == "0" || m[2] == "0" {
		t.Fatalf("no requests answered, none personalised, or errors:\n%s", out)
	}
	if !strings.Contains(out, "model: 500 items") {
		t.Errorf("model line missing:\n%s", out)
	}
}

func TestBenchRecsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "recs"},
		{"bench", "recs", "--orders", "x.csv", "--items", "10"},
		{"bench", "recs", "--orders", filepath.Join(t.TempDir(), "missing.csv")},
		{"bench", "recs", "--items", "10", "--events", "-1"},
	} {
		if code, _, errOut := run(t, args...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want an error", args, code, errOut)
		}
	}
}
