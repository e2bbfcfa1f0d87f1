package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"

	"github.com/tact-cdp/tact/internal/catalog"
)

func runCatalog(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "catalog", "catalog import FILE.csv|FILE.jsonl [--format csv|jsonl]")
	var sf storeFlags
	sf.register(fs, env)
	format := fs.String("format", "", "csv or jsonl (default: from the file name)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "import" {
		return usageErr("usage: tact catalog import FILE.csv|FILE.jsonl [--format csv|jsonl]\n  CSV columns: id, name, category (path, Home/Lamps), and optionally price, currency, available, sensitive, repeat_purchase")
	}
	f, err := os.Open(pos[1])
	if err != nil {
		return err
	}
	defer f.Close()
	if *format == "" {
		switch strings.ToLower(filepath.Ext(pos[1])) {
		case ".csv":
			*format = "csv"
		case ".jsonl", ".ndjson":
			*format = "jsonl"
		default:
			return usageErr("cannot tell the format of %s: name it .csv or .jsonl, or pass --format", pos[1])
		}
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	a, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	var in io.Reader = f
	var bar *progressbar.ProgressBar
	if !*quiet {
		bar = progressbar.NewOptions64(st.Size(), progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("importing "+filepath.Base(pos[1])),
			progressbar.OptionShowBytes(true), progressbar.OptionThrottle(200_000_000), progressbar.OptionClearOnFinish())
		r := progressbar.NewReader(f, bar)
		in = &r
	}
	var batch []catalog.Item
	total := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := a.Catalog.Put(ctx, catalog.SourceImport, batch...); err != nil {
			return err
		}
		total += len(batch)
		batch = batch[:0]
		return nil
	}
	bad, err := catalog.Parse(in, *format, func(it catalog.Item) error {
		batch = append(batch, it)
		if len(batch) == 1000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if bar != nil {
		bar.Finish()
	}
	for i, b := range bad {
		if i == 20 {
			fmt.Fprintf(env.Stderr, "… and %d more bad lines\n", len(bad)-20)
			break
		}
		fmt.Fprintf(env.Stderr, "%s: %v\n", pos[1], b)
	}
	if err != nil {
		return fmt.Errorf("after %d items: %w", total, err)
	}
	fmt.Fprintf(env.Stdout, "imported %d items (%d lines skipped)\n", total, len(bad))
	if len(bad) > 0 {
		return &exitError{code: 1}
	}
	return nil
}
