-- +goose Up
-- MessageId deduplication as an append-only log (docs/storage.md): one row
-- per committed transaction with the 16-byte keys it claimed, folded into
-- each node's in-memory window. Appends happen under an advisory lock, so
-- ids grow in commit order. event_dedup is still read once at start for keys
-- claimed before this.
CREATE TABLE event_dedup_log (
    id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day  BIGINT NOT NULL,
    keys BYTEA NOT NULL
);
CREATE INDEX event_dedup_log_day ON event_dedup_log (day);

-- +goose Down
DROP TABLE event_dedup_log;
