package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/testenv"
	"github.com/tact-cdp/tact/internal/vault"
)

// run runs tact in-process and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

// openApp opens tact in-process on the same store the commands use.
func openApp(t *testing.T, args []string) *app.App {
	t.Helper()
	var cfg app.Config
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--data":
			cfg.DataDir = args[i+1]
		case "--database":
			cfg.Database = args[i+1]
		}
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func record(t *testing.T, a *app.App, req consent.Request) *consent.Result {
	t.Helper()
	req.NoticeVersion, req.Method = a.Policy.NoticeVersion, consent.MethodAPI
	res, err := a.Consent.Record(context.Background(), consent.Caller{Server: true}, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Editing one stored receipt makes `tact ledger verify` fail naming that leaf.
func TestLedgerVerifyNamesTheTamperedLeaf(t *testing.T) {
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			inst := st.New(t)
			a := openApp(t, inst.Args)
			var ids []string
			for i := range 12 {
				res := record(t, a, consent.Request{UserID: "u" + string(rune('a'+i)), Choices: map[string]bool{"analytics": i%3 == 0}})
				ids = append(ids, res.ReceiptID)
				if i == 4 || i == 9 {
					if _, err := a.Ledger.CutCheckpoint(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
			}
			code, out, errOut := run(t, append([]string{"ledger", "verify", "--quiet"}, inst.Args...)...)
			if code != 0 || !strings.Contains(out, "ledger OK: 12 receipts") || !strings.Contains(out, "2 checkpoints") {
				t.Fatalf("untouched ledger: exit %d\n%s%s", code, out, errOut)
			}
			// Flip the decision of the receipt at leaf 7 in the stored body.
			q := "UPDATE receipts SET body = REPLACE(body, '\"granted\":false', '\"granted\":true') WHERE id = ?"
			if inst.Dollar {
				q = "UPDATE receipts SET body = convert_to(replace(convert_from(body, 'UTF8'), '\"granted\":false', '\"granted\":true'), 'UTF8') WHERE id = $1"
			} else {
				q = "UPDATE receipts SET body = CAST(REPLACE(CAST(body AS TEXT), '\"granted\":false', '\"granted\":true') AS BLOB) WHERE id = ?"
			}
			inst.Exec(q, ids[7])
			code, out, errOut = run(t, append([]string{"ledger", "verify", "--quiet"}, inst.Args...)...)
			if code == 0 {
				t.Fatalf("a tampered ledger verified:\n%s", out)
			}
			if !strings.Contains(errOut, "leaf 7 ") || !strings.Contains(errOut, ids[7]) {
				t.Fatalf("verify did not name leaf 7 (%s): %s", ids[7], errOut)
			}
		})
	}
}

// Erasure by crypto-shredding: the shopper's sealed data cannot be opened,
// their leaves no longer link to their pseudonym, and the ledger verifies.
func TestShreddedShopperUnlinkedAndLedgerVerifies(t *testing.T) {
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			ctx := context.Background()
			inst := st.New(t)
			a := openApp(t, inst.Args)
			r1 := record(t, a, consent.Request{UserID: "erase-me", Choices: map[string]bool{"analytics": true}})
			r2 := record(t, a, consent.Request{UserID: "erase-me", Choices: map[string]bool{"personalization": true}})
			other := record(t, a, consent.Request{UserID: "keep-me", Choices: map[string]bool{"analytics": true}})
			if _, err := a.Ledger.CutCheckpoint(ctx); err != nil {
				t.Fatal(err)
			}
			pseudonym := a.Vault.Pseudonym(vault.UseLedger, vault.KindUserID, "erase-me").String()
			before, err := a.Ledger.Receipt(ctx, r1.ReceiptID)
			if err != nil || !strings.Contains(string(before.Receipt), pseudonym) || before.Salt == "" {
				t.Fatalf("before erasure the receipt should name the pseudonym and show its salt: %v %+v", err, before)
			}
			key, err := a.Store.Ledger().ReceiptKey(ctx, r1.ReceiptID)
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := a.Store.Ledger().Receipt(ctx, r1.ReceiptID)

			if err := a.Store.ShredSubject(ctx, r1.SubjectID); err != nil {
				t.Fatal(err)
			}

			// The wrapped key is gone from the store: nothing sealed for the
			// shopper can be opened through tact any more.
			if _, err := a.Store.Ledger().ReceiptKey(ctx, r1.ReceiptID); tact.ErrorCode(err) != tact.ENOTFOUND {
				t.Fatalf("the data key of an erased shopper is still found: %v", err)
			}
			// And no other key opens the sealed salt.
			if dk, err := a.Vault.UnwrapDataKey(ctx, key.ID, key.Wrapped); err != nil {
				t.Fatal(err)
			} else if _, err := dk.Open(consent.SaltField, stored.SealedSalt); err != nil {
				t.Fatal("control: the key that existed before erasure should open the salt")
			}
			otherKey, _ := a.Store.Ledger().ReceiptKey(ctx, other.ReceiptID)
			odk, _ := a.Vault.UnwrapDataKey(ctx, otherKey.ID, otherKey.Wrapped)
			if _, err := odk.Open(consent.SaltField, stored.SealedSalt); err == nil {
				t.Fatal("another shopper's key opened the erased shopper's salt")
			}
			for _, id := range []string{r1.ReceiptID, r2.ReceiptID} {
				v, err := a.Ledger.Receipt(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if !v.Erased || v.Salt != "" || strings.Contains(string(v.Receipt), pseudonym) || strings.Contains(v.LeafData, pseudonym) {
					t.Fatalf("erased receipt %s still links to the shopper: %+v", id, v)
				}
				if v.Proof == nil {
					t.Fatalf("erased receipt %s lost its inclusion proof", id)
				}
			}
			if _, err := a.Consent.Store().Identity(ctx, a.Vault.Pseudonym(vault.UseIdentity, vault.KindUserID, "erase-me")); tact.ErrorCode(err) != tact.ENOTFOUND {
				t.Fatalf("the erased shopper's identity is still known: %v", err)
			}
			code, out, errOut := run(t, append([]string{"ledger", "verify", "--quiet"}, inst.Args...)...)
			if code != 0 || !strings.Contains(out, "3 receipts (2 of erased shoppers)") {
				t.Fatalf("ledger after erasure: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}

// `tact datamap check` rejects, with file, field and reason, each invalid map.
func TestDatamapCheckRejectsInvalidMaps(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, config, field, reason string
	}{
		{"behavioural event mapped to necessary", `{"events":[{"type":"track","event":"Product Viewed","purposes":["necessary"]}]}`, "events[0].purposes", "necessary"},
		{"advertising on legitimate interest", `{"purposes":{"advertising":{"legal_basis":"legitimate_interest","lia_reference":"LIA-1"}}}`, "purposes[advertising].legal_basis", "consent"},
		{"sensitive purpose granted by default", `{"regimes":{"opt_out":{"default_granted":["analytics","sensitive_personalization"]}}}`, "regimes[opt_out].default_granted", "sensitive"},
		{"separate-consent purpose granted by default", `{"purposes":{"marketing_sms":{"separate_consent":true}},"regimes":{"opt_out":{"default_granted":["marketing_sms"]}}}`, "regimes[opt_out].default_granted", "separate"},
		{"foreign recipient without transfer mechanism", `{"recipients":{"cdn":{"name":"CDN Inc.","role":"processor","country":"US"}}}`, "recipients[cdn].transfer_mechanism", "transfer"},
	}
	for _, tt := range tests {
		file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
		if err := os.WriteFile(file, []byte(tt.config), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := run(t, "datamap", "check", "--datamap", file)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s", tt.name, code, out)
			continue
		}
		if !strings.Contains(errOut, file) || !strings.Contains(errOut, tt.field) || !strings.Contains(strings.ToLower(errOut), tt.reason) {
			t.Errorf("%s: message lacks file %q, field %q or reason %q:\n%s", tt.name, file, tt.field, tt.reason, errOut)
		}
	}
	if code, out, _ := run(t, "datamap", "check"); code != 0 || !strings.Contains(out, "data map OK") {
		t.Errorf("built-in defaults: exit %d %s", code, out)
	}
	code, out, _ := run(t, "datamap", "ropa")
	for _, want := range []string{"Art. 30", "Example Shop GmbH", "Retention", "Recipients"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("datamap ropa lacks %q (exit %d)", want, code)
		}
	}
}

// Keys and tokens print the secret alone on stdout; flags may follow
// positional arguments; what a command creates is valid at once.
func TestKeysAndTokens(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := run(t, "keys", "create", "--kind", "write", "--origin", "https://shop.example", "--data", dir)
	if code != 0 || !regexp.MustCompile(`^tact_wk_[a-z2-7]{32}\n$`).MatchString(out) {
		t.Fatalf("keys create: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	secret := strings.TrimSpace(out)
	// Only the secret's SHA-256 is stored: the secret is in no database file.
	for _, f := range []string{"tact.db", "tact.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s contains the write key in clear", f)
		}
	}
	a := openApp(t, []string{"--data", dir})
	p, err := a.Auth.Authenticate(context.Background(), secret)
	if err != nil || p.Kind != "write" || len(p.Origins) != 1 {
		t.Fatalf("the new key does not authenticate: %v %+v", err, p)
	}
	code, out, _ = run(t, "tokens", "--data", dir, "create", "--role", "privacy_officer")
	if code != 0 || !regexp.MustCompile(`^tact_at_[a-z2-7]{32}\n$`).MatchString(out) {
		t.Fatalf("tokens create: exit %d %q", code, out)
	}
	for _, bad := range [][]string{
		{"keys", "create", "--data", dir},
		{"keys", "create", "--kind", "root", "--data", dir},
		{"tokens", "create", "--role", "god", "--data", dir},
		{"keys", "create", "--kind", "server", "--origin", "https://x.example", "--data", dir},
		{"keys", "create", "--kind", "write", "--origin", "ftp://x", "--data", dir},
	} {
		if code, out, _ := run(t, bad...); code == 0 || out != "" {
			t.Errorf("%v: exit %d, stdout %q; want an error and no secret", bad, code, out)
		}
	}
	code, out, _ = run(t, "keys", "list", "--data", dir)
	if code != 0 || !strings.Contains(out, "https://shop.example") || strings.Contains(out, "tact_wk_") {
		t.Errorf("keys list: exit %d %q (must list origins, never secrets)", code, out)
	}
}

// Rotating the key-encryption key re-wraps every data key without touching
// the data sealed under them: everything still opens and the ledger verifies.
func TestRotateKEK(t *testing.T) {
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			ctx := context.Background()
			inst := st.New(t)
			a := openApp(t, inst.Args)
			var ids []string
			for i := range 7 {
				ids = append(ids, record(t, a, consent.Request{UserID: "k" + string(rune('a'+i)), Choices: map[string]bool{"analytics": true}}).ReceiptID)
			}
			a.Ledger.CutCheckpoint(ctx)
			a.Close()
			code, out, errOut := run(t, append([]string{"keys", "rotate-kek"}, inst.Args...)...)
			if code != 0 || !strings.Contains(out, "local-v2") {
				t.Fatalf("rotate-kek: exit %d %s %s", code, out, errOut)
			}
			b := openApp(t, inst.Args)
			total, other, err := b.Store.CountKeys(ctx, vault.LocalKEKID(2))
			if err != nil || total != 7 || other != 0 {
				t.Fatalf("after rotation: %d keys, %d not under local-v2 (%v)", total, other, err)
			}
			for _, id := range ids {
				v, err := b.Ledger.Receipt(ctx, id)
				if err != nil || v.Salt == "" {
					t.Fatalf("receipt %s: salt no longer opens after rotation: %v", id, err)
				}
			}
			// New subjects get keys under the new KEK.
			record(t, b, consent.Request{UserID: "after-rotation", Choices: map[string]bool{"analytics": true}})
			if _, other, _ := b.Store.CountKeys(ctx, vault.LocalKEKID(2)); other != 0 {
				t.Error("a key created after rotation is not under the new KEK")
			}
			if code, out, errOut := run(t, append([]string{"ledger", "verify", "--quiet"}, inst.Args...)...); code != 0 {
				t.Fatalf("ledger after rotation: %s %s", out, errOut)
			}
		})
	}
}

func TestServeProcs(t *testing.T) {
	for _, c := range []struct{ goDefault, cpus, want int }{
		{2, 2, 4},  // a machine's CPUs: twice
		{1, 1, 2},  // one CPU
		{2, 16, 2}, // a cgroup quota of 2 CPUs on a 16-CPU host: Go's default stands
		{4, 4, 8},  // a cpuset of 4 CPUs (NumCPU counts the set): twice
	} {
		if got := serveProcs(c.goDefault, c.cpus); got != c.want {
			t.Errorf("serveProcs(%d, %d) = %d, want %d", c.goDefault, c.cpus, got, c.want)
		}
	}
}
