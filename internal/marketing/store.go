package marketing

import (
	"context"
	"time"

	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/destination"
)

// StoredAudience is one version of an audience definition.
type StoredAudience struct {
	ID         string
	Version    int
	Definition []byte // canonical JSON
	CreatedAt  time.Time
	CreatedBy  string
}

// Export is one export or sync of an audience to a recipient.
type Export struct {
	ID         string
	AudienceID string
	Version    int
	Recipient  string // destination id
	At         time.Time
	Size       int
	Members    []uint64 // sorted keyed fingerprints
}

// Destination is where audience members go.
type Destination struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"` // webhook | file
	URL         string    `json:"url,omitempty"`
	Recipient   string    `json:"recipient"` // data map recipient id
	Purpose     string    `json:"purpose"`
	Fields      []string  `json:"fields"`
	SecretGen   int       `json:"-"`
	MaxAttempts int       `json:"maxAttempts"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Holding is one shopper a destination holds for an audience.
type Holding struct {
	DestinationID string
	AudienceID    string
	SubjectID     string
	Pseudonym     string
}

// Delivery is one queued webhook request.
type Delivery struct {
	ID            string
	DestinationID string
	Kind          string
	Body          []byte // sealed
	CreatedAt     time.Time
}

// Disclosure is one entry of the disclosure log.
type Disclosure struct {
	At            time.Time
	Recipient     string
	DestinationID string
	Purpose       string
	Categories    []string
	Subject       string // pseudonym of the subject (disclosure use)
	DeliveryID    string
}

// Propagation is one change told to one recipient.
type Propagation struct {
	ID            string
	Subject       string
	DestinationID string
	Recipient     string
	Kind          string
	DeliveryID    string
	CreatedAt     time.Time
	DueAt         time.Time
	Status        string // pending | delivered | dead
	DoneAt        time.Time
	Ref           string // what caused it (a request id), for idempotence
}

// SyncWrite is everything one sync or export writes, in one transaction.
type SyncWrite struct {
	Deliveries   []Delivery
	Disclosures  []Disclosure
	Add          []Holding
	Remove       []Holding
	Export       *Export
	Propagations []Propagation
}

// DeliveryCounts summarises a destination's queue.
type DeliveryCounts struct {
	Pending, Delivered, Dead int
	PropagationsPending      int
	PropagationsOverdue      int
}

// Store is what marketing needs from storage.
type Store interface {
	// SaveAudience stores def as the audience's next version unless it
	// equals the latest; it returns the version in force.
	SaveAudience(ctx context.Context, id string, def []byte, by string, at time.Time) (version int, created bool, err error)
	Audiences(ctx context.Context) ([]StoredAudience, error) // latest version of each
	Exports(ctx context.Context, recipient string, since time.Time) ([]Export, error)

	PutDestination(ctx context.Context, d Destination) error
	Destination(ctx context.Context, id string) (Destination, error) // ENOTFOUND
	Destinations(ctx context.Context) ([]Destination, error)
	Holdings(ctx context.Context, destinationID, audienceID string) ([]Holding, error)
	SubjectHoldings(ctx context.Context, subjectID string) ([]Holding, error)
	HeldSubjects(ctx context.Context) ([]string, error)
	CommitSync(ctx context.Context, w SyncWrite) error

	// Disclosures lists the log entries of a subject pseudonym.
	Disclosures(ctx context.Context, subject string) ([]Disclosure, error)
	Propagations(ctx context.Context, destinationID string, onlyOpen bool) ([]Propagation, error)
	// PropagationRefs lists the destinations already told of (subject, kind, ref).
	PropagationRefs(ctx context.Context, subject, kind, ref string) (map[string]bool, error)
	Counts(ctx context.Context, destinationID string, now time.Time) (DeliveryCounts, error)
	OverduePropagations(ctx context.Context, now time.Time) (int, error)

	// ExportData reads, for at most 500 subjects, what their export needs.
	ExportData(ctx context.Context, ids []string, channel string) (map[string]*MemberData, error)
	// SeparateReceipt reports whether the subject has a receipt granting
	// purpose whose evidence names the recipient.
	SeparateReceipt(ctx context.Context, subjectID, recipientID, purpose string) (bool, error)
	// DueDeliveries claims queued deliveries due at now for lease.
	DueDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]QueuedDelivery, error)
	// FinishDelivery records an attempt's outcome; a delivered one loses its
	// body, and the propagations it carried take its status.
	FinishDelivery(ctx context.Context, id string, at time.Time, o destination.Outcome) error
}

// MemberData is what an export needs of one subject, read in bulk.
type MemberData struct {
	Subject           consent.Subject
	Exists            bool
	Keys              []consent.StoredKey
	SealedContact     []byte
	Locale            string
	SealedUnsubscribe []byte
}

// QueuedDelivery is a delivery claimed from the queue.
type QueuedDelivery struct {
	Delivery
	Attempts int
}
