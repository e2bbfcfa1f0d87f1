-- +goose Up
-- The subject index is led by a bucket that advances every 16,384 events
-- (docs/storage.md): a commit's index entries land in the current bucket's
-- few hundred pages instead of one page per event anywhere in the index.
-- A read of one subject seeks once per bucket; event_buckets lists them.
ALTER TABLE events ADD COLUMN bucket BIGINT NOT NULL DEFAULT 0;
DROP INDEX events_subject;
CREATE INDEX events_subject ON events (bucket, subject_id, id);
CREATE TABLE event_buckets (bucket BIGINT PRIMARY KEY);
INSERT INTO event_buckets (bucket) VALUES (0);

-- +goose Down
DROP TABLE event_buckets;
DROP INDEX events_subject;
CREATE INDEX events_subject ON events (subject_id, id);
ALTER TABLE events DROP COLUMN bucket;
