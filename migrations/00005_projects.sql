-- +goose Up
-- Read model of the "projects" projection (Langflow's folders).
CREATE TABLE projects (
    id              uuid        PRIMARY KEY,
    user_id         bigint      NOT NULL,
    name            text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    parent_id       uuid,
    tenant_id       uuid,
    business_id     bigint      NOT NULL DEFAULT 0,
    org_id          bigint      NOT NULL DEFAULT 0,
    is_self         boolean     NOT NULL DEFAULT false,
    is_enable       boolean     NOT NULL DEFAULT true,
    is_release      boolean     NOT NULL DEFAULT false,
    is_version      boolean     NOT NULL DEFAULT false,
    is_hold         boolean     NOT NULL DEFAULT false,
    is_deleted      boolean     NOT NULL DEFAULT false,
    is_default      boolean     NOT NULL DEFAULT false,
    release_version text,
    priv_type       text,
    project_skill   text,
    auth_settings   jsonb,
    icon            text,
    c_uid           bigint      NOT NULL DEFAULT 0,
    m_uid           bigint      NOT NULL DEFAULT 0,
    ctime           timestamptz NOT NULL,
    utime           timestamptz NOT NULL,
    version         bigint      NOT NULL
);
CREATE INDEX projects_user_idx ON projects (user_id, lower(name));
CREATE INDEX projects_default_idx ON projects (user_id) WHERE is_default AND NOT is_deleted;

-- +goose Down
DROP TABLE projects;
