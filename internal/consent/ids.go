package consent

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns prefix + 26 lower-case base32 characters of 128 random bits:
// unguessable, so a receipt id can be public.
func newID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// NewReceiptID returns a fresh receipt id.
func NewReceiptID() string { return newID("rc_") }

// NewSubjectID returns a fresh subject id.
func NewSubjectID() string { return newID("sb_") }

// newAnonymousID returns a random UUID v4, the form browser SDKs use.
func newAnonymousID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexd[c>>4], hexd[c&15])
	}
	return string(out)
}
