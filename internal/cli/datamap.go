package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tact-cdp/tact/internal/datamap"
)

func runDatamap(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "datamap", "datamap show|check|ropa [--datamap FILE] [--format markdown|json]")
	var sf storeFlags
	sf.register(fs, env)
	format := fs.String("format", "markdown", "ropa output: markdown or json")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("usage: tact datamap show|check|ropa")
	}
	m := datamap.Default()
	if sf.cfg.DataMapFile != "" {
		m, err = datamap.Load(sf.cfg.DataMapFile)
		if err != nil {
			return &exitError{code: 1, msg: "data map is invalid:\n" + err.Error()}
		}
	}
	switch pos[0] {
	case "check":
		src := "built-in defaults"
		if sf.cfg.DataMapFile != "" {
			src = sf.cfg.DataMapFile
		}
		fmt.Fprintf(env.Stdout, "data map OK (%s): %d purposes, %d data categories, %d recipients, %d regimes; notice version %s\n",
			src, len(m.Purposes), len(m.Categories), len(m.Recipients), len(m.Regimes), m.NoticeVersion())
	case "show":
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, string(b))
	case "ropa":
		switch *format {
		case "markdown", "md":
			fmt.Fprint(env.Stdout, m.ROPA().Markdown())
		case "json":
			b, err := json.MarshalIndent(m.ROPA(), "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintln(env.Stdout, string(b))
		default:
			return usageErr("--format must be markdown or json")
		}
	default:
		return usageErr("usage: tact datamap show|check|ropa")
	}
	return nil
}
