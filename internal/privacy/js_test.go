package privacy_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/ledger"
	"github.com/tact-cdp/tact/internal/testenv"
)

// needNode returns node, or skips: app.js's tests run where node is
// installed (no npm package is needed).
func needNode(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		t.Skip("privacy: the JavaScript tests need node on the PATH")
	}
	return p
}

func appJS(t *testing.T) string {
	p, err := filepath.Abs("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runNode runs testdata/harness.js and decodes its one line of JSON.
func runNode(t *testing.T, node string, out any, args ...string) {
	t.Helper()
	harness, _ := filepath.Abs("testdata/harness.js")
	cmd := exec.Command(node, append([]string{harness, appJS(t)}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %v: %v\n%s", args, err, stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("node %v printed %q: %v", args, b, err)
	}
}

func TestAppJSParses(t *testing.T) {
	node := needNode(t)
	if out, err := exec.Command(node, "--check", appJS(t)).CombinedOutput(); err != nil {
		t.Fatalf("node --check app.js: %v\n%s", err, out)
	}
	// What the page's CSP and the house rules forbid.
	src, err := os.ReadFile(appJS(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", ".style."} {
		if strings.Contains(string(src), bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}

// The JavaScript verifier accepts exactly the proofs Go's ledger accepts:
// every inclusion and consistency proof of trees of 1 to 33 leaves, and
// tampered variants of each.
func TestJSProofCheckingAgreesWithGo(t *testing.T) {
	node := needNode(t)
	const n = 33
	tree := &ledger.MemoryTree{}
	leaves := make([]ledger.Hash, n)
	for i := range leaves {
		leaves[i] = ledger.LeafHash(fmt.Appendf(nil, "leaf %d", i))
		if err := tree.Append(leaves[i]); err != nil {
			t.Fatal(err)
		}
	}
	roots := make([]ledger.Hash, n+1)
	for size := int64(1); size <= n; size++ {
		r, err := ledger.TreeHash(size, tree)
		if err != nil {
			t.Fatal(err)
		}
		roots[size] = r
	}
	flip := func(h ledger.Hash) ledger.Hash { h[7] ^= 0x10; return h }
	withFlip := func(p []ledger.Hash, k int) []ledger.Hash {
		q := append([]ledger.Hash(nil), p...)
		q[k] = flip(q[k])
		return q
	}

	type inclusion struct {
		Name  string        `json:"name"`
		Index int64         `json:"index"`
		Size  int64         `json:"size"`
		Leaf  ledger.Hash   `json:"leaf"`
		Root  ledger.Hash   `json:"root"`
		Proof []ledger.Hash `json:"proof"`
		Valid bool          `json:"valid"`
	}
	type consistency struct {
		Name       string        `json:"name"`
		First      int64         `json:"first"`
		Second     int64         `json:"second"`
		FirstRoot  ledger.Hash   `json:"firstRoot"`
		SecondRoot ledger.Hash   `json:"secondRoot"`
		Proof      []ledger.Hash `json:"proof"`
		Valid      bool          `json:"valid"`
	}
	var v struct {
		Inclusion   []inclusion   `json:"inclusion"`
		Consistency []consistency `json:"consistency"`
		Checkpoints any           `json:"checkpoints"`
	}
	valid := 0
	addIncl := func(name string, idx, size int64, leaf, root ledger.Hash, p []ledger.Hash) {
		ok := ledger.CheckInclusion(p, size, root, idx, leaf) == nil
		if ok {
			valid++
		}
		v.Inclusion = append(v.Inclusion, inclusion{name, idx, size, leaf, root, append([]ledger.Hash{}, p...), ok})
	}
	addCons := func(name string, first, second int64, fr, sr ledger.Hash, p []ledger.Hash) {
		ok := ledger.CheckConsistency(p, second, sr, first, fr) == nil
		if ok {
			valid++
		}
		v.Consistency = append(v.Consistency, consistency{name, first, second, fr, sr, append([]ledger.Hash{}, p...), ok})
	}
	for size := int64(1); size <= n; size++ {
		for idx := int64(0); idx < size; idx++ {
			p, err := ledger.InclusionProof(size, idx, tree)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("leaf %d of %d", idx, size)
			addIncl(name, idx, size, leaves[idx], roots[size], p)
			addIncl(name+", other leaf", idx, size, leaves[(idx+1)%n], roots[size], p)
			addIncl(name+", wrong root", idx, size, leaves[idx], flip(roots[size]), p)
			addIncl(name+", longer proof", idx, size, leaves[idx], roots[size], append(p, leaves[0]))
			if size > 1 {
				addIncl(name+", other index", (idx+1)%size, size, leaves[idx], roots[size], p)
				addIncl(name+", other size", idx, size-1+2*(size%2), leaves[idx], roots[size], p)
			}
			if len(p) > 0 {
				addIncl(name+", altered hash", idx, size, leaves[idx], roots[size], withFlip(p, int(idx)%len(p)))
				addIncl(name+", shorter proof", idx, size, leaves[idx], roots[size], p[:len(p)-1])
			}
		}
		for first := int64(1); first <= size; first++ {
			p, err := ledger.ConsistencyProof(size, first, tree)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("%d to %d", first, size)
			addCons(name, first, size, roots[first], roots[size], p)
			addCons(name+", altered first root", first, size, flip(roots[first]), roots[size], p)
			addCons(name+", altered second root", first, size, roots[first], flip(roots[size]), p)
			addCons(name+", longer proof", first, size, roots[first], roots[size], append(p, leaves[0]))
			if len(p) > 0 {
				addCons(name+", altered hash", first, size, roots[first], roots[size], withFlip(p, int(first)%len(p)))
				addCons(name+", shorter proof", first, size, roots[first], roots[size], p[:len(p)-1])
			}
			if first > 1 {
				addCons(name+", other first size", first-1, size, roots[first-1], roots[size], p)
			}
		}
	}
	// Signed checkpoints under keys whose base64 holds '+' and '/', as
	// tact's signer makes them; altered notes and other keys fail.
	type checkpoint struct {
		Name  string `json:"name"`
		VKey  string `json:"vkey"`
		Note  string `json:"note"`
		Size  int64  `json:"size"`
		Valid bool   `json:"valid"`
	}
	var cps []checkpoint
	addCP := func(name, vkey, note string, size int64) {
		ok := false
		if ver, err := ledger.NewVerifier(vkey); err == nil {
			_, err = ver.Open(note)
			ok = err == nil
		}
		if ok {
			valid++
		}
		cps = append(cps, checkpoint{name, vkey, note, size, ok})
	}
	var prev *ledger.Signer
	plus := 0
	for i := 0; i < 200 && (i < 24 || plus == 0); i++ {
		_, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		sg, err := ledger.NewSigner("shop.example/tact-ledger", priv)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sg.VerifierKey()[len("shop.example/tact-ledger+00000000+"):], "+") {
			plus++
		}
		size := int64(i%n + 1)
		note, err := sg.Sign(ledger.Checkpoint{Origin: sg.Origin(), Size: size, Root: roots[size], Time: time.Unix(1_800_000_000, 0)})
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("checkpoint %d under %s", i, sg.VerifierKey())
		addCP(name, sg.VerifierKey(), note, size)
		addCP(name+", size altered", sg.VerifierKey(), strings.Replace(note, fmt.Sprintf("\n%d\n", size), fmt.Sprintf("\n%d\n", size+100), 1), size+100)
		if prev != nil {
			addCP(name+", another key", prev.VerifierKey(), note, size)
		}
		prev = sg
	}
	if plus == 0 {
		t.Fatal("no verifier key with a '+' in its base64 was made")
	}
	v.Checkpoints = cps

	file := filepath.Join(t.TempDir(), "vectors.json")
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Checked    int `json:"checked"`
		Mismatches []struct {
			Kind, Name string
			Want       bool
			Got        struct {
				OK    bool
				Error string
			}
		} `json:"mismatches"`
	}
	runNode(t, node, &got, "vectors", file)
	if want := len(v.Inclusion) + len(v.Consistency) + len(cps); got.Checked != want {
		t.Fatalf("node checked %d vectors, want %d", got.Checked, want)
	}
	for i, m := range got.Mismatches {
		if i == 10 {
			t.Errorf("… and %d more", len(got.Mismatches)-10)
			break
		}
		t.Errorf("%s %s: Go says valid=%v, JavaScript says %+v", m.Kind, m.Name, m.Want, m.Got)
	}
	if valid < 2*n*(n+1)/2 || valid == got.Checked {
		t.Errorf("%d of %d vectors valid: the table should hold every real proof and fail the tampered ones", valid, got.Checked)
	}
}

type verifyOutcome struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
	Result struct {
		Pending   bool   `json:"pending"`
		ID        string `json:"id"`
		LeafIndex int64  `json:"leafIndex"`
		Size      int64  `json:"size"`
		Latest    int64  `json:"latest"`
		Origin    string `json:"origin"`
		Signed    bool   `json:"signed"`
		Content   string `json:"content"`
		From      *int64 `json:"from"`
	} `json:"result"`
}

// app.js verifies real receipts from tact's API — content, leaf, inclusion,
// signatures, consistency with the checkpoint it remembered — and names
// what is wrong when the log is not what it saw before.
func TestJSVerifiesReceiptsEndToEnd(t *testing.T) {
	node := needNode(t)
	for _, st := range testenv.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			m := datamap.Default()
			m.Controller.Name = `Hearth & Home <"Test"> ` + "\u2028" // characters JSON encoders escape
			e := newEnvMap(t, st, m)
			store := filepath.Join(t.TempDir(), "checkpoint.json")
			verify := func(id string) verifyOutcome {
				t.Helper()
				var out verifyOutcome
				runNode(t, node, &out, "verify", e.srv.URL+"/", store, id)
				return out
			}
			cut := func() {
				t.Helper()
				if _, err := e.app.Ledger.CutCheckpoint(ctx); err != nil {
					t.Fatal(err)
				}
			}
			change := func(tok string, choices map[string]bool) (string, string) {
				t.Helper()
				a := e.do("POST", "/privacy/consent", map[string]any{"choices": choices}, withCookie(tok))
				if a.status != 201 {
					t.Fatalf("change: %d %s", a.status, a.body)
				}
				return a.json["receiptId"].(string), a.cookie("tact_st").Value
			}

			tok := e.browser(map[string]bool{"analytics": true})
			_, s := e.state(tok)
			first := s["analytics"].ReceiptID
			if out := verify(first); !out.OK || !out.Result.Pending {
				t.Fatalf("before any checkpoint: %+v, want pending", out)
			}
			cut()
			second, tok := change(tok, map[string]bool{"analytics": false, "personalization": true})
			cut()

			out := verify(first)
			r := out.Result
			if !out.OK || r.Pending || r.ID != first || r.LeafIndex != 0 || r.Size != 1 || r.Latest != 2 || !r.Signed || r.Content != "matches" || r.From != nil || r.Origin == "" {
				t.Fatalf("first receipt: %+v", out)
			}
			for range 3 {
				_, tok = change(tok, map[string]bool{"marketing_sms": true})
			}
			cut()
			out = verify(second)
			if r := out.Result; !out.OK || r.LeafIndex != 1 || r.Size != 2 || r.Latest != 5 || r.From == nil || *r.From != 2 {
				t.Fatalf("second receipt, after the log grew: %+v", out)
			}

			// What the browser remembered, altered: each is reported.
			var memo map[string]any
			raw, _ := os.ReadFile(store)
			if err := json.Unmarshal(raw, &memo); err != nil || memo["size"] != float64(5) {
				t.Fatalf("remembered %s", raw)
			}
			for _, tt := range []struct {
				name  string
				alter func(map[string]any)
				want  string
			}{
				{"another root", func(m map[string]any) { m["root"] = base64.StdEncoding.EncodeToString(make([]byte, 32)) },
					"not an extension of the state this browser verified before (size 5)"},
				{"a larger log", func(m map[string]any) { m["size"] = 9 }, "smaller than 9"},
				{"another key", func(m map[string]any) { m["key"] = "other+00000000+AQ==" }, "signing key changed"},
			} {
				alt := map[string]any{}
				for k, v := range memo {
					alt[k] = v
				}
				tt.alter(alt)
				b, _ := json.Marshal(alt)
				os.WriteFile(store, b, 0o600)
				if out := verify(second); out.OK || !strings.Contains(out.Error, tt.want) {
					t.Errorf("%s: %+v, want a failure saying %q", tt.name, out, tt.want)
				}
			}
			os.Remove(store)
			if out := verify("rc_" + strings.Repeat("a", 32)); out.OK || !strings.Contains(out.Error, "not found") {
				t.Errorf("unknown receipt: %+v", out)
			}
			if out := verify("rc_bogus"); out.OK || !strings.Contains(out.Error, "is not a receipt id") {
				t.Errorf("malformed id: %+v", out)
			}
			// The HTML-escaped controller name really was in the answer.
			a := e.do("GET", "/v1/consent/receipts/"+url.PathEscape(first), nil)
			if !strings.Contains(string(a.body), `\u0026`) {
				t.Errorf("the receipt answer escapes no character; the test does not exercise rawReceipt: %s", a.body)
			}
		})
	}
}
