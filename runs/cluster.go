package runs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Processes sharing the database see each other through PostgreSQL:
//   - liveness: each process holds a session advisory lock named after its
//     instance id while it serves (on a connection of its own, released by
//     PostgreSQL when the process dies); a run whose instance holds no
//     lock is interrupted;
//   - cancels: a process asked to cancel another's job NOTIFYs
//     cancelChannel with the job id; the process running it cancels it;
//   - replay: a process asked for another's job reads the run's stream
//     and follows the log for the rest (replica).

const (
	cancelChannel = "skillflaw_run_cancel"
	// lockClass is the first key of the liveness locks ("SFRU").
	lockClass = int64(0x53465255)
)

// lockKey is the second key of instance's liveness lock.
func lockKey(instance uuid.UUID) int64 {
	h := fnv.New32a()
	h.Write(instance[:])
	return int64(h.Sum32() & 0x7fffffff)
}

// Run is the process's part of the cluster: it takes the liveness lock,
// closes as interrupted the runs of processes that are gone (the startup
// sweep), and cancels the jobs other processes ask it to, until ctx ends;
// then it shuts the jobs down (cancelled, recorded), waiting at most
// shutdown for them.
func (s *Service) Run(ctx context.Context, shutdown time.Duration) error {
	defer s.shutdownWithin(ctx, shutdown) // when the lock was not held at the end
	swept := false
	for ctx.Err() == nil {
		err := s.serve(ctx, &swept, shutdown)
		if ctx.Err() != nil {
			break
		}
		s.log.Warn("runs: the cluster connection failed; reconnecting", "error", err.Error())
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

// shutdownWithin shuts the jobs down (Shutdown), waiting at most d.
func (s *Service) shutdownWithin(ctx context.Context, d time.Duration) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		s.log.Error("shut the runs down", "error", err.Error())
	}
}

// serve holds the lock and listens on one connection until it fails or
// ctx ends; the first time, it sweeps. When ctx ends it shuts the jobs
// down before it lets the lock go: a process that saw the lock gone
// meanwhile would close them as interrupted under their final records.
func (s *Service) serve(ctx context.Context, swept *bool, shutdown time.Duration) error {
	cfg := s.opts.Messages.Pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "skillflaw runs " + s.opts.Instance.String()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if ctx.Err() != nil {
			s.shutdownWithin(ctx, shutdown)
		}
		conn.Close(context.WithoutCancel(ctx)) //nolint:errcheck // closing
	}()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1::int4, $2::int4)`, lockClass, lockKey(s.opts.Instance)); err != nil {
		return fmt.Errorf("liveness lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+cancelChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if !*swept {
		*swept = true
		go func() {
			n, err := s.Sweep(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Error("runs: the startup sweep failed", "error", err.Error())
			case n > 0:
				s.log.Info("runs: closed the runs of processes that are gone as interrupted", "runs", n)
			}
		}()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		id, err := uuid.Parse(n.Payload)
		if err != nil {
			continue
		}
		s.mu.Lock()
		j := s.jobs[id]
		s.mu.Unlock()
		if j != nil {
			j.cancel(domain.RunCancelRequested)
		}
	}
}

// alive tells whether process instance holds its liveness lock.
func (s *Service) alive(ctx context.Context, instance uuid.UUID) (bool, error) {
	var ok bool
	err := s.opts.Messages.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 2 AND granted)`, lockClass, lockKey(instance)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("liveness of %s: %w", instance, err)
	}
	return ok, nil
}

// notifyCancel asks the process running job id to cancel it.
func (s *Service) notifyCancel(ctx context.Context, id uuid.UUID, _ string) error {
	_, err := s.opts.Messages.Pool.Exec(ctx, `SELECT pg_notify($1, $2)`, cancelChannel, id.String())
	return err
}

// Sweep closes as interrupted (failed) every run still open whose process
// is gone — but queued runs, which the work queue delivers again — once
// the runs read model caught up with the log; it returns how many it
// closed. Run calls it at start.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	head, err := s.store.Head(ctx)
	if err != nil {
		return 0, err
	}
	if s.opts.WaitForRuns != nil {
		if err := s.opts.WaitForRuns(ctx, head); err != nil {
			return 0, err
		}
	}
	rows, err := s.opts.Messages.Pool.Query(ctx, `SELECT run_id, instance FROM runs WHERE status = 'running' AND instance <> $1`,
		s.opts.Instance)
	if err != nil {
		return 0, fmt.Errorf("read the running runs: %w", err)
	}
	type open struct{ run, instance uuid.UUID }
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (open, error) {
		var o open
		return o, row.Scan(&o.run, &o.instance)
	})
	if err != nil {
		return 0, fmt.Errorf("read the running runs: %w", err)
	}
	dead := map[uuid.UUID]bool{}
	n := 0
	for _, o := range found {
		gone, seen := dead[o.instance]
		if !seen {
			alive, err := s.alive(ctx, o.instance)
			if err != nil {
				return n, err
			}
			gone, dead[o.instance] = !alive, !alive
		}
		if !gone {
			continue
		}
		// A queued run is the queue's: it is delivered again until a
		// worker ends it (a dead worker's attempt is claimed again).
		run, err := s.loadRun(ctx, o.run)
		if err != nil {
			return n, err
		}
		if info, _ := run.Started(); info.Queued {
			continue
		}
		if err := s.interrupt(ctx, o.run); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// interrupt closes run id, if it is still open, as failed "interrupted":
// an error event says why, for whoever replays it.
func (s *Service) interrupt(ctx context.Context, id uuid.UUID) error {
	for range 5 {
		run, err := s.loadRun(ctx, id)
		if err != nil {
			return err
		}
		if !run.Open() {
			return nil
		}
		msg := "The run was interrupted: the server process running it stopped."
		if err := closeFailed(run, msg, domain.RunFailed{Error: domain.RunInterrupted}); err != nil {
			return err
		}
		_, err = s.opts.Messages.Repo.Save(ctx, run, s.runMetadata(run, "runs:sweep"))
		if !errors.As(err, new(*eventstore.WrongExpectedVersionError)) {
			return err
		}
	}
	return fmt.Errorf("interrupt run %s: it keeps changing", id)
}

// closeFailed closes run as failed with end, after an error event saying
// msg, for whoever replays it.
func closeFailed(run *domain.Run, msg string, end domain.RunFailed) error {
	info, _ := run.Started()
	data := pyDumps(flowErrorData(info.RecordsFlowID.String(), info.Session, "RuntimeError", msg))
	if err := run.Emit(domain.RunErrorRaised{Data: string(data)}); err != nil {
		return err
	}
	return run.Close(end)
}

// runMetadata is the metadata of an event the service itself records on
// run (no request behind it): causation, now, and the run's tenant and
// business.
func (s *Service) runMetadata(run *domain.Run, causation string) eventstore.Metadata {
	info, _ := run.Started()
	md := eventstore.Metadata{CausationID: causation, OccurredAt: s.now(), BusinessID: info.BusinessID}
	if info.TenantID != nil {
		md.TenantID = *info.TenantID
	}
	return md
}

// startedAt is when job id was created (its id is a UUIDv7); ok is false
// for other ids.
func startedAt(id uuid.UUID) (time.Time, bool) {
	if id.Version() != 7 {
		return time.Time{}, false
	}
	ms := int64(binary.BigEndian.Uint64(append([]byte{0, 0}, id[:6]...)))
	return time.UnixMilli(ms), true
}
