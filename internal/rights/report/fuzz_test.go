package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// hideUnicodeEscapes replaces each \uXXXX escape of a JSON text by "|",
// leaving other escapes (such as an escaped backslash before "u") alone.
func hideUnicodeEscapes(b []byte) string {
	var out []byte
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\\' && i+5 < len(b) && b[i+1] == 'u':
			out = append(out, '|')
			i += 5
		case b[i] == '\\' && i+1 < len(b):
			out = append(out, b[i], b[i+1])
			i++
		default:
			out = append(out, b[i])
		}
	}
	return string(out)
}

// FuzzRedact: Redact never panics; its output is always valid JSON and
// UTF-8 (valid input or not); no 13–19 digit Luhn-valid run survives; and
// for valid input every object keeps its keys, secret keys hold
// "[redacted]", and arrays keep their length.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		`{"password":"x","ssn":"123-45-6789","note":"4111 1111 1111 1111"}`,
		`{"a":[{"iban":"DE89 3704 0044 0532 0130 00"}],"b":4111111111111111}`,
		`{"card_number":{"n":5555555555554444,"exp":"12/29"},"x":[1,2,{"Secret":null}]}`,
		`"pay DE89370400440532013000 now"`,
		`{"\u0034111111111111111":"\u00341111111111111111"}`,
		`[]`, `{}`, `null`, `1e400`, `{"a":`, "\xff", ``,
		string(fixtureEvents[0].Payload), string(fixtureEvents[3].Payload), string(genEvent(1).Payload),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := Redact(in)
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("Redact(%q) = %q: not valid UTF-8 JSON", in, out)
		}
		// On the raw text, with \uXXXX escapes set apart: the hex digits
		// of an escaped control character are not data.
		if run := luhnRun(hideUnicodeEscapes(out)); run != "" {
			t.Fatalf("Redact(%q) = %q: card-like run %q survives", in, out, run)
		}
		outV, err := decodeAny(out)
		if err != nil {
			t.Fatalf("Redact(%q) = %q: %v", in, out, err)
		}
		if walkStrings(outV, func(s string) bool { return luhnRun(s) != "" }) {
			t.Fatalf("Redact(%q) = %q: card-like run survives in a decoded string", in, out)
		}
		if !json.Valid(in) {
			// Not JSON: the whole text as one masked string, so nothing
			// invalid was taken for JSON.
			if len(bytes.TrimSpace(in)) > 0 && !bytes.Equal(out, appendString(nil, maskText(string(in)))) {
				t.Fatalf("Redact(%q) = %q: invalid input not returned as a string", in, out)
			}
			return
		}
		inV, err := decodeAny(in)
		if err != nil {
			return
		}
		switch v := inV.(type) {
		case string: // and nothing valid was taken for a string
			if outV != maskText(v) {
				t.Fatalf("Redact(%q) = %q, want the string masked", in, out)
			}
		case bool, nil:
			if outV != v {
				t.Fatalf("Redact(%q) = %q", in, out)
			}
		}
		sameShape(t, in, out, inV, outV)
	})
}

// sameShape checks that out has in's keys and array lengths, with secret
// keys redacted.
func sameShape(t *testing.T, in, out []byte, a, b any) {
	t.Helper()
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			t.Fatalf("Redact(%q) = %q: object became %T", in, out, b)
		}
		for k, av := range a {
			key := maskText(k) // a card number in a key is masked too
			bv, ok := bm[key]
			if !ok {
				t.Fatalf("Redact(%q) = %q: key %q lost", in, out, k)
			}
			if key != k {
				continue // its value may have been merged with another key's
			}
			switch classifyKey(k) {
			case keySecret:
				if bv != Redacted {
					t.Fatalf("Redact(%q) = %q: %q = %v, want %q", in, out, k, bv, Redacted)
				}
			default:
				sameShape(t, in, out, av, bv)
			}
		}
	case []any:
		bs, ok := b.([]any)
		if !ok || len(bs) != len(a) {
			t.Fatalf("Redact(%q) = %q: array changed shape", in, out)
		}
		for i := range a {
			sameShape(t, in, out, a[i], bs[i])
		}
	}
}

func walkStrings(v any, f func(string) bool) bool {
	switch v := v.(type) {
	case string:
		return f(v)
	case json.Number:
		return f(string(v))
	case map[string]any:
		for k, x := range v {
			if f(k) || walkStrings(x, f) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if walkStrings(x, f) {
				return true
			}
		}
	}
	return false
}

// decodeAny decodes numbers as json.Number so that none is out of range.
func decodeAny(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
