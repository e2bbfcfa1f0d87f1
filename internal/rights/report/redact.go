package report

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Redacted replaces the whole value of a secret key.
const Redacted = "[redacted]"

// maskDots prefixes the last four characters kept of a masked value.
const maskDots = "••••"

// Redact returns a copy of a JSON payload (an event payload or the encoded
// traits) that never shows a secret, a government id or a financial account
// number in full:
//
//   - the value of a secret key (password, passwd, passphrase, pwd, secret,
//     cvv, cvc, pin, api_key, access_token, refresh_token, auth_token,
//     private_key) becomes "[redacted]", whatever its type;
//   - every string or number under an id key (ssn, social_security_number,
//     national_id, passport, passport_number, tax_id, id_number,
//     driver_license, iban, account_number, bank_account, card_number,
//     credit_card, cc_number, pan, routing_number, sort_code and their
//     variants) is masked to its last four characters, "•••• 1234", or to
//     "••••" when it has four or fewer;
//   - anywhere else, in values and in keys, a run of 13 to 19 digits
//     (single spaces or dashes allowed between digits) that passes the Luhn
//     check, or an IBAN that passes its mod-97 check, is masked the same way
//     (a number holding such a run becomes a masked string).
//
// Keys match case-insensitively on whole words, so snake_case, camelCase,
// kebab-case and dotted forms match alike ("creditCardNumber",
// "billing_iban", "User-SSN"); an id key matches at the end of a key
// ("billing_card_number"), a secret word anywhere ("password_confirmation"),
// "pan" and "pin" only alone.
//
// The output is compact JSON with the input's keys in the input's order. A
// payload that is not valid JSON comes back as a JSON string of its text,
// masked like any string, and an empty payload as null, so the output is
// always valid JSON (and valid UTF-8: invalid bytes become U+FFFD).
func Redact(payload []byte) []byte {
	return appendRedacted(nil, payload, false)
}

// redactValue redacts a decoded JSON value (traits): it is encoded (map
// keys sorted) and passed through Redact.
func redactValue(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return Redact(b), nil
}

// maxDepth is encoding/json's nesting limit: deeper input is not JSON to
// it, and not to Redact either.
const maxDepth = 10000

// errInvalid unwinds the redactor from invalid input; redactor.append
// recovers it.
type errInvalid struct{}

// appendRedacted appends Redact(src) to dst, indented by two spaces if
// indent is set.
func appendRedacted(dst, src []byte, indent bool) []byte {
	var r redactor
	return r.append(dst, src, indent)
}

type mode int

const (
	modePlain mode = iota // mask card numbers and IBANs only
	modeMask              // under an id key: mask every scalar
)

// redactor parses a payload, checking its grammar as it goes (as
// json.Valid would) so that each payload is read once, and writes the
// redacted copy. One redactor may serve many payloads in turn: it then
// remembers how it classified keys, which repeat from event to event.
type redactor struct {
	src    []byte
	i      int
	dst    []byte
	indent bool
	depth  int

	key  []byte              // scratch for key classification
	keys map[string]keyClass // classified short keys, at most maxKeys
}

// Bounds of the key cache (256 KiB of keys at most), so that a shopper's
// events cannot grow it without end.
const (
	maxKeys   = 4096
	maxKeyLen = 64
)

// append appends the redacted src to dst.
func (r *redactor) append(dst, src []byte, indent bool) (out []byte) {
	if len(bytes.TrimSpace(src)) == 0 {
		return append(dst, "null"...)
	}
	start := len(dst)
	r.src, r.i, r.dst, r.indent, r.depth = src, 0, dst, indent, 0
	defer func() {
		if e := recover(); e != nil {
			if _, ok := e.(errInvalid); !ok {
				panic(e)
			}
			out = appendString(r.dst[:start], maskText(string(src)))
		}
		r.src, r.dst = nil, nil
	}()
	r.ws()
	r.value(modePlain)
	r.ws()
	if r.i != len(src) {
		r.fail()
	}
	return r.dst
}

