package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Queued runs (worker mode). With a work queue (Options.Queue), the
// background runs — webhooks and background workflow jobs — are not run
// by the process that accepted them: it records the run's start as
// queued (RunStarted.Queued) and publishes a task; a worker process takes
// the task (Execute), claims the run in the log and runs it. On an
// api-only process (Options.QueueCalls) MCP tool calls are queued too,
// though their caller waits: the worker records the answer in the run's
// end (RunFinished.Result, as for a workflow job) and the caller's
// Job.Result follows the log until that end (queuedResult) and reads it
// (RunOutput.Recorded, whose Texts are RecordedTexts). When the caller's
// ctx ends first it gets ctx's error and the run goes on on its worker.
// Other runs whose caller waits for the answer (the run API, Responses,
// streamed or synchronous workflow calls, builds) still run in the
// accepting process.
//
// The task carries the run's id and, sealed with the secrets key (AES-GCM
// bound to the run id: the broker stores it on disk), the command as the
// request gave it: the log has the run's start but not its tweaks (a
// webhook's body), variables or selected outputs, which may carry keys,
// in clear. The sealed command is also recorded in the start
// (RunStarted.Task): the task's outbox. An accepting process killed
// between recording the start and publishing the task would leave the
// run queued for ever; Republish (every process with a queue runs it at
// start and every ack wait) publishes again the tasks of the open,
// unclaimed queued runs whose accepting process is gone, from the log.
// A queued run recorded before RunStarted.Task existed has no task there
// and cannot be published again.
//
// Exactly once. The queue delivers a task at least once (again after a
// nack, after a worker died without an answer, …). Execute makes each
// queued run complete exactly once: before it runs a run it CLAIMS it —
// appends domain.RunClaimed at the run's expected version, so of two
// workers reading the same state only one claim is written — and every
// event the run then records, its end included, is appended at the
// expected version that follows the claim. A delivery of a run that
// ended is acked and does nothing; one claimed by a live process (its
// liveness lock held) is deferred (nacked, delivered again later); one
// claimed by a process that is gone is claimed again (the next attempt,
// RunClaimed.Interrupted naming the process cut off) and run again FROM
// THE START — unless Options.MaxAttempts attempts were already cut off
// that way (RunClaimed.Interrupted counts them): then the delivery closes
// the run as failed and is acked, so a run that kills every worker it
// lands on (out of memory) is not retried for ever. What the cut-off
// attempt did outside the log (a model call,
// an HTTP request, a tool call) may have happened, and its recorded
// events stay in the run's history before the new claim. So no queued
// run is lost, none ends twice, and a run whose worker died is executed
// again by another worker. A worker that stops gracefully hands its runs
// back (their run stays open, the task is nacked) instead of cancelling
// them, and records it (domain.RunReleased): the next claim is not an
// interrupted one and does not count against the limit.
//
// The startup sweep does not close queued runs (the queue delivers them
// until a worker ends them); a queued run nobody claimed is cancelled by
// Cancel directly in the log (its delivery then does nothing).

// Queue is the work queue of background runs (*queue.Queue).
type Queue interface {
	// Publish stores a task with deduplication id id.
	Publish(ctx context.Context, id string, payload []byte) error
}

// Sealer seals a task's command (*secrets.Ring).
type Sealer interface {
	Seal(plaintext, aad []byte) (string, error)
	Open(sealed string, aad []byte) ([]byte, error)
}

// ErrQueueUnavailable is a background run the work queue did not take
// (the run is recorded as failed).
var ErrQueueUnavailable = errors.New("the work queue is unavailable; retry later")

// DeferredError is a delivery of a queued run that another live process
// runs: it is delivered again later.
type DeferredError struct {
	RunID    uuid.UUID
	Instance uuid.UUID
}

func (e *DeferredError) Error() string {
	return fmt.Sprintf("run %s is being run by process %s", e.RunID, e.Instance)
}

// task is a queued run as published.
type task struct {
	RunID uuid.UUID `json:"run_id"`
	// Command is the StartRun command, sealed.
	Command string `json:"command"`
}

func taskAAD(id uuid.UUID) []byte { return []byte("skillflaw run task " + id.String()) }

