package eval

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// A ranker returns its top k items for a test customer, best first.
type ranker interface {
	rank(c int32, k int) []int32
}

// popularity ranks items by the number of distinct customers who bought
// them in the training window [from, cutoff); ties by first appearance in
// the file.
type popularity struct {
	s       *Split
	order   []int32
	exclude bool // leave out what the customer bought before the cut-off
}

func newPopularity(s *Split, from time.Time, exclude bool) *popularity {
	f := from.Unix()
	buyers := make([]int32, len(s.Orders.Products))
	seen := map[[2]int32]bool{}
	for _, p := range s.Train {
		if p.At < f {
			continue
		}
		if k := [2]int32{p.Customer, p.Item}; !seen[k] {
			seen[k] = true
			buyers[p.Item]++
		}
	}
	var order []int32
	for it, n := range buyers {
		if n > 0 {
			order = append(order, int32(it))
		}
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(buyers[b], buyers[a]) })
	return &popularity{s: s, order: order, exclude: exclude}
}

func (p *popularity) rank(c int32, k int) []int32 {
	out := make([]int32, 0, k)
	for _, it := range p.order {
		if len(out) == k {
			break
		}
		if p.exclude && p.s.hasBought(c, it) {
			continue
		}
		out = append(out, it)
	}
	return out
}

// itemKNN is the classic item-based neighbourhood model: the cosine
// similarity of two items' sets of buyers, summed over the items the
// customer bought; what it cannot fill comes from popularity. Everything
// the customer bought before is left out.
type itemKNN struct {
	s      *Split
	n      int
	sim    []float32 // n×n
	filler *popularity
}

func newItemKNN(s *Split) *itemKNN {
	n := len(s.Orders.Products)
	co := make([]int32, n*n)
	buyers := make([]int32, n)
	for _, items := range s.Bought {
		for i, a := range items {
			buyers[a]++
			for _, b := range items[i+1:] {
				co[int(a)*n+int(b)]++
				co[int(b)*n+int(a)]++
			}
		}
	}
	sim := make([]float32, n*n)
	for a := range n {
		for b := range n {
			if c := co[a*n+b]; c > 0 {
				sim[a*n+b] = float32(float64(c) / math.Sqrt(float64(buyers[a])*float64(buyers[b])))
			}
		}
	}
	return &itemKNN{s: s, n: n, sim: sim, filler: newPopularity(s, time.Time{}, true)}
}

func (m *itemKNN) rank(c int32, k int) []int32 {
	bought := m.s.Bought[c]
	score := make([]float64, m.n)
	for _, a := range bought {
		row := m.sim[int(a)*m.n : int(a+1)*m.n]
		for b, v := range row {
			score[b] += float64(v)
		}
	}
	var cand []int32
	for b, v := range score {
		if v > 0 && !m.s.hasBought(c, int32(b)) {
			cand = append(cand, int32(b))
		}
	}
	slices.SortStableFunc(cand, func(a, b int32) int { return cmp.Compare(score[b], score[a]) })
	out := cand[:min(k, len(cand))]
	return fill(out, k, m.filler.rank(c, k))
}

// fill appends items of more to out, skipping those already in it, until
// out has k items.
func fill(out []int32, k int, more []int32) []int32 {
	for _, it := range more {
		if len(out) == k {
			break
		}
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out
}
