package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a signed statement of the log's size and root at a time.
// Its text form follows the C2SP tlog-checkpoint format (origin, size, base64
// root) with one extension line carrying the time, and is signed as a
// golang.org/x/mod/sumdb/note with Ed25519.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   Hash
	Time   time.Time
}

// Body is the signed text of the checkpoint.
func (c Checkpoint) Body() string {
	return fmt.Sprintf("%s\n%d\n%s\ntime %d\n", c.Origin, c.Size,
		base64.StdEncoding.EncodeToString(c.Root[:]), c.Time.UTC().Unix())
}

func parseBody(text string) (Checkpoint, error) {
	var c Checkpoint
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return c, errors.New("ledger: checkpoint has fewer than three lines")
	}
	c.Origin = lines[0]
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return c, errors.New("ledger: checkpoint size is not a non-negative number")
	}
	c.Size = size
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != len(c.Root) {
		return c, errors.New("ledger: checkpoint root is not a base64 SHA-256 hash")
	}
	copy(c.Root[:], root)
	for _, ext := range lines[3:] {
		if v, ok := strings.CutPrefix(ext, "time "); ok {
			sec, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return c, errors.New("ledger: checkpoint time is not a unix time")
			}
			c.Time = time.Unix(sec, 0).UTC()
		}
	}
	return c, nil
}

// SignedCheckpoint is a checkpoint as stored and served: its size, root and
// time, and the signed note text.
type SignedCheckpoint struct {
	Size      int64
	Root      Hash
	CreatedAt time.Time
	Signed    string
}

// Signer signs checkpoints with an Ed25519 key under a log name.
type Signer struct {
	name   string
	priv   ed25519.PrivateKey
	signer note.Signer
	vkey   string
}

// NewSigner returns a signer for the log called name (the checkpoint origin).
func NewSigner(name string, priv ed25519.PrivateKey) (*Signer, error) {
	pub := priv.Public().(ed25519.PublicKey)
	encodedPub := append([]byte{1}, pub...)
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, keyHash(name, encodedPub),
		base64.StdEncoding.EncodeToString(append([]byte{1}, priv.Seed()...)))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("ledger: signer for %q: %w", name, err)
	}
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return nil, fmt.Errorf("ledger: verifier key for %q: %w", name, err)
	}
	return &Signer{name: name, priv: priv, signer: s, vkey: vkey}, nil
}

// keyHash mirrors the key hash of golang.org/x/mod/sumdb/note.
func keyHash(name string, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// Origin is the log name every checkpoint carries.
func (s *Signer) Origin() string { return s.name }

// PublicKey is the Ed25519 verification key.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

// VerifierKey is the note verifier key ("name+hash+base64key") to publish.
func (s *Signer) VerifierKey() string { return s.vkey }

// Sign produces the signed note text of a checkpoint.
func (s *Signer) Sign(c Checkpoint) (string, error) {
	if c.Origin != s.name {
		return "", fmt.Errorf("ledger: checkpoint origin %q is not the signer's %q", c.Origin, s.name)
	}
	msg, err := note.Sign(&note.Note{Text: c.Body()}, s.signer)
	if err != nil {
		return "", err
	}
	return string(msg), nil
}

// Verifier checks signed checkpoints.
type Verifier struct{ v note.Verifier }

// NewVerifier builds a verifier from a published verifier key.
func NewVerifier(vkey string) (*Verifier, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("ledger: verifier key: %w", err)
	}
	return &Verifier{v: v}, nil
}

// Open verifies the signature of a signed checkpoint and parses it.
func (v *Verifier) Open(signed string) (Checkpoint, error) {
	n, err := note.Open([]byte(signed), note.VerifierList(v.v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("ledger: checkpoint signature: %w", err)
	}
	c, err := parseBody(n.Text)
	if err != nil {
		return c, err
	}
	if c.Origin != v.v.Name() {
		return c, fmt.Errorf("ledger: checkpoint origin %q is not %q", c.Origin, v.v.Name())
	}
	return c, nil
}
