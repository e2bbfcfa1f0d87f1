-- +goose Up

-- Categories a shopper deleted from their interest profile (issue 5): they
-- are not learnt again and recommendations use no signal in them, until the
-- whole profile goes (withdrawal, objection, erasure).
CREATE TABLE interest_mutes (
    subject_id TEXT NOT NULL,
    category   TEXT NOT NULL,
    muted_at   BIGINT NOT NULL,
    PRIMARY KEY (subject_id, category)
);

-- +goose Down
DROP TABLE interest_mutes;
