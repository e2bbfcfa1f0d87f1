// Package catalog owns the shop's product catalogue as tact knows it: the
// items recommendations may show, their category paths, prices and
// availability, and which of them are sensitive (flagged on the item, or
// inherited from a category the data map marks sensitive). The shop puts
// items with PUT /v1/catalog/items/{id} or `tact catalog import`; items seen
// in e-commerce events are added as they arrive, ids unchanged, without
// overwriting what the shop said.
package catalog

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/datamap"
)

// Item is one product.
type Item struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Category   string `json:"category"` // path, "Home/Lamps"
	PriceCents int64  `json:"-"`        // in minor units; 0 when unknown
	Currency   string `json:"currency,omitempty"`
	Available  bool   `json:"available"`
	Sensitive  bool   `json:"sensitive"` // flagged on the item itself
	// RepeatPurchase: a consumable, recommended again after a purchase.
	RepeatPurchase bool      `json:"repeatPurchase"`
	Source         string    `json:"source"` // api | import | event
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Sources of an item.
const (
	SourceAPI    = "api"
	SourceImport = "import"
	SourceEvent  = "event"
)

// Limits of an item's fields.
const (
	MaxIDLen       = 256
	maxNameLen     = 512
	maxCategoryLen = 512
	maxPrice       = 1e12
)

