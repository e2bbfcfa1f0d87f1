package datamap

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		in     string
		want   Period
		format string
	}{
		{"P1M", Period{Months: 1}, "P1M"},
		{"P13M", Period{Months: 13}, "P13M"},
		{"P45D", Period{Days: 45}, "P45D"},
		{"P10BD", Period{Days: 10, BusinessDays: true}, "P10BD"},
		{"P1M15D", Period{Months: 1, Days: 15}, "P1M15D"},
		{"P2M5BD", Period{Months: 2, Days: 5, BusinessDays: true}, "P2M5BD"},
		{"P1Y", Period{Months: 12}, "P12M"},
		{"P1Y1M", Period{Months: 13}, "P13M"},
		{"P0D", Period{}, "P0D"},
		{"P0BD", Period{}, "P0D"},
	}
	for _, tt := range tests {
		got, err := ParsePeriod(tt.in)
		if err != nil {
			t.Errorf("ParsePeriod(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParsePeriod(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.format {
			t.Errorf("%+v.String() = %q, want %q", got, s, tt.format)
		}
	}
	for _, in := range []string{"", "P", "1M", "P1", "PM", "P-1D", "P1W", "P1D1M", "P1M1M", "p1m", "P1.5M", "P9999999D", "P100001D", "P1MD", "P 1M", "P1M "} {
		if p, err := ParsePeriod(in); err == nil {
			t.Errorf("ParsePeriod(%q) = %+v, want an error", in, p)
		}
	}
}

func TestPeriodJSON(t *testing.T) {
	r := struct {
		A Period `json:"a"`
		B Period `json:"b"`
	}{Period{Months: 1}, Period{Days: 15, BusinessDays: true}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"a":"P1M","b":"P15BD"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	var back = r
	back.A, back.B = Period{}, Period{}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := diff(r, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestPeriodAddTo(t *testing.T) {
	day := func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		from   string
		period string
		want   string
	}{
		{"2025-01-31 10:00", "P1M", "2025-02-28 10:00"},
		{"2024-01-31 10:00", "P1M", "2024-02-29 10:00"},
		{"2025-03-31 10:00", "P1M", "2025-04-30 10:00"},
		{"2025-01-15 10:00", "P1M", "2025-02-15 10:00"},
		{"2025-12-31 23:59", "P2M", "2026-02-28 23:59"},
		{"2025-01-31 10:00", "P13M", "2026-02-28 10:00"},
		{"2025-01-31 10:00", "P1M1D", "2025-03-01 10:00"},
		{"2025-01-01 00:00", "P45D", "2025-02-15 00:00"},
		{"2025-06-06 09:00", "P1BD", "2025-06-09 09:00"},  // Friday -> Monday
		{"2025-06-05 09:00", "P2BD", "2025-06-09 09:00"},  // Thursday -> Monday
		{"2025-06-07 09:00", "P1BD", "2025-06-09 09:00"},  // Saturday -> Monday
		{"2025-06-08 09:00", "P5BD", "2025-06-13 09:00"},  // Sunday -> Friday
		{"2025-06-07 09:00", "P5BD", "2025-06-13 09:00"},  // Saturday -> Friday
		{"2025-06-04 09:00", "P10BD", "2025-06-18 09:00"}, // Wednesday -> Wednesday two weeks on
		{"2025-06-04 09:00", "P15BD", "2025-06-25 09:00"}, // three weeks
		{"2025-06-06 09:00", "P7BD", "2025-06-17 09:00"},  // Friday -> Tuesday week after
		{"2025-01-01 00:00", "P0D", "2025-01-01 00:00"},
	}
	for _, tt := range tests {
		p, err := ParsePeriod(tt.period)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.AddTo(day(tt.from)); !got.Equal(day(tt.want)) {
			t.Errorf("%s + %s = %s, want %s", tt.from, tt.period, got.Format("2006-01-02 15:04 Mon"), tt.want)
		}
	}
}
