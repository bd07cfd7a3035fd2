-- +goose Up
-- Effective permissions (projection "access"). The projection keeps its
-- own copy of every input it needs — role items of the catalogue, tenant
-- grants, business roles, the business and org trees, org and group
-- members — so that it never reads another projection's tables (those
-- may be ahead of or behind it); from them it materialises
-- access_privileges, recomputed per tenant on every change of that
-- tenant's inputs (and for every tenant when a role's items change).

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
DROP TABLE access_group_members;
DROP TABLE access_org_members;
DROP TABLE access_orgs;
DROP TABLE access_businesses;
DROP TABLE access_business_roles;
DROP TABLE access_grants;
DROP TABLE access_role_privs;
