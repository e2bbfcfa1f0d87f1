package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/datamap"
	"github.com/tact-cdp/tact/internal/httpapi"
	"github.com/tact-cdp/tact/internal/privacy"
	"github.com/tact-cdp/tact/internal/tactjs"
)

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "serve", "serve [--addr HOST:PORT] [--public-url URL] [--data DIR | --database URL]")
	var sf storeFlags
	sf.register(fs, env)
	addr := fs.String("addr", envOr(env, "TACT_ADDR", "127.0.0.1:8080"), "address to listen on (TACT_ADDR)")
	publicURL := fs.String("public-url", env.Getenv("TACT_PUBLIC_URL"), "URL where shoppers reach tact, used in links and as the ledger's name (TACT_PUBLIC_URL)")
	personalization := fs.Bool("personalization", env.Getenv("TACT_PERSONALIZATION") != "false", "learn interest profiles and recommendations from events stored for personalisation; false switches learning off (TACT_PERSONALIZATION)")
	shopName := fs.String("shop-name", env.Getenv("TACT_SHOP_NAME"), "the shop's name on the privacy center (TACT_SHOP_NAME)")
	accent := fs.String("privacy-accent", env.Getenv("TACT_PRIVACY_ACCENT"), "the privacy center's accent colour, #rrggbb (TACT_PRIVACY_ACCENT)")
	background := fs.String("privacy-background", env.Getenv("TACT_PRIVACY_BACKGROUND"), "the privacy center's background colour, #rrggbb (TACT_PRIVACY_BACKGROUND)")
	smtpURL := fs.String("smtp", env.Getenv("TACT_SMTP"), "smtp://user:pass@host:port for mail; default: the local outbox (TACT_SMTP)")
	logLevel := fs.String("log-level", envOr(env, "TACT_LOG_LEVEL", "info"), "debug, info, warn or error (TACT_LOG_LEVEL)")
	tokenTTL := fs.Duration("subject-token-ttl", envDuration(env, "TACT_SUBJECT_TOKEN_TTL", 24*time.Hour), "lifetime of a browser's subject token; each consent decision rotates it (TACT_SUBJECT_TOKEN_TTL)")
	rateIP := fs.Int("rate-limit-ip", envInt(env, "TACT_RATE_LIMIT_IP", 50), "write requests per second allowed from one client IP (0: no limit) (TACT_RATE_LIMIT_IP)")
	rateKey := fs.Int("rate-limit-key", envInt(env, "TACT_RATE_LIMIT_KEY", 1000), "event requests per second allowed per write key (0: no limit; server keys are not limited) (TACT_RATE_LIMIT_KEY)")
	reqEmail := fs.Int("request-limit-email", envInt(env, "TACT_REQUEST_LIMIT_EMAIL", httpapi.DefaultRequestLimits.PerEmail), "rights requests per hour for one email address (0: no limit) (TACT_REQUEST_LIMIT_EMAIL)")
	reqIP := fs.Int("request-limit-ip", envInt(env, "TACT_REQUEST_LIMIT_IP", httpapi.DefaultRequestLimits.PerIP), "rights requests per hour from one client IP (0: no limit) (TACT_REQUEST_LIMIT_IP)")
	reqKey := fs.Int("request-limit-key", envInt(env, "TACT_REQUEST_LIMIT_KEY", httpapi.DefaultRequestLimits.PerKey), "rights requests per hour per write or server key (0: no limit) (TACT_REQUEST_LIMIT_KEY)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for performance work)")
	memProfile := fs.String("memprofile", "", "write a heap profile to this file when tact stops (for performance work)")
	var proxies stringList
	if v := env.Getenv("TACT_TRUSTED_PROXIES"); v != "" {
		proxies = strings.Split(v, ",")
	}
	fs.Var(&proxies, "trusted-proxy", "CIDR of a reverse proxy whose X-Forwarded-For is believed; repeatable (TACT_TRUSTED_PROXIES, comma-separated). Without it, every shopper behind a proxy shares the proxy's rate limit")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var trusted []netip.Prefix
	for _, p := range proxies {
		pfx, err := netip.ParsePrefix(strings.TrimSpace(p))
		if err != nil {
			if a, aerr := netip.ParseAddr(strings.TrimSpace(p)); aerr == nil {
				pfx = netip.PrefixFrom(a, a.BitLen())
			} else {
				return usageErr("--trusted-proxy %q is not a CIDR or an IP address", p)
			}
		}
		trusted = append(trusted, pfx)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageErr("--log-level must be debug, info, warn or error")
	}
	log := slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	sf.cfg.PublicURL = *publicURL
	sf.cfg.TokenTTL = *tokenTTL
	sf.cfg.SMTP = *smtpURL
	sf.cfg.NoPersonalization = !*personalization

	if env.Getenv("GOGC") == "" {
		// Ingest allocates quickly and the heap goal is a multiple of the
		// live heap: at Go's default of 100, tact at 50,000 events/s peaked
		// at ~320 MB RSS; at 60, ~290 MB with the same throughput
		// (docs/benchmarks.md). GOGC, when set, wins.
		debug.SetGCPercent(defaultGCPercent)
	}
	if env.Getenv("GOMAXPROCS") == "" {
		// More Ps than CPUs hands part of the time slicing to the kernel,
		// which runs a thread woken from I/O soon (the group-commit writer
		// after its fsync, a handler after its commit) instead of queueing
		// it behind goroutines that decode for milliseconds. At twice the
		// CPUs p99 at batch 100 fell from ~130 ms to ~85 ms and events/s
		// rose ~6 % (docs/benchmarks.md). GOMAXPROCS, when set, wins.
		runtime.GOMAXPROCS(serveProcs(runtime.GOMAXPROCS(0), runtime.NumCPU()))
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	a, err := app.Open(ctx, sf.cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	defer writeHeapProfile(*memProfile, log)
	if a.Created {
		log.Info("generated a new root secret", "file", sf.cfg.DataDir+"/root.key")
	}
	// One process serves an SQLite store: leases on requests left by a
	// previous run (killed mid-erasure) are its own, so work resumes now.
	if a.Store.Dialect() == "sqlite" {
		if err := a.Store.Requests().ReleaseLeases(ctx); err != nil {
			return err
		}
	}
	// A backup restored after an erasure must not serve the erased
	// shopper: the journal is replayed before anything is served.
	if n, err := a.Rights.Replay(ctx); err != nil {
		return fmt.Errorf("replaying the erasure journal: %w", err)
	} else if n > 0 {
		log.Warn("erasure journal replayed: the store held erased shoppers (restored from a backup?)", "erased_again", n)
	}
	if a.Mailer == nil {
		log.Info("no --smtp given: mail is kept in the outbox (tact outbox list)")
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	var ready atomic.Bool
	ready.Store(true)
	api := &httpapi.Server{
		Log: log, Store: a.Store, Auth: a.Auth, Consent: a.Consent, Collect: a.Collect, Measure: a.Measure, Ledger: a.Ledger,
		DataMap:       func() *datamap.Map { return a.DataMap },
		SecureCookies: !strings.HasPrefix(*publicURL, "http://") || isLocal(*publicURL),
		TokenTTL:      *tokenTTL, GPCUpdated: gpcUpdated, Ready: ready.Load, PublicURL: *publicURL,
		RateLimitPerIP: *rateIP, RateLimitPerKey: *rateKey, TrustedProxies: trusted,
		Rights: a.Rights, Catalog: a.Catalog, Interests: a.Interests, Personalize: a.Personalize, OptIn: a.OptIn, Marketing: a.Marketing, RequestLimits: httpapi.RequestLimits{PerEmail: *reqEmail, PerIP: *reqIP, PerKey: *reqKey},
	}
	center := &privacy.Center{
		Consent: a.Consent, DataMap: func() *datamap.Map { return a.DataMap }, Rights: a.Rights,
		Theme:         privacy.Theme{ShopName: *shopName, Accent: *accent, Background: *background},
		SecureCookies: api.SecureCookies, Log: log,
	}
	if !sf.cfg.NoPersonalization {
		center.Personalize, center.Interests = a.Personalize, a.Interests
	}
	if err := center.Check(); err != nil {
		return usageErr("%v", err)
	}
	api.PrivacyCenter = center.Handler()
	api.Script = tactjs.Handler()
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	jobs, cancelJobs := context.WithCancel(context.Background())
	defer cancelJobs()
	jobsDone := make(chan struct{})
	go func() { a.RunJobs(jobs, log); close(jobsDone) }()

	where := "sqlite " + sf.cfg.DataDir
	if sf.cfg.Database != "" {
		where = "postgres"
	}
	fmt.Fprintf(env.Stdout, "tact listening on http://%s (store: %s)\n", ln.Addr(), where)
	log.Info("listening", "addr", ln.Addr().String(), "store", a.Store.Dialect())

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	// Stop taking traffic, finish in-flight requests (and so their commits),
	// cut a last checkpoint, then close the store after its queue drains.
	ready.Store(false)
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("shutdown", "err", err)
	}
	cancelJobs()
	<-jobsDone
	if _, err := a.Ledger.CutCheckpoint(sctx); err != nil {
		log.Error("final checkpoint", "err", err)
	}
	return nil
}

// gpcUpdated is when tact's GPC stance (honoured as an opt-out of sale,
// sharing and targeted advertising) last changed.
var gpcUpdated = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

func isLocal(u string) bool {
	return strings.Contains(u, "://localhost") || strings.Contains(u, "://127.0.0.1") || strings.Contains(u, "://[::1]")
}

// serveProcs is the GOMAXPROCS tact serve runs with, given Go's default
// and the CPUs it may run on: twice the default, unless the default is
// below the CPUs because a cgroup CPU quota lowered it. Under a quota, more
// threads than the quota would spend it early in each period and be
// throttled for the rest, which is worse for latency than Go's scheduling.
func serveProcs(goDefault, cpus int) int {
	if goDefault < cpus {
		return goDefault
	}
	return 2 * goDefault
}

// defaultGCPercent is the GOGC tact serve runs with unless GOGC is set.
const defaultGCPercent = 60
