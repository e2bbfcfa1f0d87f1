package consent

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/vault"
)

func TestStricter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	grant := func(d int) Record { return Record{Granted: true, Since: t0.AddDate(0, 0, d), ReceiptID: "g"} }
	deny := func(d int) Record { return Record{Granted: false, Since: t0.AddDate(0, 0, d), ReceiptID: "d"} }
	pending := Record{Granted: true, Pending: true, Since: t0, ReceiptID: "p"}
	tests := []struct {
		name string
		a, b State
		want State
	}{
		{"one side only applies to both", State{"analytics": grant(1)}, State{}, State{"analytics": grant(1)}},
		{"other side only", State{}, State{"ads": deny(1)}, State{"ads": deny(1)}},
		{"denial wins over a later grant", State{"x": deny(1)}, State{"x": grant(5)}, State{"x": deny(1)}},
		{"denial wins from either side", State{"x": grant(5)}, State{"x": deny(1)}, State{"x": deny(1)}},
		{"two grants: the later stands", State{"x": grant(1)}, State{"x": grant(3)}, State{"x": grant(3)}},
		{"pending is stricter than granted", State{"m": grant(9)}, State{"m": pending}, State{"m": pending}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, Stricter(tt.a, tt.b)); diff != "" {
			t.Errorf("%s: Stricter (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestViewStatuses(t *testing.T) {
	pol := NewPolicy(datamap.Default())
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	a, _ := pol.Purpose("analytics")
	rec := func(granted bool, version string, since time.Time) Record {
		return Record{Granted: granted, Version: version, Since: since, Expires: pol.ValidUntil(since), ReceiptID: "r"}
	}
	tests := []struct {
		name   string
		st     State
		flags  Flags
		want   Status
		allows bool
	}{
		{"no record: opt-in default", State{}, Flags{}, StatusDefault, false},
		{"granted", State{"analytics": rec(true, a.Version, now.AddDate(0, -1, 0))}, Flags{}, StatusGranted, true},
		{"denied", State{"analytics": rec(false, a.Version, now.AddDate(0, -1, 0))}, Flags{}, StatusDenied, false},
		{"older than 13 months", State{"analytics": rec(true, a.Version, now.AddDate(0, -13, -1))}, Flags{}, StatusExpired, false},
		{"granted for an older version", State{"analytics": rec(true, "0000", now.AddDate(0, -1, 0))}, Flags{}, StatusOutdated, false},
	}
	for _, tt := range tests {
		v := pol.View(tt.st, tt.flags, now)["analytics"]
		if v.Status != tt.want || v.Granted != tt.allows || pol.Allowed(tt.st, tt.flags, "analytics", now) != tt.allows {
			t.Errorf("%s: status %s granted %v, want %s %v", tt.name, v.Status, v.Granted, tt.want, tt.allows)
		}
	}
	if !pol.Allowed(nil, Flags{}, "necessary", now) {
		t.Error("necessary must always be allowed")
	}
}

// The opt-out regime starts the configured purposes granted — but never for
// a known minor, never sensitive or separate-consent purposes, and GPC
// overrides advertising and sale/sharing.
func TestOptOutDefaults(t *testing.T) {
	m := datamap.Default()
	m.DefaultRegime = "opt_out"
	pol := NewPolicy(m)
	now := time.Now()
	if !pol.Allowed(nil, Flags{}, "advertising", now) || !pol.Allowed(nil, Flags{}, "analytics", now) {
		t.Fatal("opt_out regime: default-granted purposes are not allowed")
	}
	if pol.Allowed(nil, Flags{}, "sensitive_personalization", now) || pol.Allowed(nil, Flags{}, "marketing_email", now) {
		t.Error("opt_out regime granted a separate-consent or non-default purpose")
	}
	if pol.Allowed(nil, Flags{Minor: true}, "advertising", now) || pol.Allowed(nil, Flags{Minor: true}, "sale_share", now) {
		t.Error("a known minor's data is used for advertising or sale by default")
	}
	if pol.Allowed(nil, Flags{GPC: true}, "sale_share", now) || pol.Allowed(nil, Flags{GPC: true}, "advertising", now) {
		t.Error("GPC did not override the opt-out default")
	}
}

// BenchmarkDecision is the question the gate asks for every event: may this
// known shopper's data be used for this purpose now? It includes computing
// the identifier's pseudonym and finding the shopper's state in memory.
func BenchmarkDecision(b *testing.B) {
	root, _ := vault.GenerateRootSecret()
	v := vault.New(root, nil)
	pol := NewPolicy(datamap.Default())
	now := time.Now()
	an, _ := pol.Purpose("analytics")
	states := map[vault.Pseudonym]State{}
	p := v.Pseudonym(vault.UseIdentity, vault.KindUserID, "customer-42")
	states[p] = State{"analytics": {Granted: true, Version: an.Version, Since: now, Expires: pol.ValidUntil(now), ReceiptID: "rc"}}
	for i := range 10000 {
		states[v.Pseudonym(vault.UseIdentity, vault.KindUserID, string(rune(i)))] = State{}
	}
	for b.Loop() {
		st := states[v.Pseudonym(vault.UseIdentity, vault.KindUserID, "customer-42")]
		if !pol.Allowed(st, Flags{}, "analytics", now) {
			b.Fatal("not allowed")
		}
	}
}

// BenchmarkApply is recording a decision in memory: choices to purpose
// decisions and the next state (storage excluded).
func BenchmarkApply(b *testing.B) {
	pol := NewPolicy(datamap.Default())
	notice := fuzzNotice(pol)
	now := time.Now()
	choices := map[string]bool{"analytics": true, "personalization": true, "advertising": false}
	for b.Loop() {
		pol.Apply(State{}, Flags{}, choices, notice.Purposes, "rc", MethodBanner, now)
	}
}
