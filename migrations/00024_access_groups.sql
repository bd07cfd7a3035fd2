-- +goose Up
-- The access projection's copy of every user group (the tenant it belongs
-- to), so that a group named in a request resolves to its tenant from the
-- same read model as the privilege checks (tenancy.Locate). Groups that
-- exist when this migration runs are copied from the user_groups read
-- model, the fold of the same events; a rebuild of the access projection
-- from position 0 gives the same rows.
CREATE TABLE access_groups (
    group_id  bigint PRIMARY KEY,
    tenant_id uuid   NOT NULL
);
CREATE INDEX access_groups_tenant_idx ON access_groups (tenant_id);
INSERT INTO access_groups (group_id, tenant_id) SELECT group_id, tenant_id FROM user_groups;

-- +goose Down
DROP TABLE access_groups;
