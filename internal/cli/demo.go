package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tact-cdp/tact/internal/app"
	"github.com/tact-cdp/tact/internal/demo"
	"github.com/tact-cdp/tact/internal/recommend/eval"
)

// defaultOrders is where the demo looks for the Online Retail history.
const defaultOrders = "../shared/data/online-retail/online-retail-train.csv.gz"

// runDemo starts tact and the demo shop on two loopback origins: the shop's
// pages use tact.js, send e-commerce events and show recommendations. With
// the Online Retail history at hand its best sellers make the catalogue and
// its customers' orders (with a personalisation consent each) seed the
// recommendations.
func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "demo", "demo [--data DIR] [--addr 127.0.0.1:8080] [--shop-addr 127.0.0.1:8081] [--orders FILE] [--products 40]")
	data := fs.String("data", envOr(env, "TACT_DEMO_DATA", "tact-demo-data"), "data directory of the demo's own tact (TACT_DEMO_DATA)")
	addr := fs.String("addr", "127.0.0.1:8080", "tact's address")
	shopAddr := fs.String("shop-addr", "127.0.0.1:8081", "the shop's address (another origin)")
	orders := fs.String("orders", "", "Online Retail CSV for products and seed orders (default "+defaultOrders+" when present)")
	nProducts := fs.Int("products", 40, "products in the shop")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *nProducts < 1 || *nProducts > 1000 {
		return usageErr("--products must be between 1 and 1000")
	}
	if *orders == "" {
		if _, err := os.Stat(defaultOrders); err == nil {
			*orders = defaultOrders
		}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a, err := app.Open(ctx, app.Config{DataDir: *data, PublicURL: "http://" + *addr})
	if err != nil {
		return err
	}
	defer a.Close()
	tactLn, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	shopLn, err := net.Listen("tcp", *shopAddr)
	if err != nil {
		tactLn.Close()
		return fmt.Errorf("listening on %s: %w", *shopAddr, err)
	}
	products := demo.Products(*orders, *nProducts)
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := demo.Start(ctx, a, tactLn, shopLn, products, log)
	if err != nil {
		return err
	}
	defer st.Close()
	// Seed once per data directory, after the catalogue is in: the orders
	// are stored (and learnt) like any events.
	marker := filepath.Join(*data, "demo-seeded")
	if _, err := os.Stat(marker); err != nil && *orders != "" {
		o, err := eval.LoadFile(*orders, nil)
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, p := range products {
			keep[p.ID] = true
		}
		n, lines, err := storeOrders(ctx, env, a, o, keep)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "seeded %d orders (%d lines) of customers who consented to personalisation\n", n, lines)
		if err := os.WriteFile(marker, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o600); err != nil {
			return err
		}
	}
	jobs, cancelJobs := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	go func() { a.RunJobs(jobs, log); close(jobsDone) }()
	fmt.Fprintf(env.Stdout, "demo shop: %s   (English; add ?lang=zh-CN for Chinese)\ntact:      %s   (privacy center: %s/privacy)\nPress Ctrl-C to stop.\n",
		st.ShopURL, st.TactURL, st.TactURL)
	<-ctx.Done()
	cancelJobs()
	<-jobsDone
	return nil
}
