package domain_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/graphpatch"
	"github.com/skillflaw/skillflaw-go/internal/testkit/promptgraph"
)

// fgEdit changes g as an editor would: mostly small edits, now and then
// one that touches many nodes (an insertion at the front shifts them all).
func fgEdit(rng *rand.Rand, g *promptgraph.Graph, step int) string {
	node := g.Nodes[rng.IntN(len(g.Nodes))]
	switch k := rng.IntN(20); {
	case k < 8:
		pos := node["position"].(map[string]any)
		pos["x"] = rng.IntN(100000) - 50000
		return "move a node"
	case k < 12:
		tmpl := node["data"].(map[string]any)["node"].(map[string]any)["template"].(map[string]any)
		tmpl["temperature"].(map[string]any)["value"] = json.Number(fmt.Sprintf("%d.%02d0", rng.IntN(2), rng.IntN(100)))
		tmpl["context"].(map[string]any)["value"] = fmt.Sprintf("ctx \"%d\" / œ ~ <%d>", step, rng.Int())
		return "set template values"
	case k < 15:
		g.Nodes = append(g.Nodes, g.Node(1000+step))
		return "append a node"
	case k < 17 && len(g.Nodes) > 20:
		g.Nodes = slices.Delete(g.Nodes, len(g.Nodes)-1, len(g.Nodes))
		return "remove the last node"
	case k < 18:
		g.Nodes = slices.Insert(g.Nodes, 0, g.Node(2000+step))
		return "insert a node at the front"
	case k < 19:
		g.Viewport["zoom"] = json.Number(fmt.Sprintf("0.%d", 1+rng.IntN(9)))
		return "zoom"
	default:
		delete(node, "width")
		node["selected"] = step%2 == 0
		return "change a node's members"
	}
}

// fgStore keeps a flow's events as the event store would: encoded by the
// registry, their JSON rewritten as jsonb would keep it (members in
// another order, other spaces), decoded again on reading.
type fgStore struct {
	reg  *eventstore.Registry
	recs []eventstore.RecordedEvent
}

func newFGStore(t *testing.T) *fgStore {
	t.Helper()
	reg := eventstore.NewRegistry()
	for _, s := range domain.FlowEvents() {
		require.NoError(t, reg.Register(s.Event, s.Version))
	}
	return &fgStore{reg: reg}
}

func (s *fgStore) save(t *testing.T, f *domain.Flow) {
	t.Helper()
	for _, e := range f.Root().Pending()[len(s.recs):] {
		d, err := s.reg.Encode(e)
		require.NoError(t, err)
		var v any
		dec := json.NewDecoder(bytes.NewReader(d.Data))
		dec.UseNumber() // jsonb keeps numbers as written
		require.NoError(t, dec.Decode(&v))
		reordered, err := json.MarshalIndent(v, "", " ") // sorted members, other spaces
		require.NoError(t, err)
		rev := uint64(len(s.recs))
		s.recs = append(s.recs, eventstore.RecordedEvent{StreamID: f.StreamID(), StreamVersion: rev, Type: d.Type,
			SchemaVersion: d.SchemaVersion, Data: reordered, Position: eventstore.Position{Commit: rev + 1, Prepare: rev + 1}})
	}
}

// asOf folds the first n events into a fresh flow.
func (s *fgStore) asOf(t *testing.T, id uuid.UUID, n int) (*domain.Flow, error) {
	t.Helper()
	f := graphpatch.LoadFlow(id)
	_, err := eventstore.Fold(s.reg, f, s.recs[:n], nil, nil)
	return f, err
}

