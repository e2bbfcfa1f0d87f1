package minimize

import (
	"net/netip"
	"testing"
)

func BenchmarkCountry(b *testing.B) {
	ips := []netip.Addr{
		netip.MustParseAddr("8.8.8.8"),
		netip.MustParseAddr("193.0.6.139"),
		netip.MustParseAddr("2001:67c:2e8:22::c100:68b"),
		netip.MustParseAddr("::ffff:77.88.8.8"),
	}
	i := 0
	for b.Loop() {
		Country(ips[i&3])
		i++
	}
}

func BenchmarkParseUserAgent(b *testing.B) {
	uas := []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
		"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	}
	i := 0
	for b.Loop() {
		ParseUserAgent(uas[i&3])
		i++
	}
}

func BenchmarkTemplatePath(b *testing.B) {
	paths := []string{
		"/products/12345/reviews?page=2",
		"/collections/mens-shoes/products/air-runner-2024",
		"/account/orders/550e8400-e29b-41d4-a716-446655440000",
		"/u/jane%40example.com/settings",
	}
	i := 0
	for b.Loop() {
		TemplatePath(paths[i&3])
		i++
	}
}
