package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// Header is one extra header field of a Message, such as
// List-Unsubscribe (RFC 8058).
type Header struct {
	Name, Value string
}

// Message is one mail to one recipient. Text is required; when HTML is set
// too, both are sent as multipart/alternative. Bodies are UTF-8 and go out
// quoted-printable with CRLF line breaks and a final line break.
type Message struct {
	// From is the author, with or without a display name:
	// "Shop <shop@example.com>". SMTP.Send fills it from Config.From when
	// empty.
	From string
	// To is exactly one recipient address, display name allowed.
	To      string
	Subject string
	Text    string
	HTML    string
	// Headers follow the standard fields, in order. A name must be an
	// RFC 7230 token and must not be one Message sets itself; surrounding
	// white space of a value is dropped and a non-ASCII value is sent as
	// RFC 2047 encoded words, which suits unstructured fields only.
	Headers []Header
	// MessageID is "id@domain", angle brackets optional. When empty a
	// random one in the domain of From is made.
	MessageID string
}

// reserved are the fields Bytes writes itself, in canonical form; Cc and
// Bcc are refused because the envelope only ever holds To.
var reserved = map[string]bool{
	"Date": true, "From": true, "To": true, "Cc": true, "Bcc": true,
	"Subject": true, "Message-Id": true, "Mime-Version": true,
	"Content-Type": true, "Content-Transfer-Encoding": true,
}

// envelope is what SMTP needs besides the bytes: the bare addresses.
type envelope struct{ from, to string }

// Bytes renders m as an RFC 5322 message with CRLF line endings, dated now.
// It checks every field first; an error wraps ErrInvalidMessage.
func (m Message) Bytes(now time.Time) ([]byte, error) {
	b, _, err := m.build(now)
	return b, err
}

func (m Message) build(now time.Time) ([]byte, envelope, error) {
	from, err := checkAddress("From", m.From)
	if err != nil {
		return nil, envelope{}, invalid("%v", err)
	}
	to, err := checkAddress("To", m.To)
	if err != nil {
		return nil, envelope{}, invalid("%v", err)
	}
	subject, err := encodeSubject(m.Subject)
	if err != nil {
		return nil, envelope{}, err
	}
	if m.Text == "" {
		return nil, envelope{}, invalid("Text is required")
	}
	if !utf8.ValidString(m.Text) {
		return nil, envelope{}, invalid("Text is not valid UTF-8")
	}
	if !utf8.ValidString(m.HTML) {
		return nil, envelope{}, invalid("HTML is not valid UTF-8")
	}
	id, err := messageID(m.MessageID, from.Address)
	if err != nil {
		return nil, envelope{}, err
	}
	extra, err := checkHeaders(m.Headers)
	if err != nil {
		return nil, envelope{}, err
	}

	body, contentType, err := renderBody(m.Text, m.HTML)
	if err != nil {
		return nil, envelope{}, err
	}
	var h headerWriter
	h.add("Date", now.Format(time.RFC1123Z))
	h.add("From", from.String())
	h.add("To", to.String())
	h.add("Subject", subject)
	h.add("Message-ID", id)
	for _, x := range extra {
		h.add(x.Name, x.Value)
	}
	h.add("MIME-Version", "1.0")
	h.add("Content-Type", contentType)
	if m.HTML == "" {
		h.add("Content-Transfer-Encoding", "quoted-printable")
	}
	if h.err != nil {
		return nil, envelope{}, h.err
	}
	h.buf.WriteString("\r\n")
	h.buf.Write(body)
	return h.buf.Bytes(), envelope{from.Address, to.Address}, nil
}

// renderBody returns the body and its Content-Type: text alone as one
// quoted-printable part (the caller adds the transfer encoding), or text
// and HTML as multipart/alternative, plainest first as RFC 2046 asks.
func renderBody(text, html string) ([]byte, string, error) {
	var body bytes.Buffer
	if html == "" {
		writeQP(&body, text)
		return body.Bytes(), "text/plain; charset=utf-8", nil
	}
	mw := multipart.NewWriter(&body)
	for _, p := range []struct{ typ, content string }{
		{"text/plain; charset=utf-8", text},
		{"text/html; charset=utf-8", html},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.typ},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, "", err
		}
		writeQP(w, p.content)
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	ct := mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()})
	return body.Bytes(), ct, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidMessage}, args...)...)
}

// writeQP writes s quoted-printable, ending with a line break. Writes go to
// in-memory buffers, which do not fail.
func writeQP(w io.Writer, s string) {
	qp := quotedprintable.NewWriter(w)
	qp.Write([]byte(s))
	if !strings.HasSuffix(s, "\n") && !strings.HasSuffix(s, "\r") {
		qp.Write([]byte("\r\n"))
	}
	qp.Close()
}

// checkAddress parses one address of field. The author is the shop's own
// address, so its parse error is shown; a recipient is personal data and is
// never echoed.
func checkAddress(field, s string) (*mail.Address, error) {
	switch {
	case s == "":
		return nil, fmt.Errorf("%s is required", field)
	case strings.ContainsAny(s, "\r\n"):
		return nil, fmt.Errorf("%s contains a line break (CR or LF)", field)
	case !utf8.ValidString(s):
		return nil, fmt.Errorf("%s is not valid UTF-8", field)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		if field == "To" {
			return nil, errors.New(`To is not one valid address (want "name@example.com" or "Name <name@example.com>")`)
		}
		return nil, fmt.Errorf("%s is not one valid address: %v", field, err)
	}
	for i := 0; i < len(a.Address); i++ {
		if a.Address[i] >= utf8.RuneSelf {
			return nil, fmt.Errorf("%s address must be ASCII (internationalised addresses need SMTPUTF8, which is not used)", field)
		}
	}
	return a, nil
}

