package interests

import (
	"context"
	"math"
	"testing"
	"time"
)

type memStore struct{ adds []Add }

func (m *memStore) AddInterests(_ context.Context, adds []Add, _ time.Duration) error {
	m.adds = append(m.adds, adds...)
	return nil
}
func (m *memStore) Interests(context.Context, string) (Profile, error)              { return Profile{}, nil }
func (m *memStore) DeleteInterest(context.Context, string, string, time.Time) error { return nil }
func (m *memStore) DeleteProfile(context.Context, string) error                     { return nil }
func (m *memStore) SetPaused(context.Context, string, bool, time.Time) error        { return nil }

func TestDecayHalvesEveryHalfLife(t *testing.T) {
	if got := Decay(8, 60*24*time.Hour, DefaultHalfLife); math.Abs(got-2) > 1e-9 {
		t.Errorf("8 after two half-lives = %v, want 2", got)
	}
	if Decay(3, -time.Hour, DefaultHalfLife) != 3 {
		t.Error("a negative age changed the weight")
	}
}

func TestObserveSumsDecayedWeightsAndForgets(t *testing.T) {
	st := &memStore{}
	s := New(st)
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	s.Observe("s1", "Home/Lamps/", "Product Viewed", t0)                      // 1
	s.Observe("s1", "Home/Lamps", "Order Completed", t0.Add(30*24*time.Hour)) // 1/2 + 5
	s.Observe("s1", "Home/Lamps", "Product Added", t0.Add(-30*24*time.Hour))  // an older signal: 3/4
	s.Observe("s1", "Toys", "Newsletter Opened", t0)                          // not an interest signal
	s.Observe("s2", "Toys", "Product Viewed", t0)
	s.Forget("s2")
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(st.adds) != 1 || st.adds[0].Category != "Home/Lamps" {
		t.Fatalf("adds %+v", st.adds)
	}
	if w := st.adds[0].Weight; math.Abs(w-(0.5+5+0.75)) > 1e-9 || !st.adds[0].At.Equal(t0.Add(30*24*time.Hour)) {
		t.Errorf("weight %v at %v, want 6.25 at the newest signal", w, st.adds[0].At)
	}
}
