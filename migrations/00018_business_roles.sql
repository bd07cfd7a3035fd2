-- +goose Up
-- Business user roles (Upsert Business User Roles #102, removals #103–105;
-- projection "businesses", the write side is the BusinessTree aggregate).

-- Role relation ids come from role_relation_id_seq, which
-- 00017_tenant_grants.sql creates (one sequence for every kind of role
-- relation), allocated before the append (a gap is harmless).

-- Read model: one row per role relation: user uid holds role role_id of
-- the permission catalogue in business business_id. A user has a row in
-- business_users while they have at least one here.
CREATE TABLE business_user_roles (
    id          bigint      PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    business_id bigint      NOT NULL,
    uid         bigint      NOT NULL,
    role_id     text        NOT NULL,
    c_uid       bigint      NOT NULL DEFAULT 0,
    ctime       timestamptz NOT NULL
);
CREATE INDEX business_user_roles_business_idx ON business_user_roles (business_id, uid);
CREATE INDEX business_user_roles_uid_idx ON business_user_roles (uid);

-- +goose Down
DROP TABLE business_user_roles;
