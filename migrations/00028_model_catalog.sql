-- +goose Up
-- The model catalogue: each tenant's model providers and their models
-- (projection "model_catalog"; the write side is the ModelCatalog
-- aggregate, one stream per tenant). The system tenant's is the built-in
-- catalogue, seeded at first start; flows of a tenant resolve their model
-- through the tenant's providers first, then the system tenant's.

-- Ids are allocated before the append (a gap is harmless).
CREATE SEQUENCE model_provider_id_seq;
CREATE SEQUENCE provider_model_id_seq;

CREATE TABLE model_providers (
    provider_id           bigint      PRIMARY KEY,
    tenant_id             uuid        NOT NULL,
    provider_key          text        NOT NULL,
    provider_name         text        NOT NULL,
    icon                  text        NOT NULL,
    variable_name         text        NOT NULL,
    requires_api_key      boolean     NOT NULL,
    api_docs_url          text,
    model_class           text        NOT NULL,
    model_name_param      text        NOT NULL,
    api_key_param         text        NOT NULL,
    base_url_param        text,
    base_url              text,
    url_param             text,
    max_tokens_field_name text        NOT NULL,
    is_active             boolean     NOT NULL,
    key_order             bigint      NOT NULL,
    note                  text,
    c_uid                 bigint      NOT NULL DEFAULT 0,
    m_uid                 bigint      NOT NULL DEFAULT 0,
    ctime                 timestamptz NOT NULL,
    utime                 timestamptz NOT NULL
);
CREATE UNIQUE INDEX model_providers_tenant_key_idx ON model_providers (tenant_id, provider_key);

CREATE TABLE provider_models (
    id                 bigint      PRIMARY KEY,
    tenant_id          uuid        NOT NULL,
    provider_id        bigint      NOT NULL,
    model_name         text        NOT NULL,
    model_display_name text,
    model_type         text        NOT NULL,
    context_length     bigint,
    is_default         boolean     NOT NULL,
    is_deprecated      boolean     NOT NULL,
    is_not_supported   boolean     NOT NULL,
    is_preview         boolean     NOT NULL,
    is_reasoning       boolean     NOT NULL,
    is_tool_calling    boolean     NOT NULL,
    is_search          boolean     NOT NULL,
    is_vl              boolean     NOT NULL,
    is_active          boolean     NOT NULL,
    key_order          bigint      NOT NULL,
    metadata           jsonb,
    note               text,
    c_uid              bigint      NOT NULL DEFAULT 0,
    m_uid              bigint      NOT NULL DEFAULT 0,
    ctime              timestamptz NOT NULL,
    utime              timestamptz NOT NULL
);
CREATE UNIQUE INDEX provider_models_provider_name_idx ON provider_models (provider_id, model_name);
CREATE INDEX provider_models_tenant_idx ON provider_models (tenant_id);

-- +goose Down
DROP TABLE provider_models;
DROP TABLE model_providers;
DROP SEQUENCE provider_model_id_seq;
DROP SEQUENCE model_provider_id_seq;