// TestFlow_GraphEditsAsPatches edits a 30-node graph 200 times and checks
// that every edit is recorded as a patch or as the whole graph by the
// rules of Flow.Edit, and that folding the stored events up to each edit
// (an as-of read, a version's content for a diff or a rollback) gives
// exactly the graph saved then, whatever mix of patches and whole graphs
// lies before it.
func TestFlow_GraphEditsAsPatches(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(19, 4))
	g := promptgraph.New(30, true)
	first := g.JSON(t)
	require.Greater(t, len(first), domain.MinPatchedGraphSize)
	f, err := domain.CreateFlow(uuid.New(), domain.NewFlow{UserID: 7, Content: domain.FlowContent{Name: "big", Data: first}})
	require.NoError(t, err)
	f.WithGraphPatcher(graphpatch.Patcher{})
	store := newFGStore(t)
	store.save(t, f)
	saved := []json.RawMessage{first} // the graph after each event
	kinds := map[string]int{}
	run := 0 // patches in a row
	for step := range 200 {
		what := fgEdit(rng, g, step)
		data := g.JSON(t)
		ch := domain.FlowChange{Data: data}
		if step%10 == 3 {
			ch.Name = flPtr(fmt.Sprintf("big %d", step)) // another event in the same edit
		}
		require.NoError(t, f.Edit(ch), "step %d: %s", step, what)
		before := len(store.recs)
		store.save(t, f)
		if len(store.recs) == before {
			continue // the edit changed nothing (a zoom to the same value)
		}
		for range store.recs[before : len(store.recs)-1] { // a rename comes before the graph
			saved = append(saved, saved[len(saved)-1])
		}
		saved = append(saved, data)
		last := store.recs[len(store.recs)-1]
		kinds[last.Type]++
		switch last.Type {
		case "flow.graph_patched":
			run++
			require.Less(t, run, domain.FullGraphEvery, "step %d: a whole graph every %d", step, domain.FullGraphEvery)
			var e struct {
				BaseRevision uint64          `json:"base_revision"`
				Patch        json.RawMessage `json:"patch"`
			}
			require.NoError(t, json.Unmarshal(last.Data, &e))
			assert.LessOrEqual(t, len(e.Patch)*domain.MaxPatchFraction, len(data), "step %d: %s", step, what)
			assert.LessOrEqual(t, graphpatch.Ops(e.Patch), domain.MaxPatchOps, "step %d: %s", step, what)
		case "flow.data_changed":
			assert.True(t, run == domain.FullGraphEvery-1 || what == "insert a node at the front",
				"step %d (%s): a whole graph after %d patches", step, what, run)
			run = 0
		default:
			t.Fatalf("step %d: %s recorded %s", step, what, last.Type)
		}
		assert.True(t, graphpatch.Equal(f.Content().Data, data), "step %d: the editor's flow", step)
	}
	t.Logf("events: %v", kinds)
	require.Greater(t, kinds["flow.graph_patched"], 150)
	require.Greater(t, kinds["flow.data_changed"], 5)

	for n := 1; n <= len(store.recs); n++ {
		at, err := store.asOf(t, f.ID(), n)
		require.NoError(t, err, "as of revision %d", n-1)
		require.True(t, graphpatch.Equal(at.Content().Data, saved[n-1]), "as of revision %d", n-1)
	}
	now, err := store.asOf(t, f.ID(), len(store.recs))
	require.NoError(t, err)
	assert.Equal(t, flStateOf(f).Content.Name, flStateOf(now).Content.Name)

	// A snapshot taken mid-chain, restored and folded on, gives the same.
	mid := len(store.recs) / 2
	at, err := store.asOf(t, f.ID(), mid)
	require.NoError(t, err)
	state, err := at.Snapshot()
	require.NoError(t, err)
	restored := graphpatch.LoadFlow(f.ID())
	require.NoError(t, restored.Restore(state))
	_, err = eventstore.Fold(store.reg, restored, store.recs[mid:], nil, nil)
	require.NoError(t, err)
	assert.True(t, graphpatch.Equal(restored.Content().Data, saved[len(saved)-1]))
	// And it edits on from there with the right base.
	g.Nodes[0]["position"].(map[string]any)["y"] = -1
	require.NoError(t, restored.Edit(domain.FlowChange{Data: g.JSON(t)}))
	pending := restored.Root().Pending()
	require.Len(t, pending, 1)
	if p, ok := pending[0].(domain.FlowGraphPatched); ok {
		assert.Equal(t, uint64(len(store.recs)-1), p.BaseRevision)
	}
}

// TestFlow_GraphPatchOfAnotherBaseIsAFault: a fold that meets a patch of
// a graph other than the one before it (an event lost or reordered), or a
// patch that does not apply, stops with an error instead of showing a
// wrong graph.
func TestFlow_GraphPatchOfAnotherBaseIsAFault(t *testing.T) {
	t.Parallel()
	g := promptgraph.New(40, true)
	f, err := domain.CreateFlow(uuid.New(), domain.NewFlow{UserID: 7, Content: domain.FlowContent{Name: "big", Data: g.JSON(t)}})
	require.NoError(t, err)
	f.WithGraphPatcher(graphpatch.Patcher{})
	for i := range 3 {
		g.Nodes[i]["position"].(map[string]any)["x"] = -i - 1
		require.NoError(t, f.Edit(domain.FlowChange{Data: g.JSON(t)}))
	}
	store := newFGStore(t)
	store.save(t, f)
	require.Equal(t, "flow.graph_patched", store.recs[3].Type)
	_, err = store.asOf(t, f.ID(), 4)
	require.NoError(t, err)

	lost := slices.Delete(slices.Clone(store.recs), 2, 3)
	_, err = eventstore.Fold(store.reg, graphpatch.LoadFlow(f.ID()), lost, nil, nil)
	require.ErrorContains(t, err, "the patch at revision 2 is of the graph of revision 2, the graph is of revision 1")

	bad := slices.Clone(store.recs)
	bad[3].Data = json.RawMessage(`{"flow_id":"` + f.ID().String() + `","base_revision":2,"patch":[{"op":"replace","path":"/nope/0","value":1}]}`)
	_, err = eventstore.Fold(store.reg, graphpatch.LoadFlow(f.ID()), bad, nil, nil)
	require.ErrorContains(t, err, "graph at revision 3")
}

