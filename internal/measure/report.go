package measure

// DefaultThreshold is the fewest distinct contributors a reported measure
// needs.
const DefaultThreshold = 5

// Row is one reported cell. A nil measure is suppressed (or, for Visits,
// not measured in totals mode).
type Row struct {
	Day          string `json:"day"` // YYYY-MM-DD, UTC
	Dim          string `json:"dim"`
	Value        string `json:"value"`
	Pageviews    *int64 `json:"pageviews"`
	Visits       *int64 `json:"visits"`
	ProductViews *int64 `json:"productViews"`
	AddToCarts   *int64 `json:"addToCarts"`
	Orders       *int64 `json:"orders"`
	RevenueCents *int64 `json:"revenueCents"`
	// Suppressed is set when every measure is suppressed; the value of a
	// path or product is then blanked, since it could itself identify.
	Suppressed bool `json:"suppressed"`
}

// Suppress turns cells into rows, one per cell in order, suppressing every
// measure of a cell with fewer than threshold distinct contributors, and its
// orders and revenue when fewer than threshold distinct contributors
// ordered. A threshold below 2 suppresses nothing, so it is replaced by
// DefaultThreshold. Cells should be merged per day, dimension and value
// first; a cell with a malformed sketch or negative counts is suppressed.
func Suppress(cells []Cell, threshold int) []Row {
	if threshold < 2 {
		threshold = DefaultThreshold
	}
	rows := make([]Row, 0, len(cells))
	for _, c := range cells {
		rows = append(rows, report(c, int64(threshold)))
	}
	return rows
}

func report(c Cell, threshold int64) Row {
	r := Row{Day: c.Day.UTC().Format("2006-01-02"), Dim: c.Dim, Value: c.Value}
	visitors, errV := Estimate(c.Visitors)
	buyers, errB := Estimate(c.Buyers)
	ok := errV == nil && errB == nil && c.Unkeyed >= 0 && c.UnkeyedOrders >= 0 &&
		visitors < 1<<62 && buyers < 1<<62
	if ok && int64(visitors)+c.Unkeyed >= threshold {
		r.Pageviews = ptr(c.Pageviews)
		r.ProductViews = ptr(c.ProductViews)
		r.AddToCarts = ptr(c.AddToCarts)
		if c.Visitors != nil {
			r.Visits = ptr(int64(visitors))
		}
		if int64(buyers)+c.UnkeyedOrders >= threshold {
			r.Orders = ptr(c.Orders)
			r.RevenueCents = ptr(c.RevenueCents)
		}
	}
	if r.Pageviews == nil {
		r.Suppressed = true
		if c.Dim == DimPath || c.Dim == DimProduct {
			r.Value = ""
		}
	}
	return r
}

func ptr(v int64) *int64 { return &v }