// Validate checks an item as the shop sends it and normalises it.
func (it *Item) Validate() error {
	it.ID = strings.TrimSpace(it.ID)
	switch {
	case it.ID == "":
		return tact.Errorf(tact.EINVALID, "an item needs an id")
	case len(it.ID) > MaxIDLen || !utf8.ValidString(it.ID) || hasControl(it.ID):
		return tact.Errorf(tact.EINVALID, "the item id must be at most %d bytes of text without control characters", MaxIDLen)
	case len(it.Name) > maxNameLen || !utf8.ValidString(it.Name) || hasControl(it.Name):
		return tact.Errorf(tact.EINVALID, "name must be at most %d bytes of text without control characters", maxNameLen)
	case len(it.Category) > maxCategoryLen || !utf8.ValidString(it.Category) || hasControl(it.Category):
		return tact.Errorf(tact.EINVALID, "category must be a path of at most %d bytes", maxCategoryLen)
	case it.PriceCents < 0:
		return tact.Errorf(tact.EINVALID, "price must not be negative")
	case it.Currency != "" && !validCurrency(it.Currency):
		return tact.Errorf(tact.EINVALID, "currency must be an ISO 4217 code such as EUR")
	}
	it.Category = strings.Trim(strings.TrimSpace(it.Category), "/")
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// PriceToCents converts a price in major units (2.55) to minor units.
func PriceToCents(p float64) (int64, error) {
	if math.IsNaN(p) || math.IsInf(p, 0) || p < 0 || p > maxPrice {
		return 0, fmt.Errorf("price must be a number from 0 to %.0f", maxPrice)
	}
	return int64(math.Round(p * 100)), nil
}

// Store is what the catalogue needs from storage.
type Store interface {
	// PutItems writes items; with overwrite false an item already stored
	// is left as it is (items seen in events never overwrite the shop's).
	PutItems(ctx context.Context, items []Item, overwrite bool) error
	Item(ctx context.Context, id string) (Item, error) // ENOTFOUND
	SensitiveItemIDs(ctx context.Context) ([]string, error)
}

// Service is the catalogue.
type Service struct {
	store   Store
	dataMap func() *datamap.Map

	mu        sync.RWMutex
	sensitive map[string]bool     // ids flagged sensitive on the item
	seen      map[string]Item     // seen in events, not yet written
	known     map[string]struct{} // ids known to be stored (bounded)
	Now       func() time.Time
	// OnWrite, when set before use, is told of the items written: the
	// shop's (fromShop, which replace what was there) and those first seen
	// in events (which never replace the shop's). Recommendations keep
	// their catalogue view with it.
	OnWrite func(items []Item, fromShop bool)
}

// maxSeen bounds the items waiting to be written from events; maxKnown the
// ids remembered as stored (so that a busy shop does not rewrite its
// catalogue every flush).
const (
	maxSeen  = 10000
	maxKnown = 500000
)

// New returns the catalogue; Load reads the sensitive flags.
func New(store Store, dataMap func() *datamap.Map) *Service {
	return &Service{store: store, dataMap: dataMap, sensitive: map[string]bool{}, seen: map[string]Item{}, known: map[string]struct{}{}, Now: time.Now}
}

// Load reads which items are flagged sensitive (at start, and periodically
// where other nodes may change them).
func (s *Service) Load(ctx context.Context) error {
	ids, err := s.store.SensitiveItemIDs(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	s.mu.Lock()
	s.sensitive = m
	s.mu.Unlock()
	return nil
}

// Put stores items from the shop (API or import), replacing what was there.
func (s *Service) Put(ctx context.Context, source string, items ...Item) error {
	now := s.Now().UTC()
	for i := range items {
		if err := items[i].Validate(); err != nil {
			return err
		}
		items[i].Source, items[i].UpdatedAt = source, now
	}
	if err := s.store.PutItems(ctx, items, true); err != nil {
		return err
	}
	s.remember(items)
	if s.OnWrite != nil {
		s.OnWrite(items, true)
	}
	s.mu.Lock()
	for _, it := range items {
		if it.Sensitive {
			s.sensitive[it.ID] = true
		} else {
			delete(s.sensitive, it.ID)
		}
	}
	s.mu.Unlock()
	return nil
}

// Seen notes items named by an event; Flush writes those not yet known.
// It never blocks ingest: beyond maxSeen waiting items, new ones wait for a
// later event.
func (s *Service) Seen(items ...Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		if _, ok := s.seen[it.ID]; ok || len(s.seen) >= maxSeen {
			continue
		}
		if _, ok := s.known[it.ID]; ok {
			continue
		}
		if it.Validate() != nil {
			continue
		}
		it.Source, it.Available = SourceEvent, true
		// An event's strings share its request body; copies let the body go.
		it.ID, it.Name, it.Category, it.Currency = strings.Clone(it.ID), strings.Clone(it.Name), strings.Clone(it.Category), strings.Clone(it.Currency)
		s.seen[it.ID] = it
	}
}

// Flush writes the items seen in events since the last flush.
func (s *Service) Flush(ctx context.Context) error {
	s.mu.Lock()
	if len(s.seen) == 0 {
		s.mu.Unlock()
		return nil
	}
	items := make([]Item, 0, len(s.seen))
	now := s.Now().UTC()
	for _, it := range s.seen {
		it.UpdatedAt = now
		items = append(items, it)
	}
	s.seen = map[string]Item{}
	s.mu.Unlock()
	if err := s.store.PutItems(ctx, items, false); err != nil {
		return err
	}
	s.remember(items)
	if s.OnWrite != nil {
		s.OnWrite(items, false)
	}
	return nil
}

func (s *Service) remember(items []Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.known)+len(items) > maxKnown {
		s.known = map[string]struct{}{} // start over rather than grow
	}
	for _, it := range items {
		s.known[it.ID] = struct{}{}
	}
}

// Sensitive reports whether an item is sensitive: flagged itself, or in a
// category the data map marks sensitive.
func (s *Service) Sensitive(it Item) bool {
	if it.Sensitive {
		return true
	}
	_, ok := s.dataMap().SensitiveProductCategory(it.Category)
	return ok
}

// SensitiveItem reports whether the item with this id is flagged sensitive
// on the item itself (the category rule is checked from the event's own
// category by collection).
func (s *Service) SensitiveItem(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.sensitive[id]
}

// Item returns a stored item.
func (s *Service) Item(ctx context.Context, id string) (Item, error) { return s.store.Item(ctx, id) }
