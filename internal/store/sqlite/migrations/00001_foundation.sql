-- +goose Up
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- A subject is one shopper: linked identities, one consent state.
CREATE TABLE subjects (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    minor      INTEGER NOT NULL DEFAULT 0,
    gpc_at     INTEGER NOT NULL DEFAULT 0,
    state      BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Per-shopper data keys, wrapped by the key-encryption key. Deleting a row is
-- crypto-shredding.
CREATE TABLE subject_keys (
    key_id     BLOB PRIMARY KEY,
    subject_id TEXT NOT NULL,
    kek        TEXT NOT NULL,
    wrapped    BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX subject_keys_subject ON subject_keys (subject_id);

-- Identifiers, known only by their keyed pseudonyms.
CREATE TABLE identities (
    pseudonym  BLOB PRIMARY KEY,
    kind       TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    token_gen  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX identities_subject ON identities (subject_id);

-- Receipts: the ledger's leaves commit to (receipt id, SHA-256(salt || body)).
-- The leaf index is the rowid: appends go to the end of the table.
CREATE TABLE receipts (
    leaf_index  INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    hash_index  INTEGER NOT NULL,
    subject_id  TEXT,
    key_id      BLOB NOT NULL,
    body        BLOB,
    sealed_salt BLOB NOT NULL,
    commitment  BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX receipts_subject ON receipts (subject_id);

-- Stored hashes of the Merkle tree (golang.org/x/mod/sumdb/tlog layout).
CREATE TABLE ledger_hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
) STRICT;

CREATE TABLE ledger_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
) STRICT;
INSERT INTO ledger_head (id, size) VALUES (1, 0);

CREATE TABLE ledger_checkpoints (
    size       INTEGER PRIMARY KEY,
    root       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    signed     TEXT NOT NULL
) STRICT;

CREATE TABLE notices (
    version    TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    body       BLOB NOT NULL
) STRICT;

-- API keys and admin tokens: SHA-256 of the secret, never the secret.
CREATE TABLE credentials (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    role          TEXT NOT NULL,
    name          TEXT NOT NULL,
    secret_hash   BLOB NOT NULL UNIQUE,
    sealed_secret BLOB,
    origins       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER NOT NULL
) STRICT;

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
