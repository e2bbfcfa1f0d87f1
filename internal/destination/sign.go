package destination

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook request.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
	// "<t>." + body)>". Several v1 entries may appear while a secret rotates.
	SignatureHeader = "Tact-Signature"
	// DeliveryHeader carries the delivery id; receivers deduplicate on it.
	DeliveryHeader = "Tact-Delivery"
)

// DefaultTolerance is the timestamp tolerance Verify uses when given none.
const DefaultTolerance = 5 * time.Minute

// maxSignatureHeader bounds the work Verify does on outside input: room for
// dozens of v1 entries, far more than a rotation needs.
const maxSignatureHeader = 4096

// Errors of Verify, wrapped with detail; test them with errors.Is.
var (
	ErrSignatureMalformed = errors.New("malformed signature header")
	ErrSignatureStale     = errors.New("signature timestamp outside tolerance")
	ErrSignatureMismatch  = errors.New("signature mismatch")
)

// macEqual compares MACs in constant time. It is a variable only so that a
// test can check that every comparison goes through hmac.Equal.
var macEqual = hmac.Equal

// Sign returns the SignatureHeader value for body sent at t (after 1970:
// Verify accepts only non-negative timestamps).
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(signature(secret, ts, body))
}

func signature(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	io.WriteString(m, ts)
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a SignatureHeader value against body: one of its v1 entries
// must be the HMAC of secret (several are accepted so that a sender can sign
// with the old and the new secret during a rotation), and its timestamp must
// be within tolerance of now, either way, which bounds replays. A tolerance
// of zero or less means DefaultTolerance. MACs are compared in constant
// time. Unknown entries (a future v2) are ignored.
//
// The signature is checked before the timestamp, so ErrSignatureStale means
// an authentic but old (or clock-skewed) request, and ErrSignatureMismatch a
// wrong secret or an altered body. Errors never quote the header.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return errors.New("verify: empty secret")
	}
	ts, unix, sigs, err := parseSignature(header)
	if err != nil {
		return err
	}
	want := signature(secret, ts, body)
	ok := false
	for _, sig := range sigs {
		// No early exit: the work does not depend on which entry matched.
		if macEqual(want, sig) {
			ok = true
		}
	}
	if !ok {
		return ErrSignatureMismatch
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	// Compare without negating d: Sub saturates, and the negation of the
	// smallest Duration is itself.
	signed := time.Unix(unix, 0)
	switch d := now.Sub(signed); {
	case d > tolerance:
		return fmt.Errorf("%w: signed %s ago", ErrSignatureStale, d)
	case d < -tolerance:
		return fmt.Errorf("%w: signed %s ahead of this clock", ErrSignatureStale, signed.Sub(now))
	}
	return nil
}

// parseSignature splits a header into its timestamp (as sent and as a
// number) and its decoded v1 MACs.
func parseSignature(header string) (ts string, unix int64, sigs [][]byte, err error) {
	malformed := func(why string) (string, int64, [][]byte, error) {
		return "", 0, nil, fmt.Errorf("%w: %s", ErrSignatureMalformed, why)
	}
	if len(header) > maxSignatureHeader {
		return malformed(fmt.Sprintf("longer than %d bytes", maxSignatureHeader))
	}
	for part := range strings.SplitSeq(header, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !found || k == "":
			return malformed("entries must be key=value")
		case k == "t":
			if ts != "" {
				return malformed("more than one timestamp")
			}
			// Only canonical decimal (no sign, no leading zero) so that the
			// signed text is exactly what Sign writes.
			n, perr := strconv.ParseInt(v, 10, 64)
			if perr != nil || n < 0 || v != strconv.FormatInt(n, 10) {
				return malformed("timestamp is not unix seconds")
			}
			ts, unix = v, n
		case k == "v1":
			if len(v) != 2*sha256.Size {
				return malformed("v1 is not a hex HMAC-SHA256")
			}
			sig, herr := hex.DecodeString(v)
			if herr != nil {
				return malformed("v1 is not a hex HMAC-SHA256")
			}
			sigs = append(sigs, sig)
		}
	}
	switch {
	case ts == "":
		return malformed("no timestamp")
	case len(sigs) == 0:
		return malformed("no v1 signature")
	}
	return ts, unix, sigs, nil
}
