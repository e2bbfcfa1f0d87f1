package minimize

import (
	"strings"
	"testing"
)

func TestTemplatePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/products/12345/reviews", "/products/:id/reviews"},
		{"/", "/"},
		{"", "/"},
		{"/collections/mens-shoes", "/collections/mens-shoes"},
		{"/blog/how-to-choose-running-shoes-2024", "/blog/how-to-choose-running-shoes-2024"},
		{"/page/2", "/page/:id"},
		{"/orders/550e8400-e29b-41d4-a716-446655440000", "/orders/:id"},
		{"/orders/550E8400E29B41D4A716446655440000/items", "/orders/:id/items"},
		{"/c/deadbeef", "/c/:id"},
		{"/c/deadbee", "/c/deadbee"}, // 7 hex characters: a word as far as anyone can tell
		{"/u/jane.doe@example.com/settings", "/u/:id/settings"},
		{"/u/jane.doe%40example.com", "/u/:id"},
		{"/u/@jane", "/u/:id"},
		{"/reset/a8Fk2Lm9Qx7Rt1Wz5Yb3", "/reset/:id"},
		{"/s/Xy7_kQ2-pL9mN3vB", "/s/:id"},
		{"/watch/dQw4w9WgXcQ", "/watch/:id"},
		{"/t/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk", "/t/:id"},
		{"/p/abc123def456ghi789", "/p/:id"},
		{"/invoice-123456", "/:id"},
		{"/account/orders/ORD-77812", "/account/orders/:id"},
		{"/products/air-max-90-white", "/products/air-max-90-white"},
		{"/images/hero_1920x1080.webp", "/images/hero_1920x1080.webp"},
		{"/static/js/main.3f2a9c1b.js", "/static/js/:id"},
		{"/call/+44-20-7946-0958", "/call/:id"},
		{"/news/2024-05-12-launch", "/news/2024-05-12-launch"},
		{"/products/iPhone15Pro", "/products/iPhone15Pro"},
		{"/search?q=jane%40example.com", "/search"},
		{"/cart#step-2", "/cart"},
		{"/cart;jsessionid=1A2B3C4D5E6F7A8B", "/cart"},
		{"//double//slashes/", "/double/slashes"},
		{"/a/./b/../c", "/a/c"},
		{"/../../etc", "/etc"},
		{"/a/%2E%2E/b", "/b"},
		{"relative/path", "/relative/path"},
		{"/produits/chaussures-%C3%A9t%C3%A9", "/produits/chaussures-été"},
		{"/produits/chaussures-été", "/produits/chaussures-été"},
		{"/a%2Fb/c", "/a%2Fb/c"},
		{"/with%20space", "/with%20space"},
		{"/bad%zzescape", "/bad%25zzescape"},
		{"/q%3Fx", "/q%3Fx"},
		{"/x%20%2012345", "/:id"},
		{"/x%20%201234", "/x%20%201234"}, // "%201234": an escape and 4 digits never make 7

		{"/\xff\xfe", "/%FF%FE"},
		{"/" + strings.Repeat("x", 101), "/:id"},
		{"/" + strings.Repeat("x", 100), "/" + strings.Repeat("x", 100)},
		{"/:id/reviews", "/:id/reviews"},
		{strings.Repeat("/a", 40), strings.Repeat("/a", 32)},
		{strings.Repeat("/"+strings.Repeat("w", 99), 6), strings.Repeat("/"+strings.Repeat("w", 99), 5)},
	}
	for _, tt := range tests {
		got := TemplatePath(tt.in)
		if got != tt.want {
			t.Errorf("TemplatePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := TemplatePath(got); again != got {
			t.Errorf("TemplatePath not idempotent on %q: %q → %q", tt.in, got, again)
		}
	}
}

func TestPathFromURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://shop.example/products/12345/reviews?utm_source=x#top", "/products/:id/reviews"},
		{"https://shop.example", "/"},
		{"https://shop.example/", "/"},
		{"/account/orders/98765", "/account/orders/:id"},
		{"https://shop.example/users/jane%40example.com", "/users/:id"},
		{"  https://shop.example/collections/mens-shoes  ", "/collections/mens-shoes"},
		{"", ""},
		{"mailto:jane@example.com", ""},
		{"https://shop.example/%zz", ""},
		{"http://[::1", ""},
	}
	for _, tt := range tests {
		if got := PathFromURL(tt.in); got != tt.want {
			t.Errorf("PathFromURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReferrerHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://www.Google.com/search?q=shoes", "www.google.com"},
		{"https://user:secret@news.example.org:8443/a/b", "news.example.org"},
		{"http://example.com./", "example.com"},
		{"android-app://com.google.android.gm/", "com.google.android.gm"},
		{"https://bücher.example/", "bücher.example"},
		{"https://xn--bcher-kva.example/", "xn--bcher-kva.example"},
		{"https://192.168.1.20/admin", ""},
		{"http://[2001:db8::1]:8080/", ""},
		{"example.com/path", ""},
		{"/relative", ""},
		{"", ""},
		{"not a url at all", ""},
		{"http://[::1", ""},
		{"https://exa mple.com/", ""},
	}
	for _, tt := range tests {
		if got := ReferrerHost(tt.in); got != tt.want {
			t.Errorf("ReferrerHost(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTemplatePathAllocatesOnlyItsResult(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { TemplatePath("/products/12345/reviews?page=2") }); n > 1 {
		t.Errorf("TemplatePath allocates %v times per call, want at most 1", n)
	}
}
