package rights

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tact-cdp/tact/internal/vault"
)

// Journal is the erasure journal: a file outside the database, appended to
// (and synced) before an erasure touches the store, and replayed at start-up,
// so that restoring a backup taken before an erasure never brings the
// erased shopper back (DESIGN principle 6). It holds subject ids and
// pseudonyms only.
type Journal struct {
	mu   sync.Mutex
	path string
}

// JournalEntry is one erasure.
type JournalEntry struct {
	At         time.Time         `json:"at"`
	RequestID  string            `json:"request"`
	SubjectID  string            `json:"subject"`
	Identities []vault.Pseudonym `json:"identities"` // identity pseudonyms, suppressed after the erasure
	Until      time.Time         `json:"until"`      // end of the suppression
}

// OpenJournal returns the journal at path (created on first append).
func OpenJournal(path string) *Journal { return &Journal{path: path} }

// Path is where the journal lives.
func (j *Journal) Path() string { return j.path }

// Append writes e durably.
func (j *Journal) Append(e JournalEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(j.path), 0o700); err != nil {
		return fmt.Errorf("erasure journal: %w", err)
	}
	f, err := os.OpenFile(j.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("erasure journal: %w", err)
	}
	// A crash during an earlier append may have left a torn line: end it,
	// so that this entry starts on a line of its own.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if r, err := os.Open(j.path); err == nil {
			_, err = r.ReadAt(last, st.Size()-1)
			r.Close()
			if err == nil && last[0] != '\n' {
				line = append([]byte{'\n'}, line...)
			}
		}
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("erasure journal: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("erasure journal: %w", err)
	}
	return f.Close()
}

// Entries reads the journal. A torn last line (a crash while appending) is
// ignored: its erasure had not started.
func (j *Journal) Entries() ([]JournalEntry, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f, err := os.Open(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("erasure journal: %w", err)
	}
	defer f.Close()
	var out []JournalEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	var pending error
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		if pending != nil {
			// Lines after a bad one: the bad one was a torn append
			// that a later append ended (see Append).
			pending = nil
		}
		var e JournalEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.SubjectID == "" {
			pending = fmt.Errorf("erasure journal %s: line %d is damaged", j.path, line)
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("erasure journal: %w", err)
	}
	return out, nil
}
