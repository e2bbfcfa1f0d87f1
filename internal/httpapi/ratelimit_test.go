package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name, peer, xff, want string
	}{
		{"no proxy", "203.0.113.7:5000", "", "203.0.113.7"},
		{"untrusted peer's header is ignored", "203.0.113.7:5000", "198.51.100.1", "203.0.113.7"},
		{"trusted proxy", "10.1.2.3:443", "198.51.100.1", "198.51.100.1"},
		{"chain through trusted proxies", "10.1.2.3:443", "198.51.100.9, 198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"spoofed left-most entry is not believed", "10.1.2.3:443", "1.2.3.4, 198.51.100.1", "198.51.100.1"},
		{"malformed hop stops the walk", "10.1.2.3:443", "198.51.100.1, garbage", "10.1.2.3"},
		{"all hops trusted", "10.1.2.3:443", "10.4.4.4", "10.4.4.4"},
		{"IPv6 trusted peer", "[::1]:443", "2001:db8::5", "2001:db8::5"},
		{"IPv4-mapped", "[::ffff:203.0.113.7]:1", "", "203.0.113.7"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/v1/consent", nil)
		r.RemoteAddr = tt.peer
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := clientIP(r, trusted).String(); got != tt.want {
			t.Errorf("%s: clientIP = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// FuzzClientIP: never panics, and the answer is the peer or an address
// written in X-Forwarded-For.
func FuzzClientIP(f *testing.F) {
	f.Add("10.1.2.3:443", "198.51.100.1, 10.9.9.9")
	f.Add("[::1]:1", "garbage,,2001:db8::1")
	f.Add("203.0.113.7:5000", "")
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, peer, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Forwarded-For", xff)
		got := clientIP(r, trusted)
		if !got.IsValid() {
			return
		}
		if got == parseAddr(peer) {
			return
		}
		for _, hop := range strings.Split(xff, ",") {
			if parseAddr(strings.TrimSpace(hop)) == got {
				return
			}
		}
		t.Fatalf("clientIP(%q, %q) = %s, neither the peer nor a forwarded address", peer, xff, got)
	})
}
