// Package audit defines tact's access audit log: every read of personal
// data through the admin API or the command line names the actor, their
// role, the declared access purpose, the shopper (by pseudonym) and the
// fields read — never the values — and is written before the answer (fail
// closed). Entries form a hash chain, so an edit or a deletion anywhere
// breaks every later link and `tact audit verify` finds it.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/tact-cdp/tact/internal/vault"
)

// Entry is one line of the log.
type Entry struct {
	ID      int64 // position in the chain, from 1; assigned by the store
	At      time.Time
	Actor   string          // credential id, or "cli:<user>"
	Role    string          // the actor's role
	Purpose string          // the access purpose declared
	Action  string          // what was read
	Subject vault.Pseudonym // the shopper, by audit pseudonym
	Fields  string          // which fields were read, comma separated
	Detail  string
	Hash    [32]byte // SHA-256 over the previous entry's hash and this entry
}

// Chain returns the hash of e following the entry whose hash is prev (the
// zero hash for the first entry). Every field is length-prefixed, so no two
// different entries hash the same.
func Chain(prev [32]byte, e Entry) [32]byte {
	h := sha256.New()
	h.Write([]byte("tact/v1/audit\x00"))
	h.Write(prev[:])
	var n [binary.MaxVarintLen64]byte
	put := func(b []byte) {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
		h.Write(b)
	}
	put(n[:binary.PutVarint(n[:], e.ID)])
	put(n[:binary.PutVarint(n[:], e.At.UnixMicro())])
	for _, s := range []string{e.Actor, e.Role, e.Purpose, e.Action, e.Fields, e.Detail} {
		put([]byte(s))
	}
	put(e.Subject[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Verifier checks a chain entry by entry, in order. Ids increase but may
// have gaps (an engine's sequence may skip); a removed entry still breaks the
// chain because the next entry's hash covers the one before it, and a
// removed tail is found by comparing the last entry with the head the store
// keeps.
type Verifier struct {
	prev  [32]byte
	last  int64
	count int64
}

// Add checks the next entry; the first error names the entry that breaks
// the chain.
func (v *Verifier) Add(e Entry) error {
	if e.ID <= v.last {
		return fmt.Errorf("audit log: entry %d is out of order (after %d)", e.ID, v.last)
	}
	if want := Chain(v.prev, e); want != e.Hash {
		return fmt.Errorf("audit log: entry %d does not match its hash (it, or the entry before it, was changed or removed)", e.ID)
	}
	v.prev, v.last, v.count = e.Hash, e.ID, v.count+1
	return nil
}

// Count is how many entries verified.
func (v *Verifier) Count() int64 { return v.count }

// Last is the id of the last verified entry.
func (v *Verifier) Last() int64 { return v.last }

// Head is the hash of the last verified entry.
func (v *Verifier) Head() [32]byte { return v.prev }
