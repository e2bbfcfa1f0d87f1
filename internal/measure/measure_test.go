package measure

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestHashIsHMACAndLeavesNothing(t *testing.T) {
	a := New(ModeAudience, nil)
	salt := &[32]byte{1, 2, 3, 31: 0xff}
	for _, v := range []string{"a", "203.0.113.7 Mozilla/5.0", string(make([]byte, 200))} {
		m := hmac.New(sha256.New, salt[:])
		m.Write([]byte(v))
		want := binary.BigEndian.Uint64(m.Sum(nil))
		if got := a.hash(salt, v); got != want {
			t.Errorf("hash(%.10q) = %x, want %x", v, got, want)
		}
		if a.pad != [64]byte{} || a.sum != [32]byte{} {
			t.Errorf("hash left key material in scratch: pad %x sum %x", a.pad, a.sum)
		}
		for _, b := range a.buf {
			if b != 0 {
				t.Fatalf("hash left the visitor key in scratch: %q", a.buf)
			}
		}
	}
}

func TestAddCountsEachDimension(t *testing.T) {
	at := day0.Add(10 * time.Hour)
	a, _ := newTest(ModeTotals, at)
	hits := []Hit{
		{At: at, Kind: Pageview, Path: "/", Country: "FR", Device: "mobile"},
		{At: at, Kind: ProductView, Path: "/p/{id}", ProductID: "sku-1", Country: "FR", Device: "desktop"},
		{At: at, Kind: AddToCart, Path: "/p/{id}", ProductID: "sku-1", Country: "DE", Device: "desktop"},
		{At: at, Kind: Order, Path: "/checkout", ProductID: "sku-1", Country: "FR", Device: "mobile", RevenueCents: 1250},
		{At: at, Kind: Pageview, Path: "/", Country: "FR", Device: "mobile", RevenueCents: 999}, // revenue counts on orders only
		{At: at, Kind: 0, Path: "/"}, // unknown kinds are ignored
		{At: at, Kind: 200, Path: "/"},
	}
	for _, h := range hits {
		a.Add(h)
	}
	got := a.Flush()
	cell := func(dim, value string, pv, prv, atc, ord, rev, hits int64) Cell {
		return Cell{Day: day0, Dim: dim, Value: value, Pageviews: pv, ProductViews: prv, AddToCarts: atc,
			Orders: ord, RevenueCents: rev, Hits: hits, Unkeyed: hits, UnkeyedOrders: ord}
	}
	want := []Cell{
		cell(DimCountry, "DE", 0, 0, 1, 0, 0, 1),
		cell(DimCountry, "FR", 2, 1, 0, 1, 1250, 4),
		cell(DimDevice, "desktop", 0, 1, 1, 0, 0, 2),
		cell(DimDevice, "mobile", 2, 0, 0, 1, 1250, 3),
		cell(DimPath, "/", 2, 0, 0, 0, 0, 2),
		cell(DimPath, "/checkout", 0, 0, 0, 1, 1250, 1),
		cell(DimPath, "/p/{id}", 0, 1, 1, 0, 0, 2),
		cell(DimProduct, "sku-1", 0, 1, 1, 1, 1250, 3),
		cell(DimTotal, "", 2, 1, 1, 1, 1250, 5),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Flush =\n%+v\nwant\n%+v", got, want)
	}
	if got := a.Flush(); got != nil {
		t.Errorf("second Flush = %+v, want nil", got)
	}
}

func TestOffCountsNothing(t *testing.T) {
	for _, mode := range []string{ModeOff, "", "Audience", "bogus"} {
		a := New(mode, nil)
		a.rand = failReader{t}
		a.Add(Hit{Kind: Pageview, Path: "/", Visitor: "v"})
		if got := a.Flush(); got != nil {
			t.Errorf("mode %q: Flush = %+v, want nil", mode, got)
		}
		if a.Mode() != ModeOff {
			t.Errorf("mode %q: Mode() = %q, want off", mode, a.Mode())
		}
	}
}

