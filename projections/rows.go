package projections

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Rows of a read-model table written through Tx.Insert and Tx.Update are
// merged in memory within a batch, per row: a flow created then renamed
// three times in one batch is one INSERT of its final state, not an INSERT
// and three UPDATEs (each UPDATE of a row writes a new tuple and an entry
// in every index the change touches). The merged rows are written as one
// statement per table and column set, passing the rows as one JSON array
// that jsonb_populate_recordset types by the table's own row type (so the
// same statement fills a rebuild's shadow table, found first on the
// search_path).
//
// Order is kept: any other statement of the batch (Queue, Exec, Query)
// first writes the merged rows, so it sees them, and rows merged after it
// are written after it.

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
// written as JSON: pass json.RawMessage for jsonb columns.
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
		t.materialize() // a value Add cannot move in memory: write it first
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
		t.materialize() // a second insert of one key: keep the statements' order
		b = t.buffer(table, key)
	}
	b.order = append(b.order, id)
	b.rows[id] = &rowWrite{insert: insert, cols: maps.Clone(cols)}
}

func (t *Tx) buffer(table, key string) *rowBuffer {
	if t.buffers == nil {
		t.buffers = map[string]*rowBuffer{}
	}
	b, ok := t.buffers[table]
	if !ok || b.key != key {
		if ok {
			t.materialize()
		}
		b = &rowBuffer{table: table, key: key, rows: map[any]*rowWrite{}}
		t.buffers[table] = b
		t.tables = append(t.tables, table)
	}
	return b
}

// materialize queues the merged rows as statements and empties the
// buffers.
func (t *Tx) materialize() {
	if len(t.buffers) == 0 {
		return
	}
	for _, table := range t.tables {
		if b, ok := t.buffers[table]; ok {
			b.queue(t)
		}
	}
	t.buffers, t.tables = nil, nil
}

// maxRowsPerStatement bounds the JSON document of one statement.
const maxRowsPerStatement = 5000

// queue adds the statements that write b's rows: per kind (insert, update)
// and column set, in first-write order of the sets.
func (b *rowBuffer) queue(t *Tx) {
	type group struct {
		insert     bool
		cols, adds []string
		rows       []map[string]any
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
		row := w.cols
		if !w.insert {
			row = maps.Clone(w.cols)
			row[b.key] = id
			for c, n := range w.adds {
				row[c] = n
			}
		}
		g.rows = append(g.rows, row)
	}
	table := pgx.Identifier{b.table}.Sanitize()
	for _, g := range groups {
		var sql string
		if g.insert {
			cols := quoteAll(g.cols)
			sql = `INSERT INTO ` + table + ` (` + cols + `) SELECT ` + cols +
				` FROM jsonb_populate_recordset(NULL::` + table + `, $1)`
		} else {
			key := pgx.Identifier{b.key}.Sanitize()
			set := make([]string, 0, len(g.cols)+len(g.adds))
			for _, c := range g.cols {
				q := pgx.Identifier{c}.Sanitize()
				set = append(set, q+` = v.`+q)
			}
			for _, c := range g.adds {
				q := pgx.Identifier{c}.Sanitize()
				set = append(set, q+` = t.`+q+` + v.`+q)
			}
			sql = `UPDATE ` + table + ` t SET ` + strings.Join(set, ", ") +
				` FROM jsonb_populate_recordset(NULL::` + table + `, $1) v WHERE t.` + key + ` = v.` + key
		}
		for rows := range slices.Chunk(g.rows, maxRowsPerStatement) {
			doc, err := json.Marshal(rows)
			if err != nil {
				t.err = fmt.Errorf("rows of %s: %w", b.table, err)
				return
			}
			t.queued.Queue(sql, doc)
		}
	}
}

func quoteAll(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(q, ", ")
}
