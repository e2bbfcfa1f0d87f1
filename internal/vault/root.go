package vault

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// RootSecret is the 256-bit secret every tact key is derived from. Losing it
// loses all sealed data; leaking it leaks everything. Its String, GoString,
// Format and LogValue methods never print it; use Encode to write it out.
type RootSecret [32]byte

const redactedRoot = "RootSecret(redacted)"

// GenerateRootSecret returns a new random root secret.
func GenerateRootSecret() (RootSecret, error) {
	var r RootSecret
	if _, err := rand.Read(r[:]); err != nil {
		return RootSecret{}, fmt.Errorf("vault: generate root secret: %w", err)
	}
	return r, nil
}

// ParseRootSecret parses a root secret written as 64 hex characters or as
// base64 (standard or URL alphabet, padded or not) of exactly 32 bytes.
// Surrounding whitespace is ignored. Errors never contain the input.
func ParseRootSecret(s string) (RootSecret, error) {
	s = strings.TrimSpace(s)
	var r RootSecret
	if s == "" {
		return r, errors.New("vault: root secret is empty")
	}
	if len(s) == hex.EncodedLen(len(r)) {
		if b, err := hex.DecodeString(s); err == nil {
			copy(r[:], b)
			return r, nil
		}
		// 64 characters that are not hex may still be base64 of 48 bytes;
		// fall through so the error below names the real problem.
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != len(r) {
			return RootSecret{}, fmt.Errorf("vault: root secret decodes to %d bytes, want 32", len(b))
		}
		copy(r[:], b)
		return r, nil
	}
	return RootSecret{}, fmt.Errorf("vault: root secret is neither 64 hex characters nor base64 of 32 bytes (got %d characters)", len(s))
}

// String returns "RootSecret(redacted)".
func (r RootSecret) String() string { return redactedRoot }

// GoString returns "RootSecret(redacted)", so %#v cannot leak the secret.
func (r RootSecret) GoString() string { return redactedRoot }

// Format prints "RootSecret(redacted)" for every verb, so %x, %d or %v of
// the underlying array cannot leak the secret.
func (r RootSecret) Format(f fmt.State, _ rune) { io.WriteString(f, redactedRoot) }

// LogValue keeps the secret out of slog output.
func (r RootSecret) LogValue() slog.Value { return slog.StringValue(redactedRoot) }

// MarshalText always fails: a root secret must not end up in JSON, YAML or
// any other encoding by accident. Use Encode.
func (r RootSecret) MarshalText() ([]byte, error) {
	return nil, errors.New("vault: refusing to marshal the root secret; use Encode")
}

// Encode returns the secret as 64 lower-case hex characters, for the file.
func (r RootSecret) Encode() string { return hex.EncodeToString(r[:]) }

// maxRootFile bounds how much of a root secret file is read.
const maxRootFile = 4096

// LoadOrCreateRootSecret reads the root secret from path (in any form
// ParseRootSecret accepts). If the file does not exist it generates a
// secret, writes it atomically with mode 0600 and reports created=true.
// A file readable or writable by group or others is refused.
func LoadOrCreateRootSecret(path string) (RootSecret, bool, error) {
	r, err := readRootSecret(path)
	if err == nil {
		return r, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return RootSecret{}, false, err
	}
	r, err = GenerateRootSecret()
	if err != nil {
		return RootSecret{}, false, err
	}
	switch err := writeNewFile(path, []byte(r.Encode()+"\n")); {
	case errors.Is(err, fs.ErrExist):
		// Another process created it first: use theirs, never overwrite.
		r, err := readRootSecret(path)
		return r, false, err
	case err != nil:
		return RootSecret{}, false, err
	}
	return r, true, nil
}

func readRootSecret(path string) (RootSecret, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return RootSecret{}, err
		}
		return RootSecret{}, fmt.Errorf("vault: open root secret file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return RootSecret{}, fmt.Errorf("vault: stat root secret file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return RootSecret{}, fmt.Errorf("vault: root secret file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return RootSecret{}, fmt.Errorf("vault: root secret file %s has mode %04o; it must not be accessible to group or others (chmod 600)", path, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxRootFile+1))
	if err != nil {
		return RootSecret{}, fmt.Errorf("vault: read root secret file: %w", err)
	}
	if len(b) > maxRootFile {
		return RootSecret{}, fmt.Errorf("vault: root secret file %s is too large", path)
	}
	r, err := ParseRootSecret(string(b))
	if err != nil {
		return RootSecret{}, fmt.Errorf("%w (file %s)", err, path)
	}
	return r, nil
}

// writeNewFile writes data to path with mode 0600 so that the file appears
// complete or not at all: temp file, fsync, link into place (which, unlike
// rename, never replaces a file another process created meanwhile), fsync
// of the directory. It returns an error wrapping fs.ErrExist if path exists.
func writeNewFile(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("vault: create directory for root secret: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("vault: create root secret file: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		os.Remove(tmpName)
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("vault: chmod root secret file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("vault: write root secret file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("vault: sync root secret file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		tmp = nil
		return fmt.Errorf("vault: close root secret file: %w", err)
	}
	tmp = nil
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// Some file systems have no hard links; fall back to rename after
		// checking again that nothing is in the way.
		if _, statErr := os.Lstat(path); statErr == nil {
			return fs.ErrExist
		}
		if err := os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("vault: install root secret file: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("vault: sync directory of root secret file: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for sync there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
