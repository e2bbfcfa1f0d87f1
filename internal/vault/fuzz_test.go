package vault

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func FuzzOpen(f *testing.F) {
	v := New(testRoot(1), nil)
	id, dk, _, err := v.NewDataKey(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	var valid [][]byte
	for _, pt := range []string{"", "x", "a longer plaintext value"} {
		s, err := dk.Seal("field", []byte(pt))
		if err != nil {
			f.Fatal(err)
		}
		valid = append(valid, s)
		f.Add("field", s)
		f.Add("field", s[:len(s)-1])
		f.Add("other", s)
	}
	f.Add("field", []byte{})
	f.Add("field", append([]byte{1}, id[:]...))
	f.Fuzz(func(t *testing.T, field string, in []byte) {
		got, err := dk.Open(field, in)
		if err == nil {
			// Only values Seal produced for this field may open.
			for _, s := range valid {
				if field == "field" && bytes.Equal(in, s) {
					return
				}
			}
			t.Fatalf("forged input opened: %x -> %q", in, got)
		}
		if !errors.Is(err, ErrCannotOpen) || got != nil {
			t.Fatalf("Open = %q, %v; want nil, ErrCannotOpen", got, err)
		}
		if kid, err := SealedKeyID(in); err == nil && len(in) < SealOverhead {
			t.Fatalf("SealedKeyID accepted %d bytes: %v", len(in), kid)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Alice@Example.com", " bob@x ", "a@b@c", "", "User-42", " pad", "\xff", "İ@x", "ǅ@x", "a\u0085@b"} {
		for _, k := range []Kind{KindEmail, KindUserID, KindAnonymousID} {
			f.Add(string(k), s)
		}
	}
	f.Fuzz(func(t *testing.T, kind, in string) {
		out, err := Normalize(Kind(kind), in)
		if err != nil {
			if !errors.Is(err, ErrInvalidIdentifier) {
				t.Fatalf("error %v does not wrap ErrInvalidIdentifier", err)
			}
			if len(in) >= 4 && bytes.Contains([]byte(err.Error()), []byte(in)) {
				t.Fatalf("error %q contains the input", err)
			}
			return
		}
		again, err := Normalize(Kind(kind), out)
		if err != nil || again != out {
			t.Fatalf("Normalize(%q) = %q, but re-normalizing gives %q, %v", in, out, again, err)
		}
	})
}

func BenchmarkPseudonym(b *testing.B) {
	v := New(testRoot(1), nil)
	for b.Loop() {
		v.Pseudonym(UseEvents, KindAnonymousID, "3f2a6c1e-8d7b-4e0f-9a1c-5b6d7e8f9a0b")
	}
}

func benchKey(b *testing.B) DataKey {
	_, dk, _, err := New(testRoot(1), nil).NewDataKey(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return dk
}

var benchPlain = bytes.Repeat([]byte(`{"k":"v"}`), 28) // ≈ a small traits document

func BenchmarkSeal(b *testing.B) {
	dk := benchKey(b)
	b.SetBytes(int64(len(benchPlain)))
	for b.Loop() {
		if _, err := dk.Seal("traits", benchPlain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	dk := benchKey(b)
	sealed, err := dk.Seal("traits", benchPlain)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchPlain)))
	for b.Loop() {
		if _, err := dk.Open("traits", sealed); err != nil {
			b.Fatal(err)
		}
	}
}
