package vault

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// testRoot is a fixed root secret so failures are reproducible.
func testRoot(b byte) RootSecret {
	var r RootSecret
	for i := range r {
		r[i] = b + byte(i)
	}
	return r
}

func TestPseudonymDeterministicAndSeparated(t *testing.T) {
	v := New(testRoot(1), nil)
	uses := []Use{UseIdentity, UseEvents, UseSuppression, UseLedger, UseAudit, Use("future")}
	kinds := []Kind{KindAnonymousID, KindUserID, KindEmail}
	seen := map[Pseudonym]string{}
	for _, u := range uses {
		for _, k := range kinds {
			p := v.Pseudonym(u, k, "alice@example.com")
			if again := v.Pseudonym(u, k, "alice@example.com"); again != p {
				t.Errorf("Pseudonym(%s, %s) not deterministic: %s then %s", u, k, p, again)
			}
			// A second vault on the same root gives the same pseudonym.
			if other := New(testRoot(1), nil).Pseudonym(u, k, "alice@example.com"); other != p {
				t.Errorf("Pseudonym(%s, %s) differs across vaults on one root", u, k)
			}
			name := string(u) + "/" + string(k)
			if prev, dup := seen[p]; dup {
				t.Errorf("Pseudonym collision between %s and %s", prev, name)
			}
			seen[p] = name
		}
	}
	if v.Pseudonym(UseIdentity, KindUserID, "a") == v.Pseudonym(UseIdentity, KindUserID, "b") {
		t.Error("different values gave the same pseudonym")
	}
	if v.Pseudonym(UseIdentity, KindUserID, "a") == New(testRoot(2), nil).Pseudonym(UseIdentity, KindUserID, "a") {
		t.Error("different roots gave the same pseudonym")
	}
}

func TestPseudonymMatchesSpec(t *testing.T) {
	// Recompute with the primitives so the construction can't drift silently.
	root := testRoot(7)
	v := New(root, nil)
	key := deriveFrom(root, "pseudonym/events", 32)
	want := hmacSHA256(key, []byte("user_id\x00u-42"))
	if got := v.Pseudonym(UseEvents, KindUserID, "u-42"); !bytes.Equal(got[:], want) {
		t.Errorf("Pseudonym = %s, want %x", got, want)
	}
}

func TestPseudonymText(t *testing.T) {
	p := New(testRoot(1), nil).Pseudonym(UseIdentity, KindAnonymousID, "anon")
	s := p.String()
	if len(s) != 64 || strings.ToLower(s) != s {
		t.Fatalf("String = %q, want 64 lower-case hex", s)
	}
	for _, in := range []string{s, strings.ToUpper(s)} {
		got, err := ParsePseudonym(in)
		if err != nil || got != p {
			t.Errorf("ParsePseudonym(%q) = %s, %v; want %s", in, got, err, p)
		}
	}
	b, err := json.Marshal(map[string]Pseudonym{"p": p})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]Pseudonym
	if err := json.Unmarshal(b, &back); err != nil || back["p"] != p {
		t.Errorf("JSON round trip: %v, %v", back, err)
	}
	for _, bad := range []string{"", s[:62], s + "00", "zz" + s[2:]} {
		if _, err := ParsePseudonym(bad); err == nil {
			t.Errorf("ParsePseudonym(%q) succeeded", bad)
		}
	}
}

func TestPseudonymConcurrent(t *testing.T) {
	v := New(testRoot(3), nil)
	want := v.Pseudonym(UseLedger, KindEmail, "x@y")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := v.Pseudonym(UseLedger, KindEmail, "x@y"); got != want {
					t.Error("concurrent Pseudonym differs")
					return
				}
				v.Pseudonym(Use("extra"), KindEmail, "x@y")
			}
		})
	}
	wg.Wait()
}

func TestPseudonymNoAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts are not meaningful here")
	}
	v := New(testRoot(1), nil)
	allocs := testing.AllocsPerRun(100, func() { v.Pseudonym(UseEvents, KindAnonymousID, "3f2a6c1e-8d7b-4e0f-9a1c-5b6d7e8f9a0b") })
	if allocs != 0 {
		t.Errorf("Pseudonym allocates %v times per call, want 0", allocs)
	}
}