func TestTotalsNeverHashes(t *testing.T) {
	a, _ := newTest(ModeTotals, day0.Add(time.Hour))
	a.rand = failReader{t}
	for i := range 100 {
		a.Add(Hit{Kind: Kind(i%4 + 1), Path: "/", ProductID: "sku", Visitor: fmt.Sprint("visitor-", i%7), RevenueCents: 100})
	}
	cells := a.Flush()
	if len(cells) == 0 {
		t.Fatal("nothing counted")
	}
	for _, c := range cells {
		if c.Visitors != nil || c.Buyers != nil || c.Unkeyed != c.Hits || c.UnkeyedOrders != c.Orders {
			t.Errorf("totals cell has a visitor notion: %+v", c)
		}
	}
	if a.salts != nil || a.inner != nil {
		t.Error("totals mode holds salts or a hash")
	}
}

func TestDistinctVisitors(t *testing.T) {
	for _, tc := range []struct {
		n   int
		tol float64
	}{
		{1_000, 0.03},
		{10_000, 0.03},
		{100_000, 0.05},
	} {
		at := day0.Add(12 * time.Hour)
		a, _ := newTest(ModeAudience, at)
		for round := range 3 {
			for i := range tc.n {
				a.Add(Hit{At: at.Add(time.Duration(round) * time.Minute), Kind: Pageview, Path: "/",
					Country: "FR", Visitor: fmt.Sprintf("visitor-%d", i)})
			}
		}
		cells := a.Flush()
		for _, dim := range []string{DimTotal, DimPath, DimCountry} {
			c := find(t, cells, dim, map[string]string{DimTotal: "", DimPath: "/", DimCountry: "FR"}[dim])
			got, err := Estimate(c.Visitors)
			if err != nil {
				t.Fatal(err)
			}
			if rel := math.Abs(float64(got)/float64(tc.n) - 1); rel > tc.tol {
				t.Errorf("n=%d %s: estimate %d, off by %.1f%% (> %.0f%%)", tc.n, dim, got, 100*rel, 100*tc.tol)
			}
			if c.Pageviews != int64(3*tc.n) || c.Unkeyed != 0 || c.Buyers != nil {
				t.Errorf("n=%d %s: %d pageviews, %d unkeyed, buyers %x", tc.n, dim, c.Pageviews, c.Unkeyed, c.Buyers)
			}
		}
	}
}

func TestDaysAreNotLinkable(t *testing.T) {
	// Real salts: the property must hold for the salts production uses.
	c := &clock{t: day0.Add(23 * time.Hour)}
	a := New(ModeAudience, c.now)
	add := func(at time.Time) {
		for i := range 20 {
			a.Add(Hit{At: at, Kind: Pageview, Visitor: fmt.Sprint("visitor-", i)})
		}
	}
	add(c.t)
	c.t = c.t.Add(2 * time.Hour) // the next day
	add(c.t)
	if len(a.salts) != 2 {
		t.Fatalf("%d salts, want one per day", len(a.salts))
	}
	s1, s2 := a.salts[dayOf(day0)], a.salts[dayOf(day0)+1]
	if *s1 == *s2 {
		t.Fatal("two days share a salt")
	}
	if a.hash(s1, "visitor-0") == a.hash(s2, "visitor-0") {
		t.Error("a visitor hashes the same on two days")
	}
	cells := a.Flush()
	var days [][registers]uint8
	for _, c := range cells {
		if c.Dim == DimTotal {
			days = append(days, *registersOf(t, c.Visitors))
		}
	}
	if len(days) != 2 {
		t.Fatalf("%d total cells, want 2", len(days))
	}
	same := 0
	for i := range registers {
		if days[0][i] != 0 && days[0][i] == days[1][i] {
			same++
		}
	}
	// 20 visitors in 4096 registers: a chance match is rare, 20 would mean
	// the same hashes.
	if same > 2 {
		t.Errorf("%d of 20 visitors set the same register on both days", same)
	}
}

