package consent

import (
	"context"
	"time"

	"github.com/tact-cdp/tact/internal/ledger"
	"github.com/tact-cdp/tact/internal/vault"
)

// Identity is one identifier of a shopper, known only by its pseudonym.
type Identity struct {
	Pseudonym vault.Pseudonym
	Kind      vault.Kind
	SubjectID string
	TokenGen  uint32 // current subject-token generation (anonymous ids)
	CreatedAt time.Time
}

// Subject is one shopper: a group of linked identities with one consent state
// and one or more data keys.
type Subject struct {
	ID        string
	CreatedAt time.Time
	Minor     bool
	GPCAt     time.Time // zero when no GPC signal was ever recorded
	// RestrictedAt is when processing was restricted (GDPR Art. 18); zero
	// when it is not.
	RestrictedAt time.Time
	State        State
}

// Flags are the subject facts the policy needs.
func (s Subject) Flags() Flags {
	return Flags{Minor: s.Minor, GPC: !s.GPCAt.IsZero(), Restricted: !s.RestrictedAt.IsZero()}
}

// StoredKey is a subject's wrapped data key.
type StoredKey struct {
	ID      vault.KeyID
	Wrapped vault.WrappedKey
}

// StoredReceipt is a receipt as the ledger stores it.
type StoredReceipt struct {
	ID         string
	LeafIndex  int64
	SubjectID  string // empty once the subject is erased
	Body       []byte // canonical receipt; nil once the subject is erased
	SealedSalt []byte // the salt sealed under the subject's data key
	Commitment [32]byte
	CreatedAt  time.Time
}

// NoticeRecord is a published notice version and what it said of each purpose,
// so that a decision made against an older notice records the versions the
// shopper actually saw.
type NoticeRecord struct {
	Version   string                 `json:"version"`
	CreatedAt time.Time              `json:"createdAt"`
	Purposes  map[string]PurposeRule `json:"purposes"`
}

// Store is what the consent service needs from storage. Reads outside Write
// see committed data; everything a decision touches happens inside Write, in
// one durable transaction.
type Store interface {
	Write(ctx context.Context, fn func(Tx) error) error
	Identity(ctx context.Context, p vault.Pseudonym) (Identity, error) // ENOTFOUND
	Subject(ctx context.Context, id string) (Subject, error)           // ENOTFOUND
	Notice(ctx context.Context, version string) (NoticeRecord, error)  // ENOTFOUND
	PutNotice(ctx context.Context, n NoticeRecord) error               // idempotent
}

// Tx is the transactional part of Store.
type Tx interface {
	Identity(ctx context.Context, p vault.Pseudonym) (Identity, bool, error)
	Subject(ctx context.Context, id string) (Subject, error)
	SubjectHasKind(ctx context.Context, subjectID string, kind vault.Kind) (bool, error)
	// CreateSubject stores a new subject with its data key and its (new)
	// identities, in as few round trips as the engine allows.
	CreateSubject(ctx context.Context, s Subject, key StoredKey, ids ...Identity) error
	// CreateFreshSubject is CreateSubject for a subject whose identifiers
	// nobody can know yet (tact made them in this request): no other write
	// of the transaction can look them up, so the store may write the rows
	// with its end-of-batch flush.
	CreateFreshSubject(ctx context.Context, s Subject, key StoredKey, ids ...Identity) error
	AddIdentity(ctx context.Context, id Identity) error
	SetIdentitySubject(ctx context.Context, p vault.Pseudonym, subjectID string) error
	SetTokenGen(ctx context.Context, p vault.Pseudonym, gen uint32) error
	// MergeSubjects moves identities, keys and receipts of from into into and
	// deletes from. The caller saves the merged state.
	MergeSubjects(ctx context.Context, from, into string) error
	SaveSubject(ctx context.Context, s Subject) error
	SubjectKey(ctx context.Context, subjectID string) (StoredKey, error)
	// AppendReceipt adds the receipt to the ledger. Leaves are assigned when
	// the transaction is about to commit (so the ledger's lock is held only
	// then); *leafIndex is set by the time Write returns without error.
	AppendReceipt(ctx context.Context, r StoredReceipt, leafIndex *int64) error
}

// LeafReceipt is a stored receipt with the data key that sealed its salt
// (Key is nil once the subject is erased).
type LeafReceipt struct {
	StoredReceipt
	Key *StoredKey
}

// LedgerStore is what the ledger needs from storage.
type LedgerStore interface {
	Size(ctx context.Context) (int64, error)
	HashReader(ctx context.Context) ledger.HashReader
	Receipt(ctx context.Context, id string) (StoredReceipt, error)
	LatestCheckpoint(ctx context.Context) (ledger.SignedCheckpoint, error)
	CheckpointCovering(ctx context.Context, leaf int64) (ledger.SignedCheckpoint, error)
	Checkpoint(ctx context.Context, size int64) (ledger.SignedCheckpoint, error)
	PutCheckpoint(ctx context.Context, c ledger.SignedCheckpoint) error
	Checkpoints(ctx context.Context, fn func(ledger.SignedCheckpoint) error) error
	Receipts(ctx context.Context, below int64, fn func(LeafReceipt, ledger.Hash) error) error
	ReceiptKey(ctx context.Context, receiptID string) (StoredKey, error) // ENOTFOUND once erased
}
