package subjecttoken

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tact-cdp/tact/internal/vault"
)

var (
	testKey   = bytes.Repeat([]byte{0x42}, 32)
	otherKey  = bytes.Repeat([]byte{0x43}, 32)
	testStart = time.Date(2026, 3, 1, 12, 0, 0, 500_000_000, time.UTC)
)

// clock is a settable injected clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestIssuer(key []byte) (*Issuer, *clock) {
	c := &clock{t: testStart}
	i := NewIssuer(key, 15*time.Minute)
	i.Now = c.now
	return i, c
}

func testSubject() vault.Pseudonym {
	v := vault.New(vault.RootSecret{1, 2, 3}, nil)
	return v.Pseudonym(vault.UseIdentity, vault.KindAnonymousID, "3f2a6c1e-8d7b-4e0f-9a1c-5b6d7e8f9a0b")
}

func TestRoundTrip(t *testing.T) {
	i, _ := newTestIssuer(testKey)
	sub := testSubject()
	tok, claims := i.Issue(sub, 7)
	if !LooksLikeToken(tok) || !strings.HasPrefix(tok, "st1.") || strings.Count(tok, ".") != 2 {
		t.Fatalf("token %q has the wrong shape", tok)
	}
	if len(tok) > MaxLen || strings.ContainsAny(tok, "=+/ ;,\"") {
		t.Fatalf("token %q is not cookie- and header-safe", tok)
	}
	want := Claims{
		Subject:  sub,
		Gen:      7,
		IssuedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Expires:  time.Date(2026, 3, 1, 12, 15, 0, 0, time.UTC),
	}
	if claims != want {
		t.Errorf("Issue claims = %+v, want %+v", claims, want)
	}
	got, err := i.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("Verify claims = %+v, want %+v", got, want)
	}
	// The subject is a pseudonym, never the anonymous id itself.
	if strings.Contains(tok, "3f2a6c1e") {
		t.Error("token contains the anonymous id")
	}
	// A verifier built from the same key accepts it.
	j, _ := newTestIssuer(testKey)
	if _, err := j.Verify(tok); err != nil {
		t.Errorf("second issuer with the same key: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	i, c := newTestIssuer(testKey)
	tok, claims := i.Issue(testSubject(), 1)
	tests := []struct {
		at   time.Time
		want error
	}{
		{claims.IssuedAt, nil},
		{claims.Expires.Add(-time.Nanosecond), nil},
		{claims.Expires, ErrExpired},
		{claims.Expires.Add(time.Hour), ErrExpired},
		{claims.IssuedAt.Add(-MaxClockSkew), nil},
		{claims.IssuedAt.Add(-MaxClockSkew - time.Second), ErrNotYetValid},
	}
	for _, tt := range tests {
		c.t = tt.at
		if _, err := i.Verify(tok); !errors.Is(err, tt.want) {
			t.Errorf("Verify at %v: err = %v, want %v", tt.at, err, tt.want)
		}
	}
}

func TestTampered(t *testing.T) {
	i, _ := newTestIssuer(testKey)
	tok, _ := i.Issue(testSubject(), 3)
	dot := strings.LastIndexByte(tok, '.')
	flip := func(pos int) string {
		b := []byte(tok)
		if b[pos] == 'A' {
			b[pos] = 'B'
		} else {
			b[pos] = 'A'
		}
		return string(b)
	}
	// Forge a payload with a later expiry and gen, keeping the old MAC.
	forged, _ := func() (string, Claims) {
		j, c := newTestIssuer(testKey)
		c.t = testStart.Add(24 * time.Hour)
		return j.Issue(testSubject(), 99)
	}()
	forgedPayload := forged[:strings.LastIndexByte(forged, '.')] + tok[dot:]

	other, _ := newTestIssuer(otherKey)
	otherTok, _ := other.Issue(testSubject(), 3)

	cases := map[string]string{
		"payload first char": flip(len(prefix)),
		"payload middle":     flip(len(prefix) + 30),
		"payload last char":  flip(dot - 1),
		"signature first":    flip(dot + 1),
		"signature middle":   flip(dot + 20),
		"signature last":     flip(len(tok) - 1),
		"swapped payload":    forgedPayload,
		"other key":          otherTok,
	}
	for name, bad := range cases {
		if bad == tok {
			t.Fatalf("%s: mutation did nothing", name)
		}
		if _, err := i.Verify(bad); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", name, err)
		}
	}
	// Every single-character change anywhere is rejected.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
	for pos := range len(tok) {
		for _, r := range []byte(alphabet) {
			if tok[pos] == r {
				continue
			}
			b := []byte(tok)
			b[pos] = r
			if _, err := i.Verify(string(b)); err == nil {
				t.Fatalf("token with byte %d set to %q verifies", pos, r)
			}
		}
	}
}

