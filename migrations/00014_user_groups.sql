-- +goose Up
-- User groups and their members (projection "user_groups"; the write side
-- is the UserGroups aggregate, one stream per tenant).

-- Group and member ids are allocated before the append (a gap is harmless).
CREATE SEQUENCE group_id_seq;
CREATE SEQUENCE group_member_id_seq;

-- Read model: one row per group.
CREATE TABLE user_groups (
    group_id   bigint      PRIMARY KEY,
    tenant_id  uuid        NOT NULL,
    group_name text        NOT NULL,
    is_enable  boolean     NOT NULL,
    note       text,
    c_uid      bigint      NOT NULL DEFAULT 0,
    m_uid      bigint      NOT NULL DEFAULT 0,
    ctime      timestamptz NOT NULL,
    utime      timestamptz NOT NULL
);
CREATE INDEX user_groups_tenant_idx ON user_groups (tenant_id, group_id);
CREATE INDEX user_groups_tenant_name_idx ON user_groups (tenant_id, lower(group_name));

-- Read model: one row per member of a group. The user's names come from
-- the users read model when reading.
CREATE TABLE user_group_members (
    id        bigint      PRIMARY KEY,
    tenant_id uuid        NOT NULL,
    group_id  bigint      NOT NULL,
    uid       bigint      NOT NULL,
    is_leader boolean     NOT NULL,
    c_uid     bigint      NOT NULL DEFAULT 0,
    m_uid     bigint      NOT NULL DEFAULT 0,
    ctime     timestamptz NOT NULL,
    utime     timestamptz NOT NULL
);
CREATE INDEX user_group_members_group_idx ON user_group_members (group_id, id);
CREATE INDEX user_group_members_tenant_idx ON user_group_members (tenant_id, group_id);
CREATE INDEX user_group_members_uid_idx ON user_group_members (uid);

-- +goose Down
DROP TABLE user_group_members;
DROP TABLE user_groups;
DROP SEQUENCE group_member_id_seq;
DROP SEQUENCE group_id_seq;
