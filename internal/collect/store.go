package collect

import (
	"context"
	"time"

	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/vault"
)

// Shopper is a known subject as the gate reads it.
type Shopper struct {
	Subject consent.Subject
	Key     consent.StoredKey // the subject's newest data key
}

// Row is one event to store. Rows that are not Personal only reserve their
// dedup key (measurement-only events must not be counted twice either).
type Row struct {
	DedupKey   [16]byte
	HasDedup   bool // false when the SDK sent no messageId (tact made one)
	Personal   bool
	SubjectID  string
	MessageID  string
	Type       string
	Event      string
	OccurredAt time.Time
	ReceivedAt time.Time
	Purposes   uint64 // bit set, see Bits
	ReceiptID  string
	KeyID      vault.KeyID
	Payload    []byte // sealed
}

// Store is what collection needs from storage.
type Store interface {
	// Shoppers returns, for the identity pseudonyms that are known, their
	// subject and its newest data key.
	Shoppers(ctx context.Context, ps []vault.Pseudonym) (map[vault.Pseudonym]Shopper, error)
	// Suppressions returns every suppression still running at now: the
	// pseudonym's erasure time and end.
	Suppressions(ctx context.Context, now time.Time) (map[vault.Pseudonym][2]time.Time, error)
	// PurposeBits returns the stable bit of each purpose, assigning bits
	// to purposes that have none yet.
	PurposeBits(ctx context.Context, purposes []string) (map[string]uint, error)
	// SubjectEvents returns a subject's events stored under at least one
	// purpose of mask, oldest first, after the event id after, at most
	// limit: the purpose filter is part of the store query.
	SubjectEvents(ctx context.Context, subjectID string, mask uint64, after int64, limit int) ([]StoredEvent, error)
	// SubjectKeys returns every data key of a subject.
	SubjectKeys(ctx context.Context, subjectID string) ([]consent.StoredKey, error)
	// SubjectsChangedSince lists subjects whose consent state changed after
	// the cursor (0: all), in (cursor, id) order, at most limit.
	SubjectsChangedSince(ctx context.Context, cursor int64, afterID string, limit int) ([]SubjectChange, error)
	// StripPurposes keeps, on each subject's events, only the purposes in
	// its Keep and deletes events left with none, all in one transaction.
	StripPurposes(ctx context.Context, strips []Strip) (stripped, deleted int64, err error)
	// Suppress records erased shoppers by suppression pseudonym.
	Suppress(ctx context.Context, ps []vault.Pseudonym, erasedAt, until time.Time) error
	// EventKinds lists the distinct (type, event name) pairs stored.
	EventKinds(ctx context.Context) ([][2]string, error)
	// DeleteExpired deletes up to limit events of a type and name that
	// occurred before cutoff (mask non-zero: only those stored under one of
	// its purposes).
	DeleteExpired(ctx context.Context, typ, event string, mask uint64, cutoff time.Time, limit int) (int64, error)
	// WriteEvents runs fn in a durable write transaction (group commit).
	WriteEvents(ctx context.Context, fn func(Tx) error) error
}

// Tx is the transactional part of Store.
type Tx interface {
	consent.Tx
	// InsertEvents stores the rows whose dedup key is new (rows without
	// one always are) and reports, per row, whether it was a duplicate.
	InsertEvents(ctx context.Context, rows []Row) (duplicate []bool, err error)
	// CountEvents adds to the persistent event counters.
	CountEvents(ctx context.Context, counts map[string]int64) error
}

// StoredEvent is an event as stored: minimised columns and the sealed
// payload.
type StoredEvent struct {
	Bucket     int64 // where the store keeps it (a replay's cursor)
	ID         int64
	SubjectID  string
	MessageID  string
	Type       string
	Event      string
	OccurredAt time.Time
	ReceivedAt time.Time
	Purposes   uint64
	ReceiptID  string
	KeyID      vault.KeyID
	Payload    []byte
}

// AllPurposes is the mask of a read that may see every stored purpose
// (support, rights requests, audit, security).
const AllPurposes = ^uint64(0) >> 1

// SubjectChange is a subject whose consent state changed.
type SubjectChange struct {
	Subject   consent.Subject
	UpdatedAt int64 // the change cursor
}

// Strip is what the strip job keeps of one subject's stored purposes.
type Strip struct {
	SubjectID string
	Keep      uint64 // purpose bits
}
