package domain

import (
	"encoding/json"

	"github.com/google/uuid"
)

// RunStarted opens a run of a flow (stream RunStream): who runs it, which
// flow and which graph (the stored draft at a revision, or a graph the
// request sent, by its hash), with which inputs, and on which process.
type RunStarted struct {
	RunID uuid.UUID `json:"run_id"`
	// FlowID is the stored flow; RecordsFlowID the flow id its messages,
	// vertex builds and transactions are recorded under (a public run's
	// per-visitor virtual flow id, else FlowID).
	FlowID        uuid.UUID `json:"flow_id"`
	RecordsFlowID uuid.UUID `json:"records_flow_id"`
	FlowName      string    `json:"flow_name"`
	// UserID is who the run runs as (the caller, or a public flow's
	// owner); OwnerID the flow's owner. The actor of the events is in
	// their metadata.
	UserID  int64 `json:"user_id"`
	OwnerID int64 `json:"owner_id"`
	// TenantID and BusinessID are the flow's placement.
	TenantID   *uuid.UUID `json:"tenant_id,omitempty"`
	BusinessID int64      `json:"business_id,omitempty"`
	// Public marks a run of a public flow by an anonymous visitor;
	// ClientHash is the SHA-256 of the visitor's client_id cookie (the
	// cookie itself is never stored).
	Public     bool   `json:"public,omitempty"`
	ClientHash string `json:"client_hash,omitempty"`
	// Source is "draft" (the stored flow, at FlowRevision), "online" or
	// "release" (the flow's version Version, folded at FlowRevision) or
	// "data" (the graph of the request); GraphHash is the SHA-256 of the
	// graph run (tweaks applied).
	Source       string  `json:"source"`
	Version      string  `json:"version,omitempty"`
	FlowRevision *uint64 `json:"flow_revision,omitempty"`
	// API is the door the run came through: "" for the build API, else
	// run, run_advanced, webhook, responses or workflow. Background runs
	// (webhook, background workflow jobs) are recorded before they are
	// answered.
	API        string `json:"api,omitempty"`
	Background bool   `json:"background,omitempty"`
	GraphHash  string `json:"graph_hash"`
	// Inputs are the request's inputs (InputValueRequest) as sent; Files,
	// the session and the stop and start components as resolved.
	Inputs           json.RawMessage `json:"inputs,omitempty"`
	Files            []string        `json:"files,omitempty"`
	Session          string          `json:"session"`
	StartComponentID string          `json:"start_component_id,omitempty"`
	StopComponentID  string          `json:"stop_component_id,omitempty"`
	LogBuilds        bool            `json:"log_builds"`
	// Instance is the server process running the run (its liveness is
	// an advisory lock: a run of a process that is gone is interrupted).
	Instance uuid.UUID `json:"instance"`
	// Queued marks a run handed to the work queue: the process that
	// recorded its start does not run it; a worker claims it
	// (RunClaimed) and runs it. The startup sweep leaves a queued run
	// alone: the queue delivers it again until a worker ends it.
	Queued bool `json:"queued,omitempty"`
	// Task is a queued run's command (the request's tweaks, variables,
	// selected outputs …) sealed with the secrets key (AES-GCM bound to
	// the run id: ciphertext, never the command in clear): the outbox of
	// its task, so that any process can publish the task again when the
	// process that accepted the run died before it published it. Empty
	// for the queued runs recorded before it existed. No read model and
	// no API answer shows it (the audit rows drop it).
	Task string `json:"task,omitempty"`
}

// RunClaimed records that worker process Instance took a queued run to
// execute it: its Attempt-th execution (1 for the first). A claim is
// appended at the run's expected version, so two workers never both
// claim the same state of a run; a run whose claimer is gone is claimed
// again (Attempt+1), Interrupted naming the instance whose attempt was
// cut off (its events, before this one, stay in the run's history).
type RunClaimed struct {
	Instance    uuid.UUID  `json:"instance"`
	Attempt     int        `json:"attempt"`
	Interrupted *uuid.UUID `json:"interrupted,omitempty"`
}

