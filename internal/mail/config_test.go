package mail_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tact-cdp/tact/internal/mail"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want mail.Config
	}{
		{"smtp://mail.example.com", mail.Config{Host: "mail.example.com", Port: 587}},
		{"smtps://mail.example.com", mail.Config{Host: "mail.example.com", Port: 465, ImplicitTLS: true}},
		{"SMTP://Mail.Example.com:25/", mail.Config{Host: "Mail.Example.com", Port: 25}},
		{"  smtp://127.0.0.1:2525\n", mail.Config{Host: "127.0.0.1", Port: 2525}},
		{"smtp://[::1]:2525", mail.Config{Host: "::1", Port: 2525}},
		{"smtps://[2001:db8::1]", mail.Config{Host: "2001:db8::1", Port: 465, ImplicitTLS: true}},
		{"smtp://user:pa%2Fss%40word@mail.example.com:587", mail.Config{
			Host: "mail.example.com", Port: 587, Username: "user", Password: "pa/ss@word"}},
		{"smtp://shop%40example.com:p+w:x@mail.example.com", mail.Config{
			Host: "mail.example.com", Port: 587, Username: "shop@example.com", Password: "p+w:x"}},
		// Unencoded '@' in the user name, as people write it: the last '@' ends
		// the user information.
		{"smtp://shop@example.com:secret@mail.example.com", mail.Config{
			Host: "mail.example.com", Port: 587, Username: "shop@example.com", Password: "secret"}},
		{"smtp://apikey@mail.example.com", mail.Config{Host: "mail.example.com", Port: 587, Username: "apikey"}},
		{"smtp://@mail.example.com", mail.Config{Host: "mail.example.com", Port: 587}},
		{"smtp://u:@mail.example.com", mail.Config{Host: "mail.example.com", Port: 587, Username: "u"}},
		{"smtp://mail.example.com?from=shop@example.com", mail.Config{
			Host: "mail.example.com", Port: 587, From: "shop@example.com"}},
		{"smtps://u:p@mail.example.com:4650/?from=Shop+%3Cshop%40example.com%3E", mail.Config{
			Host: "mail.example.com", Port: 4650, Username: "u", Password: "p", ImplicitTLS: true,
			From: "Shop <shop@example.com>"}},
		{"smtp://mail.example.com:0587", mail.Config{Host: "mail.example.com", Port: 587}},
	} {
		got, err := mail.ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseURL(%q) (-want +got):\n%s", tc.in, diff)
		}
		again, err := mail.ParseURL(got.URL())
		if err != nil {
			t.Errorf("ParseURL(%q): %v", got.URL(), err)
		} else if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("ParseURL(URL()) of %q (-first +second):\n%s", tc.in, diff)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	const secret = "Hunter2Secret"
	for _, tc := range []struct{ in, want string }{
		{"", "must start with smtp:// or smtps://"},
		{"mail.example.com:587", "must start with smtp:// or smtps://"},
		{"user:" + secret + "@mail.example.com", "must start with smtp:// or smtps://"},
		{"smtp:mail.example.com", "must start with smtp:// or smtps://"},
		{"http://mail.example.com", `scheme "http" is not supported`},
		{"smtp+tls://mail.example.com", `scheme "smtp+tls" is not supported`},
		{"smtp://", "missing host"},
		{"smtp://user:" + secret + "@", "missing host"},
		{"smtp://:587", "missing host"},
		{"smtp://mail.example.com:", "missing port"},
		{"smtp://mail.example.com:smtp", "port must be a number from 1 to 65535"},
		{"smtp://mail.example.com:0", "port must be a number from 1 to 65535"},
		{"smtp://mail.example.com:65536", "port must be a number from 1 to 65535"},
		{"smtp://mail.example.com:+25", "port must be a number from 1 to 65535"},
		{"smtp://mail.example.com:99999999999999999999", "port must be a number from 1 to 65535"},
		{"smtp://::1:25", "IPv6 host must be in brackets"},
		{"smtp://[::1", "missing ']'"},
		{"smtp://[::1]x", "unexpected characters after the IPv6 address"},
		{"smtp://[127.0.0.1]:25", "not an IPv6 address"},
		{"smtp://[fe80::1%25eth0]:25", "not an IPv6 address"},
		{"smtp://mail example.com", "not a valid host name"},
		{"smtp://mail%2Eexample.com", "not a valid host name"},
		{"smtp://mail.example.com/relay", "a path is not allowed"},
		{"smtp://mail.example.com#x", "fragment"},
		{"smtp://mail.example.com?form=shop@example.com", "unknown query parameter (only from is supported)"},
		{"smtp://mail.example.com?from=a@example.com&from=b@example.com", "more than once"},
		{"smtp://mail.example.com?from=", "from is empty"},
		{"smtp://mail.example.com?from=shop", "from is not one valid address"},
		{"smtp://mail.example.com?from=%zz", "bad query"},
		{"smtp://:" + secret + "@mail.example.com", "password without a user name"},
		{"smtp://user:" + secret + "%zz@mail.example.com", "bad percent-encoding in the password"},
		{"smtp://us%zzer:" + secret + "@mail.example.com", "bad percent-encoding in the user name"},
		{"smtp://user:" + secret + "%0A@mail.example.com", "password contains a control character"},
		// Unencoded '/', '?' or '#' in the password end the host early.
		{"smtp://user:" + secret + "/x@mail.example.com", "percent-encode them"},
		{"smtp://user:" + secret + "?x@mail.example.com", "percent-encode them"},
		{"smtp://user:" + secret + "#x@mail.example.com", "percent-encode them"},
		{"smtp://user:x?" + secret + "@mail.example.com", "percent-encode them"},
		{"smtp://user:x?" + secret + "%zz@mail.example.com", "percent-encode them"},
		{"smtp://mail.example.com/?from=user:" + secret + "@x", "percent-encode them"},
		{"smtp://user:" + secret + "/x", "port must be a number"},
		{"smtp://user:" + secret + "#", "port must be a number"},
	} {
		_, err := mail.ParseURL(tc.in)
		if err == nil {
			t.Errorf("ParseURL(%q): no error, want %q", tc.in, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseURL(%q) = %q, want it to contain %q", tc.in, err, tc.want)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseURL(%q) = %q: error shows the password", tc.in, err)
		}
	}
}

func TestConfigNeverShowsPassword(t *testing.T) {
	const secret = "Hunter2Secret"
	c, err := mail.ParseURL("smtp://shop:" + secret + "@mail.example.com?from=shop@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.URL(), secret) {
		t.Errorf("URL() = %q, want the password in it", c.URL())
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("mail", "smtp", c)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("mail", "smtp", c)
	shown := map[string]string{
		"Redacted": c.Redacted(),
		"String":   c.String(),
		"%v":       fmt.Sprintf("%v", c),
		"%+v":      fmt.Sprintf("%+v", c),
		"%#v":      fmt.Sprintf("%#v", c),
		"%s":       fmt.Sprintf("%s", c),
		"pointer":  fmt.Sprintf("%v", &c),
		"slog":     text.String(),
		"slogJSON": js.String(),
	}
	for how, s := range shown {
		if strings.Contains(s, secret) {
			t.Errorf("%s shows the password: %s", how, s)
		}
	}
	if want := "smtp://shop:xxxxx@mail.example.com:587?from=shop%40example.com"; c.Redacted() != want {
		t.Errorf("Redacted() = %q, want %q", c.Redacted(), want)
	}
}
