package engine

import "time"

// Sink receives a run's events as they happen, in order, from one
// goroutine at a time. It must not block for long: the build API queues
// them for its clients.
type Sink interface {
	Emit(Event)
}

// SinkFunc is a Sink of a function.
type SinkFunc func(Event)

// Emit implements Sink.
func (f SinkFunc) Emit(e Event) { f(e) }

// Event is one event of a run; Name is Langflow's event name.
type Event interface{ Name() string }

// VerticesSorted is the first event: the first vertices to build, and
// every vertex the run will consider.
type VerticesSorted struct {
	IDs   []string
	ToRun []string
}

// MessageAdded is a message a component sent (recorded, with its id).
type MessageAdded struct{ Message *Message }

// MessageRemoved withdraws a message a component sent and then gave up
// (a failed agent's partial message: Langflow's remove_message).
type MessageRemoved struct{ ID string }

// Token is one chunk of a streamed message.
type Token struct {
	Chunk string
	ID    string
}

// ErrorRaised is an error message of a component or of the run itself.
type ErrorRaised struct{ Message *Message }

// VertexEnded reports the build of one vertex.
type VertexEnded struct{ Result *VertexResult }

// BuildStarted and BuildEnded frame a component run as a tool.
type (
	BuildStarted struct{ ID string }
	BuildEnded   struct{ ID string }
)

// RunEnded is the last event of a run that was not aborted.
type RunEnded struct{}

func (VerticesSorted) Name() string { return "vertices_sorted" }
func (MessageAdded) Name() string   { return "add_message" }
func (Token) Name() string          { return "token" }
func (MessageRemoved) Name() string { return "remove_message" }
func (ErrorRaised) Name() string    { return "error" }
func (VertexEnded) Name() string    { return "end_vertex" }
func (BuildStarted) Name() string   { return "build_start" }
func (BuildEnded) Name() string     { return "build_end" }
func (RunEnded) Name() string       { return "end" }

// VertexResult is the outcome of building one vertex.
type VertexResult struct {
	Vertex *Vertex
	// Valid is false when the build failed (Err says why).
	Valid bool
	Err   error
	// Outputs are the values of the outputs that were built, Status what
	// the component reported as its status (a repr for the build data).
	Outputs map[string]Value
	Status  Value
	// Messages are those the vertex sent, as recorded.
	Messages []*Message
	// Inactivated are the vertices this build switched off (a router's
	// branch not taken); Next those it made runnable.
	Inactivated []string
	Next        []string
	Started     time.Time
	Duration    time.Duration
	// UsedFrozen is true when a frozen vertex's earlier result was reused.
	UsedFrozen bool
}

// ErrorText is the text of a failed build as Langflow words it: "Error
// building Component <display name>: \n\n<error>".
func (r *VertexResult) ErrorText() string {
	if r.Err == nil {
		return ""
	}
	name := r.Vertex.DisplayName
	if name == "" && r.Vertex.Spec != nil {
		name = r.Vertex.Spec.DisplayName
	}
	return "Error building Component " + name + ": \n\n" + r.Err.Error()
}
