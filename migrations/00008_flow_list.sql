-- +goose Up
-- Read Flows (GET /api/v1/flows/): one index per sort of a user's flows,
-- ending in id in the sort's direction (ties are broken by id), so a page
-- is an index scan in either direction with no sort, and a page of the
-- unfiltered list is read from the index alone. They replace the two
-- 00004 indexes they extend (same leading columns), which would only cost
-- writes: every flow event moves updated_at, so every index is written.
CREATE INDEX flows_list_updated_idx ON flows (user_id, updated_at DESC, id DESC);
CREATE INDEX flows_list_created_idx ON flows (user_id, create_at DESC, id DESC);
CREATE INDEX flows_list_name_idx ON flows (user_id, lower(name), id);
DROP INDEX flows_user_updated_idx;
DROP INDEX flows_user_name_idx;

-- +goose Down
CREATE INDEX flows_user_updated_idx ON flows (user_id, updated_at DESC, id);
CREATE INDEX flows_user_name_idx ON flows (user_id, lower(name));
DROP INDEX flows_list_name_idx;
DROP INDEX flows_list_created_idx;
DROP INDEX flows_list_updated_idx;
