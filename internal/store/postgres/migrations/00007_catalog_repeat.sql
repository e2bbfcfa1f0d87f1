-- +goose Up

-- Items made to be bought again (consumables): recommendations may suggest
-- them again to a shopper who bought them (issue 5).
ALTER TABLE catalog_items ADD COLUMN repeat_purchase INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE catalog_items DROP COLUMN repeat_purchase;
