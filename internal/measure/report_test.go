package measure

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func TestSuppress(t *testing.T) {
	at := day0.Add(9 * time.Hour)
	type visit struct {
		visitor string
		kind    Kind
	}
	// visits makes n visitors with k hits each; the first buyers also order.
	visits := func(n, k, buyers int) []visit {
		var v []visit
		for i := range n {
			for range k {
				v = append(v, visit{fmt.Sprint("visitor-", i), Pageview})
			}
			if i < buyers {
				v = append(v, visit{fmt.Sprint("visitor-", i), Order})
			}
		}
		return v
	}
	n := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		name      string
		mode      string
		visits    []visit
		threshold int
		dim       string
		want      Row
	}{{
		name: "four visitors report nothing", mode: ModeAudience, visits: visits(4, 3, 4), dim: DimPath,
		want: Row{Suppressed: true},
	}, {
		name: "five visitors report", mode: ModeAudience, visits: visits(5, 3, 0), dim: DimPath,
		want: Row{Value: "/p/{id}", Pageviews: n(15), Visits: n(5), ProductViews: n(0), AddToCarts: n(0)},
	}, {
		name: "four buyers among many visitors keep revenue back", mode: ModeAudience, visits: visits(10, 1, 4), dim: DimProduct,
		want: Row{Value: "sku-1", Pageviews: n(10), Visits: n(10), ProductViews: n(0), AddToCarts: n(0)},
	}, {
		name: "five buyers report revenue", mode: ModeAudience, visits: visits(10, 1, 5), dim: DimProduct,
		want: Row{Value: "sku-1", Pageviews: n(10), Visits: n(10), ProductViews: n(0), AddToCarts: n(0), Orders: n(5), RevenueCents: n(5000)},
	}, {
		name: "one visitor with many hits is one contributor", mode: ModeAudience, visits: visits(1, 20, 1), dim: DimTotal,
		want: Row{Suppressed: true},
	}, {
		name: "suppressed country keeps its value", mode: ModeAudience, visits: visits(2, 1, 0), dim: DimCountry,
		want: Row{Value: "FR", Suppressed: true},
	}, {
		name: "a higher threshold", mode: ModeAudience, visits: visits(9, 1, 0), threshold: 10, dim: DimDevice,
		want: Row{Value: "mobile", Suppressed: true},
	}, {
		name: "threshold 1 means the default", mode: ModeAudience, visits: visits(4, 1, 0), threshold: 1, dim: DimTotal,
		want: Row{Suppressed: true},
	}, {
		name: "totals: four hits report nothing", mode: ModeTotals, visits: visits(1, 4, 0), dim: DimProduct,
		want: Row{Suppressed: true},
	}, {
		name: "totals: five hits report, without visits", mode: ModeTotals, visits: visits(1, 4, 1), dim: DimProduct,
		want: Row{Value: "sku-1", Pageviews: n(4), ProductViews: n(0), AddToCarts: n(0)},
	}, {
		name: "totals: five orders report revenue", mode: ModeTotals, visits: visits(5, 0, 5), dim: DimTotal,
		want: Row{Pageviews: n(0), ProductViews: n(0), AddToCarts: n(0), Orders: n(5), RevenueCents: n(5000)},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := newTest(tc.mode, at)
			for _, v := range tc.visits {
				a.Add(Hit{At: at, Kind: v.kind, Path: "/p/{id}", ProductID: "sku-1", Country: "FR", Device: "mobile",
					RevenueCents: 1000, Visitor: v.visitor})
			}
			cells := a.Flush()
			rows := Suppress(cells, tc.threshold)
			if len(rows) != len(cells) {
				t.Fatalf("%d rows for %d cells", len(rows), len(cells))
			}
			want := tc.want
			want.Day, want.Dim = "2026-03-02", tc.dim
			for _, r := range rows {
				if r.Dim == tc.dim {
					if !reflect.DeepEqual(r, want) {
						t.Errorf("row\n%s\nwant\n%s", dump(r), dump(want))
					}
					return
				}
			}
			t.Fatalf("no %s row", tc.dim)
		})
	}
}

func TestSuppressFailsClosed(t *testing.T) {
	good := Cell{Day: day0, Dim: DimPath, Value: "/", Pageviews: 100, Hits: 100, Unkeyed: 100}
	for name, c := range map[string]Cell{
		"malformed visitors": {Visitors: []byte{'H', precision, 7}},
		"malformed buyers":   {Buyers: []byte{1}},
		"negative unkeyed":   {Unkeyed: -1 << 63},
		"overflowing sum":    {Unkeyed: 1<<63 - 1, Visitors: []byte{magic, precision, encSparse, 0, 0, 0x41}},
	} {
		c.Day, c.Dim, c.Value, c.Pageviews, c.Hits = good.Day, good.Dim, good.Value, good.Pageviews, good.Hits
		if r := Suppress([]Cell{c}, 5)[0]; !r.Suppressed || r.Pageviews != nil || r.Value != "" {
			t.Errorf("%s: reported %s", name, dump(r))
		}
	}
	if r := Suppress([]Cell{good}, 5)[0]; r.Suppressed {
		t.Error("the well-formed cell is suppressed")
	}
}

func TestRowJSON(t *testing.T) {
	pv := int64(7)
	b, err := json.Marshal(Row{Day: "2026-03-02", Dim: DimTotal, Pageviews: &pv})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"day":"2026-03-02","dim":"total","value":"","pageviews":7,"visits":null,"productViews":null,` +
		`"addToCarts":null,"orders":null,"revenueCents":null,"suppressed":false}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
}

func dump(r Row) string {
	b, _ := json.Marshal(r)
	return string(b)
}
