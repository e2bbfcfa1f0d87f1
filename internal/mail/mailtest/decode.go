package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
)

// Received is one message as the server got it.
type Received struct {
	// From and To are the envelope (MAIL FROM, RCPT TO), bare addresses.
	From string
	To   []string
	// TLS reports whether the message came over TLS (after STARTTLS).
	TLS bool
	// Raw is the message as sent, CRLF line endings and all.
	Raw []byte
	// Subject is decoded from RFC 2047 encoded words.
	Subject string
	// Text and HTML are the first text/plain and text/html parts that are
	// not attachments, transfer encoding undone, line breaks as "\n".
	Text string
	HTML string
	// Header holds the top-level fields as sent (not decoded).
	Header netmail.Header
}

// maxDepth bounds multipart nesting; real mail rarely goes beyond three.
const maxDepth = 10

func parse(raw []byte) (Received, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, fmt.Errorf("header: %w", err)
	}
	r := Received{Raw: raw, Header: msg.Header}
	r.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Received{}, fmt.Errorf("subject: %w", err)
	}
	if err := r.walk(msg.Header.Get, msg.Body, 0); err != nil {
		return Received{}, err
	}
	return r, nil
}

// walk decodes one entity, descending into multipart bodies.
func (r *Received) walk(header func(string) string, body io.Reader, depth int) error {
	if depth > maxDepth {
		return errors.New("multipart nesting too deep")
	}
	ct := header("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii" // RFC 2045 5.2
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if params["boundary"] == "" {
			return fmt.Errorf("%s without boundary", mediaType)
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// Raw, because NextPart would undo quoted-printable silently
			// but leave base64 alone.
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mediaType, err)
			}
			if err := r.walk(p.Header.Get, p, depth+1); err != nil {
				return err
			}
		}
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil
	}
	if disp, _, _ := mime.ParseMediaType(header("Content-Disposition")); disp == "attachment" {
		return nil
	}
	switch cs := strings.ToLower(params["charset"]); cs {
	case "", "utf-8", "us-ascii":
	default:
		return fmt.Errorf("%s: charset %q not supported (only utf-8 and us-ascii)", mediaType, cs)
	}
	var dec io.Reader
	switch cte := strings.ToLower(strings.TrimSpace(header("Content-Transfer-Encoding"))); cte {
	case "", "7bit", "8bit", "binary":
		dec = body
	case "quoted-printable":
		dec = quotedprintable.NewReader(body)
	case "base64":
		dec = base64.NewDecoder(base64.StdEncoding, body)
	default:
		return fmt.Errorf("%s: transfer encoding %q not supported", mediaType, cte)
	}
	b, err := io.ReadAll(dec)
	if err != nil {
		return fmt.Errorf("%s body: %w", mediaType, err)
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch {
	case mediaType == "text/plain" && r.Text == "":
		r.Text = text
	case mediaType == "text/html" && r.HTML == "":
		r.HTML = text
	}
	return nil
}
