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
    target          BYTEA NOT NULL,          -- identity pseudonym of the identifier named
    subject_id      TEXT NOT NULL,          -- resolved once verified ('' when unknown)
    key_id          BYTEA NOT NULL,
    kek             TEXT NOT NULL,
    wrapped_key     BYTEA,                   -- NULL once shredded
    sealed_detail   BYTEA,                   -- contact and request details
    received_at     BIGINT NOT NULL,
    due_at          BIGINT NOT NULL,
    first_due_at    BIGINT NOT NULL,
    paused_at       BIGINT NOT NULL,
    acknowledged_at BIGINT NOT NULL,
    verified_at     BIGINT NOT NULL,
    completed_at    BIGINT NOT NULL,
    extension_reason TEXT NOT NULL,
    denial_reason   TEXT NOT NULL,
    outcome         TEXT NOT NULL,          -- the completion record (JSON)
    step            BIGINT NOT NULL,       -- progress of the work, for resumption
    token_hash      BYTEA,
    link_hash       BYTEA,
    report_until    BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL,             -- a node working on it holds a lease
    updated_at      BIGINT NOT NULL
);
CREATE INDEX requests_status ON requests (status, due_at);
CREATE INDEX requests_subject ON requests (subject_id);

-- Verification codes: HMAC of the code, attempts left, single use.
CREATE TABLE request_codes (
    request_id TEXT PRIMARY KEY,
    code_mac   BYTEA NOT NULL,
    link_hash  BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts   BIGINT NOT NULL,
    used       BIGINT NOT NULL
);

-- The request's history: one row per transition, never edited.
CREATE TABLE request_log (
    request_id TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    status     TEXT NOT NULL,
    note       TEXT NOT NULL,
    PRIMARY KEY (request_id, seq)
);

-- Mail waiting for delivery (or kept for `tact outbox` when no SMTP server
-- is configured). The message is sealed under the key of the shopper or of
-- the request it belongs to.
CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL,
    subject_id  TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    key_owner   TEXT NOT NULL,              -- 'request' | 'subject'
    sealed      BYTEA NOT NULL,
    sent_at     BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    next_try    BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX outbox_pending ON outbox (sent_at, next_try);
CREATE INDEX outbox_subject ON outbox (subject_id);
CREATE INDEX outbox_request ON outbox (request_id);

-- Restriction of processing (GDPR Art. 18): only storage continues.
ALTER TABLE subjects ADD COLUMN restricted_at BIGINT NOT NULL DEFAULT 0;

-- The audit log becomes a hash chain: each entry commits to the one before.
ALTER TABLE audit_log ADD COLUMN role TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN fields TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN hash BYTEA;
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO audit_head (id, last, hash) VALUES (1, 0, ''::bytea);

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
