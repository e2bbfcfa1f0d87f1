package main

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"
)

// decoded is a table read back: prefix keys and their codes.
type decoded struct {
	keys  []uint64
	codes []string
}

func decode(t *testing.T, b []byte, magic string, width int) decoded {
	t.Helper()
	if string(b[:4]) != magic || int(b[4]) != width {
		t.Fatalf("bad header % x", b[:6])
	}
	k := int(b[5])
	codes := b[6 : 6+2*k]
	off := 6 + 2*k
	n := int(binary.BigEndian.Uint32(b[off:]))
	off += 4
	if len(b) != off+n*width+n {
		t.Fatalf("length %d, want %d", len(b), off+n*width+n)
	}
	var d decoded
	for i := range n {
		var key uint64
		for _, c := range b[off+i*width : off+(i+1)*width] {
			key = key<<8 | uint64(c)
		}
		if i > 0 && key <= d.keys[i-1] {
			t.Fatalf("keys not ascending at %d", i)
		}
		d.keys = append(d.keys, key)
		cc := ""
		if c := int(b[off+n*width+i]); c > 0 {
			cc = string(codes[2*c-2 : 2*c])
		}
		if i > 0 && cc == d.codes[i-1] {
			t.Fatalf("neighbours %d and %d not merged (%q)", i-1, i, cc)
		}
		d.codes = append(d.codes, cc)
	}
	if d.keys[0] != 0 {
		t.Fatalf("first key %d, want 0", d.keys[0])
	}
	return d
}

func (d decoded) lookup(k uint64) string {
	i := len(d.keys) - 1
	for d.keys[i] > k {
		i--
	}
	return d.codes[i]
}

func key4(s string) uint64 {
	b := netip.MustParseAddr(s).As4()
	return uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
}

func key6(s string) uint64 {
	b := netip.MustParseAddr(s).As16()
	return binary.BigEndian.Uint64(b[:8]) >> 16
}

func TestGenerate(t *testing.T) {
	v4, v6, err := readCSV("testdata/sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	b4, b6, err := generate(v4, v6)
	if err != nil {
		t.Fatal(err)
	}
	t4 := decode(t, b4, "TCC4", 3)
	t6 := decode(t, b6, "TCC6", 6)

	tests4 := []struct{ ip, want string }{
		{"0.255.255.255", ""},
		{"1.0.0.1", "AU"},
		{"1.0.2.1", "CN"},
		{"1.0.4.1", ""},
		{"2.58.197.15", "DE"}, // a single-address geofeed entry is finer than /24
		{"5.61.192.1", "SK"},  // the narrowest overlapping row wins
		{"5.61.194.1", "FR"},
		{"9.0.1.1", "US"}, // a hole between two US ranges is US
		{"9.0.3.1", "US"},
		{"9.0.5.1", ""}, // a hole between US and CA stays unknown
		{"9.0.6.1", "CA"},
		{"10.1.0.200", "GB"}, // a /24 takes the country of its first address
		{"11.0.0.1", ""},     // AN names no current country
		{"255.255.255.1", ""},
	}
	for _, tt := range tests4 {
		if got := t4.lookup(key4(tt.ip)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.ip, got, tt.want)
		}
	}
	tests6 := []struct{ ip, want string }{
		{"::1", ""},
		{"2001:200:1::1", "JP"},
		{"2001:678:cb0::1", "NL"},
		{"2001:678:cb0:100::1", "NL"}, // one /48: its first address decides
		{"2c0f:e9a0:2::2a:1", "ZA"},   // a sub-/48 entry disappears
		{"2c0f:e9a0:1000::1", "ZA"},
		{"2c0f:e9a0:1003::1", ""},
		{"ffff:ffff:ffff:1::1", "AQ"},
	}
	for _, tt := range tests6 {
		if got := t6.lookup(key6(tt.ip)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.ip, got, tt.want)
		}
	}

	// Row order does not matter.
	for i := range 5 {
		r := rand.New(rand.NewPCG(uint64(i), 1))
		s4, s6 := append([]row(nil), v4...), append([]row(nil), v6...)
		r.Shuffle(len(s4), func(i, j int) { s4[i], s4[j] = s4[j], s4[i] })
		r.Shuffle(len(s6), func(i, j int) { s6[i], s6[j] = s6[j], s6[i] })
		c4, c6, err := generate(s4, s6)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c4, b4) || !bytes.Equal(c6, b6) {
			t.Fatalf("shuffled rows give other bytes")
		}
	}
}

func TestReadCSVRejectsBadRows(t *testing.T) {
	for _, row := range []string{
		"1.0.0.0,1.0.0.255",
		"1.0.0.0,1.0.0.255,au",
		"1.0.0.9,1.0.0.1,AU",
		"1.0.0.0,::1,AU",
		"x,1.0.0.1,AU",
	} {
		path := t.TempDir() + "/bad.csv"
		if err := writeFile(path, row+"\n"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := readCSV(path); err == nil {
			t.Errorf("%q: no error", row)
		}
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
