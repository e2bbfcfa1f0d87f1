package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/collect/segment"
	"github.com/tact-cdp/tact/internal/consent"
	"github.com/tact-cdp/tact/internal/strictjson"
	"github.com/tact-cdp/tact/internal/vault"
)

// Import limits: a line is one event or one consent record.
const (
	maxImportLine  = segment.MaxEventBytes
	importChunk    = 400 << 10 // bytes of events per ingest call, under the request limit
	importSourceLn = 200
)

// importConsent is a consent record of an import file: a decision the shop
// holds evidence of, made at Timestamp.
type importConsent struct {
	Type        string          `json:"type"`
	UserID      string          `json:"userId"`
	AnonymousID string          `json:"anonymousId"`
	Email       string          `json:"email"`
	Choices     map[string]bool `json:"choices"`
	Timestamp   string          `json:"timestamp"`
}

type importEvidence struct {
	line int
	rec  importConsent
	at   time.Time
}

// runImport loads historical events (DESIGN principle 2): each event is
// judged at its own time against the consent records in the same file,
// which are first recorded as receipts (method import, with the declared
// source), oldest first.
func runImport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "import", "import FILE.jsonl --source NAME [--data DIR | --database URL]")
	var sf storeFlags
	sf.register(fs, env)
	source := fs.String("source", "", "where the events and consent records come from (recorded in every import receipt), e.g. \"onetrust export 2026-11\"")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("usage: tact import FILE.jsonl --source NAME")
	}
	if s := strings.TrimSpace(*source); s == "" || len(s) > importSourceLn {
		return usageErr("--source must name where the data comes from (1 to %d bytes)", importSourceLn)
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()

	// Pass 1: the consent records, recorded oldest first.
	evidence, events, err := scanImport(f)
	if err != nil {
		return err
	}
	sort.SliceStable(evidence, func(i, j int) bool { return evidence[i].at.Before(evidence[j].at) })
	timeline := collect.NewTimeline(a.Consent.Policy().ValidUntil)
	bar := newBar(env, len(evidence), "recording consent evidence")
	for _, ev := range evidence {
		res, err := a.Consent.Record(ctx, consent.Caller{Server: true, KeyID: "import"}, consent.Request{
			UserID: ev.rec.UserID, AnonymousID: ev.rec.AnonymousID, Email: ev.rec.Email,
			NoticeVersion: a.Policy.NoticeVersion, Choices: ev.rec.Choices, Method: consent.MethodImport,
			Evidence: map[string]string{"source": *source, "decided_at": ev.at.Format(time.RFC3339Nano)},
		})
		if err != nil {
			return fmt.Errorf("%s:%d: consent record: %v", pos[0], ev.line, describe(err))
		}
		for _, id := range []struct {
			kind vault.Kind
			raw  string
		}{{vault.KindUserID, ev.rec.UserID}, {vault.KindAnonymousID, ev.rec.AnonymousID}} {
			if v, err := vault.Normalize(id.kind, id.raw); err == nil && id.raw != "" {
				timeline.Add(collect.Evidence{Kind: id.kind, Value: v, DecidedAt: ev.at, Choices: ev.rec.Choices, ReceiptID: res.ReceiptID})
			}
		}
		bar.Add(1)
	}
	bar.Finish()
	fmt.Fprintln(env.Stderr)

	// Pass 2: the events, in chunks through the same gate as live traffic.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sum := importSummary{dropped: map[string]int{}}
	bar = newBar(env, events, "importing events")
	err = eachEventChunk(f, func(lines []int, body []byte) error {
		b, err := segment.DecodeBatch(body)
		if err != nil {
			return fmt.Errorf("%s: lines %d–%d: %v", pos[0], lines[0], lines[len(lines)-1], err)
		}
		res, err := a.Collect.Ingest(ctx, collect.Caller{Server: true, KeyID: "import:" + *source}, &b,
			collect.Request{ReceivedAt: time.Now(), Historical: timeline.At})
		if err != nil {
			return err
		}
		sum.add(res)
		for _, r := range res.Rejected {
			sum.rejectedLines = append(sum.rejectedLines, fmt.Sprintf("line %d: %s", lines[r.Index], r.Message))
		}
		bar.Add(len(lines))
		return nil
	})
	bar.Finish()
	fmt.Fprintln(env.Stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "consent records: %d recorded as receipts (method import, source %q)\n", len(evidence), *source)
	sum.print(env.Stdout, events)
	return nil
}

