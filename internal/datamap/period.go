package datamap

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is a legal duration: calendar months plus calendar or business
// days. Its text form is ISO-8601-like: "P1M", "P45D", "P1M15D", and "P10BD"
// for business days ("P1Y" is read as "P12M"). The zero Period is "P0D".
type Period struct {
	Months       int
	Days         int
	BusinessDays bool // Days counts Monday to Friday only
}

// maxPeriodPart bounds each component so arithmetic cannot overflow.
const maxPeriodPart = 100000

// IsZero reports whether the period is empty.
func (p Period) IsZero() bool { return p.Months == 0 && p.Days == 0 }

// String formats the period, e.g. "P1M", "P45D", "P10BD".
func (p Period) String() string {
	if p.IsZero() {
		return "P0D"
	}
	var b strings.Builder
	b.WriteByte('P')
	if p.Months != 0 {
		b.WriteString(strconv.Itoa(p.Months))
		b.WriteByte('M')
	}
	if p.Days != 0 {
		b.WriteString(strconv.Itoa(p.Days))
		if p.BusinessDays {
			b.WriteString("BD")
		} else {
			b.WriteByte('D')
		}
	}
	return b.String()
}

// ParsePeriod parses the text form of a Period.
func ParsePeriod(s string) (Period, error) {
	bad := func(why string) (Period, error) {
		return Period{}, fmt.Errorf("invalid period %q: %s (want e.g. P1M, P45D, P10BD)", s, why)
	}
	rest, ok := strings.CutPrefix(s, "P")
	if !ok {
		return bad("must start with P")
	}
	if rest == "" {
		return bad("no components")
	}
	var p Period
	order := 0 // Y=1, M=2, D/BD=3: components in order, each once
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return bad("expected a number")
		}
		if i > 6 {
			return bad("number too large")
		}
		n, _ := strconv.Atoi(rest[:i])
		if n > maxPeriodPart {
			return bad("number too large")
		}
		rest = rest[i:]
		var unit string
		switch {
		case strings.HasPrefix(rest, "BD"):
			unit, rest = "BD", rest[2:]
		case rest != "":
			unit, rest = rest[:1], rest[1:]
		default:
			return bad("missing unit")
		}
		var o int
		switch unit {
		case "Y":
			o = 1
			p.Months += 12 * n
		case "M":
			o = 2
			p.Months += n
		case "D":
			o = 3
			p.Days = n
		case "BD":
			o = 3
			p.Days, p.BusinessDays = n, true
		default:
			return bad(fmt.Sprintf("unknown unit %q", unit))
		}
		if o <= order {
			return bad("components out of order or repeated")
		}
		order = o
	}
	if p.Months > maxPeriodPart {
		return bad("number too large")
	}
	if p.Days == 0 {
		p.BusinessDays = false // "P0BD" is just zero
	}
	return p, nil
}

// MarshalText implements encoding.TextMarshaler.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Period) UnmarshalText(b []byte) error {
	q, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// AddTo returns t plus the period: months first, clamped to the last day of
// the target month (Jan 31 + P1M = Feb 28 or 29), then days; business days
// skip Saturdays and Sundays (public holidays are not known to tact).
func (p Period) AddTo(t time.Time) time.Time {
	if p.Months != 0 {
		y, mo, d := t.Date()
		hh, mm, ss := t.Clock()
		first := time.Date(y, mo+time.Month(p.Months), 1, hh, mm, ss, t.Nanosecond(), t.Location())
		last := time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, t.Location()).Day()
		t = first.AddDate(0, 0, min(d, last)-1)
	}
	if p.Days == 0 {
		return t
	}
	if !p.BusinessDays {
		return t.AddDate(0, 0, p.Days)
	}
	// From a weekend, counting starts as from the Friday before it; then
	// whole weeks at once and the remainder day by day.
	switch t.Weekday() {
	case time.Saturday:
		t = t.AddDate(0, 0, -1)
	case time.Sunday:
		t = t.AddDate(0, 0, -2)
	}
	t = t.AddDate(0, 0, 7*(p.Days/5))
	for n := p.Days % 5; n > 0; {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}
