-- +goose Up

-- Interest profiles (issue 5): a decayed score per category and shopper,
-- learnt only from events stored under personalisation.
CREATE TABLE interests (
    subject_id TEXT NOT NULL,
    category   TEXT NOT NULL,
    score      DOUBLE PRECISION NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (subject_id, category)
);

-- Shoppers who paused their profile (until they resume).
CREATE TABLE interest_pauses (
    subject_id TEXT PRIMARY KEY,
    paused_at  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE interest_pauses;
DROP TABLE interests;
