-- +goose Up
-- The MCP server's SSE sessions, shared by the processes (mcpserver.Port):
-- a session lives in the process holding its GET; a message POSTed to
-- another process waits in mcp_sse_messages until the session's process,
-- told by NOTIFY mcp_sse, takes it. Unlogged: sessions do not outlive a
-- crash of the database.
CREATE UNLOGGED TABLE mcp_sse_sessions (
    session_id text        PRIMARY KEY,
    user_id    bigint      NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE UNLOGGED TABLE mcp_sse_messages (
    id         bigserial   PRIMARY KEY,
    session_id text        NOT NULL,
    body       bytea       NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX mcp_sse_messages_session_idx ON mcp_sse_messages (session_id);

-- +goose Down
DROP TABLE mcp_sse_messages;
DROP TABLE mcp_sse_sessions;
