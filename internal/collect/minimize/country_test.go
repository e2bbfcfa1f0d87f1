package minimize

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Addresses whose registration is old and stable: public resolvers, the
// registries' own networks, universities. Checked against the source data.
var knownCountries = []struct{ ip, want string }{
	{"8.8.8.8", "US"},         // Google Public DNS
	{"8.8.4.4", "US"},         // Google Public DNS
	{"1.1.1.1", "AU"},         // APNIC research prefix (Cloudflare), registered in Australia
	{"9.9.9.9", "US"},         // Quad9
	{"208.67.222.222", "US"},  // OpenDNS
	{"77.88.8.8", "RU"},       // Yandex DNS
	{"114.114.114.114", "CN"}, // 114DNS
	{"223.5.5.5", "CN"},       // AliDNS
	{"193.0.6.139", "NL"},     // RIPE NCC
	{"202.12.29.205", "AU"},   // APNIC
	{"200.3.14.10", "UY"},     // LACNIC
	{"133.1.1.1", "JP"},       // a Japanese university block
	{"130.149.1.1", "DE"},     // TU Berlin
	{"163.1.1.1", "GB"},       // University of Oxford
	{"129.132.1.1", "CH"},     // ETH Zürich
	{"2001:4860:4860::8888", "US"},
	{"2606:4700:4700::1111", "US"},
	{"2001:67c:2e8:22::c100:68b", "NL"}, // RIPE NCC
	{"2001:dc0:2001:11::194", "AU"},     // APNIC
	{"2400:3200::1", "CN"},              // AliDNS
	{"2a02:6b8::feed:ff", "RU"},         // Yandex
	{"2002:808:808::1", "US"},           // 6to4 for 8.8.8.8
}

func TestCountry(t *testing.T) {
	for _, tt := range knownCountries {
		ip := netip.MustParseAddr(tt.ip)
		if got := Country(ip); got != tt.want {
			t.Errorf("Country(%s) = %q, want %q", ip, got, tt.want)
		}
		if ip.Is4() {
			mapped := netip.AddrFrom16(ip.As16())
			if got := Country(mapped); got != tt.want {
				t.Errorf("Country(%s) = %q, want %q as for %s", mapped, got, tt.want, ip)
			}
		}
	}
}

func TestCountryNotPublic(t *testing.T) {
	for _, s := range []string{
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "169.254.1.1",
		"100.64.0.1", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.1",
		"224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
		"::", "::1", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1", "ff02::1",
		"2001:db8::1", "2001:2::1", "2001:10::1", "2001::1", "64:ff9b::808:808", "100::1",
		"::ffff:10.0.0.1", "::ffff:127.0.0.1", "2002:a00:1::1",
	} {
		ip := netip.MustParseAddr(s)
		if got := Country(ip); got != "" {
			t.Errorf("Country(%s) = %q, want \"\"", ip, got)
		}
	}
	if got := Country(netip.Addr{}); got != "" {
		t.Errorf("Country(zero Addr) = %q, want \"\"", got)
	}
}

func TestCountryDoesNotAllocate(t *testing.T) {
	v4, v6 := netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2001:67c:2e8:22::c100:68b")
	if n := testing.AllocsPerRun(100, func() { Country(v4); Country(v6) }); n != 0 {
		t.Errorf("Country allocates %v times per call, want 0", n)
	}
}

func TestCountryTables(t *testing.T) {
	if size := len(countryV4) + len(countryV6); size > 2<<20 {
		t.Errorf("embedded tables take %d bytes, want under 2 MiB", size)
	}
	for name, tb := range map[string]*table{"v4": tableV4, "v6": tableV6} {
		if len(tb.codes)%2 != 0 {
			t.Fatalf("%s: odd code list", name)
		}
		for i := 0; i < len(tb.codes); i += 2 {
			if c := tb.codes[i : i+2]; c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
				t.Errorf("%s: bad code %q", name, c)
			}
		}
		for i := 1; i < tb.n; i++ {
			if tb.key(i) <= tb.key(i-1) {
				t.Fatalf("%s: keys not ascending at %d", name, i)
			}
			if tb.index[i] == tb.index[i-1] {
				t.Fatalf("%s: neighbours %d and %d of one country not merged", name, i-1, i)
			}
		}
		for i := 0; i < tb.n; i++ {
			if 2*int(tb.index[i]) > len(tb.codes) {
				t.Fatalf("%s: index %d out of range", name, tb.index[i])
			}
		}
		t.Logf("%s: %d ranges, %d countries", name, tb.n, len(tb.codes)/2)
	}
}

// TestCountryMatchesSource compares the table with the source CSV files
// when TACT_IPDB names the npm package's folder (as for go generate). Rows
// that cover whole /24 (IPv4) or /48 (IPv6) prefixes must mostly agree; the
// rest is lost to overlaps that the generator resolved and to granularity.
func TestCountryMatchesSource(t *testing.T) {
	dir := os.Getenv("TACT_IPDB")
	if dir == "" {
		t.Skip("TACT_IPDB not set: no source data to compare with")
	}
	for _, name := range []string{"geo-whois-asn-country-ipv4.csv", "geo-whois-asn-country-ipv6.csv"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var rows, agree int
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Split(sc.Text(), ",")
			lo, hi := netip.MustParseAddr(fields[0]), netip.MustParseAddr(fields[1])
			bits := 24
			if lo.Is6() {
				bits = 48
			}
			// Only rows that start a prefix and cover it whole.
			if p := netip.PrefixFrom(lo, bits).Masked(); p.Addr() != lo || hi.Less(lastOf(p)) {
				continue
			}
			if fields[2] == "AN" {
				continue
			}
			rows++
			if Country(lo) == fields[2] {
				agree++
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		rate := float64(agree) / float64(rows)
		t.Logf("%s: %d of %d whole-prefix rows agree (%.3f%%)", name, agree, rows, 100*rate)
		if rate < 0.99 {
			t.Errorf("%s: only %.3f%% agree", name, 100*rate)
		}
	}
}

// lastOf is the last address of p.
func lastOf(p netip.Prefix) netip.Addr {
	if p.Addr().Is4() {
		b := p.Addr().As4()
		for i := p.Bits(); i < 32; i++ {
			b[i/8] |= 1 << (7 - i%8)
		}
		return netip.AddrFrom4(b)
	}
	b := p.Addr().As16()
	for i := p.Bits(); i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	return netip.AddrFrom16(b)
}
