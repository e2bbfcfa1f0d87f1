package collect

import (
	"slices"
	"strings"
)

// Drop reasons, as counted in the store and shown by /admin/api/stats.
const (
	ReasonNoConsent    = "no_consent"    // no purpose of the event is granted (or nobody is named)
	ReasonNotDeclared  = "not_declared"  // the data map declares no purpose for the event
	ReasonSignal       = "signal_denied" // the event's own consent signals or GPC deny what was left
	ReasonSensitive    = "sensitive"     // about a sensitive item without the separate grant
	ReasonSuppressed   = "suppressed"    // the shopper was erased and has not consented since
	ReasonDuplicate    = "duplicate"     // a messageId already received within 7 days
	ReasonNoIdentifier = "no_identifier" // names no one: measurement only
	ReasonRejected     = "rejected"      // invalid, answered in "rejected"
)

// GateInput is what the gate knows of one event.
type GateInput struct {
	// Declared are the purposes the data map declares for the event.
	Declared []string
	// Granted reports whether the shopper's server-side state allows a
	// purpose now (regime defaults, expiry, minor and GPC flags included).
	// Nil: no shopper is known, nothing is granted.
	Granted func(purpose string) bool
	// Denied are purposes refused by signals carried with the event itself
	// (Segment or RudderStack consent categories, a GPC header).
	Denied map[string]bool
	// Sensitive: the event is about a sensitive item or category.
	Sensitive bool
	// Separate gives, for a purpose, the separately consented purpose that
	// stands in for it on sensitive data ("personalization" →
	// "sensitive_personalization").
	Separate func(purpose string) (string, bool)
	// Suppressed: the shopper was erased and has not consented since.
	Suppressed bool
}

// Gate returns the purposes an event may be stored for — a subset of both
// what is granted and what is declared (for sensitive events, of the
// separately consented purposes standing in for the declared ones) — or,
// when there are none, the reason. It is a pure function: the fuzz target
// checks that invariant.
func Gate(in GateInput) (purposes []string, reason string) {
	switch {
	case in.Suppressed:
		return nil, ReasonSuppressed
	case len(in.Declared) == 0:
		return nil, ReasonNotDeclared
	case in.Granted == nil:
		return nil, ReasonNoConsent
	}
	granted, signalDenied, sensitiveDenied := false, false, false
	for _, p := range in.Declared {
		if !in.Granted(p) {
			continue
		}
		granted = true
		if in.Denied[p] {
			signalDenied = true
			continue
		}
		if !in.Sensitive {
			purposes = appendOnce(purposes, p)
			continue
		}
		// Sensitive data is kept only under the purpose the shopper granted
		// separately for it, so that reads under the ordinary purpose never
		// see it and withdrawing the separate grant strips it.
		q, ok := "", false
		if in.Separate != nil {
			q, ok = in.Separate(p)
		}
		if !ok || !in.Granted(q) || in.Denied[q] {
			sensitiveDenied = true
			continue
		}
		purposes = appendOnce(purposes, q)
	}
	switch {
	case len(purposes) > 0:
		return purposes, ""
	case !granted:
		return nil, ReasonNoConsent
	case sensitiveDenied && !signalDenied:
		return nil, ReasonSensitive
	default:
		return nil, ReasonSignal
	}
}

func appendOnce(list []string, p string) []string {
	if slices.Contains(list, p) {
		return list
	}
	return append(list, p)
}

// Signals maps the consent category ids that consent platforms put in
// events (Segment's categoryPreferences keys, RudderStack's consent ids) to
// tact purposes. Ids are matched case-insensitively; a tact purpose id
// always maps to itself.
type Signals map[string][]string

// DefaultSignals covers the category names Segment's consent manager and
// the common platforms use (OneTrust group ids C0001–C0005, Ketch and
// iubenda purpose names). Unknown ids are ignored: a signal can only narrow
// what the server-side state allows, never widen it.
var DefaultSignals = Signals{
	"c0002": {"analytics"}, "performance": {"analytics"}, "statistics": {"analytics"}, "measurement": {"analytics"}, "analytics_storage": {"analytics"},
	"c0003": {"personalization"}, "functional": {"personalization"}, "personalisation": {"personalization"}, "preferences": {"personalization"}, "personalization_storage": {"personalization"},
	"c0004": {"advertising", "sale_share"}, "targeting": {"advertising", "sale_share"}, "marketing": {"advertising", "sale_share"}, "ads": {"advertising", "sale_share"}, "ad_storage": {"advertising", "sale_share"},
	"c0005": {"advertising", "sale_share"}, "social": {"advertising", "sale_share"}, "social media": {"advertising", "sale_share"},
	"sale": {"sale_share"}, "sharing": {"sale_share"}, "do not sell": {"sale_share"},
}

// purposesOf returns the purposes a signal id speaks for.
func (s Signals) purposesOf(id string, isPurpose func(string) bool) []string {
	id = strings.ToLower(strings.TrimSpace(id))
	if isPurpose(id) {
		return []string{id}
	}
	return s[id]
}
