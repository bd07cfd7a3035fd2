package components

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
)

// roundTrips collects the engine's time per tool round trip: from a
// model's answer asking for a tool to the agent's next call of the model
// with the result (the tool's build, its events, the agent's steps).
type roundTrips struct {
	mu sync.Mutex
	d  []time.Duration
}

func (r *roundTrips) add(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.d = append(r.d, d)
}

func (r *roundTrips) quantile(q float64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.d) == 0 {
		return 0
	}
	s := slices.Clone(r.d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// instantModels open instantModel: a model that answers at once, asking
// for calls tools (one per turn), then answering.
type instantModels struct {
	calls int
	trips *roundTrips
}

func (m instantModels) Open(context.Context, engine.ModelSelection) (engine.ChatModel, error) {
	return &instantModel{calls: m.calls, trips: m.trips}, nil
}

type instantModel struct {
	calls, turn int
	trips       *roundTrips
	answered    time.Time
}

func (m *instantModel) Chat(ctx context.Context, req engine.ChatRequest, onChunk func(string) error) (string, error) {
	a, err := m.Converse(ctx, req, onChunk)
	if err != nil {
		return "", err
	}
	return a.Text, nil
}

func (m *instantModel) Converse(_ context.Context, _ engine.ChatRequest, onChunk func(string) error) (*engine.ChatAnswer, error) {
	if m.turn > 0 {
		m.trips.add(time.Since(m.answered))
	}
	m.turn++
	a := &engine.ChatAnswer{Text: "done"}
	if m.turn <= m.calls {
		a = &engine.ChatAnswer{ToolCalls: []engine.ToolCall{{ID: "call_" + strconv.Itoa(m.turn), Name: "evaluate_expression",
			Arguments: `{"expression": "` + strconv.Itoa(m.turn) + `*4"}`}}}
	} else if onChunk != nil {
		if err := onChunk(a.Text); err != nil {
			return nil, err
		}
	}
	m.answered = time.Now()
	return a, nil
}

// countingRecorder records nothing but gives messages ids.
type countingRecorder struct{ n atomic.Int64 }

func (r *countingRecorder) StoreMessage(_ context.Context, _ engine.RunInfo, m *engine.Message) (*engine.Message, error) {
	c := m.Clone()
	if c.ID == "" {
		c.ID = strconv.FormatInt(r.n.Add(1), 10)
	}
	return c, nil
}

func (*countingRecorder) VertexBuilt(context.Context, engine.RunInfo, *engine.VertexResult) error {
	return nil
}

// BenchmarkAgentToolRoundTrip runs the Simple Agent fixture (ChatInput →
// Agent with Calculator and URL tools → ChatOutput) against an instant
// model asking for 3 Calculator calls, one per turn; it reports the
// engine's own p50 and p99 time per tool round trip.
func BenchmarkAgentToolRoundTrip(b *testing.B) {
	reg, err := engine.NewRegistry(agentComponents()...)
	require.NoError(b, err)
	eng := engine.New(reg, engine.Limits{})
	data, err := os.ReadFile(filepath.Join("testdata", "simple-agent.json"))
	require.NoError(b, err)
	g, err := eng.Compile(data)
	require.NoError(b, err)
	trips := &roundTrips{}
	env := engine.Env{Recorder: &countingRecorder{}, Variables: memVars{"OPENAI_API_KEY": "sk"},
		Models: instantModels{calls: 3, trips: trips}}
	sink := engine.SinkFunc(func(engine.Event) {})
	in := "compute"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := eng.Run(context.Background(), g, engine.RunInput{RunID: strconv.Itoa(i), FlowID: "f", UserID: 1, InputValue: &in,
			Session: "bench"}, env, sink)
		if agent := res.Result("Agent-Zk31p"); res.Err != nil || agent == nil || !agent.Valid {
			b.Fatalf("run %d failed: %v", i, res.Err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(trips.quantile(0.50).Nanoseconds()), "p50-ns/roundtrip")
	b.ReportMetric(float64(trips.quantile(0.99).Nanoseconds()), "p99-ns/roundtrip")
}
