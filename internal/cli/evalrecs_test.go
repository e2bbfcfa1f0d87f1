package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runEvalForTest(args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	err = runEval(context.Background(), &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, args)
	return out.String(), errb.String(), err
}

func TestEvalRecs(t *testing.T) {
	var b strings.Builder
	b.WriteString("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n")
	line := func(inv int, code string, date string, cust int) {
		fmt.Fprintf(&b, "%d,%s,ITEM %s,1,%s 10:00:00,1.25,%d.0,United Kingdom\n", inv, code, code, date, cust)
	}
	for c := range 5 {
		line(500000+c, "10000", "2011-01-01", 12000+c)
		line(500000+c, "10001", "2011-01-01", 12000+c)
	}
	line(500010, "10000", "2011-01-03", 12010)
	line(500011, "10001", "2011-01-20", 12010)
	path := filepath.Join(t.TempDir(), "orders.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	out, _, err := runEvalForTest("recs", "--orders", path, "--cutoff", "2011-01-10", "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cut-off 2011-01-10", "measured on 1 returning customers", "tact recommend  ", "item-kNN cosine"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Flags after the positional argument, and the progress on stderr.
	out, errOut, err := runEvalForTest("--orders", path, "recs", "--cutoff", "2011-01-10", "--k", "5")
	if err != nil || !strings.Contains(out, "NDCG@5") || !strings.Contains(errOut, "training") {
		t.Errorf("err %v\nstdout %s\nstderr %s", err, out, errOut)
	}

	for _, args := range [][]string{
		{"--orders", path, "--cutoff", "2011-01-10"},
		{"recs", "--cutoff", "2011-01-10"},
		{"recs", "--orders", path},
		{"recs", "--orders", path, "--cutoff", "10/01/2011"},
		{"recs", "--orders", path, "--cutoff", "2011-01-10", "--until", "2011-01-01"},
		{"recs", "--orders", path, "--cutoff", "2011-01-10", "--k", "0"},
	} {
		_, _, err := runEvalForTest(args...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	if _, _, err := runEvalForTest("recs", "--orders", path+".missing", "--cutoff", "2011-01-10", "--quiet"); err == nil {
		t.Error("a missing file was accepted")
	}
}
