package measure

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Modes, equal to the datamap measurement constants.
const (
	ModeOff      = "off"
	ModeTotals   = "totals"
	ModeAudience = "audience"
)

// Dimensions a hit is counted under.
const (
	DimTotal   = "total" // value ""
	DimPath    = "path"
	DimProduct = "product"
	DimCountry = "country"
	DimDevice  = "device"
)

// Kind is what a hit counts as.
type Kind uint8

const (
	Pageview Kind = iota + 1
	ProductView
	AddToCart
	Order
)

// Hit is one event of a visitor who did not consent, already minimised.
type Hit struct {
	At           time.Time // when it occurred; zero means now
	Kind         Kind
	Path         string // templated path
	ProductID    string
	Country      string
	Device       string // device class
	RevenueCents int64  // orders only
	// Visitor is a raw visitor key (an anonymous id, or IP and user agent).
	// It is used only in audience mode, only hashed in memory, and may be
	// empty; a hit without one counts as a contributor of its own.
	Visitor string
}

// Cell is the accumulated counts of one (UTC day, dimension, value).
type Cell struct {
	Day          time.Time // UTC midnight
	Dim, Value   string
	Pageviews    int64
	ProductViews int64
	AddToCarts   int64
	Orders       int64
	RevenueCents int64
	Hits         int64 // all hits
	// Unkeyed and UnkeyedOrders count the hits and orders not in a sketch
	// (totals mode, no visitor key, or a day whose salt is gone). Each counts
	// as a distinct contributor for suppression.
	Unkeyed       int64
	UnkeyedOrders int64
	Visitors      []byte // serialized sketch of distinct visitors, nil when none
	Buyers        []byte // serialized sketch of distinct visitors who ordered, nil when none
}

// Merge adds from into into. Both must be the same day, dimension and value.
// On error into is unchanged.
func Merge(into *Cell, from Cell) error {
	if !into.Day.Equal(from.Day) || into.Dim != from.Dim || into.Value != from.Value {
		return errors.New("measure: merging cells of different days or dimensions")
	}
	v, err := MergeSketch(into.Visitors, from.Visitors)
	if err != nil {
		return err
	}
	b, err := MergeSketch(into.Buyers, from.Buyers)
	if err != nil {
		return err
	}
	into.Pageviews += from.Pageviews
	into.ProductViews += from.ProductViews
	into.AddToCarts += from.AddToCarts
	into.Orders += from.Orders
	into.RevenueCents += from.RevenueCents
	into.Hits += from.Hits
	into.Unkeyed += from.Unkeyed
	into.UnkeyedOrders += from.UnkeyedOrders
	into.Visitors, into.Buyers = v, b
	return nil
}

type mode uint8

const (
	off mode = iota
	totals
	audience
)

type dim uint8

const (
	dimTotal dim = iota
	dimPath
	dimProduct
	dimCountry
	dimDevice
)

var dimNames = [...]string{DimTotal, DimPath, DimProduct, DimCountry, DimDevice}

type cellKey struct {
	day   int64 // days since the Unix epoch, UTC
	dim   dim
	value string
}

type counts struct {
	pageviews, productViews, addToCarts, orders, revenue int64
	hits, unkeyed, unkeyedOrders                         int64
	visitors, buyers                                     sketch
}

// Aggregator accumulates hits in memory until Flush. It is safe for
// concurrent use.
type Aggregator struct {
	mode mode
	now  func() time.Time
	rand io.Reader // salt source; tests replace it

	mu     sync.Mutex
	closed bool
	cells  map[cellKey]*counts
	salts  map[int64]*[32]byte // by day; only today and yesterday
	today  int64               // day of the last expiry check
	// Scratch for the visitor HMAC, computed by hand over two reused
	// digests because crypto/hmac keeps key-equivalent pads that cannot be
	// zeroed; everything here is cleared after each use.
	inner, outer hash.Hash
	pad          [sha256.BlockSize]byte
	buf          []byte
	sum          [sha256.Size]byte
}

// New returns an Aggregator for a measurement mode. An unknown mode counts
// nothing, as "off" does. now is the clock (time.Now when nil).
func New(measurement string, now func() time.Time) *Aggregator {
	if now == nil {
		now = time.Now
	}
	a := &Aggregator{now: now, rand: rand.Reader, cells: make(map[cellKey]*counts), today: -1 << 62}
	switch measurement {
	case ModeTotals:
		a.mode = totals
	case ModeAudience:
		a.mode = audience
		a.salts = make(map[int64]*[32]byte, 2)
		a.inner, a.outer = sha256.New(), sha256.New()
	}
	return a
}

// Mode returns the measurement mode in effect.
func (a *Aggregator) Mode() string {
	switch a.mode {
	case totals:
		return ModeTotals
	case audience:
		return ModeAudience
	}
	return ModeOff
}

