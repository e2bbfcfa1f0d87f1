package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tact-cdp/tact/internal/datamap"
)

// view is the report prepared once for both formats: codes for machines,
// texts in the shopper's locale, personal values redacted. Its JSON
// encoding is the head of the JSON document (see doc.go); fields tagged
// "-" serve the HTML page only.
type view struct {
	Schema      string           `json:"schema"`
	RequestID   string           `json:"requestId"`
	GeneratedAt stamp            `json:"generatedAt"`
	Locale      string           `json:"locale"`
	Subject     string           `json:"subject"`
	Regime      regimeView       `json:"regime"`
	Controller  controllerView   `json:"controller"`
	Identities  []identityView   `json:"identities"`
	Traits      json.RawMessage  `json:"traits"`
	Consent     []receiptView    `json:"consent"`
	State       map[string]state `json:"state"`
	Derived     derivedView      `json:"derived"`
	Disclosures []disclosureView `json:"disclosures"`
	Requests    []requestView    `json:"requests"`
	Processing  []processingView `json:"processing"`
	Rights      rightsView       `json:"rights"`
	Profiling   profilingView    `json:"profiling"`
	CCPA        *ccpaView        `json:"ccpa"`

	L            *labels    `json:"-"`
	Intro        string     `json:"-"`
	TraitRows    []traitRow `json:"-"`
	StateRows    []stateRow `json:"-"`
	purposeTitle map[string]string
	purposeIndex map[string]int
}

// stamp is a time in RFC 3339, UTC; the zero time is null.
type stamp time.Time

func (s stamp) MarshalJSON() ([]byte, error) { return s.appendJSON(make([]byte, 0, 40)), nil }

func (s stamp) appendJSON(dst []byte) []byte {
	t := time.Time(s)
	if t.IsZero() {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// String is the time as the HTML page shows it.
func (s stamp) String() string {
	t := time.Time(s)
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// opt is an optional string: "" is null.
type opt string

func (o opt) MarshalJSON() ([]byte, error) {
	if o == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(o))
}

type regimeView struct {
	ID                   string `json:"id"`
	Title                string `json:"title"`
	Model                string `json:"model"`
	ResponseDeadline     string `json:"responseDeadline"`
	ResponseDeadlineText string `json:"responseDeadlineText"`
	Extension            string `json:"extension"`
	Notes                string `json:"notes"`
	Authority            string `json:"authority"`
}

type person struct {
	Name    opt `json:"name"`
	Email   opt `json:"email"`
	Phone   opt `json:"phone"`
	Address opt `json:"address"`
}

type representative struct {
	Region  string `json:"region"`
	Name    string `json:"name"`
	Email   opt    `json:"email"`
	Address opt    `json:"address"`
}

type authority struct {
	Name    string `json:"name"`
	Website opt    `json:"website"`
}

type controllerView struct {
	Name                 string           `json:"name"`
	Address              string           `json:"address"`
	Country              string           `json:"country"`
	Email                string           `json:"email"`
	Website              opt              `json:"website"`
	DPO                  *person          `json:"dpo"`
	PIPLOfficer          *person          `json:"piplOfficer"`
	Representatives      []representative `json:"representatives"`
	SupervisoryAuthority authority        `json:"supervisoryAuthority"`
}

type identityView struct {
	Kind     string `json:"kind"`
	KindText string `json:"kindText"`
	Value    opt    `json:"value"`
	Since    stamp  `json:"since"`
}

type traitRow struct {
	Key, Value string
	Block      bool // Value is indented JSON
}

type receiptView struct {
	ReceiptID     string          `json:"receiptId"`
	LeafIndex     int64           `json:"leafIndex"`
	Method        string          `json:"method"`
	MethodText    string          `json:"methodText"`
	At            stamp           `json:"at"`
	NoticeVersion string          `json:"noticeVersion"`
	Choices       map[string]bool `json:"choices"`
	Pending       bool            `json:"pending"`
	Proof         json.RawMessage `json:"proof"`

	ChoiceRows []choiceRow `json:"-"`
	ProofText  string      `json:"-"`
}

type choiceRow struct {
	Purpose, Title string
	Granted        bool
}

type state struct {
	Granted   bool  `json:"granted"`
	Pending   bool  `json:"pending"`
	ReceiptID opt   `json:"receiptId"`
	Since     stamp `json:"since"`
}

type stateRow struct {
	Purpose, Title, Status string
	State                  state
}

type derivedView struct {
	Interests   []interestView `json:"interests"`
	Audiences   []string       `json:"audiences"`
	Retargeting []counterView  `json:"retargeting"`
}

type interestView struct {
	Category string  `json:"category"`
	Score    float64 `json:"score"`
	Source   string  `json:"source"`
}

// ScoreText is the score as the HTML page shows it.
func (i interestView) ScoreText() string { return fmt.Sprintf("%.2f", i.Score) }

type counterView struct {
	ItemID string `json:"itemId"`
	Shown  int    `json:"shown"`
	Until  stamp  `json:"until"`
}

type disclosureView struct {
	Recipient     string   `json:"recipient"`
	RecipientName string   `json:"recipientName"`
	At            stamp    `json:"at"`
	Purpose       string   `json:"purpose"`
	PurposeTitle  string   `json:"purposeTitle"`
	Categories    []string `json:"categories"`

	CategoryTitles []string `json:"-"`
}

type requestView struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	TypeText    string `json:"typeText"`
	Status      string `json:"status"`
	ReceivedAt  stamp  `json:"receivedAt"`
	CompletedAt stamp  `json:"completedAt"`
}

type processingView struct {
	Purpose         string         `json:"purpose"`
	Version         string         `json:"version"`
	Title           string         `json:"title"`
	Description     string         `json:"description"`
	Status          string         `json:"status"`
	StatusText      string         `json:"statusText"`
	LegalBasis      string         `json:"legalBasis"`
	LegalBasisText  string         `json:"legalBasisText"`
	LIAReference    opt            `json:"liaReference"`
	System          bool           `json:"system"`
	Sensitive       bool           `json:"sensitive"`
	SeparateConsent bool           `json:"separateConsent"`
	RetentionDays   *int           `json:"retentionDays"`
	Retention       string         `json:"retention"`
	Categories      []categoryUse  `json:"categories"`
	Recipients      []recipientUse `json:"recipients"`
}

type categoryUse struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	Description   string `json:"description"`
	Sensitive     bool   `json:"sensitive"`
	RetentionDays int    `json:"retentionDays"`
	Source        string `json:"source"`
	SourceText    string `json:"sourceText"`
}