// enqueue publishes the task of queued job j (its start recorded, the
// sealed command in it: RunStarted.Task); when the queue does not take
// it, the run is closed as failed (the caller is answered that the queue
// is unavailable, so nobody else may run it).
func (s *Service) enqueue(ctx context.Context, j *job) (*Job, error) {
	if hook := s.beforePublish.Load(); hook != nil && (*hook)(j.id) != nil {
		// A process killed here: the run stays open, queued, unpublished.
		return &Job{ID: j.id, j: j}, nil
	}
	payload, err := taskPayload(j.id, j.start.Task)
	if err == nil {
		err = s.opts.Queue.Publish(ctx, j.id.String(), payload)
	}
	if err != nil {
		s.log.Error("queue a run", "job_id", j.id, "error", err.Error())
		j.close(domain.RunFailed{Error: ErrQueueUnavailable.Error()})
		return nil, ErrQueueUnavailable
	}
	return &Job{ID: j.id, j: j}, nil
}

// SetBeforePublish sets a hook called when a queued run's start is
// recorded, before its task is published: an error stops there, as a
// process killed at that point would (the run stays open, queued and
// unpublished, until Republish finds it). For tests.
func (s *Service) SetBeforePublish(hook func(id uuid.UUID) error) { s.beforePublish.Store(&hook) }

// TaskOf is the task queued run id of cmd is published with (Execute's
// payload): for tools and tests that hand a run to a worker themselves.
func (s *Service) TaskOf(id uuid.UUID, cmd StartRun) ([]byte, error) {
	sealed, err := s.sealCommand(id, cmd)
	if err != nil {
		return nil, err
	}
	return taskPayload(id, sealed)
}

// sealCommand is cmd sealed for queued run id (RunStarted.Task).
func (s *Service) sealCommand(id uuid.UUID, cmd StartRun) (string, error) {
	if s.opts.Sealer == nil {
		return "", errors.New("no secrets key to seal the task with")
	}
	plain, err := json.Marshal(cmd)
	if err != nil {
		return "", fmt.Errorf("encode the task: %w", err)
	}
	sealed, err := s.opts.Sealer.Seal(plain, taskAAD(id))
	if err != nil {
		return "", fmt.Errorf("seal the task: %w", err)
	}
	return sealed, nil
}

// taskPayload is the task of queued run id whose command is sealed.
func taskPayload(id uuid.UUID, sealed string) ([]byte, error) {
	if sealed == "" {
		return nil, fmt.Errorf("run %s has no sealed task", id)
	}
	return json.Marshal(task{RunID: id, Command: sealed})
}

func (s *Service) openTask(payload []byte) (uuid.UUID, StartRun, error) {
	var t task
	if err := json.Unmarshal(payload, &t); err != nil || t.RunID == uuid.Nil {
		return uuid.Nil, StartRun{}, fmt.Errorf("not a run task: %v", err)
	}
	if s.opts.Sealer == nil {
		return t.RunID, StartRun{}, errors.New("no secrets key to open the task with")
	}
	plain, err := s.opts.Sealer.Open(t.Command, taskAAD(t.RunID))
	if err != nil {
		return t.RunID, StartRun{}, fmt.Errorf("open the task: %w", err)
	}
	var cmd StartRun
	if err := json.Unmarshal(plain, &cmd); err != nil {
		return t.RunID, StartRun{}, fmt.Errorf("decode the task: %w", err)
	}
	return t.RunID, cmd, nil
}

// Execute handles one delivery of a queued run's task (see the notes
// above): nil when the delivery is done with (the run ended, here or
// before), a *DeferredError when another live process runs it, another
// error when it must come again (this process stops, the database
// failed). A task that cannot be read never will be: its run, if any,
// is closed as failed, and nil is returned.
func (s *Service) Execute(ctx context.Context, payload []byte) error {
	id, cmd, err := s.openTask(payload)
	if err != nil {
		s.log.Error("a queued run's task cannot be read", "job_id", id, "error", err.Error())
		if id != uuid.Nil {
			return s.closeQueued(ctx, id, domain.RunFailed{Error: "the queued run's task cannot be read"})
		}
		return nil
	}
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return ErrStopping
	}
	// One delivery of a run at a time in this process: a second one (the
	// queue delivered it again meanwhile) is deferred, so that it never
	// sees this process's own claim before its job is registered and takes
	// it for one whose process is gone.
	if s.handling[id] {
		s.mu.Unlock()
		return &DeferredError{RunID: id, Instance: s.opts.Instance}
	}
	s.handling[id] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.handling, id)
		s.mu.Unlock()
	}()
	j, err := s.claim(ctx, id, cmd)
	if j == nil || err != nil {
		return err
	}
	j.run()
	if j.outcome.Status == statusHandedBack {
		return ErrStopping
	}
	return nil
}

