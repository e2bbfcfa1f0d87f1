package consent

import (
	"time"

	"github.com/tact-cdp/tact/internal/datamap"
)

// PurposeRule is what the policy needs to know of one consent purpose.
type PurposeRule struct {
	ID              string
	Version         string
	LegalBasis      string
	Required        bool
	SeparateConsent bool
	Sensitive       bool
}

// Purpose ids the consent rules name.
const (
	PurposeNecessary      = "necessary"
	PurposeMarketingEmail = "marketing_email"
)

// minorDenied are the purposes a known minor's data is never used for
// (DESIGN 3, children): advertising, sale/sharing and profiling.
var minorDenied = []string{"advertising", "sale_share", "personalization", "sensitive_personalization"}

// Policy is the consent rulebook derived from the data map and its active
// regime. It is immutable; a new data map makes a new policy.
type Policy struct {
	NoticeVersion  string
	Controller     string
	Regime         string
	optOut         bool
	validity       datamap.Period
	defaultGranted map[string]bool
	gpcDenies      []string
	purposes       []PurposeRule
	byID           map[string]int
}

// NewPolicy builds the policy for a (validated) data map.
func NewPolicy(m *datamap.Map) *Policy {
	r := m.ActiveRegime()
	p := &Policy{
		NoticeVersion:  m.NoticeVersion(),
		Controller:     m.Controller.Name,
		Regime:         r.ID,
		optOut:         r.Model == "opt_out",
		validity:       r.ConsentValidity,
		defaultGranted: map[string]bool{},
		gpcDenies:      r.GPCDenies,
		byID:           map[string]int{},
	}
	if p.validity == (datamap.Period{}) {
		p.validity = datamap.Period{Months: 13}
	}
	if p.optOut {
		for _, id := range r.DefaultGranted {
			p.defaultGranted[id] = true
		}
	}
	for _, mp := range m.ConsentPurposes() {
		p.byID[mp.ID] = len(p.purposes)
		p.purposes = append(p.purposes, PurposeRule{
			ID: mp.ID, Version: mp.Version, LegalBasis: string(mp.LegalBasis),
			Required: mp.Required, SeparateConsent: mp.SeparateConsent, Sensitive: mp.Sensitive,
		})
	}
	return p
}

// Purposes lists the consent purposes in notice order.
func (p *Policy) Purposes() []PurposeRule { return p.purposes }

// Purpose returns the rule for a purpose id.
func (p *Policy) Purpose(id string) (PurposeRule, bool) {
	i, ok := p.byID[id]
	if !ok {
		return PurposeRule{}, false
	}
	return p.purposes[i], true
}

// GPCDenies lists the purposes a GPC signal denies.
func (p *Policy) GPCDenies() []string { return p.gpcDenies }

// ValidUntil is when consent given at t stops counting.
func (p *Policy) ValidUntil(t time.Time) time.Time { return p.validity.AddTo(t) }

// Flags are facts about a subject that restrict what may be granted.
type Flags struct {
	Minor bool
	GPC   bool
	// Restricted: the shopper asked for restriction of processing (GDPR
	// Art. 18). Their data is kept, but no purpose beyond the required one
	// may use it, and nothing new is collected.
	Restricted bool
	// OptInConfirmed: the decision itself proves the address was confirmed
	// (an import whose evidence dates the original double opt-in), so a
	// marketing_email grant is active at once instead of pending.
	OptInConfirmed bool
}

// Allowed reports whether a purpose may be used for a subject now. It is the
// question every gate asks; View explains the answer.
func (p *Policy) Allowed(st State, f Flags, purpose string, now time.Time) bool {
	v, ok := p.view(st, f, purpose, now)
	return ok && v.Granted
}

// View is the effective state of every consent purpose now.
func (p *Policy) View(st State, f Flags, now time.Time) map[string]PurposeView {
	out := make(map[string]PurposeView, len(p.purposes))
	for _, r := range p.purposes {
		v, _ := p.view(st, f, r.ID, now)
		out[r.ID] = v
	}
	return out
}

func (p *Policy) view(st State, f Flags, purpose string, now time.Time) (PurposeView, bool) {
	rule, ok := p.Purpose(purpose)
	if !ok {
		return PurposeView{}, false
	}
	if rule.Required {
		return PurposeView{Granted: true, Status: StatusRequired, Version: rule.Version}, true
	}
	if f.Restricted {
		v := PurposeView{Status: StatusRestricted, Version: rule.Version}
		if rec, has := st[purpose]; has {
			since, expires := rec.Since, rec.Expires
			v.ReceiptID, v.Since, v.Expires = rec.ReceiptID, &since, &expires
		}
		return v, true
	}
	rec, has := st[purpose]
	if !has {
		granted := p.defaultGranted[purpose] && !rule.Sensitive && !rule.SeparateConsent &&
			!(f.Minor && isMinorDenied(purpose)) && !(f.GPC && p.isGPCDenied(purpose))
		return PurposeView{Granted: granted, Status: StatusDefault, Version: rule.Version}, true
	}
	v := PurposeView{ReceiptID: rec.ReceiptID, Version: rec.Version}
	since, expires := rec.Since, rec.Expires
	v.Since, v.Expires = &since, &expires
	switch {
	case !rec.Granted:
		v.Status = StatusDenied
	case rec.Version != rule.Version:
		v.Status = StatusOutdated
	case !now.Before(rec.Expires):
		v.Status = StatusExpired
	case rec.Pending:
		v.Status, v.Pending = StatusPending, true
	case f.Minor && isMinorDenied(purpose):
		v.Status = StatusDenied
	default:
		v.Status, v.Granted = StatusGranted, true
	}
	return v, true
}

func isMinorDenied(purpose string) bool {
	for _, id := range minorDenied {
		if id == purpose {
			return true
		}
	}
	return false
}

func (p *Policy) isGPCDenied(purpose string) bool {
	for _, id := range p.gpcDenies {
		if id == purpose {
			return true
		}
	}
	return false
}

// Apply turns choices into the purpose decisions of a receipt and the
// subject's next state. Choices must already be validated against the
// notice; noticePurposes gives the version and basis each purpose had in
// the notice the shopper saw. A GPC signal or a minor forces the purposes
// they cover to be refused, whatever was chosen.
func (p *Policy) Apply(st State, f Flags, choices map[string]bool, noticePurposes map[string]PurposeRule,
	receiptID string, method Method, now time.Time) ([]PurposeDecision, State) {
	next := st.Clone()
	decisions := make([]PurposeDecision, 0, len(choices))
	expires := p.ValidUntil(now)
	for id, granted := range choices {
		rule := noticePurposes[id]
		if rule.Required {
			continue
		}
		if granted && ((f.GPC && p.isGPCDenied(id)) || (f.Minor && isMinorDenied(id))) {
			granted = false
		}
		pending := granted && id == PurposeMarketingEmail && method != MethodDoubleOptIn && method != MethodSoftOptIn && !f.OptInConfirmed
		decisions = append(decisions, PurposeDecision{ID: id, Version: rule.Version, LegalBasis: rule.LegalBasis, Granted: granted, Pending: pending})
		next[id] = Record{Granted: granted, Pending: pending, Version: rule.Version, ReceiptID: receiptID, Method: method, Since: now, Expires: expires}
	}
	return decisions, next
}
