// Package datamap owns tact's data map: the shop's declared purposes, data
// categories, recipients, event-to-purpose rules, controller block and legal
// regimes. It loads the map from the built-in defaults and an optional JSON
// config file, validates it, versions purposes by content, and renders from
// it the consent notice (GET /v1/notice) and the GDPR Art. 30 record of
// processing activities (ROPA).
//
// Every other part of tact asks this package what an event may be stored
// for, which purposes exist and how long data lives; none of them hard-codes
// a purpose.
package datamap

import (
	"slices"
	"strings"
)

// Text is a localised string: locale ("en", "zh-CN") to text.
type Text map[string]string

// Get returns the text for locale, falling back to the normalised locale and
// then to "en".
func (t Text) Get(locale string) string {
	if s := t[locale]; s != "" {
		return s
	}
	if s := t[NormalizeLocale(locale)]; s != "" {
		return s
	}
	return t["en"]
}

// Locales the notice is rendered in.
const (
	LocaleEN = "en"
	LocaleZH = "zh-CN"
)

// NormalizeLocale maps a requested locale to one tact renders: "zh",
// "zh-cn", "zh_CN", "zh-Hans" and "zh-Hans-CN" become "zh-CN"; anything else
// (including traditional Chinese, which tact does not ship) becomes "en".
func NormalizeLocale(locale string) string {
	l := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(locale), "_", "-"))
	switch l {
	case "zh", "zh-cn", "zh-hans", "zh-hans-cn", "zh-sg", "zh-hans-sg":
		return LocaleZH
	}
	return LocaleEN
}

// LegalBasis is the GDPR Art. 6(1) basis a purpose relies on.
type LegalBasis string

// Legal bases.
const (
	BasisConsent            LegalBasis = "consent"
	BasisLegitimateInterest LegalBasis = "legitimate_interest"
	BasisLegalObligation    LegalBasis = "legal_obligation"
	BasisContract           LegalBasis = "contract"
)

func (b LegalBasis) valid() bool {
	switch b {
	case BasisConsent, BasisLegitimateInterest, BasisLegalObligation, BasisContract:
		return true
	}
	return false
}

// Purpose ids tact itself relies on.
const (
	PurposeNecessary                = "necessary"
	PurposeAnalytics                = "analytics"
	PurposePersonalization          = "personalization"
	PurposeSensitivePersonalization = "sensitive_personalization"
	PurposeMarketingEmail           = "marketing_email"
	PurposeMarketingSMS             = "marketing_sms"
	PurposeAdvertising              = "advertising"
	PurposeSaleShare                = "sale_share"

	PurposeConsentLedger  = "consent_ledger"
	PurposeRightsRequests = "rights_requests"
	PurposeAudit          = "audit"
	PurposeSecurity       = "security"
	PurposeMeasurement    = "measurement"
)

// SystemPurposes are tact's own processing; only these ids may be System.
var SystemPurposes = []string{PurposeConsentLedger, PurposeRightsRequests, PurposeAudit, PurposeSecurity, PurposeMeasurement}

// IsSystemPurpose reports whether id is one of tact's own processing purposes.
func IsSystemPurpose(id string) bool { return slices.Contains(SystemPurposes, id) }

// Purpose is one declared purpose of processing.
type Purpose struct {
	ID              string     `json:"id"`
	Title           Text       `json:"title"`
	Description     Text       `json:"description"`
	LegalBasis      LegalBasis `json:"legal_basis"`
	LIAReference    string     `json:"lia_reference,omitempty"`    // legitimate-interest assessment; required for legitimate_interest
	Required        bool       `json:"required,omitempty"`         // only "necessary"
	SeparateConsent bool       `json:"separate_consent,omitempty"` // never part of "accept all"
	Sensitive       bool       `json:"sensitive,omitempty"`
	System          bool       `json:"system,omitempty"`         // tact's own processing, not consented
	RetentionDays   int        `json:"retention_days,omitempty"` // fixed retention of system purposes
	Categories      []string   `json:"categories,omitempty"`
	Recipients      []string   `json:"recipients,omitempty"`
	ConsentMode     []string   `json:"consent_mode,omitempty"`  // Google Consent Mode v2 types
	DataSubjects    []string   `json:"data_subjects,omitempty"` // for the record of processing; not material
	// Version is computed from the material fields (see ComputeVersions),
	// never read from config.
	Version string `json:"version"`
}

