package runs

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// replica is the feed of a job of another process, read from the run's
// stream and, while the run is open, followed in the log. It has every
// event but the tokens, which are live only on the process running the
// job.
type replica struct {
	feed *feed
	info runInfo
}

// errFound ends a follow that found what it looked for.
var errFound = errors.New("found")

// replica returns the replica of job id for r (made, and followed, on
// first use).
func (s *Service) replica(ctx context.Context, r Reader, id uuid.UUID) (*replica, error) {
	s.mu.Lock()
	rep := s.replicas[id]
	s.mu.Unlock()
	if rep != nil {
		if !allowed(ctx, r, rep.info) {
			return nil, &JobNotFoundError{JobID: id.String()}
		}
		return rep, nil
	}
	events, err := s.runStream(ctx, id)
	if err != nil {
		return nil, err
	}
	first, err := s.opts.Messages.Registry.Decode(events[0])
	if err != nil {
		return nil, err
	}
	info, ok := first.(domain.RunStarted)
	if !ok || !allowed(ctx, r, info) {
		return nil, &JobNotFoundError{JobID: id.String()}
	}
	rep = &replica{feed: newFeed(), info: info}
	open, err := s.replay(rep.feed, events)
	if err != nil {
		return nil, err
	}
	if open && !info.Queued { // a queued run's process is the queue's concern: it is followed until it ends
		alive, err := s.alive(ctx, info.Instance)
		if err != nil {
			return nil, err
		}
		if !alive {
			return nil, ErrNoEventTask
		}
	}
	s.mu.Lock()
	if other := s.replicas[id]; other != nil {
		s.mu.Unlock()
		return other, nil
	}
	s.replicas[id] = rep
	s.mu.Unlock()
	if open {
		go s.follow(rep, id, events[len(events)-1].Position)
	} else {
		s.forgetLater(id, rep)
	}
	return rep, nil
}

// runStream reads the stream of run id. A job started a moment ago on
// another process is in the log after its first flush: for a job id made
// less than two flush intervals (and two seconds) ago, it waits for it.
// No stream: a JobNotFoundError.
func (s *Service) runStream(ctx context.Context, id uuid.UUID) ([]eventstore.RecordedEvent, error) {
	stream := domain.RunStream(id)
	head, err := s.store.Head(ctx)
	if err != nil {
		return nil, err
	}
	events, err := s.store.ReadStream(ctx, stream, 0, eventstore.MaxRevision)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		if at, ok := startedAt(id); ok {
			deadline := at.Add(2*s.opts.FlushInterval + 2*time.Second)
			if now := s.now(); now.Before(deadline) && at.Before(now.Add(time.Second)) {
				if events, err = s.awaitStream(ctx, stream, head, deadline.Sub(now)); err != nil {
					return nil, err
				}
			}
		}
	}
	if len(events) == 0 {
		return nil, &JobNotFoundError{JobID: id.String()}
	}
	return events, nil
}

// awaitStream waits (at most wait) for stream's first events after head;
// when maxAwaiting reads wait already, it does not (the job is unknown).
func (s *Service) awaitStream(ctx context.Context, stream string, head eventstore.Position, wait time.Duration) ([]eventstore.RecordedEvent, error) {
	select {
	case s.awaiting <- struct{}{}:
		defer func() { <-s.awaiting }()
	default:
		return nil, nil // too many waiting: an unknown job
	}
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err := s.store.Follow(fctx, head, func(_ context.Context, batch []eventstore.RecordedEvent) error {
		for _, rec := range batch {
			if rec.StreamID == stream {
				return errFound
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) && fctx.Err() == nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return s.store.ReadStream(ctx, stream, 0, eventstore.MaxRevision)
}

// replay puts the frames of a run's events in f and tells whether the run
// is still open (f ends when the run did).
func (s *Service) replay(f *feed, events []eventstore.RecordedEvent) (open bool, err error) {
	for _, rec := range events {
		e, err := s.opts.Messages.Registry.Decode(rec)
		if err != nil {
			return false, err
		}
		switch e := e.(type) {
		case domain.RunVerticesSorted:
			f.push(frame("vertices_sorted", []byte(e.Data)))
		case domain.RunMessageSent:
			f.push(frame("add_message", []byte(e.Data)))
		case domain.RunErrorRaised:
			f.push(frame("error", []byte(e.Data)))
		case domain.RunVertexBuilt:
			f.push(frame("end_vertex", []byte(e.Data)))
		case domain.RunEventEmitted:
			f.push(frame(e.Event, []byte(e.Data)))
		case domain.RunFinished:
			f.push(endFrame)
			f.end(true)
			return false, nil
		case domain.RunFailed, domain.RunCancelled:
			f.end(false)
			return false, nil
		}
	}
	return true, nil
}

// follow follows the log for the rest of a run open on another process,
// until it ends, its process goes away, or nobody read it for the
// retention time (a reader streaming it reads it, however long it waits
// for the next event); then the replica is forgotten (after the
// retention).
func (s *Service) follow(rep *replica, id uuid.UUID, after eventstore.Position) {
	ctx, cancel := context.WithCancel(s.base)
	defer cancel()
	stream := domain.RunStream(id)
	go func() { // the process running it may go away, or the readers
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			alive, err := s.alive(ctx, rep.info.Instance)
			idle := rep.feed.streaming() == 0 && time.Since(rep.feed.idleSince()) > s.opts.Retention
			if err == nil && !alive && !rep.info.Queued || idle {
				cancel()
				return
			}
		}
	}()
	stopped := false
	err := s.store.Follow(ctx, after, func(_ context.Context, batch []eventstore.RecordedEvent) error {
		var mine []eventstore.RecordedEvent
		for _, rec := range batch {
			if rec.StreamID == stream {
				mine = append(mine, rec)
			}
		}
		if len(mine) == 0 {
			return nil
		}
		open, err := s.replay(rep.feed, mine)
		if err != nil || !open {
			stopped = err == nil
			return errors.Join(err, errFound)
		}
		return nil
	})
	if stopped {
		s.forgetLater(id, rep)
		return
	}
	// Not followed to its end (idle, its process gone, a failure): later
	// readers start again from the log.
	if err != nil && !errors.Is(err, errFound) && ctx.Err() == nil {
		s.log.Warn("follow a run of another process", "job_id", id, "error", err.Error())
	}
	s.mu.Lock()
	if s.replicas[id] == rep {
		delete(s.replicas, id)
	}
	s.mu.Unlock()
	rep.feed.end(false)
}

// forgetLater forgets a replica after the retention time.
func (s *Service) forgetLater(id uuid.UUID, rep *replica) {
	time.AfterFunc(s.opts.Retention, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.replicas[id] == rep {
			delete(s.replicas, id)
		}
	})
}
