package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"

	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/marketing"
)

func newProgress(env *Env, quiet bool, desc string) (marketing.Progress, func()) {
	if quiet {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription(desc),
					progressbar.OptionThrottle(200_000_000), progressbar.OptionClearOnFinish())
			}
			bar.Set(done)
		}, func() {
			if bar != nil {
				bar.Finish()
			}
		}
}

// openMarketing opens tact with its audiences evaluated from the stored
// events (a command runs beside a serving node on the same store).
func openMarketing(ctx context.Context, sf *storeFlags) (*app.App, error) {
	a, err := sf.open(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.Marketing.Load(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

const audiencesUsage = `audiences create FILE.json | list | show ID | export ID --destination DEST [--format csv|jsonl] [--out FILE]`

func runAudiences(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "audiences", audiencesUsage)
	var sf storeFlags
	sf.register(fs, env)
	dest := fs.String("destination", "", "the file destination an export is for (its recipient, purpose and fields)")
	format := fs.String("format", "jsonl", "export format: csv or jsonl")
	out := fs.String("out", "", "export file (default: stdout)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("usage: tact %s", audiencesUsage)
	}
	switch {
	case pos[0] == "create" && len(pos) == 2:
		raw, err := os.ReadFile(pos[1])
		if err != nil {
			return err
		}
		a, err := openMarketing(ctx, &sf)
		if err != nil {
			return err
		}
		defer a.Close()
		info, created, err := a.Marketing.Create(ctx, raw, "cli")
		if err != nil {
			return err
		}
		verb := "unchanged"
		if created {
			verb = "saved"
		}
		fmt.Fprintf(env.Stdout, "audience %s v%d %s: %d members\n", info.ID, info.Version, verb, info.Size)
		return nil
	case pos[0] == "list" && len(pos) == 1:
		a, err := openMarketing(ctx, &sf)
		if err != nil {
			return err
		}
		defer a.Close()
		all, err := a.Marketing.Audiences(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tVERSION\tPURPOSE\tMEMBERS\tNAME")
		for _, x := range all {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", x.ID, x.Version, x.Purpose, x.Size, x.Name)
		}
		return tw.Flush()
	case pos[0] == "show" && len(pos) == 2:
		a, err := openMarketing(ctx, &sf)
		if err != nil {
			return err
		}
		defer a.Close()
		info, err := a.Marketing.Audience(ctx, pos[1])
		if err != nil {
			return err
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	case pos[0] == "export" && len(pos) == 2:
		if *dest == "" {
			return usageErr("export needs --destination: a file destination names the recipient, purpose and fields (tact destinations add)")
		}
		a, err := openMarketing(ctx, &sf)
		if err != nil {
			return err
		}
		defer a.Close()
		var w io.Writer = env.Stdout
		var f *os.File
		if *out != "" {
			if f, err = os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
				return err
			}
			w = f
		}
		progress, finish := newProgress(env, *quiet || *out == "", "exporting "+pos[1])
		res, err := a.Marketing.Export(ctx, pos[1], *dest, *format, w, progress)
		finish()
		if f != nil {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(*out)
			} else if serr := syncFile(*out); serr != nil {
				return serr
			}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "exported %d members of %s v%d for %s\n", res.Members, res.Audience, res.Version, res.Destination)
		return nil
	}
	return usageErr("usage: tact %s", audiencesUsage)
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

const destinationsUsage = `destinations add ID --kind webhook|file [--url URL] --recipient R --purpose P [--field F …] | list | test ID | sync ID --audience A`

func runDestinations(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "destinations", destinationsUsage)
	var sf storeFlags
	sf.register(fs, env)
	kind := fs.String("kind", "webhook", "webhook or file")
	url := fs.String("url", "", "the webhook's https URL")
	recipient := fs.String("recipient", "", "the data map recipient this destination is (role, country, transfer)")
	purpose := fs.String("purpose", "", "marketing_email, marketing_sms or advertising")
	name := fs.String("name", "", "a display name")
	var fields stringList
	fs.Var(&fields, "field", "a field the destination receives (repeatable): pseudonym, email, email_sha256, unsubscribe_url, locale")
	aud := fs.String("audience", "", "the audience a sync sends")
	quiet := fs.Bool("quiet", false, "no progress bar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("usage: tact %s", destinationsUsage)
	}
	switch {
	case pos[0] == "add" && len(pos) == 2:
		a, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer a.Close()
		d, secret, err := a.Marketing.AddDestination(ctx, marketing.Destination{ID: pos[1], Name: *name, Kind: *kind, URL: *url,
			Recipient: *recipient, Purpose: *purpose, Fields: fields})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "destination %s (%s, %s for %s) receives: %s\n", d.ID, d.Kind, d.Recipient, d.Purpose, strings.Join(d.Fields, ", "))
		if secret != "" {
			fmt.Fprintln(env.Stderr, "signing secret (verify the Tact-Signature header with it):")
			fmt.Fprintln(env.Stdout, secret)
		}
		return nil
	case pos[0] == "list" && len(pos) == 1:
		a, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer a.Close()
		all, err := a.Marketing.Destinations(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tRECIPIENT\tPURPOSE\tPENDING\tDELIVERED\tDEAD\tPROPAGATIONS OPEN\tOVERDUE")
		for _, d := range all {
			c := d.Counts
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", d.ID, d.Kind, d.Recipient, d.Purpose, c.Pending, c.Delivered, c.Dead, c.PropagationsPending, c.PropagationsOverdue)
		}
		return tw.Flush()
	case pos[0] == "test" && len(pos) == 2:
		a, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer a.Close()
		status, err := a.Marketing.Test(ctx, pos[1])
		if err != nil {
			return fmt.Errorf("test delivery to %s failed (HTTP %d): %w", pos[1], status, err)
		}
		fmt.Fprintf(env.Stdout, "delivered: HTTP %d\n", status)
		if status < 200 || status > 299 {
			return &exitError{code: 1}
		}
		return nil
	case pos[0] == "sync" && len(pos) == 2:
		if *aud == "" {
			return usageErr("sync needs --audience")
		}
		a, err := openMarketing(ctx, &sf)
		if err != nil {
			return err
		}
		defer a.Close()
		progress, finish := newProgress(env, *quiet, "syncing "+*aud+" to "+pos[1])
		res, err := a.Marketing.Sync(ctx, *aud, pos[1], progress)
		finish()
		if err != nil {
			return err
		}
		sent, failed, err := a.Marketing.Sender.RunOnce(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s v%d → %s: %d members, %d added, %d removed; %d deliveries sent now, %d to be retried\n",
			res.Audience, res.Version, res.Destination, res.Members, res.Added, res.Removed, sent, failed)
		return nil
	}
	return usageErr("usage: tact %s", destinationsUsage)
}