// Category is a category of personal data.
type Category struct {
	ID            string   `json:"id"`
	Title         Text     `json:"title"`
	Description   Text     `json:"description,omitempty"`
	RetentionDays int      `json:"retention_days"`
	Recipients    []string `json:"recipients,omitempty"`
	Sensitive     bool     `json:"sensitive,omitempty"`
	Behavioral    bool     `json:"behavioral,omitempty"`
	// ProductCategories are catalogue category paths ("Health",
	// "Health/Vitamins") whose products belong to this data category: an
	// event about such a product carries it. Matching is by whole path
	// segments, case-insensitively, so "Health" covers "health/vitamins"
	// but not "Healthy snacks".
	ProductCategories []string `json:"product_categories,omitempty"`
}

// MatchesProduct reports whether a product category path ("Health/Vitamins",
// "health > vitamins") falls under one of the category's product categories.
func (c Category) MatchesProduct(path string) bool {
	for _, rule := range c.ProductCategories {
		if categoryPathHasPrefix(path, rule) {
			return true
		}
	}
	return false
}

// SensitiveProductCategory returns the first sensitive data category whose
// product categories cover path.
func (m *Map) SensitiveProductCategory(path string) (string, bool) {
	if path == "" {
		return "", false
	}
	for _, c := range m.Categories {
		if c.Sensitive && c.MatchesProduct(path) {
			return c.ID, true
		}
	}
	return "", false
}

// categoryPathHasPrefix compares category paths segment by segment,
// accepting "/", ">" and "|" as separators (shops write them differently).
func categoryPathHasPrefix(path, prefix string) bool {
	ps, qs := categorySegments(path), categorySegments(prefix)
	if len(qs) == 0 || len(qs) > len(ps) {
		return false
	}
	for i, q := range qs {
		if !strings.EqualFold(ps[i], q) {
			return false
		}
	}
	return true
}

func categorySegments(path string) []string {
	f := strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '>' || r == '|' })
	out := f[:0]
	for _, s := range f {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Recipient roles.
const (
	RoleProcessor       = "processor"
	RoleController      = "controller"
	RoleJointController = "joint_controller"
)

// Transfer mechanisms for recipients outside the controller's region.
const (
	TransferAdequacy             = "adequacy"
	TransferSCC                  = "scc"
	TransferBCR                  = "bcr"
	TransferPIPLStandardContract = "pipl_standard_contract"
	TransferPIPLCertification    = "pipl_certification"
	TransferConsent              = "consent"
)

// Recipient is someone personal data is disclosed to.
type Recipient struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Role              string   `json:"role"`    // processor | controller | joint_controller
	Country           string   `json:"country"` // ISO 3166-1 alpha-2
	TransferMechanism string   `json:"transfer_mechanism,omitempty"`
	Purposes          []string `json:"purposes,omitempty"`
	Description       Text     `json:"description,omitempty"`
}

// EventRule declares which purposes an event serves and which data
// categories it carries.
type EventRule struct {
	Type       string   `json:"type"`            // track, page, screen, identify, group, alias
	Event      string   `json:"event,omitempty"` // track event or page/screen name; "" matches any
	Purposes   []string `json:"purposes"`
	Categories []string `json:"categories,omitempty"`
}

// Person is a named contact.
type Person struct {
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Address string `json:"address,omitempty"`
}

// Representative is a representative in a region where the controller is
// not established (GDPR Art. 27, UK GDPR Art. 27, PIPL Art. 53).
type Representative struct {
	Region  string `json:"region"`
	Name    string `json:"name"`
	Email   string `json:"email,omitempty"`
	Address string `json:"address,omitempty"`
}

// Authority is a supervisory authority a shopper may complain to.
type Authority struct {
	Name    string `json:"name,omitempty"`
	Website string `json:"website,omitempty"`
}

// Controller identifies the shop as data controller.
type Controller struct {
	Name                 string           `json:"name"`
	Address              string           `json:"address"`
	Country              string           `json:"country"`
	Email                string           `json:"email"`
	Website              string           `json:"website,omitempty"`
	DPO                  *Person          `json:"dpo,omitempty"`
	PIPLOfficer          *Person          `json:"pipl_officer,omitempty"`
	Representatives      []Representative `json:"representatives,omitempty"`
	SupervisoryAuthority Authority        `json:"supervisory_authority"`
}

// Consent models.
const (
	ModelOptIn  = "opt_in"
	ModelOptOut = "opt_out"
)

// Measurement modes for visitors who did not consent (DESIGN 2.5).
const (
	MeasurementOff      = "off"
	MeasurementTotals   = "totals"
	MeasurementAudience = "audience"
)

