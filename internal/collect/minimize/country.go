package minimize

import (
	_ "embed"
	"encoding/binary"
	"net/netip"
)

// The tables are kept as strings so that lookups read the embedded bytes in
// place: nothing is decoded at start-up and nothing is allocated per lookup.
// Their format is described in internal/gen.
var (
	//go:embed country_v4.bin
	countryV4 string
	//go:embed country_v6.bin
	countryV6 string
)

var (
	tableV4 = mustTable(countryV4, "TCC4", 3)
	tableV6 = mustTable(countryV6, "TCC6", 6)
)

// table is a parsed header over one embedded file.
type table struct {
	codes string // two bytes per country, index i+1 at codes[2i:2i+2]
	keys  string // n big-endian prefixes of width bytes, ascending, keys[0] = 0
	index string // n country indexes, 0 for none
	width int
	n     int
}

func mustTable(data, magic string, width int) *table {
	bad := func() { panic("minimize: embedded country table " + magic + " is corrupt; run go generate") }
	if len(data) < 6 || data[:4] != magic || int(data[4]) != width {
		bad()
	}
	k := int(data[5])
	off := 6 + 2*k
	if len(data) < off+4 {
		bad()
	}
	n := int(binary.BigEndian.Uint32([]byte(data[off : off+4])))
	off += 4
	if n == 0 || len(data) != off+n*width+n {
		bad()
	}
	t := &table{
		codes: data[6 : 6+2*k],
		keys:  data[off : off+n*width],
		index: data[off+n*width:],
		width: width,
		n:     n,
	}
	if t.key(0) != 0 {
		bad()
	}
	return t
}

func (t *table) key(i int) uint64 {
	var k uint64
	for _, c := range []byte(t.keys[i*t.width : (i+1)*t.width]) {
		k = k<<8 | uint64(c)
	}
	return k
}

// lookup returns the country of prefix k: the range with the last key ≤ k.
func (t *table) lookup(k uint64) string {
	lo, hi := 1, t.n // keys[0] = 0 ≤ k always
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.key(m) <= k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	c := int(t.index[lo-1])
	if c == 0 || 2*c > len(t.codes) {
		return ""
	}
	return t.codes[2*c-2 : 2*c]
}

// notGlobal4 and notGlobal6 list the IANA special-purpose blocks that are
// not reachable on the public internet but that netip's predicates let
// through. Registries do not allocate them, yet some geofeeds claim them;
// no shopper comes from there.
var notGlobal4 = [...]netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved
}

var notGlobal6 = [...]netip.Prefix{
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64 (the gateway's own address is what a server sees)
	netip.MustParsePrefix("64:ff9b:1::/48"), // local NAT64
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001::/23"),      // IETF protocol assignments, Teredo, benchmarking, ORCHID
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("3fff::/20"),      // documentation
	netip.MustParsePrefix("5f00::/16"),      // segment routing SIDs
}

// Country returns the ISO 3166-1 alpha-2 code of the country where ip is
// registered or announced, or "" when it is unknown or not a public unicast
// address (private, loopback, link-local, multicast, unspecified,
// documentation, CGNAT, …). IPv4-mapped IPv6 addresses are looked up as
// IPv4, and 6to4 addresses (2002::/16) by the IPv4 address they carry.
// It does not allocate.
func Country(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		if b := ip.As16(); b[0] == 0x20 && b[1] == 0x02 {
			ip = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		}
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return ""
	}
	if ip.Is4() {
		for _, p := range notGlobal4 {
			if p.Contains(ip) {
				return ""
			}
		}
		b := ip.As4()
		return tableV4.lookup(uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2]))
	}
	for _, p := range notGlobal6 {
		if p.Contains(ip) {
			return ""
		}
	}
	b := ip.As16()
	return tableV6.lookup(binary.BigEndian.Uint64(b[:8]) >> 16)
}
