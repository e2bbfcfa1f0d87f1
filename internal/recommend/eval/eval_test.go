package eval

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"

// tinyCSV exercises every rule of Load: one line of each kind it leaves
// out, a quoted description, a duplicate.
const tinyCSV = header +
	`536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,2,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536366,22633,"HAND WARMER UNION JACK, RED",6,2010-12-01 08:28:00,1.85,17850.0,United Kingdom
C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-1,2010-12-01 09:41:00,2.55,17850.0,United Kingdom
536380,22633,"HAND WARMER UNION JACK, RED",-3,2010-12-01 09:45:00,0,,United Kingdom
536381,22633,"HAND WARMER UNION JACK, RED",6,2010-12-01 09:45:00,1.85,,United Kingdom
536382,POST,POSTAGE,1,2010-12-01 09:50:00,18.00,12583.0,France
536383,21777,"RECORD FRAME 7"" SINGLE SIZE ",1,2010-12-01 10:00:00,0,12583.0,France
536384,21777,"RECORD FRAME 7"" SINGLE SIZE ",2,2010-12-01 10:03:00,2.10,12583.0,France
536385,85123a,lower-case variant,1,2010-12-01 10:05:00,2.55,12583.0,France
`

func TestLoad(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(tinyCSV))
	zw.Close()
	for name, input := range map[string][]byte{"plain": []byte(tinyCSV), "gzip": gz.Bytes()} {
		t.Run(name, func(t *testing.T) {
			o, err := Load(bytes.NewReader(input))
			if err != nil {
				t.Fatal(err)
			}
			wantProducts := []Product{
				{"85123A", "WHITE HANGING HEART T-LIGHT HOLDER"},
				{"71053", "WHITE METAL LANTERN"},
				{"22633", "HAND WARMER UNION JACK, RED"},
				{"21777", `RECORD FRAME 7" SINGLE SIZE`},
				{"85123a", "lower-case variant"}, // StockCodes are case-sensitive
			}
			if diff := cmp.Diff(wantProducts, o.Products); diff != "" {
				t.Errorf("products (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"17850", "12583"}, o.Customers); diff != "" {
				t.Errorf("customers (-want +got):\n%s", diff)
			}
			if want := (Skipped{Cancelled: 2, NoCustomer: 1, NotProduct: 1, NoPrice: 1, Duplicate: 1}); o.Skipped != want {
				t.Errorf("skipped %+v, want %+v", o.Skipped, want)
			}
			if len(o.Purchases) != 5 {
				t.Errorf("%d purchases, want 5: %+v", len(o.Purchases), o.Purchases)
			}
			at := time.Date(2010, 12, 1, 8, 26, 0, 0, time.UTC).Unix()
			if p := o.Purchases[0]; p != (Purchase{Customer: 0, Item: 0, Invoice: 0, At: at}) {
				t.Errorf("first purchase %+v", p)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tt := range []struct{ input, want string }{
		{"", "header"},
		{"InvoiceNo,StockCode\n", "no Description column"},
		{header, "no purchases"},
		{header + "1,85123A,X,1,2010-12-01 08:26:00,1,1.0,UK,extra\n", "wrong number of fields"},
	} {
		if _, err := Load(strings.NewReader(tt.input)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.input, err, tt.want)
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(tinyCSV))
	f.Add([]byte(header + "1,2,3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Load(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, p := range o.Purchases {
			if int(p.Item) >= len(o.Products) || int(p.Customer) >= len(o.Customers) || !IsProductCode(o.Products[p.Item].Code) {
				t.Fatalf("purchase %+v out of range", p)
			}
		}
	})
}

func TestIsProductCode(t *testing.T) {
	for code, want := range map[string]bool{"85123A": true, "71053": true, "85123a": true, "POST": false, "DOT": false,
		"C2": false, "M": false, "BANK CHARGES": false, "DCGS0003": false, "gift_0001_40": false, "1234": false, "12345AB": true, "123A5": false} {
		if got := IsProductCode(code); got != want {
			t.Errorf("%q: %v", code, got)
		}
	}
}

// day builds the small history of the split and baseline tests.
func day(d int) int64 { return time.Date(2011, 1, d, 12, 0, 0, 0, time.UTC).Unix() }

// smallOrders: items 0..4, customers 0..3, cut-off on the 10th.
//
//	before: c0 {0,1}, c1 {0,1,2}, c2 {2,3}; c1 buys 3 on the 9th (last days)
//	after:  c0 {1,2} (2 is new), c1 {0} (nothing new), c2 {4, 0}, c3 {0} (new customer)
func smallOrders() *Orders {
	o := &Orders{Customers: []string{"c0", "c1", "c2", "c3"}}
	for _, code := range []string{"10000", "10001", "10002", "10003", "10004"} {
		o.Products = append(o.Products, Product{Code: code, Name: "item " + code})
	}
	p := func(c, it int32, d int) Purchase { return Purchase{Customer: c, Item: it, At: day(d)} }
	o.Purchases = []Purchase{
		p(0, 0, 1), p(0, 1, 1), p(1, 0, 2), p(1, 1, 2), p(1, 2, 3), p(2, 2, 4), p(2, 3, 4), p(1, 3, 9),
		p(0, 1, 11), p(0, 2, 11), p(1, 0, 12), p(2, 4, 13), p(2, 0, 14), p(3, 0, 15),
	}
	return o
}

func cutoff10() time.Time { return time.Date(2011, 1, 10, 0, 0, 0, 0, time.UTC) }

func TestSplit(t *testing.T) {
	s := NewSplit(smallOrders(), cutoff10(), time.Time{})
	if len(s.Train) != 8 || s.Catalogue != 4 {
		t.Errorf("train %d, catalogue %d", len(s.Train), s.Catalogue)
	}
	want := []Test{{Customer: 0, Want: []int32{2}}, {Customer: 2, Want: []int32{0, 4}}}
	if diff := cmp.Diff(want, s.Tests); diff != "" {
		t.Errorf("tests (-want +got):\n%s", diff)
	}
	// A window ending on the 14th keeps c2's item 4 and drops item 0.
	s = NewSplit(smallOrders(), cutoff10(), time.Date(2011, 1, 14, 0, 0, 0, 0, time.UTC))
	want = []Test{{Customer: 0, Want: []int32{2}}, {Customer: 2, Want: []int32{4}}}
	if diff := cmp.Diff(want, s.Tests); diff != "" {
		t.Errorf("tests until the 14th (-want +got):\n%s", diff)
	}
}

func TestBaselines(t *testing.T) {
	s := NewSplit(smallOrders(), cutoff10(), time.Time{})
	// Buyers before the cut-off: item 0: 2, 1: 2, 2: 2, 3: 2 — ties in
	// first-appearance order.
	for _, tt := range []struct {
		name string
		r    ranker
		c    int32
		want []int32
	}{
		{"popularity", newPopularity(s, time.Time{}, false), 0, []int32{0, 1, 2}},
		{"popularity, not bought", newPopularity(s, time.Time{}, true), 0, []int32{2, 3}},
		{"last 5 days, not bought", newPopularity(s, cutoff10().AddDate(0, 0, -5), true), 0, []int32{3}},
		// c0 bought 0 and 1. Buyers: 0:{c0,c1} 1:{c0,c1} 2:{c1,c2} 3:{c1,c2}.
		// sim(0,2) = |{c1}|/√(2·2) = 0.5, likewise sim(1,2), sim(0,3), sim(1,3):
		// 2 and 3 score 1 each; tie in item order.
		{"item-kNN", newItemKNN(s), 0, []int32{2, 3}},
		// c2 bought 2 and 3: 0 and 1 score 1 each.
		{"item-kNN c2", newItemKNN(s), 2, []int32{0, 1}},
	} {
		if got := tt.r.rank(tt.c, 3); !cmp.Equal(got, tt.want) {
			t.Errorf("%s for c%d: %v, want %v", tt.name, tt.c, got, tt.want)
		}
	}
}

func TestMetrics(t *testing.T) {
	a := newMetricsAcc(3, 10)
	a.add([]int32{1, 2, 3}, []int32{2, 5})   // a hit at rank 2 of 2 wanted
	a.add([]int32{4, 5, 6, 7}, []int32{7})   // 7 is past k: no hit
	a.add([]int32{8}, []int32{8, 9, 10, 11}) // a hit at rank 1 of 4 wanted (ideal: 3 hits)
	got := a.metrics()
	l3 := 1 / math.Log2(3)
	l4 := 1 / math.Log2(4)
	want := Metrics{
		Customers: 3,
		HR:        2.0 / 3,
		Recall:    (1.0/2 + 0 + 1.0/4) / 3,
		NDCG:      (l3/(1+l3) + 0 + 1/(1+l3+l4)) / 3,
		Coverage:  7.0 / 10, // 1..6 and 8
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(x, y float64) bool { return math.Abs(x-y) < 1e-12 })); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

// TestRunSmall runs the whole evaluation on a history made for it: the
// model must learn a pair held by 5 customers and not one held by 4.
func TestRunSmall(t *testing.T) {
	o := &Orders{}
	for _, code := range []string{"20000", "20001", "20002", "20003", "20004", "20005"} {
		o.Products = append(o.Products, Product{Code: code, Name: "item " + code})
	}
	add := func(c int32, it int32, d int) {
		for int(c) >= len(o.Customers) {
			o.Customers = append(o.Customers, "c"+string(rune('a'+len(o.Customers))))
		}
		o.Purchases = append(o.Purchases, Purchase{Customer: c, Item: it, At: day(d)})
	}
	// Customers 0–4 buy items 0 and 1 together; 5–8 buy 2 and 3; all of
	// 9–11 buy item 5 lately, which makes it the most popular lately.
	for c := range int32(5) {
		add(c, 0, 1)
		add(c, 1, 1)
	}
	for c := int32(5); c < 9; c++ {
		add(c, 2, 2)
		add(c, 3, 2)
	}
	for c := int32(9); c < 12; c++ {
		add(c, 5, 8)
	}
	add(12, 0, 3) // 12 bought item 0: its partner 1 has 5 supporters
	add(13, 2, 3) // 13 bought item 2: its partner 3 has only 4
	add(12, 1, 20)
	add(13, 3, 20)
	slicesSortByTime(o.Purchases)

	tb, err := Run(context.Background(), Options{Data: o, Cutoff: cutoff10(), K: 1})
	if err != nil {
		t.Fatal(err)
	}
	if tb.Customers != 2 || tb.Train != 23 || tb.Catalogue != 5 {
		t.Fatalf("table %+v", tb)
	}
	got := map[string]Metrics{}
	for _, r := range tb.Rows {
		got[r.Name] = r.Metrics
	}
	// The model finds item 1 for customer 12 (5 supporters) but not item 3
	// for customer 13 (4): it answers 13 with a trending item.
	if m := got[ModelName]; m.HR != 0.5 || m.NDCG != 0.5 {
		t.Errorf("model %+v, want HR and NDCG 0.5", m)
	}
	// Item-kNN has no threshold and finds both.
	if m := got["item-kNN cosine, not bought"]; m.HR != 1 {
		t.Errorf("item-kNN %+v, want HR 1", m)
	}

	var buf bytes.Buffer
	if err := tb.Print(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.golden", buf.Bytes())
}

func slicesSortByTime(ps []Purchase) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].At < ps[j-1].At; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestRunOptions(t *testing.T) {
	if _, err := Run(context.Background(), Options{Data: smallOrders()}); err == nil {
		t.Error("no cut-off accepted")
	}
	if _, err := Run(context.Background(), Options{Data: smallOrders(), Cutoff: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("a cut-off before every purchase accepted")
	}
	if _, err := Run(context.Background(), Options{Data: smallOrders(), Cutoff: cutoff10(), K: 1000}); err == nil {
		t.Error("k over the limit accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, Options{Data: smallOrders(), Cutoff: cutoff10()}); err == nil {
		t.Error("a cancelled run succeeded")
	}
}
