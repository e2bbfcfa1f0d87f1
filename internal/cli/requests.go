package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/tact-cdp/tact/internal/audit"
	"github.com/tact-cdp/tact/internal/rights"
	"github.com/tact-cdp/tact/internal/vault"
)

func runRequests(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "requests", "requests list [--overdue] | show ID | extend ID --days N --reason TEXT | deny ID --reason TEXT")
	var sf storeFlags
	sf.register(fs, env)
	overdue := fs.Bool("overdue", false, "list: only open requests past their due date")
	all := fs.Bool("all", false, "list: closed requests too")
	days := fs.Int("days", 0, "extend: how many days")
	reason := fs.String("reason", "", "extend, deny: the reason the shopper is told")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("usage: tact requests list [--overdue] | show ID | extend ID --days N --reason TEXT | deny ID --reason TEXT")
	}
	need := map[string]int{"list": 1, "show": 2, "extend": 2, "deny": 2}
	if n, ok := need[pos[0]]; !ok || len(pos) != n {
		return usageErr("usage: tact requests list [--overdue] | show ID | extend ID --days N --reason TEXT | deny ID --reason TEXT")
	}
	a, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	rs := a.Rights
	now := time.Now()
	switch pos[0] {
	case "list":
		f := rights.Filter{Open: !*all || *overdue, Limit: 10000}
		if *overdue {
			f.DueBefore = now
		}
		list, err := a.Store.Requests().Requests(ctx, f)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTYPE\tSTATUS\tREGIME\tRECEIVED\tDUE\tOVERDUE")
		for _, r := range list {
			late := ""
			if rights.Overdue(r, now) {
				late = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Type, r.Status, r.Regime,
				r.ReceivedAt.Format(time.DateOnly), r.DueAt.Format(time.DateOnly), late)
		}
		return tw.Flush()
	case "show":
		r, err := a.Store.Requests().Request(ctx, pos[1])
		if err != nil {
			return err
		}
		// The contact is personal data: the read is on record first.
		if err := a.Store.AppendAudit(ctx, audit.Entry{At: now, Actor: cliActor(env), Role: "operator", Purpose: "dsr",
			Action: "requests.show", Subject: a.Vault.Pseudonym(vault.UseAudit, "request", r.ID), Fields: "contact(masked)"}); err != nil {
			return err
		}
		contact, err := rs.MaskedContact(ctx, r)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		row := func(k, v string) {
			if v != "" {
				fmt.Fprintf(tw, "%s\t%s\n", k, v)
			}
		}
		ts := func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Format(time.RFC3339)
		}
		row("id", r.ID)
		row("type", string(r.Type))
		row("status", string(r.Status))
		row("regime", r.Regime)
		row("scope", string(r.Scope))
		row("verified by", r.VerifiedBy)
		row("contact", contact)
		row("received", ts(r.ReceivedAt))
		row("due", ts(r.DueAt))
		if !r.FirstDueAt.Equal(r.DueAt) {
			row("first due", ts(r.FirstDueAt))
		}
		row("paused since", ts(r.PausedAt))
		row("verified", ts(r.VerifiedAt))
		row("completed", ts(r.CompletedAt))
		row("extension reason", r.ExtensionReason)
		row("denial reason", r.DenialReason)
		row("outcome", string(r.Outcome))
		if rights.Overdue(r, now) {
			row("OVERDUE", "yes")
		}
		tw.Flush()
		log, err := a.Store.Requests().RequestLog(ctx, r.ID)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, "\nhistory:")
		for _, e := range log {
			fmt.Fprintf(env.Stdout, "  %s  %-21s %s\n", e.At.Format(time.RFC3339), e.Status, e.Note)
		}
		return nil
	case "extend":
		r, err := rs.Extend(ctx, pos[1], *days, *reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s now due %s; the shopper is told why\n", r.ID, r.DueAt.Format(time.RFC3339))
		return nil
	default:
		r, err := rs.Deny(ctx, pos[1], *reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s denied; the shopper is told why and where to complain\n", r.ID)
		return nil
	}
}

func cliActor(env *Env) string {
	u := env.Getenv("USER")
	if u == "" {
		u = strconv.Itoa(os.Getuid())
	}
	return "cli:" + u
}

func runOutbox(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "outbox", "outbox list | show ID")
	var sf storeFlags
	sf.register(fs, env)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || (pos[0] == "list" && len(pos) != 1) || (pos[0] == "show" && len(pos) != 2) || (pos[0] != "list" && pos[0] != "show") {
		return usageErr("usage: tact outbox list | show ID")
	}
	a, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	st := a.Store.Requests()
	// Mail names and addresses people: reading it is on record.
	if err := a.Store.AppendAudit(ctx, audit.Entry{At: time.Now(), Actor: cliActor(env), Role: "operator", Purpose: "support",
		Action: "outbox." + pos[0], Subject: a.Vault.Pseudonym(vault.UseAudit, "outbox", strings.Join(pos[1:], "")), Fields: "to,subject,body"}); err != nil {
		return err
	}
	if pos[0] == "list" {
		mails, err := st.Outbox(ctx)
		if err != nil {
			return err
		}
		for _, m := range mails {
			l, err := a.Rights.OpenMail(ctx, m)
			if err != nil {
				l = rights.Letter{To: "(erased)", Subject: "(erased)"}
			}
			fmt.Fprintf(env.Stdout, "%s\t%s\t%s\t%s\n", m.ID, m.CreatedAt.Format(time.RFC3339), l.To, l.Subject)
		}
		return nil
	}
	m, err := st.Mail(ctx, pos[1])
	if err != nil {
		return err
	}
	l, err := a.Rights.OpenMail(ctx, m)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, l.Text)
	return nil
}

func runAudit(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "audit", "audit verify")
	var sf storeFlags
	sf.register(fs, env)
	quiet := fs.Bool("quiet", false, "no progress bar")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "verify" {
		return usageErr("usage: tact audit verify")
	}
	a, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	var bar *progressbar.ProgressBar
	if !*quiet {
		bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("verifying the audit log"),
			progressbar.OptionShowCount(), progressbar.OptionThrottle(200_000_000), progressbar.OptionClearOnFinish())
	}
	n, err := a.Store.VerifyAudit(ctx, func(n int64) {
		if bar != nil {
			bar.Set64(n)
		}
	})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return &exitError{code: 1, msg: "audit verify: FAILED: " + err.Error()}
	}
	fmt.Fprintf(env.Stdout, "audit log OK: %d entries, hash chain intact\n", n)
	return nil
}
