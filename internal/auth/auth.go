// Package auth owns tact's credentials: write keys (public, for browsers),
// server keys (secret, for the shop's backend), user-hash secrets (with which
// the shop vouches for a browser's userId) and admin tokens with roles. Secrets
// are random 160-bit values; only their SHA-256 is stored, and lookups compare
// hashes in constant time.
package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/store"
)

// Credential kinds.
const (
	KindWrite    = "write"
	KindServer   = "server"
	KindUserHash = "userhash"
	KindAdmin    = "admin"
)

// Admin roles.
var Roles = []string{"admin", "privacy_officer", "marketer", "analyst", "support"}

var prefixes = map[string]string{KindWrite: "tact_wk_", KindServer: "tact_sk_", KindUserHash: "tact_uh_", KindAdmin: "tact_at_"}

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Principal is an authenticated credential.
type Principal struct {
	ID      string
	Kind    string
	Role    string
	Origins []string
}

// Store is what auth needs from storage.
type Store interface {
	CreateCredential(ctx context.Context, c store.Credential) error
	CredentialByHash(ctx context.Context, hash []byte) (store.Credential, error)
	Credentials(ctx context.Context, kind string) ([]store.Credential, error)
}

// Authenticator creates and checks credentials.
type Authenticator struct {
	store   Store
	sealKey []byte // seals user-hash secrets at rest
	TTL     time.Duration
	Now     func() time.Time

	mu       sync.Mutex
	cache    map[[32]byte]cached
	userHash cachedList
	origins  cachedList
}

type cached struct {
	p   Principal
	exp time.Time
}

type cachedList struct {
	secrets [][]byte
	origins map[string]bool
	exp     time.Time
}

// New returns an authenticator. sealKey (32 bytes) seals user-hash secrets.
// Positive lookups are cached for ttl, so a revocation takes effect within it;
// a new credential is valid at once.
func New(s Store, sealKey []byte, ttl time.Duration) *Authenticator {
	return &Authenticator{store: s, sealKey: sealKey, TTL: ttl, Now: time.Now, cache: map[[32]byte]cached{}}
}

// HashSecret is the stored form of a secret.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Create makes a credential and returns its secret, which is shown once.
func (a *Authenticator) Create(ctx context.Context, kind, name, role string, origins []string) (string, store.Credential, error) {
	prefix, ok := prefixes[kind]
	if !ok {
		return "", store.Credential{}, tact.Errorf(tact.EINVALID, "kind must be write, server or userhash")
	}
	if kind == KindAdmin {
		if !validRole(role) {
			return "", store.Credential{}, tact.Errorf(tact.EINVALID, "role must be one of %s", strings.Join(Roles, ", "))
		}
	} else if role != "" {
		return "", store.Credential{}, tact.Errorf(tact.EINVALID, "only admin tokens have a role")
	}
	if len(origins) > 0 && kind != KindWrite {
		return "", store.Credential{}, tact.Errorf(tact.EINVALID, "only write keys have origins")
	}
	clean := make([]string, 0, len(origins))
	for _, o := range origins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			return "", store.Credential{}, err
		}
		clean = append(clean, n)
	}
	var raw [20]byte
	rand.Read(raw[:])
	secret := prefix + strings.ToLower(secretEncoding.EncodeToString(raw[:]))
	var idb [8]byte
	rand.Read(idb[:])
	c := store.Credential{
		ID: kind[:1] + "k_" + hex.EncodeToString(idb[:]), Kind: kind, Role: role, Name: name,
		SecretHash: HashSecret(secret), Origins: clean, CreatedAt: a.Now().UTC(),
	}
	if kind == KindAdmin {
		c.ID = "at_" + hex.EncodeToString(idb[:])
	}
	if kind == KindUserHash {
		sealed, err := a.seal([]byte(secret))
		if err != nil {
			return "", c, err
		}
		c.SealedSecret = sealed
	}
	if err := a.store.CreateCredential(ctx, c); err != nil {
		return "", c, err
	}
	a.mu.Lock()
	a.userHash.exp, a.origins.exp = time.Time{}, time.Time{}
	a.mu.Unlock()
	return secret, c, nil
}

func validRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// NormalizeOrigin checks a web origin (scheme://host[:port]) and returns it in
// canonical form.
func NormalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", tact.Errorf(tact.EINVALID, "origin %q must be scheme://host[:port]", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// ErrUnknownCredential is returned for secrets tact does not know.
var ErrUnknownCredential = tact.Errorf(tact.EUNAUTHORIZED, "unknown or revoked credential")

