package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// Use names what a pseudonym is for. Each use has its own derived key, so
// pseudonyms of one use cannot be joined with those of another.
type Use string

const (
	UseIdentity    Use = "identity" // pseudonyms that join a shopper's identifiers (consent state, links)
	UseEvents      Use = "events"
	UseSuppression Use = "suppression"
	UseLedger      Use = "ledger"
	UseAudit       Use = "audit"
)

// Kind is the kind of identifier a pseudonym stands for. It is part of the
// HMAC message, so equal strings of different kinds never collide.
type Kind string

const (
	KindAnonymousID Kind = "anonymous_id"
	KindUserID      Kind = "user_id"
	KindEmail       Kind = "email"
)

// Pseudonym is a keyed HMAC-SHA256 of a normalised identifier. Its text form
// is 64 lower-case hex characters.
type Pseudonym [32]byte

// ParsePseudonym parses 64 hex characters.
func ParsePseudonym(s string) (Pseudonym, error) {
	var p Pseudonym
	if err := decodeHexInto(p[:], s); err != nil {
		return Pseudonym{}, fmt.Errorf("vault: pseudonym: %w", err)
	}
	return p, nil
}

// String returns the pseudonym in lower-case hex.
func (p Pseudonym) String() string { return hex.EncodeToString(p[:]) }

// IsZero reports whether p is the zero value (no pseudonym).
func (p Pseudonym) IsZero() bool { return p == Pseudonym{} }

// MarshalText encodes p as lower-case hex.
func (p Pseudonym) MarshalText() ([]byte, error) {
	b := make([]byte, hex.EncodedLen(len(p)))
	hex.Encode(b, p[:])
	return b, nil
}

// UnmarshalText decodes hex.
func (p *Pseudonym) UnmarshalText(b []byte) error {
	q, err := ParsePseudonym(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// decodeHexInto decodes exactly len(dst) bytes of hex (either case).
func decodeHexInto(dst []byte, s string) error {
	if len(s) != hex.EncodedLen(len(dst)) {
		return fmt.Errorf("want %d hex characters, got %d", hex.EncodedLen(len(dst)), len(s))
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return errors.New("not hex")
	}
	return nil
}

// Pseudonym returns HMAC-SHA256(key(use), kind || 0x00 || normalized), where
// key(use) is HKDF-SHA256(root, info "tact/v1/pseudonym/"+use). normalized
// must come from Normalize; the vault does not check it again, so that this
// stays cheap (no allocation on the hot path).
func (v *Vault) Pseudonym(use Use, kind Kind, normalized string) Pseudonym {
	pool := v.uses[use]
	if pool == nil {
		pool = v.extraPool(use)
	}
	return pool.sum(kind, normalized)
}

func (v *Vault) extraPool(use Use) *hmacPool {
	if p, ok := v.extra.Load(use); ok {
		return p.(*hmacPool)
	}
	p, _ := v.extra.LoadOrStore(use, newHMACPool(v.derive("pseudonym/"+string(use), 32)))
	return p.(*hmacPool)
}

// hmacPool reuses keyed HMAC states: hmac.New costs two hash
// initialisations and several allocations, Reset only restores saved state.
type hmacPool struct{ pool sync.Pool }

type hmacState struct {
	h   hash.Hash
	buf []byte // message scratch, so Write gets one slice without allocating
	out []byte // Sum scratch
}

func newHMACPool(key []byte) *hmacPool {
	p := &hmacPool{}
	p.pool.New = func() any {
		return &hmacState{h: hmac.New(sha256.New, key), buf: make([]byte, 0, 128), out: make([]byte, 0, sha256.Size)}
	}
	return p
}

func (p *hmacPool) sum(kind Kind, value string) Pseudonym {
	s := p.pool.Get().(*hmacState)
	s.h.Reset()
	s.buf = append(s.buf[:0], kind...)
	s.buf = append(s.buf, 0)
	s.buf = append(s.buf, value...)
	s.h.Write(s.buf)
	s.out = s.h.Sum(s.out[:0])
	var ps Pseudonym
	copy(ps[:], s.out)
	if cap(s.buf) > 4096 {
		s.buf = make([]byte, 0, 128) // don't pin a huge buffer in the pool
	}
	p.pool.Put(s)
	return ps
}
