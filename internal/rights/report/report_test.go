package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tact-cdp/tact/internal/datamap"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got), run go test -update if intended:\n%s", name, diff)
	}
}

// goldenCases are the fixed reports: GDPR in English, PIPL in Chinese,
// CCPA (opt-out) in English.
var goldenCases = []struct{ name, regime, locale string }{
	{"en-gdpr", datamap.ModelOptIn, "en"},
	{"zh-CN-pipl", "pipl", "zh-CN"},
	{"en-ccpa", datamap.ModelOptOut, "en"},
}

func render(t *testing.T, r *Report, evs []Event) (js, page []byte) {
	t.Helper()
	var j, h bytes.Buffer
	if err := WriteJSON(&j, r, sliceEvents(evs)); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	if err := WriteHTML(&h, r, sliceEvents(evs)); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return j.Bytes(), h.Bytes()
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			js, page := render(t, fixture(t, c.regime, c.locale), fixtureEvents)
			if !json.Valid(js) {
				t.Fatalf("JSON report is not valid JSON:\n%s", js)
			}
			golden(t, c.name+".golden.json", js)
			golden(t, c.name+".golden.html", page)
		})
	}
}

// doc mirrors the documented schema; decoding with DisallowUnknownFields
// checks that the output has no member the documentation lacks.
type doc struct {
	Schema      string `json:"schema"`
	RequestID   string `json:"requestId"`
	GeneratedAt string `json:"generatedAt"`
	Locale      string `json:"locale"`
	Subject     string `json:"subject"`
	Regime      struct {
		ID, Title, Model, ResponseDeadline, ResponseDeadlineText, Extension, Notes, Authority string
	} `json:"regime"`
	Controller struct {
		Name, Address, Country, Email string
		Website                       *string
		DPO, PIPLOfficer              *struct{ Name, Email, Phone, Address *string }
		Representatives               []struct {
			Region, Name   string
			Email, Address *string
		}
		SupervisoryAuthority struct {
			Name    string
			Website *string
		}
	} `json:"controller"`
	Identities []struct {
		Kind, KindText string
		Value, Since   *string
	} `json:"identities"`
	Traits  map[string]any `json:"traits"`
	Consent []struct {
		ReceiptID     string `json:"receiptId"`
		LeafIndex     int64
		Method        string
		MethodText    string
		At            string
		NoticeVersion string
		Choices       map[string]bool
		Pending       bool
		Proof         json.RawMessage
	} `json:"consent"`
	State map[string]struct {
		Granted, Pending bool
		ReceiptID        *string `json:"receiptId"`
		Since            *string
	} `json:"state"`
	Derived struct {
		Interests []struct {
			Category string
			Score    float64
			Source   string
		}
		Audiences   []string
		Retargeting []struct {
			ItemID string `json:"itemId"`
			Shown  int
			Until  string
		}
	} `json:"derived"`
	Disclosures []struct {
		Recipient, RecipientName, At, Purpose, PurposeTitle string
		Categories                                          []string
	} `json:"disclosures"`
	Requests []struct {
		ID, Type, TypeText, Status, ReceivedAt string
		CompletedAt                            *string
	} `json:"requests"`
	Processing []docPurpose `json:"processing"`
	Rights     struct {
		Family string
		Items  []struct {
			Type                          *string
			Title, Description, Reference string
		}
		Endpoint, HowTo, Deadline string
		Complaint                 struct {
			Text, Authority string
			Website         *string
		}
	} `json:"rights"`
	Profiling struct {
		Text                                      []string
		Signals                                   []string
		Personalization, SensitivePersonalization bool
		Status                                    string
	} `json:"profiling"`
	CCPA *struct {
		CategoriesCollected []struct {
			ID, Title      string
			DataCategories []string
		}
		Sources, Purposes []struct{ ID, Title string }
		ThirdParties      []struct {
			ID, Name, Role, RoleText, Country string
			Purposes, Categories              []string
		}
		SoldOrShared     bool
		SoldOrSharedFor  []string
		SoldOrSharedText string
	} `json:"ccpa"`
	Events []struct {
		MessageID  string `json:"messageId"`
		Type       string
		Event      *string
		OccurredAt string
		ReceivedAt string
		Purposes   []string
		ReceiptID  *string `json:"receiptId"`
		Payload    json.RawMessage
	} `json:"events"`
	EventCount int `json:"eventCount"`
}

type docPurpose struct {
	Purpose, Version, Title, Description, Status, StatusText, LegalBasis, LegalBasisText string
	LIAReference                                                                         *string `json:"liaReference"`
	System, Sensitive, SeparateConsent                                                   bool
	RetentionDays                                                                        *int
	Retention                                                                            string
	Categories                                                                           []struct {
		ID, Title, Description string
		Sensitive              bool
		RetentionDays          int
		Source, SourceText     string
	}
	Recipients []struct {
		ID, Name, Description, Role, RoleText, Country string
		OutsideRegion                                  bool
		TransferMechanism                              *string
		Safeguard                                      string
	}
}

func decode(t *testing.T, js []byte) doc {
	t.Helper()
	var d doc
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decoding the report: %v", err)
	}
	if dec.More() {
		t.Fatal("data after the report")
	}
	return d
}

// topLevelKeys returns the members of the outer object in order.
func topLevelKeys(t *testing.T, js []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(js))
	var keys []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			continue
		case json.Delim('}'), json.Delim(']'):
			depth--
			continue
		}
		if s, ok := tok.(string); ok && depth == 1 {
			keys = append(keys, s)
			// Skip the value.
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
	}
	return keys
}

func TestJSONSchemaOrder(t *testing.T) {
	js, _ := render(t, fixture(t, datamap.ModelOptOut, "en"), fixtureEvents)
	want := []string{"schema", "requestId", "generatedAt", "locale", "subject", "regime", "controller", "identities", "traits",
		"consent", "state", "derived", "disclosures", "requests", "processing", "rights", "profiling", "ccpa", "events", "eventCount"}
	if diff := cmp.Diff(want, topLevelKeys(t, js)); diff != "" {
		t.Errorf("top-level members (-want +got):\n%s", diff)
	}
	d := decode(t, js)
	if d.Schema != Schema || d.EventCount != len(fixtureEvents) || len(d.Events) != len(fixtureEvents) {
		t.Errorf("schema %q, eventCount %d, %d events", d.Schema, d.EventCount, len(d.Events))
	}
	// Times are RFC 3339 UTC.
	rfc3339UTC := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)
	for _, s := range []string{d.GeneratedAt, d.Consent[0].At, d.Events[0].OccurredAt, d.Events[0].ReceivedAt, d.Requests[0].ReceivedAt} {
		if !rfc3339UTC.MatchString(s) {
			t.Errorf("time %q is not RFC 3339 UTC", s)
		}
	}
}

// TestCompleteness checks that every part of the report reaches both
// formats: events, receipts, traits, derived data, every purpose of the
// map with its legal basis, every recipient, retention and the authority.
func TestCompleteness(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			r := fixture(t, c.regime, c.locale)
			js, page := render(t, r, fixtureEvents)
			d := decode(t, js)
			checkJSON(t, r, d)
			checkHTML(t, r, string(page))
		})
	}
}

func checkJSON(t *testing.T, r *Report, d doc) {
	t.Helper()
	m := r.Map
	if len(d.Events) != len(fixtureEvents) || d.EventCount != len(fixtureEvents) {
		t.Fatalf("%d events, eventCount %d, want %d", len(d.Events), d.EventCount, len(fixtureEvents))
	}
	for i, e := range fixtureEvents {
		got := d.Events[i]
		if got.MessageID != e.MessageID || got.Type != e.Type || !slices.Equal(got.Purposes, e.Purposes) ||
			got.ReceiptID == nil || *got.ReceiptID != e.ReceiptID || !json.Valid(got.Payload) {
			t.Errorf("event %d = %+v, want %+v", i, got, e)
		}
	}
	if len(d.Consent) != len(r.Consent) {
		t.Fatalf("%d receipts, want %d", len(d.Consent), len(r.Consent))
	}
	for i, rc := range r.Consent {
		got := d.Consent[i]
		if got.ReceiptID != rc.ID || got.LeafIndex != rc.LeafIndex || !maps.Equal(got.Choices, rc.Choices) || got.Pending != (rc.Proof == nil) {
			t.Errorf("receipt %d = %+v", i, got)
		}
		var compact bytes.Buffer
		json.Compact(&compact, got.Proof)
		if rc.Proof != nil && !bytes.Equal(compact.Bytes(), rc.Proof) {
			t.Errorf("receipt %d proof = %s, want %s", i, got.Proof, rc.Proof)
		}
	}
	for k := range r.Traits {
		if _, ok := d.Traits[k]; !ok {
			t.Errorf("trait %q missing", k)
		}
	}
	for p, s := range r.State {
		if got := d.State[p]; got.Granted != s.Granted || got.Pending != s.Pending {
			t.Errorf("state %s = %+v, want %+v", p, got, s)
		}
	}
	for i, in := range r.Derived.Interests {
		if got := d.Derived.Interests[i]; got.Category != in.Category || got.Score != in.Score || got.Source != in.Source {
			t.Errorf("interest %d = %+v", i, got)
		}
	}
	if !slices.Equal(d.Derived.Audiences, r.Derived.Audiences) {
		t.Errorf("audiences = %v", d.Derived.Audiences)
	}
	if len(d.Derived.Retargeting) != 1 || d.Derived.Retargeting[0].ItemID != r.Derived.Retargeting[0].ItemID || d.Derived.Retargeting[0].Shown != 2 {
		t.Errorf("retargeting = %+v", d.Derived.Retargeting)
	}
	if len(d.Disclosures) != len(r.Disclosures) || len(d.Requests) != len(r.Requests) {
		t.Errorf("%d disclosures, %d requests", len(d.Disclosures), len(d.Requests))
	}
	for i, ds := range r.Disclosures {
		rc, _ := m.Recipient(ds.Recipient)
		if got := d.Disclosures[i]; got.Recipient != ds.Recipient || got.RecipientName != rc.Name || !slices.Equal(got.Categories, ds.Categories) {
			t.Errorf("disclosure %d = %+v", i, got)
		}
	}
	// Every purpose of the map, with its basis, LIA, categories, retention
	// and recipients.
	if len(d.Processing) != len(m.Purposes) {
		t.Fatalf("%d purposes processed, map has %d", len(d.Processing), len(m.Purposes))
	}
	names := map[string]bool{}
	for _, p := range m.Purposes {
		i := slices.IndexFunc(d.Processing, func(x docPurpose) bool { return x.Purpose == p.ID })
		if i < 0 {
			t.Errorf("purpose %s missing", p.ID)
			continue
		}
		got := d.Processing[i]
		if got.LegalBasis != string(p.LegalBasis) || got.Title != p.Title.Get(r.Locale) || got.LegalBasisText == "" {
			t.Errorf("purpose %s: basis %q title %q", p.ID, got.LegalBasis, got.Title)
		}
		if p.LegalBasis == datamap.BasisLegitimateInterest && (got.LIAReference == nil || *got.LIAReference != p.LIAReference) {
			t.Errorf("purpose %s: LIA reference %v, want %q", p.ID, got.LIAReference, p.LIAReference)
		}
		if p.System && (got.RetentionDays == nil || *got.RetentionDays != p.RetentionDays) {
			t.Errorf("purpose %s: retention %v, want %d", p.ID, got.RetentionDays, p.RetentionDays)
		}
		if len(got.Categories) != len(p.Categories) {
			t.Errorf("purpose %s: %d categories, want %d", p.ID, len(got.Categories), len(p.Categories))
		}
		for j, id := range p.Categories {
			c, _ := m.Category(id)
			if got.Categories[j].ID != id || got.Categories[j].RetentionDays != c.RetentionDays || got.Categories[j].Source == "" {
				t.Errorf("purpose %s category %d = %+v", p.ID, j, got.Categories[j])
			}
		}
		for _, rc := range got.Recipients {
			names[rc.Name] = true
			if rc.OutsideRegion && rc.TransferMechanism == nil {
				t.Errorf("purpose %s: recipient %s outside the region without a mechanism", p.ID, rc.Name)
			}
		}
	}
	for _, rc := range m.Recipients {
		if !names[rc.Name] {
			t.Errorf("recipient %s missing", rc.Name)
		}
	}
	if d.Rights.Complaint.Authority != r.Regime.Authority || d.Regime.Authority != r.Regime.Authority ||
		!strings.Contains(d.Rights.Complaint.Text, r.Regime.Authority) {
		t.Errorf("authority: %+v, want %q", d.Rights.Complaint, r.Regime.Authority)
	}
	if len(d.Rights.Items) == 0 || d.Rights.Endpoint != datamap.RequestsEndpoint {
		t.Errorf("rights = %+v", d.Rights)
	}
	if (d.CCPA != nil) != (r.Regime.Model == datamap.ModelOptOut) {
		t.Errorf("ccpa section present = %v under model %s", d.CCPA != nil, r.Regime.Model)
	}
}

func checkHTML(t *testing.T, r *Report, page string) {
	t.Helper()
	m, loc := r.Map, datamap.NormalizeLocale(r.Locale)
	has := func(what, s string) {
		t.Helper()
		if !strings.Contains(page, html.EscapeString(s)) {
			t.Errorf("page lacks %s %q", what, s)
		}
	}
	if !strings.Contains(page, fmt.Sprintf(`<html lang="%s">`, loc)) {
		t.Errorf("page lacks lang=%q", loc)
	}
	has("controller", m.Controller.Name)
	has("DPO", m.Controller.DPO.Name)
	for _, rep := range m.Controller.Representatives {
		has("representative", rep.Name)
	}
	for _, e := range fixtureEvents {
		has("event", e.MessageID)
	}
	for _, rc := range r.Consent {
		has("receipt", rc.ID)
	}
	for k := range r.Traits {
		has("trait", k)
	}
	for _, in := range r.Derived.Interests {
		has("interest", in.Category)
	}
	for _, a := range r.Derived.Audiences {
		has("audience", a)
	}
	for _, c := range r.Derived.Retargeting {
		has("retargeting item", c.ItemID)
	}
	for _, q := range r.Requests {
		has("request", q.ID)
	}
	for _, p := range m.Purposes {
		has("purpose title", p.Title.Get(loc))
		has("purpose description", p.Description.Get(loc))
		has("legal basis", text(legalBases, string(p.LegalBasis), loc))
		if p.LIAReference != "" {
			has("LIA reference", p.LIAReference)
		}
		if p.System {
			has("fixed retention", days(p.RetentionDays, p.RetentionDays, loc))
		}
	}
	for _, c := range m.Categories {
		if slices.ContainsFunc(m.Purposes, func(p datamap.Purpose) bool { return slices.Contains(p.Categories, c.ID) }) {
			has("category", c.Title.Get(loc))
			has("category retention", fmt.Sprintf("%d %s", c.RetentionDays, labelsByLocale[loc].Days))
		}
	}
	for _, rc := range m.Recipients {
		has("recipient", rc.Name)
	}
	has("authority", r.Regime.Authority)
	has("endpoint", datamap.RequestsEndpoint)
	for _, p := range profiling {
		has("profiling text", strings.SplitN(p.Get(loc), "{", 2)[0])
	}
	if r.Regime.Model == datamap.ModelOptOut {
		has("CCPA section", labelsByLocale[loc].SecCCPA)
	} else if strings.Contains(page, `id="ccpa"`) {
		t.Error("CCPA section outside an opt-out regime")
	}
}

// TestRedactedInOutputs: planted secrets never reach either format in full.
func TestRedactedInOutputs(t *testing.T) {
	for _, c := range goldenCases {
		js, page := render(t, fixture(t, c.regime, c.locale), fixtureEvents)
		for _, out := range []string{string(js), string(page)} {
			for _, secret := range []string{password, cardNumber, cardDigits, ibanNumber, strings.ReplaceAll(ibanNumber, " ", ""), passportNum} {
				if strings.Contains(out, secret) {
					t.Errorf("%s: output contains %q", c.name, secret)
				}
			}
			for _, masked := range []string{Redacted, "•••• 1111", "•••• 3000", "•••• 0T47"} {
				if !strings.Contains(out, masked) {
					t.Errorf("%s: output lacks %q", c.name, masked)
				}
			}
		}
	}
}

func TestHTMLEscapes(t *testing.T) {
	_, page := render(t, fixture(t, datamap.ModelOptIn, "en"), fixtureEvents)
	s := string(page)
	for _, raw := range []string{"<script", "<img", "onerror=alert(1)>", `"><`} {
		if strings.Contains(s, raw) {
			t.Errorf("page contains %q unescaped", raw)
		}
	}
	// The trait and the event property are there, escaped.
	for _, esc := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"} {
		if !strings.Contains(s, esc) {
			t.Errorf("page lacks escaped %q", esc)
		}
	}
	// In the event payload the quote is JSON-escaped, then HTML-escaped.
	if !strings.Contains(s, `\&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`) {
		t.Error("event payload lacks the escaped attribute injection")
	}
}

// TestHTMLSelfContained: no script, no external resource, no inline style
// attribute, and the one style block matches HTMLStyleCSP.
func TestHTMLSelfContained(t *testing.T) {
	for _, c := range goldenCases {
		_, page := render(t, fixture(t, c.regime, c.locale), fixtureEvents)
		s := string(page)
		for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "<form", "@import", "url("} {
			if strings.Contains(s, bad) {
				t.Errorf("%s: page contains %q", c.name, bad)
			}
		}
		// Escaped text holds no "<", so every "<" opens a real tag.
		if attr := regexp.MustCompile(`<[^>]*\s(src|style|on[a-z]+)=`).FindString(s); attr != "" {
			t.Errorf("%s: page has a tag with %q", c.name, attr)
		}
		styles := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(s, -1)
		if len(styles) != 1 {
			t.Fatalf("%s: %d style blocks, want 1", c.name, len(styles))
		}
		h := sha256.Sum256([]byte(styles[0][1]))
		want := "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
		if !strings.Contains(HTMLStyleCSP, "style-src "+want) {
			t.Errorf("HTMLStyleCSP = %q, want style-src %s", HTMLStyleCSP, want)
		}
		if !strings.HasPrefix(HTMLStyleCSP, "default-src 'none';") {
			t.Errorf("HTMLStyleCSP = %q, want default-src 'none' first", HTMLStyleCSP)
		}
	}
}

func TestLabelsComplete(t *testing.T) {
	for loc, l := range labelsByLocale {
		v := reflect.ValueOf(l).Elem()
		for i := range v.NumField() {
			if v.Field(i).String() == "" {
				t.Errorf("%s: label %s is empty", loc, v.Type().Field(i).Name)
			}
		}
	}
	tables := map[string]map[string]tr{
		"identityKinds": identityKinds, "consentMethods": consentMethods, "statuses": statuses, "legalBases": legalBases,
		"sources": sources, "roles": roles, "ccpaRoles": ccpaRoles, "transfers": transfers, "ccpaCategories": ccpaCategories, "complaints": complaints,
	}
	for name, table := range tables {
		for code, t2 := range table {
			for _, loc := range []string{datamap.LocaleEN, datamap.LocaleZH} {
				if t2[loc] == "" {
					t.Errorf("%s[%q] has no %s text", name, code, loc)
				}
			}
		}
	}
	for fam, rights := range rightsByFamily {
		for _, r := range rights {
			for _, loc := range []string{datamap.LocaleEN, datamap.LocaleZH} {
				if r.Reference.Get(loc) == "" || (r.Type == "" && (r.Title == nil || r.Description == nil)) {
					t.Errorf("%s right %q incomplete in %s", fam, r.Type, loc)
				}
			}
			if r.Type != "" && !slices.ContainsFunc(datamap.Rights, func(d struct {
				Type        string
				Title       datamap.Text
				Description datamap.Text
			}) bool {
				return d.Type == r.Type
			}) {
				t.Errorf("%s right %q is not a request type", fam, r.Type)
			}
		}
	}
}

// TestEmpty: a report with nothing in it still has every section, as
// empty arrays in JSON and "none" on the page.
func TestEmpty(t *testing.T) {
	m := datamap.Default()
	r := &Report{RequestID: "req_1", Locale: "zh", Regime: m.ActiveRegime(), Map: m, Subject: "00"}
	js, page := render(t, r, nil)
	d := decode(t, js)
	if d.Locale != datamap.LocaleZH || d.EventCount != 0 || d.Events == nil || d.Identities == nil || d.Consent == nil ||
		d.Traits == nil || d.Derived.Interests == nil || d.Derived.Audiences == nil || d.Derived.Retargeting == nil ||
		d.Disclosures == nil || d.Requests == nil || d.GeneratedAt != "" {
		t.Errorf("empty report decoded as %+v", d)
	}
	for _, key := range []string{`"events": []`, `"audiences": []`, `"disclosures": []`, `"generatedAt": null`} {
		if !bytes.Contains(js, []byte(key)) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	l := labelsByLocale[datamap.LocaleZH]
	if n := strings.Count(string(page), "<p>"+l.None+"</p>"); n < 7 {
		t.Errorf("page shows %q %d times, want one per empty section", l.None, n)
	}
	if !strings.Contains(string(page), l.EventsNone) {
		t.Errorf("page lacks %q", l.EventsNone)
	}
}

type failWriter struct {
	n, limit int
	err      error
}

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > w.limit {
		return 0, w.err
	}
	w.n += len(p)
	return len(p), nil
}

var writers = map[string]func(w *failWriter, r *Report, ev Events) error{
	"json": func(w *failWriter, r *Report, ev Events) error { return WriteJSON(w, r, ev) },
	"html": func(w *failWriter, r *Report, ev Events) error { return WriteHTML(w, r, ev) },
}

func TestIteratorErrorStops(t *testing.T) {
	boom := errors.New("store: connection reset")
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			ev := func(yield func(Event) error) error {
				for i := range 3 {
					if err := yield(genEvent(i)); err != nil {
						return err
					}
				}
				return boom
			}
			w := &failWriter{limit: 1 << 30}
			if err := write(w, fixture(t, "opt_in", "en"), ev); !errors.Is(err, boom) {
				t.Errorf("error = %v, want %v", err, boom)
			}
		})
	}
}

func TestWriterErrorStops(t *testing.T) {
	broken := errors.New("write: broken pipe")
	for name, write := range writers {
		for _, respect := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/iterator-stops=%v", name, respect), func(t *testing.T) {
				yields, after := 0, 0
				var failed error
				ev := func(yield func(Event) error) error {
					for i := range 100000 {
						yields++
						if failed != nil {
							after++
						}
						if err := yield(genEvent(i)); err != nil {
							failed = err
							if respect {
								return err
							}
						}
					}
					return nil
				}
				// Fails once the head and some events are written.
				w := &failWriter{limit: 200 << 10, err: broken}
				err := write(w, fixture(t, "opt_in", "en"), ev)
				if !errors.Is(err, broken) {
					t.Fatalf("error = %v, want %v", err, broken)
				}
				if !errors.Is(failed, broken) {
					t.Errorf("yield returned %v, want %v", failed, broken)
				}
				if respect && (after != 0 || yields >= 100000) {
					t.Errorf("%d yields, %d after the error", yields, after)
				}
			})
		}
	}
}

func TestNoMap(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, &Report{}, nil); err == nil {
		t.Error("WriteJSON without a map: no error")
	}
	if err := WriteHTML(&b, nil, nil); err == nil {
		t.Error("WriteHTML without a report: no error")
	}
}

func TestProofMustBeJSON(t *testing.T) {
	r := fixture(t, "opt_in", "en")
	r.Consent[0].Proof = json.RawMessage(`{"leafIndex":`)
	if err := WriteJSON(&bytes.Buffer{}, r, nil); err == nil {
		t.Error("invalid proof: no error")
	}
}

// TestSourceRule pins the documented source of each default category.
func TestSourceRule(t *testing.T) {
	want := map[string]string{
		"contact.email": SourceYou, "contact.phone": SourceYou, "identity.user_id": SourceShop, "identity.anonymous_id": SourceYou,
		"behavior.browsing": SourceYou, "behavior.purchase": SourceYou, "behavior.search": SourceYou, "device.country": SourceYou,
		"device.technical": SourceYou, "profile.interests": SourceTact, "government_id": SourceShop, "financial": SourceShop, "health": SourceYou,
	}
	for _, c := range datamap.Default().Categories {
		if got := categorySource(c.ID); got != want[c.ID] {
			t.Errorf("categorySource(%q) = %q, want %q", c.ID, got, want[c.ID])
		}
	}
}

