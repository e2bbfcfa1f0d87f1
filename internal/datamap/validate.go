package datamap

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Problem is one thing wrong with a data map.
type Problem struct {
	File   string `json:"file,omitempty"`
	Field  string `json:"field"` // e.g. purposes[advertising].legal_basis
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	if p.File == "" {
		return p.Field + ": " + p.Reason
	}
	return p.File + ": " + p.Field + ": " + p.Reason
}

// ValidationError lists every problem found in a data map.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

var (
	purposeIDRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	categoryIDRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}(\.[a-z][a-z0-9_]{0,39}){0,3}$`)
)

// Google Consent Mode v2 types; the ad types put a purpose under the
// advertising rules.
var (
	consentModeTypes = []string{"ad_storage", "ad_user_data", "ad_personalization", "analytics_storage", "functionality_storage", "personalization_storage", "security_storage"}
	adConsentModes   = []string{"ad_storage", "ad_user_data", "ad_personalization"}
)

// EventTypes are the Segment event types.
var EventTypes = []string{"track", "page", "screen", "identify", "group", "alias"}

// behavioralTypes carry behaviour whatever their categories say.
var behavioralTypes = []string{"track", "page", "screen"}

var (
	roles     = []string{RoleProcessor, RoleController, RoleJointController}
	transfers = []string{TransferAdequacy, TransferSCC, TransferBCR, TransferPIPLStandardContract, TransferPIPLCertification, TransferConsent}
)

type checker struct {
	file     string
	problems []Problem
}

func (c *checker) add(field, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: c.file, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// uniqueID checks an entry's id: its form, and that no earlier entry has it.
func (c *checker) uniqueID(field, id string, re *regexp.Regexp, seen map[string]bool, what string) {
	if !re.MatchString(id) {
		c.add(field, "must match %s", re)
	} else if seen[id] {
		c.add(field, "duplicate %s", what)
	}
	seen[id] = true
}

func (c *checker) text(field string, t Text, required bool) {
	if t == nil && !required {
		return
	}
	if strings.TrimSpace(t["en"]) == "" {
		c.add(field, `needs an "en" text`)
	}
}

// ids reports unknown ids of one kind in a list.
func (c *checker) ids(field, kind string, list []string, known map[string]bool) {
	for _, id := range list {
		if !known[id] {
			c.add(field, "unknown %s %q", kind, id)
		}
	}
}

func key(kind, id string, i int) string {
	if id == "" {
		return fmt.Sprintf("%s[#%d]", kind, i)
	}
	return fmt.Sprintf("%s[%s]", kind, id)
}

// Validate checks the map and returns nil or a *ValidationError listing
// every problem found.
func (m *Map) Validate() error {
	c := &checker{file: m.Source}
	purposes := map[string]bool{}
	purposeByID := map[string]Purpose{}
	categories := map[string]bool{}
	behavioral := map[string]bool{}
	recipients := map[string]bool{}
	for _, p := range m.Purposes {
		purposes[p.ID] = true
		purposeByID[p.ID] = p
	}
	for _, cat := range m.Categories {
		categories[cat.ID] = true
		behavioral[cat.ID] = cat.Behavioral
	}
	for _, r := range m.Recipients {
		recipients[r.ID] = true
	}

	m.validateController(c)

	seen := map[string]bool{}
	for i, p := range m.Purposes {
		f := key("purposes", p.ID, i)
		c.uniqueID(f+".id", p.ID, purposeIDRe, seen, "purpose")
		c.text(f+".title", p.Title, true)
		c.text(f+".description", p.Description, true)
		c.ids(f+".categories", "category", p.Categories, categories)
		c.ids(f+".recipients", "recipient", p.Recipients, recipients)
		for _, cm := range p.ConsentMode {
			if !slices.Contains(consentModeTypes, cm) {
				c.add(f+".consent_mode", "unknown Consent Mode type %q", cm)
			}
		}
		if p.RetentionDays < 0 {
			c.add(f+".retention_days", "must not be negative")
		}
		switch {
		case !p.LegalBasis.valid():
			c.add(f+".legal_basis", "must be one of consent, legitimate_interest, legal_obligation, contract")
		case p.LegalBasis == BasisLegitimateInterest && strings.TrimSpace(p.LIAReference) == "":
			c.add(f+".lia_reference", "legitimate_interest needs a reference to its legitimate-interest assessment")
		}
		isAd := p.ID == PurposeAdvertising || p.ID == PurposeSaleShare
		for _, cm := range p.ConsentMode {
			isAd = isAd || slices.Contains(adConsentModes, cm)
		}
		var behaviour []string
		for _, cat := range p.Categories {
			if behavioral[cat] {
				behaviour = append(behaviour, cat)
			}
		}
		if p.LegalBasis.valid() && p.LegalBasis != BasisConsent && !p.System {
			switch {
			case isAd:
				c.add(f+".legal_basis", "advertising and sale/sharing need consent, not %s", p.LegalBasis)
			case p.Sensitive || p.SeparateConsent:
				c.add(f+".legal_basis", "sensitive or separately consented purposes need consent, not %s", p.LegalBasis)
			case len(behaviour) > 0 && p.ID != PurposeNecessary:
				c.add(f+".legal_basis", "uses behavioural data (%s), which only consent covers", strings.Join(behaviour, ", "))
			}
		}
		if p.Sensitive && !p.SeparateConsent && !p.System {
			c.add(f+".separate_consent", "a sensitive purpose needs separate consent")
		}
		if p.Required && p.ID != PurposeNecessary {
			c.add(f+".required", `only "necessary" may be required`)
		}
		if p.ID == PurposeNecessary {
			if !p.Required {
				c.add(f+".required", `"necessary" must be required`)
			}
			if p.SeparateConsent || p.Sensitive {
				c.add(f, `"necessary" cannot be sensitive or need separate consent`)
			}
			if len(behaviour) > 0 {
				c.add(f+".categories", "behavioural data (%s) can never be necessary", strings.Join(behaviour, ", "))
			}
		}
		switch {
		case IsSystemPurpose(p.ID) && !p.System:
			c.add(f+".system", "%q is tact's own processing and must be marked system", p.ID)
		case p.System && !IsSystemPurpose(p.ID):
			c.add(f+".system", "system is reserved for tact's own processing (%s)", strings.Join(SystemPurposes, ", "))
		}
		if p.System {
			if p.RetentionDays <= 0 {
				c.add(f+".retention_days", "a system purpose needs a fixed retention")
			}
			if p.LegalBasis != BasisLegitimateInterest && p.LegalBasis != BasisLegalObligation && p.LegalBasis.valid() {
				c.add(f+".legal_basis", "a system purpose rests on legitimate_interest or legal_obligation, not %s", p.LegalBasis)
			}
			if p.Required || p.SeparateConsent || len(p.ConsentMode) > 0 {
				c.add(f, "a system purpose is not consented to: no required, separate_consent or consent_mode")
			}
		}
	}
	if !purposes[PurposeNecessary] {
		c.add("purposes", `the "necessary" purpose is missing`)
	}

	seen = map[string]bool{}
	for i, cat := range m.Categories {
		f := key("categories", cat.ID, i)
		c.uniqueID(f+".id", cat.ID, categoryIDRe, seen, "category")
		c.text(f+".title", cat.Title, true)
		c.text(f+".description", cat.Description, false)
		if cat.RetentionDays <= 0 {
			c.add(f+".retention_days", "a data category needs a retention in days")
		}
		c.ids(f+".recipients", "recipient", cat.Recipients, recipients)
	}

	seen = map[string]bool{}
	for i, r := range m.Recipients {
		f := key("recipients", r.ID, i)
		c.uniqueID(f+".id", r.ID, purposeIDRe, seen, "recipient")
		if strings.TrimSpace(r.Name) == "" {
			c.add(f+".name", "is required")
		}
		if !slices.Contains(roles, r.Role) {
			c.add(f+".role", "must be one of %s", strings.Join(roles, ", "))
		}
		if r.TransferMechanism != "" && !slices.Contains(transfers, r.TransferMechanism) {
			c.add(f+".transfer_mechanism", "must be one of %s", strings.Join(transfers, ", "))
		}
		switch {
		case !ValidCountry(r.Country):
			c.add(f+".country", "must be an ISO 3166-1 alpha-2 code, got %q", r.Country)
		case ValidCountry(m.Controller.Country) && !SameRegion(r.Country, m.Controller.Country) && r.TransferMechanism == "":
			c.add(f+".transfer_mechanism", "%s is outside the controller's region (%s): name a transfer mechanism", r.Country, m.Controller.Country)
		}
		c.ids(f+".purposes", "purpose", r.Purposes, purposes)
		c.text(f+".description", r.Description, false)
	}

	rules := map[[2]string]bool{}
	for i, e := range m.Events {
		f := fmt.Sprintf("events[%d]", i)
		if !slices.Contains(EventTypes, e.Type) {
			c.add(f+".type", "must be one of %s", strings.Join(EventTypes, ", "))
		}
		if e.Event != "" && !slices.Contains(behavioralTypes, e.Type) {
			c.add(f+".event", "only track, page and screen rules name an event")
		}
		k := [2]string{e.Type, e.Event}
		if rules[k] {
			c.add(f, "duplicate rule for %s %q", e.Type, e.Event)
		}
		rules[k] = true
		c.ids(f+".purposes", "purpose", e.Purposes, purposes)
		c.ids(f+".categories", "category", e.Categories, categories)
		isBehavioral := slices.Contains(behavioralTypes, e.Type)
		for _, cat := range e.Categories {
			isBehavioral = isBehavioral || behavioral[cat]
		}
		for _, id := range e.Purposes {
			switch {
			case id == PurposeNecessary && isBehavioral:
				c.add(f+".purposes", "a behavioural event can never be necessary")
			case purposeByID[id].System:
				c.add(f+".purposes", "system purpose %q is applied by tact itself, not by event rules", id)
			}
		}
	}

	seen = map[string]bool{}
	for i, r := range m.Regimes {
		f := key("regimes", r.ID, i)
		c.uniqueID(f+".id", r.ID, purposeIDRe, seen, "regime")
		c.text(f+".title", r.Title, true)
		c.text(f+".notes", r.Notes, false)
		if r.Model != ModelOptIn && r.Model != ModelOptOut {
			c.add(f+".model", "must be opt_in or opt_out")
		}
		if r.Model == ModelOptIn && len(r.DefaultGranted) > 0 {
			c.add(f+".default_granted", "an opt_in regime grants nothing by default")
		}
		for _, id := range r.DefaultGranted {
			p, ok := purposeByID[id]
			switch {
			case !ok:
				c.add(f+".default_granted", "unknown purpose %q", id)
			case p.Sensitive || p.SeparateConsent:
				c.add(f+".default_granted", "%q is sensitive or needs separate consent and can never start granted", id)
			case p.System:
				c.add(f+".default_granted", "%q is a system purpose, not consented to", id)
			}
		}
		c.ids(f+".gpc_denies", "purpose", r.GPCDenies, purposes)
		if r.ConsentValidity.IsZero() {
			c.add(f+".consent_validity", "must be a positive period such as P13M")
		}
		if r.ResponseDeadline.IsZero() {
			c.add(f+".response_deadline", "must be a positive period such as P1M")
		}
		switch r.Measurement {
		case MeasurementOff, MeasurementTotals, MeasurementAudience:
		default:
			c.add(f+".measurement", "must be off, totals or audience")
		}
		if r.MinorAge < 0 || r.MinorAge > 21 {
			c.add(f+".minor_age", "must be between 0 and 21")
		}
	}
	if _, ok := m.Regime(m.DefaultRegime); !ok {
		c.add("default_regime", "unknown regime %q", m.DefaultRegime)
	}

	if len(c.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: c.problems}
}

func (m *Map) validateController(c *checker) {
	ct := m.Controller
	if strings.TrimSpace(ct.Name) == "" {
		c.add("controller.name", "is required")
	}
	if strings.TrimSpace(ct.Address) == "" {
		c.add("controller.address", "is required")
	}
	if !ValidCountry(ct.Country) {
		c.add("controller.country", "must be an ISO 3166-1 alpha-2 code, got %q", ct.Country)
	}
	if !strings.Contains(ct.Email, "@") {
		c.add("controller.email", "a contact email is required")
	}
	for _, x := range []struct {
		name string
		p    *Person
	}{{"dpo", ct.DPO}, {"pipl_officer", ct.PIPLOfficer}} {
		if name, p := x.name, x.p; p != nil && !strings.Contains(p.Email, "@") && strings.TrimSpace(p.Address) == "" {
			c.add("controller."+name, "needs an email or an address")
		}
	}
	for i, r := range ct.Representatives {
		f := fmt.Sprintf("controller.representatives[%d]", i)
		if strings.TrimSpace(r.Region) == "" {
			c.add(f+".region", "is required")
		}
		if strings.TrimSpace(r.Name) == "" {
			c.add(f+".name", "is required")
		}
		if !strings.Contains(r.Email, "@") && strings.TrimSpace(r.Address) == "" {
			c.add(f, "needs an email or an address")
		}
	}
}