type recipientUse struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Description       string `json:"description"`
	Role              string `json:"role"`
	RoleText          string `json:"roleText"`
	Country           string `json:"country"`
	OutsideRegion     bool   `json:"outsideRegion"`
	TransferMechanism opt    `json:"transferMechanism"`
	Safeguard         string `json:"safeguard"`
}

type rightsView struct {
	Family    string      `json:"family"`
	Items     []rightView `json:"items"`
	Endpoint  string      `json:"endpoint"`
	HowTo     string      `json:"howTo"`
	Deadline  string      `json:"deadline"`
	Complaint complaint   `json:"complaint"`
}

type rightView struct {
	Type        opt    `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Reference   string `json:"reference"`
}

type complaint struct {
	Text      string `json:"text"`
	Authority string `json:"authority"`
	Website   opt    `json:"website"`
}

type profilingView struct {
	Text                     []string `json:"text"`
	Signals                  []string `json:"signals"`
	Personalization          bool     `json:"personalization"`
	SensitivePersonalization bool     `json:"sensitivePersonalization"`
	Status                   string   `json:"status"`
}

type ccpaView struct {
	CategoriesCollected []ccpaCategory `json:"categoriesCollected"`
	Sources             []codeText     `json:"sources"`
	Purposes            []codeText     `json:"purposes"`
	ThirdParties        []thirdParty   `json:"thirdParties"`
	SoldOrShared        bool           `json:"soldOrShared"`
	SoldOrSharedFor     []string       `json:"soldOrSharedFor"`
	SoldOrSharedText    string         `json:"soldOrSharedText"`
}

type ccpaCategory struct {
	ID             string   `json:"id"`
	Title          string   `json:"title"`
	DataCategories []string `json:"dataCategories"`

	DataCategoryTitles []string `json:"-"`
}

type codeText struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type thirdParty struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	RoleText   string   `json:"roleText"`
	Country    string   `json:"country"`
	Purposes   []string `json:"purposes"`
	Categories []string `json:"categories"` // CCPA category ids

	PurposeTitles  []string `json:"-"`
	CategoryTitles []string `json:"-"`
}

// newView prepares r for rendering.
func newView(r *Report) (*view, error) {
	if r == nil || r.Map == nil {
		return nil, errNoMap
	}
	m := r.Map
	loc := datamap.NormalizeLocale(r.Locale)
	v := &view{
		Schema:       Schema,
		RequestID:    r.RequestID,
		GeneratedAt:  stamp(r.GeneratedAt),
		Locale:       loc,
		Subject:      r.Subject,
		L:            labelsByLocale[loc],
		purposeTitle: map[string]string{},
		purposeIndex: map[string]int{},
	}
	for i, p := range m.Purposes {
		v.purposeTitle[p.ID] = p.Title.Get(loc)
		v.purposeIndex[p.ID] = i
	}
	v.Intro = fmt.Sprintf(v.L.Intro, r.RequestID, m.Controller.Name)
	v.Regime = regimeView{
		ID: r.Regime.ID, Title: r.Regime.Title.Get(loc), Model: r.Regime.Model,
		ResponseDeadline: r.Regime.ResponseDeadline.String(), ResponseDeadlineText: period(r.Regime.ResponseDeadline, loc),
		Extension: r.Regime.Extension.String(), Notes: r.Regime.Notes.Get(loc), Authority: authorityName(r),
	}
	v.Controller = newController(m.Controller)

	v.Identities = []identityView{}
	for _, id := range r.Identities {
		v.Identities = append(v.Identities, identityView{Kind: id.Kind, KindText: text(identityKinds, id.Kind, loc), Value: opt(id.Value), Since: stamp(id.Since)})
	}
	if err := v.traits(r.Traits); err != nil {
		return nil, err
	}
	if err := v.consent(r.Consent); err != nil {
		return nil, err
	}
	v.state(r)
	v.derived(r.Derived)
	v.disclosures(r)
	v.Requests = []requestView{}
	for _, q := range r.Requests {
		v.Requests = append(v.Requests, requestView{
			ID: q.ID, Type: q.Type, TypeText: rightTitle(q.Type, loc), Status: q.Status,
			ReceivedAt: stamp(q.ReceivedAt), CompletedAt: stamp(q.CompletedAt),
		})
	}
	v.processing(r)
	v.rights(r)
	v.profiling(r)
	if r.Regime.Model == datamap.ModelOptOut {
		v.ccpa(r)
	}
	return v, nil
}

func authorityName(r *Report) string {
	if r.Regime.Authority != "" {
		return r.Regime.Authority
	}
	return r.Map.Controller.SupervisoryAuthority.Name
}

func newPerson(p *datamap.Person) *person {
	if p == nil {
		return nil
	}
	return &person{Name: opt(p.Name), Email: opt(p.Email), Phone: opt(p.Phone), Address: opt(p.Address)}
}

func newController(c datamap.Controller) controllerView {
	cv := controllerView{
		Name: c.Name, Address: c.Address, Country: c.Country, Email: c.Email, Website: opt(c.Website),
		DPO: newPerson(c.DPO), PIPLOfficer: newPerson(c.PIPLOfficer), Representatives: []representative{},
		SupervisoryAuthority: authority{Name: c.SupervisoryAuthority.Name, Website: opt(c.SupervisoryAuthority.Website)},
	}
	for _, r := range c.Representatives {
		cv.Representatives = append(cv.Representatives, representative{Region: r.Region, Name: r.Name, Email: opt(r.Email), Address: opt(r.Address)})
	}
	return cv
}

// traits encodes the traits (keys sorted), redacts them, and keeps one row
// per top-level key for the page.
func (v *view) traits(traits map[string]any) error {
	if traits == nil {
		traits = map[string]any{}
	}
	b, err := redactValue(traits)
	if err != nil {
		return fmt.Errorf("report: traits: %w", err)
	}
	v.Traits = b
	// Decoding the redacted form shows on the page exactly what the JSON
	// holds (redaction preserves the keys, json.Marshal sorted them).
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return fmt.Errorf("report: traits: %w", err)
	}
	for _, k := range sortedKeys(top) {
		shown, block := displayJSON(top[k])
		v.TraitRows = append(v.TraitRows, traitRow{Key: k, Value: shown, Block: block})
	}
	return nil
}

// displayJSON shows a JSON value on the page: a string as its text,
// a number, boolean or null as is, an object or array as indented JSON
// (block).
func displayJSON(raw []byte) (shown string, block bool) {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s, false
	}
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw), false
	}
	return b.String(), len(raw) > 0 && (raw[0] == '{' || raw[0] == '[')
}

func (v *view) consent(receipts []Receipt) error {
	v.Consent = []receiptView{}
	for _, rc := range receipts {
		rv := receiptView{
			ReceiptID: rc.ID, LeafIndex: rc.LeafIndex, Method: rc.Method, MethodText: text(consentMethods, rc.Method, v.Locale),
			At: stamp(rc.At), NoticeVersion: rc.NoticeVersion, Choices: rc.Choices, Pending: len(rc.Proof) == 0,
			Proof: json.RawMessage("null"),
		}
		if rv.Choices == nil {
			rv.Choices = map[string]bool{}
		}
		if !rv.Pending {
			if !json.Valid(rc.Proof) {
				return fmt.Errorf("report: receipt %s: proof is not valid JSON", rc.ID)
			}
			var b bytes.Buffer
			if err := json.Compact(&b, rc.Proof); err != nil {
				return fmt.Errorf("report: receipt %s: %w", rc.ID, err)
			}
			rv.Proof = b.Bytes()
			rv.ProofText, _ = displayJSON(rv.Proof)
		}
		for _, p := range v.purposeOrder(sortedKeys(rv.Choices)) {
			rv.ChoiceRows = append(rv.ChoiceRows, choiceRow{Purpose: p, Title: v.title(p), Granted: rv.Choices[p]})
		}
		v.Consent = append(v.Consent, rv)
	}
	return nil
}

// purposeOrder orders purpose ids as the map does, unknown ids last (in
// the order given).
func (v *view) purposeOrder(ids []string) []string {
	out := slices.Clone(ids)
	idx := func(id string) int {
		if i, ok := v.purposeIndex[id]; ok {
			return i
		}
		return len(v.purposeIndex)
	}
	slices.SortStableFunc(out, func(a, b string) int { return idx(a) - idx(b) })
	return out
}

func (v *view) title(purpose string) string {
	if t, ok := v.purposeTitle[purpose]; ok {
		return t
	}
	return purpose
}

func (v *view) state(r *Report) {
	v.State = map[string]state{}
	for id, s := range r.State {
		v.State[id] = state{Granted: s.Granted, Pending: s.Pending, ReceiptID: opt(s.ReceiptID), Since: stamp(s.Since)}
	}
	for _, p := range r.Map.ConsentPurposes() {
		st := v.State[p.ID]
		v.StateRows = append(v.StateRows, stateRow{Purpose: p.ID, Title: p.Title.Get(v.Locale), Status: text(statuses, purposeStatus(p, r.State), v.Locale), State: st})
	}
	for _, id := range sortedKeys(r.State) {
		if _, ok := r.Map.Purpose(id); !ok {
			v.StateRows = append(v.StateRows, stateRow{Purpose: id, Title: id, Status: text(statuses, purposeStatus(datamap.Purpose{ID: id}, r.State), v.Locale), State: v.State[id]})
		}
	}
}

// purposeStatus is the shopper's status for a purpose.
func purposeStatus(p datamap.Purpose, st map[string]PurposeState) string {
	s := st[p.ID]
	switch {
	case p.System:
		return StatusSystem
	case p.Required:
		return StatusRequired
	case s.Pending:
		return StatusPending
	case s.Granted:
		return StatusGranted
	}
	return StatusNotGranted
}

// granted reports whether the shopper grants purpose now.
func granted(st map[string]PurposeState, purpose string) bool {
	s, ok := st[purpose]
	return ok && s.Granted && !s.Pending
}

func (v *view) derived(d Derived) {
	v.Derived = derivedView{Interests: []interestView{}, Audiences: []string{}, Retargeting: []counterView{}}
	for _, i := range d.Interests {
		v.Derived.Interests = append(v.Derived.Interests, interestView(i))
	}
	v.Derived.Audiences = append(v.Derived.Audiences, d.Audiences...)
	for _, c := range d.Retargeting {
		v.Derived.Retargeting = append(v.Derived.Retargeting, counterView{ItemID: c.ItemID, Shown: c.Shown, Until: stamp(c.Until)})
	}
}

func (v *view) disclosures(r *Report) {
	v.Disclosures = []disclosureView{}
	for _, d := range r.Disclosures {
		dv := disclosureView{Recipient: d.Recipient, RecipientName: d.Recipient, At: stamp(d.At), Purpose: d.Purpose, PurposeTitle: v.title(d.Purpose), Categories: []string{}}
		if rc, ok := r.Map.Recipient(d.Recipient); ok {
			dv.RecipientName = rc.Name
		}
		for _, c := range d.Categories {
			dv.Categories = append(dv.Categories, c)
			dv.CategoryTitles = append(dv.CategoryTitles, categoryTitle(r.Map, c, v.Locale))
		}
		v.Disclosures = append(v.Disclosures, dv)
	}
}

func categoryTitle(m *datamap.Map, id, loc string) string {
	if c, ok := m.Category(id); ok {
		return c.Title.Get(loc)
	}
	return id
}

// categorySource says where a data category comes from. The data map has
// no field for it, so it follows the category id:
//
//   - "profile.*" and "derived.*" are derived by tact from other data;
//   - "identity.user_id", "government_id", "financial" and "shop.*",
//     "account.*", "order.*" are provided by the shop (its customer
//     account, checkout and legal records);
//   - everything else — behaviour, device, browser id, contact details,
//     sensitive interests — is collected from the shopper or their browser
//     on the shop's site.
func categorySource(id string) string {
	switch {
	case strings.HasPrefix(id, "profile.") || strings.HasPrefix(id, "derived."):
		return SourceTact
	case id == "identity.user_id" || id == "government_id" || id == "financial" ||
		strings.HasPrefix(id, "shop.") || strings.HasPrefix(id, "account.") || strings.HasPrefix(id, "order."):
		return SourceShop
	}
	return SourceYou
}

func (v *view) processing(r *Report) {
	m, loc := r.Map, v.Locale
	v.Processing = []processingView{}
	for _, p := range append(m.ConsentPurposes(), m.SystemProcessing()...) {
		pv := processingView{
			Purpose: p.ID, Version: p.Version, Title: p.Title.Get(loc), Description: p.Description.Get(loc),
			LegalBasis: string(p.LegalBasis), LegalBasisText: text(legalBases, string(p.LegalBasis), loc),
			System: p.System, Sensitive: p.Sensitive, SeparateConsent: p.SeparateConsent,
			Categories: []categoryUse{}, Recipients: []recipientUse{},
		}
		pv.Status = purposeStatus(p, r.State)
		pv.StatusText = text(statuses, pv.Status, loc)
		if p.LegalBasis == datamap.BasisLegitimateInterest {
			pv.LIAReference = opt(p.LIAReference)
		}
		lo, hi := 0, 0
		for _, id := range p.Categories {
			c, ok := m.Category(id)
			if !ok {
				c = datamap.Category{ID: id, Title: tr{datamap.LocaleEN: id}}
			}
			src := categorySource(id)
			pv.Categories = append(pv.Categories, categoryUse{
				ID: id, Title: c.Title.Get(loc), Description: c.Description.Get(loc), Sensitive: c.Sensitive,
				RetentionDays: c.RetentionDays, Source: src, SourceText: text(sources, src, loc),
			})
			if lo == 0 || c.RetentionDays < lo {
				lo = c.RetentionDays
			}
			hi = max(hi, c.RetentionDays)
		}
		switch {
		case p.System:
			d := p.RetentionDays
			pv.RetentionDays = &d
			pv.Retention = fmt.Sprintf(retentionFixed.Get(loc), days(d, d, loc))
		case p.LegalBasis == datamap.BasisConsent:
			pv.Retention = fmt.Sprintf(retentionConsent.Get(loc), period(r.Regime.ConsentValidity, loc), days(lo, hi, loc))
		default:
			pv.Retention = fmt.Sprintf(retentionMax.Get(loc), days(lo, hi, loc))
		}
		for _, rc := range m.PurposeRecipients(p.ID) {
			ru := recipientUse{
				ID: rc.ID, Name: rc.Name, Description: rc.Description.Get(loc), Role: rc.Role, RoleText: text(roles, rc.Role, loc),
				Country: rc.Country, OutsideRegion: !datamap.SameRegion(rc.Country, m.Controller.Country),
			}
			if ru.OutsideRegion {
				ru.TransferMechanism = opt(rc.TransferMechanism)
				ru.Safeguard = text(transfers, rc.TransferMechanism, loc)
			} else {
				ru.Safeguard = sameRegion.Get(loc)
			}
			pv.Recipients = append(pv.Recipients, ru)
		}
		v.Processing = append(v.Processing, pv)
	}
}

// family picks the list of rights: CCPA for an opt-out regime, PIPL for a
// regime with id "pipl" or "cn", GDPR (or UK GDPR for "uk") otherwise.
func family(r datamap.Regime) string {
	switch id := strings.ToLower(r.ID); {
	case r.Model == datamap.ModelOptOut:
		return FamilyCCPA
	case id == "pipl" || id == "cn":
		return FamilyPIPL
	}
	return FamilyGDPR
}

func rightTitle(typ, loc string) string {
	for _, r := range datamap.Rights {
		if r.Type == typ {
			return r.Title.Get(loc)
		}
	}
	return typ
}

func (v *view) rights(r *Report) {
	loc, c := v.Locale, r.Map.Controller
	fam := family(r.Regime)
	rv := rightsView{Family: fam, Items: []rightView{}, Endpoint: datamap.RequestsEndpoint}
	law := lawNames[FamilyGDPR]
	if strings.EqualFold(r.Regime.ID, "uk") {
		law = lawNames["uk"]
	}
	for _, it := range rightsByFamily[fam] {
		item := rightView{Type: opt(it.Type), Reference: it.Reference.Get(loc)}
		for _, d := range datamap.Rights {
			if d.Type == it.Type {
				item.Title, item.Description = d.Title.Get(loc), d.Description.Get(loc)
			}
		}
		if it.Title != nil {
			item.Title = it.Title.Get(loc)
		}
		if it.Description != nil {
			item.Description = it.Description.Get(loc)
		}
		if fam == FamilyGDPR {
			if loc == datamap.LocaleZH {
				item.Reference = law.Get(loc) + item.Reference
			} else {
				item.Reference = law.Get(loc) + " " + item.Reference
			}
		}
		rv.Items = append(rv.Items, item)
	}
	site := ""
	if c.Website != "" {
		if loc == datamap.LocaleZH {
			site = "（" + c.Website + "）"
		} else {
			site = " (" + c.Website + ")"
		}
	}
	rv.HowTo = fmt.Sprintf(howTo.Get(loc), site, datamap.RequestsEndpoint, c.Email)
	// The regime's notes explain its deadline best; a regime without notes
	// gets the bare period.
	rv.Deadline = r.Regime.Notes.Get(loc)
	if rv.Deadline == "" {
		rv.Deadline = fmt.Sprintf(deadlineText.Get(loc), period(r.Regime.ResponseDeadline, loc))
	}
	auth := authorityName(r)
	rv.Complaint = complaint{Text: fmt.Sprintf(complaints[fam].Get(loc), auth), Authority: auth}
	if auth == c.SupervisoryAuthority.Name {
		rv.Complaint.Website = opt(c.SupervisoryAuthority.Website)
	}
	v.Rights = rv
}

func (v *view) profiling(r *Report) {
	loc := v.Locale
	p, s := v.title(datamap.PurposePersonalization), v.title(datamap.PurposeSensitivePersonalization)
	pv := profilingView{
		Signals:                  append([]string{}, r.Signals...),
		Personalization:          granted(r.State, datamap.PurposePersonalization),
		SensitivePersonalization: granted(r.State, datamap.PurposeSensitivePersonalization),
	}
	titles := strings.NewReplacer("{personalization}", p, "{sensitive}", s)
	for _, t := range profiling {
		pv.Text = append(pv.Text, titles.Replace(t.Get(loc)))
	}
	onOff := func(b bool) string {
		if b {
			return profilingOn.Get(loc)
		}
		return profilingOff.Get(loc)
	}
	pv.Status = fmt.Sprintf(profilingNow.Get(loc), onOff(pv.Personalization), onOff(pv.SensitivePersonalization))
	v.Profiling = pv
}

// ccpaCategory maps a data category to a CCPA category of personal
// information: sensitive categories are sensitive personal information;
// "contact.*" and "identity.*" identifiers; "behavior.purchase" and
// "order.*" commercial information; other "behavior.*" and
// "device.technical" internet activity; "device.country" and "location.*"
// geolocation; "profile.*" inferences; other "device.*" internet activity;
// anything else other personal information.
func ccpaCategoryOf(c datamap.Category) string {
	id := c.ID
	switch {
	case c.Sensitive:
		return ccpaSensitive
	case strings.HasPrefix(id, "contact.") || strings.HasPrefix(id, "identity."):
		return ccpaIdentifiers
	case id == "behavior.purchase" || strings.HasPrefix(id, "order."):
		return ccpaCommercial
	case id == "device.country" || strings.HasPrefix(id, "location."):
		return ccpaGeolocation
	case strings.HasPrefix(id, "behavior.") || strings.HasPrefix(id, "device."):
		return ccpaInternet
	case strings.HasPrefix(id, "profile."):
		return ccpaInferences
	}
	return ccpaOther
}

// ccpa builds the CCPA section. The categories collected are those of
// every purpose in the map (what the shop collects from any shopper under
// the regime); "sold or shared" is true iff the map has a recipient for
// sale_share or advertising and the shopper grants that purpose now.
func (v *view) ccpa(r *Report) {
	m, loc := r.Map, v.Locale
	cv := &ccpaView{CategoriesCollected: []ccpaCategory{}, Sources: []codeText{}, Purposes: []codeText{}, ThirdParties: []thirdParty{}, SoldOrSharedFor: []string{}}
	used := map[string]bool{}
	for _, p := range m.Purposes {
		for _, c := range p.Categories {
			used[c] = true
		}
	}
	byCCPA := map[string]*ccpaCategory{}
	srcs := map[string]bool{}
	for _, c := range m.Categories {
		if !used[c.ID] {
			continue
		}
		k := ccpaCategoryOf(c)
		cc := byCCPA[k]
		if cc == nil {
			cc = &ccpaCategory{ID: k, Title: text(ccpaCategories, k, loc), DataCategories: []string{}}
			byCCPA[k] = cc
		}
		cc.DataCategories = append(cc.DataCategories, c.ID)
		cc.DataCategoryTitles = append(cc.DataCategoryTitles, c.Title.Get(loc))
		srcs[categorySource(c.ID)] = true
	}
	for _, k := range ccpaCategoryOrder {
		if cc := byCCPA[k]; cc != nil {
			cv.CategoriesCollected = append(cv.CategoriesCollected, *cc)
		}
	}
	for _, s := range []string{SourceYou, SourceShop, SourceTact} {
		if srcs[s] {
			cv.Sources = append(cv.Sources, codeText{ID: s, Title: text(sources, s, loc)})
		}
	}
	for _, p := range append(m.ConsentPurposes(), m.SystemProcessing()...) {
		cv.Purposes = append(cv.Purposes, codeText{ID: p.ID, Title: p.Title.Get(loc)})
	}
	for _, rc := range m.Recipients {
		tp := thirdParty{ID: rc.ID, Name: rc.Name, Role: rc.Role, RoleText: text(ccpaRoles, rc.Role, loc), Country: rc.Country, Purposes: []string{}, Categories: []string{}}
		cats := map[string]bool{}
		for _, p := range m.Purposes {
			if !slices.Contains(rc.Purposes, p.ID) && !slices.Contains(p.Recipients, rc.ID) {
				continue
			}
			tp.Purposes = append(tp.Purposes, p.ID)
			tp.PurposeTitles = append(tp.PurposeTitles, p.Title.Get(loc))
			for _, id := range p.Categories {
				if c, ok := m.Category(id); ok {
					cats[ccpaCategoryOf(c)] = true
				}
			}
		}
		for _, k := range ccpaCategoryOrder {
			if cats[k] {
				tp.Categories = append(tp.Categories, k)
				tp.CategoryTitles = append(tp.CategoryTitles, text(ccpaCategories, k, loc))
			}
		}
		cv.ThirdParties = append(cv.ThirdParties, tp)
	}
	var titles []string
	for _, p := range []string{datamap.PurposeAdvertising, datamap.PurposeSaleShare} {
		if len(m.PurposeRecipients(p)) > 0 && granted(r.State, p) {
			cv.SoldOrShared = true
			cv.SoldOrSharedFor = append(cv.SoldOrSharedFor, p)
			titles = append(titles, v.title(p))
		}
	}
	if cv.SoldOrShared {
		cv.SoldOrSharedText = fmt.Sprintf(soldSharedYes.Get(loc), strings.Join(titles, listSep(loc)))
	} else {
		cv.SoldOrSharedText = soldSharedNo.Get(loc)
	}
	v.CCPA = cv
}
