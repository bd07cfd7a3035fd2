-- +goose Up
-- The component catalogue (projection "components"): component groups
-- (the ComponentGroups aggregate, one stream per tenant; system groups in
-- the system tenant's) and components (one Component aggregate, stream
-- component-<id>, each: its history is its versions). scope: 0 system,
-- 1 tenant, 2 business (business_id), 3 personal (c_uid). Catalogue
-- components are documentation: the engine never executes their code.

-- Ids are allocated before the append (a gap is harmless).
CREATE SEQUENCE component_group_id_seq;
CREATE SEQUENCE component_id_seq;

CREATE TABLE component_groups (
    id             bigint      PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    group_name     text        NOT NULL,
    group_en_name  text        NOT NULL,
    component_type text        NOT NULL,
    icon           text        NOT NULL DEFAULT '',
    tags           text[]      NOT NULL DEFAULT '{}',
    order_num      bigint      NOT NULL DEFAULT 0,
    is_active      boolean     NOT NULL DEFAULT true,
    note           text        NOT NULL DEFAULT '',
    scope          integer     NOT NULL DEFAULT 1,
    business_id    bigint      NOT NULL DEFAULT 0,
    c_uid          bigint      NOT NULL DEFAULT 0,
    m_uid          bigint      NOT NULL DEFAULT 0,
    ctime          timestamptz NOT NULL,
    utime          timestamptz NOT NULL
);
CREATE INDEX component_groups_tenant_idx ON component_groups (tenant_id, scope, business_id);

CREATE TABLE components (
    id                 bigint      PRIMARY KEY,
    tenant_id          uuid        NOT NULL,
    component_group_id bigint      NOT NULL,
    component_name     text        NOT NULL DEFAULT '',
    display_name       text        NOT NULL DEFAULT '',
    icon               text        NOT NULL DEFAULT '',
    tag                text        NOT NULL DEFAULT '',
    code               text        NOT NULL DEFAULT '',
    component_skill    text        NOT NULL DEFAULT '',
    note               text        NOT NULL DEFAULT '',
    version            integer     NOT NULL DEFAULT 1,
    is_active          boolean     NOT NULL DEFAULT true,
    is_legacy          boolean     NOT NULL DEFAULT false,
    is_deprecated      boolean     NOT NULL DEFAULT false,
    scope              integer     NOT NULL DEFAULT 1,
    business_id        bigint      NOT NULL DEFAULT 0,
    c_uid              bigint      NOT NULL DEFAULT 0,
    m_uid              bigint      NOT NULL DEFAULT 0,
    ctime              timestamptz NOT NULL,
    utime              timestamptz NOT NULL
);
CREATE INDEX components_tenant_idx ON components (tenant_id, scope, business_id);
CREATE INDEX components_group_idx ON components (component_group_id);

-- +goose Down
DROP TABLE components;
DROP TABLE component_groups;
DROP SEQUENCE component_id_seq;
DROP SEQUENCE component_group_id_seq;
