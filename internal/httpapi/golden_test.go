package httpapi_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// normalizers replace what differs from run to run (ids, times, keyed
// pseudonyms) with stable placeholders, numbered by first appearance so that
// the golden still shows which values are the same.
var normalizers = []struct {
	re   *regexp.Regexp
	name string
}{
	{regexp.MustCompile(`req_[a-z2-7]{26}`), "request"},
	{regexp.MustCompile(`rc_[a-z2-7]{32}`), "receipt"},
	{regexp.MustCompile(`msg-\d+`), "message"},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z`), ""},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? UTC`), ""},
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "pseudonym"},
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`), "date"},
}

func normalize(s string) string {
	for _, n := range normalizers {
		seen := map[string]string{}
		s = n.re.ReplaceAllStringFunc(s, func(m string) string {
			switch n.name {
			case "":
				return "<time>"
			case "date":
				return "<date>"
			}
			if p, ok := seen[m]; ok {
				return p
			}
			seen[m] = fmt.Sprintf("<%s-%d>", n.name, len(seen)+1)
			return seen[m]
		})
	}
	return s
}

// golden compares got, normalised, with testdata/golden/name; -update
// rewrites it.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	got = normalize(got)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		os.WriteFile(path+".got", []byte(got), 0o644)
		t.Errorf("%s differs from the golden file; the output is in %s.got (run with -update to accept it)", path, path)
	}
}
