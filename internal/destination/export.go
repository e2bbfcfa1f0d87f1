package destination

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/tact-cdp/tact"
)

// A Member is one audience member as it leaves tact: only the fields the
// destination is allowed to receive are non-empty. The encoders write the
// destination's fields and nothing else, whatever is set.
type Member struct {
	Pseudonym      string `json:"pseudonym"`
	EmailSHA256    string `json:"email_sha256,omitempty"`
	Email          string `json:"email,omitempty"`
	UnsubscribeURL string `json:"unsubscribe_url,omitempty"`
	Country        string `json:"country,omitempty"`
	Locale         string `json:"locale,omitempty"`
}

// Field names a destination can receive. A destination's fields are an
// ordered list of them (the column or key order of its exports) and always
// include FieldPseudonym.
const (
	FieldPseudonym      = "pseudonym"
	FieldEmailSHA256    = "email_sha256"
	FieldEmail          = "email"
	FieldUnsubscribeURL = "unsubscribe_url"
	FieldCountry        = "country"
	FieldLocale         = "locale"
)

// field indexes fieldNames; the encoders switch on it rather than on names.
type field uint8

const (
	fPseudonym field = iota
	fEmailSHA256
	fEmail
	fUnsubscribeURL
	fCountry
	fLocale
)

var fieldNames = [...]string{
	fPseudonym:      FieldPseudonym,
	fEmailSHA256:    FieldEmailSHA256,
	fEmail:          FieldEmail,
	fUnsubscribeURL: FieldUnsubscribeURL,
	fCountry:        FieldCountry,
	fLocale:         FieldLocale,
}

// AllFields returns every field name, in the canonical order.
func AllFields() []string { return append([]string(nil), fieldNames[:]...) }

func (m *Member) value(f field) string {
	switch f {
	case fPseudonym:
		return m.Pseudonym
	case fEmailSHA256:
		return m.EmailSHA256
	case fEmail:
		return m.Email
	case fUnsubscribeURL:
		return m.UnsubscribeURL
	case fCountry:
		return m.Country
	case fLocale:
		return m.Locale
	}
	return ""
}

// ErrInvalidFields is in the chain of every ValidFields error (which is also
// a tact EINVALID error).
var ErrInvalidFields = errors.New("invalid destination fields")

// fieldsError is a *tact.Error (for the API's status and message) that is
// also ErrInvalidFields.
type fieldsError struct{ err *tact.Error }

func (e *fieldsError) Error() string   { return e.err.Error() }
func (e *fieldsError) Unwrap() []error { return []error{e.err, ErrInvalidFields} }

// ValidFields checks a destination's ordered field list: every name known,
// none twice, and "pseudonym" present, which is how tact and the recipient
// refer to a member in later notices (withdrawal, deletion). The error names
// every offending entry.
func ValidFields(fields []string) error {
	_, err := parseFields(fields)
	return err
}

func parseFields(names []string) ([]field, error) {
	var (
		fs              = make([]field, 0, len(names))
		seen, dup       [len(fieldNames)]bool
		unknown, dupped []string
	)
	for _, name := range names {
		i := indexField(name)
		switch {
		case i < 0:
			unknown = append(unknown, quoteName(name))
		case seen[i]:
			if !dup[i] {
				dup[i] = true
				dupped = append(dupped, quoteName(name))
			}
		default:
			seen[i] = true
			fs = append(fs, field(i))
		}
	}
	var why []string
	if len(unknown) > 0 {
		why = append(why, "unknown "+plural(len(unknown), "field")+" "+strings.Join(unknown, ", ")+
			" (known: "+strings.Join(fieldNames[:], ", ")+")")
	}
	if len(dupped) > 0 {
		why = append(why, "duplicate "+plural(len(dupped), "field")+" "+strings.Join(dupped, ", "))
	}
	if !seen[fPseudonym] {
		why = append(why, `"pseudonym" is required`)
	}
	if len(why) > 0 {
		return nil, &fieldsError{tact.Errorf(tact.EINVALID, "destination fields: %s", strings.Join(why, "; "))}
	}
	return fs, nil
}

func indexField(name string) int {
	for i, n := range fieldNames {
		if n == name {
			return i
		}
	}
	return -1
}

