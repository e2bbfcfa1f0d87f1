package measure

import (
	"bytes"
	"errors"
	"testing"
)

func FuzzSketch(f *testing.F) {
	small, _ := randomSketch(10, 1)
	large, _ := randomSketch(50_000, 2)
	f.Add([]byte(nil), []byte(nil))
	f.Add(small.bytes(), large.bytes())
	f.Add(large.bytes(), []byte{magic, precision, encSparse})
	f.Add([]byte{magic, precision, encSparse, 0, 0, 0x41}, []byte{magic, precision, encSparse, 0x03, 0xff, 0xc0 | maxRank})
	f.Add([]byte{magic, precision, encSparse, 0, 0x80, 1, 0, 0x40, 2}, []byte{magic, precision, encDense})
	f.Add(large.bytes()[:100], []byte{'H'})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		na, errA := Estimate(a)
		_, errB := Estimate(b)
		ab, err := MergeSketch(a, b)
		for _, e := range []error{errA, errB, err} {
			if e != nil && !errors.Is(e, ErrMalformedSketch) {
				t.Fatalf("error %v does not wrap ErrMalformedSketch", e)
			}
		}
		if (err == nil) != (errA == nil && errB == nil) {
			t.Fatalf("MergeSketch error %v, but Estimate errors %v, %v", err, errA, errB)
		}
		if errA != nil {
			return
		}
		aa, err := MergeSketch(a, a)
		if err != nil {
			t.Fatalf("merging a valid sketch with itself: %v", err)
		}
		var ra, raa [registers]uint8
		decodeMax(&ra, a)
		if err := decodeMax(&raa, aa); err != nil || raa != ra {
			t.Fatalf("a∪a has other registers than a (%v)", err)
		}
		if again, _ := MergeSketch(aa, a); !bytes.Equal(again, aa) {
			t.Fatal("merge is not idempotent on the canonical form")
		}
		if naa, _ := Estimate(aa); naa != na {
			t.Fatalf("Estimate(a∪a) = %d, Estimate(a) = %d", naa, na)
		}
		if errB != nil {
			return
		}
		if ba, _ := MergeSketch(b, a); !bytes.Equal(ab, ba) {
			t.Fatal("MergeSketch is not commutative")
		}
		if nab, _ := Estimate(ab); nab < na {
			t.Fatalf("union estimated below a part: %d < %d", nab, na)
		}
	})
}
