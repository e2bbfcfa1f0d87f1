package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// KEKSource holds the key-encryption keys that wrap per-shopper data keys.
// It is an interface so that a cloud KMS can replace LocalKEK; the key
// material of a KEK need never leave the source.
type KEKSource interface {
	// CurrentKEK returns the id of the KEK new data keys are wrapped with.
	CurrentKEK(ctx context.Context) (id string, err error)
	// Wrap encrypts dataKey under the KEK kekID, authenticating aad.
	Wrap(ctx context.Context, kekID string, dataKey []byte, aad []byte) ([]byte, error)
	// Unwrap reverses Wrap. It returns an error wrapping ErrUnknownKEK for an
	// id it does not know and ErrCannotOpen when wrapped or aad do not match.
	Unwrap(ctx context.Context, kekID string, wrapped []byte, aad []byte) ([]byte, error)
}

// LocalKEK derives KEKs from the root secret: KEK "local-vN" is
// HKDF-SHA256(root, info "tact/v1/kek/local-vN"), and wrapping is
// AES-256-GCM with a random nonce (nonce || ciphertext || tag). Rotating is
// raising the current version; older versions still unwrap, so keys can be
// rewrapped at leisure.
type LocalKEK struct {
	root    RootSecret
	current int
	aeads   sync.Map // int version -> cipher.AEAD
}

const localKEKPrefix = "local-v"

// maxLocalKEKVersion bounds parsed versions; far above any real rotation count.
const maxLocalKEKVersion = 1 << 20

// NewLocalKEK returns a LocalKEK whose current KEK is "local-v<currentVersion>".
// currentVersion must be at least 1.
func NewLocalKEK(root RootSecret, currentVersion int) *LocalKEK {
	if currentVersion < 1 || currentVersion > maxLocalKEKVersion {
		panic("vault: NewLocalKEK version out of range: " + strconv.Itoa(currentVersion))
	}
	return &LocalKEK{root: root, current: currentVersion}
}

// LocalKEKID returns the id of local KEK version n: "local-v<n>".
func LocalKEKID(n int) string { return localKEKPrefix + strconv.Itoa(n) }

// CurrentKEK returns "local-v<currentVersion>".
func (k *LocalKEK) CurrentKEK(context.Context) (string, error) {
	return LocalKEKID(k.current), nil
}

// Wrap seals dataKey under the KEK kekID.
func (k *LocalKEK) Wrap(_ context.Context, kekID string, dataKey, aad []byte) ([]byte, error) {
	aead, err := k.aead(kekID)
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	out := make([]byte, ns, ns+len(dataKey)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("vault: wrap: %w", err)
	}
	return aead.Seal(out, out[:ns], dataKey, aad), nil
}

// Unwrap opens a key wrapped by Wrap under kekID, for any version ≥ 1.
func (k *LocalKEK) Unwrap(_ context.Context, kekID string, wrapped, aad []byte) ([]byte, error) {
	aead, err := k.aead(kekID)
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	if len(wrapped) < ns+aead.Overhead() {
		return nil, ErrCannotOpen
	}
	key, err := aead.Open(nil, wrapped[:ns], wrapped[ns:], aad)
	if err != nil {
		return nil, ErrCannotOpen
	}
	return key, nil
}

func (k *LocalKEK) aead(kekID string) (cipher.AEAD, error) {
	n, ok := parseLocalKEKID(kekID)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKEK, kekID)
	}
	if a, ok := k.aeads.Load(n); ok {
		return a.(cipher.AEAD), nil
	}
	a, err := newGCM(deriveFrom(k.root, "kek/"+kekID, 32))
	if err != nil {
		return nil, err
	}
	got, _ := k.aeads.LoadOrStore(n, a)
	return got.(cipher.AEAD), nil
}

// parseLocalKEKID accepts exactly "local-v<N>" with N ≥ 1 in canonical
// decimal (no sign, no leading zeros), so each KEK has one id.
func parseLocalKEKID(id string) (int, bool) {
	digits, ok := strings.CutPrefix(id, localKEKPrefix)
	if !ok || digits == "" || len(digits) > 7 || digits[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > maxLocalKEKVersion {
		return 0, false
	}
	return n, true
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	return aead, nil
}
