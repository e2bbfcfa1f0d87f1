package mail_test

import (
	"context"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tact-cdp/tact/internal/mail"
	"github.com/tact-cdp/tact/internal/mail/mailtest"
)

const (
	testUser = "shop"
	testPass = "Corr3ct-Horse-Battery"
)

func TestSendRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []mailtest.Option
		wantTLS bool
	}{
		{"plain", nil, false},
		{"auth on localhost without TLS", []mailtest.Option{mailtest.WithAuth(testUser, testPass)}, false},
		{"STARTTLS", []mailtest.Option{mailtest.WithSTARTTLS()}, true},
		{"STARTTLS and AUTH", []mailtest.Option{mailtest.WithSTARTTLS(), mailtest.WithAuth(testUser, testPass)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.NewServer(t, tc.opts...)
			m := mail.Message{
				From:    "小店 <shop@example.com>",
				To:      "Jane Doe <jane@example.org>",
				Subject: "请确认您的订阅 — 验证码 123456",
				Text:    "您好！\n\n您的验证码是 123456。\n.\nA line with only a dot, above.",
				HTML:    "<p>您好！</p><p>您的验证码是 <b>123456</b>。</p>",
				Headers: []mail.Header{
					{"List-Unsubscribe", "<https://shop.example/u/abc123>"},
					{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
				},
			}
			if err := mail.NewSMTP(srv.Config()).Send(t.Context(), m); err != nil {
				t.Fatal(err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("%d messages arrived, want 1", len(got))
			}
			r := got[0]
			if r.TLS != tc.wantTLS {
				t.Errorf("TLS = %v, want %v", r.TLS, tc.wantTLS)
			}
			if diff := cmp.Diff([]string{"jane@example.org"}, r.To); r.From != "shop@example.com" || diff != "" {
				t.Errorf("envelope from %q to %v, want shop@example.com to jane@example.org", r.From, r.To)
			}
			if r.Subject != m.Subject {
				t.Errorf("Subject = %q, want %q", r.Subject, m.Subject)
			}
			if want := m.Text + "\n"; r.Text != want {
				t.Errorf("Text = %q, want %q", r.Text, want)
			}
			if want := m.HTML + "\n"; r.HTML != want {
				t.Errorf("HTML = %q, want %q", r.HTML, want)
			}
			for _, h := range m.Headers {
				if got := r.Header.Get(h.Name); got != h.Value {
					t.Errorf("%s = %q, want %q", h.Name, got, h.Value)
				}
			}
			if from, err := r.Header.AddressList("From"); err != nil || from[0].Name != "小店" {
				t.Errorf("From header %q (%v), want display name 小店", r.Header.Get("From"), err)
			}
		})
	}
}

func TestSendFromURL(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithAuth(testUser, "p@ss/w?rd#:%"))
	cfg, err := mail.ParseURL(srv.URL() + "?from=Shop+%3Cshop%40example.com%3E")
	if err != nil {
		t.Fatal(err)
	}
	m := mail.Message{To: "jane@example.org", Subject: "Hello", Text: "Plain text only."}
	if err := mail.NewSMTP(cfg).Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	r := srv.Messages()[0]
	if r.From != "shop@example.com" || r.Header.Get("From") != `"Shop" <shop@example.com>` {
		t.Errorf("From = %q (envelope %q), want Config.From", r.Header.Get("From"), r.From)
	}
	if r.Text != "Plain text only.\n" || r.HTML != "" {
		t.Errorf("Text %q, HTML %q", r.Text, r.HTML)
	}
}

func TestSendWrongPassword(t *testing.T) {
	const wrong = "Wr0ng-Password-Do-Not-Show"
	for _, opts := range [][]mailtest.Option{
		{mailtest.WithAuth(testUser, testPass)},
		{mailtest.WithSTARTTLS(), mailtest.WithAuth(testUser, testPass)},
	} {
		srv := mailtest.NewServer(t, opts...)
		cfg := srv.Config()
		cfg.Password = wrong
		err := mail.NewSMTP(cfg).Send(t.Context(), validMessage())
		if err == nil {
			t.Fatal("sent with a wrong password")
		}
		var te *textproto.Error
		if !errors.As(err, &te) || te.Code != 535 || !strings.Contains(err.Error(), "AUTH") {
			t.Errorf("error %q, want AUTH failing with 535", err)
		}
		if strings.Contains(err.Error(), wrong) {
			t.Errorf("error shows the password: %q", err)
		}
		if errors.Is(err, mail.ErrInvalidMessage) {
			t.Errorf("error %q wraps ErrInvalidMessage; the message is fine", err)
		}
		if n := len(srv.Messages()); n != 0 {
			t.Errorf("%d messages arrived", n)
		}
	}
}

