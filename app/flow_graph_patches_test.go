package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/graphpatch"
	"github.com/skillflaw/skillflaw-go/internal/testkit/promptgraph"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// gpEdit changes g as an editor would: mostly a move or a value, sometimes
// a node more or less, now and then an insertion at the front (which
// shifts every node: recorded whole).
func gpEdit(g *promptgraph.Graph, rng *rand.Rand, step int) {
	node := g.Nodes[rng.IntN(len(g.Nodes))]
	switch k := rng.IntN(20); {
	case k < 9:
		node["position"].(map[string]any)["x"] = rng.IntN(100000) - 50000
	case k < 14:
		tmpl := node["data"].(map[string]any)["node"].(map[string]any)["template"].(map[string]any)
		tmpl["temperature"].(map[string]any)["value"] = json.Number(fmt.Sprintf("%d.%02d0", rng.IntN(2), rng.IntN(100)))
		tmpl["context"].(map[string]any)["value"] = fmt.Sprintf("ctx \"%d\" / œ ~ <%d>", step, rng.Int())
	case k < 17:
		g.Nodes = append(g.Nodes, g.Node(1000+step))
	case k < 19 && len(g.Nodes) > 20:
		g.Nodes = g.Nodes[:len(g.Nodes)-1]
	default:
		g.Nodes = slices.Insert(g.Nodes, 0, g.Node(2000+step))
	}
}

// gpData is the data of a flow answered as body, numbers as written.
func gpData(t *testing.T, body string) json.RawMessage {
	t.Helper()
	var f struct {
		Data json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &f), body)
	return f.Data
}

