package minimize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzTemplatePath(f *testing.F) {
	for _, s := range []string{
		"/products/12345/reviews", "/collections/mens-shoes?color=red#x", "/u/jane%40example.com",
		"/a/./b/../c", "/x%20%2012345", "/bad%zz", "/%2E%2E/%2F", "/cart;jsessionid=ABC",
		"/orders/550e8400-e29b-41d4-a716-446655440000", "/\xff", "/" + strings.Repeat("a/", 40),
		"/produits/chaussures-%C3%A9t%C3%A9", "/s/Xy7_kQ2-pL9mN3vB", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := TemplatePath(in)
		if again := TemplatePath(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", in, got, again)
		}
		if !strings.HasPrefix(got, "/") || len(got) > maxPathLen || strings.Count(got, "/") > maxPathSegments {
			t.Fatalf("bad shape: %q → %q", in, got)
		}
		if strings.IndexByte(got, '@') >= 0 || longestDigitRun(got) >= 7 {
			t.Fatalf("identifier kept: %q → %q", in, got)
		}
		if strings.ContainsAny(got, "?#;") || !utf8.ValidString(got) {
			t.Fatalf("query, fragment, parameter or invalid UTF-8 kept: %q → %q", in, got)
		}
	})
}

func FuzzCampaign(f *testing.F) {
	f.Add("google", "cpc", "spring_sale_2024", "jane@example.com", "Xy7_kQ2-pL9mN3vB", "utm_source")
	f.Add("  news\x00letter ", "+44 20 7946 0958", strings.Repeat("é", 60), "2024-05-12", "\xff\xfe", "name")
	f.Fuzz(func(t *testing.T, a, b, c, d, e, extraKey string) {
		in := map[string]string{
			"utm_source": a, "utm_medium": b, "name": c, "utm_term": d, "content": e, extraKey: a + b,
		}
		out := Campaign(in)
		for k, v := range out {
			if !strings.HasPrefix(k, "utm_") {
				t.Fatalf("key %q kept", k)
			}
			if LooksLikeIdentifier(v) {
				t.Fatalf("%s=%q looks like an identifier and was kept", k, v)
			}
			if v == "" || len(v) > maxCampaignValue || !utf8.ValidString(v) || strings.TrimSpace(v) != v {
				t.Fatalf("%s=%q: bad value", k, v)
			}
		}
	})
}

func FuzzParseUserAgent(f *testing.F) {
	for _, s := range []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"curl/8.5.0", "", "\xff", strings.Repeat("Mozilla/5.0 ", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		d := ParseUserAgent(ua)
		switch d.Class {
		case ClassDesktop, ClassMobile, ClassTablet, ClassBot, ClassOther:
		default:
			t.Fatalf("class %q", d.Class)
		}
		switch d.Browser {
		case BrowserChrome, BrowserFirefox, BrowserSafari, BrowserEdge, BrowserOpera, BrowserSamsung, Other:
		default:
			t.Fatalf("browser %q", d.Browser)
		}
		switch d.OS {
		case OSWindows, OSMacOS, OSIOS, OSIPadOS, OSAndroid, OSLinux, OSChromeOS, Other:
		default:
			t.Fatalf("OS %q", d.OS)
		}
	})
}
