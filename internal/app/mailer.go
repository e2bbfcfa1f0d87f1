package app

import (
	"context"
	"net/url"
	"strings"

	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/mail"
	"github.com/tact-cdp/tact/internal/rights"
)

// mailer sends the outbox's letters over SMTP.
type mailer struct {
	smtp *mail.SMTP
	from string
}

// NewMailer returns the SMTP sender of the outbox: it sends from the --smtp URL's from= address, else from the
// controller's contact address, else from privacy@ tact's public host.
func NewMailer(c mail.Config, m *datamap.Map, publicURL string) rights.Sender {
	from := c.From
	if from == "" {
		from = m.Controller.Email
	}
	if from == "" {
		host := "localhost"
		if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		from = "privacy@" + host
	}
	if m.Controller.Name != "" && !strings.Contains(from, "<") {
		from = mailName(m.Controller.Name) + " <" + from + ">"
	}
	return &mailer{smtp: mail.NewSMTP(c), from: from}
}

func mailName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '<' || r == '>' || r == '\r' || r == '\n' || r == ',' || r == ';' {
			return -1
		}
		return r
	}, s)
}

func (m *mailer) Send(ctx context.Context, l rights.Letter) error {
	msg := mail.Message{From: m.from, To: l.To, Subject: l.Subject, Text: l.Text}
	for _, h := range l.Headers {
		msg.Headers = append(msg.Headers, mail.Header{Name: h.Name, Value: h.Value})
	}
	return m.smtp.Send(ctx, msg)
}

// publicURL is where links in mail point: --public-url, else tact's
// default local address.
func publicURL(u string) string {
	if u == "" {
		return "http://127.0.0.1:8080"
	}
	return strings.TrimSuffix(u, "/")
}