// TestFlowGraphPatches_LongChain edits a big flow through the API many
// times, with versions, and checks that the log holds patches (small
// events, small audit rows) with a whole graph now and then, that the read
// model, as-of reads, version diffs and rollbacks give exactly the graphs
// saved, and that rebuilding the flows projection from the log — which
// starts with whole-graph edits written as an older binary wrote them —
// gives identical rows.
func TestFlowGraphPatches_LongChain(t *testing.T) {
	t.Parallel()
	s := &flServer{harness: startApp(t, options{modules: []app.Module{&app.Identity{}, app.Tenants{}, app.Flows{}, &app.Audit{}},
		env: adminEnv(flAdmin, flAdminPassword)})}
	// The superuser edits a flow of the system tenant: its events carry
	// the tenant, so the audit log keeps them.
	editor := s.signIn(t, flAdmin, flAdminPassword)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(4, 19))
	g := promptgraph.New(30, false)
	first := g.JSON(t)
	require.Greater(t, len(first), domain.MinPatchedGraphSize)
	f := s.create(t, editor, map[string]any{"name": "Big", "data": first, "tenant_id": tenancy.SystemTenantID})
	id := f["id"].(string)
	stream := "flow-" + id

	// Two whole-graph edits as the binary before patches wrote them.
	store := postgres.New(s.app.Pool(), postgres.Options{})
	t.Cleanup(store.Close)
	recs, err := store.ReadStream(ctx, stream, 0, eventstore.MaxRevision)
	require.NoError(t, err)
	md := recs[0].Metadata
	var saved []json.RawMessage // the graph after each write
	var positions []string      // each write's position
	for i := range 2 {
		g.Nodes[i]["position"].(map[string]any)["x"] = -1 - i
		data := g.JSON(t)
		raw, err := json.Marshal(domain.FlowDataChanged{FlowID: uuid.MustParse(id), Data: data})
		require.NoError(t, err)
		res, err := store.Append(ctx, stream, eventstore.Exact(uint64(i)), eventstore.EventData{ID: uuid.New(),
			Type: "flow.data_changed", SchemaVersion: 1, Data: raw, Metadata: md})
		require.NoError(t, err)
		saved, positions = append(saved, data), append(positions, res.Last().String())
	}

	type version struct {
		id    int64
		graph json.RawMessage
	}
	var versions []version
	const steps = 70
	for step := range steps {
		gpEdit(g, rng, step)
		data := g.JSON(t)
		r := s.call(t, http.MethodPatch, flPath(id), map[string]any{"data": data}, editor.token)
		require.Equal(t, http.StatusOK, r.status, "step %d: %s", step, r.raw)
		require.True(t, graphpatch.Equal(gpData(t, r.raw), data), "step %d: the answer is the read model's row, patched", step)
		saved, positions = append(saved, data), append(positions, r.header.Get("X-Event-Position"))
		if step%15 == 7 {
			r := s.call(t, http.MethodPost, flPath(id, "versions"), map[string]any{"version": fmt.Sprintf("v%d", step)}, editor.token)
			require.Equal(t, http.StatusCreated, r.status, r.raw)
			versions = append(versions, version{id: int64(len(versions) + 1), graph: data})
		}
	}

	// The log: patches, each small, and a whole graph now and then.
	type evRow struct {
		typ  string
		size int
	}
	rows, err := s.app.Pool().Query(ctx, `SELECT event_type, octet_length(data::text) FROM events WHERE stream_id = $1 ORDER BY stream_version`, stream)
	require.NoError(t, err)
	var events []evRow
	for rows.Next() {
		var e evRow
		require.NoError(t, rows.Scan(&e.typ, &e.size))
		events = append(events, e)
	}
	require.NoError(t, rows.Err())
	count := map[string]int{}
	for _, e := range events {
		count[e.typ]++
		if e.typ == "flow.graph_patched" {
			assert.Less(t, e.size*domain.MaxPatchFraction, len(first), "a patch is small")
		}
	}
	t.Logf("events: %v", count)
	assert.Greater(t, count["flow.graph_patched"], steps/2)
	assert.GreaterOrEqual(t, count["flow.data_changed"], 3, "the old binary's two and at least one whole graph since")
	// The audit log keeps each event's data: a patch, not the graph.
	var auditMax, auditPatches int
	require.Eventually(t, func() bool {
		err := s.app.Pool().QueryRow(ctx, `SELECT count(*), coalesce(max(octet_length(data::text)), 0) FROM audit_log
WHERE stream_id = $1 AND event_type = 'flow.graph_patched'`, stream).Scan(&auditPatches, &auditMax)
		return err == nil && auditPatches == count["flow.graph_patched"]
	}, 20*time.Second, 20*time.Millisecond, "audit_log has %d of the %d patches (%v)", auditPatches, count["flow.graph_patched"],
		s.textRows(t, `SELECT event_type || ' ' || coalesce(tenant_id::text, '-') FROM audit_log WHERE stream_id = $1`, stream))
	assert.Less(t, auditMax*domain.MaxPatchFraction, len(first))

	// as_of at each write's position is the graph saved then.
	for i, pos := range positions {
		r := s.call(t, http.MethodGet, flPath(id)+"?as_of="+url.QueryEscape(pos), nil, editor.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.True(t, graphpatch.Equal(gpData(t, r.raw), saved[i]), "as of write %d (%s)", i, pos)
	}

	// Diffs of versions are those of the graphs saved.
	keyed := func(raw json.RawMessage) map[string]string {
		var doc promptgraph.Graph
		require.NoError(t, json.Unmarshal(raw, &doc))
		out := map[string]string{}
		for _, n := range doc.Nodes {
			b, err := json.Marshal(n)
			require.NoError(t, err)
			out[n["id"].(string)] = string(b)
		}
		return out
	}
	for i := 1; i < len(versions); i++ {
		from, to := versions[i-1], versions[i]
		r := s.call(t, http.MethodGet, flPath(id, "versions", fmt.Sprint(from.id), "diff", fmt.Sprint(to.id)), nil, editor.token)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		a, b := keyed(from.graph), keyed(to.graph)
		want := map[string][]string{"added": {}, "removed": {}, "changed": {}}
		for k, v := range b {
			if w, ok := a[k]; !ok {
				want["added"] = append(want["added"], k)
			} else if !graphpatch.Equal([]byte(w), []byte(v)) {
				want["changed"] = append(want["changed"], k)
			}
		}
		for k := range a {
			if _, ok := b[k]; !ok {
				want["removed"] = append(want["removed"], k)
			}
		}
		nodes := r.obj(t)["nodes"].(map[string]any)
		for kind, keys := range want {
			slices.Sort(keys)
			var got []string
			for _, k := range nodes[kind].([]any) {
				got = append(got, k.(string))
			}
			assert.Equal(t, keys, append([]string{}, got...), "diff v%d..v%d: %s", from.id, to.id, kind)
		}
	}

	// A rollback restores a version's graph exactly, and patches go on
	// from it.
	r := s.call(t, http.MethodPost, flPath(id, "versions", "2", "rollback"), nil, editor.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.True(t, graphpatch.Equal(gpData(t, s.call(t, http.MethodGet, flPath(id), nil, editor.token).raw), versions[1].graph))
	var back promptgraph.Graph
	dec := json.NewDecoder(bytes.NewReader(versions[1].graph))
	dec.UseNumber() // numbers as written: the edit is one move
	require.NoError(t, dec.Decode(&back))
	back.Nodes[3]["position"].(map[string]any)["y"] = 77
	after := back.JSON(t)
	s.patch(t, editor, id, map[string]any{"data": after})
	types := s.stream(t, stream)
	assert.Equal(t, []string{"flow.rolled_back", "flow.graph_patched"}, types[len(types)-2:])
	require.True(t, graphpatch.Equal(gpData(t, s.call(t, http.MethodGet, flPath(id), nil, editor.token).raw), after))

	// Rebuilding the flows projection from the log gives identical rows.
	const flowsQ = `SELECT x::text FROM flows x ORDER BY id`
	const versionsQ = `SELECT x::text FROM flow_versions x ORDER BY flow_id, version_id`
	flows, vers := s.flRows(t, flowsQ), s.flRows(t, versionsQ)
	require.Len(t, vers, len(versions))
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().Rebuild(rctx, "flows", nil))
	assert.Equal(t, flows, s.flRows(t, flowsQ))
	assert.Equal(t, vers, s.flRows(t, versionsQ))
}
