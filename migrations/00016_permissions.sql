-- +goose Up
-- The permission catalogue (projection "permissions"; the write side is the
-- PermissionCatalogue aggregate, the one stream permissions-catalogue). The
-- tables are tiny (tens of modules, hundreds of items): the trees of Read
-- Module Priv Tree and Read Role Priv Tree are grouped at read time from
-- one ordered join.

CREATE TABLE perm_modules (
    module_id   text        PRIMARY KEY,
    module_name text        NOT NULL,
    c_uid       bigint      NOT NULL DEFAULT 0,
    m_uid       bigint      NOT NULL DEFAULT 0,
    ctime       timestamptz NOT NULL,
    utime       timestamptz NOT NULL
);

CREATE TABLE perm_privs (
    module_id     text        NOT NULL,
    priv_id       text        NOT NULL,
    priv_name     text        NOT NULL,
    is_sys_priv   boolean     NOT NULL,
    priv_opr_type text        NOT NULL,
    c_uid         bigint      NOT NULL DEFAULT 0,
    m_uid         bigint      NOT NULL DEFAULT 0,
    ctime         timestamptz NOT NULL,
    utime         timestamptz NOT NULL,
    PRIMARY KEY (module_id, priv_id)
);

CREATE TABLE perm_roles (
    role_id     text        PRIMARY KEY,
    role_name   text        NOT NULL,
    is_sys_role boolean     NOT NULL,
    c_uid       bigint      NOT NULL DEFAULT 0,
    m_uid       bigint      NOT NULL DEFAULT 0,
    ctime       timestamptz NOT NULL,
    utime       timestamptz NOT NULL
);

CREATE TABLE perm_role_privs (
    role_id   text        NOT NULL,
    module_id text        NOT NULL,
    priv_id   text        NOT NULL,
    c_uid     bigint      NOT NULL DEFAULT 0,
    ctime     timestamptz NOT NULL,
    PRIMARY KEY (role_id, module_id, priv_id)
);
CREATE INDEX perm_role_privs_priv_idx ON perm_role_privs (module_id, priv_id);

-- +goose Down
DROP TABLE perm_role_privs;
DROP TABLE perm_roles;
DROP TABLE perm_privs;
DROP TABLE perm_modules;
