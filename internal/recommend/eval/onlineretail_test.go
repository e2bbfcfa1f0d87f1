package eval

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/recommend"
)

// onlineRetailPath is where the Online Retail CSV is: TACT_ONLINE_RETAIL,
// or the shared data directory beside the repository.
func onlineRetailPath() string {
	if p := os.Getenv("TACT_ONLINE_RETAIL"); p != "" {
		return p
	}
	return "../../../../shared/data/online-retail/online-retail-train.csv.gz"
}

func loadOnlineRetail(tb testing.TB) *Orders {
	tb.Helper()
	path := onlineRetailPath()
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("the Online Retail data set is not here (%v): set TACT_ONLINE_RETAIL to its online-retail-train.csv.gz to run this", err)
	}
	o, err := LoadFile(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

// TestOnlineRetailQualityGate is the quality gate of issue 5: with the
// cut-off 2011-07-01, the model reaches NDCG@10 ≥ 0.13 and HR@10 ≥ 0.54 on
// the returning customers' new items, above every baseline.
func TestOnlineRetailQualityGate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Online Retail evaluation takes a few seconds")
	}
	o := loadOnlineRetail(t)
	if got := len(o.Purchases); got < 250_000 || got > 266_518 {
		t.Fatalf("%d purchases: is this the file the README describes?", got)
	}
	tb, err := Run(context.Background(), Options{Data: o, Cutoff: time.Date(2011, 7, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", printed(tb))
	model := tb.Rows[0]
	if model.Name != ModelName {
		t.Fatalf("first row %q", model.Name)
	}
	if model.NDCG < 0.13 || model.HR < 0.54 {
		t.Errorf("model NDCG@10 %.4f (want ≥ 0.13), HR@10 %.4f (want ≥ 0.54)", model.NDCG, model.HR)
	}
	for _, r := range tb.Rows[1:] {
		if model.NDCG <= r.NDCG || model.HR <= r.HR {
			t.Errorf("model (NDCG %.4f, HR %.4f) not above %s (NDCG %.4f, HR %.4f)", model.NDCG, model.HR, r.Name, r.NDCG, r.HR)
		}
	}
}

func printed(t Table) string {
	var b strings.Builder
	t.Print(&b)
	return b.String()
}

// BenchmarkRecommendOnlineRetail times the model's personal answers with
// the Online Retail catalogue and customers (trained to 2011-07-01).
func BenchmarkRecommendOnlineRetail(b *testing.B) {
	o := loadOnlineRetail(b)
	s := NewSplit(o, time.Date(2011, 7, 1, 0, 0, 0, 0, time.UTC), time.Time{})
	m, err := Train(context.Background(), s, recommend.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("model: %+v", m.Stats())
	r := &modelRanker{s: s, m: m}
	i := 0
	for b.Loop() {
		r.rank(s.Tests[i%len(s.Tests)].Customer, 10)
		i++
	}
}
