package vault

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// KeyID names a data key. It is random, not secret, and travels in every
// value sealed with the key.
type KeyID [16]byte

// ParseKeyID parses 32 hex characters.
func ParseKeyID(s string) (KeyID, error) {
	var id KeyID
	if err := decodeHexInto(id[:], s); err != nil {
		return KeyID{}, fmt.Errorf("vault: key id: %w", err)
	}
	return id, nil
}

// String returns the id in lower-case hex.
func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the zero value.
func (id KeyID) IsZero() bool { return id == KeyID{} }

// MarshalText encodes id as lower-case hex.
func (id KeyID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes hex.
func (id *KeyID) UnmarshalText(b []byte) error {
	v, err := ParseKeyID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// WrappedKey is a data key encrypted by the KEK named KEK. It is what the
// store keeps; destroying it shreds everything sealed with the data key.
type WrappedKey struct {
	KEK  string
	Blob []byte
}

// DataKey is an unwrapped per-shopper AES-256 key. Its String, GoString,
// Format and LogValue never print key material.
type DataKey struct {
	id   KeyID
	aead cipher.AEAD // built once; nil in the zero DataKey
}

const (
	sealVersion   = 0x01
	sealNonceSize = 12
	sealTagSize   = 16
	sealHeader    = 1 + len(KeyID{}) + sealNonceSize
	// SealOverhead is how many bytes Seal adds to a plaintext.
	SealOverhead = sealHeader + sealTagSize

	dataKeySize = 32
	sealAADBase = "tact/v1/seal"
)

func dataKeyAAD(id KeyID) []byte { return []byte("tact/v1/datakey/" + id.String()) }

// NewDataKey returns a new random 256-bit data key, its id, and the key
// wrapped by the current KEK with aad "tact/v1/datakey/"+hex(id), which binds
// the wrapped key to its id.
func (v *Vault) NewDataKey(ctx context.Context) (KeyID, DataKey, WrappedKey, error) {
	var id KeyID
	var raw [dataKeySize]byte
	// A key id is a name, not a secret: a 48-bit millisecond time first, so
	// that new keys append to the end of the store's index, then 80 random bits.
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		id[i] = byte(ms)
		ms >>= 8
	}
	if _, err := rand.Read(id[6:]); err != nil {
		return KeyID{}, DataKey{}, WrappedKey{}, fmt.Errorf("vault: new data key: %w", err)
	}
	if _, err := rand.Read(raw[:]); err != nil {
		return KeyID{}, DataKey{}, WrappedKey{}, fmt.Errorf("vault: new data key: %w", err)
	}
	defer clear(raw[:])
	dk, err := newDataKey(id, raw[:])
	if err != nil {
		return KeyID{}, DataKey{}, WrappedKey{}, err
	}
	w, err := v.wrap(ctx, id, raw[:])
	if err != nil {
		return KeyID{}, DataKey{}, WrappedKey{}, err
	}
	return id, dk, w, nil
}

// UnwrapDataKey opens w, the wrapped form of data key id. It fails with
// ErrCannotOpen if w was shredded, altered or belongs to another id, and
// with ErrUnknownKEK if its KEK is unknown.
func (v *Vault) UnwrapDataKey(ctx context.Context, id KeyID, w WrappedKey) (DataKey, error) {
	raw, err := v.unwrap(ctx, id, w)
	if err != nil {
		return DataKey{}, err
	}
	defer clear(raw)
	return newDataKey(id, raw)
}

// Rewrap unwraps w with its KEK and wraps the key again with the current
// KEK: KEK rotation without re-encrypting any sealed data.
func (v *Vault) Rewrap(ctx context.Context, id KeyID, w WrappedKey) (WrappedKey, error) {
	raw, err := v.unwrap(ctx, id, w)
	if err != nil {
		return WrappedKey{}, err
	}
	defer clear(raw)
	return v.wrap(ctx, id, raw)
}

// CurrentKEK returns the id of the KEK that NewDataKey and Rewrap use, so a
// rotation job can skip keys already wrapped by it.
func (v *Vault) CurrentKEK(ctx context.Context) (string, error) {
	return v.kek.CurrentKEK(ctx)
}

func (v *Vault) wrap(ctx context.Context, id KeyID, raw []byte) (WrappedKey, error) {
	kekID, err := v.kek.CurrentKEK(ctx)
	if err != nil {
		return WrappedKey{}, fmt.Errorf("vault: current KEK: %w", err)
	}
	blob, err := v.kek.Wrap(ctx, kekID, raw, dataKeyAAD(id))
	if err != nil {
		return WrappedKey{}, fmt.Errorf("vault: wrap data key: %w", err)
	}
	return WrappedKey{KEK: kekID, Blob: blob}, nil
}

func (v *Vault) unwrap(ctx context.Context, id KeyID, w WrappedKey) ([]byte, error) {
	if len(w.Blob) == 0 {
		return nil, ErrCannotOpen
	}
	raw, err := v.kek.Unwrap(ctx, w.KEK, w.Blob, dataKeyAAD(id))
	if err != nil {
		if errors.Is(err, ErrUnknownKEK) || errors.Is(err, ErrCannotOpen) {
			return nil, err
		}
		return nil, fmt.Errorf("vault: unwrap data key: %w", err)
	}
	if len(raw) != dataKeySize {
		clear(raw)
		return nil, ErrCannotOpen
	}
	return raw, nil
}

func newDataKey(id KeyID, raw []byte) (DataKey, error) {
	aead, err := newGCM(raw)
	if err != nil {
		return DataKey{}, err
	}
	return DataKey{id: id, aead: aead}, nil
}

// ID returns the key's id.
func (k DataKey) ID() KeyID { return k.id }

// String returns "DataKey(<id>, redacted)".
func (k DataKey) String() string { return "DataKey(" + k.id.String() + ", redacted)" }

// GoString is String, so %#v cannot print the cipher state.
func (k DataKey) GoString() string { return k.String() }

// Format prints String for every verb.
func (k DataKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue keeps key material out of slog output.
func (k DataKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// sealAAD is "tact/v1/seal" || 0x00 || keyID || 0x00 || field: it binds a
// sealed value to the shopper's key and to the field it was sealed for, so
// values cannot be swapped between shoppers or fields.
func sealAAD(id KeyID, field string) []byte {
	aad := make([]byte, 0, len(sealAADBase)+2+len(id)+len(field))
	aad = append(aad, sealAADBase...)
	aad = append(aad, 0)
	aad = append(aad, id[:]...)
	aad = append(aad, 0)
	return append(aad, field...)
}

// Seal encrypts plaintext for field with AES-256-GCM and a random nonce.
// The result is 0x01 (format version) || keyID (16) || nonce (12) ||
// ciphertext || tag (16).
func (k DataKey) Seal(field string, plaintext []byte) ([]byte, error) {
	if k.aead == nil {
		return nil, errors.New("vault: seal with a zero DataKey")
	}
	out := make([]byte, sealHeader, sealHeader+len(plaintext)+sealTagSize)
	out[0] = sealVersion
	copy(out[1:], k.id[:])
	nonce := out[1+len(k.id) : sealHeader]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("vault: seal: %w", err)
	}
	return k.aead.Seal(out, nonce, plaintext, sealAAD(k.id, field)), nil
}

// Open decrypts a value Seal produced for field. Any failure — another key,
// another field, tampering, truncation, an unknown format — is
// ErrCannotOpen; Open never panics.
func (k DataKey) Open(field string, sealed []byte) ([]byte, error) {
	if k.aead == nil || len(sealed) < SealOverhead || sealed[0] != sealVersion ||
		KeyID(sealed[1:1+len(k.id)]) != k.id {
		return nil, ErrCannotOpen
	}
	nonce := sealed[1+len(k.id) : sealHeader]
	pt, err := k.aead.Open(nil, nonce, sealed[sealHeader:], sealAAD(k.id, field))
	if err != nil {
		return nil, ErrCannotOpen
	}
	if pt == nil {
		pt = []byte{}
	}
	return pt, nil
}

// SealedKeyID returns the id of the data key a sealed value needs. It fails
// with ErrCannotOpen if sealed is not in a format Seal produces.
func SealedKeyID(sealed []byte) (KeyID, error) {
	if len(sealed) < SealOverhead || sealed[0] != sealVersion {
		return KeyID{}, ErrCannotOpen
	}
	return KeyID(sealed[1 : 1+len(KeyID{})]), nil
}
