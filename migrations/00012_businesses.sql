-- +goose Up
-- Businesses in three levels (projection "businesses"; the write side is
-- the BusinessTree aggregate, one stream per tenant).

-- Business ids are allocated before the append (a gap is harmless).
CREATE SEQUENCE business_id_seq;

-- Read model: one row per business, with every field of the API's answer.
-- first/second/third_business_id are the ids of the business's ancestors
-- and of itself at each level, 0 below its own level.
CREATE TABLE businesses (
    business_id        bigint      PRIMARY KEY,
    tenant_id          uuid        NOT NULL,
    business_name      text        NOT NULL,
    business_level     integer     NOT NULL,
    first_business_id  bigint      NOT NULL,
    second_business_id bigint      NOT NULL DEFAULT 0,
    third_business_id  bigint      NOT NULL DEFAULT 0,
    is_enable          boolean     NOT NULL,
    note               text,
    c_uid              bigint      NOT NULL DEFAULT 0,
    m_uid              bigint      NOT NULL DEFAULT 0,
    ctime              timestamptz NOT NULL,
    utime              timestamptz NOT NULL
);
-- Lists are ordered as the tree (depth first, by id) within a tenant.
CREATE INDEX businesses_tenant_tree_idx ON businesses (tenant_id, first_business_id, second_business_id, third_business_id);
CREATE INDEX businesses_tenant_second_idx ON businesses (tenant_id, second_business_id);

-- Read model: each tenant's businesses as one nested tree (a JSON array of
-- level-1 nodes, each with its "children"), rewritten by the projector
-- after every change of the tenant's businesses.
CREATE TABLE business_trees (
    tenant_id uuid  PRIMARY KEY,
    tree      jsonb NOT NULL
);

-- Read model: the users of each business (members through their business
-- roles): a user has a row while they hold a role in the business
-- (business_user_roles, 00018).
CREATE TABLE business_users (
    tenant_id   uuid   NOT NULL,
    business_id bigint NOT NULL,
    uid         bigint NOT NULL,
    PRIMARY KEY (business_id, uid)
);
CREATE INDEX business_users_uid_idx ON business_users (uid);

-- +goose Down
DROP TABLE business_users;
DROP TABLE business_trees;
DROP TABLE businesses;
DROP SEQUENCE business_id_seq;
