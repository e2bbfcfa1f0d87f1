package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tact-cdp/tact/internal/recommend/eval"
)

// runEval is `tact eval recs`: the offline evaluation of the
// recommendations on an order history (the Online Retail CSV), beside four
// baselines. It needs no store.
func runEval(ctx context.Context, env *Env, args []string) error {
	const synopsis = "eval recs --orders FILE.csv[.gz] --cutoff YYYY-MM-DD [--until YYYY-MM-DD] [--k 10]"
	fs := newFlagSet(env, "eval", synopsis)
	orders := fs.String("orders", "", "order history: the Online Retail CSV, gzip or plain")
	cutoff := fs.String("cutoff", "", "train on purchases before this date (UTC), test on the ones from it")
	until := fs.String("until", "", "end the test window before this date (default: the end of the history); tune on an earlier cut-off with --until at the final one")
	k := fs.Int("k", 10, "length of the recommendation lists measured")
	quiet := fs.Bool("quiet", false, "no progress bar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "recs" {
		return usageErr("usage: tact " + synopsis)
	}
	if *orders == "" || *cutoff == "" {
		return usageErr("tact eval recs: --orders and --cutoff are required\nusage: tact " + synopsis)
	}
	opt := eval.Options{K: *k}
	if opt.Cutoff, err = time.Parse(time.DateOnly, *cutoff); err != nil {
		return usageErr("tact eval recs: --cutoff %q is not a date YYYY-MM-DD", *cutoff)
	}
	if *until != "" {
		if opt.Until, err = time.Parse(time.DateOnly, *until); err != nil {
			return usageErr("tact eval recs: --until %q is not a date YYYY-MM-DD", *until)
		}
		if !opt.Until.After(opt.Cutoff) {
			return usageErr("tact eval recs: --until must be after --cutoff")
		}
	}
	if *k < 1 {
		return usageErr("tact eval recs: --k must be at least 1")
	}

	start := time.Now()
	var bar *progressbar.ProgressBar
	var progress func(read, size int64)
	if !*quiet {
		progress = func(read, size int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(size, progressbar.OptionSetWriter(env.Stderr),
					progressbar.OptionSetDescription("reading "+filepath.Base(*orders)), progressbar.OptionShowBytes(true),
					progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
			}
			bar.Set64(min(read, size))
		}
	}
	if opt.Data, err = eval.LoadFile(*orders, progress); err != nil {
		return err
	}
	if bar != nil {
		bar.Finish()
	}
	if !*quiet {
		fmt.Fprintf(env.Stderr, "%d purchases of %d customers read; training the model and the baselines, measuring…\n",
			len(opt.Data.Purchases), len(opt.Data.Customers))
	}
	t, err := eval.Run(ctx, opt)
	if err != nil {
		return err
	}
	if err := t.Print(env.Stdout); err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(env.Stderr, "done in %s\n", time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}
