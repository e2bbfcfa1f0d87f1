package mailtest_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tact-cdp/tact/internal/mail"
	"github.com/tact-cdp/tact/internal/mail/mailtest"
)

// send submits raw with net/smtp, so these tests do not depend on how
// package mail writes messages.
func send(t *testing.T, srv *mailtest.Server, to []string, raw string) error {
	t.Helper()
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if srv.RootCAs() != nil {
		if err := c.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: srv.RootCAs()}); err != nil {
			return err
		}
	}
	if cfg := srv.Config(); cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, "127.0.0.1")); err != nil {
			return err
		}
	}
	if err := c.Mail("shop@example.com"); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(raw)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestDecodesNestedMultipart(t *testing.T) {
	srv := mailtest.NewServer(t)
	raw := crlf(`From: shop@example.com
To: jane@example.org
Subject: =?UTF-8?B?5oKo55qE6aqM6K+B56CB?= =?utf-8?q?_123?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

preamble
--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: base64

5L2g5aW9CuS4lueVjA==
--inner
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>Gr=C3=BC=C3=9Fe, a long line that is soft=
 broken</p>
--inner--
--outer
Content-Type: text/plain
Content-Disposition: attachment; filename="notes.txt"

not the body
--outer--
`)
	if err := send(t, srv, []string{"jane@example.org"}, raw); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()[0]
	want := mailtest.Received{
		From:    "shop@example.com",
		To:      []string{"jane@example.org"},
		Subject: "您的验证码 123",
		Text:    "你好\n世界",
		HTML:    "<p>Grüße, a long line that is soft broken</p>",
	}
	if diff := cmp.Diff(want, got, cmpReceived); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if string(got.Raw) != raw+"\r\n" && string(got.Raw) != raw {
		t.Errorf("Raw differs from what was sent:\n%q", got.Raw)
	}
}

var cmpReceived = cmp.FilterPath(func(p cmp.Path) bool {
	f := p.Last().String()
	return f == ".Raw" || f == ".Header"
}, cmp.Ignore())

func TestRefusesUndecodableMessage(t *testing.T) {
	srv := mailtest.NewServer(t)
	for name, raw := range map[string]string{
		"no header":      "just a body\r\n",
		"bad base64":     crlf("Subject: x\nContent-Transfer-Encoding: base64\n\n!!!!\n"),
		"bad charset":    crlf("Subject: x\nContent-Type: text/plain; charset=koi8-r\n\nx\n"),
		"no boundary":    crlf("Subject: x\nContent-Type: multipart/alternative\n\nx\n"),
		"bad subject":    crlf("Subject: =?x-unknown?q?abc?=\n\nx\n"),
		"unknown cte":    crlf("Subject: x\nContent-Transfer-Encoding: x-uuencode\n\nx\n"),
		"bad media type": crlf("Subject: x\nContent-Type: text/\n\nx\n"),
	} {
		err := send(t, srv, []string{"jane@example.org"}, raw)
		var te *textproto.Error
		if !errors.As(err, &te) || te.Code != 554 {
			t.Errorf("%s: %v, want 554", name, err)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages kept", n)
	}
}

func TestLimits(t *testing.T) {
	srv := mailtest.NewServer(t)
	big := "Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("x", 998)+"\r\n", mailtest.MaxMessageBytes/1000+1)
	var te *textproto.Error
	if err := send(t, srv, []string{"jane@example.org"}, big); !errors.As(err, &te) || te.Code != 552 {
		t.Errorf("message over %d bytes: %v, want 552", mailtest.MaxMessageBytes, err)
	}
	var rcpts []string
	for i := range mailtest.MaxRecipients + 1 {
		rcpts = append(rcpts, fmt.Sprintf("r%d@example.org", i))
	}
	if err := send(t, srv, rcpts, "Subject: many\r\n\r\nx\r\n"); !errors.As(err, &te) || te.Code != 452 {
		t.Errorf("%d recipients: %v, want 452", len(rcpts), err)
	}
	if err := send(t, srv, rcpts[:mailtest.MaxRecipients], "Subject: ok\r\n\r\nx\r\n"); err != nil {
		t.Errorf("%d recipients: %v", mailtest.MaxRecipients, err)
	}
	if got := srv.Messages(); len(got) != 1 || len(got[0].To) != mailtest.MaxRecipients {
		t.Errorf("got %d messages, want one to %d recipients", len(got), mailtest.MaxRecipients)
	}
}

func TestAuth(t *testing.T) {
	for name, opts := range map[string][]mailtest.Option{
		"plain":    {mailtest.WithAuth("shop", "s3cret")},
		"STARTTLS": {mailtest.WithSTARTTLS(), mailtest.WithAuth("shop", "s3cret")},
	} {
		srv := mailtest.NewServer(t, opts...)
		if err := send(t, srv, []string{"jane@example.org"}, "Subject: ok\r\n\r\nx\r\n"); err != nil {
			t.Errorf("%s, right password: %v", name, err)
		}
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if srv.RootCAs() != nil {
			if err := c.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: srv.RootCAs()}); err != nil {
				t.Fatal(err)
			}
		}
		var te *textproto.Error
		if err := c.Mail("shop@example.com"); !errors.As(err, &te) || te.Code != 502 {
			t.Errorf("%s, MAIL before AUTH: %v, want 502", name, err)
		}
		if err := c.Auth(smtp.PlainAuth("", "shop", "wrong", "127.0.0.1")); !errors.As(err, &te) || te.Code != 535 {
			t.Errorf("%s, wrong password: %v, want 535", name, err)
		}
		c.Close()
	}
}

// Before STARTTLS, AUTH is not offered: a client must not need it there.
func TestAuthOnlyAfterSTARTTLS(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("shop", "s3cret"))
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("AUTH offered before STARTTLS")
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Error("STARTTLS not offered")
	}
}

func TestConfigAndURL(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithAuth("shop@example.com", "p:w/@?"))
	cfg, err := mail.ParseURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(srv.Config(), cfg); diff != "" {
		t.Errorf("ParseURL(URL()) differs from Config() (-Config +URL):\n%s", diff)
	}
	tlsSrv := mailtest.NewServer(t, mailtest.WithSTARTTLS())
	if c := tlsSrv.Config(); c.TLS == nil || c.TLS.RootCAs != tlsSrv.RootCAs() || tlsSrv.RootCAs() == nil {
		t.Errorf("Config().TLS = %v, want the server's RootCAs", c.TLS)
	}
}

func TestWait(t *testing.T) {
	srv := mailtest.NewServer(t)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			m := mail.Message{From: "shop@example.com", To: "jane@example.org", Subject: fmt.Sprint(i), Text: "x"}
			if err := mail.NewSMTP(srv.Config()).Send(t.Context(), m); err != nil {
				t.Error(err)
			}
		})
	}
	if got := srv.Wait(t, 3, 10*time.Second); len(got) < 3 {
		t.Errorf("Wait returned %d messages", len(got))
	}
	wg.Wait()
}

// fakeTB records Fatalf instead of stopping the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
}

func TestWaitTimeout(t *testing.T) {
	srv := mailtest.NewServer(t)
	ft := &fakeTB{TB: t}
	if got := srv.Wait(ft, 1, 10*time.Millisecond); got != nil {
		t.Errorf("Wait returned %v", got)
	}
	if want := "mailtest: 0 message(s) arrived within 10ms, want 1"; ft.failed != want {
		t.Errorf("Wait failed with %q, want %q", ft.failed, want)
	}
}
