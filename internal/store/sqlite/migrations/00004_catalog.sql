-- +goose Up

-- The shop's product catalogue (issue 5). Items the shop put (api, import)
-- are never overwritten by items seen in events (source event).
CREATE TABLE catalog_items (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    category    TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    available   INTEGER NOT NULL,
    sensitive   INTEGER NOT NULL,
    source      TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX catalog_items_sensitive ON catalog_items (sensitive) WHERE sensitive = 1;

-- +goose Down
DROP TABLE catalog_items;
