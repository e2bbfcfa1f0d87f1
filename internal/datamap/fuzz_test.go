package datamap

import (
	"testing"
)

func FuzzParse(f *testing.F) {
	def, err := Default().MarshalConfig()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(def)
	for _, s := range []string{
		`{}`,
		`{"default_regime":"opt_out"}`,
		`{"purposes":{"marketing_sms":{"remove":true}}}`,
		`{"purposes":{"analytics":{"title":{"en":"Stats"}}}}`,
		`{"regimes":{"pipl":{"response_deadline":"P10BD"}}}`,
		`{"controller":{"country":"CH"}}`,
		`{"events":[{"type":"track","event":"X","purposes":["analytics"]}]}`,
		`{"recipients":{"cdn":{"name":"CDN","role":"processor","country":"FR"}}}`,
		`{"a":1,"a":2}`,
		`{} []`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("fuzz.json", data)
		if err != nil {
			if m != nil {
				t.Fatalf("map and error both returned")
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Parse returned an invalid map: %v", err)
		}
		b, err := m.MarshalConfig()
		if err != nil {
			t.Fatalf("MarshalConfig: %v", err)
		}
		m2, err := Parse("fuzz.json", b)
		if err != nil {
			t.Fatalf("re-parse: %v\nconfig:\n%s", err, b)
		}
		if got, want := m2.NoticeVersion(), m.NoticeVersion(); got != want {
			t.Fatalf("NoticeVersion %s after round trip, want %s", got, want)
		}
		if diff := diff(m, m2); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
		_ = m.Notice("zh")
		_ = m.ROPA().Markdown()
	})
}
