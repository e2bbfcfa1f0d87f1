package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/schollz/progressbar/v3"

	"github.com/tact-cdp/tact/internal/consent"
)

func runLedger(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "ledger", "ledger verify [--data DIR | --database URL]")
	var sf storeFlags
	sf.register(fs, env)
	quiet := fs.Bool("quiet", false, "no progress bar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "verify" {
		return usageErr("usage: tact ledger verify")
	}
	a, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	size, err := a.Store.Ledger().Size(ctx)
	if err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	if !*quiet && size > 0 {
		bar = progressbar.NewOptions64(size, progressbar.OptionSetWriter(env.Stderr),
			progressbar.OptionSetDescription("verifying receipts"), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200_000_000), progressbar.OptionClearOnFinish())
	}
	rep, err := a.Ledger.Verify(ctx, func(n int64) {
		if bar != nil {
			bar.Set64(min(n, size))
		}
	})
	if bar != nil {
		bar.Finish()
	}
	var ve *consent.VerifyError
	if errors.As(err, &ve) {
		return &exitError{code: 1, msg: "ledger verify: FAILED at " + ve.Error()}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "ledger OK: %d receipts (%d of erased shoppers), %d checkpoints verified\n", rep.Leaves, rep.Erased, rep.Checkpoints)
	return nil
}
