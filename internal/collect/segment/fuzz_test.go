package segment

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/tact-cdp/tact/internal/strictjson"
)

// seeds are the SDK payloads in testdata plus a few edge cases.
func seeds(f *testing.F) [][]byte {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed payloads: %v", err)
	}
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return append(out,
		[]byte(`{"batch":[]}`),
		[]byte(`{"batch":[1,{"type":"track"},{"type":"track","event":"x","userId":1.5e2,"timestamp":"2024-05-14"}],"context":{"ip":"1"}}`),
		[]byte(`{"batch":[{"type":"alias","userId":"u","previousId":"p","writeKey":"a"},{"type":"page","writeKey":"b"}],"sentAt":"2024-05-14T00:00:00+01:00"}`),
		[]byte(`{"batch":[{"type":"track","event":"\ud83d\ude00\u00e9","context":{"consent":{"categoryPreferences":{"A":true,"B":0}},"consentManagement":{"deniedConsentIds":[1,"x"]}}}]}`),
		[]byte("\uFEFF{\"batch\":[{\"type\":\"identify\",\"traits\":{\"a\":[[[[{}]]]]}}]}"),
	)
}

func stripBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\uFEFF")) }

func checkRequestError(t *testing.T, err error) {
	t.Helper()
	var de *Error
	if !errors.As(err, &de) || de.Code == "" || de.Message == "" {
		t.Fatalf("error %v is not a coded *Error", err)
	}
	if !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrNotJSON) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrEncoding) {
		t.Fatalf("error %v wraps no sentinel", err)
	}
}

func FuzzDecodeBatch(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := DecodeBatch(body)
		if err != nil {
			checkRequestError(t, err)
			if len(b.Events)+len(b.Rejected)+len(b.Indexes) != 0 {
				t.Fatal("a rejected request returned events")
			}
			return
		}
		// Accepted: the body is strict JSON, and encoding/json agrees on
		// what the batch entries are.
		ref := stripBOM(body)
		if !utf8.Valid(ref) || !json.Valid(ref) || strictjson.CheckDuplicates(ref) != nil {
			t.Fatalf("accepted a body that is not strict JSON: %q", body)
		}
		var top map[string]json.RawMessage
		var entries []json.RawMessage
		if err := json.Unmarshal(ref, &top); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(top["batch"], &entries); err != nil {
			t.Fatalf("accepted a batch that is not an array: %v", err)
		}
		n := len(entries)
		if len(b.Events)+len(b.Rejected) != n || len(b.Events) != len(b.Indexes) {
			t.Fatalf("%d events + %d rejected (%d indexes) for %d entries", len(b.Events), len(b.Rejected), len(b.Indexes), n)
		}
		seen := make([]bool, n)
		mark := func(i int) {
			if i < 0 || i >= n || seen[i] {
				t.Fatalf("index %d out of range or repeated", i)
			}
			seen[i] = true
		}
		for i, e := range b.Events {
			mark(b.Indexes[i])
			if len(e.Raw) > MaxEventBytes || !json.Valid(e.Raw) {
				t.Fatalf("event %d: Raw of %d bytes, valid %v", i, len(e.Raw), json.Valid(e.Raw))
			}
			if !bytes.Equal(e.Raw, entries[b.Indexes[i]]) {
				t.Fatalf("event %d: Raw is not entry %d", i, b.Indexes[i])
			}
			if e.MessageID == "" {
				t.Fatalf("event %d has no messageId", i)
			}
			if _, ok := typeFromBody(string(e.Type)); !ok {
				t.Fatalf("event %d has type %q", i, e.Type)
			}
		}
		for _, r := range b.Rejected {
			mark(r.Index)
			if r.Code == "" || r.Message == "" {
				t.Fatalf("rejected entry without code or message: %+v", r)
			}
		}
		if !slices.IsSortedFunc(b.Rejected, func(x, y Rejected) int { return x.Index - y.Index }) ||
			!slices.IsSorted(b.Indexes) {
			t.Fatal("indexes out of order")
		}
	})
}

func FuzzDecodeSingle(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(uint8(0), s)
	}
	types := []Type{Track, Identify, Page, Screen, Group, Alias}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		typ := types[int(which)%len(types)]
		b, err := DecodeSingle(typ, body)
		if err != nil {
			checkRequestError(t, err)
			return
		}
		if len(b.Events) != 1 || len(b.Indexes) != 1 || b.Events[0].Type != typ {
			t.Fatalf("batch = %+v", b)
		}
		raw := b.Events[0].Raw
		if len(raw) > MaxEventBytes || !json.Valid(raw) || strictjson.CheckDuplicates(raw) != nil {
			t.Fatalf("Raw is not strict JSON within the limit: %q", raw)
		}
	})
}

