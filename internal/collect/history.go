package collect

import (
	"sort"
	"time"

	"github.com/tact-cdp/tact/internal/collect/segment"
	"github.com/tact-cdp/tact/internal/vault"
)

// Historical judges an imported event by the consent in force at the
// event's own time (DESIGN principle 2: imports are judged at each event's
// own time against the consent evidence they carry), instead of the
// shopper's state now. It returns the purposes granted then and the receipt
// that records that evidence.
type Historical func(e *segment.Event, occurred time.Time) (granted []string, receiptID string)

// Evidence is one consent decision carried by an import, already recorded
// as a receipt (method import).
type Evidence struct {
	Kind      vault.Kind
	Value     string // normalised identifier
	DecidedAt time.Time
	Choices   map[string]bool
	ReceiptID string
}

// Timeline holds the evidence of an import by shopper identifier.
type Timeline struct {
	validity func(time.Time) time.Time // when a decision made at t expires
	byID     map[string][]Evidence
	sorted   bool
}

// NewTimeline returns an empty timeline; validity gives when a decision made
// at t expires (the regime's consent validity).
func NewTimeline(validity func(time.Time) time.Time) *Timeline {
	return &Timeline{validity: validity, byID: map[string][]Evidence{}}
}

// Add records evidence.
func (t *Timeline) Add(e Evidence) {
	k := string(e.Kind) + "\x00" + e.Value
	t.byID[k] = append(t.byID[k], e)
	t.sorted = false
}

// At is a Historical: the purposes the event's shopper (its userId's
// evidence, else its anonymousId's) had granted at occurred, each by its
// latest decision not after occurred and not yet expired then.
func (t *Timeline) At(e *segment.Event, occurred time.Time) ([]string, string) {
	if !t.sorted {
		for _, list := range t.byID {
			sort.SliceStable(list, func(i, j int) bool { return list[i].DecidedAt.Before(list[j].DecidedAt) })
		}
		t.sorted = true
	}
	var list []Evidence
	for _, id := range []struct {
		kind vault.Kind
		raw  string
	}{{vault.KindUserID, e.UserID}, {vault.KindAnonymousID, e.AnonymousID}} {
		if id.raw == "" {
			continue
		}
		v, err := vault.Normalize(id.kind, id.raw)
		if err != nil {
			continue
		}
		if l := t.byID[string(id.kind)+"\x00"+v]; len(l) > 0 {
			list = l
			break
		}
	}
	type decided struct {
		granted bool
		ev      *Evidence
	}
	state := map[string]decided{}
	for i := range list {
		ev := &list[i]
		if ev.DecidedAt.After(occurred) {
			break
		}
		for p, g := range ev.Choices {
			state[p] = decided{g, ev}
		}
	}
	var granted []string
	var latest *Evidence
	for p, d := range state {
		if !d.granted || !occurred.Before(t.validity(d.ev.DecidedAt)) {
			continue
		}
		granted = append(granted, p)
		if latest == nil || d.ev.DecidedAt.After(latest.DecidedAt) {
			latest = d.ev
		}
	}
	if latest == nil {
		return nil, ""
	}
	sort.Strings(granted)
	return granted, latest.ReceiptID
}