// claim claims run id for this process and returns its job, ready to
// run; nil and nil when the run is over (or unknown), nil and a
// *DeferredError when a live process has it.
func (s *Service) claim(ctx context.Context, id uuid.UUID, cmd StartRun) (*job, error) {
	for range 5 {
		run, err := s.loadRun(ctx, id)
		var nf *JobNotFoundError
		if errors.As(err, &nf) {
			s.log.Error("a queued run is not in the log", "job_id", id)
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		info, _ := run.Started()
		if !run.Open() {
			return nil, nil
		}
		if !info.Queued {
			s.log.Error("a task names a run that is not queued", "job_id", id)
			return nil, nil
		}
		var interrupted *uuid.UUID
		if c, claimed := run.Claim(); claimed {
			// A claim of this process that no delivery handles (Execute
			// lets one at a time) is an attempt that was lost (its end
			// could not be recorded): claimed again, as a dead one's.
			running := false
			if c.Instance != s.opts.Instance {
				if running, err = s.alive(ctx, c.Instance); err != nil {
					return nil, err
				}
			}
			if running {
				return nil, &DeferredError{RunID: id, Instance: c.Instance}
			}
			if cut := run.Interruptions() + 1; cut >= s.opts.MaxAttempts {
				// Every attempt died with its worker (out of memory …):
				// the run is not run again.
				err := s.failQueued(ctx, run, cmd, fmt.Sprintf(
					"the run's worker stopped during each of its %d attempts; it is not run again", cut))
				if errors.As(err, new(*eventstore.WrongExpectedVersionError)) {
					continue
				}
				if err == nil {
					s.log.Error("runs: a queued run whose workers all died is failed", "job_id", id, "attempts", cut)
				}
				return nil, err
			}
			interrupted = &c.Instance
		}
		if err := run.ClaimFor(s.opts.Instance, interrupted); err != nil {
			return nil, err
		}
		md := s.runMetadata(run, "runs:claim")
		md.ActorUserID, md.CorrelationID = cmd.Metadata.ActorUserID, cmd.Metadata.CorrelationID
		_, err = s.opts.Messages.Repo.Save(ctx, run, md)
		if errors.As(err, new(*eventstore.WrongExpectedVersionError)) {
			continue // another worker claimed it, or the run changed: decide again
		}
		if err != nil {
			return nil, err
		}
		if interrupted != nil {
			s.log.Warn("runs: a queued run whose worker is gone runs again", "job_id", id, "interrupted", *interrupted)
		}
		return s.resume(ctx, run, cmd)
	}
	return nil, fmt.Errorf("claim run %s: it keeps changing", id)
}

// resume returns the job of queued run (claimed by this process),
// registered as running (ErrStopping when the process stops): the
// flow's content at the revision its start recorded, compiled with the
// command's tweaks. A flow that is gone or does not compile fails the
// run, as it would have failed where it was accepted.
func (s *Service) resume(ctx context.Context, run *domain.Run, cmd StartRun) (*job, error) {
	info, _ := run.Started()
	place := commands.MonitoredFlow{ID: info.FlowID, OwnerID: info.OwnerID, TenantID: info.TenantID, BusinessID: info.BusinessID}
	fe, err := s.existingFlow(ctx, info.FlowID, &FlowNotFoundError{Ref: info.FlowID.String()})
	var (
		data       []byte
		rev        uint64
		g          *engine.Graph
		compileErr = err
	)
	if err == nil {
		place = monitored(info.FlowID, fe.flow)
		data, rev, err = s.contentAt(ctx, fe, info, cmd)
		if err == nil {
			g, compileErr = s.compileRun(fe, data, rev, cmd, info.Source == SourceDraft && rev == fe.rev && cmd.Data == nil)
		} else {
			compileErr = err
		}
	}
	build := StartBuild{FlowID: info.FlowID, UserID: info.UserID, Variables: cmd.Variables, Metadata: cmd.Metadata, LogBuilds: true}
	j := s.newJobOf(run, build, info, place, g, compileErr, "run:"+fmt.Sprint(info.UserID))
	j.api = &apiRun{cmd: cmd, done: make(chan struct{})}
	j.begun, j.worker = true, true
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		// Claimed, not run: handed back (released), for the next delivery
		// to claim it again.
		s.mu.Unlock()
		s.releaseClaim(ctx, run)
		s.mu.Lock()
		return nil, ErrStopping
	}
	s.jobs[info.RunID] = j
	s.jobsWG.Add(1)
	return j, nil
}