func TestDeriveKey(t *testing.T) {
	v := New(testRoot(1), nil)
	a := v.DeriveKey("subjecttoken/mac", 32)
	if len(a) != 32 || !bytes.Equal(a, v.DeriveKey("subjecttoken/mac", 32)) {
		t.Fatal("DeriveKey not deterministic or wrong length")
	}
	if bytes.Equal(a, v.DeriveKey("apikey/pepper", 32)) {
		t.Error("different purposes gave the same key")
	}
	if bytes.Equal(a, New(testRoot(2), nil).DeriveKey("subjecttoken/mac", 32)) {
		t.Error("different roots gave the same key")
	}
	if got := v.DeriveKey("x", 64); len(got) != 64 {
		t.Errorf("len = %d, want 64", len(got))
	}
	for _, reserved := range []string{"", "pseudonym/identity", "kek/local-v1", "check", "seal"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("DeriveKey(%q) did not panic", reserved)
				}
			}()
			v.DeriveKey(reserved, 32)
		}()
	}
}

func TestSigningKey(t *testing.T) {
	v := New(testRoot(1), nil)
	k := v.SigningKey("ledger")
	if !k.Equal(New(testRoot(1), nil).SigningKey("ledger")) {
		t.Error("SigningKey not deterministic")
	}
	if k.Equal(v.SigningKey("other")) {
		t.Error("different names gave the same signing key")
	}
	if !bytes.Equal(k.Seed(), v.DeriveKey("sign/ledger", 32)) {
		t.Error("SigningKey seed is not DeriveKey(sign/ledger)")
	}
	msg := []byte("checkpoint")
	if !ed25519.Verify(k.Public().(ed25519.PublicKey), msg, ed25519.Sign(k, msg)) {
		t.Error("signature does not verify")
	}
}

func TestCheckValue(t *testing.T) {
	a := New(testRoot(1), nil).CheckValue()
	if a != New(testRoot(1), nil).CheckValue() {
		t.Error("CheckValue not deterministic")
	}
	if a == New(testRoot(2), nil).CheckValue() {
		t.Error("CheckValue same for different roots")
	}
	if _, err := hex.DecodeString(a); err != nil || len(a) != 16 {
		t.Errorf("CheckValue = %q, want 16 hex characters", a)
	}
}

func TestNormalize(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		kind    Kind
		in      string
		want    string
		wantErr bool
	}{
		{KindEmail, "Alice@Example.COM", "alice@example.com", false},
		{KindEmail, "  bob@shop.example\n", "bob@shop.example", false},
		{KindEmail, "root@localhost", "root@localhost", false},
		{KindEmail, "Zoë@Exämple.de", "zoë@exämple.de", false},
		{KindEmail, long(64) + "@" + long(189), long(64) + "@" + long(189), false},
		{KindEmail, long(64) + "@" + long(190), "", true},
		{KindEmail, "", "", true},
		{KindEmail, "   ", "", true},
		{KindEmail, "no-at-sign", "", true},
		{KindEmail, "two@@example.com", "", true},
		{KindEmail, "a@b@c", "", true},
		{KindEmail, "@example.com", "", true},
		{KindEmail, "alice@", "", true},
		{KindEmail, "ali ce@example.com", "", true},
		{KindEmail, "alice@exa\x00mple.com", "", true},
		{KindEmail, "alice\u0085@example.com", "", true},
		{KindEmail, "alice@\xff.com", "", true},
		{KindUserID, "User-42", "User-42", false},
		{KindUserID, "with inner space", "with inner space", false},
		{KindUserID, long(256), long(256), false},
		{KindUserID, long(257), "", true},
		{KindUserID, "", "", true},
		{KindUserID, " padded", "", true},
		{KindUserID, "padded\t", "", true},
		{KindUserID, "bell\a", "", true},
		{KindUserID, "del\x7f", "", true},
		{KindUserID, "bad\xc3", "", true},
		{KindAnonymousID, "3f2a6c1e-8d7b-4e0f-9a1c-5b6d7e8f9a0b", "3f2a6c1e-8d7b-4e0f-9a1c-5b6d7e8f9a0b", false},
		{KindAnonymousID, "ABC", "ABC", false},
		{KindAnonymousID, "line\nbreak", "", true},
		{Kind("phone"), "+4912345", "", true},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.kind, tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("Normalize(%s, %q) = %q, want error", tt.kind, tt.in, got)
				continue
			}
			if !errors.Is(err, ErrInvalidIdentifier) {
				t.Errorf("Normalize(%s, %q) error %v does not wrap ErrInvalidIdentifier", tt.kind, tt.in, err)
			}
			if trimmed := strings.TrimSpace(tt.in); trimmed != "" && strings.Contains(err.Error(), trimmed) {
				t.Errorf("Normalize(%s, %q) error %q contains the input", tt.kind, tt.in, err)
			}
			for _, part := range strings.FieldsFunc(tt.in, func(r rune) bool { return r == '@' || r == ' ' }) {
				if len(part) > 3 && strings.Contains(err.Error(), part) {
					t.Errorf("Normalize(%s, %q) error %q contains part %q of the input", tt.kind, tt.in, err, part)
				}
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%s, %q) = %q, %v; want %q", tt.kind, tt.in, got, err, tt.want)
		}
	}
}

