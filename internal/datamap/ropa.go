package datamap

import (
	"fmt"
	"slices"
	"strings"
)

// ROPA is the record of processing activities of GDPR Art. 30(1), in
// English (the language supervisory authorities ask for it in is the
// shop's to choose; tact renders it in English).
type ROPA struct {
	Controller       Controller     `json:"controller"`
	NoticeVersion    string         `json:"notice_version"`
	Activities       []ROPAActivity `json:"activities"`
	SecurityMeasures []string       `json:"security_measures"` // Art. 30(1)(g)
}

// ROPAActivity is one purpose of processing.
type ROPAActivity struct {
	Purpose       string          `json:"purpose"`
	Name          string          `json:"name"`
	Description   string          `json:"description"`
	LegalBasis    LegalBasis      `json:"legal_basis"`
	LIAReference  string          `json:"lia_reference,omitempty"`
	System        bool            `json:"system"`
	DataSubjects  []string        `json:"data_subjects"`
	Categories    []ROPACategory  `json:"categories"`
	Recipients    []ROPARecipient `json:"recipients"`
	Transfers     []ROPATransfer  `json:"transfers"`
	RetentionDays int             `json:"retention_days,omitempty"` // fixed retention of system processing
	Retention     string          `json:"retention"`
}

// ROPACategory is a category of personal data used by an activity.
type ROPACategory struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Sensitive     bool   `json:"sensitive"`
	RetentionDays int    `json:"retention_days"`
}

// ROPARecipient is a recipient of an activity's data.
type ROPARecipient struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	Country string `json:"country"`
}

// ROPATransfer is a transfer to a third country (Art. 30(1)(e)).
type ROPATransfer struct {
	Recipient string `json:"recipient"`
	Country   string `json:"country"`
	Mechanism string `json:"mechanism"`
}

// SecurityMeasures describes tact's technical and organisational measures
// (Art. 32), as the record of processing states them.
var SecurityMeasures = []string{
	"Personal fields are encrypted per shopper with AES-256-GCM under a per-shopper data key wrapped by a key-encryption key.",
	"Identifiers are joined through keyed HMAC-SHA256 pseudonyms with a separate derived key per use; they are never stored in clear.",
	"IP addresses are never stored (only the derived country); user agents are reduced to browser family, OS family and device class.",
	"Consent decisions are kept in an append-only Merkle log with Ed25519-signed checkpoints, verifiable by anyone.",
	"Every access to personal data is recorded in an audit log with its declared purpose before the answer is given.",
	"API keys and tokens are random, stored only as hashes, scoped to least privilege by role, and compared in constant time.",
	"Every read is limited to data stored under purposes still granted; withdrawn purposes are stripped by a background job.",
	"TLS is expected in front of every deployment; session tokens are HttpOnly, Secure, SameSite cookies.",
	"Erasure destroys the shopper's data key first (crypto-shredding), then purges rows, and is journalled outside the database so restored backups stay erased.",
	"Retention limits are enforced by scheduled deletion jobs per data category and system purpose.",
}

var defaultSubjects = []string{"website and app visitors", "customers"}

// ROPA renders the record of processing from the map: one activity per
// purpose, consent purposes first, then system processing.
func (m *Map) ROPA() ROPA {
	r := ROPA{
		Controller:       m.Controller,
		NoticeVersion:    m.NoticeVersion(),
		Activities:       []ROPAActivity{},
		SecurityMeasures: slices.Clone(SecurityMeasures),
	}
	for _, p := range append(m.ConsentPurposes(), m.SystemProcessing()...) {
		a := ROPAActivity{
			Purpose: p.ID, Name: p.Title.Get(LocaleEN), Description: p.Description.Get(LocaleEN),
			LegalBasis: p.LegalBasis, LIAReference: p.LIAReference, System: p.System,
			DataSubjects: orEmpty(p.DataSubjects), Categories: []ROPACategory{},
			Recipients: []ROPARecipient{}, Transfers: []ROPATransfer{},
		}
		if len(a.DataSubjects) == 0 {
			a.DataSubjects = slices.Clone(defaultSubjects)
		}
		lo, hi := 0, 0
		for _, id := range p.Categories {
			c, _ := m.Category(id)
			a.Categories = append(a.Categories, ROPACategory{ID: id, Name: c.Title.Get(LocaleEN), Sensitive: c.Sensitive, RetentionDays: c.RetentionDays})
			if lo == 0 || c.RetentionDays < lo {
				lo = c.RetentionDays
			}
			hi = max(hi, c.RetentionDays)
		}
		for _, rc := range m.PurposeRecipients(p.ID) {
			a.Recipients = append(a.Recipients, ROPARecipient{ID: rc.ID, Name: rc.Name, Role: rc.Role, Country: rc.Country})
			if !SameRegion(rc.Country, m.Controller.Country) {
				mech := rc.TransferMechanism
				if mech == "" {
					mech = "none declared"
				}
				a.Transfers = append(a.Transfers, ROPATransfer{Recipient: rc.Name, Country: rc.Country, Mechanism: mech})
			}
		}
		switch {
		case p.System:
			a.RetentionDays = p.RetentionDays
			a.Retention = fmt.Sprintf("%d days, fixed", p.RetentionDays)
		case p.LegalBasis == BasisConsent:
			a.Retention = "until consent is withdrawn or expires, and at most " + spanDays(lo, hi) + " per data category"
		default:
			a.Retention = "at most " + spanDays(lo, hi) + " per data category"
		}
		r.Activities = append(r.Activities, a)
	}
	return r
}

