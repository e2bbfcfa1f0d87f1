package mail_test

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tact-cdp/tact/internal/mail"
)

var now = time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("CET", 3600))

func base() mail.Message {
	return mail.Message{
		From:    "Shop <shop@example.com>",
		To:      "jane@example.org",
		Subject: "Your code",
		Text:    "Your code is 123456.",
	}
}

// read parses b as net/mail does and checks the line discipline every
// message must keep.
func read(t *testing.T, b []byte) *netmail.Message {
	t.Helper()
	for i, line := range strings.Split(string(b), "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 998 {
			t.Fatalf("line %d is %d characters long", i+1, len(line))
		}
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, b)
	}
	return msg
}

func decodeSubject(t *testing.T, h netmail.Header) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject %q: %v", h.Get("Subject"), err)
	}
	return s
}

func TestBytesPlainText(t *testing.T) {
	m := base()
	m.Text = "Hallo Jörg,\n\ndein Code ist 123456.\n" + strings.Repeat("long line ", 20)
	b, err := m.Bytes(now)
	if err != nil {
		t.Fatal(err)
	}
	msg := read(t, b)

	for field, want := range map[string]string{
		"Date":                      "Sat, 14 Mar 2026 15:09:26 +0100",
		"From":                      `"Shop" <shop@example.com>`,
		"To":                        "<jane@example.org>",
		"Subject":                   "Your code",
		"Mime-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
	} {
		if got := msg.Header.Get(field); got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	if id := msg.Header.Get("Message-Id"); !regexp.MustCompile(`^<[A-Z2-7]{26}@example\.com>$`).MatchString(id) {
		t.Errorf("Message-ID = %q, want a random id at example.com", id)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(m.Text, "\n", "\r\n") + "\r\n"
	if diff := cmp.Diff(want, string(body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestBytesMessageID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc.123@mail.example.com", "<abc.123@mail.example.com>"},
		{"<abc@example.com>", "<abc@example.com>"},
	} {
		m := base()
		m.MessageID = tc.in
		b, err := m.Bytes(now)
		if err != nil {
			t.Fatal(err)
		}
		if got := read(t, b).Header.Get("Message-Id"); got != tc.want {
			t.Errorf("MessageID %q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	b1, _ := base().Bytes(now)
	b2, _ := base().Bytes(now)
	if id1, id2 := read(t, b1).Header.Get("Message-Id"), read(t, b2).Header.Get("Message-Id"); id1 == id2 {
		t.Errorf("two messages share the Message-ID %q", id1)
	}
}

func TestBytesSubjectRoundTrip(t *testing.T) {
	for _, subject := range []string{
		"",
		"Your code",
		"您的验证码是 123456",
		"请确认您的订阅：我们每周发送一次新闻简报，您可以随时取消订阅。感谢您对我们商店的支持与信任！",
		"Grüße aus Köln — bitte bestätigen",
		"Emoji 🎉 party",
		strings.Repeat("A long subject that has to be folded ", 6),
		" leading and trailing space ",
		"two  spaces and\ta tab",
		"looks like =?utf-8?q?an_encoded_word?= but is not",
		strings.Repeat("x", 200),
		"x" + strings.Repeat(" ", 100) + "y",
	} {
		m := base()
		m.Subject = subject
		b, err := m.Bytes(now)
		if err != nil {
			t.Errorf("Subject %q: %v", subject, err)
			continue
		}
		if got := decodeSubject(t, read(t, b).Header); got != subject {
			t.Errorf("Subject %q came back as %q", subject, got)
		}
	}
}

func TestBytesFoldsLongHeaders(t *testing.T) {
	m := base()
	m.Subject = strings.Repeat("A long subject that has to be folded ", 6) + "end"
	b, err := m.Bytes(now)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(b), "\r\n\r\n")
	if !strings.Contains(head, "to be\r\n folded") {
		t.Errorf("long subject not folded:\n%s", head)
	}
	for _, line := range strings.Split(head, "\r\n") {
		if len(line) > 78 {
			t.Errorf("line longer than 78: %q", line)
		}
	}
}

func TestBytesDisplayNames(t *testing.T) {
	m := base()
	m.From = "张三的小店 <shop@example.com>"
	m.To = `"Doe, Jane" <jane@example.org>`
	b, err := m.Bytes(now)
	if err != nil {
		t.Fatal(err)
	}
	h := read(t, b).Header
	for field, want := range map[string]netmail.Address{
		"From": {Name: "张三的小店", Address: "shop@example.com"},
		"To":   {Name: "Doe, Jane", Address: "jane@example.org"},
	} {
		got, err := h.AddressList(field)
		if err != nil {
			t.Fatalf("%s %q: %v", field, h.Get(field), err)
		}
		if diff := cmp.Diff([]*netmail.Address{&want}, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", field, diff)
		}
	}
	if strings.Contains(string(b), "张三") {
		t.Error("display name sent as raw UTF-8, want RFC 2047")
	}
}

func TestBytesHTMLAlternative(t *testing.T) {
	m := base()
	m.Text = "Bitte bestätigen: https://shop.example/c/abc"
	m.HTML = `<p>Bitte <a href="https://shop.example/c/abc">bestätigen</a></p>`
	b, err := m.Bytes(now)
	if err != nil {
		t.Fatal(err)
	}
	msg := read(t, b)
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var got []string
	for {
		p, err := mr.NextPart() // undoes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Header.Get("Content-Type")+"\n"+string(body))
	}
	want := []string{
		"text/plain; charset=utf-8\n" + m.Text + "\r\n",
		"text/html; charset=utf-8\n" + m.HTML + "\r\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
}

func TestBytesExtraHeaders(t *testing.T) {
	m := base()
	m.Headers = []mail.Header{
		{"List-Unsubscribe", "<https://shop.example/u/abc?x=1>, <mailto:unsubscribe@shop.example?subject=abc>"},
		{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
		{"X-Campaign", "  Frühling 2026 "},
	}
	b, err := m.Bytes(now)
	if err != nil {
		t.Fatal(err)
	}
	h := read(t, b).Header
	if got, want := h.Get("List-Unsubscribe"), m.Headers[0].Value; got != want {
		t.Errorf("List-Unsubscribe = %q, want %q", got, want)
	}
	if got, want := h.Get("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click"; got != want {
		t.Errorf("List-Unsubscribe-Post = %q, want %q", got, want)
	}
	if got, err := new(mime.WordDecoder).DecodeHeader(h.Get("X-Campaign")); err != nil || got != "Frühling 2026" {
		t.Errorf("X-Campaign = %q (%v), want %q", got, err, "Frühling 2026")
	}
}

func TestBytesRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*mail.Message)
		want string
	}{
		{"no from", func(m *mail.Message) { m.From = "" }, "From is required"},
		{"no to", func(m *mail.Message) { m.To = "" }, "To is required"},
		{"no text", func(m *mail.Message) { m.Text = "" }, "Text is required"},
		{"from CR", func(m *mail.Message) { m.From = "shop@example.com\rBcc: x@evil.example" }, "From contains a line break"},
		{"from LF in name", func(m *mail.Message) { m.From = "Shop\n <shop@example.com>" }, "From contains a line break"},
		{"to CRLF", func(m *mail.Message) { m.To = "jane@example.org\r\nBcc: x@evil.example" }, "To contains a line break"},
		{"subject LF", func(m *mail.Message) { m.Subject = "Hi\nBcc: x@evil.example" }, "Subject contains a line break"},
		{"subject CR", func(m *mail.Message) { m.Subject = "Hi\rthere" }, "Subject contains a line break"},
		{"subject NUL", func(m *mail.Message) { m.Subject = "Hi\x00" }, "Subject contains control character U+0000"},
		{"subject bad UTF-8", func(m *mail.Message) { m.Subject = "Hi \xff" }, "Subject is not valid UTF-8"},
		{"header name LF", func(m *mail.Message) { m.Headers = []mail.Header{{"X-A\nBcc", "x"}} }, "contains a line break"},
		{"header value CRLF", func(m *mail.Message) {
			m.Headers = []mail.Header{{"X-A", "x\r\nBcc: x@evil.example"}}
		}, "header X-A value contains a line break"},
		{"header value lone CR", func(m *mail.Message) { m.Headers = []mail.Header{{"X-A", "x\ry"}} }, "contains a line break"},
		{"header name colon", func(m *mail.Message) { m.Headers = []mail.Header{{"X-A:", "x"}} }, "is not a token"},
		{"header name space", func(m *mail.Message) { m.Headers = []mail.Header{{"X A", "x"}} }, "is not a token"},
		{"header name empty", func(m *mail.Message) { m.Headers = []mail.Header{{"", "x"}} }, "header name is empty"},
		{"header name non-ASCII", func(m *mail.Message) { m.Headers = []mail.Header{{"X-Ä", "x"}} }, "is not a token"},
		{"reserved subject", func(m *mail.Message) { m.Headers = []mail.Header{{"subject", "x"}} }, "set by Message itself"},
		{"reserved bcc", func(m *mail.Message) { m.Headers = []mail.Header{{"BCC", "x@evil.example"}} }, "set by Message itself"},
		{"reserved content type", func(m *mail.Message) { m.Headers = []mail.Header{{"Content-Type", "text/html"}} }, "set by Message itself"},
		{"two recipients", func(m *mail.Message) { m.To = "a@example.org, b@example.org" }, "To is not one valid address"},
		{"bad from", func(m *mail.Message) { m.From = "shop" }, "From is not one valid address"},
		{"non-ASCII address", func(m *mail.Message) { m.To = "jörg@example.org" }, "To address must be ASCII"},
		{"text bad UTF-8", func(m *mail.Message) { m.Text = "\xc3" }, "Text is not valid UTF-8"},
		{"html bad UTF-8", func(m *mail.Message) { m.HTML = "\xc3" }, "HTML is not valid UTF-8"},
		{"message id space", func(m *mail.Message) { m.MessageID = "a b@example.com" }, "MessageID"},
		{"message id no domain", func(m *mail.Message) { m.MessageID = "abc" }, "MessageID"},
		{"message id CRLF", func(m *mail.Message) { m.MessageID = "a@b\r\nBcc: x" }, "MessageID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.edit(&m)
			b, err := m.Bytes(now)
			if err == nil {
				t.Fatalf("no error; message:\n%s", b)
			}
			if !errors.Is(err, mail.ErrInvalidMessage) {
				t.Errorf("error %q does not wrap ErrInvalidMessage", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// The recipient is personal data: errors must not carry it into logs.
func TestBytesErrorsOmitRecipient(t *testing.T) {
	for _, to := range []string{"jane.doe.private", "Jane Private <jane@>", "jane.private@example.org, x@y.z"} {
		m := base()
		m.To = to
		_, err := m.Bytes(now)
		if err == nil {
			t.Fatalf("To %q: no error", to)
		}
		if strings.Contains(err.Error(), "private") {
			t.Errorf("error %q contains the recipient", err)
		}
	}
}

func BenchmarkMessageBytes(b *testing.B) {
	m := base()
	m.Subject = "您的验证码是 123456"
	m.HTML = "<p>" + strings.Repeat("Ihr Code lautet 123456. ", 40) + "</p>"
	m.Text = strings.Repeat("Ihr Code lautet 123456. ", 40)
	m.Headers = []mail.Header{{"List-Unsubscribe", "<https://shop.example/u/abc>"}}
	for b.Loop() {
		if _, err := m.Bytes(now); err != nil {
			b.Fatal(err)
		}
	}
}