// RunReleased records that worker process Instance handed its claim of a
// queued run back without ending it (its server shut down gracefully):
// the run is unclaimed again, and the next claim is not an interrupted
// one — a hand-back does not count against the queue's attempt limit.
// It is appended at the run's expected version, after what the attempt
// recorded.
type RunReleased struct {
	Instance uuid.UUID `json:"instance"`
	Attempt  int       `json:"attempt"`
}

// The events of a run's progress each carry one event of the build API
// as it was sent: Data is its data, exactly as the client got it (Python
// json.dumps text: the log's jsonb would not keep the key order), so that
// any process replays a run byte for byte. Token chunks are not events.

// RunVerticesSorted is the run's first event: what it builds first and
// what it may build (vertices_sorted).
type RunVerticesSorted struct {
	Data string `json:"data"`
}

// RunMessageSent is a message a component sent (add_message); the message
// itself is recorded in its chat session's stream.
type RunMessageSent struct {
	MessageID int64  `json:"message_id"`
	Data      string `json:"data"`
}

// RunErrorRaised is an error message of a component or of the run (error).
type RunErrorRaised struct {
	Data string `json:"data"`
}

// RunVertexBuilt is the build of one vertex, successful or not
// (end_vertex).
type RunVertexBuilt struct {
	VertexID string `json:"vertex_id"`
	Valid    bool   `json:"valid"`
	Data     string `json:"data"`
}

// RunEventEmitted is any other event of the build API (build_start,
// build_end of a component run as a tool …), by its name.
type RunEventEmitted struct {
	Event string `json:"event"`
	Data  string `json:"data"`
}

// RunFinished closes a run that built every vertex it could (end).
type RunFinished struct {
	Vertices int `json:"vertices"`
	Failed   int `json:"failed_vertices"`
	// DurationMS is the run's wall time.
	DurationMS int64 `json:"duration_ms"`
	// Result is what the run API answered (its RunResponse, compact
	// JSON), for the runs whose status is read later (workflow jobs).
	Result json.RawMessage `json:"result,omitempty"`
}

// RunFailed closes a run that stopped on an error: a flow that does not
// compile, a limit, a failure of the server — or "interrupted" when its
// process went away while it ran.
type RunFailed struct {
	Error string `json:"error"`
}

// RunCancelled closes a run that was cancelled: by a cancel call, by its
// direct client going away, or by the server shutting down.
type RunCancelled struct {
	Reason string `json:"reason"`
}

// Why runs fail or are cancelled.
const (
	RunInterrupted     = "interrupted"
	RunCancelRequested = "cancel requested"
	RunClientGone      = "client disconnected"
	RunShutdown        = "server shutdown"
)

func (RunStarted) EventType() string        { return "run.started" }
func (RunVerticesSorted) EventType() string { return "run.vertices_sorted" }
func (RunMessageSent) EventType() string    { return "run.message_sent" }
func (RunErrorRaised) EventType() string    { return "run.error_raised" }
func (RunVertexBuilt) EventType() string    { return "run.vertex_built" }
func (RunEventEmitted) EventType() string   { return "run.event_emitted" }
func (RunFinished) EventType() string       { return "run.finished" }
func (RunFailed) EventType() string         { return "run.failed" }
func (RunCancelled) EventType() string      { return "run.cancelled" }
func (RunClaimed) EventType() string        { return "run.claimed" }
func (RunReleased) EventType() string       { return "run.released" }

// RunEvents lists the events of runs with their schema versions.
func RunEvents() []Schema {
	return V1(RunStarted{}, RunVerticesSorted{}, RunMessageSent{}, RunErrorRaised{}, RunVertexBuilt{}, RunEventEmitted{},
		RunFinished{}, RunFailed{}, RunCancelled{}, RunClaimed{}, RunReleased{})
}
