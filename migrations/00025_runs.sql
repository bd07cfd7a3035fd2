-- +goose Up
-- Read model of the "runs" projection: one row per run of a flow (stream
-- run-<id>), with where it stands. The startup sweep reads the runs still
-- running to close those whose process is gone; the run API lists them.
CREATE TABLE runs (
    run_id      uuid        PRIMARY KEY,
    flow_id     uuid        NOT NULL,
    user_id     bigint      NOT NULL,
    owner_id    bigint      NOT NULL,
    tenant_id   uuid,
    business_id bigint      NOT NULL DEFAULT 0,
    public      boolean     NOT NULL DEFAULT false,
    instance    uuid        NOT NULL,
    status      text        NOT NULL,
    error       text,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz
);
CREATE INDEX runs_running_idx ON runs (instance) WHERE status = 'running';
CREATE INDEX runs_flow_idx ON runs (flow_id, started_at);

-- +goose Down
DROP TABLE runs;
