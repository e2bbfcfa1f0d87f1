package datamap

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// hash16 returns the first 16 hex characters of SHA-256 over v's JSON.
// encoding/json writes struct fields in declaration order and map keys
// sorted, so the encoding is canonical for the types hashed here.
func hash16(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("datamap: hashing: " + err.Error()) // only plain data is hashed
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// materialPurpose is what a purpose's version commits to. Anything that
// could change a shopper's decision is material: the texts, the basis, the
// flags, the data used (with its retention and sensitivity) and who
// receives it (with role, country and transfer). Consent Mode mapping and
// the data-subject labels of the record of processing are not.
type materialPurpose struct {
	Title           Text                `json:"title"`
	Description     Text                `json:"description"`
	LegalBasis      LegalBasis          `json:"legal_basis"`
	LIAReference    string              `json:"lia_reference"`
	Required        bool                `json:"required"`
	SeparateConsent bool                `json:"separate_consent"`
	Sensitive       bool                `json:"sensitive"`
	Categories      []materialCategory  `json:"categories"`
	Recipients      []materialRecipient `json:"recipients"`
	RetentionDays   int                 `json:"retention_days"`
}

type materialCategory struct {
	ID            string `json:"id"`
	RetentionDays int    `json:"retention_days"`
	Sensitive     bool   `json:"sensitive"`
}

type materialRecipient struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Role              string `json:"role"`
	Country           string `json:"country"`
	TransferMechanism string `json:"transfer_mechanism"`
}

// purposeVersion computes the content version of p within m. Category and
// recipient lists are sorted: their order carries no meaning.
func (m *Map) purposeVersion(p Purpose) string {
	mp := materialPurpose{
		Title: p.Title, Description: p.Description, LegalBasis: p.LegalBasis,
		LIAReference: p.LIAReference, Required: p.Required, SeparateConsent: p.SeparateConsent,
		Sensitive: p.Sensitive, RetentionDays: p.RetentionDays,
		Categories: []materialCategory{}, Recipients: []materialRecipient{},
	}
	cats := slices.Clone(p.Categories)
	slices.Sort(cats)
	for _, id := range slices.Compact(cats) {
		c, _ := m.Category(id)
		mp.Categories = append(mp.Categories, materialCategory{ID: id, RetentionDays: c.RetentionDays, Sensitive: c.Sensitive})
	}
	var recs []string
	for _, r := range m.PurposeRecipients(p.ID) {
		recs = append(recs, r.ID)
	}
	recs = append(recs, p.Recipients...) // unknown ids still count
	slices.Sort(recs)
	for _, id := range slices.Compact(recs) {
		r, _ := m.Recipient(id)
		mp.Recipients = append(mp.Recipients, materialRecipient{ID: id, Name: r.Name, Role: r.Role, Country: r.Country, TransferMechanism: r.TransferMechanism})
	}
	return hash16(mp)
}

// ComputeVersions sets every purpose's Version from its content. Default
// and Parse call it; code that changes a Map must call it again.
func (m *Map) ComputeVersions() {
	for i := range m.Purposes {
		m.Purposes[i].Version = m.purposeVersion(m.Purposes[i])
	}
}

// NoticeVersion returns the version of the notice: 16 hex characters over
// the controller block, every purpose's id and version (consent purposes
// and the system processing the notice also shows), the categories, the
// recipients and the regimes. Event rules are not shown and do not count.
func (m *Map) NoticeVersion() string {
	type pv struct {
		ID      string `json:"id"`
		Version string `json:"version"`
		System  bool   `json:"system"`
	}
	v := struct {
		Controller Controller  `json:"controller"`
		Purposes   []pv        `json:"purposes"`
		Categories []Category  `json:"categories"`
		Recipients []Recipient `json:"recipients"`
		Regimes    []Regime    `json:"regimes"`
		Default    string      `json:"default_regime"`
	}{Controller: m.Controller, Categories: m.Categories, Recipients: m.Recipients, Regimes: m.Regimes, Default: m.DefaultRegime}
	for _, p := range m.Purposes {
		v.Purposes = append(v.Purposes, pv{p.ID, p.Version, p.System})
	}
	return hash16(v)
}
