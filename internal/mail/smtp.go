package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"
)

// SMTP sends each message over a new connection to one submission server.
// It is safe for concurrent use.
type SMTP struct {
	cfg Config
}

var _ Sender = (*SMTP)(nil)

// NewSMTP returns a Sender for cfg.
func NewSMTP(cfg Config) *SMTP { return &SMTP{cfg: cfg} }

// Send checks and renders m (From defaults to Config.From), then connects,
// says EHLO, upgrades with STARTTLS when the server offers it, authenticates
// with AUTH PLAIN when a user name is configured, and submits m. It refuses
// to send a password over an unencrypted connection except to localhost,
// as net/smtp does.
//
// The whole exchange is bounded by ctx and Config.Timeout; when either ends
// it, the error wraps ctx's error. Server refusals wrap *textproto.Error,
// whose Code tells temporary (4xx) from permanent (5xx) failures.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if m.From == "" {
		m.From = s.cfg.From
	}
	data, env, err := m.build(time.Now())
	if err != nil {
		return err
	}
	if s.cfg.Host == "" {
		return errors.New("mail: no SMTP host configured")
	}
	timeout := s.cfg.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.send(ctx, env, data); err != nil {
		return s.redact(err)
	}
	return nil
}

func (s *SMTP) send(ctx context.Context, env envelope, data []byte) error {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.port()))
	fail := func(step string, err error) error {
		// When ctx ended the exchange, report that; the I/O error is only
		// its symptom. The connection's deadline is ctx's and may pass a
		// moment before ctx notices.
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			err = context.DeadlineExceeded
		}
		return fmt.Errorf("mail: smtp %s: %s: %w", addr, step, err)
	}

	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fail("connect", err)
	}
	defer raw.Close()
	// net/smtp knows no context: bound every read and write by the
	// deadline, and unblock them at once when ctx is cancelled. The
	// deadline is set before AfterFunc so it cannot undo a cancellation.
	deadline, _ := ctx.Deadline()
	if err := raw.SetDeadline(deadline); err != nil {
		return fail("connect", err)
	}
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	tlsConfig := s.cfg.tlsConfig()
	conn := raw
	if s.cfg.ImplicitTLS {
		tc := tls.Client(raw, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail("TLS handshake", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fail("greeting", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fail("EHLO", err)
	}

	encrypted := s.cfg.ImplicitTLS
	if !encrypted {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return fail("STARTTLS", err)
			}
			encrypted = true
		}
	}
	if s.cfg.Username != "" {
		if !encrypted && !isLocalhost(s.cfg.Host) {
			return fail("AUTH", errors.New("the server does not offer STARTTLS; refusing to send the password unencrypted (use smtps:// or a server with STARTTLS)"))
		}
		if ok, _ := c.Extension("AUTH"); !ok {
			return fail("AUTH", errors.New("the server does not offer AUTH, but a user name is configured"))
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fail("AUTH", err)
		}
	}

	if err := c.Mail(env.from); err != nil {
		return fail("MAIL FROM", err)
	}
	if err := c.Rcpt(env.to); err != nil {
		return fail("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return fail("DATA", err)
	}
	if _, err := w.Write(data); err != nil {
		return fail("DATA", err)
	}
	if err := w.Close(); err != nil { // reads the server's verdict
		return fail("DATA", err)
	}
	// The server has taken the message; a failed QUIT must not make the
	// caller send it again.
	_ = c.Quit()
	return nil
}

// isLocalhost matches net/smtp's rule for when PLAIN may go unencrypted.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func (c Config) tlsConfig() *tls.Config {
	tc := &tls.Config{}
	if c.TLS != nil {
		tc = c.TLS.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = c.Host
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	return tc
}

// redact guards against a server that echoes the password in a reply. The
// wrapped chain is kept for errors.Is and errors.As.
func (s *SMTP) redact(err error) error {
	if s.cfg.Password == "" || !strings.Contains(err.Error(), s.cfg.Password) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), s.cfg.Password, redacted), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
