// Package rights answers data subject requests (DESIGN 5.4, principle 7):
// access, portability, erasure, rectification, restriction, objection,
// withdrawal, the CCPA opt-outs and the PIPL explanation. Each request is a
// persisted state machine with a due date from the shopper's regime; the
// identity check is proportionate to the risk; the work runs in resumable
// steps so that a crash at any point resumes and no step runs twice.
package rights

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/vault"
)

// Type is what a request asks for.
type Type string

// Request types (DESIGN 5.4).
const (
	TypeAccess         Type = "access"
	TypePortability    Type = "portability"
	TypeErasure        Type = "erasure"
	TypeRectify        Type = "rectify"
	TypeRestrict       Type = "restrict"
	TypeObject         Type = "object"
	TypeWithdraw       Type = "withdraw"
	TypeOptOutSale     Type = "opt_out_sale"
	TypeLimitSensitive Type = "limit_sensitive"
	TypeExplain        Type = "explain"
)

// Types lists every request type, in the order the API documents them.
var Types = []Type{TypeAccess, TypePortability, TypeErasure, TypeRectify, TypeRestrict,
	TypeObject, TypeWithdraw, TypeOptOutSale, TypeLimitSensitive, TypeExplain}

// Immediate reports whether a request takes effect on submission without
// verification: stopping processing can only protect the shopper, so
// anyone may ask for it (the same rule as denials of consent).
func (t Type) Immediate() bool {
	switch t {
	case TypeObject, TypeWithdraw, TypeOptOutSale, TypeLimitSensitive:
		return true
	}
	return false
}

// Reports reports whether the request is answered with a report the
// shopper downloads.
func (t Type) Reports() bool { return t == TypeAccess || t == TypePortability || t == TypeExplain }

func (t Type) valid() bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// Status is where a request stands.
type Status string

// Statuses. received → pending_verification (or paused, where the regime
// stops the clock while identity is awaited) → verified → in_progress →
// completed | denied | expired.
const (
	StatusReceived            Status = "received"
	StatusPendingVerification Status = "pending_verification"
	StatusPaused              Status = "paused"
	StatusVerified            Status = "verified"
	StatusInProgress          Status = "in_progress"
	StatusCompleted           Status = "completed"
	StatusDenied              Status = "denied"
	StatusExpired             Status = "expired"
)

// Statuses lists every status.
var Statuses = []Status{StatusReceived, StatusPendingVerification, StatusPaused, StatusVerified,
	StatusInProgress, StatusCompleted, StatusDenied, StatusExpired}

// Open reports whether the request still awaits an answer.
func (s Status) Open() bool {
	switch s {
	case StatusCompleted, StatusDenied, StatusExpired:
		return false
	}
	return true
}

// Scope is how far a request reaches.
type Scope string

const (
	// ScopeLinked: the shopper proved an email or userId (or the shop
	// vouched for them): everything linked to it.
	ScopeLinked Scope = "linked"
	// ScopeBrowser: only a browser's subject token was shown: only that
	// browser's own anonymous profile, never data reached through links.
	ScopeBrowser Scope = "browser"
)

// Request is one data subject request as stored.
type Request struct {
	ID              string
	Type            Type
	Status          Status
	Regime          string
	Locale          string
	Scope           Scope
	VerifiedBy      string // email_code | server_key:<id> | subject_token | ""
	TargetKind      vault.Kind
	Target          vault.Pseudonym // identity pseudonym of the identifier named
	SubjectID       string          // resolved when the work starts; "" when unknown
	Key             consent.StoredKey
	Shredded        bool   // the request's own key is gone (detail unreadable)
	SealedDetail    []byte // Detail, sealed under Key
	ReceivedAt      time.Time
	DueAt           time.Time
	FirstDueAt      time.Time // the due date before any extension
	PausedAt        time.Time // when the clock stopped (paused), zero otherwise
	AcknowledgedAt  time.Time
	VerifiedAt      time.Time
	CompletedAt     time.Time
	ExtensionReason string
	DenialReason    string
	Outcome         json.RawMessage // the completion record
	Step            int             // progress of the work, for resumption
	TokenHash       []byte          // SHA-256 of the request token
	LinkHash        []byte          // SHA-256 of the report link secret
	ReportUntil     time.Time
	LeaseUntil      time.Time
	UpdatedAt       time.Time
}

