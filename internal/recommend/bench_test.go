package recommend

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// synthShop is a shop the size of the Online Retail data set: items in
// categories of 50, shoppers who mostly keep to three favourite
// categories, popular items within each (Zipf), views, carts and
// purchases over 300 days.
type synthShop struct {
	items    []Item
	shoppers []string
	events   []Event
}

func newSynthShop(nItems, nShoppers, nEvents int) synthShop {
	rng := rand.New(rand.NewPCG(1, 2))
	const perCat = 50
	nCats := max(nItems/perCat, 1)
	var sh synthShop
	for i := range nItems {
		sh.items = append(sh.items, Item{ID: fmt.Sprintf("P%05d", i), Name: fmt.Sprintf("Product %d", i),
			Category: fmt.Sprintf("Dept%d/Cat%d", i/perCat%8, i/perCat), Sensitive: i%97 == 0, RepeatPurchase: i%13 == 0})
	}
	zipf := rand.NewZipf(rng, 1.1, 2, perCat-1)
	favs := make([][3]int, nShoppers)
	for s := range nShoppers {
		sh.shoppers = append(sh.shoppers, fmt.Sprintf("shopper%05d", s))
		favs[s] = [3]int{rng.IntN(nCats), rng.IntN(nCats), rng.IntN(nCats)}
	}
	start := now.Add(-300 * 24 * time.Hour)
	for range nEvents {
		s := rng.IntN(nShoppers)
		c := favs[s][rng.IntN(3)]
		if rng.IntN(5) == 0 {
			c = rng.IntN(nCats)
		}
		it := min(c*perCat+int(zipf.Uint64()), nItems-1)
		k := View
		switch r := rng.IntN(10); {
		case r == 0:
			k = Purchase
		case r < 3:
			k = Cart
		}
		sh.events = append(sh.events, Event{Shopper: sh.shoppers[s], Item: sh.items[it].ID, Kind: k,
			At: start.Add(time.Duration(rng.Int64N(int64(300 * 24 * time.Hour))))})
	}
	slices.SortStableFunc(sh.events, func(a, b Event) int { return cmp.Compare(a.At.UnixNano(), b.At.UnixNano()) })
	return sh
}

func (sh synthShop) model(tb testing.TB) *Model {
	m := newTestModel(tb, sh.items...)
	for _, e := range sh.events {
		if err := m.Add(e); err != nil {
			tb.Fatal(err)
		}
	}
	m.Refresh()
	return m
}

var benchShop = newSynthShop(4000, 4000, 170_000)

func BenchmarkRecommend(b *testing.B) {
	m := benchShop.model(b)
	b.Logf("model: %+v", m.Stats())
	for _, bc := range []struct {
		name string
		q    func(i int) Query
	}{
		{"personal/home", func(i int) Query { return Query{Shopper: benchShop.shoppers[i%len(benchShop.shoppers)]} }},
		{"personal/product", func(i int) Query {
			return Query{Shopper: benchShop.shoppers[i%len(benchShop.shoppers)], Placement: ProductPage, ItemID: benchShop.items[i%len(benchShop.items)].ID}
		}},
		{"personal/cart", func(i int) Query {
			return Query{Shopper: benchShop.shoppers[i%len(benchShop.shoppers)], Placement: CartPage}
		}},
		{"nonpersonal/home", func(int) Query { return Query{} }},
		{"nonpersonal/product", func(i int) Query {
			return Query{Placement: ProductPage, ItemID: benchShop.items[i%len(benchShop.items)].ID}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				m.Recommend(bc.q(i))
				i++
			}
		})
	}
	b.Run("personal/home/parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				m.Recommend(Query{Shopper: benchShop.shoppers[i%len(benchShop.shoppers)]})
				i += 7
			}
		})
	})
}

// BenchmarkAdd is the cost of one more event on a trained model.
func BenchmarkAdd(b *testing.B) {
	m := benchShop.model(b)
	i := 0
	for b.Loop() {
		e := benchShop.events[i%len(benchShop.events)]
		e.At = now.Add(-48*time.Hour + time.Duration(i)*time.Millisecond)
		if err := m.Add(e); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkRefresh is the cost of bringing rows up to date after 1,000
// events.
func BenchmarkRefresh(b *testing.B) {
	m := benchShop.model(b)
	i := 0
	for b.Loop() {
		b.StopTimer()
		for range 1000 {
			e := benchShop.events[i%len(benchShop.events)]
			e.At = now.Add(-48*time.Hour + time.Duration(i)*time.Millisecond)
			if err := m.Add(e); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.StartTimer()
		m.Refresh()
	}
}