// Regime is a legal regime: its consent model, deadlines and defaults.
type Regime struct {
	ID               string   `json:"id"`
	Title            Text     `json:"title"`
	Notes            Text     `json:"notes,omitempty"`
	Model            string   `json:"model"`
	DefaultGranted   []string `json:"default_granted,omitempty"`
	ConsentValidity  Period   `json:"consent_validity"`
	ResponseDeadline Period   `json:"response_deadline"`
	Extension        Period   `json:"extension"`
	Acknowledge      Period   `json:"acknowledge"`
	OptOutDeadline   Period   `json:"opt_out_deadline"`
	Measurement      string   `json:"measurement"`
	GPCDenies        []string `json:"gpc_denies,omitempty"`
	PauseForIdentity bool     `json:"pause_for_identity,omitempty"`
	// SoftOptIn: marketing email to existing customers about similar
	// products may rest on the "soft opt-in" (UK PECR reg. 22(3), ePrivacy
	// Art. 13(2)) — offered at checkout, with an opt-out in every message.
	SoftOptIn bool   `json:"soft_opt_in,omitempty"`
	MinorAge  int    `json:"minor_age"`
	Authority string `json:"authority,omitempty"`
}

// DefaultGrants reports whether purpose id starts granted under the regime.
func (r Regime) DefaultGrants(id string) bool {
	return r.Model == ModelOptOut && slices.Contains(r.DefaultGranted, id)
}

// Map is the whole data map.
type Map struct {
	Controller    Controller  `json:"controller"`
	Purposes      []Purpose   `json:"purposes"` // notice order
	Categories    []Category  `json:"categories"`
	Recipients    []Recipient `json:"recipients"`
	Events        []EventRule `json:"events"`
	Regimes       []Regime    `json:"regimes"`
	DefaultRegime string      `json:"default_regime"`
	Source        string      `json:"-"` // file it came from, "" for the built-in defaults
}

// Purpose returns the purpose with the given id.
func (m *Map) Purpose(id string) (Purpose, bool) {
	for _, p := range m.Purposes {
		if p.ID == id {
			return p, true
		}
	}
	return Purpose{}, false
}

// Category returns the data category with the given id.
func (m *Map) Category(id string) (Category, bool) {
	for _, c := range m.Categories {
		if c.ID == id {
			return c, true
		}
	}
	return Category{}, false
}

// Recipient returns the recipient with the given id.
func (m *Map) Recipient(id string) (Recipient, bool) {
	for _, r := range m.Recipients {
		if r.ID == id {
			return r, true
		}
	}
	return Recipient{}, false
}

// ConsentPurposes returns the purposes a shopper chooses about (all
// non-system purposes, "necessary" included), in notice order.
func (m *Map) ConsentPurposes() []Purpose {
	var out []Purpose
	for _, p := range m.Purposes {
		if !p.System {
			out = append(out, p)
		}
	}
	return out
}

// SystemProcessing returns tact's own processing purposes.
func (m *Map) SystemProcessing() []Purpose {
	var out []Purpose
	for _, p := range m.Purposes {
		if p.System {
			out = append(out, p)
		}
	}
	return out
}

// Regime returns the regime with the given id.
func (m *Map) Regime(id string) (Regime, bool) {
	for _, r := range m.Regimes {
		if r.ID == id {
			return r, true
		}
	}
	return Regime{}, false
}

// ActiveRegime returns the default regime.
func (m *Map) ActiveRegime() Regime {
	r, _ := m.Regime(m.DefaultRegime)
	return r
}

// EventRule returns the rule that governs an event: a rule naming the event
// wins over the rule for its type, so a specific event may be narrowed as
// well as widened.
func (m *Map) EventRule(typ, event string) (EventRule, bool) {
	typ = strings.ToLower(typ)
	if event != "" {
		for _, r := range m.Events {
			if r.Type == typ && r.Event == event {
				return r, true
			}
		}
	}
	for _, r := range m.Events {
		if r.Type == typ && r.Event == "" {
			return r, true
		}
	}
	return EventRule{}, false
}

// EventPurposes returns the purposes declared for an event (the rule naming
// the event first, else the rule for its type), or nil if none.
func (m *Map) EventPurposes(typ, event string) []string {
	r, ok := m.EventRule(typ, event)
	if !ok || len(r.Purposes) == 0 {
		return nil
	}
	return slices.Clone(r.Purposes)
}

// PurposeRecipients returns the recipients of a purpose: those the purpose
// names and those naming the purpose, in map order.
func (m *Map) PurposeRecipients(id string) []Recipient {
	p, _ := m.Purpose(id)
	var out []Recipient
	for _, r := range m.Recipients {
		if slices.Contains(p.Recipients, r.ID) || slices.Contains(r.Purposes, id) {
			out = append(out, r)
		}
	}
	return out
}
