package consent

import (
	"time"
)

// Record is the latest decision on record for one purpose of one subject,
// with the receipt that made it.
type Record struct {
	Granted   bool      `json:"g"`
	Pending   bool      `json:"p,omitempty"`
	Version   string    `json:"v"`
	ReceiptID string    `json:"r"`
	Method    Method    `json:"m"`
	Since     time.Time `json:"s"`
	Expires   time.Time `json:"e"`
}

// State is a subject's decisions on record, by purpose. Purposes without a
// record take the regime's default.
type State map[string]Record

// Clone returns a copy.
func (s State) Clone() State {
	out := make(State, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}

// Stricter merges two subjects' states when a trusted link joins them
// (DESIGN principle 3): where both have a record and they disagree, the
// denial wins; where both grant, the later grant stands; a record on one side
// only applies to both.
func Stricter(a, b State) State {
	out := a.Clone()
	for purpose, rb := range b {
		ra, ok := out[purpose]
		switch {
		case !ok:
			out[purpose] = rb
		case !rb.Granted && ra.Granted, rb.Pending && ra.Granted && !ra.Pending:
			out[purpose] = rb
		case ra.Granted == rb.Granted && ra.Pending == rb.Pending && rb.Since.After(ra.Since):
			out[purpose] = rb
		}
	}
	return out
}

// Status says why a purpose is or is not allowed now.
type Status string

// Statuses of an effective purpose state.
const (
	StatusRequired   Status = "required" // necessary processing, not consent-based
	StatusGranted    Status = "granted"
	StatusDenied     Status = "denied"
	StatusPending    Status = "pending"    // granted, awaiting double opt-in
	StatusDefault    Status = "default"    // no decision: the regime's default applies
	StatusExpired    Status = "expired"    // the consent is older than the regime's validity
	StatusOutdated   Status = "outdated"   // the purpose changed materially since it was granted
	StatusRestricted Status = "restricted" // processing restricted on the shopper's request (GDPR Art. 18)
)

// PurposeView is the effective state of one purpose now, as the API shows it.
type PurposeView struct {
	Granted   bool       `json:"granted"`
	Pending   bool       `json:"pending,omitempty"`
	Status    Status     `json:"status"`
	ReceiptID string     `json:"receiptId,omitempty"`
	Since     *time.Time `json:"since,omitempty"`
	Expires   *time.Time `json:"expires,omitempty"`
	Version   string     `json:"version,omitempty"`
}
