package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tact-cdp/tact/internal/collect"
	"github.com/tact-cdp/tact/internal/measure"
)

// meter feeds collection's measurements to the in-memory aggregator.
type meter struct{ agg *measure.Aggregator }

func (m meter) Count(x collect.Measurement) {
	var k measure.Kind
	switch {
	case x.Type == "page" || x.Type == "screen":
		k = measure.Pageview
	case x.Type != "track":
		return
	case x.Event == "Product Viewed":
		k = measure.ProductView
	case x.Event == "Product Added":
		k = measure.AddToCart
	case x.Event == "Order Completed":
		k = measure.Order
	default:
		return
	}
	m.agg.Add(measure.Hit{At: x.At, Kind: k, Path: x.Path, ProductID: x.ProductID, Country: x.Country,
		Device: x.Device, RevenueCents: x.RevenueCents, Visitor: x.Visitor})
}

// Intervals of the background jobs.
const (
	measureFlushEvery = 10 * time.Second
	housekeepingEvery = time.Hour
	catalogFlushEvery = 5 * time.Second
)

// RightsEvery is how often rights requests are worked on and mail delivered.
var RightsEvery = 2 * time.Second

// FlushMeasurements writes the aggregated measurements to the store.
func (a *App) FlushMeasurements(ctx context.Context) error {
	return a.Store.AddMeasurements(ctx, a.Measure.Flush())
}

// RunJobs runs the background jobs of a serving node until ctx ends: the
// ledger's checkpoints, stripping withdrawn purposes, flushing measurement,
// forgetting messageIds after the dedup window and retention. On return the
// last measurements are flushed and the daily salts destroyed.
func (a *App) RunJobs(ctx context.Context, log *slog.Logger) {
	var wg sync.WaitGroup
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	run(func() { a.Ledger.Run(ctx, log) })
	run(func() { a.Collect.NewStripper().Run(ctx, log) })
	run(func() { a.Rights.Run(ctx, log, a.Mailer, RightsEvery) })
	if !a.Config.NoPersonalization {
		run(func() { a.Personalize.Run(ctx, log) })
	}
	run(func() {
		a.Marketing.Logf = func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) }
		a.OptIn.Logf = a.Marketing.Logf
		a.Marketing.Sender.Logf = func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }
		if err := a.Marketing.Start(ctx); err != nil {
			log.Error("audiences", "err", err)
		}
	})
	run(func() {
		// Items seen in events reach the catalogue, and interests the
		// profiles, within seconds; items flagged sensitive on other nodes
		// within a minute.
		t := time.NewTicker(catalogFlushEvery)
		defer t.Stop()
		for n := 1; ; n++ {
			select {
			case <-ctx.Done():
				if err := a.Catalog.Flush(context.Background()); err != nil {
					log.Error("catalogue", "err", err)
				}
				if err := a.Interests.Flush(context.Background()); err != nil {
					log.Error("interests", "err", err)
				}
				return
			case <-t.C:
			}
			if err := a.Catalog.Flush(ctx); err != nil && ctx.Err() == nil {
				log.Error("catalogue", "err", err)
			}
			if err := a.Interests.Flush(ctx); err != nil && ctx.Err() == nil {
				log.Error("interests", "err", err)
			}
			if n%12 == 0 {
				if err := a.Catalog.Load(ctx); err != nil && ctx.Err() == nil {
					log.Error("catalogue", "err", err)
				}
			}
		}
	})
	run(func() {
		a.Store.ListenSubjects(ctx, func(ids []string) {
			a.Collect.RemoteChanged(ids)
			a.Personalize.RemoteChanged(ids)
		}, func(msg string, err error) { log.Warn(msg, "err", err) })
	})
	run(func() {
		t := time.NewTicker(measureFlushEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := a.FlushMeasurements(ctx); err != nil && ctx.Err() == nil {
					log.Error("flushing measurements", "err", err)
				}
			}
		}
	})
	run(func() {
		t := time.NewTicker(housekeepingEvery)
		defer t.Stop()
		for {
			if err := a.Housekeeping(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Error("housekeeping", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	wg.Wait()
	fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.FlushMeasurements(fctx); err != nil {
		log.Error("flushing measurements", "err", err)
	}
	a.Measure.Close()
}

// Housekeeping forgets messageIds older than the dedup window and deletes
// events past their retention.
func (a *App) Housekeeping(ctx context.Context, now time.Time) error {
	if _, err := a.Store.ExpireDedup(ctx, now.Add(-collect.DedupWindow).Unix()/86400-1); err != nil {
		return err
	}
	_, err := a.Collect.Retention(ctx, now)
	return err
}
