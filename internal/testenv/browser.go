package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// BrowserPath returns the Chromium to drive browser tests with: the binary
// named by TACT_CHROMIUM, or chromium, chromium-browser or google-chrome on
// the PATH. Without one the test skips with a message naming its package
// (bash .ci/run installs Debian's chromium), or fails under CI.
func BrowserPath(t testing.TB, pkg string) string {
	t.Helper()
	if p := os.Getenv("TACT_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		t.Fatalf("TACT_CHROMIUM=%s: no such file", p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	SkipOrFail(t, pkg+": browser tests need Chromium (apt-get install chromium, or set TACT_CHROMIUM; bash .ci/run installs it)")
	return ""
}