func spanDays(lo, hi int) string {
	if lo == hi {
		return fmt.Sprintf("%d days", hi)
	}
	return fmt.Sprintf("%d–%d days", lo, hi)
}

var basisLabel = map[LegalBasis]string{
	BasisConsent:            "Consent (Art. 6(1)(a))",
	BasisContract:           "Contract (Art. 6(1)(b))",
	BasisLegalObligation:    "Legal obligation (Art. 6(1)(c))",
	BasisLegitimateInterest: "Legitimate interests (Art. 6(1)(f))",
}

// Markdown renders the record as a Markdown document.
func (r ROPA) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	c := r.Controller
	w("# Record of processing activities\n\n")
	w("GDPR Art. 30(1). Generated by tact from the data map (notice version `%s`).\n\n", r.NoticeVersion)
	w("## Controller\n\n")
	w("- **Name:** %s\n- **Address:** %s (%s)\n- **Contact:** %s\n", c.Name, c.Address, c.Country, c.Email)
	if c.Website != "" {
		w("- **Website:** %s\n", c.Website)
	}
	if c.DPO != nil {
		w("- **Data protection officer:** %s\n", person(*c.DPO))
	}
	if c.PIPLOfficer != nil {
		w("- **PIPL personal information protection officer:** %s\n", person(*c.PIPLOfficer))
	}
	for _, rep := range c.Representatives {
		w("- **Representative (%s):** %s\n", rep.Region, person(Person{Name: rep.Name, Email: rep.Email, Address: rep.Address}))
	}
	if c.SupervisoryAuthority.Name != "" {
		w("- **Lead supervisory authority:** %s\n", strings.TrimSpace(c.SupervisoryAuthority.Name+" "+c.SupervisoryAuthority.Website))
	}
	w("\n## Processing activities\n")
	for _, a := range r.Activities {
		kind := "consent-based"
		if a.System {
			kind = "tact system processing"
		} else if a.LegalBasis != BasisConsent {
			kind = "no consent needed"
		}
		w("\n### %s (`%s`, %s)\n\n", a.Name, a.Purpose, kind)
		w("- **Purpose:** %s\n", a.Description)
		basis := basisLabel[a.LegalBasis]
		if basis == "" {
			basis = string(a.LegalBasis)
		}
		if a.LIAReference != "" {
			basis += "; assessment: " + a.LIAReference
		}
		w("- **Legal basis:** %s\n", basis)
		w("- **Data subjects:** %s\n", strings.Join(a.DataSubjects, "; "))
		var cats []string
		for _, ct := range a.Categories {
			s := fmt.Sprintf("%s (`%s`", ct.Name, ct.ID)
			if !a.System { // system processing keeps its own fixed retention
				s += fmt.Sprintf(", %d days", ct.RetentionDays)
			}
			if ct.Sensitive {
				s += ", sensitive"
			}
			cats = append(cats, s+")")
		}
		w("- **Categories of personal data:** %s\n", orNone(cats))
		var recs []string
		for _, rc := range a.Recipients {
			recs = append(recs, fmt.Sprintf("%s (%s, %s)", rc.Name, strings.ReplaceAll(rc.Role, "_", " "), rc.Country))
		}
		w("- **Recipients:** %s\n", orNone(recs))
		var tr []string
		for _, t := range a.Transfers {
			tr = append(tr, fmt.Sprintf("%s to %s (%s)", t.Recipient, t.Country, t.Mechanism))
		}
		w("- **Third-country transfers:** %s\n", orNone(tr))
		w("- **Retention:** %s\n", a.Retention)
	}
	w("\n## Technical and organisational security measures\n\n")
	for _, s := range r.SecurityMeasures {
		w("- %s\n", s)
	}
	return b.String()
}

func person(p Person) string {
	var parts []string
	for _, s := range []string{p.Name, p.Email, p.Phone, p.Address} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "; ")
}
