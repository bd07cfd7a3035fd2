-- +goose Up
-- The event log: the only truth of SkillFlaw.
--
-- global_position comes from an identity sequence with CACHE 1 (the default;
-- never raise it: a cached sequence lets a backend use a value long after it
-- was reserved, and the gap-safe reader assumes values are taken in order).
-- The reader in eventstore/postgres never passes a position that a
-- transaction still in flight may fill: see its package comment.
CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY (CACHE 1) PRIMARY KEY,
    event_id        uuid        NOT NULL,
    stream_id       text        NOT NULL,
    stream_version  bigint      NOT NULL CHECK (stream_version >= 0),
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version >= 1),
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    tenant_id       uuid,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

-- Replaying one tenant's history (audit) without scanning everyone's.
CREATE INDEX events_tenant_position_idx ON events (tenant_id, global_position) WHERE tenant_id IS NOT NULL;

-- One row per stream: its last revision. Appends check and move it in the
-- statement that inserts their events (eventstore/postgres), locking the
-- row: writers of one stream are serialised, other streams are untouched.
CREATE TABLE streams (
    stream_id text   PRIMARY KEY,
    version   bigint NOT NULL
);

-- +goose Down
DROP TABLE streams;
DROP TABLE events;
