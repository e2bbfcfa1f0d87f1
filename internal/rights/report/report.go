package report

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/tact-cdp/tact/internal/datamap"
)

// Report is everything an access report shows except the events, which
// stream separately (see Events).
type Report struct {
	RequestID   string
	GeneratedAt time.Time
	Locale      string         // "en" or "zh-CN"; normalised with datamap.NormalizeLocale
	Regime      datamap.Regime // the shopper's regime: deadlines, authority, CCPA section when Model is opt_out
	Map         *datamap.Map   // controller, purposes, categories, recipients
	Subject     string         // the shopper's pseudonym (hex)
	Identities  []Identity
	Traits      map[string]any // opened traits; redacted on output
	Consent     []Receipt      // consent history, oldest first
	// State is the shopper's effective state per purpose now (an opt-out
	// regime's defaults applied by the caller); a purpose missing from it
	// is shown as not granted.
	State       map[string]PurposeState
	Derived     Derived
	Disclosures []Disclosure
	Requests    []PastRequest
	// Signals explain, in the report's locale, which rules and signals
	// tact applied to this shopper (the regime, each purpose's basis, GPC,
	// minor, restriction, in-event signals): the PIPL Art. 48 explanation.
	Signals []string
}

// Identity is an identifier linked to the shopper.
type Identity struct {
	Kind  string // "email", "userId", "anonymousId"
	Value string // the value the requester proved; "" when only the pseudonym is known
	Since time.Time
}

// Receipt is one consent decision of the shopper.
type Receipt struct {
	ID            string
	LeafIndex     int64
	Method        string
	At            time.Time
	NoticeVersion string
	Choices       map[string]bool
	Proof         json.RawMessage // inclusion proof (JSON), nil while no checkpoint covers it
}

// PurposeState is the shopper's current state for one purpose.
type PurposeState struct {
	Granted   bool
	Pending   bool
	ReceiptID string
	Since     time.Time
}

// Derived is what tact derived about the shopper.
type Derived struct {
	Interests   []Interest
	Audiences   []string
	Retargeting []Counter
}

// Interest is one entry of the interest profile.
type Interest struct {
	Category string // catalogue category path
	Score    float64
	Source   string
}

// Counter is a retargeting counter for one item.
type Counter struct {
	ItemID string
	Shown  int
	Until  time.Time
}

// Disclosure records personal data sent to a recipient.
type Disclosure struct {
	Recipient  string // recipient id in the data map
	At         time.Time
	Purpose    string
	Categories []string
}

// PastRequest is a rights request of the shopper.
type PastRequest struct {
	ID          string
	Type        string
	Status      string
	ReceivedAt  time.Time
	CompletedAt time.Time // zero while open
}

// Event is one stored event, opened.
type Event struct {
	MessageID  string
	Type       string
	Event      string
	OccurredAt time.Time
	ReceivedAt time.Time
	Purposes   []string
	ReceiptID  string
	// Payload is the opened, minimised event as stored (a JSON object); it
	// is redacted on output (see Redact).
	Payload json.RawMessage
}

// Events streams a shopper's events oldest first. It calls yield once per
// event and must stop and return yield's error as soon as yield returns
// one; it returns its own error if reading fails.
type Events func(yield func(Event) error) error

// Schema names the version of the JSON format.
const Schema = "tact.access-report/v1"

var errNoMap = errors.New("report: no data map")

// Sources of a data category (see categorySource).
const (
	SourceYou  = "you"
	SourceShop = "shop"
	SourceTact = "tact"
)

// Rights families: which law's list of rights the report shows.
const (
	FamilyGDPR = "gdpr"
	FamilyCCPA = "ccpa"
	FamilyPIPL = "pipl"
)

// Purpose statuses in the processing section.
const (
	StatusRequired   = "required"
	StatusSystem     = "system"
	StatusGranted    = "granted"
	StatusPending    = "pending"
	StatusNotGranted = "not_granted"
)

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