func FuzzReadBody(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(uint8(0), s)
		f.Add(uint8(1), gzipped(f, s))
		f.Add(uint8(0), gzipped(f, s))
		var z bytes.Buffer
		w := zlib.NewWriter(&z)
		w.Write(s)
		w.Close()
		f.Add(uint8(2), z.Bytes())
	}
	encodings := []string{"", "gzip", "deflate", "identity", "x-gzip", "br"}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		got, err := ReadBody(encodings[int(which)%len(encodings)], bytes.NewReader(data))
		if len(got) > MaxRequestBytes {
			t.Fatalf("returned %d bytes", len(got))
		}
		if err != nil {
			checkRequestError(t, err)
			if got != nil {
				t.Fatal("data returned with an error")
			}
		}
	})
}

// FuzzParser checks the hand-written JSON reader against encoding/json and
// strictjson: it accepts exactly the strict documents within MaxDepth, and
// builds the same values.
func FuzzParser(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	for _, s := range []string{`1`, `-0.5e+3`, `"\ud800\u0041"`, `"\udc00\ud800x"`, `[]`, `{}`, `{"a":{"a":1}}`, `[1,2,]`, `{"a" 1}`, `01`, `1.`, `"\u00"`, `tru`, `nul`, `[` + `"` + "\x7f" + `"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.HasPrefix(data, []byte("\uFEFF")) {
			return // accepted by design, unlike encoding/json
		}
		want := utf8.Valid(data) && json.Valid(data) && strictjson.CheckDuplicates(data) == nil && depth(data) <= MaxDepth
		p := newParser(data)
		v := p.value()
		p.end()
		// UTF-8 is checked before parsing, by start.
		if got := utf8.Valid(data) && p.err == nil; got != want {
			t.Fatalf("parser accepts %q: %v (err %v), want %v", data, got, p.err, want)
		}
		if !want {
			return
		}
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var ref any
		if err := d.Decode(&ref); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ref, v); diff != "" {
			t.Fatalf("value of %q (-encoding/json +parser):\n%s", data, diff)
		}
	})
}

// depth is the nesting of a valid JSON document.
func depth(data []byte) int {
	d := json.NewDecoder(bytes.NewReader(data))
	cur, deepest := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF || err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			cur++
			deepest = max(deepest, cur)
		case json.Delim('}'), json.Delim(']'):
			cur--
		}
	}
}

func TestParserMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{"a":[1,-2.5e3,"x",true,false,null,{},[]],"b":{"c":{"d":"\u00e9\ud83d\ude00\t"}}}`,
		`"\ud800"`, `"\ud800\u0041"`, `"\udc00"`, `"\ud800\ud800\udc00"`, `" \/ \b\f\n\r\t \"\\"`,
		`0`, `-0`, `1E+2`, `123456789012345678901234567890`,
	} {
		p := newParser([]byte(s))
		v := p.value()
		p.end()
		if p.err != nil {
			t.Errorf("%s: %v", s, p.err)
			continue
		}
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var ref any
		if err := d.Decode(&ref); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ref, v); diff != "" {
			t.Errorf("%s (-encoding/json +parser):\n%s", s, diff)
		}
	}
}

// Big objects switch duplicate detection to a map; duplicates are still
// found after the switch, and the linear scan stays linear.
func TestManyKeys(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"batch":[],"x":{`)
	for i := range 20000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k` + strconv.Itoa(i) + `":1`)
	}
	ok := append(bytes.Clone(b.Bytes()), "}}"...)
	if _, err := DecodeBatch(ok); err != nil {
		t.Fatal(err)
	}
	dup := append(bytes.Clone(b.Bytes()), `,"k19999":2}}`...)
	if _, err := DecodeBatch(dup); !errors.Is(err, ErrInvalid) {
		t.Fatalf("duplicate after 20000 keys: %v", err)
	}
	early := append(bytes.Clone(b.Bytes()), `,"k3":2}}`...)
	if _, err := DecodeBatch(early); !errors.Is(err, ErrInvalid) {
		t.Fatalf("duplicate of an early key: %v", err)
	}
}
