package measure

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

// day0 is a UTC midnight the tests count days from.
var day0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// clock is a settable injected clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// newTest returns an Aggregator with a clock at t and deterministic salts,
// so that estimates do not vary from run to run.
func newTest(mode string, t time.Time) (*Aggregator, *clock) {
	c := &clock{t: t}
	a := New(mode, c.now)
	a.rand = rand.NewChaCha8([32]byte{1})
	return a, c
}

// failReader fails the test when read: nothing may need randomness.
type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("salt source read")
	return 0, errors.New("salt source read")
}

func find(t *testing.T, cells []Cell, dim, value string) Cell {
	t.Helper()
	for _, c := range cells {
		if c.Dim == dim && c.Value == value {
			return c
		}
	}
	t.Fatalf("no cell %s=%q in %d cells", dim, value, len(cells))
	return Cell{}
}

func registersOf(t *testing.T, b []byte) *[registers]uint8 {
	t.Helper()
	var r [registers]uint8
	if err := decodeMax(&r, b); err != nil {
		t.Fatal(err)
	}
	return &r
}