// releaseClaim records that this process hands its claim of run back
// without running it (RunReleased); when that fails, the claim is taken
// for a dead one's once this process is gone.
func (s *Service) releaseClaim(ctx context.Context, run *domain.Run) {
	info, _ := run.Started()
	if err := run.Release(s.opts.Instance); err != nil {
		s.log.Error("hand a run back", "job_id", info.RunID, "error", err.Error())
		return
	}
	if _, err := s.opts.Messages.Repo.Save(context.WithoutCancel(ctx), run, s.runMetadata(run, "runs:release")); err != nil {
		s.log.Error("hand a run back", "job_id", info.RunID, "error", err.Error())
	}
}

// contentAt is the data a queued run runs: the graph its command sent, or
// the flow's content at the revision its start recorded (the flow may
// have changed since it was queued).
func (s *Service) contentAt(ctx context.Context, fe *flowEntry, info domain.RunStarted, cmd StartRun) ([]byte, uint64, error) {
	if info.Source == "data" || info.FlowRevision == nil {
		if cmd.Data == nil {
			return nil, 0, errors.New("the queued run's graph is missing")
		}
		return cmd.Data, fe.rev, nil
	}
	rev := *info.FlowRevision
	if rev == fe.rev && info.Source == SourceDraft {
		return fe.flow.Content().Data, rev, nil
	}
	c, err := commands.FlowContentAt(ctx, s.opts.Messages.Repo, info.FlowID, rev)
	if err != nil {
		return nil, 0, fmt.Errorf("the flow's content at revision %d: %w", rev, err)
	}
	return c.Data, rev, nil
}

// failQueued closes queued run (as folded) as failed with msg, an error
// event saying why for whoever replays it, at its expected version.
func (s *Service) failQueued(ctx context.Context, run *domain.Run, cmd StartRun, msg string) error {
	if err := closeFailed(run, msg, domain.RunFailed{Error: msg}); err != nil {
		return err
	}
	md := s.runMetadata(run, "runs:attempts")
	md.ActorUserID, md.CorrelationID = cmd.Metadata.ActorUserID, cmd.Metadata.CorrelationID
	_, err := s.opts.Messages.Repo.Save(ctx, run, md)
	return err
}

// closeQueued closes queued run id, if it is open and nobody claimed it,
// with end; one claimed meanwhile is left to its claimer.
func (s *Service) closeQueued(ctx context.Context, id uuid.UUID, end domain.Event) error {
	for range 5 {
		run, err := s.loadRun(ctx, id)
		var nf *JobNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		if err != nil {
			return err
		}
		if !run.Open() {
			return nil
		}
		if _, claimed := run.Claim(); claimed {
			return nil
		}
		if err := run.Close(end); err != nil {
			return err
		}
		_, err = s.opts.Messages.Repo.Save(ctx, run, s.runMetadata(run, "runs:queue"))
		if !errors.As(err, new(*eventstore.WrongExpectedVersionError)) {
			return err
		}
	}
	return fmt.Errorf("close queued run %s: it keeps changing", id)
}

