-- +goose Up
-- Queued runs (worker mode) in the runs read model: queued marks a run
-- handed to the work queue (RunStarted.Queued), claimed one a worker holds
-- (RunClaimed, until a graceful hand-back releases it: RunReleased). The
-- re-publish sweep (runs.Service.Republish) reads the open, queued,
-- unclaimed runs to publish again the tasks whose publish was lost. The
-- runs recorded before this migration stay unmarked: their start carries
-- no sealed task, so they cannot be published again anyway.
ALTER TABLE runs ADD COLUMN queued boolean NOT NULL DEFAULT false;
ALTER TABLE runs ADD COLUMN claimed boolean NOT NULL DEFAULT false;
CREATE INDEX runs_unclaimed_idx ON runs (started_at) WHERE status = 'running' AND queued AND NOT claimed;

-- +goose Down
DROP INDEX runs_unclaimed_idx;
ALTER TABLE runs DROP COLUMN claimed;
ALTER TABLE runs DROP COLUMN queued;
