package segment

import (
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// parser is a single-pass JSON reader for request bodies. It checks what
// strictjson checks (RFC 8259 syntax, valid UTF-8, no duplicate keys, one
// value) plus the nesting limit, and lets the event decoder pull the fields
// it knows straight into Go values while it skips the rest. One pass over
// the bytes replaces "validate, check duplicates, then unmarshal" (three
// passes with encoding/json), which is where ingestion spends its time.
//
// Errors are sticky: after the first one every method returns zero values
// and the caller stops at the next loop test.
type parser struct {
	buf []byte
	// src is buf as one string. Strings without escapes are sliced from it,
	// so decoding a body allocates one copy rather than one per value. The
	// price: a retained value keeps the whole body alive.
	src   string
	pos   int
	depth int
	err   *Error
	key   string // the key read by the last nextMember
	keyAt int    // where that key's opening quote is
	// members holds the Event.Members of every event decoded so far
	// (each event's are a sub-slice).
	members []Member
	keys    []string // keys of the open tracked objects, for duplicate checks
	frames  []frame  // open objects

	// First backing arrays of keys and frames: a parser is made per
	// request and per stored event (AppendWithout), and these fit
	// typical events without growing.
	keysBuf   [48]string
	framesBuf [8]frame
}

type frame struct {
	start int                 // index in keys where this object's keys begin
	track bool                // check duplicates here (false: the caller does)
	set   map[string]struct{} // replaces the linear scan once an object is big
}

// linearKeys is how many keys an object may have before duplicate checks
// switch from a scan to a map: small objects (nearly all) stay allocation
// free, large ones stay linear in time.
const linearKeys = 16

// newParser parses body. The strings it returns share body's memory (no
// copy per request or per event): body must not change afterwards, and
// whoever keeps such a string for long clones it (it would pin the body).
func newParser(body []byte) *parser {
	p := &parser{buf: body, src: unsafe.String(unsafe.SliceData(body), len(body))}
	p.keys, p.frames = p.keysBuf[:0], p.framesBuf[:0]
	// RFC 8259 §8.1: a parser MAY ignore a byte order mark.
	if len(body) >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF {
		p.pos = 3
	}
	return p
}

func (p *parser) failf(kind error, code, format string, args ...any) {
	if p.err == nil {
		p.err = &Error{Code: code, Message: fmt.Sprintf(format, args...), kind: kind}
	}
}

func (p *parser) syntax(what string) {
	if p.pos >= len(p.buf) {
		p.failf(ErrNotJSON, CodeNotJSON, "body is not JSON: unexpected end of input (%s)", what)
		return
	}
	p.failf(ErrNotJSON, CodeNotJSON, "body is not JSON: %s at byte %d, found %s", what, p.pos, quoteByte(p.buf[p.pos]))
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *parser) skipWS() {
	for p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte, or 0 at the end or
// after an error.
func (p *parser) peek() byte {
	if p.err != nil {
		return 0
	}
	p.skipWS()
	if p.pos >= len(p.buf) {
		return 0
	}
	return p.buf[p.pos]
}

func (p *parser) enter() bool {
	p.depth++
	if p.depth > MaxDepth {
		p.failf(ErrInvalid, CodeTooDeep, "JSON is nested deeper than %d levels (at byte %d)", MaxDepth, p.pos)
		return false
	}
	return true
}

// openObject consumes '{'. With track, nextMember rejects duplicate keys;
// without, the caller must (value does, with the map it fills).
func (p *parser) openObject(track bool) bool {
	if p.peek() != '{' {
		p.syntax("expected an object")
		return false
	}
	if !p.enter() {
		return false
	}
	p.pos++
	p.frames = append(p.frames, frame{start: len(p.keys), track: track})
	return true
}

// nextMember advances to the i-th member of the current object: it
// consumes the separator, the key (left in p.key) and the colon, leaving
// the value to the caller. It returns false at the closing brace or on
// error.
func (p *parser) nextMember(i int) bool {
	c := p.peek()
	if p.err != nil {
		return false
	}
	if c == '}' {
		p.pos++
		p.closeObject()
		return false
	}
	if i > 0 {
		if c != ',' {
			p.syntax("expected ',' or '}' in object")
			return false
		}
		p.pos++
		c = p.peek()
	}
	if c != '"' {
		p.syntax("expected a string key")
		return false
	}
	p.keyAt = p.pos
	k := p.str()
	if p.peek() != ':' {
		p.syntax("expected ':' after key")
		return false
	}
	p.pos++
	f := &p.frames[len(p.frames)-1]
	if f.track && !p.remember(f, k) {
		return false
	}
	p.key = k
	return true
}

func (p *parser) remember(f *frame, k string) bool {
	if f.set != nil {
		if _, dup := f.set[k]; dup {
			p.duplicate(k)
			return false
		}
		f.set[k] = struct{}{}
		return true
	}
	for _, s := range p.keys[f.start:] {
		if s == k {
			p.duplicate(k)
			return false
		}
	}
	p.keys = append(p.keys, k)
	if n := len(p.keys) - f.start; n > linearKeys {
		f.set = make(map[string]struct{}, 2*n)
		for _, s := range p.keys[f.start:] {
			f.set[s] = struct{}{}
		}
	}
	return true
}

func (p *parser) duplicate(k string) {
	p.failf(ErrInvalid, CodeDuplicateKey, "duplicate key %s in one object (before byte %d)", quoteKey(k), p.pos)
}

func (p *parser) closeObject() {
	f := p.frames[len(p.frames)-1]
	p.keys = p.keys[:f.start]
	p.frames = p.frames[:len(p.frames)-1]
	p.depth--
}

func (p *parser) openArray() bool {
	if p.peek() != '[' {
		p.syntax("expected an array")
		return false
	}
	if !p.enter() {
		return false
	}
	p.pos++
	return true
}

// nextElem advances to the i-th element of the current array, leaving the
// position at its first byte. It returns false at the closing bracket or on
// error.
func (p *parser) nextElem(i int) bool {
	c := p.peek()
	if p.err != nil {
		return false
	}
	if c == ']' {
		p.pos++
		p.depth--
		return false
	}
	if i > 0 {
		if c != ',' {
			p.syntax("expected ',' or ']' in array")
			return false
		}
		p.pos++
		p.skipWS()
	}
	return true
}

// str reads a string; the position must be at its opening quote.
func (p *parser) str() string {
	start := p.pos + 1
	for i := start; i < len(p.buf); i++ {
		switch c := p.buf[i]; {
		case c == '"':
			p.pos = i + 1
			return p.src[start:i]
		case c == '\\':
			return p.strEscaped(start, i)
		case c < 0x20:
			p.pos = i
			p.syntax("control character in string")
			return ""
		}
	}
	p.pos = len(p.buf)
	p.syntax("unterminated string")
	return ""
}

// strEscaped finishes a string that has escapes from i on.
func (p *parser) strEscaped(start, i int) string {
	b := make([]byte, 0, i-start+16)
	b = append(b, p.buf[start:i]...)
	for i < len(p.buf) {
		c := p.buf[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(b)
		case c < 0x20:
			p.pos = i
			p.syntax("control character in string")
			return ""
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(p.buf) {
			break
		}
		switch e := p.buf[i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
			i += 2
		case 'b':
			b = append(b, '\b')
			i += 2
		case 'f':
			b = append(b, '\f')
			i += 2
		case 'n':
			b = append(b, '\n')
			i += 2
		case 'r':
			b = append(b, '\r')
			i += 2
		case 't':
			b = append(b, '\t')
			i += 2
		case 'u':
			r, ok := hex4(p.buf, i+2)
			if !ok {
				p.pos = i
				p.syntax("invalid \\u escape")
				return ""
			}
			i += 6
			if utf16.IsSurrogate(r) {
				// A pair makes one rune; a lone half becomes U+FFFD, as
				// encoding/json decodes it.
				r2, ok2 := rune(-1), false
				if i+1 < len(p.buf) && p.buf[i] == '\\' && p.buf[i+1] == 'u' {
					r2, ok2 = hex4(p.buf, i+2)
				}
				if ok2 {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			p.pos = i
			p.syntax("invalid escape in string")
			return ""
		}
	}
	p.pos = len(p.buf)
	p.syntax("unterminated string")
	return ""
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipStr validates a string without building it.
func (p *parser) skipStr() {
	for i := p.pos + 1; i < len(p.buf); i++ {
		switch c := p.buf[i]; {
		case c == '"':
			p.pos = i + 1
			return
		case c == '\\':
			p.strEscaped(p.pos+1, i)
			return
		case c < 0x20:
			p.pos = i
			p.syntax("control character in string")
			return
		}
	}
	p.pos = len(p.buf)
	p.syntax("unterminated string")
}

// number reads a number literal per RFC 8259 and returns its text.
func (p *parser) number() string {
	b, i := p.buf, p.pos
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		p.pos = i
		p.syntax("invalid number")
		return ""
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			p.pos = i
			p.syntax("invalid number")
			return ""
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			p.pos = i
			p.syntax("invalid number")
			return ""
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	p.pos = i
	return p.src[start:i]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// literal consumes true, false or null.
func (p *parser) literal() any {
	rest := p.buf[p.pos:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		p.pos += 4
		return true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		p.pos += 5
		return false
	case len(rest) >= 4 && string(rest[:4]) == "null":
		p.pos += 4
		return nil
	}
	p.syntax("invalid literal")
	return nil
}

// value reads any value into the types encoding/json produces with
// UseNumber: map[string]any, []any, string, json.Number, bool, nil.
// Numbers stay json.Number so that ids and amounts keep their exact text.
func (p *parser) value() any {
	switch c := p.peek(); {
	case c == '{':
		if !p.openObject(false) {
			return nil
		}
		m := make(map[string]any)
		for i := 0; p.nextMember(i); i++ {
			k := p.key
			if _, dup := m[k]; dup {
				p.duplicate(k)
				return nil
			}
			m[k] = p.value()
		}
		return m
	case c == '[':
		if !p.openArray() {
			return nil
		}
		a := make([]any, 0, 4)
		for i := 0; p.nextElem(i); i++ {
			a = append(a, p.value())
		}
		return a
	case c == '"':
		return p.str()
	case c == 't' || c == 'f' || c == 'n':
		return p.literal()
	case c == '-' || isDigit(c):
		return json.Number(p.number())
	case p.err != nil:
		return nil
	}
	p.syntax("expected a value")
	return nil
}

// skipValue validates a value without building it.
func (p *parser) skipValue() {
	switch c := p.peek(); {
	case c == '{':
		if !p.openObject(true) {
			return
		}
		for i := 0; p.nextMember(i); i++ {
			p.skipValue()
		}
	case c == '[':
		if !p.openArray() {
			return
		}
		for i := 0; p.nextElem(i); i++ {
			p.skipValue()
		}
	case c == '"':
		p.skipStr()
	case c == 't' || c == 'f' || c == 'n':
		p.literal()
	case c == '-' || isDigit(c):
		p.number()
	case p.err != nil:
	default:
		p.syntax("expected a value")
	}
}

// end checks that nothing but white space follows the value.
func (p *parser) end() {
	if p.err != nil {
		return
	}
	p.skipWS()
	if p.pos < len(p.buf) {
		p.failf(ErrNotJSON, CodeNotJSON, "body is not JSON: data after the JSON value at byte %d", p.pos)
	}
}

func quoteKey(k string) string {
	if len(k) > 40 {
		k = k[:40] + "…"
	}
	return fmt.Sprintf("%q", k)
}