// Republish publishes again the tasks of the queued runs whose publish
// may have been lost: open, claimed by no worker, started more than
// Options.RepublishAfter ago by a process that is gone (its liveness lock
// free) — the process was killed between recording the run's start and
// publishing its task. A live accepting process is never raced: its
// publish either happened or closed the run as failed. The task is read
// from the run's start (RunStarted.Task, the outbox); a queued run
// recorded before that field existed has none and is left alone. A
// duplicate task is harmless (Execute acks an ended run and defers one a
// live worker runs), and the queue drops one published again within its
// deduplication window. A process publishes a run's task again once, and
// again only after republishAgain (the broker acknowledged the first one:
// it is stored, and delivered until a worker ends the run), so a backlog
// of queued runs waiting for workers is not published again at every
// sweep. It returns how many tasks it published; the runs read model
// finds the candidates, the log decides.
func (s *Service) Republish(ctx context.Context) (int, error) {
	if s.opts.Queue == nil {
		return 0, nil
	}
	rows, err := s.opts.Messages.Pool.Query(ctx, `SELECT run_id, instance FROM runs
WHERE status = 'running' AND queued AND NOT claimed AND started_at < $1 AND instance <> $2
ORDER BY started_at LIMIT 10000`, s.now().Add(-s.opts.RepublishAfter), s.opts.Instance)
	if err != nil {
		return 0, fmt.Errorf("read the unclaimed queued runs: %w", err)
	}
	type open struct{ run, instance uuid.UUID }
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (open, error) {
		var o open
		return o, row.Scan(&o.run, &o.instance)
	})
	if err != nil {
		return 0, fmt.Errorf("read the unclaimed queued runs: %w", err)
	}
	s.republishMu.Lock()
	defer s.republishMu.Unlock()
	now := s.now()
	candidates := make(map[uuid.UUID]bool, len(found))
	for _, o := range found {
		candidates[o.run] = true
	}
	for id := range s.republished {
		if !candidates[id] {
			delete(s.republished, id) // claimed, ended, or no longer found
		}
	}
	gone := map[uuid.UUID]bool{}
	n := 0
	for _, o := range found {
		if at, ok := s.republished[o.run]; ok && now.Sub(at) < republishAgain(s.opts.RepublishAfter) {
			continue
		}
		dead, seen := gone[o.instance]
		if !seen {
			alive, err := s.alive(ctx, o.instance)
			if err != nil {
				return n, err
			}
			dead, gone[o.instance] = !alive, !alive
		}
		if !dead {
			continue
		}
		run, err := s.loadRun(ctx, o.run)
		if err != nil {
			return n, err
		}
		info, _ := run.Started()
		if _, claimed := run.Claim(); !run.Open() || claimed || !info.Queued {
			continue // the read model lags behind the log
		}
		payload, err := taskPayload(o.run, info.Task)
		if err != nil {
			continue // recorded before the task's outbox: cannot be published again
		}
		if err := s.opts.Queue.Publish(ctx, o.run.String(), payload); err != nil {
			return n, fmt.Errorf("publish the task of run %s again: %w", o.run, err)
		}
		s.republished[o.run] = now
		s.log.Warn("runs: published again the task of a queued run whose accepting process is gone",
			"job_id", o.run, "instance", o.instance)
		n++
	}
	return n, nil
}

// republishAgain is how long a process waits before it publishes a run's
// task again a second time: far beyond the queue's deduplication window
// (2 minutes); it only matters if the broker lost what it stored.
func republishAgain(after time.Duration) time.Duration { return max(10*after, 15*time.Minute) }

// queuedResult waits until queued run id (an MCP tool call a worker runs)
// ended in the log and returns its answer as Result does: the recorded
// RunResponse (RunOutput.Recorded), or a *RunError with the text an
// in-process run gives. When ctx ends first its error is returned and the
// run goes on on its worker (its end is recorded; nobody reads it here).
func (s *Service) queuedResult(ctx context.Context, id uuid.UUID) (*RunOutput, error) {
	for {
		// The head is read before the fold: an end recorded after it is
		// followed, one recorded before it is folded.
		head, err := s.store.Head(ctx)
		if err != nil {
			return nil, ctxErrOr(ctx, err)
		}
		run, err := s.loadRun(ctx, id)
		if err != nil {
			return nil, ctxErrOr(ctx, err)
		}
		if !run.Open() {
			return recordedOutput(run)
		}
		if !s.awaitEnd(ctx, id, head, time.Minute) {
			// Too many readers wait already (or a minute passed): look
			// again a little later.
			t := time.NewTimer(250 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// ctxErrOr is ctx's error when it ended (a read cut off by it), else err.
func ctxErrOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// recordedOutput is the answer of run (ended) as a caller in another
// process reads it: finishAPI's, from the log.
func recordedOutput(run *domain.Run) (*RunOutput, error) {
	info, _ := run.Started()
	switch e := run.End().(type) {
	case domain.RunFinished:
		return &RunOutput{Session: info.Session, Recorded: e.Result}, nil
	case domain.RunCancelled:
		return nil, &RunError{Detail: "The run was cancelled: " + e.Reason, Cancelled: true}
	case domain.RunFailed:
		return nil, &RunError{Detail: e.Error}
	}
	return nil, fmt.Errorf("run %s ended with %T", info.RunID, run.End())
}
