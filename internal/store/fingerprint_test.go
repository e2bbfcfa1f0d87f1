package store

import (
	"math/rand/v2"
	"testing"
)

// TestFingerprintSet checks the dedup window's set against a map, through
// growth and expiry, with colliding low bits and the fingerprint 0.
func TestFingerprintSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	var s fingerprintSet
	model := map[uint64]int64{}
	check := func(when string) {
		t.Helper()
		if s.n != len(model) {
			t.Fatalf("%s: %d entries, want %d", when, s.n, len(model))
		}
		for fp := range model {
			if !s.has(fp) {
				t.Fatalf("%s: %x missing", when, fp)
			}
		}
		for range 1000 {
			fp := rng.Uint64()
			if _, ok := model[nonZero(fp)]; ok != s.has(fp) {
				t.Fatalf("%s: has(%x) = %v, want %v", when, fp, !ok, ok)
			}
		}
	}
	if s.has(42) {
		t.Fatal("an empty set has a fingerprint")
	}
	day := int64(20000)
	for d := range 10 {
		for i := range 30000 {
			fp := rng.Uint64()
			switch {
			case i%1000 == 0:
				fp = 0 // stored as 1
			case i%7 == 0:
				fp = fp<<20 | 5 // same low bits: long probe runs
			}
			s.add(fp, day+int64(d))
			if old, ok := model[nonZero(fp)]; !ok || old < day+int64(d) {
				model[nonZero(fp)] = day + int64(d)
			}
		}
		check("after adding")
	}
	s.expire(day + 7)
	for fp, d := range model {
		if d < day+7 {
			delete(model, fp)
		}
	}
	check("after expiry")
	if len(s.fps) > 4*len(model) {
		t.Errorf("%d slots for %d entries after expiry: the table did not shrink", len(s.fps), len(model))
	}
	s.expire(day + 100)
	if s.n != 0 || s.has(1) {
		t.Errorf("expiring every day left %d entries", s.n)
	}
}

func BenchmarkFingerprintSet(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s fingerprintSet
	for range 2_000_000 {
		s.add(rng.Uint64(), 20000)
	}
	b.ResetTimer()
	for b.Loop() {
		if s.has(rng.Uint64()) {
			b.Fatal("a random fingerprint is in the set")
		}
	}
}
