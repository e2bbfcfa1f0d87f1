-- +goose Up
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A subject is one shopper: linked identities, one consent state.
CREATE TABLE subjects (
    id         TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    minor      BOOLEAN NOT NULL DEFAULT false,
    gpc_at     BIGINT NOT NULL DEFAULT 0,
    state      BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Per-shopper data keys, wrapped by the key-encryption key. Deleting a row is
-- crypto-shredding.
CREATE TABLE subject_keys (
    key_id     BYTEA PRIMARY KEY,
    subject_id TEXT NOT NULL,
    kek        TEXT NOT NULL,
    wrapped    BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX subject_keys_subject ON subject_keys (subject_id);

-- Identifiers, known only by their keyed pseudonyms.
CREATE TABLE identities (
    pseudonym  BYTEA PRIMARY KEY,
    kind       TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    token_gen  BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX identities_subject ON identities (subject_id);

-- Receipts: the ledger's leaves commit to (receipt id, SHA-256(salt || body)).
CREATE TABLE receipts (
    leaf_index  BIGINT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    hash_index  BIGINT NOT NULL,
    subject_id  TEXT,
    key_id      BYTEA NOT NULL,
    body        BYTEA,
    sealed_salt BYTEA NOT NULL,
    commitment  BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX receipts_subject ON receipts (subject_id);

-- Stored hashes of the Merkle tree (golang.org/x/mod/sumdb/tlog layout).
CREATE TABLE ledger_hashes (
    idx  BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);

CREATE TABLE ledger_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO ledger_head (id, size) VALUES (1, 0);

CREATE TABLE ledger_checkpoints (
    size       BIGINT PRIMARY KEY,
    root       BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    signed     TEXT NOT NULL
);

CREATE TABLE notices (
    version    TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    body       BYTEA NOT NULL
);

-- API keys and admin tokens: SHA-256 of the secret, never the secret.
CREATE TABLE credentials (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    role          TEXT NOT NULL,
    name          TEXT NOT NULL,
    secret_hash   BYTEA NOT NULL UNIQUE,
    sealed_secret BYTEA,
    origins       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT NOT NULL
);

-- +goose Down
DROP TABLE credentials;
DROP TABLE notices;
DROP TABLE ledger_checkpoints;
DROP TABLE ledger_head;
DROP TABLE ledger_hashes;
DROP TABLE receipts;
DROP TABLE identities;
DROP TABLE subject_keys;
DROP TABLE subjects;
DROP TABLE meta;
