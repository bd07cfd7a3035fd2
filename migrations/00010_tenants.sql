-- +goose Up
-- Read model of the "tenants" projection.
CREATE TABLE tenants (
    tenant_id   uuid        PRIMARY KEY,
    tenant_name text        NOT NULL,
    is_sys      boolean     NOT NULL DEFAULT false,
    is_active   boolean     NOT NULL DEFAULT true,
    note        text,
    c_uid       bigint      NOT NULL DEFAULT 0,
    m_uid       bigint      NOT NULL DEFAULT 0,
    ctime       timestamptz NOT NULL,
    utime       timestamptz NOT NULL,
    version     bigint      NOT NULL
);
CREATE INDEX tenants_name_idx ON tenants (lower(tenant_name));

-- +goose Down
DROP TABLE tenants;
