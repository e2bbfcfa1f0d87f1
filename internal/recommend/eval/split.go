package eval

import (
	"slices"
	"time"
)

// Split is an order history cut in two at a date: what a model may learn
// from, and what each test customer then bought for the first time.
type Split struct {
	Orders *Orders
	Cutoff time.Time
	Until  time.Time  // end of the test window (exclusive); zero: the end of the history
	Train  []Purchase // At < Cutoff, in time order

	// Bought holds, per customer, the items bought before the cut-off,
	// sorted.
	Bought [][]int32

	// Tests are the returning customers: those who bought before the
	// cut-off and, after it, at least one item they had not bought before;
	// in customer order. Customers new after the cut-off are left out: no
	// personal model has anything to say about them, and every model would
	// answer them with its non-personal fallback.
	Tests []Test

	// Catalogue is the number of items bought at least once before the
	// cut-off: what any model could recommend.
	Catalogue int
}

// Test is one test customer and the items to find.
type Test struct {
	Customer int32
	Want     []int32 // bought after the cut-off, not before; sorted
}

// NewSplit cuts o at cutoff; the test window runs from it to until, or to
// the end of the history when until is zero. (Tuning on an earlier cut-off
// with until set to the final cut-off keeps the final test window unseen.)
func NewSplit(o *Orders, cutoff, until time.Time) *Split {
	s := &Split{Orders: o, Cutoff: cutoff, Until: until, Bought: make([][]int32, len(o.Customers))}
	c := cutoff.Unix()
	n, _ := slices.BinarySearchFunc(o.Purchases, c, func(p Purchase, t int64) int {
		switch {
		case p.At < t:
			return -1
		case p.At > t:
			return 1
		}
		return 0
	})
	s.Train = o.Purchases[:n]
	inCatalogue := make([]bool, len(o.Products))
	for _, p := range s.Train {
		s.Bought[p.Customer] = append(s.Bought[p.Customer], p.Item)
		if !inCatalogue[p.Item] {
			inCatalogue[p.Item] = true
			s.Catalogue++
		}
	}
	for i, b := range s.Bought {
		slices.Sort(b)
		s.Bought[i] = slices.Compact(b)
	}
	after := make([][]int32, len(o.Customers))
	for _, p := range o.Purchases[n:] {
		if !until.IsZero() && p.At >= until.Unix() {
			break
		}
		if _, found := slices.BinarySearch(s.Bought[p.Customer], p.Item); !found {
			after[p.Customer] = append(after[p.Customer], p.Item)
		}
	}
	for cu, want := range after {
		if len(want) == 0 || len(s.Bought[cu]) == 0 {
			continue
		}
		slices.Sort(want)
		s.Tests = append(s.Tests, Test{Customer: int32(cu), Want: slices.Compact(want)})
	}
	return s
}

// hasBought reports whether customer c bought item it before the cut-off.
func (s *Split) hasBought(c, it int32) bool {
	_, found := slices.BinarySearch(s.Bought[c], it)
	return found
}
