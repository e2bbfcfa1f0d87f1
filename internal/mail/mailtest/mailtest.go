// Package mailtest runs a real SMTP server in the test process, so tests of
// code that sends mail exercise the whole path — URL, STARTTLS, AUTH,
// encoding — and can read back what arrived, decoded.
package mailtest

import (
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tact-cdp/tact/internal/mail"
)

// Limits of the server, refused as a real server would: a larger message
// with 552, a recipient beyond the limit with 452.
const (
	MaxMessageBytes = 1 << 20
	MaxRecipients   = 10
)

// Option configures NewServer.
type Option func(*Server)

// WithSTARTTLS makes the server offer STARTTLS with a self-signed
// certificate for 127.0.0.1, ::1 and localhost; RootCAs trusts it and
// Config carries it.
func WithSTARTTLS() Option {
	return func(s *Server) { s.starttls = true }
}

// WithAuth makes the server require AUTH PLAIN with these credentials
// before MAIL. With STARTTLS, AUTH is only offered after it.
func WithAuth(user, pass string) Option {
	return func(s *Server) { s.auth, s.user, s.pass = true, user, pass }
}

// Server is an SMTP server on 127.0.0.1 that keeps what it receives.
type Server struct {
	starttls   bool
	auth       bool
	user, pass string
	port       int
	roots      *x509.CertPool

	mu      sync.Mutex
	msgs    []Received
	arrived chan struct{} // closed and replaced on every message
}

// NewServer starts a server on 127.0.0.1:0; t.Cleanup closes it.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{arrived: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "mailtest.localhost"
	srv.MaxMessageBytes = MaxMessageBytes
	srv.MaxRecipients = MaxRecipients
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	// Without STARTTLS there is no other way to AUTH; real servers, and
	// net/smtp, allow that only on localhost, which this is.
	srv.AllowInsecureAuth = !s.starttls
	logger := &testLogger{t: t}
	srv.ErrorLog = logger
	if s.starttls {
		cert, roots, err := selfSigned(time.Now())
		if err != nil {
			t.Fatalf("mailtest: certificate: %v", err)
		}
		s.roots = roots
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		// Close only closes listeners Serve has registered; if Serve has
		// not started yet, closing ln ourselves is what makes it return.
		ln.Close()
		<-done
		logger.stop()
	})
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is an smtp:// URL for mail.ParseURL, with the WithAuth credentials.
// With STARTTLS use Config, which also carries RootCAs.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr()}
	if s.auth {
		u.User = url.UserPassword(s.user, s.pass)
	}
	return u.String()
}

// Config is a mail.Config for this server, trusting its certificate when
// STARTTLS is on.
func (s *Server) Config() mail.Config {
	c := mail.Config{Host: "127.0.0.1", Port: s.port}
	if s.auth {
		c.Username, c.Password = s.user, s.pass
	}
	if s.starttls {
		c.TLS = &tls.Config{RootCAs: s.roots}
	}
	return c
}

// RootCAs trusts the STARTTLS certificate; nil without WithSTARTTLS.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// Messages returns the messages received so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Wait returns the messages once at least n have arrived, or fails t when
// timeout passes first. Senders that return only after the server accepted
// the message (mail.SMTP does) need no Wait: use Messages.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		got, arrived := len(s.msgs), s.arrived
		if got >= n {
			out := slices.Clone(s.msgs)
			s.mu.Unlock()
			return out
		}
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-timer.C:
			t.Fatalf("mailtest: %d message(s) arrived within %v, want %d", got, timeout, n)
			return nil
		}
	}
}

func (s *Server) add(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, r)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{srv: s, tls: isTLS}, nil
}

// session is one connection; go-smtp makes a new one after STARTTLS.
type session struct {
	srv    *Server
	tls    bool
	authed bool
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string {
	if !s.srv.auth {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if !s.srv.auth || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		ok := subtle.ConstantTimeCompare([]byte(user), []byte(s.srv.user)) == 1
		ok = subtle.ConstantTimeCompare([]byte(pass), []byte(s.srv.pass)) == 1 && ok
		if !ok || identity != "" && identity != user {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.auth && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from, s.to = from, nil
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.auth && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // ErrDataTooLarge among others
	}
	rec, err := parse(raw)
	if err != nil {
		// Refuse what a mail reader could not show, so the sending test
		// fails where the fault is.
		return &smtp.SMTPError{
			Code:         554,
			EnhancedCode: smtp.EnhancedCode{5, 6, 0},
			Message:      "mailtest: " + err.Error(),
		}
	}
	rec.From, rec.To, rec.TLS = s.from, slices.Clone(s.to), s.tls
	s.srv.add(rec)
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// testLogger sends go-smtp's error log to t.Logf until the server is
// closed; logging after the test has ended would panic.
type testLogger struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

func (l *testLogger) Printf(format string, v ...any) { l.log(fmt.Sprintf(format, v...)) }
func (l *testLogger) Println(v ...any)               { l.log(fmt.Sprintln(v...)) }

func (l *testLogger) log(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.t.Logf("mailtest: %s", bytes.TrimSpace([]byte(msg)))
	}
}

func (l *testLogger) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
}
