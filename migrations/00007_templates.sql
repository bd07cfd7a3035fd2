-- +goose Up
-- Read model of the "flow_templates" projection: templates made from flows
-- (one row per template that is not deleted). is_self is derived from scope
-- when read (scope = 'personal').
CREATE TABLE flow_templates (
    id            uuid        PRIMARY KEY,
    flow_id       uuid        NOT NULL,
    user_id       bigint      NOT NULL,
    name          text        NOT NULL,
    description   text        NOT NULL DEFAULT '',
    flow_skill    text        NOT NULL DEFAULT '',
    icon          text        NOT NULL DEFAULT '',
    icon_bg_color text        NOT NULL DEFAULT '',
    gradient      text        NOT NULL DEFAULT '',
    data          jsonb,
    tags          jsonb       NOT NULL DEFAULT '[]'::jsonb,
    flow_type     text        NOT NULL DEFAULT '',
    scope         text        NOT NULL,
    tenant_id     uuid,
    business_id   bigint      NOT NULL DEFAULT 0,
    note          text        NOT NULL DEFAULT '',
    create_at     timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    c_uid         bigint      NOT NULL DEFAULT 0,
    m_uid         bigint      NOT NULL DEFAULT 0,
    version       bigint      NOT NULL
);
-- Basic examples list the visible templates newest first; personal ones are
-- found by their creator.
CREATE INDEX flow_templates_created_idx ON flow_templates (create_at DESC, id DESC);
CREATE INDEX flow_templates_user_idx ON flow_templates (user_id) WHERE scope = 'personal';
CREATE INDEX flow_templates_tenant_business_idx ON flow_templates (tenant_id, business_id);

-- +goose Down
DROP TABLE flow_templates;
