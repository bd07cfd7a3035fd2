-- +goose Up
-- Ids of messages and chat sessions (allocated before their events).
CREATE SEQUENCE message_id_seq;
CREATE SEQUENCE chat_session_id_seq;

-- Read models of the "messages" projection: chat sessions and their
-- messages. owner_id is the flow's owner (the monitor's reader), user_id the
-- user chatting in the session (the public chat's reader).
CREATE TABLE chat_sessions (
    stream       text        PRIMARY KEY,
    id           bigint      NOT NULL,
    flow_id      uuid,
    session_id   text        NOT NULL,
    session_name text        NOT NULL,
    owner_id     bigint      NOT NULL,
    user_id      bigint      NOT NULL,
    tenant_id    uuid,
    business_id  bigint      NOT NULL DEFAULT 0,
    is_active    boolean     NOT NULL DEFAULT true,
    create_at    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX chat_sessions_owner_idx ON chat_sessions (owner_id, flow_id, create_at);
CREATE INDEX chat_sessions_flow_idx ON chat_sessions (flow_id, create_at);
CREATE INDEX chat_sessions_session_idx ON chat_sessions (session_id);

CREATE TABLE messages (
    id             bigint      PRIMARY KEY,
    session_stream text        NOT NULL,
    flow_id        uuid,
    session_id     text        NOT NULL,
    owner_id       bigint      NOT NULL,
    user_id        bigint      NOT NULL,
    tenant_id      uuid,
    business_id    bigint      NOT NULL DEFAULT 0,
    sender         text        NOT NULL,
    sender_name    text        NOT NULL,
    text           text        NOT NULL,
    files          jsonb       NOT NULL,
    error          boolean     NOT NULL DEFAULT false,
    edit           boolean     NOT NULL DEFAULT false,
    properties     jsonb       NOT NULL,
    category       text        NOT NULL,
    content_blocks jsonb       NOT NULL,
    context_id     text,
    ip_address     text,
    flow_version   text,
    start_time     timestamptz,
    end_time       timestamptz,
    timestamp      timestamptz NOT NULL
);
CREATE INDEX messages_owner_idx ON messages (owner_id, id);
CREATE INDEX messages_flow_idx ON messages (flow_id, id);
CREATE INDEX messages_stream_idx ON messages (session_stream);

-- Read models of the "monitor" projection: vertex builds and transactions
-- of flow runs, recorded by the flow engine.
CREATE TABLE vertex_builds (
    build_id  uuid        PRIMARY KEY,
    flow_id   uuid        NOT NULL,
    id        text        NOT NULL,
    timestamp timestamptz NOT NULL,
    data      jsonb,
    artifacts jsonb,
    params    text,
    valid     boolean     NOT NULL,
    seq       bigint      NOT NULL
);
CREATE INDEX vertex_builds_flow_idx ON vertex_builds (flow_id, timestamp, seq);

CREATE TABLE transactions (
    id        uuid        PRIMARY KEY,
    flow_id   uuid        NOT NULL,
    timestamp timestamptz NOT NULL,
    vertex_id text        NOT NULL,
    target_id text,
    inputs    jsonb,
    outputs   jsonb,
    status    text        NOT NULL,
    error     text,
    seq       bigint      NOT NULL
);
CREATE INDEX transactions_flow_idx ON transactions (flow_id, timestamp, seq);

-- +goose Down
DROP TABLE transactions;
DROP TABLE vertex_builds;
DROP TABLE messages;
DROP TABLE chat_sessions;
DROP SEQUENCE chat_session_id_seq;
DROP SEQUENCE message_id_seq;
