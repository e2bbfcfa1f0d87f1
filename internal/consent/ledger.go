package consent

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/ledger"
	"github.com/tact-cdp/tact/internal/vault"
)

// Ledger serves and checks the consent ledger: it cuts signed checkpoints,
// answers receipts with inclusion proofs, serves consistency proofs, and
// verifies the whole log.
type Ledger struct {
	store  LedgerStore
	vault  *vault.Vault
	signer *ledger.Signer
	Now    func() time.Time
}

// NewLedger returns the ledger service.
func NewLedger(s LedgerStore, v *vault.Vault, signer *ledger.Signer) *Ledger {
	return &Ledger{store: s, vault: v, signer: signer, Now: time.Now}
}

// Signer is the checkpoint signer.
func (l *Ledger) Signer() *ledger.Signer { return l.signer }

// CutCheckpoint signs and stores a checkpoint if the tree grew since the last
// one. It reports the checkpoint in force afterwards.
func (l *Ledger) CutCheckpoint(ctx context.Context) (ledger.SignedCheckpoint, error) {
	size, err := l.store.Size(ctx)
	if err != nil {
		return ledger.SignedCheckpoint{}, err
	}
	latest, err := l.store.LatestCheckpoint(ctx)
	if err != nil && tact.ErrorCode(err) != tact.ENOTFOUND {
		return latest, err
	}
	if size == 0 || size <= latest.Size {
		return latest, nil
	}
	root, err := ledger.TreeHash(size, l.store.HashReader(ctx))
	if err != nil {
		return latest, fmt.Errorf("ledger: tree hash at %d: %w", size, err)
	}
	now := l.Now().UTC().Truncate(time.Second)
	signed, err := l.signer.Sign(ledger.Checkpoint{Origin: l.signer.Origin(), Size: size, Root: root, Time: now})
	if err != nil {
		return latest, err
	}
	cp := ledger.SignedCheckpoint{Size: size, Root: root, CreatedAt: now, Signed: signed}
	if err := l.store.PutCheckpoint(ctx, cp); err != nil {
		return latest, err
	}
	return cp, nil
}

// CutCheckpointIfNone returns the latest checkpoint, cutting the first one
// if the tree has leaves but no checkpoint yet.
func (l *Ledger) CutCheckpointIfNone(ctx context.Context) (ledger.SignedCheckpoint, error) {
	cp, err := l.store.LatestCheckpoint(ctx)
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		cp, err = l.CutCheckpoint(ctx)
		if err == nil && cp.Size == 0 {
			return cp, tact.Errorf(tact.ENOTFOUND, "the ledger is empty")
		}
	}
	return cp, err
}

// Run cuts checkpoints until ctx ends, often enough that no two are more
// than a second apart while receipts arrive.
func (l *Ledger) Run(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := l.CutCheckpoint(ctx); err != nil && ctx.Err() == nil {
				log.Error("cutting a ledger checkpoint", "err", err)
			}
		}
	}
}

// Proof is an inclusion proof of one leaf in a signed checkpoint.
type Proof struct {
	TreeSize   int64         `json:"treeSize"`
	RootHash   ledger.Hash   `json:"rootHash"`
	Hashes     []ledger.Hash `json:"hashes"`
	Checkpoint string        `json:"checkpoint"`
}

// ReceiptView is GET /v1/consent/receipts/{id}: the receipt, what its leaf
// holds and, once a checkpoint covers it, the proof.
type ReceiptView struct {
	Receipt   json.RawMessage `json:"receipt"`
	Erased    bool            `json:"erased,omitempty"`
	LeafIndex int64           `json:"leafIndex"`
	LeafData  string          `json:"leafData"`
	LeafHash  ledger.Hash     `json:"leafHash"`
	Salt      string          `json:"salt,omitempty"`
	Proof     *Proof          `json:"proof"`
	Pending   bool            `json:"pending,omitempty"`
}