func TestSendUntrustedCertificate(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithSTARTTLS(), mailtest.WithAuth(testUser, testPass))
	cfg := srv.Config()
	cfg.TLS = nil // system roots, which do not know the test certificate
	err := mail.NewSMTP(cfg).Send(t.Context(), validMessage())
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %v, want a STARTTLS certificate error", err)
	}
	if strings.Contains(err.Error(), testPass) {
		t.Errorf("error shows the password: %q", err)
	}
}

// Without STARTTLS, a password may only go to localhost in the clear.
func TestSendRefusesUnencryptedPassword(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithAuth(testUser, testPass))
	cfg := srv.Config()
	cfg.Host = "::ffff:127.0.0.1" // the same server, but not a name net/smtp treats as localhost
	err := mail.NewSMTP(cfg).Send(t.Context(), validMessage())
	if err == nil || !strings.Contains(err.Error(), "refusing to send the password unencrypted") {
		t.Errorf("error %v, want a refusal to send the password unencrypted", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages arrived", n)
	}
}

func TestSendServerWithoutAuth(t *testing.T) {
	srv := mailtest.NewServer(t)
	cfg := srv.Config()
	cfg.Username, cfg.Password = testUser, testPass
	err := mail.NewSMTP(cfg).Send(t.Context(), validMessage())
	if err == nil || !strings.Contains(err.Error(), "does not offer AUTH") {
		t.Errorf("error %v, want the server not offering AUTH", err)
	}
}

func TestSendAuthRequired(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.WithAuth(testUser, testPass))
	cfg := srv.Config()
	cfg.Username, cfg.Password = "", ""
	err := mail.NewSMTP(cfg).Send(t.Context(), validMessage())
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 502 || !strings.Contains(err.Error(), "MAIL FROM") {
		t.Errorf("error %v, want MAIL FROM refused with 502", err)
	}
}

// Invalid messages fail before any connection is made.
func TestSendRejectsBeforeNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := mail.Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}
	for _, edit := range []func(*mail.Message){
		func(m *mail.Message) { m.Subject = "Hi\r\nBcc: victim@example.net" },
		func(m *mail.Message) { m.To = "jane@example.org\r\nBcc: victim@example.net" },
		func(m *mail.Message) { m.From = "shop@example.com\nBcc: victim@example.net" },
		func(m *mail.Message) { m.Headers = []mail.Header{{"X-A", "b\r\nBcc: victim@example.net"}} },
		func(m *mail.Message) { m.Headers = []mail.Header{{"Bcc", "victim@example.net"}} },
		func(m *mail.Message) { m.From = "" }, // and no Config.From
	} {
		m := validMessage()
		edit(&m)
		if err := mail.NewSMTP(cfg).Send(t.Context(), m); !errors.Is(err, mail.ErrInvalidMessage) {
			t.Errorf("Send: %v, want ErrInvalidMessage", err)
		}
	}
	// A connection, had one been made, would be waiting in the backlog.
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(50 * time.Millisecond))
	if c, err := ln.Accept(); err == nil {
		c.Close()
		t.Error("Send connected to the server for an invalid message")
	}
}

// silentListener accepts connections and never says a word, like a
// firewall that drops packets after the handshake.
func silentListener(t *testing.T) (mail.Config, <-chan struct{}) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 1)
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return mail.Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}, accepted
}

func TestSendCancelled(t *testing.T) {
	cfg, accepted := silentListener(t)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-accepted
		cancel()
	}()
	err := mail.NewSMTP(cfg).Send(ctx, validMessage())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestSendTimeout(t *testing.T) {
	cfg, _ := silentListener(t)
	for name, send := range map[string]func() error{
		"Config.Timeout": func() error {
			c := cfg
			c.Timeout = 100 * time.Millisecond
			return mail.NewSMTP(c).Send(t.Context(), validMessage())
		},
		"context deadline": func() error {
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			defer cancel()
			return mail.NewSMTP(cfg).Send(ctx, validMessage())
		},
	} {
		err := send()
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "greeting") {
			t.Errorf("%s: error %v, want the greeting to exceed the deadline", name, err)
		}
	}
}

func TestSendConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	err = mail.NewSMTP(mail.Config{Host: "127.0.0.1", Port: port}).Send(t.Context(), validMessage())
	if err == nil || !strings.Contains(err.Error(), "connect") || errors.Is(err, mail.ErrInvalidMessage) {
		t.Errorf("error %v, want a connect error", err)
	}
}

func validMessage() mail.Message {
	return mail.Message{From: "shop@example.com", To: "jane@example.org", Subject: "Hi", Text: "Hello."}
}
