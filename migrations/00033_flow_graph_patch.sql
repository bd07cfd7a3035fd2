-- +goose Up
-- RFC 6902 JSON Patch for the flows read model: the flows projection
-- applies a flow.graph_patched event's patch to the row's graph in the
-- UPDATE itself (data = flow_graph_patch(data, $patch)), on jsonb's binary
-- form: the graph is neither sent to the projector nor parsed from text
-- again. The log's folds apply the same patches in Go (package graphpatch);
-- the tests compare the two at every edit of long chains. An operation
-- that does not apply raises an error, which stops the projector rather
-- than let the row drift from the log.

-- flow_graph_pointer splits an RFC 6901 JSON Pointer into a jsonb path.
-- +goose StatementBegin
CREATE FUNCTION flow_graph_pointer(ptr text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    IF ptr = '' THEN
        RETURN '{}'::text[];
    END IF;
    IF left(ptr, 1) <> '/' THEN
        RAISE EXCEPTION 'JSON pointer % does not start with /', ptr;
    END IF;
    RETURN ARRAY(SELECT replace(replace(tok, '~1', '/'), '~0', '~')
                 FROM unnest(regexp_split_to_array(substr(ptr, 2), '/')) WITH ORDINALITY AS t(tok, n) ORDER BY n);
END $$;
-- +goose StatementEnd

-- flow_graph_add is RFC 6902's add of v at path in doc.
-- +goose StatementBegin
CREATE FUNCTION flow_graph_add(doc jsonb, path text[], v jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    n      int := cardinality(path);
    parent text[];
    host   jsonb;
    last   text;
    len    int;
    idx    int;
BEGIN
    IF n = 0 THEN
        RETURN v;
    END IF;
    parent := path[1:n-1];
    last := path[n];
    host := doc #> parent;
    CASE jsonb_typeof(host)
    WHEN 'object' THEN
        RETURN jsonb_set(doc, path, v, true);
    WHEN 'array' THEN
        len := jsonb_array_length(host);
        IF last = '-' THEN
            idx := len;
        ELSIF last ~ '^(0|[1-9][0-9]{0,8})$' THEN
            idx := last::int;
        ELSE
            RAISE EXCEPTION 'add: % is not an index of the array at %', last, parent;
        END IF;
        IF idx > len THEN
            RAISE EXCEPTION 'add: index % is past the end of the array at % (length %)', idx, parent, len;
        ELSIF idx = len THEN
            host := host || jsonb_build_array(v);
            IF n = 1 THEN
                RETURN host;
            END IF;
            RETURN jsonb_set(doc, parent, host, false);
        END IF;
        RETURN jsonb_insert(doc, path, v, false);
    ELSE
        RAISE EXCEPTION 'add: no object or array at %', parent;
    END CASE;
END $$;
-- +goose StatementEnd

-- flow_graph_patch applies an RFC 6902 patch (an array of operations) to
-- doc: add, remove, replace, move, copy and test.
-- +goose StatementBegin
CREATE FUNCTION flow_graph_patch(doc jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    op   jsonb;
    path text[];
    src  text[];
    v    jsonb;
BEGIN
    IF jsonb_typeof(patch) <> 'array' THEN
        RAISE EXCEPTION 'a JSON patch is an array of operations, not %', jsonb_typeof(patch);
    END IF;
    FOR op IN SELECT e FROM jsonb_array_elements(patch) AS e LOOP
        path := flow_graph_pointer(op->>'path');
        IF path IS NULL THEN
            RAISE EXCEPTION 'operation % has no path', op;
        END IF;
        CASE op->>'op'
        WHEN 'add' THEN
            IF NOT op ? 'value' THEN
                RAISE EXCEPTION 'operation % has no value', op;
            END IF;
            doc := flow_graph_add(doc, path, op->'value');
        WHEN 'replace' THEN
            IF NOT op ? 'value' THEN
                RAISE EXCEPTION 'operation % has no value', op;
            END IF;
            IF cardinality(path) = 0 THEN
                doc := op->'value';
            ELSIF doc #> path IS NULL THEN
                RAISE EXCEPTION 'replace: nothing at %', op->>'path';
            ELSE
                doc := jsonb_set(doc, path, op->'value', false);
            END IF;
        WHEN 'remove' THEN
            IF cardinality(path) = 0 OR doc #> path IS NULL THEN
                RAISE EXCEPTION 'remove: nothing at %', op->>'path';
            END IF;
            doc := doc #- path;
        WHEN 'move', 'copy' THEN
            src := flow_graph_pointer(op->>'from');
            v := doc #> src;
            IF v IS NULL THEN
                RAISE EXCEPTION '%: nothing at %', op->>'op', op->>'from';
            END IF;
            IF op->>'op' = 'move' THEN
                IF src = path THEN
                    CONTINUE;
                END IF;
                doc := doc #- src;
            END IF;
            doc := flow_graph_add(doc, path, v);
        WHEN 'test' THEN
            IF doc #> path IS DISTINCT FROM op->'value' THEN
                RAISE EXCEPTION 'test: % does not hold %', op->>'path', op->'value';
            END IF;
        ELSE
            RAISE EXCEPTION 'unknown operation %', op->>'op';
        END CASE;
    END LOOP;
    RETURN doc;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION flow_graph_patch(jsonb, jsonb);
DROP FUNCTION flow_graph_add(jsonb, text[], jsonb);
DROP FUNCTION flow_graph_pointer(text);
