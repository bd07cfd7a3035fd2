-- +goose Up
-- Read model of the "files" projection: the metadata of uploaded files
-- (their content is in the blob store, under blob_key). kind 'user' rows
-- are the v2 user files, kind 'flow' rows the v1 files of a flow
-- (flow_id, name). Deleted files have no row.
CREATE TABLE files (
    id          uuid        PRIMARY KEY,
    kind        text        NOT NULL,
    user_id     bigint      NOT NULL,
    flow_id     uuid,
    tenant_id   uuid,
    business_id bigint      NOT NULL DEFAULT 0,
    is_self     boolean     NOT NULL DEFAULT false,
    name        text        NOT NULL,
    path        text        NOT NULL,
    size        bigint      NOT NULL,
    provider    text        NOT NULL,
    blob_key    text        NOT NULL,
    sha256      text        NOT NULL,
    c_uid       bigint      NOT NULL DEFAULT 0,
    m_uid       bigint      NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    version     bigint      NOT NULL
);
CREATE INDEX files_user_idx ON files (user_id, kind, created_at);
CREATE INDEX files_flow_idx ON files (flow_id, name) WHERE flow_id IS NOT NULL;
CREATE INDEX files_blob_idx ON files (blob_key);

-- +goose Down
DROP TABLE files;