// quoteName quotes a name for an error message, cut short: it is input.
func quoteName(s string) string {
	const max = 40
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return fmt.Sprintf("%q", s)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// An Encoder writes members to an export file. Close flushes what is
// buffered; it does not close the underlying writer. Errors are sticky.
type Encoder interface {
	Write(m Member) error
	Close() error
}

const exportBuffer = 64 << 10

var errClosed = errors.New("destination: encoder closed")

// NewCSV returns an Encoder of CSV with a header row of the field names and
// only those columns, quoted as RFC 4180 says, lines ending in "\n". A cell
// that a spreadsheet would read as a formula (starting with = + - @ tab or
// CR) gets a leading ' so that opening the file runs nothing.
func NewCSV(w io.Writer, fields []string) (Encoder, error) {
	fs, err := parseFields(fields)
	if err != nil {
		return nil, err
	}
	// csv.NewWriter keeps a *bufio.Writer of at least its own size as is.
	e := &csvEncoder{w: csv.NewWriter(bufio.NewWriterSize(w, exportBuffer)), fields: fs, rec: make([]string, len(fs))}
	for i, f := range fs {
		e.rec[i] = fieldNames[f]
	}
	e.w.Write(e.rec) // an error here is sticky and surfaces on Write or Close
	return e, nil
}

type csvEncoder struct {
	w      *csv.Writer
	fields []field
	rec    []string
	closed bool
}

func (e *csvEncoder) Write(m Member) error {
	if e.closed {
		return errClosed
	}
	for i, f := range e.fields {
		e.rec[i] = defuse(m.value(f))
	}
	return e.w.Write(e.rec)
}

func (e *csvEncoder) Close() error {
	if e.closed {
		return errClosed
	}
	e.closed = true
	e.w.Flush()
	return e.w.Error()
}

// defuse prefixes a cell a spreadsheet would evaluate (OWASP's list of
// formula triggers) with a quote, which spreadsheets show as text.
func defuse(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// NewJSONL returns an Encoder of JSON Lines: one object per member with
// exactly the given keys, in their order, empty values included, and no
// others even if set.
func NewJSONL(w io.Writer, fields []string) (Encoder, error) {
	fs, err := parseFields(fields)
	if err != nil {
		return nil, err
	}
	e := &jsonlEncoder{w: bufio.NewWriterSize(w, exportBuffer), fields: fs, keys: make([]string, len(fs))}
	for i, f := range fs {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		e.keys[i] = sep + `"` + fieldNames[f] + `":`
	}
	return e, nil
}

type jsonlEncoder struct {
	w      *bufio.Writer
	fields []field
	keys   []string // `{"pseudonym":`, `,"email":`…
	buf    []byte
	closed bool
}

func (e *jsonlEncoder) Write(m Member) error {
	if e.closed {
		return errClosed
	}
	b := e.buf[:0]
	for i, f := range e.fields {
		b = append(b, e.keys[i]...)
		b = appendJSONString(b, m.value(f))
	}
	b = append(b, '}', '\n')
	e.buf = b
	_, err := e.w.Write(b)
	return err
}

func (e *jsonlEncoder) Close() error {
	if e.closed {
		return errClosed
	}
	e.closed = true
	return e.w.Flush()
}

// appendJSONString appends s as a JSON string, as encoding/json would
// without HTML escaping: invalid UTF-8 becomes U+FFFD, and U+2028 and
// U+2029 are escaped for readers that treat lines as JavaScript.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// NormalizeEmail is the form of an address that is hashed for matching:
// surrounding white space trimmed and lower-cased (Unicode too), nothing
// else. Recipients that match on hashed addresses (ad platforms, CRMs) all
// trim and lower-case; provider-specific rewriting such as dropping dots or
// "+tags" in Gmail addresses is left out on purpose: it is right only for
// some domains, guessing the domain's rules wrongly would make two people's
// addresses hash alike and send one person's data to match another, and a
// recipient that did not apply the same rewriting would match nobody. The
// cost is a few missed matches, never a wrong one. Unicode normalisation
// (NFC) is not applied either: the standard library has none, and
// addresses are almost always ASCII.
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// EmailSHA256 is the lower-case hex SHA-256 of NormalizeEmail(s), or "" for
// an empty address: the hash of nothing would match every other empty
// address.
func EmailSHA256(s string) string {
	n := NormalizeEmail(s)
	if n == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(n))
	return hex.EncodeToString(sum[:])
}