func dayOf(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// Add counts a hit under each dimension of its day. Hits of an unknown kind
// are ignored.
func (a *Aggregator) Add(h Hit) {
	if a.mode == off || h.Kind < Pageview || h.Kind > Order {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	// Read the clock under the lock, so that a caller who read it before
	// another dropped a salt cannot make that salt again.
	now := a.now()
	if h.At.IsZero() {
		h.At = now
	}
	day, today := dayOf(h.At), dayOf(now)
	a.expire(today)
	var idx uint16
	var rank uint8
	// Only today and yesterday have a salt; a salt for a later day would
	// outlive 48 hours.
	keyed := a.mode == audience && h.Visitor != "" && (day == today || day == today-1)
	if keyed {
		if salt := a.salt(day); salt != nil {
			idx, rank = register(a.hash(salt, h.Visitor))
		} else {
			keyed = false
		}
	}
	a.cell(cellKey{day, dimTotal, ""}).add(&h, keyed, idx, rank)
	a.cell(cellKey{day, dimPath, h.Path}).add(&h, keyed, idx, rank)
	if h.ProductID != "" {
		a.cell(cellKey{day, dimProduct, h.ProductID}).add(&h, keyed, idx, rank)
	}
	a.cell(cellKey{day, dimCountry, h.Country}).add(&h, keyed, idx, rank)
	a.cell(cellKey{day, dimDevice, h.Device}).add(&h, keyed, idx, rank)
}

func (a *Aggregator) cell(k cellKey) *counts {
	c := a.cells[k]
	if c == nil {
		// The hit's strings may point into a whole request body.
		k.value = strings.Clone(k.value)
		c = new(counts)
		a.cells[k] = c
	}
	return c
}

func (c *counts) add(h *Hit, keyed bool, idx uint16, rank uint8) {
	c.hits++
	order := h.Kind == Order
	switch h.Kind {
	case Pageview:
		c.pageviews++
	case ProductView:
		c.productViews++
	case AddToCart:
		c.addToCarts++
	case Order:
		c.orders++
		c.revenue += h.RevenueCents
	}
	if !keyed {
		c.unkeyed++
		if order {
			c.unkeyedOrders++
		}
		return
	}
	c.visitors.add(idx, rank)
	if order {
		c.buyers.add(idx, rank)
	}
}

// salt returns the salt of day, making it on first use; nil if the random
// source fails. Callers hold a.mu.
func (a *Aggregator) salt(day int64) *[32]byte {
	if s := a.salts[day]; s != nil {
		return s
	}
	s := new([32]byte)
	if _, err := io.ReadFull(a.rand, s[:]); err != nil {
		clear(s[:])
		return nil
	}
	a.salts[day] = s
	return s
}

// expire zeroes and drops the salts of days other than today and
// yesterday. Callers hold a.mu.
func (a *Aggregator) expire(today int64) {
	if today == a.today {
		return
	}
	a.today = today
	for d, s := range a.salts {
		if d < today-1 || d > today {
			clear(s[:])
			delete(a.salts, d)
		}
	}
}

// hash returns the first 64 bits of HMAC-SHA256(salt, visitor) and clears
// every intermediate. Callers hold a.mu.
func (a *Aggregator) hash(salt *[32]byte, visitor string) uint64 {
	a.buf = append(a.buf[:0], visitor...)
	for i := range a.pad {
		a.pad[i] = 0x36
	}
	for i, b := range salt {
		a.pad[i] ^= b
	}
	a.inner.Write(a.pad[:])
	a.inner.Write(a.buf)
	inner := a.inner.Sum(a.sum[:0])
	for i := range a.pad {
		a.pad[i] ^= 0x36 ^ 0x5c
	}
	a.outer.Write(a.pad[:])
	a.outer.Write(inner)
	x := binary.BigEndian.Uint64(a.outer.Sum(a.sum[:0]))
	clear(a.pad[:])
	clear(a.buf)
	clear(a.sum[:])
	a.inner.Reset()
	a.outer.Reset()
	return x
}

// Flush returns the cells accumulated since the last Flush, sorted by day,
// dimension and value, and starts afresh. It also drops expired salts, so
// the caller should flush at least every few minutes.
func (a *Aggregator) Flush() []Cell {
	a.mu.Lock()
	a.expire(dayOf(a.now()))
	cells := a.cells
	if len(cells) == 0 {
		a.mu.Unlock()
		return nil
	}
	a.cells = make(map[cellKey]*counts, len(cells))
	a.mu.Unlock()

	out := make([]Cell, 0, len(cells))
	for k, c := range cells {
		out = append(out, Cell{
			Day:           time.Unix(k.day*86400, 0).UTC(),
			Dim:           dimNames[k.dim],
			Value:         k.value,
			Pageviews:     c.pageviews,
			ProductViews:  c.productViews,
			AddToCarts:    c.addToCarts,
			Orders:        c.orders,
			RevenueCents:  c.revenue,
			Hits:          c.hits,
			Unkeyed:       c.unkeyed,
			UnkeyedOrders: c.unkeyedOrders,
			Visitors:      c.visitors.bytes(),
			Buyers:        c.buyers.bytes(),
		})
	}
	slices.SortFunc(out, func(x, y Cell) int {
		return cmp.Or(x.Day.Compare(y.Day), cmp.Compare(x.Dim, y.Dim), cmp.Compare(x.Value, y.Value))
	})
	return out
}

// Close zeroes and drops every salt; later hits are not counted. Cells not
// yet flushed can still be flushed.
func (a *Aggregator) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for d, s := range a.salts {
		clear(s[:])
		delete(a.salts, d)
	}
}
