package measure

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// randomSketch adds n random hashes to a sketch and to a plain register
// array kept as the reference.
func randomSketch(n int, seed uint64) (*sketch, *[registers]uint8) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var s sketch
	var ref [registers]uint8
	for range n {
		idx, rank := register(rng.Uint64())
		s.add(idx, rank)
		ref[idx] = max(ref[idx], rank)
	}
	return &s, &ref
}

func TestRegister(t *testing.T) {
	for _, tc := range []struct {
		x    uint64
		idx  uint16
		rank uint8
	}{
		{0, 0, maxRank},
		{math.MaxUint64, registers - 1, 1},
		{0xabc8_0000_0000_0000, 0xabc, 1},
		{0xabc0_0000_0000_0001, 0xabc, 52},
		{0x0004_0000_0000_0000, 0, 2},
	} {
		idx, rank := register(tc.x)
		if idx != tc.idx || rank != tc.rank {
			t.Errorf("register(%#x) = %d, %d; want %d, %d", tc.x, idx, rank, tc.idx, tc.rank)
		}
	}
}

func TestSketchRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 5, 900, memSparseMax, 1500, 5000, 200_000} {
		s, ref := randomSketch(n, uint64(n))
		b := s.bytes()
		set := 0
		for _, v := range ref {
			if v != 0 {
				set++
			}
		}
		switch {
		case set == 0 && b != nil:
			t.Errorf("n=%d: empty sketch encodes as %x", n, b)
		case set > 0 && set <= sparseMax && (b[2] != encSparse || len(b) != headerLen+entryLen*set):
			t.Errorf("n=%d: %d registers set, want a sparse form, got %d bytes", n, set, len(b))
		case set > sparseMax && (b[2] != encDense || len(b) != headerLen+registers):
			t.Errorf("n=%d: %d registers set, want a dense form, got %d bytes", n, set, len(b))
		}
		if got := registersOf(t, b); *got != *ref {
			t.Errorf("n=%d: registers differ after a round trip", n)
		}
		if enc := encode(ref); !bytes.Equal(enc, b) {
			t.Errorf("n=%d: two encodings of the same registers", n)
		}
	}
}

func TestSparseDenseBoundary(t *testing.T) {
	for _, set := range []int{sparseMax, sparseMax + 1} {
		var r [registers]uint8
		for i := range set {
			r[i] = 1
		}
		b := encode(&r)
		if want := set <= sparseMax; (b[2] == encSparse) != want {
			t.Errorf("%d registers: sparse = %v, want %v (%d bytes)", set, b[2] == encSparse, want, len(b))
		}
	}
}

func TestEstimateAccuracy(t *testing.T) {
	for _, n := range []int{1, 5, 100, 1_000, 10_000, 15_000, 100_000, 1_000_000} {
		s, _ := randomSketch(n, uint64(n)+7)
		got, err := Estimate(s.bytes())
		if err != nil {
			t.Fatal(err)
		}
		if rel := math.Abs(float64(got)/float64(n) - 1); rel > 0.05 {
			t.Errorf("Estimate of %d distinct = %d, off by %.1f%%", n, got, 100*rel)
		}
	}
	if got, err := Estimate(nil); got != 0 || err != nil {
		t.Errorf("Estimate(nil) = %d, %v", got, err)
	}
}

func TestMergeSketch(t *testing.T) {
	a, ra := randomSketch(30_000, 1)
	b, rb := randomSketch(2_000, 2)
	ab, err := MergeSketch(a.bytes(), b.bytes())
	if err != nil {
		t.Fatal(err)
	}
	ba, _ := MergeSketch(b.bytes(), a.bytes())
	if !bytes.Equal(ab, ba) {
		t.Error("MergeSketch is not commutative")
	}
	var want [registers]uint8
	for i := range want {
		want[i] = max(ra[i], rb[i])
	}
	if *registersOf(t, ab) != want {
		t.Error("merged registers are not the register-wise maximum")
	}
	n, _ := Estimate(ab)
	if math.Abs(float64(n)/32_000-1) > 0.05 {
		t.Errorf("union of 30000 and 2000 distinct estimated as %d", n)
	}
	for _, tc := range []struct{ a, b, want []byte }{
		{nil, nil, nil},
		{nil, b.bytes(), b.bytes()},
		{a.bytes(), nil, a.bytes()},
		{[]byte{magic, precision, encSparse}, nil, nil},
	} {
		got, err := MergeSketch(tc.a, tc.b)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("MergeSketch(%.8x, %.8x) = %.8x, %v; want %.8x", tc.a, tc.b, got, err, tc.want)
		}
	}
}

func TestMalformedSketch(t *testing.T) {
	dense := make([]byte, headerLen+registers)
	dense[0], dense[1], dense[2] = magic, precision, encDense
	bad := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(dense)) }
	for name, b := range map[string][]byte{
		"short header":        {magic, precision},
		"bad magic":           {'h', precision, encSparse},
		"other precision":     {magic, 14, encSparse},
		"unknown encoding":    {magic, precision, 2},
		"partial entry":       {magic, precision, encSparse, 0, 1},
		"rank zero":           {magic, precision, encSparse, 0, 0, 0},
		"rank too high":       {magic, precision, encSparse, 0, 0, maxRank + 1},
		"index too high":      {magic, precision, encSparse, 0x04, 0, 1},
		"repeated index":      {magic, precision, encSparse, 0, 0x40, 1, 0, 0x40, 2},
		"descending index":    {magic, precision, encSparse, 0, 0x80, 1, 0, 0x40, 2},
		"dense too short":     dense[:len(dense)-1],
		"dense too long":      append(bytes.Clone(dense), 0),
		"dense rank too high": bad(func(b []byte) []byte { b[100] = maxRank + 1; return b }),
	} {
		if _, err := Estimate(b); !errors.Is(err, ErrMalformedSketch) {
			t.Errorf("%s: Estimate error = %v", name, err)
		}
		for _, pair := range [][2][]byte{{b, nil}, {nil, b}} {
			if got, err := MergeSketch(pair[0], pair[1]); !errors.Is(err, ErrMalformedSketch) || got != nil {
				t.Errorf("%s: MergeSketch = %x, %v", name, got, err)
			}
		}
	}
	// Valid but not canonical forms are accepted.
	for name, b := range map[string][]byte{
		"all-zero dense":    dense,
		"empty sparse":      {magic, precision, encSparse},
		"sparse, max index": {magic, precision, encSparse, 0x03, 0xff, 0xc0 | maxRank},
	} {
		if _, err := Estimate(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
