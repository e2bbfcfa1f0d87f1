package consent

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"time"
)

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns prefix + 32 lower-case base32 characters: a 40-bit
// millisecond time (so that new rows append to the end of their indexes
// instead of dirtying a random page each) followed by 120 random bits
// (unguessable, so a receipt id can be public).
func newID(prefix string) string {
	var b [20]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 4; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[5:])
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
