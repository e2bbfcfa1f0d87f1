package mail_test

import (
	"bytes"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tact-cdp/tact/internal/mail"
)

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"smtp://mail.example.com",
		"smtps://user:p%40ss@mail.example.com:465?from=shop@example.com",
		"smtp://shop@example.com:se:cret@[::1]:2525/",
		"smtp://u:p@127.0.0.1:25?from=Shop+%3Cshop%40example.com%3E",
		"SMTP://a%00b@h",
		"smtp://h?from=%E5%BC%A0%E4%B8%89+%3Cz%40example.com%3E",
		"smtp://[::ffff:1.2.3.4]:1",
		"smtp://u:p/x@h",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := mail.ParseURL(raw)
		if err != nil {
			return
		}
		again, err := mail.ParseURL(c.URL())
		if err != nil {
			t.Fatalf("ParseURL(%q) = %#v, but its URL %q does not parse: %v", raw, c, c.URL(), err)
		}
		if diff := cmp.Diff(c, again); diff != "" {
			t.Fatalf("ParseURL(%q), URL %q (-first +second):\n%s", raw, c.URL(), diff)
		}
		if _, err := mail.ParseURL(c.Redacted()); err != nil {
			t.Fatalf("Redacted %q does not parse: %v", c.Redacted(), err)
		}
	})
}

func FuzzMessageBytes(f *testing.F) {
	f.Add("Shop <shop@example.com>", "jane@example.org", "Your code", "List-Unsubscribe", "<https://x.example/u>", "Hi")
	f.Add("张三 <z@example.com>", `"Doe, Jane" <j@example.org>`, "您的验证码是 123456", "X-A", "Frühling", "你好\n")
	f.Add("s@example.com", "j@example.org", " =?utf-8?q?x?= ", "X-B", "  a  b  ", "")
	f.Add("s@example.com", "j@example.org", "a\r\nBcc: x@y", "X-C\nBcc", "v\r\n", "t")
	f.Add("s@example.com", "j@example.org", strings.Repeat("word ", 17), "X-D", strings.Repeat("é", 30), "t")
	f.Fuzz(func(t *testing.T, from, to, subject, name, value, text string) {
		m := mail.Message{From: from, To: to, Subject: subject, Text: text}
		if name != "" {
			m.Headers = []mail.Header{{name, value}}
		}
		b, err := m.Bytes(now)
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(b), "\r\n") {
			if strings.ContainsAny(line, "\r\n") || len(line) > 998 {
				t.Fatalf("bad line %q in\n%s", line, b)
			}
		}
		msg, err := netmail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("ReadMessage: %v\n%s", err, b)
		}
		got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || got != subject {
			t.Fatalf("Subject %q came back as %q (%v)\n%s", subject, got, err, b)
		}
		for field, in := range map[string]string{"From": from, "To": to} {
			want, _ := netmail.ParseAddress(in)
			list, err := msg.Header.AddressList(field)
			if err != nil || len(list) != 1 || *list[0] != *want {
				t.Fatalf("%s %q came back as %q: %v, %v\n%s", field, in, msg.Header.Get(field), list, err, b)
			}
		}
		if name != "" {
			v, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get(name))
			raw := msg.Header.Get(name)
			want := strings.Trim(value, " \t")
			if err != nil || v != want && raw != want {
				t.Fatalf("%s %q came back as %q (%v)\n%s", name, want, raw, err, b)
			}
		}
	})
}