func TestMalformed(t *testing.T) {
	i, _ := newTestIssuer(testKey)
	tok, _ := i.Issue(testSubject(), 3)
	cases := []string{
		"",
		"garbage",
		"st1.",
		"st1..",
		"st1.abc.def",
		"st2" + tok[3:],
		"ST1" + tok[3:],
		strings.Replace(tok, ".", "_", 2),
		tok[:len(tok)-1],
		tok + "A",
		" " + tok,
		tok + "\n",
		"Bearer " + tok,
		"st1." + strings.Repeat("A", 600),
		strings.Repeat("x", 10_000),
	}
	for _, bad := range cases {
		if _, err := i.Verify(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%.40q) err = %v, want ErrMalformed", bad, err)
		}
	}
	if LooksLikeToken("Bearer x") || LooksLikeToken("") || !LooksLikeToken(tok) {
		t.Error("LooksLikeToken wrong")
	}
}

// A correctly signed payload with nonsense fields is still refused.
func TestSignedButInvalidPayload(t *testing.T) {
	i, _ := newTestIssuer(testKey)
	mk := func(mutate func(p []byte)) string {
		tok, _ := i.Issue(testSubject(), 1)
		p, err := enc.DecodeString(tok[len(prefix):strings.LastIndexByte(tok, '.')])
		if err != nil {
			t.Fatal(err)
		}
		mutate(p)
		signed := prefix + enc.EncodeToString(p)
		return signed + "." + enc.EncodeToString(i.sign(nil, []byte(signed)))
	}
	cases := map[string]string{
		"version 2":          mk(func(p []byte) { p[0] = 2 }),
		"expires before iat": mk(func(p []byte) { copy(p[45:53], p[37:45]) }),
		"negative iat":       mk(func(p []byte) { p[37] = 0x80 }),
	}
	for name, tok := range cases {
		if _, err := i.Verify(tok); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestNewIssuerPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"short key": func() { NewIssuer(make([]byte, 31), time.Minute) },
		"no ttl":    func() { NewIssuer(testKey, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
	// The issuer keeps its own copy of the key.
	key := bytes.Clone(testKey)
	i := NewIssuer(key, time.Minute)
	tok, _ := i.Issue(vault.Pseudonym{}, 0)
	key[0] ^= 1
	if _, err := i.Verify(tok); err != nil {
		t.Errorf("caller changing its key slice broke the issuer: %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	i, c := newTestIssuer(testKey)
	tok, _ := i.Issue(testSubject(), 5)
	f.Add(tok)
	f.Add(tok[:len(tok)-1])
	f.Add(tok + "A")
	f.Add(strings.ToUpper(tok))
	f.Add(strings.Replace(tok, "st1.", "st1..", 1))
	dot := strings.LastIndexByte(tok, '.')
	f.Add(tok[:dot] + "." + tok[dot+1:len(tok)-1] + "B")
	f.Add(tok[:dot])
	f.Add("st1.")
	f.Add("")
	other, _ := newTestIssuer(otherKey)
	otherTok, _ := other.Issue(testSubject(), 5)
	f.Add(otherTok)
	f.Fuzz(func(t *testing.T, s string) {
		c.t = testStart
		claims, err := i.Verify(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) &&
				!errors.Is(err, ErrExpired) && !errors.Is(err, ErrNotYetValid) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// Anything that verifies must be exactly what the issuer produces
		// for those claims: no forged or re-spelled token is accepted.
		c.t = claims.IssuedAt
		again, _ := i.Issue(claims.Subject, claims.Gen)
		if again != s {
			t.Fatalf("verified token %q is not the issued %q", s, again)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	i, _ := newTestIssuer(testKey)
	tok, _ := i.Issue(testSubject(), 1)
	for b.Loop() {
		if _, err := i.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssue(b *testing.B) {
	i, _ := newTestIssuer(testKey)
	sub := testSubject()
	for b.Loop() {
		i.Issue(sub, 1)
	}
}