// Receipt returns a receipt with its inclusion proof.
func (l *Ledger) Receipt(ctx context.Context, id string) (ReceiptView, error) {
	var v ReceiptView
	if !validReceiptID(id) {
		return v, tact.Errorf(tact.ENOTFOUND, "receipt not found")
	}
	r, err := l.store.Receipt(ctx, id)
	if err != nil {
		return v, err
	}
	data := ledger.LeafData(r.ID, r.Commitment)
	v.LeafIndex, v.LeafData, v.LeafHash = r.LeafIndex, string(data), ledger.LeafHash(data)
	if r.Body == nil {
		v.Erased, v.Receipt = true, json.RawMessage("null")
	} else {
		v.Receipt = json.RawMessage(r.Body)
		if salt, err := l.openSalt(ctx, r); err == nil {
			v.Salt = hex.EncodeToString(salt)
		}
	}
	cp, err := l.store.CheckpointCovering(ctx, r.LeafIndex)
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		v.Pending = true
		return v, nil
	} else if err != nil {
		return v, err
	}
	hashes, err := ledger.InclusionProof(cp.Size, r.LeafIndex, l.store.HashReader(ctx))
	if err != nil {
		return v, fmt.Errorf("ledger: inclusion proof: %w", err)
	}
	v.Proof = &Proof{TreeSize: cp.Size, RootHash: cp.Root, Hashes: hashes, Checkpoint: cp.Signed}
	return v, nil
}

