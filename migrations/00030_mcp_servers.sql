-- +goose Up
-- MCP servers: the registry of each tenant's MCP servers (projection
-- "mcp_servers"; the write side is the MCPServers aggregate, one stream
-- per tenant, system-scoped servers in the system tenant's). scope is the
-- API's mcp_scope (0 system, 1 tenant, 2 business, 3 personal). Every
-- value of env and headers is sealed (AES-GCM, key id in the value) here
-- as in the event log.

-- Server ids are allocated before the append (a gap is harmless).
CREATE SEQUENCE mcp_server_id_seq;

CREATE TABLE mcp_servers (
    id           bigint      PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    scope        integer     NOT NULL DEFAULT 1,
    business_id  bigint      NOT NULL DEFAULT 0,
    name         text        NOT NULL,
    mcp_type     text        NOT NULL,
    command      text        NOT NULL DEFAULT '',
    args         jsonb       NOT NULL DEFAULT '[]',
    env          jsonb       NOT NULL DEFAULT '{}',
    headers      jsonb       NOT NULL DEFAULT '{}',
    url          text        NOT NULL DEFAULT '',
    logo         text        NOT NULL DEFAULT '',
    note         text        NOT NULL DEFAULT '',
    is_active    boolean     NOT NULL DEFAULT true,
    action_count integer     NOT NULL DEFAULT 0,
    c_uid        bigint      NOT NULL DEFAULT 0,
    m_uid        bigint      NOT NULL DEFAULT 0,
    ctime        timestamptz NOT NULL,
    utime        timestamptz NOT NULL
);
CREATE INDEX mcp_servers_tenant_name_idx ON mcp_servers (tenant_id, name);

-- +goose Down
DROP TABLE mcp_servers;
DROP SEQUENCE mcp_server_id_seq;
