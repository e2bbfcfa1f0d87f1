// Package ledger owns the consent ledger's cryptography: how a receipt
// becomes a leaf of an append-only Merkle log (RFC 6962 hashing), how signed
// checkpoints are cut and checked, and how inclusion and consistency proofs
// are produced and verified.
//
// A leaf never holds the receipt itself. It commits to the canonical receipt
// together with a random salt that is sealed under the shopper's data key, so
// that once that key is shredded nobody can link the leaf to the shopper any
// more, while the tree and every checkpoint still verify.
package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Hash is a node or leaf hash of the log (SHA-256, RFC 6962 domain separation).
type Hash = tlog.Hash

// SaltSize is the size of the per-receipt random salt.
const SaltSize = 32

const leafPrefix = "tact-receipt/v1\n"

// Commitment binds a receipt body to its salt. Without the salt, the
// commitment reveals nothing about the body, so a guess of whose receipt it is
// cannot be confirmed.
func Commitment(salt, body []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("tact/v1/commit\x00"))
	h.Write(salt)
	h.Write(body)
	var c [32]byte
	h.Sum(c[:0])
	return c
}

// LeafData is the record stored in the log for one receipt: its public id and
// the commitment. Anyone holding a receipt and its salt can recompute it.
func LeafData(receiptID string, commitment [32]byte) []byte {
	b := make([]byte, 0, len(leafPrefix)+len(receiptID)+2+64)
	b = append(b, leafPrefix...)
	b = append(b, receiptID...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, commitment[:])
	b = append(b, '\n')
	return b
}

// ParseLeafData splits leaf data back into receipt id and commitment.
func ParseLeafData(data []byte) (receiptID string, commitment [32]byte, err error) {
	s, ok := strings.CutPrefix(string(data), leafPrefix)
	if !ok {
		return "", commitment, errors.New("ledger: leaf data has no tact-receipt/v1 prefix")
	}
	id, rest, ok := strings.Cut(s, "\n")
	if !ok || id == "" {
		return "", commitment, errors.New("ledger: leaf data has no receipt id")
	}
	c, ok := strings.CutSuffix(rest, "\n")
	if !ok || len(c) != 64 {
		return "", commitment, errors.New("ledger: leaf data has a malformed commitment")
	}
	if _, err := hex.Decode(commitment[:], []byte(c)); err != nil {
		return "", commitment, fmt.Errorf("ledger: leaf commitment: %w", err)
	}
	return id, commitment, nil
}

// LeafHash is the RFC 6962 leaf hash of leaf data: SHA-256(0x00 || data).
func LeafHash(data []byte) Hash { return tlog.RecordHash(data) }

// HashReader reads stored hashes by their stored-hash index
// (see golang.org/x/mod/sumdb/tlog.StoredHashIndex).
type HashReader = tlog.HashReader

// StoredHashes returns the hashes to store when leaf n with the given leaf hash
// is appended, starting at stored index tlog.StoredHashIndex(0, n).
func StoredHashes(n int64, leaf Hash, r HashReader) ([]Hash, error) {
	return tlog.StoredHashesForRecordHash(n, leaf, r)
}

// StoredHashIndex maps (level, n) to the index under which a hash is stored.
func StoredHashIndex(level int, n int64) int64 { return tlog.StoredHashIndex(level, n) }

// TreeHash computes the root of the tree of the first n leaves.
func TreeHash(n int64, r HashReader) (Hash, error) { return tlog.TreeHash(n, r) }

// InclusionProof proves that leaf n is in the tree of size t.
func InclusionProof(t, n int64, r HashReader) ([]Hash, error) {
	p, err := tlog.ProveRecord(t, n, r)
	return p, err
}

// CheckInclusion verifies an inclusion proof of leaf hash h at index n in the
// tree of size t with root th.
func CheckInclusion(proof []Hash, t int64, th Hash, n int64, h Hash) error {
	return tlog.CheckRecord(proof, t, th, n, h)
}

// ConsistencyProof proves that the tree of size n is a prefix of the tree of size t.
func ConsistencyProof(t, n int64, r HashReader) ([]Hash, error) {
	p, err := tlog.ProveTree(t, n, r)
	return p, err
}

// CheckConsistency verifies that the tree of size n with root h is a prefix of
// the tree of size t with root th.
func CheckConsistency(proof []Hash, t int64, th Hash, n int64, h Hash) error {
	return tlog.CheckTree(proof, t, th, n, h)
}

// MemoryTree holds every stored hash in memory. It is used to recompute the
// whole tree during verification and in tests.
type MemoryTree struct {
	hashes []Hash
	n      int64
}

// Append adds the next leaf.
func (m *MemoryTree) Append(leaf Hash) error {
	hs, err := StoredHashes(m.n, leaf, m)
	if err != nil {
		return err
	}
	m.hashes = append(m.hashes, hs...)
	m.n++
	return nil
}

// Size is the number of leaves.
func (m *MemoryTree) Size() int64 { return m.n }

// StoredHash returns the hash at a stored index.
func (m *MemoryTree) StoredHash(index int64) Hash { return m.hashes[index] }

// ReadHashes implements HashReader.
func (m *MemoryTree) ReadHashes(indexes []int64) ([]Hash, error) {
	out := make([]Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 || idx >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("ledger: stored hash %d not present", idx)
		}
		out[i] = m.hashes[idx]
	}
	return out, nil
}