func (r *redactor) fail() { panic(errInvalid{}) }

func (r *redactor) peek() byte {
	if r.i < len(r.src) {
		return r.src[r.i]
	}
	return 0
}

func (r *redactor) ws() {
	for r.i < len(r.src) {
		switch r.src[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

func (r *redactor) newline() {
	if r.indent {
		r.dst = append(r.dst, '\n')
		for range r.depth {
			r.dst = append(r.dst, ' ', ' ')
		}
	}
}

func (r *redactor) value(m mode) {
	switch c := r.peek(); {
	case c == '{':
		r.object(m)
	case c == '[':
		r.array(m)
	case c == '"':
		r.string(r.str(), m)
	case c == 't':
		r.literal("true")
	case c == 'f':
		r.literal("false")
	case c == 'n':
		r.literal("null")
	case c == '-' || isDigit(c):
		r.number(m)
	default:
		r.fail()
	}
}

func (r *redactor) literal(lit string) {
	if !bytes.HasPrefix(r.src[r.i:], []byte(lit)) {
		r.fail()
	}
	r.i += len(lit)
	r.dst = append(r.dst, lit...)
}

func (r *redactor) open(c byte) {
	if r.depth++; r.depth > maxDepth {
		r.fail()
	}
	r.i++
	r.dst = append(r.dst, c)
	r.ws()
}

// next reads what follows an element: a comma (true) or the closing
// bracket (false), which it writes.
func (r *redactor) next(closing byte) bool {
	r.ws()
	switch r.peek() {
	case ',':
		r.i++
		r.dst = append(r.dst, ',')
		return true
	case closing:
		r.i++
		r.depth--
		r.newline()
		r.dst = append(r.dst, closing)
		return false
	}
	r.fail()
	return false
}

func (r *redactor) object(m mode) {
	r.open('{')
	if r.peek() == '}' {
		r.i++
		r.depth--
		r.dst = append(r.dst, '}')
		return
	}
	for more := true; more; more = r.next('}') {
		r.newline()
		r.ws()
		if r.peek() != '"' {
			r.fail()
		}
		k := r.str()
		r.string(k, modePlain)
		r.ws()
		if r.peek() != ':' {
			r.fail()
		}
		r.i++
		r.dst = append(r.dst, ':')
		if r.indent {
			r.dst = append(r.dst, ' ')
		}
		r.ws()
		switch r.classify(k.text) {
		case keySecret:
			// Parsed all the same, to check it, then replaced.
			mark := len(r.dst)
			r.value(modePlain)
			r.dst = appendString(r.dst[:mark], Redacted)
		case keyMask:
			r.value(modeMask)
		default:
			r.value(m)
		}
	}
}

func (r *redactor) array(m mode) {
	r.open('[')
	if r.peek() == ']' {
		r.i++
		r.depth--
		r.dst = append(r.dst, ']')
		return
	}
	for more := true; more; more = r.next(']') {
		r.newline()
		r.ws()
		r.value(m)
	}
}

// token is a string read from the input.
type token struct {
	text  []byte // decoded; aliases the input when raw
	raw   bool   // no escapes: text is what stood between the quotes
	ascii bool   // text is all ASCII
}

// plainByte marks the bytes a string token may hold with no further
// thought: not a quote, a backslash, a control character or non-ASCII.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads and checks a string token.
func (r *redactor) str() token {
	start := r.i + 1
	t := token{raw: true, ascii: true}
	src := r.src
	j := start
	for {
		for j < len(src) && plainByte[src[j]] {
			j++
		}
		if j >= len(src) {
			r.fail()
		}
		switch c := src[j]; {
		case c == '"':
			r.i = j + 1
			if t.raw {
				t.text = src[start:j]
				return t
			}
			var s string
			if err := json.Unmarshal(src[start-1:j+1], &s); err != nil {
				r.fail()
			}
			return token{text: []byte(s)}
		case c == '\\':
			t.raw, t.ascii = false, false
			if j+1 >= len(src) {
				r.fail()
			}
			switch src[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				j += 6 // json.Unmarshal checks the hex digits
			default:
				r.fail()
			}
		case c < 0x20:
			r.fail()
		default: // non-ASCII
			t.ascii = false
			j++
		}
	}
}

// string writes a string value (or key) in mode m.
func (r *redactor) string(t token, m mode) {
	switch {
	case m == modeMask:
		r.dst = appendString(r.dst, maskLast4(string(t.text)))
	case mayHoldNumber(t.text):
		r.dst = appendString(r.dst, maskText(string(t.text)))
	case t.raw && (t.ascii || utf8.Valid(t.text)):
		r.dst = append(r.dst, '"')
		r.dst = append(r.dst, t.text...)
		r.dst = append(r.dst, '"')
	default:
		r.dst = appendString(r.dst, string(t.text))
	}
}

func (r *redactor) number(m mode) {
	start := r.i
	if r.peek() == '-' {
		r.i++
	}
	switch c := r.peek(); {
	case c == '0':
		r.i++
	case c >= '1' && c <= '9':
		r.digits()
	default:
		r.fail()
	}
	if r.peek() == '.' {
		r.i++
		r.digits1()
	}
	if c := r.peek(); c == 'e' || c == 'E' {
		r.i++
		if c := r.peek(); c == '+' || c == '-' {
			r.i++
		}
		r.digits1()
	}
	lit := r.src[start:r.i]
	switch {
	case m == modeMask:
		r.dst = appendString(r.dst, maskLast4(string(lit)))
	case mayHoldNumber(lit):
		if s, t := string(lit), maskText(string(lit)); t != s {
			r.dst = appendString(r.dst, t)
			return
		}
		r.dst = append(r.dst, lit...)
	default:
		r.dst = append(r.dst, lit...)
	}
}

func (r *redactor) digits() {
	for isDigit(r.peek()) {
		r.i++
	}
}

// digits1 reads one or more digits.
func (r *redactor) digits1() {
	if !isDigit(r.peek()) {
		r.fail()
	}
	r.digits()
}

type keyClass int

const (
	keyPlain keyClass = iota
	keySecret
	keyMask
)

// Key rules, in the "_word_word_" form normKey produces. A secret word
// anywhere makes a key secret; the other rules match the end of a key (or
// all of it), so they are looked up by its last word.
const (
	secretWhole = "_pin_"
	maskWhole   = "_pan_"
)

func secretWord(w []byte) bool {
	switch string(w) {
	case "password", "passwd", "passphrase", "pwd", "secret", "cvv", "cvc":
		return true
	}
	return false
}

var (
	secretEnds = map[string][]string{
		"key":    {"_api_key_", "_private_key_"},
		"apikey": {"_apikey_"},
		"token":  {"_access_token_", "_refresh_token_", "_auth_token_"},
	}
	maskEnds = map[string][]string{
		"ssn":      {"_ssn_"},
		"number":   {"_social_security_number_", "_national_id_number_", "_passport_number_", "_tax_number_", "_id_number_", "_account_number_", "_card_number_", "_cc_number_", "_routing_number_"},
		"no":       {"_social_security_no_", "_passport_no_", "_account_no_", "_card_no_"},
		"id":       {"_national_id_", "_tax_id_"},
		"passport": {"_passport_"},
		"license":  {"_driver_license_", "_drivers_license_", "_driving_license_"},
		"licence":  {"_driver_licence_", "_driving_licence_"},
		"iban":     {"_iban_"},
		"account":  {"_bank_account_"},
		"card":     {"_credit_card_"},
		"code":     {"_sort_code_"},
	}
)

// ends returns the patterns a key ending in word w may match. A switch
// rejects the common keys without hashing.
func ends(table map[string][]string, w []byte) []string {
	switch string(w) {
	case "key", "apikey", "token", "ssn", "number", "no", "id", "passport", "license", "licence", "iban", "account", "card", "code":
		return table[string(w)]
	}
	return nil
}

func (r *redactor) classify(key []byte) keyClass {
	if c, ok := r.keys[string(key)]; ok {
		return c
	}
	r.key = normKey(r.key[:0], key)
	c := classifyNorm(r.key)
	if r.keys == nil {
		r.keys = map[string]keyClass{}
	}
	if len(r.keys) < maxKeys && len(key) <= maxKeyLen {
		r.keys[string(key)] = c
	}
	return c
}

func classifyKey(key string) keyClass { return classifyNorm(normKey(nil, []byte(key))) }

func classifyNorm(k []byte) keyClass {
	if len(k) < 2 {
		return keyPlain // no words
	}
	var last []byte
	for w := range bytes.SplitSeq(k[1:len(k)-1], []byte{'_'}) {
		if secretWord(w) {
			return keySecret
		}
		last = w
	}
	for _, p := range ends(secretEnds, last) {
		if bytes.HasSuffix(k, []byte(p)) {
			return keySecret
		}
	}
	if string(k) == secretWhole {
		return keySecret
	}
	for _, p := range ends(maskEnds, last) {
		if bytes.HasSuffix(k, []byte(p)) {
			return keyMask
		}
	}
	if string(k) == maskWhole {
		return keyMask
	}
	return keyPlain
}

// normKey appends the words of key to dst as "_word_word_", lower-cased:
// words split at any character that is not a letter or digit, at a
// lower-to-upper change ("cardNumber"), before the last capital of a run
// followed by a lower-case letter ("HTTPServer"), and between letters and
// digits ("cvv2").
func normKey(dst, key []byte) []byte {
	dst = append(dst, '_')
	const (
		other = iota
		lower
		upper
		digit
	)
	class := func(c byte) int {
		switch {
		case c >= 'a' && c <= 'z':
			return lower
		case c >= 'A' && c <= 'Z':
			return upper
		case c >= '0' && c <= '9':
			return digit
		case c >= 0x80:
			return lower // non-ASCII letters: kept, never split
		}
		return other
	}
	prev := other
	for i := 0; i < len(key); i++ {
		c := key[i]
		cl := class(c)
		if cl == other {
			if dst[len(dst)-1] != '_' {
				dst = append(dst, '_')
			}
			prev = other
			continue
		}
		split := false
		switch {
		case prev == lower && cl == upper,
			prev == digit && cl != digit,
			prev != other && prev != digit && cl == digit:
			split = true
		case prev == upper && cl == upper && i+1 < len(key) && class(key[i+1]) == lower:
			split = true
		}
		if split && dst[len(dst)-1] != '_' {
			dst = append(dst, '_')
		}
		if cl == upper {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		prev = cl
	}
	if dst[len(dst)-1] != '_' {
		dst = append(dst, '_')
	}
	return dst
}

// mayHoldNumber is a cheap pre-check: a card number needs 13 digits, an
// IBAN 15 characters of which at least 8 are digits.
func mayHoldNumber[T string | []byte](s T) bool {
	if len(s) < 13 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			if n++; n >= 8 {
				return true
			}
		}
	}
	return false
}

// maskText masks IBANs, then card numbers, in s. Masking a card number
// cannot create a new one (its run was maximal), and the card pass runs
// last so that nothing an IBAN mask leaves beside other digits survives.
func maskText(s string) string {
	if !mayHoldNumber(s) {
		return s
	}
	return maskCards(maskIBANs(s))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// maskCards masks every maximal run of digits, with single spaces or
// dashes between them, that has 13 to 19 digits and passes the Luhn check.
func maskCards(s string) string {
	var b []byte // nil until something is masked
	last := 0
	var digits [19]byte
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		start, n, j := i, 0, i
		end := i
		for j < len(s) {
			if isDigit(s[j]) {
				if n < len(digits) {
					digits[n] = s[j]
				}
				n++
				j++
				end = j
				continue
			}
			if (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && isDigit(s[j+1]) {
				j++
				continue
			}
			break
		}
		if n >= 13 && n <= 19 && luhn(digits[:n]) {
			b = append(b, s[last:start]...)
			b = append(b, maskDots...)
			b = append(b, ' ')
			b = append(b, digits[n-4:n]...)
			last = end
		}
		i = end
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}

func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			if v *= 2; v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// maskIBANs masks IBANs: two letters, two check digits and an account
// part, 15 to 34 letters and digits in all (single spaces allowed between
// them), not joined to a letter or digit on either side, with at least 8
// digits and a valid ISO 13616 mod-97 checksum. The longest valid
// candidate wins.
func maskIBANs(s string) string {
	var b []byte
	last := 0
	var chars [34]byte
	var ends [34]int // ends[k]: index in s after the k+1-th character
	for i := 0; i+4 <= len(s); i++ {
		if !isAlpha(s[i]) || !isAlpha(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) || (i > 0 && isAlnum(s[i-1])) {
			continue
		}
		n := 0
		for j := i; j < len(s) && n < len(chars); {
			if isAlnum(s[j]) {
				chars[n] = s[j]
				n++
				j++
				ends[n-1] = j
				continue
			}
			if s[j] == ' ' && j+1 < len(s) && isAlnum(s[j+1]) && n >= 4 {
				j++
				continue
			}
			break
		}
		for k := n; k >= 15; k-- {
			if e := ends[k-1]; e < len(s) && isAlnum(s[e]) {
				continue // would cut a word in two
			}
			if digitCount(chars[:k]) >= 8 && ibanValid(chars[:k]) {
				b = append(b, s[last:i]...)
				b = append(b, maskDots...)
				b = append(b, ' ')
				b = append(b, upperASCII(chars[k-4:k])...)
				last = ends[k-1]
				i = last - 1
				break
			}
		}
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}

func digitCount(c []byte) int {
	n := 0
	for _, x := range c {
		if isDigit(x) {
			n++
		}
	}
	return n
}

func upperASCII(c []byte) []byte {
	out := make([]byte, len(c))
	for i, x := range c {
		if x >= 'a' && x <= 'z' {
			x -= 'a' - 'A'
		}
		out[i] = x
	}
	return out
}

// ibanValid checks the mod-97 checksum: the first four characters moved to
// the end, letters read as 10 to 35, the number modulo 97 must be 1.
func ibanValid(c []byte) bool {
	rem := 0
	add := func(x byte) {
		switch {
		case isDigit(x):
			rem = (rem*10 + int(x-'0')) % 97
		default:
			v := int((x|0x20)-'a') + 10
			rem = (rem*100 + v) % 97
		}
	}
	for _, x := range c[4:] {
		add(x)
	}
	for _, x := range c[:4] {
		add(x)
	}
	return rem == 1
}

// maskLast4 keeps the last four characters of s that are not spaces,
// dashes or dots: "•••• 1234"; four or fewer become "••••".
func maskLast4(s string) string {
	kept := func(r rune) bool { return r != ' ' && r != '-' && r != '.' && r != '\t' && r != '\n' }
	total := 0
	for _, r := range s {
		if kept(r) {
			total++
		}
	}
	if total <= 4 {
		return maskDots
	}
	var keep [4]rune
	for i, n := len(s), 0; n < 4; {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
		if kept(r) {
			n++
			keep[4-n] = r
		}
	}
	return maskDots + " " + string(keep[:])
}

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, everything else
// (including <, > and &) as is.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, `\u00`...)
				dst = append(dst, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\u202`...)
			dst = append(dst, "89"[r-'\u2028'])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
