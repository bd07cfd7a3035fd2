-- +goose Up
-- Configs: each tenant's key/value variables (projection "configs"; the
-- write side is the Configs aggregate, one stream per tenant). They are
-- what a flow's load_from_db field reads. A secret config's value is
-- sealed (AES-GCM, key id in the value) here as in the event log.

-- Config ids are allocated before the append (a gap is harmless).
CREATE SEQUENCE config_id_seq;

CREATE TABLE configs (
    id           bigint      PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    config_key   text        NOT NULL,
    config_name  text        NOT NULL,
    config_value text        NOT NULL DEFAULT '',
    note         text        NOT NULL DEFAULT '',
    secret       boolean     NOT NULL DEFAULT false,
    c_uid        bigint      NOT NULL DEFAULT 0,
    m_uid        bigint      NOT NULL DEFAULT 0,
    ctime        timestamptz NOT NULL,
    utime        timestamptz NOT NULL
);
CREATE UNIQUE INDEX configs_tenant_key_idx ON configs (tenant_id, config_key);

-- +goose Down
DROP TABLE configs;
DROP SEQUENCE config_id_seq;
