package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/testenv"
	"github.com/tact-cdp/tact/internal/vault"
)

// Imported events are judged at their own time against the consent records
// in the file (DESIGN principle 2), not against today's state.
func TestImportJudgesEachEventAtItsOwnTime(t *testing.T) {
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			inst := st.New(t)
			day := func(d int) string { return time.Now().UTC().AddDate(0, 0, -d).Format(time.RFC3339) }
			event := func(id, at string) string {
				return fmt.Sprintf(`{"type":"track","event":"Product Viewed","userId":"u-imp","messageId":%q,"timestamp":%q,"properties":{"product_id":"P1"}}`, id, at)
			}
			lines := []string{
				event("before-any-consent", day(90)),
				`{"type":"consent","userId":"u-imp","choices":{"analytics":true,"personalization":true},"timestamp":"` + day(60) + `"}`,
				event("while-both-granted", day(30)),
				event("after-withdrawal", day(5)),
				`{"type":"track","event":"Product Viewed","userId":"someone-else","messageId":"no-evidence","timestamp":"` + day(5) + `"}`,
				`{"type":"hover","userId":"u-imp","messageId":"bad"}`,
				"",
				// Evidence may come after the events it covers.
				`{"type":"consent","userId":"u-imp","choices":{"personalization":false},"timestamp":"` + day(10) + `"}`,
			}
			file := filepath.Join(t.TempDir(), "history.jsonl")
			if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := run(t, append([]string{"import", file, "--source", "legacy CDP export"}, inst.Args...)...)
			if code != 0 {
				t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
			}
			for _, want := range []string{"2 recorded as receipts", "5 read, 2 stored", "2 dropped (no_consent)", "rejected line 6"} {
				if !strings.Contains(out, want) {
					t.Errorf("summary lacks %q:\n%s", want, out)
				}
			}
			a := openApp(t, inst.Args)
			v, err := a.Collect.Read(context.Background(), vault.KindUserID, "u-imp", "support", true, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			receipts := map[string]string{}
			for _, e := range v.Events {
				got[e.MessageID], receipts[e.MessageID] = e.Purposes, e.ReceiptID
			}
			if !slices.Equal(got["while-both-granted"], []string{"analytics", "personalization"}) || !slices.Equal(got["after-withdrawal"], []string{"analytics"}) || len(got) != 2 {
				t.Errorf("stored purposes = %v", got)
			}
			// Both were allowed by the first record (the second only withdrew).
			r1, r2 := receipts["while-both-granted"], receipts["after-withdrawal"]
			if r1 == "" || r1 != r2 {
				t.Errorf("receipts %q, %q: want the first import receipt for both", r1, r2)
			}
			if rec, err := a.Store.Ledger().Receipt(context.Background(), r1); err != nil || !strings.Contains(string(rec.Body), `"import"`) || !strings.Contains(string(rec.Body), "legacy CDP export") {
				t.Errorf("receipt %s: %v %s, want method import with the source", r1, err, rec.Body)
			}

			// A second run of the same file stores nothing twice.
			code, out, _ = run(t, append([]string{"import", file, "--source", "legacy CDP export"}, inst.Args...)...)
			if code != 0 || !strings.Contains(out, "0 stored") || !strings.Contains(out, "(duplicate)") {
				t.Errorf("re-import: exit %d\n%s", code, out)
			}
		})
	}
}

func TestImportRejectsBadFilesBeforeWriting(t *testing.T) {
	inst := testenv.Stores()[0].New(t)
	for _, c := range []struct{ name, body, want string }{
		{"not JSON", "{\"type\":\"track\"\n", "line 1: not a JSON object"},
		{"consent without time", `{"type":"consent","userId":"u","choices":{"analytics":true}}`, "line 1: consent record: timestamp"},
		{"consent in the future", `{"type":"consent","userId":"u","choices":{"analytics":true},"timestamp":"2999-01-01T00:00:00Z"}`, "in the future"},
		{"unknown field", `{"type":"consent","userId":"u","choices":{"analytics":true},"timestamp":"2025-01-01T00:00:00Z","ip":"1.2.3.4"}`, "unknown field"},
	} {
		file := filepath.Join(t.TempDir(), "bad.jsonl")
		os.WriteFile(file, []byte(c.body), 0o600)
		code, _, errOut := run(t, append([]string{"import", file, "--source", "x"}, inst.Args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q, want it to mention %q", c.name, code, errOut, c.want)
		}
	}
	if code, _, errOut := run(t, append([]string{"import", "nothing.jsonl"}, inst.Args...)...); code == 0 || !strings.Contains(errOut, "--source") {
		t.Errorf("import without --source: exit %d, %q", code, errOut)
	}
	n, err := inst.DB.Ledger().Size(context.Background())
	if err != nil || n != 0 {
		t.Errorf("a refused import wrote %d receipts (%v)", n, err)
	}
}

// FuzzImportScan: the import file reader never panics, and whatever it
// accepts as consent evidence has a shopper, choices and a past time.
func FuzzImportScan(f *testing.F) {
	f.Add([]byte(`{"type":"consent","userId":"u","choices":{"analytics":true},"timestamp":"2025-01-01T00:00:00Z"}` + "\n" + `{"type":"track","event":"x","userId":"u"}`))
	f.Add([]byte("\n\n{}\n"))
	f.Add([]byte(`{"type":"consent","anonymousId":"a","choices":{},"timestamp":"2025-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		evidence, _, err := scanImport(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		for _, e := range evidence {
			if (e.rec.UserID == "" && e.rec.AnonymousID == "") || len(e.rec.Choices) == 0 || e.at.After(time.Now()) || e.line < 1 {
				t.Fatalf("accepted %+v", e)
			}
		}
		var n int
		eachEventChunk(strings.NewReader(string(data)), func(lines []int, body []byte) error { n += len(lines); return nil })
	})
}
