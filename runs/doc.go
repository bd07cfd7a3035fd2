// Package runs runs flows as jobs: the use cases of the build API (and,
// later, of the run API, webhooks, MCP and the CLI) over the engine.
//
// Service.StartBuild checks that the caller may run the flow (its owner,
// flows.run where it lives, or a public flow's anonymous client), starts
// the run in the background and returns the job; every event the engine
// reports becomes a frame of the build API at once (Python json.dumps
// text, runtime reference §1) in the job's feed, which any number of
// readers stream from its start or poll (Service.Events); Service.Cancel
// cancels. A run is events: its start, every frame but the tokens, and
// its end in stream run-<id> (domain.Run), its messages, vertex builds and
// transactions through the monitor's command API — queued and appended
// together (commands.RunRecords) at bounded intervals and at the end.
//
// Processes sharing the database serve each other's jobs from the log
// (replica.go), pass cancels on with NOTIFY and tell each other's liveness
// by advisory locks; a run left open by a process that went away is closed
// as interrupted (Service.Sweep, at start). Register serves the build API
// (#1, #2, #4–#7) on an httpapi.Server; it only binds, calls and answers.
package runs
