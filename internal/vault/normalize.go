package vault

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Identifier length limits, in bytes.
const (
	maxEmailLen = 254 // RFC 5321 path limit less the angle brackets
	maxIDLen    = 256
)

// Normalize checks an identifier of the given kind and returns the form its
// pseudonym is computed from.
//
//   - email: surrounding whitespace is trimmed and the address lower-cased;
//     it must be valid UTF-8 without control characters or inner
//     whitespace, contain exactly one '@' with non-empty parts (a dot-less
//     domain is accepted) and be at most 254 bytes.
//   - user_id, anonymous_id: kept exactly as given (case-sensitive); it must
//     be valid UTF-8 of 1..256 bytes without control characters, and
//     surrounding whitespace is an error rather than trimmed, since two ids
//     that differ only by it may well be different shoppers.
//
// Errors wrap ErrInvalidIdentifier and never contain the value, which is
// personal data.
func Normalize(kind Kind, value string) (string, error) {
	switch kind {
	case KindEmail:
		return normalizeEmail(value)
	case KindUserID, KindAnonymousID:
		return normalizeID(kind, value)
	default:
		return "", fmt.Errorf("%w: unknown identifier kind", ErrInvalidIdentifier)
	}
}

func invalid(kind Kind, reason string) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidIdentifier, kind, reason)
}

func normalizeID(kind Kind, s string) (string, error) {
	switch {
	case s == "":
		return "", invalid(kind, "is empty")
	case len(s) > maxIDLen:
		return "", invalid(kind, fmt.Sprintf("is longer than %d bytes", maxIDLen))
	case !utf8.ValidString(s):
		return "", invalid(kind, "is not valid UTF-8")
	case hasControl(s):
		return "", invalid(kind, "contains control characters")
	case strings.TrimSpace(s) != s:
		return "", invalid(kind, "has leading or trailing whitespace")
	}
	return s, nil
}

func normalizeEmail(s string) (string, error) {
	const kind = KindEmail
	if !utf8.ValidString(s) {
		return "", invalid(kind, "is not valid UTF-8")
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", invalid(kind, "is empty")
	case hasControl(s):
		return "", invalid(kind, "contains control characters")
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return "", invalid(kind, "contains whitespace")
	}
	s = strings.ToLower(s)
	if len(s) > maxEmailLen {
		return "", invalid(kind, fmt.Sprintf("is longer than %d bytes", maxEmailLen))
	}
	at := strings.IndexByte(s, '@')
	switch {
	case at < 0 || strings.IndexByte(s[at+1:], '@') >= 0:
		return "", invalid(kind, "must contain exactly one '@'")
	case at == 0:
		return "", invalid(kind, "has an empty local part")
	case at == len(s)-1:
		return "", invalid(kind, "has an empty domain")
	}
	return s, nil
}

// hasControl reports Unicode control characters (C0, DEL, C1).
func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
