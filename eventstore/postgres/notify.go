package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// watch registers a follower for wake-ups; stop unregisters it. The
// channel holds at most one pending signal, which is all a follower needs:
// it reads everything new when it wakes.
func (s *Store) watch() (wake <-chan struct{}, stop func()) {
	s.listenerOnce.Do(func() {
		s.bgWG.Add(1)
		go s.listen()
	})
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.watchers[ch] = struct{}{}
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.watchers, ch)
		s.mu.Unlock()
	}
}

// wakeAll signals every follower of this process.
func (s *Store) wakeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// appended runs after every committed append: local followers wake now,
// other processes through one coalesced NOTIFY.
func (s *Store) appended() {
	s.wakeAll()
	s.senderOnce.Do(func() {
		s.bgWG.Add(1)
		go s.sendNotifications()
	})
	select {
	case s.kick <- struct{}{}:
	default: // a NOTIFY is already due; it covers this append too
	}
}

// notifyWindow is the shortest time between two NOTIFYs of one process:
// followers in other processes see appends at most this much later (those
// in this process are woken at once); under load it keeps the notifier from
// costing writers a measurable share of the server.
const notifyWindow = 20 * time.Millisecond

// sendNotifications sends one NOTIFY per burst of appends, outside the
// appenders' transactions, on a connection of its own whose commits do not
// wait for a WAL flush (a NOTIFY takes a transaction id, and a durable
// commit per append would double the fsyncs of a single writer; a lost
// notification only delays followers until their safety-net poll).
func (s *Store) sendNotifications() {
	defer s.bgWG.Done()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		select {
		case <-s.bgCtx.Done():
			return
		case <-s.kick:
		}
		var err error
		if conn == nil {
			conn, err = s.connect(s.bgCtx, "SET synchronous_commit TO off")
		}
		if err == nil {
			_, err = conn.Exec(s.bgCtx, "NOTIFY "+notifyChannel)
		}
		// Let appends of the next few milliseconds share one notification.
		if sleep(s.bgCtx, notifyWindow) != nil {
			return
		}
		if err != nil && s.bgCtx.Err() == nil {
			s.log.Warn("event log: NOTIFY failed; other processes fall back to polling", "error", err)
			if conn != nil {
				conn.Close(context.Background())
				conn = nil
			}
		}
	}
}

// connect opens a connection of its own (not from the pool) and runs setup.
func (s *Store) connect(ctx context.Context, setup string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, setup); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return conn, nil
}

// listen holds a dedicated connection that LISTENs for appends made by
// other processes, reconnecting with backoff.
func (s *Store) listen() {
	defer s.bgWG.Done()
	pause := 100 * time.Millisecond
	for s.bgCtx.Err() == nil {
		err := s.listenOnce()
		if s.bgCtx.Err() != nil {
			return
		}
		s.log.Warn("event log: LISTEN connection lost, reconnecting", "error", err, "retry_in", pause)
		if sleep(s.bgCtx, pause) != nil {
			return
		}
		pause = min(2*pause, 10*time.Second)
	}
}

func (s *Store) listenOnce() error {
	conn, err := s.connect(s.bgCtx, "LISTEN "+notifyChannel)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	s.wakeAll() // whatever happened while we were not listening
	for {
		if _, err := conn.WaitForNotification(s.bgCtx); err != nil {
			return err
		}
		s.wakeAll()
	}
}
