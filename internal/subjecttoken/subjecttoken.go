// Package subjecttoken issues and verifies subject tokens. A subject token
// proves that a browser holds the anonymous id it speaks for; tact gives it
// to the browser in an HttpOnly cookie and accepts it as a bearer token.
//
// A token is
//
//	st1.<base64url(payload)>.<base64url(HMAC-SHA256(key, "st1." + base64url(payload)))>
//
// without padding, where payload is fixed binary: version (1 byte, 0x01),
// subject pseudonym (32), generation (4, big-endian), issued-at and expiry
// (8 each, big-endian Unix seconds). Tokens are short-lived; the generation
// lets the store rotate them (see Claims.Gen).
package subjecttoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/tact-cdp/tact/internal/vault"
)

var (
	// ErrMalformed reports a string that is not a subject token.
	ErrMalformed = errors.New("subjecttoken: malformed token")
	// ErrBadSignature reports a token not signed with the issuer's key
	// (forged, altered, or from another installation).
	ErrBadSignature = errors.New("subjecttoken: bad signature")
	// ErrExpired reports a token past its expiry.
	ErrExpired = errors.New("subjecttoken: expired")
	// ErrNotYetValid reports a correctly signed token issued more than
	// MaxClockSkew in the future (a clock problem on some tact node).
	ErrNotYetValid = errors.New("subjecttoken: issued in the future")
)

const (
	prefix         = "st1."
	payloadVersion = 0x01
	payloadLen     = 1 + 32 + 4 + 8 + 8
	macLen         = sha256.Size

	// MaxLen is the longest string Verify looks at.
	MaxLen = 512
	// MaxClockSkew is how far in the future a token's issue time may be.
	MaxClockSkew = time.Minute
	// MinKeyLen is the shortest MAC key NewIssuer accepts.
	MinKeyLen = 32
)

var (
	enc           = base64.RawURLEncoding.Strict()
	payloadB64Len = enc.EncodedLen(payloadLen)
	macB64Len     = enc.EncodedLen(macLen)
	// tokenLen is the length of every well-formed token.
	tokenLen = len(prefix) + payloadB64Len + 1 + macB64Len
)

// Claims are what a subject token asserts.
type Claims struct {
	Subject vault.Pseudonym // identity pseudonym of the anonymous id
	// Gen is the rotation generation: the store keeps the current
	// generation per anonymous id and the caller accepts Gen >= current-1,
	// so a token stops working two rotations after it was replaced.
	Gen      uint32
	IssuedAt time.Time // second precision, UTC
	Expires  time.Time // second precision, UTC
}

// Issuer issues and verifies subject tokens with one MAC key.
type Issuer struct {
	key []byte
	// TTL is how long issued tokens live (whole seconds count).
	TTL time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time

	macs sync.Pool // of hash.Hash keyed with key
}

// NewIssuer returns an Issuer using key (at least 32 bytes; typically
// vault.DeriveKey("subjecttoken/mac", 32)) for tokens valid for ttl. It
// panics on a short key or a ttl under a second: both are programmer errors.
func NewIssuer(key []byte, ttl time.Duration) *Issuer {
	if len(key) < MinKeyLen {
		panic("subjecttoken: key shorter than 32 bytes")
	}
	if ttl < time.Second {
		panic("subjecttoken: ttl under one second")
	}
	i := &Issuer{key: append([]byte(nil), key...), TTL: ttl, Now: time.Now}
	i.macs.New = func() any { return hmac.New(sha256.New, i.key) }
	return i
}

// Issue returns a new token for subject at generation gen, valid from now
// for TTL, and its claims.
func (i *Issuer) Issue(subject vault.Pseudonym, gen uint32) (token string, claims Claims) {
	now := i.Now().Unix()
	claims = Claims{
		Subject:  subject,
		Gen:      gen,
		IssuedAt: time.Unix(now, 0).UTC(),
		Expires:  time.Unix(now+int64(i.TTL/time.Second), 0).UTC(),
	}
	var p [payloadLen]byte
	p[0] = payloadVersion
	copy(p[1:33], subject[:])
	binary.BigEndian.PutUint32(p[33:37], gen)
	binary.BigEndian.PutUint64(p[37:45], uint64(claims.IssuedAt.Unix()))
	binary.BigEndian.PutUint64(p[45:53], uint64(claims.Expires.Unix()))

	b := make([]byte, 0, tokenLen)
	b = append(b, prefix...)
	b = enc.AppendEncode(b, p[:])
	var mac [macLen]byte
	i.sign(mac[:0], b)
	b = append(b, '.')
	b = enc.AppendEncode(b, mac[:])
	return string(b), claims
}

// sign appends HMAC-SHA256(key, signed) to dst.
func (i *Issuer) sign(dst, signed []byte) []byte {
	h := i.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(signed)
	dst = h.Sum(dst)
	i.macs.Put(h)
	return dst
}

// Verify checks token and returns its claims. It fails with ErrMalformed for
// anything that is not a subject token, ErrBadSignature when the MAC does
// not match (compared in constant time, before any payload field is read),
// ErrExpired once the expiry has passed, and ErrNotYetValid for a token
// issued more than MaxClockSkew in the future. Checking the generation
// against the store is the caller's job.
func (i *Issuer) Verify(token string) (Claims, error) {
	// Every token the issuer makes has the same length, so this also
	// enforces MaxLen before anything else is done.
	if len(token) > MaxLen || len(token) != tokenLen || !strings.HasPrefix(token, prefix) {
		return Claims{}, ErrMalformed
	}
	dot := len(prefix) + payloadB64Len
	if token[dot] != '.' {
		return Claims{}, ErrMalformed
	}
	signed, macB64 := token[:dot], token[dot+1:]

	var got [macLen]byte
	// Strict decoding rejects non-canonical encodings, so one MAC has one
	// spelling and a verified token is exactly the string that was issued.
	if n, err := enc.Decode(got[:], []byte(macB64)); err != nil || n != macLen {
		return Claims{}, ErrBadSignature
	}
	var want [macLen]byte
	i.sign(want[:0], []byte(signed))
	if !hmac.Equal(got[:], want[:]) {
		return Claims{}, ErrBadSignature
	}

	var p [payloadLen]byte
	if n, err := enc.Decode(p[:], []byte(signed[len(prefix):])); err != nil || n != payloadLen || p[0] != payloadVersion {
		return Claims{}, ErrMalformed
	}
	iat := int64(binary.BigEndian.Uint64(p[37:45]))
	exp := int64(binary.BigEndian.Uint64(p[45:53]))
	if iat < 0 || exp <= iat {
		return Claims{}, ErrMalformed
	}
	var c Claims
	copy(c.Subject[:], p[1:33])
	c.Gen = binary.BigEndian.Uint32(p[33:37])
	c.IssuedAt = time.Unix(iat, 0).UTC()
	c.Expires = time.Unix(exp, 0).UTC()

	now := i.Now()
	if !now.Before(c.Expires) {
		return Claims{}, ErrExpired
	}
	if c.IssuedAt.After(now.Add(MaxClockSkew)) {
		return Claims{}, ErrNotYetValid
	}
	return c, nil
}

// LooksLikeToken reports whether s has the shape of a subject token, to tell
// it apart from other bearer credentials without verifying it.
func LooksLikeToken(s string) bool {
	return strings.HasPrefix(s, prefix)
}
