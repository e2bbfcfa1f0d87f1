package consent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// ReceiptSchema names the receipt format. Its fields follow ISO/IEC TS 27560
// (consent record information structure): who (pseudonymous subjects), what
// (purposes with versions and legal basis), when, how (method, authority),
// under which notice and jurisdiction, and until when.
const ReceiptSchema = "tact-receipt/1"

// Method is how a decision was collected.
type Method string

// Methods a client may send, and those tact writes itself.
const (
	MethodBanner        Method = "banner"
	MethodPrivacyCenter Method = "privacy_center"
	MethodAPI           Method = "api"
	MethodImport        Method = "import"
	MethodGPC           Method = "gpc"
	MethodDoubleOptIn   Method = "double_opt_in"
	MethodSoftOptIn     Method = "soft_opt_in"
	MethodUnsubscribe   Method = "unsubscribe"
	MethodRequest       Method = "request"
)

// ClientMethod reports whether a caller of POST /v1/consent may name m.
func ClientMethod(m Method) bool {
	switch m {
	case MethodBanner, MethodPrivacyCenter, MethodAPI, MethodImport, MethodGPC:
		return true
	}
	return false
}

func knownMethod(m Method) bool {
	switch m {
	case MethodDoubleOptIn, MethodSoftOptIn, MethodUnsubscribe, MethodRequest:
		return true
	}
	return ClientMethod(m)
}

// Authority is on whose word a decision was recorded (DESIGN principle 3).
type Authority string

// Authorities.
const (
	AuthorityBrowser  Authority = "browser"    // a write key, for its own browser
	AuthorityUserHash Authority = "user_hash"  // a write key with the shop's userHash
	AuthorityServer   Authority = "server_key" // the shop's backend
	AuthorityAnyone   Authority = "anyone"     // a denial, which anyone may record
	AuthoritySystem   Authority = "system"     // tact itself (double opt-in, requests)
)

// SubjectRef names a subject in a receipt by a ledger pseudonym only.
type SubjectRef struct {
	Kind      string `json:"kind"`
	Pseudonym string `json:"pseudonym"`
}

// PurposeDecision is what a receipt says about one purpose.
type PurposeDecision struct {
	ID         string `json:"id"`
	Version    string `json:"version"`
	LegalBasis string `json:"legalBasis"`
	Granted    bool   `json:"granted"`
	Pending    bool   `json:"pending,omitempty"`
}

// Receipt is the proof of one decision. Its canonical form is what the
// ledger commits to.
type Receipt struct {
	Schema        string            `json:"schema"`
	ID            string            `json:"receiptId"`
	Timestamp     time.Time         `json:"timestamp"`
	Controller    string            `json:"controller"`
	NoticeVersion string            `json:"noticeVersion"`
	Language      string            `json:"language"`
	Jurisdiction  string            `json:"jurisdiction"`
	Method        Method            `json:"method"`
	Authority     Authority         `json:"authority"`
	GPC           bool              `json:"gpc"`
	Subjects      []SubjectRef      `json:"subjects"`
	Purposes      []PurposeDecision `json:"purposes"`
	Expires       time.Time         `json:"expires"`
	Evidence      map[string]string `json:"evidence,omitempty"`
}

// Limits on the evidence a client may attach to a receipt.
const (
	MaxEvidenceEntries = 16
	MaxEvidenceLen     = 256
)

// normalize puts a receipt into canonical order and precision.
func (r *Receipt) normalize() {
	r.Timestamp = r.Timestamp.UTC().Truncate(time.Microsecond)
	r.Expires = r.Expires.UTC().Truncate(time.Microsecond)
	slices.SortFunc(r.Subjects, func(a, b SubjectRef) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Pseudonym, b.Pseudonym)
	})
	slices.SortFunc(r.Purposes, func(a, b PurposeDecision) int { return strings.Compare(a.ID, b.ID) })
	if len(r.Evidence) == 0 {
		r.Evidence = nil
	}
}

// Canonical returns the canonical JSON encoding: fixed field order, sorted
// subjects, purposes and evidence keys, UTC times at microsecond precision.
func (r Receipt) Canonical() []byte {
	r.Subjects = slices.Clone(r.Subjects)
	r.Purposes = slices.Clone(r.Purposes)
	r.normalize()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		// Every field is a plain value; encoding cannot fail.
		panic(fmt.Sprintf("consent: encoding a receipt: %v", err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// Validate checks a receipt's structure.
func (r *Receipt) Validate() error {
	switch {
	case r.Schema != ReceiptSchema:
		return fmt.Errorf("receipt schema is %q, want %q", r.Schema, ReceiptSchema)
	case !validReceiptID(r.ID):
		return errors.New("receipt id is malformed")
	case r.Timestamp.IsZero():
		return errors.New("receipt has no timestamp")
	case r.NoticeVersion == "":
		return errors.New("receipt has no notice version")
	case !knownMethod(r.Method):
		return fmt.Errorf("receipt method %q is unknown", r.Method)
	case r.Authority == "":
		return errors.New("receipt has no authority")
	case len(r.Subjects) == 0:
		return errors.New("receipt names no subject")
	case len(r.Purposes) == 0:
		return errors.New("receipt decides no purpose")
	case len(r.Evidence) > MaxEvidenceEntries:
		return fmt.Errorf("receipt evidence has more than %d entries", MaxEvidenceEntries)
	}
	seen := map[string]bool{}
	for _, p := range r.Purposes {
		if p.ID == "" || seen[p.ID] {
			return fmt.Errorf("receipt purpose %q is empty or repeated", p.ID)
		}
		seen[p.ID] = true
		if p.Pending && !p.Granted {
			return fmt.Errorf("receipt purpose %q is pending but not granted", p.ID)
		}
	}
	for k, v := range r.Evidence {
		if k == "" || len(k) > MaxEvidenceLen || len(v) > MaxEvidenceLen || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return errors.New("receipt evidence entries must be non-empty UTF-8 keys and values of at most 256 bytes")
		}
	}
	for _, s := range r.Subjects {
		if s.Kind == "" || s.Pseudonym == "" {
			return errors.New("receipt subject needs a kind and a pseudonym")
		}
	}
	return nil
}

// ParseReceipt decodes and validates a receipt. It accepts any valid encoding
// of the receipt fields; Canonical gives the one the ledger commits to.
func ParseReceipt(data []byte) (Receipt, error) {
	var r Receipt
	if !utf8.Valid(data) {
		return r, errors.New("receipt is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("receipt: %w", err)
	}
	if dec.More() {
		return r, errors.New("receipt: trailing data")
	}
	if err := r.Validate(); err != nil {
		return r, err
	}
	r.normalize()
	return r, nil
}

// GrantedPurposes lists the purposes a receipt grants (pending included).
func (r Receipt) GrantedPurposes() []string {
	var out []string
	for _, p := range r.Purposes {
		if p.Granted {
			out = append(out, p.ID)
		}
	}
	return out
}

func validReceiptID(id string) bool {
	if !strings.HasPrefix(id, "rc_") || len(id) != 3+32 {
		return false
	}
	for _, c := range id[3:] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