type importSummary struct {
	stored        int
	dropped       map[string]int
	rejectedLines []string
}

func (s *importSummary) add(r *collect.Result) {
	s.stored += r.Stored
	for k, n := range r.Dropped {
		s.dropped[k] += n
	}
}

func (s *importSummary) print(w io.Writer, events int) {
	fmt.Fprintf(w, "events: %d read, %d stored", events, s.stored)
	for _, k := range sortedKeys(s.dropped) {
		fmt.Fprintf(w, ", %d dropped (%s)", s.dropped[k], k)
	}
	fmt.Fprintln(w)
	for i, l := range s.rejectedLines {
		if i == 20 {
			fmt.Fprintf(w, "… and %d more rejected lines\n", len(s.rejectedLines)-20)
			break
		}
		fmt.Fprintln(w, "rejected", l)
	}
}

func newBar(env *Env, n int, what string) *progressbar.ProgressBar {
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond))
}

// scanImport reads every line once: it returns the consent records and
// counts the events. Any line that is not a JSON object is an error naming
// the line, before anything is written.
func scanImport(r io.Reader) ([]importEvidence, int, error) {
	var evidence []importEvidence
	events := 0
	err := eachLine(r, func(n int, line []byte) error {
		if !json.Valid(line) || line[0] != '{' {
			return fmt.Errorf("line %d: not a JSON object", n)
		}
		if err := strictjson.CheckDuplicates(line); err != nil {
			return fmt.Errorf("line %d: %v", n, err)
		}
		if lineType(line) != "consent" {
			events++
			return nil
		}
		var c importConsent
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return fmt.Errorf("line %d: consent record: %v", n, err)
		}
		at, err := time.Parse(time.RFC3339Nano, c.Timestamp)
		if err != nil {
			return fmt.Errorf("line %d: consent record: timestamp must be RFC 3339", n)
		}
		if at.After(time.Now()) {
			return fmt.Errorf("line %d: consent record: timestamp is in the future", n)
		}
		if c.UserID == "" && c.AnonymousID == "" {
			return fmt.Errorf("line %d: consent record: name the shopper with userId or anonymousId", n)
		}
		if len(c.Choices) == 0 {
			return fmt.Errorf("line %d: consent record: choices are empty", n)
		}
		evidence = append(evidence, importEvidence{line: n, rec: c, at: at.UTC()})
		return nil
	})
	return evidence, events, err
}

// lineType is the "type" member of a line ("consent" for consent records).
func lineType(line []byte) string {
	var head struct {
		Type string `json:"type"`
	}
	json.Unmarshal(line, &head)
	return head.Type
}

// eachLine calls fn with each non-blank line (1-based numbers).
func eachLine(r io.Reader, fn func(n int, line []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxImportLine+1)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(n, line); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return fmt.Errorf("line %d: longer than %d bytes (the limit of one event)", n+1, maxImportLine)
		}
		return err
	}
	return nil
}

// eachEventChunk groups event lines into batch bodies under the request
// limit; lines[i] is the file line of the batch's i-th event.
func eachEventChunk(r io.Reader, fn func(lines []int, body []byte) error) error {
	var lines []int
	body := []byte(`{"batch":[`)
	flush := func() error {
		if len(lines) == 0 {
			return nil
		}
		err := fn(lines, append(body, "]}"...))
		// A new buffer per chunk: decoded events share the old one's memory.
		lines, body = lines[:0], append(make([]byte, 0, cap(body)), `{"batch":[`...)
		return err
	}
	err := eachLine(r, func(n int, line []byte) error {
		if lineType(line) == "consent" {
			return nil
		}
		if len(body)+len(line) > importChunk {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(lines) > 0 {
			body = append(body, ',')
		}
		body = append(body, line...)
		lines = append(lines, n)
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}