// encodeSubject returns s as header text that, unfolded and decoded, is s
// again. Plain ASCII is kept readable; anything a reader would alter — non-
// ASCII, edge white space (trimmed on unfolding), "=?" (taken for an encoded
// word) — becomes RFC 2047 encoded words.
func encodeSubject(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid("Subject is not valid UTF-8")
	}
	for _, r := range s {
		if r == '\r' || r == '\n' {
			return "", invalid("Subject contains a line break (CR or LF)")
		}
		if r != '\t' && (r < ' ' || r == 0x7f) {
			return "", invalid("Subject contains control character %U", r)
		}
	}
	plain := !strings.Contains(s, "=?") && strings.TrimSpace(s) == s
	for i := 0; plain && i < len(s); i++ {
		plain = s[i] >= ' ' && s[i] <= '~' || s[i] == '\t'
	}
	switch {
	case plain:
		return s, nil
	case needsMIME(s):
		return mime.QEncoding.Encode("utf-8", s), nil
	}
	// mime.WordEncoder leaves ASCII as is, so encode the rest ourselves:
	// 45 bytes make 60 base64 characters, 72 with the markers, within the
	// 75 RFC 2047 allows.
	var words []string
	for len(s) > 0 {
		n := min(len(s), 45)
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " "), nil
}

// needsMIME reports whether mime.WordEncoder would encode s.
func needsMIME(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] < ' ' || s[i] > '~') && s[i] != '\t' {
			return true
		}
	}
	return false
}

func messageID(id, fromAddr string) (string, error) {
	if id == "" {
		domain := fromAddr[strings.LastIndexByte(fromAddr, '@')+1:]
		return "<" + rand.Text() + "@" + domain + ">", nil
	}
	bare := strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	left, right, ok := strings.Cut(bare, "@")
	ok = ok && left != "" && right != "" && !strings.Contains(right, "@")
	for i := 0; ok && i < len(bare); i++ {
		c := bare[i]
		ok = c > ' ' && c <= '~' && !strings.ContainsRune(`<>()",;\`, rune(c))
	}
	if !ok {
		return "", invalid("MessageID %q must look like id@domain (printable ASCII, no spaces)", id)
	}
	return "<" + bare + ">", nil
}

func checkHeaders(hs []Header) ([]Header, error) {
	out := make([]Header, 0, len(hs))
	for _, h := range hs {
		if h.Name == "" {
			return nil, invalid("header name is empty")
		}
		if strings.ContainsAny(h.Name, "\r\n") {
			return nil, invalid("header name %q contains a line break (CR or LF)", h.Name)
		}
		for i := 0; i < len(h.Name); i++ {
			if !isTokenChar(h.Name[i]) {
				return nil, invalid("header name %q is not a token (letters, digits and !#$%%&'*+-.^_`|~)", h.Name)
			}
		}
		if reserved[textproto.CanonicalMIMEHeaderKey(h.Name)] {
			return nil, invalid("header %s is set by Message itself", h.Name)
		}
		v := strings.Trim(h.Value, " \t")
		if !utf8.ValidString(v) {
			return nil, invalid("header %s value is not valid UTF-8", h.Name)
		}
		for _, r := range v {
			if r == '\r' || r == '\n' {
				return nil, invalid("header %s value contains a line break (CR or LF)", h.Name)
			}
			if r != '\t' && (r < ' ' || r == 0x7f) {
				return nil, invalid("header %s value contains control character %U", h.Name, r)
			}
		}
		out = append(out, Header{h.Name, mime.QEncoding.Encode("utf-8", v)})
	}
	return out, nil
}

// isTokenChar reports whether c may appear in an RFC 7230 token, the form
// net/textproto accepts for field names.
func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// headerWriter writes header fields folded at 78 columns where a single
// space allows it. Folding only there keeps unfolding exact: readers trim
// the white space around a fold and join with one space.
type headerWriter struct {
	buf bytes.Buffer
	err error
}

const (
	foldAt  = 78  // RFC 5322 2.1.1: SHOULD
	maxLine = 998 // RFC 5322 2.1.1: MUST
)

func (w *headerWriter) add(name, value string) {
	if w.err != nil {
		return
	}
	line := len(name) + 2
	longest := 0
	w.buf.WriteString(name + ": ")
	for seg := range segments(value) {
		if line+len(seg) > foldAt && seg[0] == ' ' {
			longest = max(longest, line)
			w.buf.WriteString("\r\n")
			line = 0
		}
		w.buf.WriteString(seg)
		line += len(seg)
	}
	w.buf.WriteString("\r\n")
	if max(longest, line) > maxLine {
		w.err = invalid("header %s is too long to fold within %d characters a line", name, maxLine)
	}
}

// segments splits v before each space that has a non-blank on either side.
func segments(v string) iter.Seq[string] {
	return func(yield func(string) bool) {
		start := 0
		for i := 1; i < len(v)-1; i++ {
			if v[i] == ' ' && !isBlank(v[i-1]) && !isBlank(v[i+1]) {
				if !yield(v[start:i]) {
					return
				}
				start = i
			}
		}
		if start < len(v) {
			yield(v[start:])
		}
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }
