package datamap

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got), run go test -update if intended:\n%s", name, diff)
	}
}

func mustParse(t *testing.T, config string) *Map {
	t.Helper()
	m, err := Parse("test.json", []byte(config))
	if err != nil {
		t.Fatalf("Parse(%s): %v", config, err)
	}
	return m
}

func TestDefaultValidates(t *testing.T) {
	m := Default()
	if err := m.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	for _, p := range m.Purposes {
		if len(p.Version) != 16 {
			t.Errorf("purpose %s version %q: want 16 hex chars", p.ID, p.Version)
		}
	}
	if got := len(m.NoticeVersion()); got != 16 {
		t.Errorf("NoticeVersion length = %d, want 16", got)
	}
	var ids []string
	for _, p := range m.ConsentPurposes() {
		ids = append(ids, p.ID)
	}
	want := []string{"necessary", "analytics", "personalization", "sensitive_personalization", "marketing_email", "marketing_sms", "advertising", "sale_share"}
	if diff := diff(want, ids); diff != "" {
		t.Errorf("ConsentPurposes (-want +got):\n%s", diff)
	}
	for _, id := range SystemPurposes {
		p, ok := m.Purpose(id)
		if !ok || !p.System || p.RetentionDays <= 0 {
			t.Errorf("system purpose %s = %+v, %v", id, p, ok)
		}
	}
	if got := m.ActiveRegime().ID; got != "opt_in" {
		t.Errorf("ActiveRegime = %q, want opt_in", got)
	}
}

func TestDefaultTranslations(t *testing.T) {
	m := Default()
	check := func(what string, tx Text) {
		if tx["en"] == "" || tx["zh-CN"] == "" {
			t.Errorf("%s: want en and zh-CN, got %v", what, tx)
		}
	}
	for _, p := range m.Purposes {
		check("purpose "+p.ID+" title", p.Title)
		check("purpose "+p.ID+" description", p.Description)
	}
	for _, c := range m.Categories {
		check("category "+c.ID, c.Title)
		check("category "+c.ID+" description", c.Description)
	}
	for _, r := range m.Regimes {
		check("regime "+r.ID, r.Title)
	}
	for _, r := range Rights {
		check("right "+r.Type, r.Title)
		check("right "+r.Type+" description", r.Description)
	}
}

func TestVersions(t *testing.T) {
	base := Default()
	if got, want := Default().NoticeVersion(), base.NoticeVersion(); got != want {
		t.Fatalf("NoticeVersion not stable: %s vs %s", got, want)
	}
	tests := []struct {
		name        string
		change      func(m *Map)
		purpose     string
		wantChanged bool
	}{
		{"title", func(m *Map) { m.Purposes[1].Title["en"] = "Stats" }, "analytics", true},
		{"zh-CN description", func(m *Map) { m.Purposes[1].Description["zh-CN"] = "新的说明" }, "analytics", true},
		{"legal basis", func(m *Map) { m.Purposes[1].LegalBasis = BasisLegitimateInterest }, "analytics", true},
		{"lia reference", func(m *Map) { m.Purposes[1].LIAReference = "LIA-1" }, "analytics", true},
		{"separate consent", func(m *Map) { m.Purposes[1].SeparateConsent = true }, "analytics", true},
		{"sensitive", func(m *Map) { m.Purposes[1].Sensitive = true }, "analytics", true},
		{"required", func(m *Map) { m.Purposes[1].Required = true }, "analytics", true},
		{"category added", func(m *Map) { m.Purposes[1].Categories = append(m.Purposes[1].Categories, "health") }, "analytics", true},
		{"recipient added", func(m *Map) { m.Purposes[1].Recipients = append(m.Purposes[1].Recipients, "ad_network") }, "analytics", true},
		{"category retention", func(m *Map) { m.Categories[4].RetentionDays = 800 }, "analytics", true},
		{"recipient moves abroad", func(m *Map) { m.Recipients[0].Country = "US"; m.Recipients[0].TransferMechanism = "scc" }, "analytics", true},
		{"retention of system purpose", func(m *Map) { p := &m.Purposes[len(m.Purposes)-1]; p.RetentionDays++ }, "measurement", true},
		{"consent mode", func(m *Map) { m.Purposes[1].ConsentMode = nil }, "analytics", false},
		{"category order", func(m *Map) {
			c := m.Purposes[1].Categories
			c[0], c[1] = c[1], c[0]
		}, "analytics", false},
		{"data subjects", func(m *Map) { m.Purposes[1].DataSubjects = []string{"anyone"} }, "analytics", false},
		{"category title (editorial)", func(m *Map) { m.Categories[4].Title["en"] = "Browsing" }, "analytics", false},
		{"other purpose", func(m *Map) { m.Purposes[2].Title["en"] = "Recs" }, "analytics", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Default()
			tt.change(m)
			m.ComputeVersions()
			before, _ := base.Purpose(tt.purpose)
			after, _ := m.Purpose(tt.purpose)
			if got := before.Version != after.Version; got != tt.wantChanged {
				t.Errorf("version changed = %v, want %v (%s -> %s)", got, tt.wantChanged, before.Version, after.Version)
			}
		})
	}
}

func TestNoticeVersionChanges(t *testing.T) {
	base := Default().NoticeVersion()
	tests := []struct {
		name   string
		config string
		want   bool
	}{
		{"no change", `{}`, false},
		{"purpose text", `{"purposes":{"analytics":{"description":{"en":"Counts things."}}}}`, true},
		{"system retention", `{"purposes":{"security":{"retention_days":14}}}`, true},
		{"controller email", `{"controller":{"email":"dp@shop.example"}}`, true},
		{"category retention", `{"categories":{"behavior.search":{"retention_days":90}}}`, true},
		{"new recipient", `{"recipients":{"cdn":{"name":"CDN SE","role":"processor","country":"FR"}}}`, true},
		{"events are not shown", `{"events":[{"type":"identify","purposes":["analytics"]}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.config).NoticeVersion() != base
			if got != tt.want {
				t.Errorf("NoticeVersion changed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   []string // problem fields
	}{
		{"behavioural track event as necessary", `{"events":[{"type":"track","event":"Product Viewed","purposes":["necessary"]}]}`, []string{"events[0].purposes"}},
		{"page event as necessary", `{"events":[{"type":"page","purposes":["necessary","analytics"]}]}`, []string{"events[0].purposes"}},
		{"identify with behavioural category as necessary", `{"events":[{"type":"identify","purposes":["necessary"],"categories":["behavior.browsing"]}]}`, []string{"events[0].purposes"}},
		{"system purpose in an event rule", `{"events":[{"type":"identify","purposes":["security"]}]}`, []string{"events[0].purposes"}},
		{"advertising on legitimate interest", `{"purposes":{"advertising":{"legal_basis":"legitimate_interest","lia_reference":"LIA-9"}}}`, []string{"purposes[advertising].legal_basis"}},
		{"sale_share on legitimate interest", `{"purposes":{"sale_share":{"legal_basis":"legitimate_interest","lia_reference":"LIA-9"}}}`, []string{"purposes[sale_share].legal_basis"}},
		{"ad consent mode on legitimate interest", `{"purposes":{"retargeting":{"title":{"en":"Retargeting"},"description":{"en":"Ads."},"legal_basis":"legitimate_interest","lia_reference":"LIA-9","consent_mode":["ad_user_data"]}}}`, []string{"purposes[retargeting].legal_basis"}},
		{"behavioural purpose on legitimate interest", `{"purposes":{"analytics":{"legal_basis":"legitimate_interest","lia_reference":"LIA-9"}}}`, []string{"purposes[analytics].legal_basis"}},
		{"legitimate interest without assessment", `{"purposes":{"audit":{"lia_reference":""}}}`, []string{"purposes[audit].lia_reference"}},
		{"unknown legal basis", `{"purposes":{"analytics":{"legal_basis":"vibes"}}}`, []string{"purposes[analytics].legal_basis"}},
		{"sensitive purpose without separate consent", `{"purposes":{"sensitive_personalization":{"separate_consent":false}}}`, []string{"purposes[sensitive_personalization].separate_consent"}},
		{"sensitive purpose default granted", `{"regimes":{"opt_out":{"default_granted":["analytics","sensitive_personalization"]}}}`, []string{"regimes[opt_out].default_granted"}},
		{"separate consent purpose default granted", `{"purposes":{"marketing_sms":{"separate_consent":true}},"regimes":{"opt_out":{"default_granted":["marketing_sms"]}}}`, []string{"regimes[opt_out].default_granted"}},
		{"system purpose default granted", `{"regimes":{"opt_out":{"default_granted":["audit"]}}}`, []string{"regimes[opt_out].default_granted"}},
		{"default granted in opt-in regime", `{"regimes":{"opt_in":{"default_granted":["analytics"]}}}`, []string{"regimes[opt_in].default_granted"}},
		{"unknown purpose in event", `{"events":[{"type":"identify","purposes":["nope"]}]}`, []string{"events[0].purposes"}},
		{"unknown category in event", `{"events":[{"type":"identify","purposes":["analytics"],"categories":["nope"]}]}`, []string{"events[0].categories"}},
		{"unknown event type", `{"events":[{"type":"click","purposes":["analytics"]}]}`, []string{"events[0].type"}},
		{"event name on identify", `{"events":[{"type":"identify","event":"x","purposes":["analytics"]}]}`, []string{"events[0].event"}},
		{"duplicate event rule", `{"events":[{"type":"track","purposes":["analytics"]},{"type":"track","purposes":[]}]}`, []string{"events[1]"}},
		{"unknown purpose in regime", `{"regimes":{"opt_in":{"gpc_denies":["ads"]}}}`, []string{"regimes[opt_in].gpc_denies"}},
		{"unknown purpose in recipient", `{"recipients":{"hosting":{"purposes":["nope"]}}}`, []string{"recipients[hosting].purposes"}},
		{"unknown category in purpose", `{"purposes":{"analytics":{"categories":["behavior.teleport"]}}}`, []string{"purposes[analytics].categories"}},
		{"unknown recipient in purpose", `{"purposes":{"analytics":{"recipients":["nsa"]}}}`, []string{"purposes[analytics].recipients"}},
		{"unknown recipient in category", `{"categories":{"health":{"recipients":["nsa"]}}}`, []string{"categories[health].recipients"}},
		{"config refers to a removed category", `{"categories":{"health":{"remove":true}},"purposes":{"sensitive_personalization":{"categories":["health"]}}}`, []string{"purposes[sensitive_personalization].categories"}},
		{"recipient abroad without transfer mechanism", `{"recipients":{"cdn":{"name":"CDN Inc.","role":"processor","country":"US"}}}`, []string{"recipients[cdn].transfer_mechanism"}},
		{"controller outside the EEA", `{"controller":{"country":"CH"}}`, []string{"recipients[hosting].transfer_mechanism", "recipients[email_service].transfer_mechanism"}},
		{"unknown transfer mechanism", `{"recipients":{"sms_provider":{"transfer_mechanism":"handshake"}}}`, []string{"recipients[sms_provider].transfer_mechanism"}},
		{"recipient country not ISO", `{"recipients":{"hosting":{"country":"XX"}}}`, []string{"recipients[hosting].country"}},
		{"recipient role", `{"recipients":{"hosting":{"role":"friend"}}}`, []string{"recipients[hosting].role"}},
		{"system purpose without retention", `{"purposes":{"security":{"retention_days":0}}}`, []string{"purposes[security].retention_days"}},
		{"system purpose on consent", `{"purposes":{"audit":{"legal_basis":"consent"}}}`, []string{"purposes[audit].legal_basis"}},
		{"custom purpose marked system", `{"purposes":{"backups":{"title":{"en":"Backups"},"description":{"en":"Backups."},"legal_basis":"legitimate_interest","lia_reference":"LIA-7","system":true,"retention_days":30}}}`, []string{"purposes[backups].system"}},
		{"system purpose not marked system", `{"purposes":{"audit":{"system":false}}}`, []string{"purposes[audit].system"}},
		{"bad purpose id", `{"purposes":{"Loyalty-Club":{"title":{"en":"Loyalty"},"description":{"en":"Points."},"legal_basis":"consent"}}}`, []string{"purposes[Loyalty-Club].id"}},
		{"required purpose other than necessary", `{"purposes":{"analytics":{"required":true}}}`, []string{"purposes[analytics].required"}},
		{"necessary missing", `{"purposes":{"necessary":{"remove":true}}}`, []string{"purposes"}},
		{"necessary not required", `{"purposes":{"necessary":{"required":false}}}`, []string{"purposes[necessary].required"}},
		{"necessary with behavioural data", `{"purposes":{"necessary":{"categories":["device.country","behavior.browsing"]}}}`, []string{"purposes[necessary].categories"}},
		{"unknown default regime", `{"default_regime":"gdpr"}`, []string{"default_regime"}},
		{"removed default regime", `{"regimes":{"opt_in":{"remove":true}}}`, []string{"default_regime"}},
		{"regime model", `{"regimes":{"opt_in":{"model":"maybe"}}}`, []string{"regimes[opt_in].model"}},
		{"regime measurement", `{"regimes":{"pipl":{"measurement":"everything"}}}`, []string{"regimes[pipl].measurement"}},
		{"regime without consent validity", `{"regimes":{"opt_in":{"consent_validity":"P0D"}}}`, []string{"regimes[opt_in].consent_validity"}},
		{"text without en", `{"purposes":{"analytics":{"title":{"zh-CN":"统计分析"}}}}`, []string{"purposes[analytics].title"}},
		{"regime title without en", `{"regimes":{"pipl":{"title":{"zh-CN":"中国"}}}}`, []string{"regimes[pipl].title"}},
		{"category without retention", `{"categories":{"contact.phone":{"retention_days":0}}}`, []string{"categories[contact.phone].retention_days"}},
		{"controller without email", `{"controller":{"email":""}}`, []string{"controller.email"}},
		{"unknown consent mode type", `{"purposes":{"analytics":{"consent_mode":["analytics_cookie"]}}}`, []string{"purposes[analytics].consent_mode"}},
		{"several problems at once", `{"default_regime":"x","purposes":{"analytics":{"required":true}}}`, []string{"purposes[analytics].required", "default_regime"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("shop.json", []byte(tt.config))
			if m != nil {
				t.Errorf("Parse returned a map with an error")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse error = %v, want *ValidationError", err)
			}
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.Field)
				if p.File != "shop.json" || p.Reason == "" {
					t.Errorf("problem %+v: want file shop.json and a reason", p)
				}
			}
			if diff := diff(tt.want, got); diff != "" {
				t.Errorf("problem fields (-want +got):\n%s\nerror:\n%v", diff, err)
			}
			if !strings.HasPrefix(err.Error(), "shop.json: "+tt.want[0]+": ") {
				t.Errorf("Error() = %q, want it to start with the file and field", err)
			}
		})
	}
}

func TestParseValidEdgeCases(t *testing.T) {
	for name, config := range map[string]string{
		"empty object":               `{}`,
		"recipient inside the EEA":   `{"recipients":{"cdn":{"name":"CDN SE","role":"processor","country":"FR"}}}`,
		"recipient in Norway":        `{"recipients":{"cdn":{"name":"CDN AS","role":"processor","country":"NO"}}}`,
		"recipient abroad with mech": `{"recipients":{"cdn":{"name":"CDN Inc.","role":"processor","country":"US","transfer_mechanism":"adequacy"}}}`,
		"remove a purpose":           `{"purposes":{"marketing_sms":{"remove":true}}}`,
		"remove a recipient":         `{"recipients":{"ad_network":{"remove":true}}}`,
		"remove a regime":            `{"regimes":{"pipl":{"remove":true}}}`,
		"switch default regime":      `{"default_regime":"opt_out"}`,
		"whitespace around":          " \n{}\n ",
	} {
		t.Run(name, func(t *testing.T) {
			mustParse(t, config)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   string // exact error
	}{
		{"truncated", `{"purposes": {`, `shop.json:1:15: unexpected end of JSON input`},
		{"syntax", `{"purposes" 1}`, `shop.json:1:13: invalid character '1' after object key`},
		{"syntax on a later line", "{\n  \"purposes\": {\n    \"analytics\": {,}\n  }\n}", `shop.json:3:19: invalid character ','`},
		{"duplicate top-level key", `{"default_regime":"opt_in","default_regime":"opt_out"}`, `shop.json:1:28: duplicate key "default_regime"`},
		{"duplicate nested key", "{\n  \"purposes\": {\n    \"analytics\": {\"title\": {\"en\": \"a\", \"en\": \"b\"}}\n  }\n}", `shop.json:3:40: duplicate key "en"`},
		{"duplicate entry", `{"purposes":{"analytics":{},"analytics":{}}}`, `shop.json:1:29: duplicate key "analytics"`},
		{"trailing data", `{} {}`, `shop.json:1:4: unexpected data after the top-level value`},
		{"trailing garbage", `{}x`, `shop.json:1:3: unexpected data after the top-level value`},
		{"invalid UTF-8", "{\"controller\":{\"name\":\"\xff\"}}", `shop.json:1:24: invalid UTF-8`},
		{"empty", ``, `shop.json:1:1: empty config: want a JSON object`},
		{"not an object", `[]`, `shop.json:1:1: config: must be a JSON object`},
		{"unknown top-level field", `{"purpose":{}}`, `shop.json:1:12: unknown field "purpose" (want controller, purposes, categories, recipients, events, regimes, default_regime)`},
		{"unknown purpose field", `{"purposes":{"analytics":{"legalbasis":"x"}}}`, `shop.json:1:40: purposes[analytics]: unknown field "legalbasis"`},
		{"field names are case-sensitive", `{"purposes":{"analytics":{"Legal_Basis":"consent"}}}`, `shop.json:1:41: purposes[analytics]: unknown field "Legal_Basis"`},
		{"unknown controller field", `{"controller":{"dpo":{"mail":"x"}}}`, `shop.json:1:22: controller.dpo: unknown field "mail"`},
		{"unknown event field", `{"events":[{"type":"track","purpose":[]}]}`, `shop.json:1:11: events: unknown field "purpose"`},
		{"bad period", `{"regimes":{"opt_in":{"consent_validity":"1 month"}}}`, `shop.json:1:42: regimes[opt_in].consent_validity: invalid period "1 month": must start with P (want e.g. P1M, P45D, P10BD)`},
		{"period as number", `{"regimes":{"opt_in":{"consent_validity":13}}}`, `shop.json:1:44: regimes[opt_in].consent_validity: expected a period string such as P1M, got JSON number`},
		{"wrong type", `{"purposes":{"analytics":{"required":"yes"}}}`, `shop.json:1:43: purposes[analytics].required: expected a boolean, got JSON string`},
		{"version set", `{"purposes":{"analytics":{"version":"abc"}}}`, `shop.json:1:37: purposes[analytics].version: is computed from the purpose's content and cannot be set`},
		{"remove false", `{"purposes":{"analytics":{"remove":false}}}`, `shop.json:1:36: purposes[analytics].remove: must be true (leave it out to keep the entry)`},
		{"remove with fields", `{"purposes":{"analytics":{"remove":true,"required":false}}}`, `shop.json:1:36: purposes[analytics].remove: cannot be combined with other fields`},
		{"remove unknown", `{"purposes":{"nope":{"remove":true}}}`, `shop.json:1:21: purposes[nope]: cannot remove: no such default`},
		{"id mismatch", `{"purposes":{"analytics":{"id":"other"}}}`, `shop.json:1:32: purposes[analytics].id: must be absent or equal to the key "analytics"`},
		{"null entry", `{"purposes":{"analytics":null}}`, `shop.json:1:26: purposes[analytics]: must be a JSON object`},
		{"section not an object", `{"purposes":[]}`, `shop.json:1:13: purposes: must be a JSON object`},
		{"default regime type", `{"default_regime": 3}`, `shop.json:1:20: default_regime: must be a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse("shop.json", []byte(tt.config))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", m)
			}
			var ve *ValidationError
			if errors.As(err, &ve) {
				t.Fatalf("got a ValidationError, want a decoding error: %v", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(`{"controller":{"name":"Other Shop AG"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if m.Source != good || m.Controller.Name != "Other Shop AG" {
		t.Errorf("Load: source %q name %q", m.Source, m.Controller.Name)
	}
	missing := filepath.Join(dir, "missing.json")
	if _, err := Load(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load(missing) error = %v, want it to name the file", err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n\"purposes\": 1,\n}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":3:1: ") {
		t.Errorf("Load(bad) error = %v, want %s:3:1: …", err, bad)
	}
	m, err = Load("")
	if err != nil || m.Source != "" || m.NoticeVersion() != Default().NoticeVersion() {
		t.Errorf(`Load("") = %v, %v; want the defaults`, m, err)
	}
}

func TestOverride(t *testing.T) {
	t.Run("field-level merge", func(t *testing.T) {
		m := mustParse(t, `{"purposes":{"analytics":{"title":{"en":"Statistics"},"consent_mode":[]}}}`)
		got, _ := m.Purpose("analytics")
		want, _ := Default().Purpose("analytics")
		want.Title = Text{"en": "Statistics"} // replaced whole: no stale zh-CN left behind
		want.ConsentMode = []string{}
		want.Version = got.Version
		if diff := diff(want, got); diff != "" {
			t.Errorf("analytics (-want +got):\n%s", diff)
		}
		if got.Version == want.Version && got.Version == Default().Purposes[1].Version {
			t.Errorf("version did not change")
		}
		if got.Title.Get("zh-CN") != "Statistics" {
			t.Errorf("zh-CN title should fall back to en, got %q", got.Title.Get("zh-CN"))
		}
	})
	t.Run("controller fields", func(t *testing.T) {
		m := mustParse(t, `{"controller":{"name":"Other Shop AG","dpo":{"email":"dpo@other.example"},"representatives":[{"region":"CN","name":"Rep","email":"rep@other.example"}]}}`)
		want := Default().Controller
		want.Name = "Other Shop AG"
		want.DPO = &Person{Email: "dpo@other.example"}
		want.Representatives = []Representative{{Region: "CN", Name: "Rep", Email: "rep@other.example"}}
		if diff := diff(want, m.Controller); diff != "" {
			t.Errorf("controller (-want +got):\n%s", diff)
		}
	})
	t.Run("remove cascades through the defaults", func(t *testing.T) {
		m := mustParse(t, `{"purposes":{"marketing_sms":{"remove":true}},"recipients":{"sms_provider":{"remove":true}},"categories":{"contact.phone":{"remove":true}}}`)
		if _, ok := m.Purpose("marketing_sms"); ok {
			t.Errorf("marketing_sms still present")
		}
		if _, ok := m.Recipient("sms_provider"); ok {
			t.Errorf("sms_provider still present")
		}
		if diff := diff([]string{"analytics", "personalization", "marketing_email"}, m.EventPurposes("identify", "")); diff != "" {
			t.Errorf("identify purposes (-want +got):\n%s", diff)
		}
		if diff := diff([]string{"identity.anonymous_id", "identity.user_id", "contact.email"}, m.Events[0].Categories); diff != "" {
			t.Errorf("identify categories (-want +got):\n%s", diff)
		}
	})
	t.Run("new entries append", func(t *testing.T) {
		m := mustParse(t, `{
			"categories":{"loyalty.points":{"title":{"en":"Loyalty points"},"retention_days":730}},
			"purposes":{"loyalty":{"title":{"en":"Loyalty club"},"description":{"en":"Points for purchases."},"legal_basis":"consent","categories":["loyalty.points"]}},
			"regimes":{"br":{"title":{"en":"Brazil LGPD"},"model":"opt_in","consent_validity":"P13M","response_deadline":"P15D","measurement":"totals","minor_age":12}}
		}`)
		cp := m.ConsentPurposes()
		if got := cp[len(cp)-1]; got.ID != "loyalty" || got.Version == "" {
			t.Errorf("last consent purpose = %+v", got)
		}
		if got := m.Categories[len(m.Categories)-1].ID; got != "loyalty.points" {
			t.Errorf("last category = %s", got)
		}
		r, ok := m.Regime("br")
		want := Regime{ID: "br", Title: Text{"en": "Brazil LGPD"}, Model: "opt_in", ConsentValidity: Period{Months: 13}, ResponseDeadline: Period{Days: 15}, Measurement: "totals", MinorAge: 12}
		if diff := diff(want, r); !ok || diff != "" {
			t.Errorf("regime br (-want +got):\n%s", diff)
		}
	})
	t.Run("events replace the defaults", func(t *testing.T) {
		m := mustParse(t, `{"events":[{"type":"identify","purposes":["analytics"]}]}`)
		want := []EventRule{{Type: "identify", Purposes: []string{"analytics"}}}
		if diff := diff(want, m.Events); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if got := m.EventPurposes("track", "Order Completed"); got != nil {
			t.Errorf("track purposes = %v, want nil", got)
		}
	})
	t.Run("regime periods", func(t *testing.T) {
		m := mustParse(t, `{"regimes":{"pipl":{"response_deadline":"P10BD","extension":"P1M"}}}`)
		r, _ := m.Regime("pipl")
		if r.ResponseDeadline != (Period{Days: 10, BusinessDays: true}) || r.Extension != (Period{Months: 1}) || r.MinorAge != 14 {
			t.Errorf("pipl = %+v", r)
		}
	})
}

func TestMarshalConfigRoundTrip(t *testing.T) {
	for name, config := range map[string]string{
		"defaults":  `{}`,
		"overrides": `{"purposes":{"marketing_sms":{"remove":true},"analytics":{"consent_mode":[],"title":{"en":"Stats"}},"loyalty":{"title":{"en":"Loyalty"},"description":{"en":"Points."},"legal_basis":"consent"}},"controller":{"dpo":null},"default_regime":"pipl"}`,
	} {
		t.Run(name, func(t *testing.T) {
			m := mustParse(t, config)
			b, err := m.MarshalConfig()
			if err != nil {
				t.Fatal(err)
			}
			m2 := mustParse(t, string(b))
			if diff := diff(m, m2); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEventPurposes(t *testing.T) {
	m := Default()
	tests := []struct {
		typ, event string
		want       []string
	}{
		{"identify", "", []string{"analytics", "personalization", "marketing_email", "marketing_sms"}},
		{"page", "", []string{"analytics", "personalization"}},
		{"screen", "Home", []string{"analytics", "personalization"}},
		{"track", "Product Viewed", []string{"analytics", "personalization", "advertising"}},
		{"track", "Order Completed", []string{"analytics", "personalization", "advertising", "marketing_email"}},
		{"track", "Products Searched", []string{"analytics", "personalization", "advertising"}},
		{"track", "Newsletter Opened", []string{"analytics"}},
		{"track", "product viewed", []string{"analytics"}}, // event names are case-sensitive
		{"Track", "Product Viewed", []string{"analytics", "personalization", "advertising"}},
		{"group", "", []string{"analytics"}},
		{"alias", "", []string{"analytics"}},
		{"unknown", "", nil},
	}
	for _, tt := range tests {
		if diff := diff(tt.want, m.EventPurposes(tt.typ, tt.event)); diff != "" {
			t.Errorf("EventPurposes(%q, %q) (-want +got):\n%s", tt.typ, tt.event, diff)
		}
	}
	// A specific rule wins, so it may narrow its type's rule.
	m = mustParse(t, `{"events":[{"type":"track","purposes":["analytics"]},{"type":"track","event":"Secret","purposes":[]}]}`)
	if got := m.EventPurposes("track", "Secret"); got != nil {
		t.Errorf("narrowed rule = %v, want nil", got)
	}
	// The result is a copy.
	m = Default()
	m.EventPurposes("identify", "")[0] = "x"
	if m.Events[0].Purposes[0] != "analytics" {
		t.Errorf("EventPurposes returned the map's own slice")
	}
}

func TestLocale(t *testing.T) {
	for in, want := range map[string]string{
		"": "en", "en": "en", "en-GB": "en", "de": "en", "zh": "zh-CN", "zh-CN": "zh-CN", "zh-cn": "zh-CN",
		"zh_CN": "zh-CN", "zh-Hans": "zh-CN", "zh-Hans-CN": "zh-CN", "zh-TW": "en", "zh-Hant": "en",
	} {
		if got := NormalizeLocale(in); got != want {
			t.Errorf("NormalizeLocale(%q) = %q, want %q", in, got, want)
		}
		if got := Default().Notice(in).Locale; got != want {
			t.Errorf("Notice(%q).Locale = %q, want %q", in, got, want)
		}
	}
	tx := Text{"en": "Hello", "zh-CN": "你好", "de": "Hallo"}
	for in, want := range map[string]string{"en": "Hello", "zh": "你好", "de": "Hallo", "fr": "Hello"} {
		if got := tx.Get(in); got != want {
			t.Errorf("Get(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNoticeDefaults(t *testing.T) {
	n := Default().Notice("en")
	got := map[string]map[string]bool{}
	for _, p := range n.Purposes {
		got[p.ID] = p.Default
	}
	f := false
	all := func(v bool) map[string]bool { return map[string]bool{"opt_in": v, "uk": v, "opt_out": v, "pipl": v} }
	outOnly := map[string]bool{"opt_in": f, "uk": f, "opt_out": true, "pipl": f}
	want := map[string]map[string]bool{
		"necessary": all(true), "analytics": outOnly, "personalization": outOnly, "sensitive_personalization": all(false),
		"marketing_email": all(false), "marketing_sms": all(false), "advertising": outOnly, "sale_share": outOnly,
	}
	if diff := diff(want, got); diff != "" {
		t.Errorf("defaults per regime (-want +got):\n%s", diff)
	}
	if n.Rights.Endpoint != "POST /v1/requests" || len(n.Rights.Items) != len(Rights) {
		t.Errorf("rights = %+v", n.Rights)
	}
}

func TestGolden(t *testing.T) {
	m := Default()
	for _, loc := range []string{"en", "zh-CN"} {
		b, err := json.MarshalIndent(m.Notice(loc), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "notice."+loc+".json", append(b, '\n'))
	}
	r := m.ROPA()
	golden(t, "ropa.md", []byte(r.Markdown()))
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "ropa.json", append(b, '\n'))
}

func TestROPA(t *testing.T) {
	r := Default().ROPA()
	var ad *ROPAActivity
	for i := range r.Activities {
		if r.Activities[i].Purpose == "advertising" {
			ad = &r.Activities[i]
		}
	}
	if ad == nil {
		t.Fatal("no advertising activity")
	}
	want := []ROPATransfer{{Recipient: "Example Ads Inc.", Country: "US", Mechanism: "scc"}}
	if diff := diff(want, ad.Transfers); diff != "" {
		t.Errorf("advertising transfers (-want +got):\n%s", diff)
	}
	if got, want := len(r.Activities), len(Default().Purposes); got != want {
		t.Errorf("%d activities, want %d", got, want)
	}
	md := r.Markdown()
	for _, s := range []string{"AES-256-GCM", "crypto-shredding", "Dr. Anna Beispiel", "Representative (UK)", "Legitimate interests (Art. 6(1)(f)); assessment: LIA-2025-02"} {
		if !strings.Contains(md, s) {
			t.Errorf("Markdown lacks %q", s)
		}
	}
}
