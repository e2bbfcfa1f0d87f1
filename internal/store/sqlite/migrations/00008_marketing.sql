-- +goose Up

-- Marketing permission (issue 7).

-- A shopper's address for a marketing channel, sealed under their data
-- key: given with a grant of marketing_email (or _sms), needed to mail the
-- confirmation and by destinations allowed to receive it. Shredded with
-- the key on erasure, deleted by the purge.
CREATE TABLE marketing_contacts (
    subject_id TEXT NOT NULL,
    channel    TEXT NOT NULL,            -- marketing_email | marketing_sms
    contact    BLOB NOT NULL,            -- pseudonym of the address (rate limits)
    sealed     BLOB NOT NULL,
    locale     TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (subject_id, channel)
) STRICT, WITHOUT ROWID;

-- Double opt-in confirmations: the link's token is stored only as its
-- SHA-256; single use, valid 7 days.
CREATE TABLE optin_confirmations (
    token_hash BLOB PRIMARY KEY,
    subject_id TEXT NOT NULL,
    channel    TEXT NOT NULL,
    contact    BLOB NOT NULL,
    receipt_id TEXT NOT NULL,            -- the pending grant it confirms
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
CREATE INDEX optin_confirmations_contact ON optin_confirmations (contact, created_at);
CREATE INDEX optin_confirmations_subject ON optin_confirmations (subject_id);

-- One unsubscribe token per shopper and list: the hash finds it (the URL
-- keeps working after erasure, answering 200 and doing nothing); the token
-- itself is sealed under the shopper's key so that it can be issued again.
CREATE TABLE unsubscribe_tokens (
    token_hash BLOB PRIMARY KEY,
    subject_id TEXT NOT NULL,
    list       TEXT NOT NULL,
    sealed     BLOB,                     -- NULL once the shopper is erased
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX unsubscribe_tokens_subject ON unsubscribe_tokens (subject_id, list);

-- Audience definitions, versioned: a change is a new version.
CREATE TABLE audiences (
    id         TEXT NOT NULL,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,            -- canonical JSON
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (id, version)
) STRICT, WITHOUT ROWID;

-- Exports and syncs of audiences, with a fingerprint of every member so
-- that a later export differing from an overlapping one by fewer than the
-- minimum size can be refused.
CREATE TABLE audience_exports (
    id          TEXT PRIMARY KEY,
    audience_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    recipient   TEXT NOT NULL,           -- destination id, or 'file'
    at          INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    members     BLOB NOT NULL            -- sorted 8-byte keyed fingerprints
) STRICT;
CREATE INDEX audience_exports_recipient ON audience_exports (recipient, at);

-- Destinations: where audience members go, and who they are.
CREATE TABLE destinations (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,          -- webhook | file
    url          TEXT NOT NULL,
    recipient    TEXT NOT NULL,          -- data map recipient id
    purpose      TEXT NOT NULL,
    fields       TEXT NOT NULL,          -- JSON array
    secret_gen   INTEGER NOT NULL,       -- the signing secret is derived from the root secret and this
    max_attempts INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

-- Who each destination holds now, per audience (what the last sync sent).
CREATE TABLE destination_members (
    destination_id TEXT NOT NULL,
    audience_id    TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    pseudonym      TEXT NOT NULL,        -- the destination's own pseudonym of the shopper
    added_at       INTEGER NOT NULL,
    PRIMARY KEY (destination_id, audience_id, subject_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX destination_members_subject ON destination_members (subject_id);

-- Webhook deliveries: a persisted queue. Bodies are sealed under tact's
-- delivery key and dropped once delivered.
CREATE TABLE deliveries (
    id             TEXT PRIMARY KEY,
    destination_id TEXT NOT NULL,
    kind           TEXT NOT NULL,
    body           BLOB,
    status         TEXT NOT NULL,        -- pending | delivered | dead
    attempts       INTEGER NOT NULL,
    next_at        INTEGER NOT NULL,
    lease_until    INTEGER NOT NULL,
    last_status    INTEGER NOT NULL,
    last_error     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    done_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX deliveries_due ON deliveries (status, next_at);

-- The disclosure log: every delivery of personal data to a recipient.
-- Append-only; the shopper is named by a keyed pseudonym of their subject.
CREATE TABLE disclosures (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,
    recipient      TEXT NOT NULL,
    destination_id TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    categories     TEXT NOT NULL,        -- comma-separated data categories
    subject        TEXT NOT NULL,
    delivery_id    TEXT NOT NULL
) STRICT;
CREATE INDEX disclosures_subject ON disclosures (subject);

-- Changes propagated to recipients (GDPR Art. 19, CCPA): one row per
-- recipient and change, with its status and due date.
CREATE TABLE propagations (
    id             TEXT PRIMARY KEY,
    subject        TEXT NOT NULL,        -- same pseudonym as disclosures
    destination_id TEXT NOT NULL,
    recipient      TEXT NOT NULL,
    kind           TEXT NOT NULL,        -- withdrawal | erasure | rectification | restriction | opt_out
    ref            TEXT NOT NULL,        -- the request that caused it, if any
    delivery_id    TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    due_at         INTEGER NOT NULL,
    status         TEXT NOT NULL,        -- pending | delivered | dead
    done_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX propagations_status ON propagations (status, due_at);
CREATE INDEX propagations_delivery ON propagations (delivery_id);

-- +goose Down
DROP TABLE propagations;
DROP TABLE disclosures;
DROP TABLE deliveries;
DROP TABLE destination_members;
DROP TABLE destinations;
DROP TABLE audience_exports;
DROP TABLE audiences;
DROP TABLE unsubscribe_tokens;
DROP TABLE optin_confirmations;
DROP TABLE marketing_contacts;
