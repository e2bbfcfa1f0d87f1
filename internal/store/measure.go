package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tact-cdp/tact/internal/measure"
)

// AddMeasurements merges flushed measurement cells into the daily rows.
func (db *DB) AddMeasurements(ctx context.Context, cells []measure.Cell) error {
	// Short transactions of jobShare cells: the single writer serves
	// ingest between them. Each cell is merged and written in one.
	for start := 0; start < len(cells); start += jobShare {
		if err := db.addMeasurements(ctx, cells[start:min(start+jobShare, len(cells))]); err != nil {
			return err
		}
	}
	return nil
}

// jobShare bounds the rows a background job writes in one transaction, so
// that the writer's next turn for ingest comes within milliseconds.
const jobShare = 64

func (db *DB) addMeasurements(ctx context.Context, cells []measure.Cell) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		for _, c := range cells {
			day := c.Day.Unix() / 86400
			stored := measure.Cell{Day: c.Day, Dim: c.Dim, Value: c.Value}
			err := tx.tx.QueryRowContext(ctx, db.q("SELECT pageviews, product_views, add_to_carts, orders, revenue_cents, hits, unkeyed, unkeyed_orders, visitors, buyers"+
				" FROM measure_daily WHERE day = ? AND dim = ? AND value = ?"+db.dialect.ForUpdate), day, c.Dim, c.Value).
				Scan(&stored.Pageviews, &stored.ProductViews, &stored.AddToCarts, &stored.Orders, &stored.RevenueCents, &stored.Hits,
					&stored.Unkeyed, &stored.UnkeyedOrders, &stored.Visitors, &stored.Buyers)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err := measure.Merge(&stored, c); err != nil {
				return err
			}
			if err := tx.exec(ctx, "INSERT INTO measure_daily (day, dim, value, pageviews, product_views, add_to_carts, orders, revenue_cents, hits, unkeyed, unkeyed_orders, visitors, buyers)"+
				" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, dim, value) DO UPDATE SET"+
				" pageviews = excluded.pageviews, product_views = excluded.product_views, add_to_carts = excluded.add_to_carts,"+
				" orders = excluded.orders, revenue_cents = excluded.revenue_cents, hits = excluded.hits, unkeyed = excluded.unkeyed,"+
				" unkeyed_orders = excluded.unkeyed_orders, visitors = excluded.visitors, buyers = excluded.buyers",
				day, c.Dim, c.Value, stored.Pageviews, stored.ProductViews, stored.AddToCarts, stored.Orders, stored.RevenueCents,
				stored.Hits, stored.Unkeyed, stored.UnkeyedOrders, stored.Visitors, stored.Buyers); err != nil {
				return err
			}
		}
		return nil
	})
}

// Measurements returns the stored daily cells from day from to day to
// (inclusive, UTC), in day, dimension, value order.
func (db *DB) Measurements(ctx context.Context, from, to time.Time) ([]measure.Cell, error) {
	rows, err := db.read.QueryContext(ctx, db.q("SELECT day, dim, value, pageviews, product_views, add_to_carts, orders, revenue_cents, hits, unkeyed, unkeyed_orders, visitors, buyers"+
		" FROM measure_daily WHERE day >= ? AND day <= ? ORDER BY day, dim, value"), from.Unix()/86400, to.Unix()/86400)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []measure.Cell
	for rows.Next() {
		var c measure.Cell
		var day int64
		if err := rows.Scan(&day, &c.Dim, &c.Value, &c.Pageviews, &c.ProductViews, &c.AddToCarts, &c.Orders, &c.RevenueCents,
			&c.Hits, &c.Unkeyed, &c.UnkeyedOrders, &c.Visitors, &c.Buyers); err != nil {
			return nil, err
		}
		c.Day = time.Unix(day*86400, 0).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// Durability describes when a commit is acknowledged, for benchmarks.
func (db *DB) Durability(ctx context.Context) (string, error) {
	if db.dialect.Name == "postgres" {
		var sc, fsync string
		if err := db.read.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&sc); err != nil {
			return "", err
		}
		if err := db.read.QueryRowContext(ctx, "SHOW fsync").Scan(&fsync); err != nil {
			return "", err
		}
		return fmt.Sprintf("postgres, synchronous_commit=%s, fsync=%s, %d group-commit writer(s)", sc, fsync, db.opts.Writers), nil
	}
	var sync int
	var mode string
	if err := db.read.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return "", err
	}
	if err := db.read.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return "", err
	}
	names := map[int]string{0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
	return fmt.Sprintf("sqlite, journal_mode=%s, synchronous=%s (on the reader connection; the writer is opened with FULL), one writer with group commit", mode, names[sync]), nil
}