// openSalt needs the subject's key; it fails once the subject is erased.
func (l *Ledger) openSalt(ctx context.Context, r StoredReceipt) ([]byte, error) {
	k, err := l.store.ReceiptKey(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	dk, err := l.vault.UnwrapDataKey(ctx, k.ID, k.Wrapped)
	if err != nil {
		return nil, err
	}
	return dk.Open(SaltField, r.SealedSalt)
}

// ConsistencyView is GET /v1/ledger/consistency.
type ConsistencyView struct {
	From     int64         `json:"from"`
	To       int64         `json:"to"`
	FromRoot ledger.Hash   `json:"fromRoot"`
	ToRoot   ledger.Hash   `json:"toRoot"`
	Hashes   []ledger.Hash `json:"hashes"`
}

// Consistency proves that the tree of size from is a prefix of size to.
// Both sizes must be those of signed checkpoints.
func (l *Ledger) Consistency(ctx context.Context, from, to int64) (ConsistencyView, error) {
	v := ConsistencyView{From: from, To: to}
	if from < 1 || to < from {
		return v, tact.Errorf(tact.EINVALID, "need 1 ≤ from ≤ to")
	}
	a, err := l.store.Checkpoint(ctx, from)
	if err != nil {
		return v, tact.Errorf(tact.ENOTFOUND, "no checkpoint of size %d", from)
	}
	b, err := l.store.Checkpoint(ctx, to)
	if err != nil {
		return v, tact.Errorf(tact.ENOTFOUND, "no checkpoint of size %d", to)
	}
	hashes, err := ledger.ConsistencyProof(to, from, l.store.HashReader(ctx))
	if err != nil {
		return v, fmt.Errorf("ledger: consistency proof: %w", err)
	}
	v.FromRoot, v.ToRoot, v.Hashes = a.Root, b.Root, hashes
	return v, nil
}

// VerifyError names the first leaf or checkpoint that does not verify.
type VerifyError struct {
	Leaf       int64 // -1 when the problem is a checkpoint
	ReceiptID  string
	Checkpoint int64
	Reason     string
}

func (e *VerifyError) Error() string {
	if e.Leaf >= 0 {
		return fmt.Sprintf("leaf %d (receipt %s): %s", e.Leaf, e.ReceiptID, e.Reason)
	}
	return fmt.Sprintf("checkpoint at size %d: %s", e.Checkpoint, e.Reason)
}

// VerifyReport summarises a successful verification.
type VerifyReport struct {
	Leaves      int64
	Erased      int64
	Checkpoints int
}

// Verify recomputes every leaf from its stored receipt (opening the salt
// with the subject's key; erased subjects' leaves are taken as stored),
// rebuilds the tree, checks each checkpoint's signature and root, and the
// consistency between consecutive checkpoints. progress, if set, is called
// with the number of leaves done.
func (l *Ledger) Verify(ctx context.Context, progress func(int64)) (VerifyReport, error) {
	var rep VerifyReport
	verifier, err := ledger.NewVerifier(l.signer.VerifierKey())
	if err != nil {
		return rep, err
	}
	// A running server may append meanwhile: verify the tree as it stands
	// now, and the checkpoints within it.
	size, err := l.store.Size(ctx)
	if err != nil {
		return rep, err
	}
	var cps []ledger.SignedCheckpoint
	if err := l.store.Checkpoints(ctx, func(c ledger.SignedCheckpoint) error {
		if c.Size <= size {
			cps = append(cps, c)
		}
		return nil
	}); err != nil {
		return rep, err
	}
	tree := &ledger.MemoryTree{}
	var prev *ledger.SignedCheckpoint
	next := 0
	checkCheckpoints := func() error {
		for next < len(cps) && cps[next].Size == tree.Size() {
			cp := cps[next]
			c, err := verifier.Open(cp.Signed)
			if err != nil {
				return &VerifyError{Leaf: -1, Checkpoint: cp.Size, Reason: "signature does not verify: " + err.Error()}
			}
			root, err := ledger.TreeHash(cp.Size, tree)
			if err != nil {
				return err
			}
			if c.Size != cp.Size || c.Root != cp.Root || root != cp.Root {
				return &VerifyError{Leaf: -1, Checkpoint: cp.Size, Reason: "root does not match the tree recomputed from the receipts"}
			}
			if prev != nil {
				proof, err := ledger.ConsistencyProof(cp.Size, prev.Size, tree)
				if err != nil {
					return err
				}
				if err := ledger.CheckConsistency(proof, cp.Size, cp.Root, prev.Size, prev.Root); err != nil {
					return &VerifyError{Leaf: -1, Checkpoint: cp.Size, Reason: fmt.Sprintf("not consistent with the checkpoint at size %d", prev.Size)}
				}
			}
			prev = &cps[next]
			next++
			rep.Checkpoints++
		}
		return nil
	}
	var lastKeyID vault.KeyID
	var lastKey vault.DataKey
	err = l.store.Receipts(ctx, size, func(r LeafReceipt, stored ledger.Hash) error {
		n := tree.Size()
		if r.LeafIndex != n {
			return &VerifyError{Leaf: n, Reason: "no receipt is stored for this leaf"}
		}
		bad := func(reason string) error { return &VerifyError{Leaf: n, ReceiptID: r.ID, Reason: reason} }
		commitment := r.Commitment
		switch {
		case r.Body != nil && r.Key != nil:
			if r.Key.ID != lastKeyID {
				dk, err := l.vault.UnwrapDataKey(ctx, r.Key.ID, r.Key.Wrapped)
				if err != nil {
					return bad("the subject's data key does not open")
				}
				lastKeyID, lastKey = r.Key.ID, dk
			}
			salt, err := lastKey.Open(SaltField, r.SealedSalt)
			if err != nil {
				return bad("the sealed salt does not open")
			}
			// The commitment binds the body; the body must name its own
			// id (a cheap check: canonical bodies carry it verbatim).
			if !bytes.Contains(r.Body, []byte(`"receiptId":"`+r.ID+`"`)) {
				return bad("the stored receipt carries another id")
			}
			commitment = ledger.Commitment(salt, r.Body)
			if commitment != r.Commitment {
				return bad("the stored receipt does not match its commitment")
			}
		case r.Body == nil && r.Key == nil:
			rep.Erased++
		default:
			return bad("the receipt is half erased")
		}
		leaf := ledger.LeafHash(ledger.LeafData(r.ID, commitment))
		if leaf != stored {
			return bad("the leaf differs from the stored tree")
		}
		if err := tree.Append(leaf); err != nil {
			return err
		}
		if progress != nil && tree.Size()%10000 == 0 {
			progress(tree.Size())
		}
		return checkCheckpoints()
	})
	if err != nil {
		return rep, err
	}
	if err := checkCheckpoints(); err != nil {
		return rep, err
	}
	if next < len(cps) {
		return rep, &VerifyError{Leaf: -1, Checkpoint: cps[next].Size, Reason: fmt.Sprintf("covers more leaves than the %d stored", tree.Size())}
	}
	if size != tree.Size() {
		return rep, &VerifyError{Leaf: tree.Size(), Reason: fmt.Sprintf("the ledger head says %d leaves, %d receipts are stored", size, tree.Size())}
	}
	if progress != nil {
		progress(tree.Size())
	}
	rep.Leaves = tree.Size()
	return rep, nil
}
