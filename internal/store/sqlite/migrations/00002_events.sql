-- +goose Up
-- Stable bit of each purpose in events.purposes (a bit never changes meaning).
CREATE TABLE purpose_bits (
    purpose TEXT PRIMARY KEY,
    bit     INTEGER NOT NULL UNIQUE CHECK (bit BETWEEN 0 AND 62)
) STRICT;

-- Events stored as personal data: one row per event (docs/storage.md). Only
-- minimised fields are in clear; the payload is sealed with the shopper's
-- data key. purposes is the bit set the event may still be used for.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    subject_id  TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    type        TEXT NOT NULL,
    event       TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    purposes    INTEGER NOT NULL,
    receipt_id  TEXT NOT NULL,
    key_id      BLOB NOT NULL,
    payload     BLOB NOT NULL
) STRICT;
CREATE INDEX events_subject ON events (subject_id, id);

-- Deduplication by messageId per write key for 7 days: a keyed 16-byte hash,
-- so the window costs one short index entry per event.
CREATE TABLE event_dedup (
    key BLOB PRIMARY KEY,
    day INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX event_dedup_day ON event_dedup (day);

-- Counters of received, stored and dropped events (by reason).
CREATE TABLE event_counts (
    reason TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Erased shoppers, by suppression pseudonym, until a date; a consent
-- receipt dated after erased_at lifts it.
CREATE TABLE suppression (
    pseudonym BLOB PRIMARY KEY,
    erased_at INTEGER NOT NULL,
    until     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Who read whose personal data, why, before the answer. Append-only.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    purpose  TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  BLOB NOT NULL,
    detail   TEXT NOT NULL
) STRICT;

-- Consent-free measurement, per day and dimension (no identifiers; distinct
-- visitors only as HyperLogLog sketches under a salt that is never stored).
CREATE TABLE measure_daily (
    day           INTEGER NOT NULL,
    dim           TEXT NOT NULL,
    value         TEXT NOT NULL,
    pageviews     INTEGER NOT NULL,
    product_views INTEGER NOT NULL,
    add_to_carts  INTEGER NOT NULL,
    orders        INTEGER NOT NULL,
    revenue_cents INTEGER NOT NULL,
    hits          INTEGER NOT NULL,
    unkeyed       INTEGER NOT NULL,
    unkeyed_orders INTEGER NOT NULL,
    visitors      BLOB,
    buyers        BLOB,
    PRIMARY KEY (day, dim, value)
) STRICT, WITHOUT ROWID;

CREATE INDEX subjects_updated ON subjects (updated_at);

-- +goose Down
DROP INDEX subjects_updated;
DROP TABLE measure_daily;
DROP TABLE audit_log;
DROP TABLE suppression;
DROP TABLE event_counts;
DROP TABLE event_dedup;
DROP TABLE events;
DROP TABLE purpose_bits;