// TestSoldOrShared pins the rule: a recipient for advertising or
// sale_share exists and the shopper grants that purpose now.
func TestSoldOrShared(t *testing.T) {
	tests := []struct {
		name  string
		state map[string]PurposeState
		strip bool // remove the ad network from the map
		want  []string
	}{
		{"both granted", map[string]PurposeState{"advertising": {Granted: true}, "sale_share": {Granted: true}}, false, []string{"advertising", "sale_share"}},
		{"opted out", map[string]PurposeState{"advertising": {}, "sale_share": {}}, false, []string{}},
		{"sharing only", map[string]PurposeState{"advertising": {Granted: true}}, false, []string{"advertising"}},
		{"pending is not granted", map[string]PurposeState{"sale_share": {Granted: true, Pending: true}}, false, []string{}},
		{"no recipient", map[string]PurposeState{"advertising": {Granted: true}, "sale_share": {Granted: true}}, true, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fixture(t, datamap.ModelOptOut, "en")
			r.State = tt.state
			if tt.strip {
				r.Map.Recipients = slices.DeleteFunc(r.Map.Recipients, func(rc datamap.Recipient) bool { return rc.ID == "ad_network" })
				for i := range r.Map.Purposes {
					r.Map.Purposes[i].Recipients = slices.DeleteFunc(r.Map.Purposes[i].Recipients, func(id string) bool { return id == "ad_network" })
				}
			}
			js, _ := render(t, r, nil)
			d := decode(t, js)
			if d.CCPA.SoldOrShared != (len(tt.want) > 0) || !slices.Equal(d.CCPA.SoldOrSharedFor, tt.want) {
				t.Errorf("soldOrShared = %v for %v, want %v", d.CCPA.SoldOrShared, d.CCPA.SoldOrSharedFor, tt.want)
			}
		})
	}
}

func TestTransferMechanismShown(t *testing.T) {
	js, _ := render(t, fixture(t, "opt_in", "en"), nil)
	d := decode(t, js)
	for _, p := range d.Processing {
		for _, rc := range p.Recipients {
			switch rc.ID {
			case "ad_network", "sms_provider": // US
				if !rc.OutsideRegion || rc.TransferMechanism == nil || *rc.TransferMechanism != datamap.TransferSCC || rc.Safeguard != "Standard contractual clauses" {
					t.Errorf("%s/%s = %+v", p.Purpose, rc.ID, rc)
				}
			case "hosting", "email_service": // DE, IE: same region as DE
				if rc.OutsideRegion || rc.TransferMechanism != nil {
					t.Errorf("%s/%s = %+v", p.Purpose, rc.ID, rc)
				}
			}
		}
	}
}

func TestRightsFamily(t *testing.T) {
	m := datamap.Default()
	for id, want := range map[string]string{"opt_in": FamilyGDPR, "uk": FamilyGDPR, "opt_out": FamilyCCPA, "pipl": FamilyPIPL} {
		rg, _ := m.Regime(id)
		if got := family(rg); got != want {
			t.Errorf("family(%s) = %s, want %s", id, got, want)
		}
	}
	rg, _ := m.Regime("uk")
	r := fixture(t, "opt_in", "en")
	r.Regime = rg
	js, _ := render(t, r, nil)
	d := decode(t, js)
	if d.Rights.Items[0].Reference != "UK GDPR Art. 15" || d.Rights.Complaint.Authority != rg.Authority {
		t.Errorf("UK rights = %+v", d.Rights)
	}
}

func TestPeriodText(t *testing.T) {
	tests := []struct {
		p      datamap.Period
		en, zh string
	}{
		{datamap.Period{Months: 1}, "1 month", "1 个月"},
		{datamap.Period{Months: 13}, "13 months", "13 个月"},
		{datamap.Period{Days: 45}, "45 days", "45 天"},
		{datamap.Period{Days: 10, BusinessDays: true}, "10 business days", "10 个工作日"},
		{datamap.Period{Months: 1, Days: 1}, "1 month and 1 day", "1 个月零 1 天"},
	}
	for _, tt := range tests {
		if got := period(tt.p, "en"); got != tt.en {
			t.Errorf("period(%v, en) = %q, want %q", tt.p, got, tt.en)
		}
		if got := period(tt.p, "zh-CN"); got != tt.zh {
			t.Errorf("period(%v, zh-CN) = %q, want %q", tt.p, got, tt.zh)
		}
	}
}
