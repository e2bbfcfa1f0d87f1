package eval

import (
	"math"
	"slices"
)

// Metrics are the mean ranking measures over the test customers.
type Metrics struct {
	Customers int     // test customers measured
	HR        float64 // share of customers with at least one wanted item in the top K
	Recall    float64 // mean share of a customer's wanted items found in the top K
	NDCG      float64 // mean normalised discounted cumulative gain at K (binary relevance)
	Coverage  float64 // share of the catalogue shown to at least one customer
}

// metricsAcc accumulates Metrics one customer at a time.
type metricsAcc struct {
	k                 int
	n                 int
	hr, recall, ndcg  float64
	shown             map[int32]bool
	catalogue         int
	discount, idealAt []float64
}

func newMetricsAcc(k, catalogue int) *metricsAcc {
	a := &metricsAcc{k: k, shown: map[int32]bool{}, catalogue: catalogue,
		discount: make([]float64, k), idealAt: make([]float64, k+1)}
	for i := range k {
		a.discount[i] = 1 / math.Log2(float64(i)+2)
		a.idealAt[i+1] = a.idealAt[i] + a.discount[i]
	}
	return a
}

// add scores one customer's ranked list (only its first k items count)
// against want, sorted.
func (a *metricsAcc) add(ranked, want []int32) {
	if len(ranked) > a.k {
		ranked = ranked[:a.k]
	}
	hits := 0
	dcg := 0.0
	for i, it := range ranked {
		a.shown[it] = true
		if _, found := slices.BinarySearch(want, it); found {
			hits++
			dcg += a.discount[i]
		}
	}
	a.n++
	if hits > 0 {
		a.hr++
	}
	a.recall += float64(hits) / float64(len(want))
	a.ndcg += dcg / a.idealAt[min(len(want), a.k)]
}

func (a *metricsAcc) metrics() Metrics {
	m := Metrics{Customers: a.n}
	if a.n > 0 {
		n := float64(a.n)
		m.HR, m.Recall, m.NDCG = a.hr/n, a.recall/n, a.ndcg/n
	}
	if a.catalogue > 0 {
		m.Coverage = float64(len(a.shown)) / float64(a.catalogue)
	}
	return m
}
