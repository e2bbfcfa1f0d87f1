package personalize

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/catalog"
	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/interests"
	"github.com/tact-cdp/tact/internal/measure"
	"github.com/tact-cdp/tact/internal/recommend"
)

// countingStore is an instrumented store: every read of anything about a
// shopper (events, interest choices) is counted.
type countingStore struct {
	items        []catalog.Item
	events       map[string][]collect.Signal // by shopper
	cells        []measure.Cell
	shopperReads atomic.Int64
}

func (c *countingStore) EachItem(_ context.Context, fn func(catalog.Item) error) error {
	for _, it := range c.items {
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

func (c *countingStore) InterestPrefs(context.Context) (map[string]bool, map[string][]string, error) {
	c.shopperReads.Add(1)
	return map[string]bool{}, map[string][]string{}, nil
}

func (c *countingStore) Measurements(context.Context, time.Time, time.Time) ([]measure.Cell, error) {
	return c.cells, nil
}

func (c *countingStore) ReplayPersonal(_ context.Context, _ []string, only string, fn func(string, collect.Signal) error) error {
	c.shopperReads.Add(1)
	for shopper, sigs := range c.events {
		if only != "" && shopper != only {
			continue
		}
		for _, s := range sigs {
			if err := fn(shopper, s); err != nil {
				return err
			}
		}
	}
	return nil
}

type noSensitive struct{}

func (noSensitive) Sensitive(it catalog.Item) bool { return it.Sensitive }
func (noSensitive) SensitiveItem(string) bool      { return false }

type profileStore struct{ deleted, paused atomic.Int64 }

func (p *profileStore) AddInterests(context.Context, []interests.Add, time.Duration) error {
	return nil
}
func (p *profileStore) Interests(context.Context, string) (interests.Profile, error) {
	return interests.Profile{}, nil
}
func (p *profileStore) DeleteInterest(context.Context, string, string, time.Time) error { return nil }
func (p *profileStore) DeleteProfile(context.Context, string) error {
	p.deleted.Add(1)
	return nil
}
func (p *profileStore) SetPaused(context.Context, string, bool, time.Time) error {
	p.paused.Add(1)
	return nil
}

// newTestService is a service over a shop where six shoppers viewed lamp
// and shade together, and alice viewed the lamp.
func newTestService(t *testing.T) (*Service, *countingStore, *profileStore) {
	t.Helper()
	now := time.Now()
	st := &countingStore{events: map[string][]collect.Signal{}}
	for _, id := range []string{"lamp", "shade", "mug"} {
		st.items = append(st.items, catalog.Item{ID: id, Name: id, Category: "Home", Available: true})
	}
	view := func(item string, ago time.Duration) collect.Signal {
		return collect.Signal{Event: "Product Viewed", Items: []catalog.Item{{ID: item}}, At: now.Add(-ago)}
	}
	for i := range 6 {
		st.events[fmt.Sprintf("s%d", i)] = []collect.Signal{view("lamp", 3*time.Hour), view("shade", 2*time.Hour)}
	}
	st.events["alice"] = []collect.Signal{view("lamp", time.Hour)}
	ps := &profileStore{}
	cs := consent.NewService(nil, nil, nil, nil, nil)
	s := New(interests.New(ps), cs, st, noSensitive{}, recommend.Config{})
	s.Replay = st
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, st, ps
}

func TestNonPersonalAnswersReadNothingAboutTheShopper(t *testing.T) {
	s, st, _ := newTestService(t)
	storeBefore, modelBefore := st.shopperReads.Load(), s.Model().ShopperReads()
	for _, r := range []Request{
		{Placement: recommend.Home, Limit: 10},
		{Placement: recommend.ProductPage, ItemID: "lamp", Limit: 10},
		{Placement: recommend.CartPage, ItemID: "lamp", Limit: 10},
	} {
		a, err := s.Recommend(r)
		if err != nil || a.Personalized || len(a.Items) == 0 {
			t.Fatalf("%+v: %+v %v", r, a, err)
		}
	}
	if st.shopperReads.Load() != storeBefore || s.Model().ShopperReads() != modelBefore {
		t.Errorf("non-personal answers read the store %d times and the model's shoppers %d times",
			st.shopperReads.Load()-storeBefore, s.Model().ShopperReads()-modelBefore)
	}
	// The instruments do count: a personal answer reads the model.
	if a, _ := s.Recommend(Request{Placement: recommend.Home, Limit: 10, Shopper: "alice"}); !a.Personalized || s.Model().ShopperReads() == modelBefore {
		t.Errorf("personal answer %+v did not read alice's signals", a)
	}
}

func TestRetargetingCapHolds(t *testing.T) {
	s, _, _ := newTestService(t)
	shown := 0
	for range 8 {
		a, err := s.Recommend(Request{Placement: recommend.Home, Limit: 10, Shopper: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range a.Items {
			if it.ID == "lamp" {
				shown++
			}
		}
	}
	if want := s.Model().Config().RetargetMax; shown != want {
		t.Errorf("the viewed lamp was shown back %d times in 8 answers, want exactly the cap %d", shown, want)
	}
}

func TestForgetTakesTheShopperOutAndDeletesTheProfile(t *testing.T) {
	s, _, ps := newTestService(t)
	if !s.Model().Holds("alice") {
		t.Fatal("alice not replayed")
	}
	if err := s.Forget(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if s.Model().Holds("alice") || ps.deleted.Load() != 1 {
		t.Errorf("after Forget: held %v, profiles deleted %d", s.Model().Holds("alice"), ps.deleted.Load())
	}
	if a, _ := s.Recommend(Request{Placement: recommend.Home, Limit: 10, Shopper: "alice"}); a.Personalized {
		t.Error("personal answer for a forgotten shopper")
	}
}

func TestPauseAndResume(t *testing.T) {
	s, _, _ := newTestService(t)
	ctx := context.Background()
	if err := s.Pause(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Recommend(Request{Placement: recommend.Home, Limit: 10, Shopper: "alice"}); a.Personalized || s.Model().Holds("alice") {
		t.Errorf("paused: personalized %v, held %v", a.Personalized, s.Model().Holds("alice"))
	}
	s.Learn("alice", collect.Signal{Event: "Product Viewed", Items: []catalog.Item{{ID: "mug"}}, At: time.Now()})
	if s.Model().Holds("alice") {
		t.Error("learnt from a paused shopper")
	}
	if err := s.Resume(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Recommend(Request{Placement: recommend.Home, Limit: 10, Shopper: "alice"}); !a.Personalized {
		t.Error("not personal after resuming")
	}
}

func TestRebuildReplacesTheModelAndForgetsDuringABuildWin(t *testing.T) {
	s, st, _ := newTestService(t)
	old := s.Model()
	st.events["bob"] = []collect.Signal{{Event: "Product Added", Items: []catalog.Item{{ID: "mug"}}, At: time.Now()}}
	if err := s.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.Model() == old || !s.Model().Holds("bob") || !s.Model().Holds("alice") {
		t.Fatal("the rebuilt model did not replace the old one with every shopper")
	}
	// A forgetting recorded during a build is applied to the new model.
	next := recommend.New(recommend.Config{})
	_ = next.Add(recommend.Event{Shopper: "alice", Item: "lamp", Kind: recommend.View, At: time.Now()})
	s.mu.Lock()
	s.building = next
	s.mu.Unlock()
	if err := s.Forget(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	forgotten := s.forgotten
	s.building = nil
	s.mu.Unlock()
	if next.Holds("alice") || len(forgotten) != 1 {
		t.Errorf("Forget during a build: building model holds alice %v, recorded %v", next.Holds("alice"), forgotten)
	}
}

func TestRequestCheck(t *testing.T) {
	for _, r := range []Request{
		{Placement: "banner", Limit: 10},
		{Placement: recommend.ProductPage, Limit: 10},
		{Placement: recommend.Home, Limit: 0},
		{Placement: recommend.Home, Limit: 101},
	} {
		if r.Check() == nil {
			t.Errorf("%+v accepted", r)
		}
	}
	if (Request{Placement: recommend.CartPage, Limit: 100}).Check() != nil {
		t.Error("a cart request without an item refused")
	}
}

// Popularity among all visitors comes from consent-free measurement, and
// only from counts a report would show (enough distinct visitors).
func TestPopularityFromMeasurement(t *testing.T) {
	st := &countingStore{events: map[string][]collect.Signal{}}
	for _, id := range []string{"mug", "rare", "lamp"} {
		st.items = append(st.items, catalog.Item{ID: id, Name: id, Category: "Home", Available: true})
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	st.cells = []measure.Cell{
		{Day: day, Dim: measure.DimProduct, Value: "mug", ProductViews: 40, Hits: 40, Unkeyed: 40},
		{Day: day, Dim: measure.DimProduct, Value: "rare", ProductViews: 900, Hits: 900, Unkeyed: 3}, // three visitors: suppressed
		{Day: day, Dim: measure.DimPath, Value: "/p/lamp", Pageviews: 500, Hits: 500, Unkeyed: 500},
	}
	s := New(interests.New(&profileStore{}), consent.NewService(nil, nil, nil, nil, nil), st, noSensitive{}, recommend.Config{})
	s.Replay = st
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, err := s.Recommend(Request{Placement: recommend.Home, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Items) != 1 || a.Items[0].ID != "mug" {
		t.Errorf("answer %+v: want only mug (rare is under the visitor threshold, lamp has no product cell)", a.Items)
	}
}
