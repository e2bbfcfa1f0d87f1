package mail

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config says how to reach the SMTP submission server. Its String,
// GoString and LogValue show it with the password redacted, so a Config is
// safe to print and to log.
type Config struct {
	Host string
	// Port 0 means 587 (submission, RFC 6409), or 465 with ImplicitTLS.
	Port               int
	Username, Password string
	// From is the default author for messages that have none.
	From string
	// ImplicitTLS starts TLS on connect (smtps://); otherwise STARTTLS is
	// used whenever the server offers it.
	ImplicitTLS bool
	// TLS is cloned for each connection; ServerName defaults to Host.
	// Tests set RootCAs here.
	TLS *tls.Config
	// Timeout bounds a whole Send, from dialling to the server's answer to
	// the message; 0 means 30 seconds.
	Timeout time.Duration
}

const (
	submissionPort  = 587 // RFC 6409: STARTTLS on a plain connection
	submissionsPort = 465 // RFC 8314: TLS from the first byte
	defaultTimeout  = 30 * time.Second
	redacted        = "xxxxx"
)

// ParseURL reads a Config from
//
//	smtp://user:password@host:port?from=shop@example.com
//	smtps://user:password@host:port?from=...
//
// smtp:// uses STARTTLS when the server offers it and defaults to port 587
// (message submission, not 25, which is for relaying between servers);
// smtps:// is TLS from the first byte and defaults to port 465. User and
// password are percent-decoded; '@' and ':' in the password may stay
// unencoded, but '/', '?' and '#' must be encoded. The only query parameter
// is from, the default author. Errors name the problem without echoing the
// user name or password.
func ParseURL(raw string) (Config, error) {
	var c Config
	scheme, rest, ok := strings.Cut(strings.TrimSpace(raw), "://")
	if !ok {
		return Config{}, urlError("it must start with smtp:// or smtps://")
	}
	switch strings.ToLower(scheme) {
	case "smtp":
	case "smtps":
		c.ImplicitTLS = true
	default:
		if !validScheme(scheme) {
			return Config{}, urlError("it must start with smtp:// or smtps://")
		}
		return Config{}, urlError("scheme %q is not supported; use smtp or smtps", scheme)
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if err := c.parseParts(authority, tail); err != nil {
		if !strings.Contains(authority, "@") && strings.Contains(tail, "@") {
			// Most likely an unencoded '/', '?' or '#' in the password
			// ended the host early; say so without showing any of it.
			err = fmt.Errorf("%w (if the user name or password contains '/', '?' or '#', percent-encode them)", err)
		}
		return Config{}, err
	}
	return c, nil
}

func (c *Config) parseParts(authority, tail string) error {
	userinfo, hostport := "", authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, hostport = authority[:i], authority[i+1:]
	}
	if err := c.parseUserinfo(userinfo); err != nil {
		return err
	}
	if err := c.parseHostPort(hostport); err != nil {
		return err
	}
	return c.parseTail(tail)
}

func urlError(format string, args ...any) error {
	return fmt.Errorf("mail: invalid SMTP URL: "+format, args...)
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

func (c *Config) parseUserinfo(userinfo string) error {
	if userinfo == "" {
		return nil
	}
	rawUser, rawPass, _ := strings.Cut(userinfo, ":")
	user, err := url.PathUnescape(rawUser)
	if err != nil {
		return urlError("bad percent-encoding in the user name")
	}
	pass, err := url.PathUnescape(rawPass)
	if err != nil {
		return urlError("bad percent-encoding in the password")
	}
	switch {
	case user == "" && pass != "":
		return urlError("password without a user name")
	case hasControl(user):
		return urlError("the user name contains a control character")
	case hasControl(pass):
		return urlError("the password contains a control character")
	}
	c.Username, c.Password = user, pass
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

func (c *Config) parseHostPort(hostport string) error {
	host, port := hostport, ""
	hasPort := false
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return urlError("missing ']' after the IPv6 address")
		}
		host = hostport[1:end]
		after := hostport[end+1:]
		if after != "" {
			if after[0] != ':' {
				return urlError("unexpected characters after the IPv6 address")
			}
			port, hasPort = after[1:], true
		}
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() || a.Zone() != "" {
			return urlError("the host in brackets is not an IPv6 address")
		}
	} else {
		host, port, hasPort = strings.Cut(hostport, ":")
		if strings.Contains(port, ":") {
			return urlError("an IPv6 host must be in brackets, like [::1]")
		}
		if host != "" && !validHostname(host) {
			return urlError("the host is not a valid host name or IPv4 address")
		}
	}
	if host == "" {
		return urlError("missing host")
	}
	c.Host = host
	switch {
	case hasPort && port == "":
		return urlError("missing port after ':'")
	case !hasPort && c.ImplicitTLS:
		c.Port = submissionsPort
	case !hasPort:
		c.Port = submissionPort
	default:
		n, err := strconv.Atoi(port)
		if err != nil || strings.Trim(port, "0123456789") != "" || n < 1 || n > 65535 {
			return urlError("the port must be a number from 1 to 65535")
		}
		c.Port = n
	}
	return nil
}

// validHostname accepts DNS names (underscores too, as some internal names
// have them) and, by the same characters, IPv4 addresses.
func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

func (c *Config) parseTail(tail string) error {
	if strings.Contains(tail, "#") {
		return urlError("a fragment (#...) is not allowed")
	}
	path, query, _ := strings.Cut(tail, "?")
	if path != "" && path != "/" {
		return urlError("a path is not allowed")
	}
	// Query errors do not quote the query: when a '?' in the password
	// ended the host early, the query holds the rest of the password.
	values, err := url.ParseQuery(query)
	if err != nil {
		return urlError("bad query (check its percent-encoding; separate parameters with '&')")
	}
	for k := range values {
		if k != "from" {
			return urlError("unknown query parameter (only from is supported)")
		}
	}
	from := values["from"]
	switch {
	case len(from) == 0:
		return nil
	case len(from) > 1:
		return urlError("from is given more than once")
	case from[0] == "":
		return urlError("from is empty")
	}
	if _, err := checkAddress("from", from[0]); err != nil {
		return urlError("%v", err)
	}
	c.From = from[0]
	return nil
}

// URL returns c as a URL that ParseURL reads back to c (TLS and Timeout
// aside), password included. For display use String.
func (c Config) URL() string { return c.url(false) }

// Redacted is URL with the password replaced by "xxxxx".
func (c Config) Redacted() string { return c.url(true) }

// String returns Redacted, so printing a Config never shows the password.
func (c Config) String() string { return c.Redacted() }

// GoString keeps %#v from printing the password.
func (c Config) GoString() string { return "mail.Config(" + strconv.Quote(c.Redacted()) + ")" }

// LogValue keeps slog, JSON handler included, from logging the password.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.Redacted()) }

func (c Config) url(redact bool) string {
	u := url.URL{Scheme: "smtp"}
	if c.ImplicitTLS {
		u.Scheme = "smtps"
	}
	u.Host = net.JoinHostPort(c.Host, strconv.Itoa(c.port()))
	switch {
	case c.Username == "":
	case c.Password == "":
		u.User = url.User(c.Username)
	case redact:
		u.User = url.UserPassword(c.Username, redacted)
	default:
		u.User = url.UserPassword(c.Username, c.Password)
	}
	if c.From != "" {
		u.RawQuery = url.Values{"from": {c.From}}.Encode()
	}
	return u.String()
}

func (c Config) port() int {
	switch {
	case c.Port != 0:
		return c.Port
	case c.ImplicitTLS:
		return submissionsPort
	}
	return submissionPort
}
