-- +goose Up

-- Data subject requests (DESIGN 5.4). The contact address is sealed under
-- the request's own data key (the requester may be unknown to the shop);
-- shredding that key ends the request's link to the person.
CREATE TABLE requests (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL,
    status          TEXT NOT NULL,
    regime          TEXT NOT NULL,
    locale          TEXT NOT NULL,
    scope           TEXT NOT NULL,          -- linked | browser
    verified_by     TEXT NOT NULL,          -- email_code | server_key:<id> | subject_token | ''
    target_kind     TEXT NOT NULL,
    target          BLOB NOT NULL,          -- identity pseudonym of the identifier named
    subject_id      TEXT NOT NULL,          -- resolved once verified ('' when unknown)
    key_id          BLOB NOT NULL,
    kek             TEXT NOT NULL,
    wrapped_key     BLOB,                   -- NULL once shredded
    sealed_detail   BLOB,                   -- contact and request details
    received_at     INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    first_due_at    INTEGER NOT NULL,
    paused_at       INTEGER NOT NULL,
    acknowledged_at INTEGER NOT NULL,
    verified_at     INTEGER NOT NULL,
    completed_at    INTEGER NOT NULL,
    extension_reason TEXT NOT NULL,
    denial_reason   TEXT NOT NULL,
    outcome         TEXT NOT NULL,          -- the completion record (JSON)
    step            INTEGER NOT NULL,       -- progress of the work, for resumption
    token_hash      BLOB,
    link_hash       BLOB,
    report_until    INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL,             -- a node working on it holds a lease
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX requests_status ON requests (status, due_at);
CREATE INDEX requests_subject ON requests (subject_id);

-- Verification codes: HMAC of the code, attempts left, single use.
CREATE TABLE request_codes (
    request_id TEXT PRIMARY KEY,
    code_mac   BLOB NOT NULL,
    link_hash  BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL,
    used       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The request's history: one row per transition, never edited.
CREATE TABLE request_log (
    request_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    status     TEXT NOT NULL,
    note       TEXT NOT NULL,
    PRIMARY KEY (request_id, seq)
) STRICT, WITHOUT ROWID;

-- Mail waiting for delivery (or kept for `tact outbox` when no SMTP server
-- is configured). The message is sealed under the key of the shopper or of
-- the request it belongs to.
CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    subject_id  TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    key_owner   TEXT NOT NULL,              -- 'request' | 'subject'
    sealed      BLOB NOT NULL,
    sent_at     INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    next_try    INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX outbox_pending ON outbox (sent_at, next_try);
CREATE INDEX outbox_subject ON outbox (subject_id);
CREATE INDEX outbox_request ON outbox (request_id);

-- Restriction of processing (GDPR Art. 18): only storage continues.
ALTER TABLE subjects ADD COLUMN restricted_at INTEGER NOT NULL DEFAULT 0;

-- The audit log becomes a hash chain: each entry commits to the one before.
ALTER TABLE audit_log ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN fields TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash BLOB;
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL,
    hash BLOB NOT NULL
) STRICT;
INSERT INTO audit_head (id, last, hash) VALUES (1, 0, X'');

-- +goose Down
DROP TABLE audit_head;
ALTER TABLE audit_log DROP COLUMN hash;
ALTER TABLE audit_log DROP COLUMN fields;
ALTER TABLE audit_log DROP COLUMN role;
ALTER TABLE subjects DROP COLUMN restricted_at;
DROP TABLE outbox;
DROP TABLE request_log;
DROP TABLE request_codes;
DROP TABLE requests;