func TestSaltLifetime(t *testing.T) {
	a, c := newTest(ModeAudience, day0.Add(10*time.Hour))
	a.Add(Hit{Kind: Pageview, Visitor: "v"})
	first := a.salts[dayOf(day0)]
	if first == nil || *first == [32]byte{} {
		t.Fatal("no salt made on first use")
	}

	c.t = day0.Add(24*time.Hour + 12*time.Hour)
	a.Add(Hit{Kind: Pageview, Visitor: "v"})
	c.t = day0.Add(48*time.Hour - time.Nanosecond)
	a.Flush()
	if len(a.salts) != 2 || a.salts[dayOf(day0)] != first {
		t.Fatalf("yesterday's salt dropped early: %d salts", len(a.salts))
	}

	c.t = day0.Add(48 * time.Hour)
	a.Flush()
	if _, ok := a.salts[dayOf(day0)]; ok || len(a.salts) != 1 {
		t.Errorf("salt kept past 48 hours: %d salts", len(a.salts))
	}
	if *first != [32]byte{} {
		t.Errorf("dropped salt not zeroed: %x", *first)
	}

	a.Close()
	if len(a.salts) != 0 {
		t.Errorf("Close kept %d salts", len(a.salts))
	}
	a.Add(Hit{Kind: Pageview, Visitor: "v"})
	if got := a.Flush(); got != nil {
		t.Errorf("counted after Close: %+v", got)
	}
}

func TestOnlyTodayAndYesterdayAreSketched(t *testing.T) {
	now := day0.Add(3*24*time.Hour + 8*time.Hour)
	for _, tc := range []struct {
		name  string
		at    time.Time
		keyed bool
	}{
		{"today", now.Add(-time.Hour), true},
		{"yesterday", now.Add(-24 * time.Hour), true},
		{"three days old", day0.Add(time.Hour), false},
		{"tomorrow", now.Add(24 * time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := newTest(ModeAudience, now)
			a.Add(Hit{At: tc.at, Kind: Order, RevenueCents: 500, Visitor: "v"})
			c := find(t, a.Flush(), DimTotal, "")
			if !c.Day.Equal(time.Unix(dayOf(tc.at)*86400, 0)) || c.Orders != 1 || c.RevenueCents != 500 {
				t.Errorf("not counted on its own day: %+v", c)
			}
			if tc.keyed != (c.Visitors != nil) || tc.keyed != (c.Buyers != nil) {
				t.Errorf("keyed = %v, but visitors %x buyers %x", tc.keyed, c.Visitors, c.Buyers)
			}
			if want := map[bool]int64{true: 0, false: 1}[tc.keyed]; c.Unkeyed != want || c.UnkeyedOrders != want {
				t.Errorf("unkeyed %d/%d, want %d", c.Unkeyed, c.UnkeyedOrders, want)
			}
			if _, ok := a.salts[dayOf(tc.at)]; ok != tc.keyed {
				t.Errorf("salt for the hit's day exists = %v", ok)
			}
		})
	}
}

func TestAddWithoutVisitorIsUnkeyed(t *testing.T) {
	a, _ := newTest(ModeAudience, day0.Add(time.Hour))
	a.Add(Hit{Kind: Pageview})
	a.Add(Hit{Kind: Pageview, Visitor: "v"})
	c := find(t, a.Flush(), DimTotal, "")
	if n, _ := Estimate(c.Visitors); n != 1 || c.Unkeyed != 1 || c.Hits != 2 {
		t.Errorf("estimate %d, unkeyed %d, hits %d; want 1, 1, 2", n, c.Unkeyed, c.Hits)
	}
}

