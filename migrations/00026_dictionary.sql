-- +goose Up
-- The dictionary: each tenant's indexes (lookup lists) and their ordered
-- items (projection "dictionary"; the write side is the Dictionary
-- aggregate, one stream per tenant).

-- Index and item ids (one id space) are allocated before the append (a
-- gap is harmless).
CREATE SEQUENCE dictionary_id_seq;

-- Read model: one row per index (parent_id 0) or item (parent_id: its
-- index).
CREATE TABLE dictionary_entries (
    config_id      bigint      PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    parent_id      bigint      NOT NULL,
    config_key     text        NOT NULL,
    config_name    text        NOT NULL,
    config_en_name text        NOT NULL,
    key_order      bigint      NOT NULL DEFAULT 0,
    config_value   text        NOT NULL DEFAULT '',
    note           text        NOT NULL DEFAULT '',
    c_uid          bigint      NOT NULL DEFAULT 0,
    m_uid          bigint      NOT NULL DEFAULT 0,
    ctime          timestamptz NOT NULL,
    utime          timestamptz NOT NULL
);
CREATE INDEX dictionary_entries_tenant_idx ON dictionary_entries (tenant_id, parent_id, config_id);

-- +goose Down
DROP TABLE dictionary_entries;
DROP SEQUENCE dictionary_id_seq;
