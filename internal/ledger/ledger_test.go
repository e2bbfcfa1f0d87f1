package ledger

import (
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"
)

func buildTree(t *testing.T, n int) (*MemoryTree, []Hash) {
	t.Helper()
	var m MemoryTree
	var leaves []Hash
	for i := range n {
		salt := make([]byte, SaltSize)
		salt[0] = byte(i)
		leaf := LeafHash(LeafData(fmt.Sprintf("rc_%d", i), Commitment(salt, []byte(fmt.Sprintf(`{"n":%d}`, i)))))
		if err := m.Append(leaf); err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, leaf)
	}
	return &m, leaves
}

func TestInclusionAndConsistency(t *testing.T) {
	tree, leaves := buildTree(t, 37)
	for _, size := range []int64{1, 2, 7, 16, 37} {
		root, err := TreeHash(size, tree)
		if err != nil {
			t.Fatal(err)
		}
		for n := int64(0); n < size; n++ {
			p, err := InclusionProof(size, n, tree)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckInclusion(p, size, root, n, leaves[n]); err != nil {
				t.Errorf("size %d leaf %d: %v", size, n, err)
			}
			if err := CheckInclusion(p, size, root, n, leaves[(n+1)%size]); err == nil && size > 1 {
				t.Errorf("size %d leaf %d: proof accepted another leaf", size, n)
			}
		}
		for old := int64(1); old <= size; old++ {
			oldRoot, _ := TreeHash(old, tree)
			p, err := ConsistencyProof(size, old, tree)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckConsistency(p, size, root, old, oldRoot); err != nil {
				t.Errorf("consistency %d→%d: %v", old, size, err)
			}
		}
	}
	// A tree whose fifth leaf differs is not consistent with the original.
	var forked MemoryTree
	for i, l := range leaves {
		if i == 4 {
			l[0] ^= 1
		}
		forked.Append(l)
	}
	oldRoot, _ := TreeHash(10, &forked)
	root, _ := TreeHash(37, tree)
	p, _ := ConsistencyProof(37, 10, tree)
	if err := CheckConsistency(p, 37, root, 10, oldRoot); err == nil {
		t.Error("a forked history verified as consistent")
	}
}

func TestLeafDataRoundTrip(t *testing.T) {
	c := Commitment([]byte("salt"), []byte("body"))
	id, got, err := ParseLeafData(LeafData("rc_abc", c))
	if err != nil || id != "rc_abc" || got != c {
		t.Fatalf("ParseLeafData = %q, %x, %v", id, got, err)
	}
	for _, bad := range []string{"", "x", leafPrefix + "\n", leafPrefix + "id\nzz\n"} {
		if _, _, err := ParseLeafData([]byte(bad)); err == nil {
			t.Errorf("ParseLeafData(%q) accepted", bad)
		}
	}
	if Commitment([]byte("salt2"), []byte("body")) == c {
		t.Error("commitment does not depend on the salt")
	}
}

func TestCheckpointSignature(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	s, err := NewSigner("shop.example/ledger", priv)
	if err != nil {
		t.Fatal(err)
	}
	tree, _ := buildTree(t, 5)
	root, _ := TreeHash(5, tree)
	cp := Checkpoint{Origin: s.Origin(), Size: 5, Root: root, Time: time.Unix(1700000000, 0).UTC()}
	signed, err := s.Sign(cp)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(s.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Open(signed)
	if err != nil {
		t.Fatal(err)
	}
	if got != cp {
		t.Errorf("Open = %+v, want %+v", got, cp)
	}
	tampered := strings.Replace(signed, "\n5\n", "\n6\n", 1)
	if _, err := v.Open(tampered); err == nil {
		t.Error("a checkpoint with an edited size verified")
	}
	_, other, _ := ed25519.GenerateKey(nil)
	s2, _ := NewSigner("shop.example/ledger", other)
	forged, _ := s2.Sign(cp)
	if _, err := v.Open(forged); err == nil {
		t.Error("a checkpoint signed by another key verified")
	}
}

func BenchmarkAppend(b *testing.B) {
	var m MemoryTree
	leaf := LeafHash([]byte("x"))
	for b.Loop() {
		m.Append(leaf)
	}
}
