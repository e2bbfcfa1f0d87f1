package minimize

import (
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"
)

const (
	maxPathSegments = 32  // segments kept by TemplatePath
	maxPathLen      = 512 // bytes of TemplatePath's output
	maxSegmentLen   = 100 // a longer decoded segment is taken for an id
	idSegment       = ":id"
)

// TemplatePath reduces a URL path to a template that names the page, not
// the visitor: "/products/12345/reviews" → "/products/:id/reviews".
//
// The query and fragment are dropped, and so are matrix parameters
// (";jsessionid=…"). Each segment is percent-decoded and replaced by ":id"
// when it is all digits, contains '@', is a UUID, is hex of 8 characters or
// more, holds a run of 5 digits or more, is longer than 100 bytes, or
// otherwise looks like an identifier ([LooksLikeIdentifier]: long tokens,
// base64url, JWTs, phone numbers). Other segments, such as "mens-shoes",
// are kept, re-escaped where needed (non-ASCII letters stay as they are).
// Empty and "." segments are dropped and ".." removes the segment before
// it. The result starts with "/", has no trailing slash (except "/" itself),
// at most 32 segments and at most 512 bytes; further segments are cut off.
// TemplatePath is idempotent, and its output never contains '@' or a run of
// 7 digits.
func TemplatePath(path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	var (
		out    [maxPathLen]byte
		n      int
		starts [maxPathSegments]int // where each kept segment begins in out
		segs   int
		dec    [maxSegmentLen + 1]byte
		esc    [3 * maxSegmentLen]byte
	)
	for path != "" {
		var raw string
		raw, path, _ = strings.Cut(path, "/")
		if i := strings.IndexByte(raw, ';'); i >= 0 {
			raw = raw[:i]
		}
		d, long := unescapeSegment(raw, dec[:])
		if !long {
			switch string(d) {
			case "", ".":
				continue
			case "..":
				if segs > 0 {
					segs--
					n = starts[segs]
				}
				continue
			}
		}
		var piece []byte
		if !long && !isIDSegment(string(d)) {
			piece = escapeSegment(d, esc[:0])
			// With runs of at most 4 digits left, "%20" + "1234" is the
			// longest run an escape can make; this guards the invariant.
			if longestDigitRun(string(piece)) >= 7 {
				piece = nil
			}
		}
		size := len(idSegment)
		if piece != nil {
			size = len(piece)
		}
		if segs == maxPathSegments || n+1+size > maxPathLen {
			break
		}
		starts[segs] = n
		segs++
		out[n] = '/'
		if piece != nil {
			copy(out[n+1:], piece)
		} else {
			copy(out[n+1:], idSegment)
		}
		n += 1 + size
	}
	if n == 0 {
		return "/"
	}
	return string(out[:n])
}

// unescapeSegment percent-decodes raw into buf; a '%' not followed by two
// hex digits stands for itself. long reports that the decoded segment is
// longer than maxSegmentLen (buf then holds only its start).
func unescapeSegment(raw string, buf []byte) (d []byte, long bool) {
	d = buf[:0]
	for i := 0; i < len(raw); i++ {
		if len(d) > maxSegmentLen {
			return d, true
		}
		c := raw[i]
		if c == '%' && i+2 < len(raw) && isHexDigit(raw[i+1]) && isHexDigit(raw[i+2]) {
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
		}
		d = append(d, c)
	}
	return d, len(d) > maxSegmentLen
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// isIDSegment applies TemplatePath's rules to one decoded segment.
func isIDSegment(d string) bool {
	if len(d) >= 8 && isHex(d) || longestDigitRun(d) >= 5 || LooksLikeIdentifier(d) {
		return true
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true // all digits
}

// escapeSegment appends d to buf escaped so that unescapeSegment gives d
// back: RFC 3986 unreserved characters, sub-delimiters other than ';' and
// ',', ':' and valid UTF-8 letters stay; everything else, '%' included,
// becomes %XX.
func escapeSegment(d []byte, buf []byte) []byte {
	const hexdig = "0123456789ABCDEF"
	for i := 0; i < len(d); {
		c := d[i]
		if c < utf8.RuneSelf {
			if segmentSafe[c] {
				buf = append(buf, c)
			} else {
				buf = append(buf, '%', hexdig[c>>4], hexdig[c&15])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(d[i:])
		if r == utf8.RuneError || r < 0xA0 || isBidiControl(r) {
			buf = append(buf, '%', hexdig[c>>4], hexdig[c&15])
			i++
			continue
		}
		buf = append(buf, d[i:i+size]...)
		i += size
	}
	return buf
}

var segmentSafe = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = charClass(byte(c)) != classOther || strings.IndexByte("-._~!$&'()*+=:", byte(c)) >= 0
	}
	return t
}()

func isBidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// PathFromURL returns the template ([TemplatePath]) of the path of a URL,
// absolute or relative, or "" when raw is empty, does not parse or is
// opaque ("mailto:…").
func PathFromURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return ""
	}
	return TemplatePath(u.EscapedPath())
}

// ReferrerHost returns the lower-cased host of a referrer URL, without
// port, userinfo or trailing dot, or "" when there is none or raw does not
// parse. A host that is an IP address also gives "": it may be a person's
// own machine.
func ReferrerHost(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return ""
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if h == "" || len(h) > 253 {
		return ""
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c < utf8.RuneSelf && charClass(c) == classOther && c != '-' && c != '.' && c != '_' {
			return ""
		}
	}
	if !utf8.ValidString(h) {
		return ""
	}
	return h
}