func TestRootSecretParse(t *testing.T) {
	r := testRoot(9)
	forms := map[string]string{
		"hex":         r.Encode(),
		"HEX":         strings.ToUpper(r.Encode()),
		"hex+space":   "  " + r.Encode() + "\n",
		"std":         base64.StdEncoding.EncodeToString(r[:]),
		"raw std":     base64.RawStdEncoding.EncodeToString(r[:]),
		"url":         base64.URLEncoding.EncodeToString(r[:]),
		"raw url":     base64.RawURLEncoding.EncodeToString(r[:]),
		"std+newline": base64.StdEncoding.EncodeToString(r[:]) + "\r\n",
	}
	for name, s := range forms {
		got, err := ParseRootSecret(s)
		if err != nil || got != r {
			t.Errorf("%s: ParseRootSecret = %v; want the secret", name, err)
		}
	}
	short := base64.StdEncoding.EncodeToString(r[:31])
	for _, bad := range []string{"", "  ", r.Encode()[:63], r.Encode() + "0", short, "not a secret!", strings.Repeat("g", 64)} {
		_, err := ParseRootSecret(bad)
		if err == nil {
			t.Errorf("ParseRootSecret(%q) succeeded", bad)
			continue
		}
		if len(bad) > 8 && strings.Contains(err.Error(), strings.TrimSpace(bad)) {
			t.Errorf("error %q contains the input", err)
		}
	}
}

