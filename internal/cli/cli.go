// Package cli is tact's command line (DESIGN 5.6): every command takes
// --data or --database (also TACT_DATA / TACT_DATABASE), flags may come
// before or after positional arguments, and a command's own output goes to
// stdout (secrets alone on their line) while progress and diagnostics go to
// stderr.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tact-cdp/tact"
	"github.com/tact-cdp/tact/internal/app"
)

// Env is the outside world of a command.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the HTTP server", runServe},
		{"migrate", "create or upgrade the store", runMigrate},
		{"ledger", "ledger verify: check every receipt, the tree and every checkpoint", runLedger},
		{"datamap", "datamap show|check|ropa: the data map, its validation, the record of processing", runDatamap},
		{"keys", "keys create|list|revoke: write, server and user-hash keys", runKeys},
		{"tokens", "tokens create|list|revoke: admin tokens with roles", runTokens},
		{"import", "import FILE.jsonl --source NAME: historical events, judged by the consent records in the file", runImport},
		{"catalog", "catalog import FILE: products (CSV or JSONL) for recommendations", runCatalog},
		{"requests", "requests list|show|extend|deny: data subject requests and their deadlines", runRequests},
		{"outbox", "outbox list|show: mail kept locally (when no --smtp is given)", runOutbox},
		{"audiences", "audiences create|list|show|export: marketing audiences of consenting shoppers", runAudiences},
		{"destinations", "destinations add|list|test|sync: webhook and file destinations of audiences", runDestinations},
		{"audit", "audit verify: check the hash chain of the access audit log", runAudit},
		{"eval", "eval recs --orders FILE --cutoff DATE: offline evaluation of recommendations against baselines", runEval},
		{"bench", "bench consent|ingest|purge|recs|ledger: whole-system benchmarks", runBench},
		{"demo", "demo: tact and a demo shop on two loopback origins (open the shop in a browser)", runDemo},
	}
}

// exitError carries an exit code with its message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// Main runs tact with args (without the program name) and returns the exit
// code.
func Main(ctx context.Context, args []string, env *Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintln(env.Stderr, ee.msg)
			}
			return ee.code
		}
		fmt.Fprintf(env.Stderr, "tact %s: %s\n", c.name, describe(err))
		return 1
	}
	fmt.Fprintf(env.Stderr, "tact: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return 2
}

func describe(err error) string {
	if c := tact.ErrorCode(err); c != tact.EINTERNAL {
		return tact.ErrorMessage(err)
	}
	return err.Error()
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: tact <command> [flags] [arguments]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --data DIR (default ./tact-data; TACT_DATA) or --database postgres://… (TACT_DATABASE).\nRun 'tact <command> -h' for its flags.")
}

// storeFlags are the flags every command that opens tact shares.
type storeFlags struct {
	cfg app.Config
}

func (s *storeFlags) register(fs *flag.FlagSet, env *Env) {
	fs.StringVar(&s.cfg.DataDir, "data", envOr(env, "TACT_DATA", "tact-data"), "data directory: the SQLite store and the root secret (TACT_DATA)")
	fs.StringVar(&s.cfg.Database, "database", env.Getenv("TACT_DATABASE"), "PostgreSQL URL postgres://… instead of the embedded SQLite store (TACT_DATABASE)")
	fs.StringVar(&s.cfg.RootSecretFile, "root-secret-file", env.Getenv("TACT_ROOT_SECRET_FILE"), "file holding the root secret (TACT_ROOT_SECRET_FILE; TACT_ROOT_SECRET holds it directly); default DATA/root.key, created on first start")
	fs.StringVar(&s.cfg.DataMapFile, "datamap", env.Getenv("TACT_DATAMAP"), "JSON file overriding the built-in data map (TACT_DATAMAP)")
	s.cfg.RootSecret = env.Getenv("TACT_ROOT_SECRET")
}

func (s *storeFlags) open(ctx context.Context) (*app.App, error) {
	return app.Open(ctx, s.cfg)
}

func envOr(env *Env, key, def string) string {
	if v := env.Getenv(key); v != "" {
		return v
	}
	return def
}

func envInt(env *Env, key string, def int) int {
	if v := env.Getenv(key); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func envDuration(env *Env, key string, def time.Duration) time.Duration {
	if v := env.Getenv(key); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// parse parses flags that may come before or after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(env *Env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: tact %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func usageErr(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func sortedKeys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func runMigrate(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "migrate", "migrate [--data DIR | --database URL]")
	var sf storeFlags
	sf.register(fs, env)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	a, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(env.Stderr, "store is up to date (%s)\n", a.Store.Dialect())
	return nil
}
