package destination

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tact-cdp/tact"
)

// members are full records: the tests check that encoders drop what the
// destination may not receive.
var members = []Member{
	{
		Pseudonym: "p_1", EmailSHA256: EmailSHA256("Ada.Lovelace@Example.com"), Email: "ada.lovelace@example.com",
		UnsubscribeURL: "https://shop.example/u?t=1&s=a", Country: "GB", Locale: "en-GB",
	},
	{Pseudonym: "p_2", Email: `o"brien, jr@example.ie`, Country: "IE"},
	{Pseudonym: "=HYPERLINK(\"http://evil\")", Email: "+1 555", Country: "-2+3", Locale: "@SUM(A1)"},
	{Pseudonym: "p_4", Email: "\tx", Country: "\rcmd", Locale: "line\nbreak"},
}

func encode(t *testing.T, newEnc func(io.Writer, []string) (Encoder, error), fields []string, ms []Member) string {
	t.Helper()
	var buf bytes.Buffer
	enc, err := newEnc(&buf, fields)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if err := enc.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestCSV(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		want   string
	}{
		{
			"pseudonym and hash",
			[]string{"pseudonym", "email_sha256"},
			"pseudonym,email_sha256\n" +
				"p_1,e814ff3dc480a94c7ce9334062ec4733c75a002f4bcec0197f62ffea64059e2f\n" +
				"p_2,\n" +
				"\"'=HYPERLINK(\"\"http://evil\"\")\",\n" +
				"p_4,\n",
		},
		{
			"reordered with quoting and guards",
			[]string{"country", "email", "pseudonym", "locale"},
			"country,email,pseudonym,locale\n" +
				"GB,ada.lovelace@example.com,p_1,en-GB\n" +
				"IE,\"o\"\"brien, jr@example.ie\",p_2,\n" +
				"'-2+3,'+1 555,\"'=HYPERLINK(\"\"http://evil\"\")\",'@SUM(A1)\n" +
				"\"'\rcmd\",'\tx,p_4,\"line\nbreak\"\n",
		},
		{
			"unsubscribe link",
			[]string{"pseudonym", "unsubscribe_url"},
			"pseudonym,unsubscribe_url\np_1,https://shop.example/u?t=1&s=a\np_2,\n\"'=HYPERLINK(\"\"http://evil\"\")\",\np_4,\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, encode(t, NewCSV, tt.fields, members)); diff != "" {
				t.Errorf("CSV (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCSVHeaderOnly(t *testing.T) {
	if got := encode(t, NewCSV, []string{"pseudonym"}, nil); got != "pseudonym\n" {
		t.Errorf("empty export = %q, want the header row", got)
	}
}

func TestJSONL(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		want   string
	}{
		{
			"pseudonym and hash",
			[]string{"pseudonym", "email_sha256"},
			`{"pseudonym":"p_1","email_sha256":"e814ff3dc480a94c7ce9334062ec4733c75a002f4bcec0197f62ffea64059e2f"}` + "\n" +
				`{"pseudonym":"p_2","email_sha256":""}` + "\n" +
				`{"pseudonym":"=HYPERLINK(\"http://evil\")","email_sha256":""}` + "\n" +
				`{"pseudonym":"p_4","email_sha256":""}` + "\n",
		},
		{
			"reordered with escapes",
			[]string{"locale", "pseudonym", "email", "country"},
			`{"locale":"en-GB","pseudonym":"p_1","email":"ada.lovelace@example.com","country":"GB"}` + "\n" +
				`{"locale":"","pseudonym":"p_2","email":"o\"brien, jr@example.ie","country":"IE"}` + "\n" +
				`{"locale":"@SUM(A1)","pseudonym":"=HYPERLINK(\"http://evil\")","email":"+1 555","country":"-2+3"}` + "\n" +
				`{"locale":"line\nbreak","pseudonym":"p_4","email":"\tx","country":"\rcmd"}` + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, encode(t, NewJSONL, tt.fields, members)); diff != "" {
				t.Errorf("JSONL (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOnlyAllowedFields plants a marker in every field and checks that each
// export holds exactly the markers of its fields.
func TestOnlyAllowedFields(t *testing.T) {
	m := Member{
		Pseudonym: "P-marker", EmailSHA256: "H-marker", Email: "E-marker",
		UnsubscribeURL: "U-marker", Country: "C-marker", Locale: "L-marker",
	}
	marker := map[string]string{
		"pseudonym": "P-marker", "email_sha256": "H-marker", "email": "E-marker",
		"unsubscribe_url": "U-marker", "country": "C-marker", "locale": "L-marker",
	}
	for _, fields := range [][]string{
		{"pseudonym"},
		{"pseudonym", "email_sha256"},
		{"locale", "pseudonym", "country"},
		{"email", "unsubscribe_url", "pseudonym"},
		AllFields(),
	} {
		for name, newEnc := range map[string]func(io.Writer, []string) (Encoder, error){"csv": NewCSV, "jsonl": NewJSONL} {
			out := encode(t, newEnc, fields, []Member{m})
			for f, mk := range marker {
				want := slices.Contains(fields, f)
				if got := strings.Contains(out, mk); got != want {
					t.Errorf("%s %v: %s present = %v, want %v\n%s", name, fields, f, got, want, out)
				}
			}
			if name == "jsonl" {
				var obj map[string]string
				if err := json.Unmarshal([]byte(out), &obj); err != nil {
					t.Fatal(err)
				}
				if len(obj) != len(fields) {
					t.Errorf("jsonl %v: %d keys, want %d", fields, len(obj), len(fields))
				}
			}
		}
	}
}

func TestValidFields(t *testing.T) {
	tests := []struct {
		fields []string
		want   string // "" for valid, else the public message
	}{
		{[]string{"pseudonym"}, ""},
		{AllFields(), ""},
		{[]string{"locale", "pseudonym"}, ""},
		{nil, `destination fields: "pseudonym" is required`},
		{[]string{"email"}, `destination fields: "pseudonym" is required`},
		{
			[]string{"pseudonym", "phone", "Email"},
			`destination fields: unknown fields "phone", "Email" (known: pseudonym, email_sha256, email, unsubscribe_url, country, locale)`,
		},
		{
			[]string{"pseudonym", "email", "email", "email", "pseudonym"},
			`destination fields: duplicate fields "email", "pseudonym"`,
		},
		{
			[]string{"name", "country", "country"},
			`destination fields: unknown field "name" (known: pseudonym, email_sha256, email, unsubscribe_url, country, locale); duplicate field "country"; "pseudonym" is required`,
		},
		{
			[]string{"pseudonym", strings.Repeat("x", 100)},
			`destination fields: unknown field "` + strings.Repeat("x", 40) + `…" (known: pseudonym, email_sha256, email, unsubscribe_url, country, locale)`,
		},
	}
	for _, tt := range tests {
		err := ValidFields(tt.fields)
		if tt.want == "" {
			if err != nil {
				t.Errorf("ValidFields(%q) = %v, want nil", tt.fields, err)
			}
			continue
		}
		if got := tact.ErrorMessage(err); got != tt.want {
			t.Errorf("ValidFields(%q) message:\n got %s\nwant %s", tt.fields, got, tt.want)
		}
		if tact.ErrorCode(err) != tact.EINVALID || !errors.Is(err, ErrInvalidFields) {
			t.Errorf("ValidFields(%q) = %v: want EINVALID and ErrInvalidFields", tt.fields, err)
		}
		for _, newEnc := range []func(io.Writer, []string) (Encoder, error){NewCSV, NewJSONL} {
			if enc, err := newEnc(io.Discard, tt.fields); enc != nil || err == nil {
				t.Errorf("encoder accepted %q", tt.fields)
			}
		}
	}
}

func TestAllFieldsIsACopy(t *testing.T) {
	AllFields()[0] = "changed"
	if AllFields()[0] != "pseudonym" {
		t.Fatal("AllFields exposes the package's slice")
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errors.New("disk full")
}

func TestEncoderErrors(t *testing.T) {
	for name, newEnc := range map[string]func(io.Writer, []string) (Encoder, error){"csv": NewCSV, "jsonl": NewJSONL} {
		t.Run(name, func(t *testing.T) {
			enc, err := newEnc(&failWriter{}, []string{"pseudonym"})
			if err != nil {
				t.Fatal(err)
			}
			enc.Write(members[0]) // buffered: no error yet
			if err := enc.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Errorf("Close = %v, want the write error", err)
			}
			if err := enc.Write(members[0]); err == nil {
				t.Error("Write after Close succeeded")
			}
			if err := enc.Close(); err == nil {
				t.Error("second Close succeeded")
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Ada.Lovelace@Example.COM \n", "ada.lovelace@example.com"},
		{"first.last+tag@Gmail.com", "first.last+tag@gmail.com"}, // no provider rewriting
		{"ÉLODIE@Exemple.FR", "élodie@exemple.fr"},
		{"\u00a0x@y.z\u3000", "x@y.z"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeEmail(tt.in); got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEmailSHA256(t *testing.T) {
	tests := []struct{ in, want string }{
		// Computed independently with Python's hashlib.
		{" Ada.Lovelace@Example.com", "e814ff3dc480a94c7ce9334062ec4733c75a002f4bcec0197f62ffea64059e2f"},
		{"ÉLODIE@exemple.fr", "f34116fa1fa2ab3840367c97ac2fc11e9e811bc3c424a1361abfc3d719c18e8c"},
		{"  ", ""},
	}
	for _, tt := range tests {
		if got := EmailSHA256(tt.in); got != tt.want {
			t.Errorf("EmailSHA256(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzEncoders: whatever the values, a JSONL line decodes to the values
// (each invalid UTF-8 byte as U+FFFD, as encoding/json does) and matches
// encoding/json's string encoding, and a CSV row reads back to the values
// with the formula guard applied.
func FuzzEncoders(f *testing.F) {
	f.Add("p_1", "a@b.c", "=1+2")
	f.Add("\x00\x1f\"\\", "\u2028\u2029", "\xff\xfe")
	f.Add("", "\r\n", "\t,\"")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		m := Member{Pseudonym: a, Email: b, Locale: c}
		fields := []string{"pseudonym", "email", "locale"}

		line := encode(t, NewJSONL, fields, []Member{m})
		if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
			t.Fatalf("JSONL is not one line: %q", line)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("JSONL %q: %v", line, err)
		}
		valid := func(s string) string { return string([]rune(s)) } // U+FFFD per invalid byte
		want := map[string]string{"pseudonym": valid(a), "email": valid(b), "locale": valid(c)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("JSONL round trip (-want +got):\n%s", diff)
		}
		var std bytes.Buffer
		je := json.NewEncoder(&std)
		je.SetEscapeHTML(false)
		je.Encode(a)
		if enc := string(appendJSONString(nil, a)); enc+"\n" != std.String() {
			t.Fatalf("appendJSONString(%q) = %s, encoding/json says %s", a, enc, std.String())
		}

		out := encode(t, NewCSV, fields, []Member{m})
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("CSV %q: %v", out, err)
		}
		// encoding/csv reads \r\n inside quotes as \n.
		norm := func(s string) string { return strings.ReplaceAll(defuse(s), "\r\n", "\n") }
		want2 := [][]string{fields, {norm(a), norm(b), norm(c)}}
		if diff := cmp.Diff(want2, rows); diff != "" {
			t.Fatalf("CSV round trip of %q (-want +got):\n%s", out, diff)
		}
	})
}

func benchMembers(n int) []Member {
	ms := make([]Member, n)
	for i := range ms {
		email := fmt.Sprintf("shopper%06d@example.com", i)
		ms[i] = Member{
			Pseudonym:      fmt.Sprintf("p_%016x", i*7919),
			EmailSHA256:    EmailSHA256(email),
			Email:          email,
			UnsubscribeURL: fmt.Sprintf("https://shop.example/unsubscribe?t=%032x", i),
			Country:        "FR",
			Locale:         "fr-FR",
		}
	}
	return ms
}

// BenchmarkExport100k writes 100,000 members with every field; one op is
// the whole export.
func BenchmarkExport100k(b *testing.B) {
	ms := benchMembers(100_000)
	for name, newEnc := range map[string]func(io.Writer, []string) (Encoder, error){"csv": NewCSV, "jsonl": NewJSONL} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				enc, err := newEnc(io.Discard, AllFields())
				if err != nil {
					b.Fatal(err)
				}
				for _, m := range ms {
					if err := enc.Write(m); err != nil {
						b.Fatal(err)
					}
				}
				if err := enc.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
