-- +goose Up

-- Interest profiles (issue 5): a decayed score per category and shopper,
-- learnt only from events stored under personalisation.
CREATE TABLE interests (
    subject_id TEXT NOT NULL,
    category   TEXT NOT NULL,
    score      REAL NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, category)
) STRICT, WITHOUT ROWID;

-- Shoppers who paused their profile (until they resume).
CREATE TABLE interest_pauses (
    subject_id TEXT PRIMARY KEY,
    paused_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE interest_pauses;
DROP TABLE interests;
