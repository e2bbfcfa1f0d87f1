-- +goose Up
-- MessageId deduplication as an append-only log (docs/storage.md): one row
-- per committed transaction with the 16-byte keys it claimed, folded into an
-- in-memory window. AUTOINCREMENT keeps ids growing after expiry deletes the
-- newest rows, so "id > last seen" never misses another process's row.
-- event_dedup is still read once at start for keys claimed before this.
CREATE TABLE event_dedup_log (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    day  INTEGER NOT NULL,
    keys BLOB NOT NULL
) STRICT;
CREATE INDEX event_dedup_log_day ON event_dedup_log (day);

-- +goose Down
DROP TABLE event_dedup_log;
