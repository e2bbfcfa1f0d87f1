package destination

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	testSecret = []byte("whsec-test-secret")
	testNow    = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	testBody   = []byte(`{"type":"consent.withdrawn","pseudonym":"p_123"}`)
)

func TestSignFormat(t *testing.T) {
	got := Sign(testSecret, testNow, testBody)
	// Computed independently with Python's hmac module.
	want := "t=1773500966,v1=e14d9d4765e9a20681e1828cb2e4d0b61799c37f812b8cebddd936c0fc9d5dcf"
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	valid := Sign(testSecret, testNow, testBody)
	old := Sign([]byte("old-secret"), testNow, testBody)
	oldV1 := old[strings.Index(old, "v1="):]
	tests := []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error // nil, or the sentinel in the chain
	}{
		{"round trip", testSecret, valid, testBody, testNow, nil},
		{"within tolerance after", testSecret, valid, testBody, testNow.Add(5 * time.Minute), nil},
		{"within tolerance before", testSecret, valid, testBody, testNow.Add(-5 * time.Minute), nil},
		{"tampered body", testSecret, valid, []byte(`{"type":"consent.withdrawn","pseudonym":"p_124"}`), testNow, ErrSignatureMismatch},
		{"empty body", testSecret, valid, nil, testNow, ErrSignatureMismatch},
		{"wrong secret", []byte("another secret"), valid, testBody, testNow, ErrSignatureMismatch},
		{"stale", testSecret, valid, testBody, testNow.Add(5*time.Minute + time.Second), ErrSignatureStale},
		{"from the future", testSecret, valid, testBody, testNow.Add(-6 * time.Minute), ErrSignatureStale},
		{"far future now", testSecret, valid, testBody, time.Unix(1<<62, 0), ErrSignatureStale},
		{"timestamp changed", testSecret, strings.Replace(valid, "t=1773500966", "t=1773500967", 1), testBody, testNow, ErrSignatureMismatch},
		{"rotation new second", testSecret, "t=1773500966," + oldV1 + "," + valid[strings.Index(valid, "v1="):], testBody, testNow, nil},
		{"rotation new first", testSecret, valid + "," + oldV1, testBody, testNow, nil},
		{"rotation neither", []byte("third"), valid + "," + oldV1, testBody, testNow, ErrSignatureMismatch},
		{"spaces after commas", testSecret, strings.Replace(valid, ",", ", ", 1), testBody, testNow, nil},
		{"unknown scheme ignored", testSecret, valid + ",v2=whatever", testBody, testNow, nil},
		{"v0 alone is not enough", testSecret, "t=1773500966,v0=" + strings.Repeat("a", 64), testBody, testNow, ErrSignatureMalformed},
		{"empty", testSecret, "", testBody, testNow, ErrSignatureMalformed},
		{"no timestamp", testSecret, valid[strings.Index(valid, "v1="):], testBody, testNow, ErrSignatureMalformed},
		{"no signature", testSecret, "t=1773500966", testBody, testNow, ErrSignatureMalformed},
		{"two timestamps", testSecret, "t=1773500966," + valid, testBody, testNow, ErrSignatureMalformed},
		{"signed timestamp", testSecret, strings.Replace(valid, "t=", "t=+", 1), testBody, testNow, ErrSignatureMalformed},
		{"negative timestamp", testSecret, strings.Replace(valid, "t=", "t=-", 1), testBody, testNow, ErrSignatureMalformed},
		{"leading zero", testSecret, strings.Replace(valid, "t=", "t=0", 1), testBody, testNow, ErrSignatureMalformed},
		{"fractional timestamp", testSecret, strings.Replace(valid, ",v1", ".5,v1", 1), testBody, testNow, ErrSignatureMalformed},
		{"huge timestamp", testSecret, strings.Replace(valid, "t=", "t=99999999999999999999", 1), testBody, testNow, ErrSignatureMalformed},
		{"short v1", testSecret, valid[:len(valid)-2], testBody, testNow, ErrSignatureMalformed},
		{"non-hex v1", testSecret, valid[:len(valid)-1] + "g", testBody, testNow, ErrSignatureMalformed},
		{"upper-case entry name", testSecret, strings.Replace(valid, "v1=", "V1=", 1), testBody, testNow, ErrSignatureMalformed},
		{"no equals", testSecret, valid + ",junk", testBody, testNow, ErrSignatureMalformed},
		{"empty key", testSecret, valid + ",=x", testBody, testNow, ErrSignatureMalformed},
		{"trailing comma", testSecret, valid + ",", testBody, testNow, ErrSignatureMalformed},
		{"too long", testSecret, valid + strings.Repeat(",v2=x", 1000), testBody, testNow, ErrSignatureMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.header, tt.body, tt.now, 5*time.Minute)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyDefaultTolerance(t *testing.T) {
	h := Sign(testSecret, testNow, testBody)
	if err := Verify(testSecret, h, testBody, testNow.Add(DefaultTolerance), 0); err != nil {
		t.Errorf("at the default tolerance: %v", err)
	}
	if err := Verify(testSecret, h, testBody, testNow.Add(DefaultTolerance+time.Second), 0); !errors.Is(err, ErrSignatureStale) {
		t.Errorf("past the default tolerance: %v, want stale", err)
	}
}

func TestVerifyEmptySecret(t *testing.T) {
	h := Sign(nil, testNow, testBody) // a sender without a secret must not pass
	if err := Verify(nil, h, testBody, testNow, time.Minute); err == nil {
		t.Fatal("Verify with an empty secret succeeded")
	}
}

func TestVerifyErrorsDoNotQuoteHeader(t *testing.T) {
	planted := "t=1773500966,v1=" + strings.Repeat("z", 64) + ",secretvalue"
	err := Verify(testSecret, planted, testBody, testNow, time.Minute)
	if err == nil || strings.Contains(err.Error(), "secretvalue") || strings.Contains(err.Error(), "zzzz") {
		t.Fatalf("Verify error = %v, want one that does not quote the header", err)
	}
}

// TestVerifyConstantTime checks that every v1 entry is compared with
// hmac.Equal, matching or not, first or last: no early exit and no ==.
func TestVerifyConstantTime(t *testing.T) {
	var calls int
	orig := macEqual
	macEqual = func(a, b []byte) bool { calls++; return orig(a, b) }
	t.Cleanup(func() { macEqual = orig })

	valid := Sign(testSecret, testNow, testBody)
	other := Sign([]byte("other"), testNow, testBody)
	otherV1 := other[strings.Index(other, "v1="):]
	for _, tc := range []struct {
		header string
		want   int
	}{
		{valid, 1},
		{other, 1},
		{valid + "," + otherV1, 2},
		{other + "," + otherV1 + "," + valid[strings.Index(valid, "v1="):], 3},
	} {
		calls = 0
		Verify(testSecret, tc.header, testBody, testNow, time.Minute)
		if calls != tc.want {
			t.Errorf("%q: %d constant-time comparisons, want %d", tc.header, calls, tc.want)
		}
	}
}

// FuzzVerify: whatever the header and body, Verify does not panic and never
// accepts without the secret (a fresh random one the corpus cannot know),
// while Sign with that secret always verifies.
func FuzzVerify(f *testing.F) {
	f.Add(Sign(testSecret, testNow, testBody), testBody, int64(0))
	f.Add(Sign(testSecret, testNow, testBody)+","+Sign([]byte("x"), testNow, nil), []byte{}, int64(300))
	f.Add("t=0,v1="+strings.Repeat("0", 64), []byte("x"), int64(-1))
	f.Add("t=,v1=,,=,t=1", []byte(nil), int64(1<<40))
	f.Add(strings.Repeat("v1=", 100), []byte("{}"), int64(7))
	secret := make([]byte, 32)
	rand.Read(secret)
	f.Fuzz(func(t *testing.T, header string, body []byte, skew int64) {
		// Keep now after 1970: Sign is not meant for earlier times.
		now := testNow.Add(time.Duration(skew%(50*365*24*3600)) * time.Second)
		if err := Verify(secret, header, body, now, time.Hour); err == nil {
			t.Fatalf("Verify accepted %q without the secret", header)
		}
		if err := Verify(nil, header, body, now, time.Hour); err == nil {
			t.Fatalf("Verify accepted %q with an empty secret", header)
		}
		if err := Verify(secret, Sign(secret, now, body), body, now, time.Hour); err != nil {
			t.Fatalf("Verify of a fresh signature: %v", err)
		}
	})
}