func TestMerge(t *testing.T) {
	at := day0.Add(time.Hour)
	hit := func(i int) Hit {
		return Hit{At: at, Kind: Kind(i%4 + 1), Path: "/", Visitor: fmt.Sprint(i % 300), RevenueCents: int64(i)}
	}
	whole, _ := newTest(ModeAudience, at)
	parts, _ := newTest(ModeAudience, at)
	var first []Cell
	for i := range 1000 {
		whole.Add(hit(i))
		parts.Add(hit(i))
		if i == 400 {
			first = parts.Flush()
		}
	}
	want := find(t, whole.Flush(), DimTotal, "")
	got := find(t, first, DimTotal, "")
	if err := Merge(&got, find(t, parts.Flush(), DimTotal, "")); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged\n%+v\nwant\n%+v", got, want)
	}

	before := got
	other := want
	other.Dim = DimPath
	if err := Merge(&got, other); err == nil {
		t.Error("merged cells of different dimensions")
	}
	other = want
	other.Buyers = []byte{'H', 12, 9}
	if err := Merge(&got, other); err == nil {
		t.Error("merged a malformed sketch")
	}
	if !reflect.DeepEqual(got, before) {
		t.Error("failed Merge changed its target")
	}
}

func TestConcurrentAdd(t *testing.T) {
	at := day0.Add(time.Hour)
	a, _ := newTest(ModeAudience, at)
	const workers, each = 8, 5000
	var wg sync.WaitGroup
	var flushed []Cell
	var fmu sync.Mutex
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				a.Add(Hit{At: at, Kind: Pageview, Path: fmt.Sprint("/", i%10), Visitor: fmt.Sprint(i)})
				if w == 0 && i%1000 == 0 {
					cells := a.Flush()
					fmu.Lock()
					flushed = append(flushed, cells...)
					fmu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	flushed = append(flushed, a.Flush()...)
	var total Cell
	for _, c := range flushed {
		if c.Dim != DimTotal {
			continue
		}
		if total.Dim == "" {
			total = c
		} else if err := Merge(&total, c); err != nil {
			t.Fatal(err)
		}
	}
	n, err := Estimate(total.Visitors)
	if err != nil {
		t.Fatal(err)
	}
	if total.Pageviews != workers*each || math.Abs(float64(n)/each-1) > 0.03 {
		t.Errorf("%d pageviews, %d visitors; want %d, about %d", total.Pageviews, n, workers*each, each)
	}
}

func TestAddDoesNotAllocateForKnownCells(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, mode := range []string{ModeTotals, ModeAudience} {
		at := day0.Add(time.Hour)
		a, _ := newTest(mode, at)
		h := Hit{At: at, Kind: Order, Path: "/checkout", ProductID: "sku-1", Country: "FR", Device: "mobile",
			RevenueCents: 100, Visitor: "203.0.113.7 Mozilla/5.0"}
		a.Add(h)
		if n := testing.AllocsPerRun(100, func() { a.Add(h) }); n != 0 {
			t.Errorf("%s: %v allocations per Add", mode, n)
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	visitors := make([]string, 1000)
	for i := range visitors {
		visitors[i] = fmt.Sprintf("198.51.100.%d Mozilla/5.0 (X11; Linux x86_64) visitor %d", i%256, i)
	}
	paths := []string{"/", "/p/{id}", "/c/{slug}", "/cart", "/checkout"}
	products := []string{"sku-1", "sku-2", "sku-3"}
	for _, mode := range []string{ModeTotals, ModeAudience} {
		b.Run(mode, func(b *testing.B) {
			at := day0.Add(time.Hour)
			a, _ := newTest(mode, at)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				a.Add(Hit{At: at, Kind: Kind(i%4 + 1), Path: paths[i%len(paths)], ProductID: products[i%len(products)],
					Country: "FR", Device: "mobile", Visitor: visitors[i%len(visitors)]})
				i++
			}
		})
	}
}
