package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/schollz/progressbar/v3"

	"github.com/tact-cdp/tact/internal/auth"
)

func runKeys(ctx context.Context, env *Env, args []string) error {
	return runCredentials(ctx, env, args, false)
}

func runTokens(ctx context.Context, env *Env, args []string) error {
	return runCredentials(ctx, env, args, true)
}

// runCredentials serves `tact keys` and `tact tokens`: create prints the new
// secret alone on stdout (it is shown only once); list never prints secrets.
func runCredentials(ctx context.Context, env *Env, args []string, admin bool) error {
	name := "keys"
	synopsis := "keys create --kind write|server|userhash [--name NAME] [--origin URL …] | keys list | keys revoke ID | keys rotate-kek"
	if admin {
		name = "tokens"
		synopsis = "tokens create --role " + strings.Join(auth.Roles, "|") + " [--name NAME] | tokens list | tokens revoke ID"
	}
	fs := newFlagSet(env, name, synopsis)
	var sf storeFlags
	sf.register(fs, env)
	kind := fs.String("kind", "", "write (public, for browsers), server (secret, for the shop's backend) or userhash (secret for userHash)")
	role := fs.String("role", "", "admin token role: "+strings.Join(auth.Roles, ", "))
	label := fs.String("name", "", "a name to recognise the credential by")
	var origins stringList
	fs.Var(&origins, "origin", "an origin (scheme://host[:port]) a write key may be used from in browsers; repeatable")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usageErr("usage: tact %s", synopsis)
	}
	switch pos[0] {
	case "create":
		k := *kind
		if admin {
			k = auth.KindAdmin
			if *role == "" {
				return usageErr("tact tokens create needs --role (%s)", strings.Join(auth.Roles, ", "))
			}
		} else if k == "" {
			return usageErr("tact keys create needs --kind write, server or userhash")
		} else if k == auth.KindAdmin {
			return usageErr("admin tokens are made with tact tokens create --role …")
		}
		a, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer a.Close()
		secret, c, err := a.Auth.Create(ctx, k, *label, *role, origins)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, secret)
		fmt.Fprintf(env.Stderr, "created %s %s; the secret above is shown only this once\n", describeKind(k, *role), c.ID)
	case "rotate-kek":
		if admin {
			return usageErr("usage: tact keys rotate-kek")
		}
		a, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer a.Close()
		bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("re-wrapping data keys"),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		version, err := a.RotateKEK(ctx, func(done, total int64) {
			bar.ChangeMax64(total)
			bar.Set64(done)
		})
		bar.Finish()
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "key-encryption key is now local-v%d; every data key is re-wrapped (restart running servers so new keys use it)\n", version)
	case "list":
		a, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer a.Close()
		creds, err := a.Store.Credentials(ctx, "")
		if err != nil {
			return err
		}
		for _, c := range creds {
			if (c.Kind == auth.KindAdmin) != admin {
				continue
			}
			fmt.Fprintf(env.Stdout, "%s\t%s\t%s\t%s\t%s\n", c.ID, kindOrRole(c.Kind, c.Role), c.CreatedAt.Format("2006-01-02T15:04:05Z"), c.Name, strings.Join(c.Origins, ","))
		}
	case "revoke":
		if len(pos) != 2 {
			return usageErr("usage: tact %s revoke ID", name)
		}
		a, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer a.Close()
		if err := a.Store.RevokeCredential(ctx, pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "revoked %s (cached copies expire within 5 seconds)\n", pos[1])
	default:
		return usageErr("usage: tact %s", synopsis)
	}
	return nil
}

func describeKind(kind, role string) string {
	switch kind {
	case auth.KindWrite:
		return "write key"
	case auth.KindServer:
		return "server key"
	case auth.KindUserHash:
		return "user-hash secret"
	}
	return role + " token"
}

func kindOrRole(kind, role string) string {
	if kind == auth.KindAdmin {
		return role
	}
	return kind
}
