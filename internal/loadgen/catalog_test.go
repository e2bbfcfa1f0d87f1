package loadgen

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tact-cdp/tact/internal/recommend/eval"
)

// retailFixture has the data set's quirks: quoted commas and doubled
// quotes, non-product codes, blank customers, cancellations, stock
// adjustments, a blank description and prices that vary.
const retailFixture = `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
536366,22633,"HAND WARMER UNION JACK, RED",6,2010-12-01 08:28:00,1.85,,United Kingdom
536367,POST,POSTAGE,3,2010-12-01 08:34:00,18.0,13047.0,France
536368,85123A,WHITE HANGING HEART T-LIGHT HOLDER ,32,2010-12-01 08:34:00,2.55,13047.0,United Kingdom
536369,85123A,WHITE HANGING HEART T-LIGHT HOLDER,100,2010-12-01 09:00:00,2.29,12583.0,France
C536370,71053,WHITE METAL LANTERN,-6,2010-12-01 09:41:00,3.39,17850.0,United Kingdom
536371,22423,,-12,2010-12-01 09:45:00,0.0,,United Kingdom
536372,21754,"RECORD FRAME 7"" SINGLE SIZE ",6,2010-12-01 09:45:00,2.55,17850.0,United Kingdom
536373,DCGS0003,BOXED GLASS ASHTRAY,1,2010-12-01 09:50:00,2.51,,United Kingdom
536374,gift_0001_20,Dotcomgiftshop Gift Voucher £20.00,1,2010-12-01 10:00:00,17.02,,United Kingdom
536375,85123a,CREAM HANGING HEART T-LIGHT HOLDER,2,2010-12-01 10:05:00,2.95,12583.0,France
`

func gzipped(t testing.TB, s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLoadRetail(t *testing.T) {
	wantProducts := []product{
		{ID: "85123A", Name: "White Hanging Heart T-Light Holder", Category: "Home décor/Candles", Price: 2.55},
		{ID: "71053", Name: "White Metal Lantern", Category: "Home décor/Lighting", Price: 3.39},
		{ID: "22633", Name: "Hand Warmer Union Jack, Red", Category: "Gifts/Other", Price: 1.85},
		{ID: "21754", Name: `Record Frame 7" Single Size`, Category: "Home décor/Frames", Price: 2.55},
		{ID: "85123a", Name: "Cream Hanging Heart T-Light Holder", Category: "Home décor/Candles", Price: 2.95},
		// 22423 has no description and no sale: left out.
	}
	wantCustomers := []string{"17850", "13047", "12583"}
	for name, input := range map[string][]byte{"gzip": gzipped(t, retailFixture), "plain": []byte(retailFixture)} {
		t.Run(name, func(t *testing.T) {
			ps, cs, err := loadRetail(bytes.NewReader(input))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantProducts, ps, cmp.AllowUnexported(product{})); diff != "" {
				t.Errorf("products (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantCustomers, cs); diff != "" {
				t.Errorf("customers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadRetailErrors(t *testing.T) {
	tests := []struct{ name, input, want string }{
		{"empty", "", "header"},
		{"no StockCode", "InvoiceNo,Description,Quantity,UnitPrice,CustomerID\n", "no StockCode"},
		{"no products", "StockCode,Description,Quantity,UnitPrice,CustomerID\nPOST,POSTAGE,1,18.0,12345.0\n", "no products"},
		{"ragged", "StockCode,Description,Quantity,UnitPrice,CustomerID\n85123A,X,1\n", "wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := loadRetail(strings.NewReader(tt.input)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestShoppersFromCustomersThenSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	got := newShoppers(rng, []string{"17850", "13047"}, 4)
	ids := []string{got[0].UserID, got[1].UserID, got[2].UserID, got[3].UserID}
	if diff := cmp.Diff([]string{"17850", "13047", "u1", "u2"}, ids); diff != "" {
		t.Errorf("user ids (-want +got):\n%s", diff)
	}
	for _, s := range got {
		if !uuidRE.MatchString(s.AnonymousID) || !strings.HasPrefix(s.IP, "203.0.113.") {
			t.Errorf("shopper %+v", s)
		}
	}
}

func TestIsProductCode(t *testing.T) {
	for code, want := range map[string]bool{
		"85123A": true, "22423": true, "85123a": true, "15056BL": true,
		"POST": false, "DOT": false, "C2": false, "M": false, "BANK CHARGES": false, "AMAZONFEE": false,
		"DCGS0003": false, "DCGS0066P": false, "gift_0001_20": false, "1234": false, "12345-": false, "": false,
	} {
		if got := eval.IsProductCode(code); got != want {
			t.Errorf("eval.IsProductCode(%q) = %v, want %v", code, got, want)
		}
	}
}

// TestRetailDataSet reads the real file when it is there.
func TestRetailDataSet(t *testing.T) {
	const path = "/work/shared/data/online-retail/online-retail-train.csv.gz"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no Online Retail data set: %v", err)
	}
	ps, cs, err := loadRetailFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The README counts 3,887 codes (non-products included) and 3,658 customers.
	if len(ps) < 3500 || len(ps) > 3887 || len(cs) != 3658 {
		t.Errorf("%d products and %d customers", len(ps), len(cs))
	}
	if ps[0].ID != "85123A" {
		t.Errorf("most popular product %+v, want 85123A", ps[0])
	}
	for _, p := range ps {
		if !eval.IsProductCode(p.ID) || p.Price <= 0 || p.Name == "" {
			t.Fatalf("product %+v", p)
		}
	}
	g := newGenerator(rand.New(rand.NewPCG(1, 1)), newCatalogue(ps), newShoppers(rand.New(rand.NewPCG(1, 1)), cs, 10_000), time.Now())
	var total, n int
	for range 50 {
		b := g.batch(100)
		total += b.eventBytes
		n += len(b.ids)
	}
	if mean := float64(total) / float64(n); mean < 700 || mean > 900 {
		t.Errorf("mean event size %.0f bytes with the data set's catalogue, want 700–900", mean)
	}
}

func FuzzLoadRetail(f *testing.F) {
	f.Add([]byte(retailFixture))
	f.Add(gzipped(f, retailFixture))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, _, err := loadRetail(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, p := range ps {
			if !eval.IsProductCode(p.ID) || p.Price <= 0 || p.Name == "" {
				t.Fatalf("product %+v", p)
			}
		}
	})
}
