-- +goose Up
-- Organisations and their members (projection "orgs"; the write side is
-- the OrgTree aggregate, one stream per tenant).

-- Org and member ids are allocated before the append (a gap is harmless).
CREATE SEQUENCE org_id_seq;
CREATE SEQUENCE org_member_id_seq;

-- Read model: one row per org. one_org_id .. six_org_id are the ids of the
-- org's ancestors by level, its own id at its own level, 0 below it.
CREATE TABLE orgs (
    org_id        bigint      PRIMARY KEY,
    tenant_id     uuid        NOT NULL,
    org_name      text        NOT NULL,
    org_code      text,
    org_level     integer     NOT NULL,
    one_org_id    bigint      NOT NULL DEFAULT 0,
    two_org_id    bigint      NOT NULL DEFAULT 0,
    three_org_id  bigint      NOT NULL DEFAULT 0,
    four_org_id   bigint      NOT NULL DEFAULT 0,
    five_org_id   bigint      NOT NULL DEFAULT 0,
    six_org_id    bigint      NOT NULL DEFAULT 0,
    parent_org_id bigint      NOT NULL DEFAULT 0,
    is_enable     boolean     NOT NULL,
    note          text,
    c_uid         bigint      NOT NULL DEFAULT 0,
    m_uid         bigint      NOT NULL DEFAULT 0,
    ctime         timestamptz NOT NULL,
    utime         timestamptz NOT NULL,
    version       bigint      NOT NULL
);
CREATE INDEX orgs_tenant_idx ON orgs (tenant_id, org_id);

-- Read model: one row per member of an org. The user's names come from
-- the users read model when reading.
CREATE TABLE org_members (
    id        bigint      PRIMARY KEY,
    tenant_id uuid        NOT NULL,
    org_id    bigint      NOT NULL,
    uid       bigint      NOT NULL,
    position  text        NOT NULL,
    job       text        NOT NULL,
    is_leader boolean     NOT NULL,
    c_uid     bigint      NOT NULL DEFAULT 0,
    m_uid     bigint      NOT NULL DEFAULT 0,
    ctime     timestamptz NOT NULL,
    utime     timestamptz NOT NULL,
    version   bigint      NOT NULL
);
CREATE INDEX org_members_org_idx ON org_members (org_id, uid);
CREATE INDEX org_members_tenant_idx ON org_members (tenant_id, uid);

-- Read model: the nested org tree of each tenant that has orgs (Read Org
-- Tree), rewritten by the projector whenever an org of the tenant changes.
-- tree is a JSON array of the root orgs, each with its "children", ordered
-- by org_id at every level.
CREATE TABLE org_trees (
    tenant_id uuid        PRIMARY KEY,
    tree      jsonb       NOT NULL,
    utime     timestamptz NOT NULL,
    version   bigint      NOT NULL
);

-- +goose Down
DROP TABLE org_trees;
DROP TABLE org_members;
DROP TABLE orgs;
DROP SEQUENCE org_member_id_seq;
DROP SEQUENCE org_id_seq;
