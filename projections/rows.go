package projections

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Rows of a read-model table written through Tx.Insert, Tx.Update and
// Tx.Add are merged in memory within a batch, per row: a flow created then
// renamed three times in one batch is one INSERT of its final state, not an
// INSERT and three UPDATEs (each UPDATE of a row writes a new tuple and an
// entry in every index the change touches). The merged rows are written as
// one statement per table and column set, each column passed as one array
// of the column's type (INSERT … SELECT FROM unnest($1::uuid[], …), UPDATE …
// FROM unnest(…)); the types are read from the catalogue once per table
// (rebuild shadow tables are LIKE copies: the same types).
//
// Order is kept: rows merged before a statement (Queue, Exec, Query) are
// written before it, so it sees them; rows merged after it are written
// after it.

// rowWrite is the merged write of one row: an insert of the whole row, or
// an update of some columns (set to values, and counters moved by adds).
type rowWrite struct {
	insert bool
	cols   map[string]any
	adds   map[string]int64
}

// rowBuffer holds one table's merged writes, in first-write order.
type rowBuffer struct {
	table, key string
	order      []any
	rows       map[any]*rowWrite
}

// Insert records a new row of table, whose key column key has value id,
// with the given columns (the others take their defaults). Values are
// encoded by pgx as elements of an array of the column's type: pass
// json.RawMessage for jsonb columns, int64 for counters that Add may move.
func (t *Tx) Insert(table, key string, id any, cols map[string]any) {
	t.write(table, key, id, true, cols)
}

// Update sets columns of the row of table whose key column key has value
// id. An update of a row inserted or updated earlier in the batch merges
// into that write.
func (t *Tx) Update(table, key string, id any, cols map[string]any) {
	t.write(table, key, id, false, cols)
}

// Add moves integer (bigint or integer) columns of the row of table whose
// key column key has value id by the given amounts, as "SET c = c + n"
// does; merged like Update (into an insert of the batch when the column's
// value is there).
func (t *Tx) Add(table, key string, id any, by map[string]int64) {
	b := t.buffer(table, key)
	w, ok := b.rows[id]
	if ok && !w.canAdd(by) {
		t.seal() // a value Add cannot move in memory: write it first
		b, ok = t.buffer(table, key), false
	}
	if !ok {
		w = &rowWrite{cols: map[string]any{}}
		b.order = append(b.order, id)
		b.rows[id] = w
	}
	for c, n := range by {
		if v, isSet := w.cols[c]; isSet {
			w.cols[c] = v.(int64) + n
			continue
		}
		if w.adds == nil {
			w.adds = map[string]int64{}
		}
		w.adds[c] += n
	}
}

// canAdd reports whether the adds can merge into w: each column either
// holds an int64 value, or is not set by an update.
func (w *rowWrite) canAdd(by map[string]int64) bool {
	for c := range by {
		v, isSet := w.cols[c]
		if _, isInt := v.(int64); (isSet && !isInt) || (!isSet && w.insert) {
			return false
		}
	}
	return true
}

func (t *Tx) write(table, key string, id any, insert bool, cols map[string]any) {
	b := t.buffer(table, key)
	if w, ok := b.rows[id]; ok && !insert {
		for c := range cols {
			delete(w.adds, c) // a value set after an add replaces it
		}
		maps.Copy(w.cols, cols)
		return
	} else if ok {
		t.seal() // a second insert of one key: keep the writes' order
		b = t.buffer(table, key)
	}
	b.order = append(b.order, id)
	b.rows[id] = &rowWrite{insert: insert, cols: maps.Clone(cols)}
}

func (t *Tx) buffer(table, key string) *rowBuffer {
	if t.open == nil {
		t.open = map[string]*rowBuffer{}
	}
	b, ok := t.open[table]
	if !ok || b.key != key {
		if ok {
			t.seal()
		}
		b = &rowBuffer{table: table, key: key, rows: map[any]*rowWrite{}}
		t.open[table] = b
		t.tables = append(t.tables, table)
	}
	return b
}

// seal moves the rows merged so far into the pending items, before
// whatever is queued next.
func (t *Tx) seal() {
	for _, table := range t.tables {
		t.pending = append(t.pending, pendingItem{rows: t.open[table]})
	}
	t.open, t.tables = nil, nil
}

// maxRowsPerStatement bounds the arrays of one statement.
const maxRowsPerStatement = 5000

