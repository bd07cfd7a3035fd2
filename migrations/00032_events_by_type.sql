-- +goose Up
-- Reading the log by event type (eventstore.TypeReader): a rebuild reads
-- only the events its projection handles.
CREATE INDEX events_type_position_idx ON events (event_type, global_position);

-- +goose Down
DROP INDEX events_type_position_idx;