func TestRootSecretNeverPrinted(t *testing.T) {
	r := testRoot(0xa0)
	secretForms := []string{
		r.Encode(),
		strings.ToUpper(r.Encode()),
		base64.StdEncoding.EncodeToString(r[:])[:20],
		fmt.Sprint([32]byte(r)),
		string(r[:]),
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("start", "root", r, "ptr", &r)
	outputs := []string{
		r.String(),
		fmt.Sprint(r), fmt.Sprintf("%v %+v %#v %s %q %x %X %d %08b", r, r, r, r, r, r, r, r, r),
		fmt.Sprintf("%v %x %#v", &r, &r, &r),
		fmt.Sprintf("%v", struct{ R RootSecret }{r}),
		fmt.Sprintf("%+v", struct{ R RootSecret }{r}),
		fmt.Sprintf("%#v", struct{ R RootSecret }{r}),
		fmt.Sprintf("%x", []RootSecret{r}),
		logBuf.String(),
	}
	for _, out := range outputs {
		for _, s := range secretForms {
			if strings.Contains(out, s) {
				t.Errorf("output %q leaks the root secret", out)
			}
		}
	}
	if got := fmt.Sprint(r); got != "RootSecret(redacted)" {
		t.Errorf("Sprint = %q", got)
	}
	if _, err := json.Marshal(r); err == nil {
		t.Error("json.Marshal(RootSecret) succeeded")
	}
	if _, err := r.MarshalText(); err == nil {
		t.Error("MarshalText succeeded")
	}
}

func TestLoadOrCreateRootSecret(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "root.key")
	r, created, err := LoadOrCreateRootSecret(path)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	if r == (RootSecret{}) {
		t.Fatal("created an all-zero secret")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %04o, want 0600", st.Mode().Perm())
	}
	again, created, err := LoadOrCreateRootSecret(path)
	if err != nil || created || again != r {
		t.Fatalf("second call: same=%v created=%v err=%v", again == r, created, err)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}

	// A hand-written base64 file is accepted.
	b64 := filepath.Join(dir, "b64.key")
	want := testRoot(5)
	if err := os.WriteFile(b64, []byte(base64.StdEncoding.EncodeToString(want[:])+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, created, err := LoadOrCreateRootSecret(b64); err != nil || created || got != want {
		t.Errorf("base64 file: same=%v created=%v err=%v", got == want, created, err)
	}

	// Garbage is an error, not a silent regeneration.
	junk := filepath.Join(dir, "junk.key")
	if err := os.WriteFile(junk, []byte("nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateRootSecret(junk); err == nil {
		t.Error("junk file accepted")
	}
}

func TestLoadOrCreateRootSecretRefusesOpenModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	dir := t.TempDir()
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		path := filepath.Join(dir, fmt.Sprintf("root-%o.key", mode))
		if err := os.WriteFile(path, []byte(testRoot(1).Encode()), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadOrCreateRootSecret(path); err == nil {
			t.Errorf("mode %04o accepted", mode)
		} else if strings.Contains(err.Error(), testRoot(1).Encode()) {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}

func TestLoadOrCreateRootSecretConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	const n = 8
	got := make([]RootSecret, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], _, errs[i] = LoadOrCreateRootSecret(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Fatal("concurrent creators ended up with different secrets")
		}
	}
}

func newTestDataKey(t testing.TB, v *Vault) (KeyID, DataKey, WrappedKey) {
	t.Helper()
	id, dk, w, err := v.NewDataKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id, dk, w
}

func TestSealOpen(t *testing.T) {
	v := New(testRoot(1), nil)
	id, dk, _ := newTestDataKey(t, v)
	if dk.ID() != id {
		t.Fatal("DataKey.ID differs from returned id")
	}
	for _, pt := range [][]byte{nil, {}, []byte("x"), []byte(`{"email":"alice@example.com","name":"Alice"}`), bytes.Repeat([]byte{0xab}, 1<<16)} {
		sealed, err := dk.Seal("traits", pt)
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != len(pt)+SealOverhead {
			t.Errorf("sealed length %d, want %d", len(sealed), len(pt)+SealOverhead)
		}
		if sealed[0] != 0x01 || !bytes.Equal(sealed[1:17], id[:]) {
			t.Error("sealed header is not 0x01 || keyID")
		}
		if len(pt) > 8 && bytes.Contains(sealed, pt[:8]) {
			t.Error("sealed output contains plaintext")
		}
		gotID, err := SealedKeyID(sealed)
		if err != nil || gotID != id {
			t.Errorf("SealedKeyID = %v, %v", gotID, err)
		}
		got, err := dk.Open("traits", sealed)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("Open = %d bytes, %v; want %d bytes", len(got), err, len(pt))
		}
		if got == nil {
			t.Error("Open returned nil slice on success")
		}
	}
	a, _ := dk.Seal("f", []byte("same"))
	b, _ := dk.Seal("f", []byte("same"))
	if bytes.Equal(a, b) {
		t.Error("two seals of the same plaintext are identical (nonce reuse?)")
	}
}

func TestOpenFailures(t *testing.T) {
	v := New(testRoot(1), nil)
	_, dk, _ := newTestDataKey(t, v)
	_, other, _ := newTestDataKey(t, v)
	sealed, err := dk.Seal("traits", []byte("secret value"))
	if err != nil {
		t.Fatal(err)
	}
	mutate := func(f func([]byte) []byte) []byte { return f(bytes.Clone(sealed)) }
	cases := map[string]struct {
		key   DataKey
		field string
		in    []byte
	}{
		"other key":     {other, "traits", sealed},
		"other field":   {dk, "payload", sealed},
		"field prefix":  {dk, "trait", sealed},
		"zero key":      {DataKey{}, "traits", sealed},
		"empty":         {dk, "traits", nil},
		"header only":   {dk, "traits", sealed[:29]},
		"truncated":     {dk, "traits", sealed[:len(sealed)-1]},
		"extended":      {dk, "traits", append(bytes.Clone(sealed), 0)},
		"bad version":   {dk, "traits", mutate(func(b []byte) []byte { b[0] = 2; return b })},
		"flipped id":    {dk, "traits", mutate(func(b []byte) []byte { b[5] ^= 1; return b })},
		"flipped nonce": {dk, "traits", mutate(func(b []byte) []byte { b[20] ^= 1; return b })},
		"flipped ct":    {dk, "traits", mutate(func(b []byte) []byte { b[30] ^= 0x80; return b })},
		"flipped tag":   {dk, "traits", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b })},
	}
	for name, c := range cases {
		if got, err := c.key.Open(c.field, c.in); !errors.Is(err, ErrCannotOpen) || got != nil {
			t.Errorf("%s: Open = %q, %v; want ErrCannotOpen", name, got, err)
		}
	}
	// Every single-bit flip anywhere fails.
	for i := range len(sealed) * 8 {
		b := bytes.Clone(sealed)
		b[i/8] ^= 1 << (i % 8)
		if _, err := dk.Open("traits", b); err == nil {
			t.Fatalf("bit %d flipped still opens", i)
		}
	}
	if _, err := (DataKey{}).Seal("f", []byte("x")); err == nil {
		t.Error("zero DataKey sealed")
	}
	if _, err := SealedKeyID(sealed[:10]); !errors.Is(err, ErrCannotOpen) {
		t.Errorf("SealedKeyID(short) err = %v", err)
	}
}

