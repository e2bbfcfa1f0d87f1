package segment

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 in UTC; "" when unparsable
	}{
		{"2024-05-14T09:21:07.412Z", "2024-05-14T09:21:07.412Z"},
		{"2024-05-14T09:21:07Z", "2024-05-14T09:21:07Z"},
		{"2024-05-14T09:21:07.123456789Z", "2024-05-14T09:21:07.123456789Z"},
		{"2024-05-14T09:21:07.1234567891234Z", "2024-05-14T09:21:07.123456789Z"},
		{"2024-05-14T09:21:07,5Z", "2024-05-14T09:21:07.5Z"},
		{"2024-05-14T11:21:07+02:00", "2024-05-14T09:21:07Z"},
		{"2024-05-14T11:21:07.5+0200", "2024-05-14T09:21:07.5Z"},
		{"2024-05-14T04:21:07-05", "2024-05-14T09:21:07Z"},
		{"2024-05-14T09:21:07", "2024-05-14T09:21:07Z"},
		{"2024-05-14 09:21:07", "2024-05-14T09:21:07Z"},
		{"2024-05-14t09:21:07z", "2024-05-14T09:21:07Z"},
		{"2024-05-14T09:21", "2024-05-14T09:21:00Z"},
		{"2024-05-14T09:21+01:00", "2024-05-14T08:21:00Z"},
		{"2024-05-14", "2024-05-14T00:00:00Z"},
		{"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00Z"},

		{"", ""},
		{"yesterday", ""},
		{"1715678467412", ""},
		{"2023-02-29T00:00:00Z", ""},
		{"2024-13-01T00:00:00Z", ""},
		{"2024-00-01", ""},
		{"2024-05-32", ""},
		{"2024-05-14T24:00:00Z", ""},
		{"2024-05-14T09:60:00Z", ""},
		{"2024-05-14T09:21:61Z", ""},
		{"2024-05-14T09:21:07.Z", ""},
		{"2024-05-14T09:21:07+2:00", ""},
		{"2024-05-14T09:21:07+24:00", ""},
		{"2024-05-14T09:21:07 GMT", ""},
		{"2024-05-14T09:21:07ZZ", ""},
		{"2024-05-14T9:21:07Z", ""},
		{"Tue, 14 May 2024 09:21:07 GMT", ""},
		{"2024/05/14", ""},
		{"+2024-05-14", ""},
	}
	for _, tt := range tests {
		got, ok := parseTime(tt.in)
		switch {
		case tt.want == "" && ok:
			t.Errorf("parseTime(%q) = %v, want failure", tt.in, got)
		case tt.want != "" && !ok:
			t.Errorf("parseTime(%q) failed, want %s", tt.in, tt.want)
		case tt.want != "":
			want, _ := time.Parse(time.RFC3339Nano, tt.want)
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("parseTime(%q) = %v, want %v", tt.in, got, want)
			}
		}
	}
}

// parseTime agrees with time.Parse where both accept a string, and reads
// back every time that time.Format writes in RFC 3339. (time.Parse itself
// is laxer than RFC 3339: one-digit hours, offsets of 24 h or 60 min.)
func FuzzParseTime(f *testing.F) {
	f.Add("2024-05-14T09:21:07.412Z", int64(1715678467), uint32(412000000), int16(120))
	f.Add("2024-02-29T00:00:00-23:59", int64(0), uint32(0), int16(-1439))
	f.Fuzz(func(t *testing.T, s string, sec int64, nsec uint32, offsetMin int16) {
		got, ok := parseTime(s)
		want, err := time.Parse(time.RFC3339Nano, s)
		if ok && err == nil && !got.Equal(want) {
			t.Fatalf("parseTime(%q) = %v; time.Parse = %v", s, got, want)
		}

		zone := time.FixedZone("", int(offsetMin)%(24*60)*60)
		tm := time.Unix(sec%(253402300799), int64(nsec%1e9)).In(zone)
		if tm.Year() < 0 || tm.Year() > 9999 {
			return
		}
		formatted := tm.Format(time.RFC3339Nano)
		back, ok := parseTime(formatted)
		if !ok || !back.Equal(tm) {
			t.Fatalf("parseTime(%q) = %v, %v; want %v", formatted, back, ok, tm)
		}
	})
}

func TestOccurredAt(t *testing.T) {
	recv := ts("2024-05-14T10:00:00Z")
	tests := []struct {
		name                             string
		timestamp, sentAt, originalStamp string
		want                             string
	}{
		{"no client time", "", "", "", "2024-05-14T10:00:00Z"},
		{"no client time, sentAt alone", "", "2024-05-14T09:00:00Z", "", "2024-05-14T10:00:00Z"},
		{"timestamp alone", "2024-05-14T09:58:00Z", "", "", "2024-05-14T09:58:00Z"},
		{"client clock 1 h slow", "2024-05-14T08:58:00Z", "2024-05-14T08:59:59Z", "", "2024-05-14T09:58:01Z"},
		{"client clock 1 h fast", "2024-05-14T10:58:00Z", "2024-05-14T10:59:59Z", "", "2024-05-14T09:58:01Z"},
		{"accurate clock, network delay", "2024-05-14T09:59:58Z", "2024-05-14T09:59:59Z", "", "2024-05-14T09:59:59Z"},
		{"originalTimestamp when no timestamp", "", "2024-05-14T10:30:02Z", "2024-05-14T10:30:00Z", "2024-05-14T09:59:58Z"},
		{"timestamp wins over originalTimestamp", "2024-05-14T09:00:00Z", "", "2024-05-14T08:00:00Z", "2024-05-14T09:00:00Z"},
		{"future timestamp clamped", "2024-05-15T00:00:00Z", "", "", "2024-05-14T10:00:00Z"},
		{"future after correction clamped", "2024-05-14T10:00:05Z", "2024-05-14T10:00:01Z", "", "2024-05-14T10:00:00Z"},
		{"historical import kept", "2023-01-01T00:00:00Z", "", "", "2023-01-01T00:00:00Z"},
		{"absurd sentAt cannot push past receivedAt", "2024-05-14T09:00:00Z", "0001-01-01T00:00:01Z", "", "2024-05-14T10:00:00Z"},
	}
	parse := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		return ts(s)
	}
	for _, tt := range tests {
		e := Event{Timestamp: parse(tt.timestamp), SentAt: parse(tt.sentAt), OriginalTimestamp: parse(tt.originalStamp)}
		if got := OccurredAt(e, recv); !got.Equal(ts(tt.want)) {
			t.Errorf("%s: OccurredAt = %v, want %v", tt.name, got, tt.want)
		}
	}
}
