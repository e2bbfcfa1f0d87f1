package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/rights"
	"github.com/tact-cdp/tact/internal/testenv"
	"github.com/tact-cdp/tact/internal/vault"
)

func TestRequestsCommands(t *testing.T) {
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			ctx := context.Background()
			inst := st.New(t)
			a := openApp(t, inst.Args)
			file := func(email string) string {
				f, err := a.Rights.File(ctx, rights.Caller{}, rights.Filing{Type: rights.TypeAccess, Email: email, Jurisdiction: "opt_in"})
				if err != nil {
					t.Fatal(err)
				}
				return f.ID
			}
			ext, deny, late := file("ext@example.com"), file("deny@example.com"), file("late@example.com")

			code, out, errOut := run(t, append([]string{"requests", "extend", ext, "--days", "30", "--reason", "we hold data in three systems"}, inst.Args...)...)
			if code != 0 || !strings.Contains(out, "now due") {
				t.Fatalf("extend: %d %s%s", code, out, errOut)
			}
			if code, _, errOut = run(t, append([]string{"requests", "extend", ext, "--days", "90", "--reason", "more"}, inst.Args...)...); code == 0 {
				t.Error("an extension beyond two months was accepted")
			} else if !strings.Contains(errOut, "at most") {
				t.Errorf("extend refusal does not say why: %s", errOut)
			}
			if code, _, errOut = run(t, append([]string{"requests", "deny", deny}, inst.Args...)...); code == 0 || !strings.Contains(errOut, "reason") {
				t.Errorf("a denial without reasons: %d %s", code, errOut)
			}
			if code, out, errOut = run(t, append([]string{"requests", "deny", deny, "--reason", "we could not confirm your identity"}, inst.Args...)...); code != 0 {
				t.Fatalf("deny: %d %s%s", code, out, errOut)
			}
			// Make one overdue behind tact's back.
			q := "UPDATE requests SET due_at = ? WHERE id = ?"
			if inst.Dollar {
				q = "UPDATE requests SET due_at = $1 WHERE id = $2"
			}
			inst.Exec(q, time.Now().Add(-time.Hour).UnixMicro(), late)

			_, out, _ = run(t, append([]string{"requests", "list", "--overdue"}, inst.Args...)...)
			if !strings.Contains(out, late) || strings.Contains(out, ext) || strings.Contains(out, deny) {
				t.Errorf("list --overdue:\n%s", out)
			}
			_, out, _ = run(t, append([]string{"requests", "list"}, inst.Args...)...)
			if !strings.Contains(out, ext) || strings.Contains(out, deny) {
				t.Errorf("list (open):\n%s", out)
			}
			_, out, _ = run(t, append([]string{"requests", "show", ext}, inst.Args...)...)
			for _, want := range []string{"e***@example.com", "we hold data in three systems", "first due", "filed (public)", "extended by 30 days"} {
				if !strings.Contains(out, want) {
					t.Errorf("show lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "ext@example.com") {
				t.Error("show prints the contact in clear")
			}

			// The mail: a code for each, the extension with its reason,
			// the denial with the authority.
			_, out, _ = run(t, append([]string{"outbox", "list"}, inst.Args...)...)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 5 {
				t.Fatalf("outbox list: %d lines, want 5:\n%s", len(lines), out)
			}
			var extMail, denyMail string
			for _, l := range lines {
				f := strings.Split(l, "\t")
				if len(f) != 4 {
					t.Fatalf("outbox line %q is not ID, time, to, subject", l)
				}
				switch {
				case f[2] == "ext@example.com" && strings.Contains(f[3], "more time"):
					extMail = f[0]
				case f[2] == "deny@example.com" && strings.Contains(f[3], "cannot"):
					denyMail = f[0]
				}
			}
			_, out, _ = run(t, append([]string{"outbox", "show", extMail}, inst.Args...)...)
			if !strings.Contains(out, "we hold data in three systems") {
				t.Errorf("extension mail:\n%s", out)
			}
			_, out, _ = run(t, append([]string{"outbox", "show", denyMail}, inst.Args...)...)
			if !strings.Contains(out, "we could not confirm your identity") || !strings.Contains(out, "Berliner Beauftragte") {
				t.Errorf("denial mail lacks the reason or the authority:\n%s", out)
			}

			// Every read above is on the audit log, and the chain holds
			// until someone edits it.
			if code, out, errOut = run(t, append([]string{"audit", "verify", "--quiet"}, inst.Args...)...); code != 0 || !strings.Contains(out, "audit log OK") {
				t.Fatalf("audit verify: %d %s%s", code, out, errOut)
			}
			entries, err := a.Store.AuditEntries(ctx, a.Vault.Pseudonym(vault.UseAudit, "request", ext))
			if err != nil || len(entries) != 1 || entries[0].Role != "operator" || entries[0].Fields == "" {
				t.Fatalf("audit entries of show: %+v %v", entries, err)
			}
			q = "UPDATE audit_log SET purpose = 'marketing' WHERE id = ?"
			if inst.Dollar {
				q = "UPDATE audit_log SET purpose = 'marketing' WHERE id = $1"
			}
			inst.Exec(q, entries[0].ID)
			if code, _, errOut = run(t, append([]string{"audit", "verify", "--quiet"}, inst.Args...)...); code == 0 || !strings.Contains(errOut, "entry") {
				t.Errorf("a tampered audit log verified: %d %s", code, errOut)
			}
		})
	}
}