// Authenticate finds the credential of a secret.
func (a *Authenticator) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if len(secret) < 8 || len(secret) > 128 {
		return Principal{}, ErrUnknownCredential
	}
	sum := sha256.Sum256([]byte(secret))
	now := a.Now()
	a.mu.Lock()
	if c, ok := a.cache[sum]; ok && now.Before(c.exp) {
		a.mu.Unlock()
		return c.p, nil
	}
	a.mu.Unlock()
	cred, err := a.store.CredentialByHash(ctx, sum[:])
	if tact.ErrorCode(err) == tact.ENOTFOUND {
		return Principal{}, ErrUnknownCredential
	} else if err != nil {
		return Principal{}, err
	}
	// The index lookup found the row by hash; compare the full hash in
	// constant time all the same, so no timing depends on stored bytes.
	if subtle.ConstantTimeCompare(cred.SecretHash, sum[:]) != 1 {
		return Principal{}, ErrUnknownCredential
	}
	p := Principal{ID: cred.ID, Kind: cred.Kind, Role: cred.Role, Origins: cred.Origins}
	a.mu.Lock()
	if len(a.cache) > 10000 {
		clear(a.cache)
	}
	a.cache[sum] = cached{p: p, exp: now.Add(a.TTL)}
	a.mu.Unlock()
	return p, nil
}

// ValidUserHash reports whether userHash is hex HMAC-SHA256(userID) under one
// of the shop's user-hash secrets.
func (a *Authenticator) ValidUserHash(ctx context.Context, userID, userHash string) (bool, error) {
	got, err := hex.DecodeString(userHash)
	if err != nil || len(got) != sha256.Size {
		return false, nil
	}
	secrets, err := a.userHashSecrets(ctx)
	if err != nil {
		return false, err
	}
	ok := 0
	for _, s := range secrets {
		m := hmac.New(sha256.New, s)
		m.Write([]byte(userID))
		ok |= subtle.ConstantTimeCompare(m.Sum(nil), got)
	}
	return ok == 1, nil
}

// UserHash computes the userHash a shop sends for userID (used in tests and
// documentation examples).
func UserHash(secret, userID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(userID))
	return hex.EncodeToString(m.Sum(nil))
}

func (a *Authenticator) userHashSecrets(ctx context.Context) ([][]byte, error) {
	now := a.Now()
	a.mu.Lock()
	if now.Before(a.userHash.exp) {
		s := a.userHash.secrets
		a.mu.Unlock()
		return s, nil
	}
	a.mu.Unlock()
	creds, err := a.store.Credentials(ctx, KindUserHash)
	if err != nil {
		return nil, err
	}
	var secrets [][]byte
	for _, c := range creds {
		s, err := a.open(c.SealedSecret)
		if err != nil {
			return nil, fmt.Errorf("auth: opening user-hash secret %s: %w", c.ID, err)
		}
		secrets = append(secrets, s)
	}
	a.mu.Lock()
	a.userHash = cachedList{secrets: secrets, exp: now.Add(a.TTL)}
	a.mu.Unlock()
	return secrets, nil
}

// OriginAllowed reports whether any write key registers origin; CORS
// preflights carry no credential, so they are answered for these.
func (a *Authenticator) OriginAllowed(ctx context.Context, origin string) (bool, error) {
	now := a.Now()
	a.mu.Lock()
	if now.Before(a.origins.exp) {
		ok := a.origins.origins[strings.ToLower(origin)]
		a.mu.Unlock()
		return ok, nil
	}
	a.mu.Unlock()
	creds, err := a.store.Credentials(ctx, KindWrite)
	if err != nil {
		return false, err
	}
	all := map[string]bool{}
	for _, c := range creds {
		for _, o := range c.Origins {
			all[o] = true
		}
	}
	a.mu.Lock()
	a.origins = cachedList{origins: all, exp: now.Add(a.TTL)}
	a.mu.Unlock()
	return all[strings.ToLower(origin)], nil
}

func (a *Authenticator) aead() (cipher.AEAD, error) {
	b, err := aes.NewCipher(a.sealKey)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func (a *Authenticator) seal(secret []byte) ([]byte, error) {
	g, err := a.aead()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return g.Seal(nonce, nonce, secret, []byte("tact/v1/credential")), nil
}

func (a *Authenticator) open(sealed []byte) ([]byte, error) {
	g, err := a.aead()
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize() {
		return nil, errors.New("sealed secret is truncated")
	}
	return g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], []byte("tact/v1/credential"))
}
