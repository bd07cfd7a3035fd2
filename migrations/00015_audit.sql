-- +goose Up
-- Read model of the "audit_log" projection: every event that carries a
-- tenant, as stored (who, when, what), for GET /api/v1/audit/events.
CREATE TABLE audit_log (
    commit_position  bigint      NOT NULL,
    prepare_position bigint      NOT NULL,
    tenant_id        uuid        NOT NULL,
    event_id         uuid        NOT NULL,
    stream_id        text        NOT NULL,
    stream_version   bigint      NOT NULL,
    event_type       text        NOT NULL,
    actor_id         bigint      NOT NULL DEFAULT 0,
    occurred_at      timestamptz NOT NULL,
    correlation_id   text        NOT NULL DEFAULT '',
    client_ip        text        NOT NULL DEFAULT '',
    data             jsonb       NOT NULL,
    PRIMARY KEY (commit_position, prepare_position)
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, commit_position, prepare_position);
CREATE INDEX audit_log_tenant_time_idx ON audit_log (tenant_id, occurred_at);

-- +goose Down
DROP TABLE audit_log;