// queue adds to batch the statements that write b's rows: per kind
// (insert, update) and column set, in first-write order of the sets.
func (b *rowBuffer) queue(ctx context.Context, t *Tx, batch *pgx.Batch) error {
	type group struct {
		insert     bool
		cols, adds []string
		rows       []*rowWrite
		ids        []any
	}
	var groups []*group
	index := map[string]*group{}
	for _, id := range b.order {
		w := b.rows[id]
		cols, adds := slices.Sorted(maps.Keys(w.cols)), slices.Sorted(maps.Keys(w.adds))
		sig := fmt.Sprint(w.insert, cols, adds)
		g, ok := index[sig]
		if !ok {
			g = &group{insert: w.insert, cols: cols, adds: adds}
			index[sig] = g
			groups = append(groups, g)
		}
		g.rows, g.ids = append(g.rows, w), append(g.ids, id)
	}
	types, err := t.columnTypes(ctx, b.table)
	if err != nil {
		return err
	}
	typeOf := func(c string) (string, error) {
		if typ, ok := types[c]; ok {
			return typ, nil
		}
		return "", fmt.Errorf("rows of %s: no column %q", b.table, c)
	}
	table := pgx.Identifier{b.table}.Sanitize()
	for _, g := range groups {
		// The columns passed, in order: an update's key first, then its
		// values, then its adds.
		cols := g.cols
		if !g.insert {
			cols = append(append([]string{b.key}, g.cols...), g.adds...)
		}
		arrays := make([]string, len(cols))
		names := make([]string, len(cols))
		for i, c := range cols {
			typ, err := typeOf(c)
			if err != nil {
				return err
			}
			arrays[i] = fmt.Sprintf("$%d::%s[]", i+1, typ)
			names[i] = pgx.Identifier{c}.Sanitize()
		}
		var sql string
		if g.insert {
			sql = `INSERT INTO ` + table + ` (` + strings.Join(names, ", ") + `) SELECT * FROM unnest(` + strings.Join(arrays, ", ") + `)`
		} else {
			set := make([]string, 0, len(g.cols)+len(g.adds))
			for _, q := range names[1 : 1+len(g.cols)] {
				set = append(set, q+` = v.`+q)
			}
			for _, q := range names[1+len(g.cols):] {
				set = append(set, q+` = t.`+q+` + v.`+q)
			}
			sql = `UPDATE ` + table + ` t SET ` + strings.Join(set, ", ") + ` FROM unnest(` + strings.Join(arrays, ", ") +
				`) AS v(` + strings.Join(names, ", ") + `) WHERE t.` + names[0] + ` = v.` + names[0]
		}
		for start := 0; start < len(g.rows); start += maxRowsPerStatement {
			rows, ids := g.rows[start:min(start+maxRowsPerStatement, len(g.rows))], g.ids[start:]
			args := make([]any, len(cols))
			for i, c := range cols {
				col := make([]any, len(rows))
				for k, w := range rows {
					switch {
					case !g.insert && i == 0:
						col[k] = ids[k]
					case !g.insert && i > len(g.cols):
						col[k] = w.adds[c]
					default:
						col[k] = w.cols[c]
					}
				}
				args[i] = col
			}
			batch.Queue(sql, args...)
		}
	}
	return nil
}

// columnTypes caches the column types of read-model tables: name -> SQL
// type, per table.
type columnTypes struct {
	mu     sync.Mutex
	tables map[string]map[string]string
}

// columnTypes returns the column types of table, from the cache or the
// catalogue (as the transaction's search_path finds the table).
func (t *Tx) columnTypes(ctx context.Context, table string) (map[string]string, error) {
	if t.types != nil {
		t.types.mu.Lock()
		types, ok := t.types.tables[table]
		t.types.mu.Unlock()
		if ok {
			return types, nil
		}
	}
	rows, err := t.tx.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, pgx.Identifier{table}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	types := map[string]string{}
	var name, typ string
	if _, err := pgx.ForEachRow(rows, []any{&name, &typ}, func() error { types[name] = typ; return nil }); err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("columns of %s: no such table", table)
	}
	if t.types != nil {
		t.types.mu.Lock()
		if t.types.tables == nil {
			t.types.tables = map[string]map[string]string{}
		}
		t.types.tables[table] = types
		t.types.mu.Unlock()
	}
	return types, nil
}
