-- +goose Up
-- Snapshots of aggregates with long streams of big events (flows): a cache
-- of the fold at a revision, so that loading reads only the events after
-- it. Never a truth: deleting rows only makes loads slower.
CREATE TABLE aggregate_snapshots (
    stream_id        text        PRIMARY KEY,
    revision         bigint      NOT NULL,
    snapshot_version integer     NOT NULL,
    state            bytea       NOT NULL,
    taken_at         timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE aggregate_snapshots;
