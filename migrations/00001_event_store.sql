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

-- One row per stream: its last revision. Appends lock this row, which
-- serialises writers of one stream and leaves other streams alone.
CREATE TABLE streams (
    stream_id text   PRIMARY KEY,
    version   bigint NOT NULL
);

-- eventstore_reserve checks the expected version of a stream and reserves
-- the next n revisions; it returns the revision the last new event takes.
--   p_expected: -1 any, -2 no stream, -3 stream exists, >= 0 exact revision.
-- Raises SQLSTATE SF001 on a failed check, with the stream's current
-- revision (or 'none') as DETAIL. It also takes the transaction id before
-- any position is allocated: the gap-safe reader relies on every position's
-- owner being in the in-progress list of snapshots from the moment the
-- position exists.
-- +goose StatementBegin
CREATE FUNCTION eventstore_reserve(p_stream text, p_expected bigint, n integer) RETURNS bigint
LANGUAGE plpgsql AS $fn$
DECLARE
    last bigint;
BEGIN
    PERFORM pg_current_xact_id();
    IF p_expected = -1 THEN
        INSERT INTO streams AS s (stream_id, version) VALUES (p_stream, n - 1)
        ON CONFLICT (stream_id) DO UPDATE SET version = s.version + n
        RETURNING s.version INTO last;
    ELSIF p_expected = -2 THEN
        INSERT INTO streams (stream_id, version) VALUES (p_stream, n - 1)
        ON CONFLICT (stream_id) DO NOTHING
        RETURNING version INTO last;
    ELSIF p_expected = -3 THEN
        UPDATE streams SET version = version + n WHERE stream_id = p_stream
        RETURNING version INTO last;
    ELSE
        UPDATE streams SET version = version + n WHERE stream_id = p_stream AND version = p_expected
        RETURNING version INTO last;
    END IF;
    IF last IS NULL THEN
        RAISE EXCEPTION 'wrong expected version for stream %', p_stream
            USING ERRCODE = 'SF001',
                  DETAIL = coalesce((SELECT s.version::text FROM streams s WHERE s.stream_id = p_stream), 'none');
    END IF;
    RETURN last;
END
$fn$;
-- +goose StatementEnd

-- eventstore_append appends events to one stream in one statement (one round
-- trip, its own transaction when called outside one). Idempotency by event
-- id is the unique constraint events_event_id_key: the Go adapter looks a
-- failed append up and returns the stored result when it was a retry.
-- +goose StatementBegin
CREATE FUNCTION eventstore_append(
    p_stream   text,
    p_expected bigint,
    p_ids      uuid[],
    p_types    text[],
    p_schemas  integer[],
    p_data     jsonb[],
    p_meta     jsonb[]
) RETURNS TABLE (stream_version bigint, global_position bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    n    integer := cardinality(p_ids);
    last bigint := eventstore_reserve(p_stream, p_expected, cardinality(p_ids));
BEGIN
    RETURN QUERY
    INSERT INTO events AS e (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, tenant_id)
    SELECT u.id, p_stream, last - n + u.ord, u.typ, u.sv, u.dat, u.meta, (u.meta ->> 'tenant_id')::uuid
    FROM unnest(p_ids, p_types, p_schemas, p_data, p_meta) WITH ORDINALITY AS u(id, typ, sv, dat, meta, ord)
    ORDER BY u.ord
    RETURNING e.stream_version, e.global_position;
END
$fn$;
-- +goose StatementEnd

-- eventstore_append_one is eventstore_append for the common single event,
-- without arrays.
-- +goose StatementBegin
CREATE FUNCTION eventstore_append_one(
    p_stream   text,
    p_expected bigint,
    p_id       uuid,
    p_type     text,
    p_schema   integer,
    p_data     jsonb,
    p_meta     jsonb
) RETURNS TABLE (stream_version bigint, global_position bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
    last bigint := eventstore_reserve(p_stream, p_expected, 1);
BEGIN
    RETURN QUERY
    INSERT INTO events AS e (event_id, stream_id, stream_version, event_type, schema_version, data, metadata, tenant_id)
    VALUES (p_id, p_stream, last, p_type, p_schema, p_data, p_meta, (p_meta ->> 'tenant_id')::uuid)
    RETURNING e.stream_version, e.global_position;
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION eventstore_append_one(text, bigint, uuid, text, integer, jsonb, jsonb);
DROP FUNCTION eventstore_append(text, bigint, uuid[], text[], integer[], jsonb[], jsonb[]);
DROP FUNCTION eventstore_reserve(text, bigint, integer);
DROP TABLE streams;
DROP TABLE events;
