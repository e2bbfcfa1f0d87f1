// Command gen builds the compact IP → country tables that package minimize
// embeds, from the CSV files of the ip-location-db "geo-whois-asn-country"
// database (rows "start,end,CC", inclusive, addresses in text form).
//
// Usage:
//
//	go run ./internal/gen -out DIR FILE.csv...
//
// IPv4 and IPv6 rows may come from one file or several; the family is taken
// from each row. The output is deterministic: the same input rows, in any
// order, give the same bytes.
//
// Format of country_v4.bin and country_v6.bin (big-endian):
//
//	magic   4 bytes  "TCC4" or "TCC6"
//	width   1 byte   bytes per key: 3 (IPv4 /24 prefix) or 6 (IPv6 /48 prefix)
//	k       1 byte   number of country codes
//	codes   2k bytes ISO 3166-1 alpha-2 codes, sorted; code i is index i+1
//	n       4 bytes  number of ranges
//	keys    n × width bytes, ascending; the first is 0
//	index   n bytes  country index of the prefixes from keys[i] to keys[i+1]-1,
//	                 0 for no country
//
// A lookup is the last key ≤ the address's prefix.
//
// How the source rows become ranges, in this order:
//
//   - Overlapping rows: the narrowest wins. The source lays precise geofeed
//     entries over registry allocations without always cutting the wider row;
//     ties go to the lower start, then the lower code, so the result does not
//     depend on row order.
//   - A hole that no row covers, between two ranges of one country, takes that
//     country (it is unallocated or unlisted space inside that country's
//     blocks); other holes stay "no country".
//   - Granularity is the smallest prefix routed on the public internet: /24
//     for IPv4, /48 for IPv6. Each prefix gets the country of its first
//     address; ranges that hold no prefix start disappear. This keeps the
//     embedded tables under 2 MB; the finer geofeed entries it loses are
//     mostly single servers, not shoppers.
//   - Neighbouring ranges of one country are merged.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// u128 is an address as a number: IPv4 in lo, IPv6 in both halves.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

func (a u128) sub(b u128) u128 {
	lo, borrow := bits.Sub64(a.lo, b.lo, 0)
	hi, _ := bits.Sub64(a.hi, b.hi, borrow)
	return u128{hi, lo}
}

// next is a+1; ok is false when a is the family's last address.
func (a u128) next(max u128) (n u128, ok bool) {
	if a == max {
		return u128{}, false
	}
	lo, carry := bits.Add64(a.lo, 1, 0)
	return u128{a.hi + carry, lo}, true
}

func toU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

type row struct {
	start, end u128 // inclusive
	cc         string
}

var (
	max4 = u128{0, math.MaxUint32}
	max6 = u128{math.MaxUint64, math.MaxUint64}
)

func main() {
	out := flag.String("out", ".", "output directory")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: gen -out DIR FILE.csv...  (go generate: set TACT_IPDB to the npm package's folder)")
		os.Exit(2)
	}
	var v4, v6 []row
	for _, path := range flag.Args() {
		a, b, err := readCSV(path)
		if err != nil {
			fail(fmt.Errorf("%w (go generate: set TACT_IPDB to the npm package's folder)", err))
		}
		v4 = append(v4, a...)
		v6 = append(v6, b...)
	}
	b4, b6, err := generate(v4, v6)
	if err != nil {
		fail(err)
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"country_v4.bin", b4}, {"country_v6.bin", b6}} {
		if err := os.WriteFile(filepath.Join(*out, f.name), f.data, 0o644); err != nil {
			fail(err)
		}
	}
	fmt.Fprintf(os.Stderr, "gen: %d IPv4 rows → %d bytes; %d IPv6 rows → %d bytes\n", len(v4), len(b4), len(v6), len(b6))
}

// generate builds both tables from the rows of both families.
func generate(v4, v6 []row) (b4, b6 []byte, err error) {
	codes := codeList(v4, v6)
	if len(codes) > 255 {
		return nil, nil, fmt.Errorf("%d country codes do not fit in a byte", len(codes))
	}
	t4 := toPrefix(fillHoles(resolve(v4, max4)), func(a u128) (uint64, bool) {
		// /24 of an IPv4 address, rounded up.
		k := a.lo >> 8
		if a.lo&0xff != 0 {
			k++
		}
		return k, k <= 1<<24-1
	})
	t6 := toPrefix(fillHoles(resolve(v6, max6)), func(a u128) (uint64, bool) {
		// /48 of an IPv6 address, rounded up.
		k := a.hi >> 16
		if a.hi&0xffff != 0 || a.lo != 0 {
			k++
		}
		return k, k <= 1<<48-1
	})
	return encode("TCC4", 3, codes, t4), encode("TCC6", 6, codes, t6), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}

// readCSV reads "start,end,CC" rows.
func readCSV(path string) (v4, v6 []row, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if len(fields) != 3 {
			return nil, nil, fmt.Errorf("%s:%d: want 3 fields, got %d", path, line, len(fields))
		}
		lo, err1 := netip.ParseAddr(fields[0])
		hi, err2 := netip.ParseAddr(fields[1])
		cc := fields[2]
		if err := errors.Join(err1, err2); err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		if !validCode(cc) {
			return nil, nil, fmt.Errorf("%s:%d: bad country code %q", path, line, cc)
		}
		if notCountry[cc] {
			continue
		}
		if lo.Is4() != hi.Is4() || lo.Zone() != "" || hi.Zone() != "" || hi.Less(lo) {
			return nil, nil, fmt.Errorf("%s:%d: bad range %s-%s", path, line, lo, hi)
		}
		r := row{toU128(lo), toU128(hi), cc}
		if lo.Is4() {
			v4 = append(v4, r)
		} else {
			v6 = append(v6, r)
		}
	}
	return v4, v6, sc.Err()
}

