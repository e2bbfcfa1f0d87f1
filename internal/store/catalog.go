package store

import (
	"context"
	"strings"

	"github.com/tact-cdp/tact/internal/catalog"
)

// CatalogStore adapts DB to catalog.Store.
type CatalogStore struct{ db *DB }

// Catalog returns the catalogue's view of the store.
func (db *DB) Catalog() *CatalogStore { return &CatalogStore{db: db} }

var _ catalog.Store = (*CatalogStore)(nil)

// PutItems implements catalog.Store, 200 rows per statement.
func (s *CatalogStore) PutItems(ctx context.Context, items []catalog.Item, overwrite bool) error {
	const per = 200
	conflict := " ON CONFLICT (id) DO NOTHING"
	if overwrite {
		conflict = " ON CONFLICT (id) DO UPDATE SET name = excluded.name, category = excluded.category, price_cents = excluded.price_cents," +
			" currency = excluded.currency, available = excluded.available, sensitive = excluded.sensitive, repeat_purchase = excluded.repeat_purchase, source = excluded.source, updated_at = excluded.updated_at"
	}
	return s.db.WriteTx(ctx, func(tx *Tx) error {
		for start := 0; start < len(items); start += per {
			chunk := items[start:min(start+per, len(items))]
			args := make([]any, 0, len(chunk)*10)
			for _, it := range chunk {
				args = append(args, it.ID, it.Name, it.Category, it.PriceCents, it.Currency, boolInt(it.Available), boolInt(it.Sensitive),
					boolInt(it.RepeatPurchase), it.Source, micros(it.UpdatedAt))
			}
			q := "INSERT INTO catalog_items (id, name, category, price_cents, currency, available, sensitive, repeat_purchase, source, updated_at) VALUES " +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(chunk)), ", ") + conflict
			if err := tx.exec(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// itemColumns are the columns scanItem reads.
const itemColumns = "id, name, category, price_cents, currency, available, sensitive, repeat_purchase, source, updated_at"

func scanItem(scan func(...any) error) (catalog.Item, error) {
	var it catalog.Item
	var avail, sens, repeat int
	var updated int64
	if err := scan(&it.ID, &it.Name, &it.Category, &it.PriceCents, &it.Currency, &avail, &sens, &repeat, &it.Source, &updated); err != nil {
		return it, err
	}
	it.Available, it.Sensitive, it.RepeatPurchase, it.UpdatedAt = avail == 1, sens == 1, repeat == 1, fromMicros(updated)
	return it, nil
}

// Item implements catalog.Store.
func (s *CatalogStore) Item(ctx context.Context, id string) (catalog.Item, error) {
	it, err := scanItem(s.db.read.QueryRowContext(ctx, s.db.q("SELECT "+itemColumns+" FROM catalog_items WHERE id = ?"), id).Scan)
	if err != nil {
		return it, notFound(err, "item")
	}
	return it, nil
}

// SensitiveItemIDs implements catalog.Store.
func (s *CatalogStore) SensitiveItemIDs(ctx context.Context) ([]string, error) {
	return s.db.strings(ctx, "SELECT id FROM catalog_items WHERE sensitive = 1")
}

// CountItems is how many items the catalogue holds.
func (s *CatalogStore) CountItems(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM catalog_items").Scan(&n)
	return n, err
}

// EachItem calls fn with every item, in id order, reading 1,000 at a time.
func (s *CatalogStore) EachItem(ctx context.Context, fn func(catalog.Item) error) error {
	after := ""
	for {
		rows, err := s.db.read.QueryContext(ctx, s.db.q("SELECT "+itemColumns+" FROM catalog_items WHERE id > ? ORDER BY id LIMIT 1000"), after)
		if err != nil {
			return err
		}
		var page []catalog.Item
		for rows.Next() {
			it, err := scanItem(rows.Scan)
			if err != nil {
				rows.Close()
				return err
			}
			page = append(page, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, it := range page {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = page[len(page)-1].ID
	}
}