func TestUnwrapAndShred(t *testing.T) {
	ctx := context.Background()
	v := New(testRoot(1), nil)
	id, dk, w := newTestDataKey(t, v)
	sealed, _ := dk.Seal("traits", []byte("hello"))

	// A fresh vault on the same root opens it after unwrapping.
	dk2, err := New(testRoot(1), nil).UnwrapDataKey(ctx, id, w)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := dk2.Open("traits", sealed); err != nil || string(got) != "hello" {
		t.Fatalf("Open after unwrap = %q, %v", got, err)
	}

	// Shredded: the wrapped key is gone, or the root differs, or the
	// wrapped key is presented under another id — nothing opens.
	otherID, _, otherW := newTestDataKey(t, v)
	bad := map[string]struct {
		v  *Vault
		id KeyID
		w  WrappedKey
	}{
		"lost wrapped key": {v, id, WrappedKey{KEK: w.KEK}},
		"other root":       {New(testRoot(2), nil), id, w},
		"other id":         {v, otherID, w},
		"swapped blob":     {v, id, WrappedKey{KEK: w.KEK, Blob: otherW.Blob}},
		"truncated blob":   {v, id, WrappedKey{KEK: w.KEK, Blob: w.Blob[:len(w.Blob)-1]}},
		"short blob":       {v, id, WrappedKey{KEK: w.KEK, Blob: w.Blob[:5]}},
	}
	for name, c := range bad {
		if _, err := c.v.UnwrapDataKey(ctx, c.id, c.w); !errors.Is(err, ErrCannotOpen) {
			t.Errorf("%s: UnwrapDataKey err = %v, want ErrCannotOpen", name, err)
		}
	}
	for _, kek := range []string{"", "local-v0", "local-v01", "local-v-1", "local-vx", "kms-v1", "local-v1 ", "local-v99999999"} {
		if _, err := v.UnwrapDataKey(ctx, id, WrappedKey{KEK: kek, Blob: w.Blob}); !errors.Is(err, ErrUnknownKEK) {
			t.Errorf("KEK %q: err = %v, want ErrUnknownKEK", kek, err)
		}
	}
	// With another root's DataKey the sealed value stays shut too.
	_, foreign, _ := newTestDataKey(t, New(testRoot(2), nil))
	if _, err := foreign.Open("traits", sealed); !errors.Is(err, ErrCannotOpen) {
		t.Errorf("foreign key Open err = %v", err)
	}
}

