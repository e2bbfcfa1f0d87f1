// Package vault owns tact's key hierarchy: the root secret, keys derived from
// it per use, keyed pseudonyms for identifiers, and per-shopper data keys
// wrapped by a key-encryption key (KEK) so that erasing a shopper is
// destroying one wrapped key (crypto-shredding).
//
// The package is pure cryptography; storing wrapped keys, pseudonyms and the
// check value is the store's job.
package vault

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
)

var (
	// ErrCannotOpen reports that a sealed or wrapped value could not be
	// opened: wrong key, wrong field, tampering, truncation or a shredded key.
	ErrCannotOpen = errors.New("vault: cannot open")
	// ErrInvalidIdentifier reports an identifier that fails Normalize. The
	// wrapping message never contains the identifier itself.
	ErrInvalidIdentifier = errors.New("invalid identifier")
	// ErrUnknownKEK reports a key-encryption-key id the KEKSource does not know.
	ErrUnknownKEK = errors.New("vault: unknown key-encryption key")
)

// infoPrefix versions every HKDF info string, so a future scheme can derive
// fresh keys from the same root secret.
const infoPrefix = "tact/v1/"

// Reserved DeriveKey purposes: keys under these prefixes are the vault's own
// (pseudonym keys, KEKs, the check value) and are never handed out.
var reservedPurposes = []string{"pseudonym/", "kek/", "check", "seal", "datakey/"}

// Vault derives keys from the root secret, computes pseudonyms and manages
// per-shopper data keys. It is safe for concurrent use.
type Vault struct {
	root RootSecret
	kek  KEKSource

	// uses holds the pseudonym HMAC pools of the well-known uses; built in
	// New and read-only afterwards, so lookups need no lock.
	uses map[Use]*hmacPool
	// extra caches pools of uses added after this package was written.
	extra sync.Map // Use -> *hmacPool
}

// New returns a Vault for root whose data keys are wrapped by kek. A nil kek
// means NewLocalKEK(root, 1).
func New(root RootSecret, kek KEKSource) *Vault {
	if kek == nil {
		kek = NewLocalKEK(root, 1)
	}
	v := &Vault{root: root, kek: kek, uses: make(map[Use]*hmacPool)}
	for _, u := range []Use{UseIdentity, UseEvents, UseSuppression, UseLedger, UseAudit} {
		v.uses[u] = newHMACPool(v.derive("pseudonym/"+string(u), 32))
	}
	return v
}

// derive is HKDF-SHA256(root, salt nil, info "tact/v1/"+purpose).
func (v *Vault) derive(purpose string, n int) []byte {
	return deriveFrom(v.root, purpose, n)
}

func deriveFrom(root RootSecret, purpose string, n int) []byte {
	k, err := hkdf.Key(sha256.New, root[:], nil, infoPrefix+purpose, n)
	if err != nil {
		// Only an n above 255*32 fails: a programmer error.
		panic("vault: derive " + purpose + ": " + err.Error())
	}
	return k
}

// DeriveKey returns n bytes of HKDF-SHA256(root, info "tact/v1/"+purpose) for
// other components: the subject-token MAC key, the ledger signing seed, the
// API-key pepper and so on. It is deterministic: the same root secret and
// purpose always give the same key. Purposes under the vault's own prefixes
// ("pseudonym/", "kek/", "check", "seal", "datakey/"), an empty purpose, or
// n outside 1..8160 panic: they are programmer errors.
func (v *Vault) DeriveKey(purpose string, n int) []byte {
	if purpose == "" {
		panic("vault: DeriveKey with empty purpose")
	}
	for _, p := range reservedPurposes {
		if strings.HasPrefix(purpose, p) {
			panic("vault: DeriveKey purpose " + purpose + " is reserved")
		}
	}
	if n < 1 {
		panic("vault: DeriveKey length must be positive")
	}
	return v.derive(purpose, n)
}

// SigningKey returns the Ed25519 key named name, derived as
// ed25519.NewKeyFromSeed(DeriveKey("sign/"+name, 32)).
func (v *Vault) SigningKey(name string) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(v.DeriveKey("sign/"+name, ed25519.SeedSize))
}

// CheckValue returns a short hex value derived from the root secret. The
// store keeps it so that starting with the wrong root secret is refused
// instead of silently producing unjoinable pseudonyms and unopenable data.
// It is 64 bits: enough to tell secrets apart, useless for guessing one.
func (v *Vault) CheckValue() string {
	return hex.EncodeToString(v.derive("check", 8))
}
