-- +goose Up
-- Read models of the "flows" projection: the flows' current drafts and the
-- folded content of every version.

CREATE TABLE flows (
    id                 uuid        PRIMARY KEY,
    user_id            bigint      NOT NULL,
    name               text        NOT NULL,
    description        text        NOT NULL DEFAULT '',
    flow_skill         text        NOT NULL DEFAULT '',
    icon               text        NOT NULL DEFAULT '',
    icon_bg_color      text        NOT NULL DEFAULT '',
    gradient           text        NOT NULL DEFAULT '',
    data               jsonb,
    is_component       boolean     NOT NULL DEFAULT false,
    webhook            boolean     NOT NULL DEFAULT false,
    endpoint_name      text        NOT NULL DEFAULT '',
    tags               jsonb       NOT NULL DEFAULT '[]'::jsonb,
    locked             boolean     NOT NULL DEFAULT false,
    is_hold            boolean     NOT NULL DEFAULT false,
    is_endpoint        boolean     NOT NULL DEFAULT false,
    is_deleted         boolean     NOT NULL DEFAULT false,
    flow_type          text        NOT NULL DEFAULT '',
    mcp_enabled        boolean     NOT NULL DEFAULT false,
    action_name        text        NOT NULL DEFAULT '',
    action_description text        NOT NULL DEFAULT '',
    access_type        text        NOT NULL DEFAULT 'PRIVATE',
    online_version_id  bigint      NOT NULL DEFAULT 0,
    online_version     text,
    version_count      integer     NOT NULL DEFAULT 0,
    tenant_id          uuid,
    business_id        bigint      NOT NULL DEFAULT 0,
    org_id             bigint      NOT NULL DEFAULT 0,
    is_self            boolean     NOT NULL DEFAULT false,
    project_id         uuid,
    fs_path            text        NOT NULL DEFAULT '',
    create_at          timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    c_uid              bigint      NOT NULL DEFAULT 0,
    m_uid              bigint      NOT NULL DEFAULT 0,
    version            bigint      NOT NULL
);
-- The list's common shapes: a user's flows newest first, by project, by
-- name; tenancy filters; public flows by id are the primary key.
CREATE INDEX flows_user_updated_idx ON flows (user_id, updated_at DESC, id);
CREATE INDEX flows_project_idx ON flows (project_id, updated_at DESC);
CREATE INDEX flows_user_name_idx ON flows (user_id, lower(name));
CREATE INDEX flows_tenant_business_idx ON flows (tenant_id, business_id);
CREATE INDEX flows_org_idx ON flows (org_id) WHERE org_id <> 0;
CREATE INDEX flows_endpoint_idx ON flows (endpoint_name) WHERE endpoint_name <> '';

CREATE TABLE flow_versions (
    flow_id            uuid        NOT NULL,
    version_id         bigint      NOT NULL,
    version            text        NOT NULL,
    note               text        NOT NULL DEFAULT '',
    user_id            bigint      NOT NULL,
    name               text        NOT NULL,
    description        text        NOT NULL DEFAULT '',
    flow_skill         text        NOT NULL DEFAULT '',
    icon               text        NOT NULL DEFAULT '',
    icon_bg_color      text        NOT NULL DEFAULT '',
    gradient           text        NOT NULL DEFAULT '',
    data               jsonb,
    is_component       boolean     NOT NULL DEFAULT false,
    webhook            boolean     NOT NULL DEFAULT false,
    endpoint_name      text        NOT NULL DEFAULT '',
    tags               jsonb       NOT NULL DEFAULT '[]'::jsonb,
    is_hold            boolean     NOT NULL DEFAULT false,
    is_endpoint        boolean     NOT NULL DEFAULT false,
    flow_type          text        NOT NULL DEFAULT '',
    mcp_enabled        boolean     NOT NULL DEFAULT false,
    action_name        text        NOT NULL DEFAULT '',
    action_description text        NOT NULL DEFAULT '',
    access_type        text        NOT NULL DEFAULT 'PRIVATE',
    tenant_id          uuid,
    business_id        bigint      NOT NULL DEFAULT 0,
    is_self            boolean     NOT NULL DEFAULT false,
    c_uid              bigint      NOT NULL DEFAULT 0,
    create_at          timestamptz NOT NULL,
    revision           bigint      NOT NULL,
    PRIMARY KEY (flow_id, version_id)
);
CREATE INDEX flow_versions_version_idx ON flow_versions (flow_id, version);

-- +goose Down
DROP TABLE flow_versions;
DROP TABLE flows;