func TestRotation(t *testing.T) {
	ctx := context.Background()
	root := testRoot(4)
	v1 := New(root, NewLocalKEK(root, 1))
	id, dk, w1 := newTestDataKey(t, v1)
	if w1.KEK != "local-v1" {
		t.Fatalf("KEK = %q, want local-v1", w1.KEK)
	}
	sealed, _ := dk.Seal("payload", []byte("event body"))

	v2 := New(root, NewLocalKEK(root, 2))
	if cur, _ := v2.CurrentKEK(ctx); cur != "local-v2" {
		t.Fatalf("CurrentKEK = %q", cur)
	}
	// Old keys still unwrap after rotation.
	if _, err := v2.UnwrapDataKey(ctx, id, w1); err != nil {
		t.Fatalf("v1-wrapped key under NewLocalKEK(root, 2): %v", err)
	}
	w2, err := v2.Rewrap(ctx, id, w1)
	if err != nil {
		t.Fatal(err)
	}
	if w2.KEK != "local-v2" || bytes.Equal(w2.Blob, w1.Blob) {
		t.Fatalf("Rewrap gave KEK %q", w2.KEK)
	}
	dk2, err := v2.UnwrapDataKey(ctx, id, w2)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := dk2.Open("payload", sealed); err != nil || string(got) != "event body" {
		t.Errorf("Open after rewrap = %q, %v", got, err)
	}
	// The v2 blob is not a v1 blob: relabelling it fails.
	if _, err := v2.UnwrapDataKey(ctx, id, WrappedKey{KEK: "local-v1", Blob: w2.Blob}); !errors.Is(err, ErrCannotOpen) {
		t.Errorf("relabelled blob err = %v", err)
	}
	// New keys use v2.
	if _, _, w, _ := v2.NewDataKey(ctx); w.KEK != "local-v2" {
		t.Errorf("new key wrapped by %q", w.KEK)
	}
}

func TestDataKeyNeverPrinted(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = 0xc0 + byte(i%16)
	}
	id := KeyID{1, 2, 3}
	dk, err := newDataKey(id, raw)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("k", "key", dk)
	outputs := []string{
		dk.String(),
		fmt.Sprintf("%v %+v %#v %s %x %X %d", dk, dk, dk, dk, dk, dk, dk),
		fmt.Sprintf("%#v %+v", &dk, &dk),
		fmt.Sprintf("%#v", struct{ K DataKey }{dk}),
		logBuf.String(),
	}
	for _, out := range outputs {
		if strings.Contains(out, hex.EncodeToString(raw)) || strings.Contains(strings.ToLower(out), hex.EncodeToString(raw[:8])) || strings.Contains(out, string(raw[:8])) {
			t.Errorf("output leaks the data key: %q", out)
		}
	}
	if !strings.Contains(dk.String(), id.String()) || !strings.Contains(dk.String(), "redacted") {
		t.Errorf("String = %q", dk.String())
	}
}

func TestKeyIDText(t *testing.T) {
	id := KeyID{0xde, 0xad, 0xbe, 0xef}
	got, err := ParseKeyID(id.String())
	if err != nil || got != id {
		t.Errorf("ParseKeyID round trip = %v, %v", got, err)
	}
	for _, bad := range []string{"", "abc", id.String() + "0", strings.Repeat("x", 32)} {
		if _, err := ParseKeyID(bad); err == nil {
			t.Errorf("ParseKeyID(%q) succeeded", bad)
		}
	}
}