// Detail is what a request carries that names or concerns the person; it is
// stored sealed.
type Detail struct {
	Email       string         `json:"email,omitempty"`
	UserID      string         `json:"userId,omitempty"`
	AnonymousID string         `json:"anonymousId,omitempty"`
	Purposes    []string       `json:"purposes,omitempty"`
	Traits      map[string]any `json:"traits,omitempty"`
	Filed       string         `json:"filed"` // public | server_key:<id>
}

// Code is a pending verification code, stored as a MAC.
type Code struct {
	RequestID string
	MAC       []byte // HMAC of the 6-digit code
	LinkHash  []byte // SHA-256 of the link secret mailed with it
	ExpiresAt time.Time
	Attempts  int // failed attempts so far
	Used      bool
}

// LogEntry is one transition of a request.
type LogEntry struct {
	Seq    int
	At     time.Time
	Status Status
	Note   string
}

// Mail is a message in the outbox.
type Mail struct {
	ID        string
	CreatedAt time.Time
	SubjectID string
	RequestID string
	KeyOwner  string // "request" or "subject": whose key sealed it
	Sealed    []byte
	SentAt    time.Time
	Attempts  int
	NextTry   time.Time
	ExpiresAt time.Time
}

// Filter selects requests for listing.
type Filter struct {
	Open      bool      // only open requests
	DueBefore time.Time // only those due before (zero: any)
	Limit     int
}

// Store is what requests need from storage.
type Store interface {
	WriteRequests(ctx context.Context, fn func(Tx) error) error
	Request(ctx context.Context, id string) (Request, error) // ENOTFOUND
	Requests(ctx context.Context, f Filter) ([]Request, error)
	RequestLog(ctx context.Context, id string) ([]LogEntry, error)
	RequestsOfSubject(ctx context.Context, subjectID string) ([]Request, error)
	CountRequests(ctx context.Context, now time.Time) (byStatus map[Status]int64, overdue int64, err error)
	// Claim takes a lease on an open request so that one node works on it;
	// false when another node holds it.
	Claim(ctx context.Context, id string, now, until time.Time) (bool, error)
	// ReleaseLeases frees every lease (a single-node store at start: the
	// node that held them is gone).
	ReleaseLeases(ctx context.Context) error
	// Workable lists open requests whose work can run now (verified or in
	// progress, lease free), oldest first.
	Workable(ctx context.Context, now time.Time, limit int) ([]Request, error)
	// Expirable lists requests awaiting verification whose code expired.
	Expirable(ctx context.Context, now time.Time, limit int) ([]Request, error)

	Outbox(ctx context.Context) ([]Mail, error) // oldest first
	Mail(ctx context.Context, id string) (Mail, error)
	DueMail(ctx context.Context, now time.Time, limit int) ([]Mail, error)
	MarkMail(ctx context.Context, id string, sentAt, nextTry time.Time, attempts int) error
	DeleteExpiredMail(ctx context.Context, now time.Time) (int64, error)
}

// Tx is the transactional part of Store.
type Tx interface {
	Request(ctx context.Context, id string) (Request, error) // locked until the end where the engine locks rows
	// PutRequest inserts or updates the request and logs the transition.
	PutRequest(ctx context.Context, r Request, note string) error
	Code(ctx context.Context, requestID string) (Code, bool, error)
	PutCode(ctx context.Context, c Code) error
	QueueMail(ctx context.Context, m Mail) error
}