// notCountry lists codes that registries use but that name no current
// country: AN was withdrawn from ISO 3166-1 in 2010 (split into BQ, CW and
// SX), EU and AP are registry pseudo-codes, ZZ is "unknown". Their rows are
// skipped, so a wider row underneath, if any, shows through. XK (Kosovo,
// user-assigned but used by every registry) is kept.
var notCountry = map[string]bool{"AN": true, "AP": true, "EU": true, "ZZ": true}

func validCode(cc string) bool {
	return len(cc) == 2 && cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z'
}

func codeList(sets ...[]row) []string {
	var codes []string
	for _, rows := range sets {
		for _, r := range rows {
			codes = append(codes, r.cc)
		}
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

type span struct {
	start u128
	cc    string // "" for no country
}

// appendSpan adds a span that starts at or after the last one, merging
// neighbours of one country; a span starting where the last one starts
// replaces it.
func appendSpan(out []span, start u128, cc string) []span {
	if n := len(out); n > 0 && out[n-1].start == start {
		out = out[:n-1]
	}
	if n := len(out); n > 0 && out[n-1].cc == cc {
		return out
	}
	return append(out, span{start, cc})
}

// resolve turns rows, in any order and possibly overlapping, into contiguous
// spans covering 0 to max. Where rows overlap, the narrowest wins (the source
// lays precise geofeed entries over registry allocations without always
// cutting the wider row); ties go to the lower start, then the lower code, so
// that the result does not depend on row order. Addresses no row covers get "".
func resolve(rows []row, max u128) []span {
	// Elementary intervals between every start and every end+1.
	bounds := []u128{{}}
	for _, r := range rows {
		bounds = append(bounds, r.start)
		if n, ok := r.end.next(max); ok {
			bounds = append(bounds, n)
		}
	}
	slices.SortFunc(bounds, u128.cmp)
	bounds = slices.Compact(bounds)
	find := func(a u128) int {
		i, ok := slices.BinarySearchFunc(bounds, a, u128.cmp)
		if !ok {
			panic("bound not found")
		}
		return i
	}

	order := slices.Clone(rows)
	slices.SortFunc(order, func(a, b row) int {
		if c := a.end.sub(a.start).cmp(b.end.sub(b.start)); c != 0 {
			return c
		}
		if c := a.start.cmp(b.start); c != 0 {
			return c
		}
		return strings.Compare(a.cc, b.cc)
	})

	owner := make([]string, len(bounds))
	// skip[i] leads to the first unpainted interval at or after i
	// (union-find with path halving), so each interval is painted once.
	skip := make([]int, len(bounds)+1)
	for i := range skip {
		skip[i] = i
	}
	first := func(i int) int {
		for skip[i] != i {
			skip[i] = skip[skip[i]]
			i = skip[i]
		}
		return i
	}
	for _, r := range order {
		lo := find(r.start)
		hi := len(bounds)
		if n, ok := r.end.next(max); ok {
			hi = find(n)
		}
		for i := first(lo); i < hi; i = first(i) {
			owner[i] = r.cc
			skip[i] = i + 1
		}
	}
	var out []span
	for i, b := range bounds {
		out = appendSpan(out, b, owner[i])
	}
	return out
}

// fillHoles gives a span with no country the country of its neighbours when
// both have the same one.
func fillHoles(spans []span) []span {
	var out []span
	for i, s := range spans {
		if s.cc == "" && i > 0 && i+1 < len(spans) && spans[i-1].cc == spans[i+1].cc {
			s.cc = spans[i-1].cc
		}
		out = appendSpan(out, s.start, s.cc)
	}
	return out
}

type keyed struct {
	key uint64
	cc  string
}

// toPrefix moves span starts up to the next prefix boundary (key returns the
// rounded-up prefix and whether it exists): each prefix gets the country of
// its first address, and spans holding no prefix start disappear.
func toPrefix(spans []span, key func(u128) (uint64, bool)) []keyed {
	var out []keyed
	for _, s := range spans {
		k, ok := key(s.start)
		if !ok {
			break
		}
		if n := len(out); n > 0 && out[n-1].key == k {
			out = out[:n-1]
		}
		if n := len(out); n > 0 && out[n-1].cc == s.cc {
			continue
		}
		out = append(out, keyed{k, s.cc})
	}
	return out
}

func encode(magic string, width int, codes []string, ranges []keyed) []byte {
	index := make(map[string]byte, len(codes))
	b := []byte(magic)
	b = append(b, byte(width), byte(len(codes)))
	for i, c := range codes {
		index[c] = byte(i + 1)
		b = append(b, c...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(ranges)))
	for _, r := range ranges {
		for i := width - 1; i >= 0; i-- {
			b = append(b, byte(r.key>>(8*i)))
		}
	}
	for _, r := range ranges {
		b = append(b, index[r.cc])
	}
	return b
}
