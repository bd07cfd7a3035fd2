-- +goose Up
-- One row per projector: how far it has read the log, and what went wrong.
-- A projector updates its row in the same transaction as its read-model
-- change, and only if the row still holds the position it started from, so
-- a redelivered event changes nothing and two instances never both apply one.
CREATE TABLE projection_checkpoints (
    name             text        PRIMARY KEY,
    commit_position  bigint      NOT NULL DEFAULT 0,
    prepare_position bigint      NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    error_position   bigint,
    error_count      integer     NOT NULL DEFAULT 0,
    error_at         timestamptz,
    unknown_types    jsonb       NOT NULL DEFAULT '{}'::jsonb
);

-- +goose Down
DROP TABLE projection_checkpoints;
