package domain

import "github.com/google/uuid"

// RunStream names the stream of run id.
func RunStream(id uuid.UUID) string { return "run-" + id.String() }

// Run is one run of a flow (stream RunStream): started once, then the
// events of the build API it sent, then closed once — finished, failed or
// cancelled. Nothing follows its end.
type Run struct {
	root    Root
	id      uuid.UUID
	started bool
	start   RunStarted
	ended   Event // RunFinished, RunFailed or RunCancelled; nil while open
	// progressed tells a run that began building (its vertices sorted,
	// or any event of its progress) from one still waiting for a slot.
	progressed bool
	// claim is the last claim of a queued run (zero: unclaimed);
	// released tells one its worker handed back (RunReleased).
	claim    RunClaimed
	released bool
	// interrupted counts the claims that took over from a claimer that
	// was gone (RunClaimed.Interrupted).
	interrupted int
}

// LoadRun returns an empty run to fold stream RunStream(id) into.
func LoadRun(id uuid.UUID) *Run { return &Run{id: id} }

// StreamID implements commands.Aggregate.
func (r *Run) StreamID() string { return RunStream(r.id) }

// Root implements commands.Aggregate.
func (r *Run) Root() *Root { return &r.root }

// Started returns the run's start; ok is false before it started.
func (r *Run) Started() (RunStarted, bool) { return r.start, r.started }

// End returns the event that closed the run (RunFinished, RunFailed or
// RunCancelled), nil while it is open.
func (r *Run) End() Event { return r.ended }

// Progressed reports whether the run began building: an open run that
// did not is queued (a background run waiting for a slot).
func (r *Run) Progressed() bool { return r.progressed }

// Open reports whether the run started and has not ended.
func (r *Run) Open() bool { return r.started && r.ended == nil }

// Claim returns the last claim of a queued run; ok is false while no
// worker holds it (none claimed it, or the last one released it).
func (r *Run) Claim() (RunClaimed, bool) { return r.claim, r.claim.Attempt > 0 && !r.released }

// Attempts is how many times workers claimed the queued run.
func (r *Run) Attempts() int { return r.claim.Attempt }

// Interruptions is how many of the queued run's attempts were cut off by
// a worker that was gone (the claims after them named it): released
// attempts do not count, nor the last one while it is held.
func (r *Run) Interruptions() int { return r.interrupted }

// Instance is the process running the run: the worker holding a queued
// run's claim, else the one that started it (nil while no worker holds a
// queued run: nobody runs it).
func (r *Run) Instance() uuid.UUID {
	if _, held := r.Claim(); held {
		return r.claim.Instance
	}
	if r.start.Queued {
		return uuid.Nil
	}
	return r.start.Instance
}

// ClaimFor records that worker instance takes the queued run to execute
// it: attempt 1, or the next one when a claimer before it is gone
// (interrupted names it). Only an open queued run is claimed.
func (r *Run) ClaimFor(instance uuid.UUID, interrupted *uuid.UUID) error {
	if err := r.mustBeOpen(); err != nil {
		return err
	}
	if !r.start.Queued {
		return Invalidf("Run %s is not queued", r.id)
	}
	if instance == uuid.Nil {
		return Invalidf("a claim needs an instance")
	}
	record(r, RunClaimed{Instance: instance, Attempt: r.claim.Attempt + 1, Interrupted: interrupted})
	return nil
}

// Release records that worker instance hands its claim of the queued run
// back without ending it (a graceful shutdown): only the claim's holder
// releases it.
func (r *Run) Release(instance uuid.UUID) error {
	if err := r.mustBeOpen(); err != nil {
		return err
	}
	if c, held := r.Claim(); !held || c.Instance != instance {
		return Conflictf("Run %s is not claimed by %s", r.id, instance)
	}
	record(r, RunReleased{Instance: instance, Attempt: r.claim.Attempt})
	return nil
}

// Start records the run's start; a run starts once.
func (r *Run) Start(s RunStarted) error {
	if r.started {
		return Conflictf("Run %s already started", r.id)
	}
	if s.RunID != r.id {
		return Invalidf("run id %s is not %s", s.RunID, r.id)
	}
	record(r, s)
	return nil
}

// Emit records an event of the run's progress (RunVerticesSorted,
// RunMessageSent, RunErrorRaised, RunVertexBuilt, RunEventEmitted); only
// an open run progresses.
func (r *Run) Emit(e Event) error {
	if err := r.mustBeOpen(); err != nil {
		return err
	}
	switch e.(type) {
	case RunVerticesSorted, RunMessageSent, RunErrorRaised, RunVertexBuilt, RunEventEmitted:
	default:
		return Invalidf("%s is not an event of a run's progress", e.EventType())
	}
	record(r, e)
	return nil
}

// Close records the run's end (RunFinished, RunFailed or RunCancelled);
// only an open run ends.
func (r *Run) Close(e Event) error {
	if err := r.mustBeOpen(); err != nil {
		return err
	}
	switch e.(type) {
	case RunFinished, RunFailed, RunCancelled:
	default:
		return Invalidf("%s does not end a run", e.EventType())
	}
	record(r, e)
	return nil
}

func (r *Run) mustBeOpen() error {
	switch {
	case !r.started:
		return NotFoundf("Run %s not found", r.id)
	case r.ended != nil:
		return Conflictf("Run %s has ended", r.id)
	}
	return nil
}

// Apply implements commands.Aggregate.
func (r *Run) Apply(e Event) {
	switch e := e.(type) {
	case RunStarted:
		r.started, r.start = true, e
	case RunFinished, RunFailed, RunCancelled:
		r.ended = e
	case RunClaimed:
		r.claim, r.released = e, false
		if e.Interrupted != nil {
			r.interrupted++
		}
	case RunReleased:
		r.released = true
	case RunVerticesSorted, RunMessageSent, RunErrorRaised, RunVertexBuilt, RunEventEmitted:
		r.progressed = true
	}
}