// TestFlow_SmallGraphEditsStayWhole: below MinPatchedGraphSize a graph
// edit records the whole graph, as before patches existed; and so does any
// edit of a flow without a GraphPatcher, whose fold of a patch is a Fault.
func TestFlow_SmallGraphEditsStayWhole(t *testing.T) {
	t.Parallel()
	f := flNew(t, false).WithGraphPatcher(graphpatch.Patcher{})
	require.NoError(t, f.Edit(domain.FlowChange{Data: json.RawMessage(`{"nodes": [1, 2]}`)}))
	assert.Equal(t, []string{"flow.data_changed"}, flPendingSince(f, 1))

	g := promptgraph.New(30, true)
	bare, err := domain.CreateFlow(uuid.New(), domain.NewFlow{UserID: 7, Content: domain.FlowContent{Name: "big", Data: g.JSON(t)}})
	require.NoError(t, err)
	g.Viewport["x"] = 1
	require.NoError(t, bare.Edit(domain.FlowChange{Data: g.JSON(t)}))
	assert.Equal(t, []string{"flow.data_changed"}, flPendingSince(bare, 1), "no patcher: the whole graph")

	patched, err := domain.CreateFlow(bare.ID(), domain.NewFlow{UserID: 7, Content: domain.FlowContent{Name: "big", Data: g.JSON(t)}})
	require.NoError(t, err)
	patched.WithGraphPatcher(graphpatch.Patcher{})
	g.Viewport["x"] = 2
	require.NoError(t, patched.Edit(domain.FlowChange{Data: g.JSON(t)}))
	store := newFGStore(t)
	store.save(t, patched)
	_, err = eventstore.Fold(store.reg, domain.LoadFlow(bare.ID()), store.recs, nil, nil)
	require.ErrorContains(t, err, "no graph patcher")
}

// TestFlow_GraphEditOfManyPlacesIsWhole: an edit whose patch would have
// more than MaxPatchOps operations records the whole graph.
func TestFlow_GraphEditOfManyPlacesIsWhole(t *testing.T) {
	t.Parallel()
	g := promptgraph.New(domain.MaxPatchOps+8, true)
	f, err := domain.CreateFlow(uuid.New(), domain.NewFlow{UserID: 7, Content: domain.FlowContent{Name: "big", Data: g.JSON(t)}})
	require.NoError(t, err)
	f.WithGraphPatcher(graphpatch.Patcher{})
	for _, n := range g.Nodes[:domain.MaxPatchOps] {
		n["position"].(map[string]any)["y"] = -5
	}
	require.NoError(t, f.Edit(domain.FlowChange{Data: g.JSON(t)}))
	assert.Equal(t, []string{"flow.graph_patched"}, flPendingSince(f, 1), "MaxPatchOps places: a patch")
	g.Nodes[domain.MaxPatchOps]["position"].(map[string]any)["y"] = -5
	for _, n := range g.Nodes[:domain.MaxPatchOps] {
		n["position"].(map[string]any)["y"] = -6
	}
	require.NoError(t, f.Edit(domain.FlowChange{Data: g.JSON(t)}))
	assert.Equal(t, []string{"flow.graph_patched", "flow.data_changed"}, flPendingSince(f, 1), "one more: the whole graph")
}

// TestFlow_SameBigGraphRecordsNothing: a big graph sent again, its
// members in another order and spaced otherwise, is no change.
func TestFlow_SameBigGraphRecordsNothing(t *testing.T) {
	t.Parallel()
	g := promptgraph.New(30, true)
	f, err := domain.CreateFlow(uuid.New(), domain.NewFlow{UserID: 7, Content: domain.FlowContent{Name: "big", Data: g.JSON(t)}})
	require.NoError(t, err)
	f.WithGraphPatcher(graphpatch.Patcher{})
	var v any
	dec := json.NewDecoder(bytes.NewReader(g.JSON(t)))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&v))
	again, err := json.MarshalIndent(v, "", "  ") // members sorted, other spaces
	require.NoError(t, err)
	require.NoError(t, f.Edit(domain.FlowChange{Data: again}))
	assert.Empty(t, flPendingSince(f, 1))
}
