-- +goose Up
-- Tenant role grants: the roles granted in a tenant to users, user groups
-- and orgs (projection "tenant_grants"; the write side is the TenantGrants
-- aggregate, one stream per tenant).

-- Relation ids of every kind come from one sequence, allocated before the
-- append (a gap is harmless).
CREATE SEQUENCE role_relation_id_seq;

-- Read model: one row per relation. kind is user | group | org;
-- subject_id is the user's uid, the group_id or the org_id. Names come
-- from users / user_groups / orgs / tenants / perm_roles when reading.
CREATE TABLE tenant_role_relations (
    id         bigint      PRIMARY KEY,
    tenant_id  uuid        NOT NULL,
    kind       text        NOT NULL,
    subject_id bigint      NOT NULL,
    role_id    text        NOT NULL,
    c_uid      bigint      NOT NULL DEFAULT 0,
    ctime      timestamptz NOT NULL
);
CREATE INDEX tenant_role_relations_tenant_idx ON tenant_role_relations (tenant_id, kind, id);
CREATE INDEX tenant_role_relations_subject_idx ON tenant_role_relations (kind, subject_id, tenant_id);

-- +goose Down
DROP TABLE tenant_role_relations;
DROP SEQUENCE role_relation_id_seq;
