-- +goose Up
-- Where `skillflaw migrate-log` stands in copying this database's log to
-- another store (package eventstore/logcopy): one row per target, keyed by
-- a hash of the target's kind and redacted URL, updated after every append
-- to the target, so that a copy that stopped resumes. The row lives in the
-- source database: the target may not be PostgreSQL.
CREATE TABLE log_copy_checkpoints (
    target          text PRIMARY KEY,
    target_name     text NOT NULL,   -- the redacted URL, for people
    source_commit   bigint NOT NULL, -- the last source event copied
    source_prepare  bigint NOT NULL,
    target_commit   bigint NOT NULL, -- where it landed in the target
    target_prepare  bigint NOT NULL,
    events          bigint NOT NULL, -- events copied so far
    appends         bigint NOT NULL, -- appends that copied them
    started_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Which log the read models' positions (projection checkpoints, audit_log)
-- are positions of: no row is the PostgreSQL events table; "kurrentdb" once
-- `skillflaw migrate-log --to kurrentdb` has copied the log, verified it
-- and moved those positions to KurrentDB's (logcopy.SwitchReadModels). The
-- start refuses a store that the read models do not follow.
CREATE TABLE read_model_log (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    store       text NOT NULL,
    switched_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE read_model_log;
DROP TABLE log_copy_checkpoints;
