-- +goose Up
-- Effective permissions (projection "access"). The projection keeps its
-- own copy of every input it needs — role items of the catalogue, tenant
-- grants, business roles, the business and org trees, org and group
-- members — so that it never reads another projection's tables (those
-- may be ahead of or behind it); from them it writes the grant paths
-- (access_paths) and derives access_privileges, per tenant on every
-- change of that tenant's inputs (the privileges of every tenant when a
-- role's items change).

CREATE TABLE access_role_privs (
    role_id   text NOT NULL,
    module_id text NOT NULL,
    priv_id   text NOT NULL,
    PRIMARY KEY (role_id, module_id, priv_id)
);

-- kind: user | group | org; subject_id: uid, group_id or org_id.
CREATE TABLE access_grants (
    id         bigint PRIMARY KEY,
    tenant_id  uuid   NOT NULL,
    kind       text   NOT NULL,
    subject_id bigint NOT NULL,
    role_id    text   NOT NULL
);
CREATE INDEX access_grants_tenant_idx ON access_grants (tenant_id);

CREATE TABLE access_business_roles (
    id          bigint PRIMARY KEY,
    tenant_id   uuid   NOT NULL,
    business_id bigint NOT NULL,
    uid         bigint NOT NULL,
    role_id     text   NOT NULL
);
CREATE INDEX access_business_roles_tenant_idx ON access_business_roles (tenant_id);

-- parent_id 0: a level-1 business / a root org. A disabled business
-- (is_enable false) passes no role on: not its own, not its ancestors'.
CREATE TABLE access_businesses (
    tenant_id   uuid    NOT NULL,
    business_id bigint  PRIMARY KEY,
    parent_id   bigint  NOT NULL,
    enabled     boolean NOT NULL
);
CREATE INDEX access_businesses_tenant_idx ON access_businesses (tenant_id);

-- A disabled org (is_enable false) gives its members nothing and its
-- grants hold for nobody.
CREATE TABLE access_orgs (
    tenant_id uuid    NOT NULL,
    org_id    bigint  PRIMARY KEY,
    parent_id bigint  NOT NULL,
    enabled   boolean NOT NULL
);
CREATE INDEX access_orgs_tenant_idx ON access_orgs (tenant_id);

CREATE TABLE access_org_members (
    member_id bigint PRIMARY KEY,
    tenant_id uuid   NOT NULL,
    org_id    bigint NOT NULL,
    uid       bigint NOT NULL
);
CREATE INDEX access_org_members_tenant_idx ON access_org_members (tenant_id);

CREATE TABLE access_group_members (
    member_id bigint PRIMARY KEY,
    tenant_id uuid   NOT NULL,
    group_id  bigint NOT NULL,
    uid       bigint NOT NULL
);
CREATE INDEX access_group_members_tenant_idx ON access_group_members (tenant_id);

-- Every way user uid holds role role_id in tenant_id, and where: business_id
-- 0 tenant-wide, else the business it holds in. via is user, group
-- (group_id), org (the granted org_id, reached from the user's org
-- member_org_id or a descendant of it) or business (the role is held in
-- source_business_id, this business or an ancestor of it); relation_id is
-- the grant. Effective privileges and Explain Permission both come from
-- these rows.
CREATE TABLE access_paths (
    tenant_id          uuid   NOT NULL,
    uid                bigint NOT NULL,
    business_id        bigint NOT NULL,
    role_id            text   NOT NULL,
    via                text   NOT NULL,
    relation_id        bigint NOT NULL,
    group_id           bigint NOT NULL,
    org_id             bigint NOT NULL,
    member_org_id      bigint NOT NULL,
    source_business_id bigint NOT NULL
);
CREATE INDEX access_paths_tenant_idx ON access_paths (tenant_id);
CREATE INDEX access_paths_uid_idx ON access_paths (uid, tenant_id, business_id);

-- The read model: user uid holds module_id.priv_id in tenant_id —
-- tenant-wide when business_id is 0, else in that business (a role held
-- in an ancestor business is materialised on every descendant; direct
-- tells whether a role is held in that very business).
CREATE TABLE access_privileges (
    uid         bigint  NOT NULL,
    tenant_id   uuid    NOT NULL,
    module_id   text    NOT NULL,
    priv_id     text    NOT NULL,
    business_id bigint  NOT NULL,
    direct      boolean NOT NULL,
    PRIMARY KEY (uid, tenant_id, module_id, priv_id, business_id)
);
CREATE INDEX access_privileges_tenant_idx ON access_privileges (tenant_id);

-- +goose Down
DROP TABLE access_privileges;
DROP TABLE access_paths;
DROP TABLE access_group_members;
DROP TABLE access_org_members;
DROP TABLE access_orgs;
DROP TABLE access_businesses;
DROP TABLE access_business_roles;
DROP TABLE access_grants;
DROP TABLE access_role_privs;
