package collect

import (
	"net/netip"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tact-cdp/tact/internal/collect/minimize"
	"github.com/tact-cdp/tact/internal/collect/segment"
)

// Minimal is what tact keeps of an event's context (DESIGN principle 5).
type Minimal struct {
	Country  string
	Device   minimize.Device
	Path     string // templated, no query
	Referrer string // host only
	Campaign map[string]string
	Locale   string
	Library  segment.Library
}

// minimal derives the kept context. peer is the request's client address,
// used when the event carries no context.ip and the sender is the browser
// itself (a server's own address says nothing about the shopper).
func minimal(e *segment.Event, peer netip.Addr, headerUA string, server bool) Minimal {
	var m Minimal
	ip, err := netip.ParseAddr(strings.TrimSpace(e.Context.IP))
	if err != nil && !server {
		ip = peer
	}
	if ip.IsValid() {
		m.Country = minimize.Country(ip)
	}
	ua := e.Context.UserAgent
	if ua == "" && !server {
		ua = headerUA
	}
	if ua != "" {
		m.Device = minimize.ParseUserAgent(ua)
	}
	pageURL := e.Context.Page.Path
	if pageURL == "" {
		pageURL = e.Context.Page.URL
	}
	m.Path = minimize.PathFromURL(pageURL)
	m.Referrer = minimize.ReferrerHost(e.Context.Page.Referrer)
	m.Campaign = minimize.Campaign(e.UTM())
	if l := e.Context.Locale; len(l) <= 35 && isTag(l) {
		m.Locale = l
	}
	if len(e.Context.Library.Name) <= 64 && len(e.Context.Library.Version) <= 32 {
		m.Library = e.Context.Library
	}
	return m
}

// isTag accepts what a language tag is made of, nothing more.
func isTag(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// appendContext appends `"context":{…}` with the kept fields.
func (m Minimal) appendContext(b []byte) []byte {
	b = append(b, `"context":{`...)
	n := 0
	field := func(k, v string) {
		if v == "" {
			return
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, v)
		n++
	}
	field("country", m.Country)
	field("browser", m.Device.Browser)
	field("os", m.Device.OS)
	field("device", m.Device.Class)
	field("path", m.Path)
	field("referrer", m.Referrer)
	field("locale", m.Locale)
	if m.Library.Name != "" {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `"library":{"name":`...)
		b = appendString(b, m.Library.Name)
		b = append(b, `,"version":`...)
		b = appendString(b, m.Library.Version)
		b = append(b, '}')
		n++
	}
	if len(m.Campaign) > 0 {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `"campaign":{`...)
		keys := make([]string, 0, len(m.Campaign))
		for k := range m.Campaign {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, m.Campaign[k])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			default:
				const hex = "0123456789abcdef"
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// droppedMembers are the top-level members not kept in the sealed payload:
// identifiers (stored only as pseudonyms), the raw context (replaced by the
// minimal one), transport fields and the fields stored in columns.
var droppedMembers = map[string]bool{
	"context": true, "userId": true, "anonymousId": true, "previousId": true,
	"writeKey": true, "_metadata": true, "sentAt": true, "messageId": true,
	"type": true, "event": true, "timestamp": true, "originalTimestamp": true,
	"receivedAt": true, "integrations": true,
}

// urlProperties are properties that hold addresses: kept as templated paths
// or hosts, never with their query strings.
var urlProperties = map[string]bool{"url": true, "path": true, "referrer": true, "search": true}

// payload renders the sealed part of an event: its own members minus the
// dropped ones, its properties with addresses minimised, and the kept
// context.
// It appends to dst.
func payload(dst []byte, e *segment.Event, m Minimal) ([]byte, error) {
	var small [512]byte
	b := m.appendContext(small[:0])
	rewrite := e.Properties != nil && hasAny(e.Properties, urlProperties)
	if rewrite {
		b = append(b, `,"properties":`...)
		// The other properties are copied as sent; the addresses are
		// replaced by what minimalAddresses keeps of them.
		var ok bool
		if b, ok = segment.AppendWithout(b, segment.MemberOf(e, "properties"),
			func(k string) bool { return urlProperties[k] }, minimalAddresses(nil, e.Properties)); !ok {
			return nil, errBadRaw
		}
	}
	drop := func(k string) bool { return droppedMembers[k] || (rewrite && k == "properties") }
	out, ok := segment.AppendKept(dst, e, drop, b)
	if !ok {
		return nil, errBadRaw
	}
	return out, nil
}

// minimalAddresses appends the members that stand for the address
// properties of in (urlProperties): the templated path of url or path
// (url wins) and the host of referrer; search is dropped.
func minimalAddresses(b []byte, in map[string]any) []byte {
	path := ""
	for _, k := range []string{"path", "url"} { // url wins
		if s, ok := in[k].(string); ok {
			if p := minimize.PathFromURL(s); p != "" {
				path = p
			}
		}
	}
	if path != "" {
		b = append(appendString(b, "path"), ':')
		b = appendString(b, path)
	}
	if s, ok := in["referrer"].(string); ok {
		if h := minimize.ReferrerHost(s); h != "" {
			if len(b) > 0 {
				b = append(b, ',')
			}
			b = append(appendString(b, "referrer"), ':')
			b = appendString(b, h)
		}
	}
	return b
}

func hasAny(m map[string]any, keys map[string]bool) bool {
	for k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}
