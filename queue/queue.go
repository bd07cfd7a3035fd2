package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names on the broker.
const (
	// StreamName is the JetStream stream of the tasks.
	StreamName = "SKILLFLAW_RUNS"
	// Subject is the subject the tasks are published on.
	Subject = "skillflaw.runs"
	// Group is the durable consumer and queue group every worker shares.
	Group = "skillflaw-workers"
)

// Config configures a Queue.
type Config struct {
	// URL is the NATS server (nats://host:4222, credentials allowed).
	URL string
	// AckWait is how long the server waits for a sign of life of the
	// worker holding a task before it delivers the task again (to any
	// worker): how long the tasks of a worker that died wait. 0: 30 s.
	AckWait time.Duration
	// MaxRun bounds one handler's run (a run's wall time and its
	// recording); a handler still running then loses its delivery (the
	// task comes again). 0: 15 minutes.
	MaxRun time.Duration
	// RetryDelay is how long a nacked task waits before it comes again.
	// 0: AckWait.
	RetryDelay time.Duration
	// Workers is how many tasks this process handles at once. 0: 8.
	Workers int
	Logger  *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.AckWait <= 0 {
		c.AckWait = 30 * time.Second
	}
	if c.MaxRun <= 0 {
		c.MaxRun = 15 * time.Minute
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = c.AckWait
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// CheckURL validates a queue URL: nats:// (or tls://) with a host.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls") {
		return errors.New("must be a nats://host:port (or tls://host:port) URL")
	}
	return nil
}

// Queue is a connection to the work queue: Publish hands tasks to it,
// Consume handles them.
type Queue struct {
	cfg  Config
	conn *nats.Conn
	pub  *wnats.Publisher
}

// Open connects to the NATS server at cfg.URL and makes sure the stream
// exists (created when missing; an existing one is used as it is).
func Open(ctx context.Context, cfg Config) (*Queue, error) {
	cfg = cfg.withDefaults()
	if err := CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("queue URL: %w", err)
	}
	conn, err := nats.Connect(cfg.URL, nats.Name("skillflaw"), nats.MaxReconnects(-1), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connect to the queue: %w", err)
	}
	q := &Queue{cfg: cfg, conn: conn}
	if err := q.ensureStream(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	q.pub, err = wnats.NewPublisherWithNatsConn(conn, wnats.PublisherPublishConfig{
		Marshaler: &wnats.NATSMarshaler{}, SubjectCalculator: wnats.DefaultSubjectCalculator,
		// The message's id is the broker's deduplication id: a task
		// published twice within the stream's window is stored once.
		JetStream: wnats.JetStreamConfig{TrackMsgId: true},
	}, watermillLogger{cfg.Logger})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("queue publisher: %w", err)
	}
	return q, nil
}

// ensureStream creates the stream of the tasks when it is missing: a
// work queue (a task is removed once acked) on disk.
func (q *Queue) ensureStream(ctx context.Context) error {
	js, err := q.conn.JetStream(nats.Context(ctx))
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	if _, err := js.StreamInfo(StreamName, nats.Context(ctx)); err == nil {
		return nil
	} else if !errors.Is(err, nats.ErrStreamNotFound) {
		return fmt.Errorf("queue stream: %w", err)
	}
	_, err = js.AddStream(&nats.StreamConfig{Name: StreamName, Subjects: []string{Subject}, Retention: nats.WorkQueuePolicy,
		Storage: nats.FileStorage, Duplicates: 2 * time.Minute}, nats.Context(ctx))
	if err != nil && !errors.Is(err, nats.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("create the queue stream: %w", err)
	}
	return nil
}

// Close closes the connection (a Consume running ends).
func (q *Queue) Close() {
	q.conn.Close()
}

// Publish stores a task (id: its deduplication id) in the queue; it
// returns once the server has stored it.
func (q *Queue) Publish(_ context.Context, id string, payload []byte) error {
	if err := q.pub.Publish(Subject, message.NewMessage(id, payload)); err != nil {
		return fmt.Errorf("queue a task: %w", err)
	}
	return nil
}

// Handler handles one delivery of a task: nil acks it (it is done), an
// error nacks it (it comes again after the retry delay). attempt is the
// delivery's number (1 for the first). ctx ends when the consumer stops
// or the handler ran longer than Config.MaxRun.
type Handler func(ctx context.Context, id string, payload []byte, attempt uint64) error

// The metadata keys the consumer keeps a delivery's reply subject (its
// acks and in-progress signs go there) and number under.
const (
	replyKey     = "_skillflaw_nats_reply"
	deliveredKey = "_skillflaw_nats_delivered"
)

// unmarshaler is the default one, keeping the delivery's reply subject
// and number. It never fails (Watermill's handler would not survive it):
// a message it cannot read is handed on empty, for the handler to drop.
type unmarshaler struct{ wjs.DefaultUnmarshaler }

func (u unmarshaler) Unmarshal(m jetstream.Msg) (*message.Message, error) {
	msg, err := u.DefaultUnmarshaler.Unmarshal(m)
	if err != nil {
		msg = message.NewMessage("", nil)
	}
	msg.Metadata.Set(replyKey, m.Reply())
	if meta, err := m.Metadata(); err == nil {
		msg.Metadata.Set(deliveredKey, strconv.FormatUint(meta.NumDelivered, 10))
	}
	return msg, nil
}

// Consume handles tasks with h, Config.Workers at once, until ctx ends or
// the connection closes; the tasks being handled then are neither acked
// nor nacked (they come again after AckWait).
//
// The consumer pulls (Watermill's JetStream subscriber over a pull
// consumer): each of the Workers handlers asks for one task when it is
// free (and at most one more waits behind it), so tasks do not pile up in
// a busy worker's buffer while another worker is idle, nor wait there
// past AckWait. The durable consumer is created or updated here (every
// worker shares it; its AckWait is the last process's).
func (q *Queue) Consume(ctx context.Context, h Handler) error {
	cfg := q.cfg
	js, err := jetstream.New(q.conn)
	if err != nil {
		return fmt.Errorf("queue consumer: %w", err)
	}
	stream, err := js.Stream(ctx, StreamName)
	if err != nil {
		return fmt.Errorf("queue stream: %w", err)
	}
	consumer, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: Group, FilterSubject: Subject,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: cfg.AckWait, MaxDeliver: -1, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return fmt.Errorf("queue consumer: %w", err)
	}
	sub, err := wjs.NewSubscriber(wjs.SubscriberConfig{
		Conn:   q.conn,
		Logger: watermillLogger{cfg.Logger},
		// The subscriber's own wait for the handler's answer: MaxRun (the
		// server's redelivery is bounded by AckWait and the in-progress
		// signs, not by this).
		AckWaitTimeout: cfg.MaxRun,
		ResourceInitializer: func(context.Context, jetstream.JetStream, string) (jetstream.Consumer,
			func(context.Context, watermill.LoggerAdapter), error) {
			return consumer, nil, nil
		},
		NakDelay:       wjs.NewStaticDelay(cfg.RetryDelay),
		ConsumeOptions: []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(1)},
		Unmarshaler:    unmarshaler{},
	})
	if err != nil {
		return fmt.Errorf("queue consumer: %w", err)
	}
	// The subscriptions live until the connection closes (Close): their
	// context is never cancelled, because Watermill's subscriber closes
	// its output when it is, which a delivery being handed over at that
	// moment would write to.
	msgs := make(chan *message.Message)
	for range cfg.Workers {
		out, err := sub.Subscribe(context.WithoutCancel(ctx), Subject)
		if err != nil {
			return fmt.Errorf("subscribe to the queue: %w", err)
		}
		go func() {
			for m := range out {
				select {
				case msgs <- m:
				case <-ctx.Done():
					return // not handled: it comes again after AckWait
				}
			}
		}()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg := <-msgs:
			wg.Add(1)
			go func() {
				defer wg.Done()
				q.handle(ctx, msg, h)
			}()
		}
	}
}

// handle runs h on one delivery, telling the server it is in progress
// every AckWait/3 meanwhile, and acks or nacks it.
func (q *Queue) handle(ctx context.Context, msg *message.Message, h Handler) {
	reply := msg.Metadata.Get(replyKey)
	attempt, err := strconv.ParseUint(msg.Metadata.Get(deliveredKey), 10, 64)
	if err != nil {
		attempt = 1
	}
	done := make(chan struct{})
	defer close(done)
	if reply != "" {
		go func() {
			t := time.NewTicker(q.cfg.AckWait / 3)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					if err := q.conn.Publish(reply, []byte("+WPI")); err != nil {
						q.cfg.Logger.Warn("queue: tell a task in progress", "error", err.Error())
					}
				}
			}
		}()
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(msg.Context(), cancel) // MaxRun passed, or the consumer stops
	defer stop()
	if err := h(hctx, msg.UUID, msg.Payload, attempt); err != nil {
		if ctx.Err() == nil {
			q.cfg.Logger.Info("queue: a task will come again", "task", msg.UUID, "attempt", attempt, "reason", err.Error())
		}
		msg.Nack()
		return
	}
	msg.Ack()
}

// watermillLogger writes Watermill's logs to slog (its info, debug and
// trace ones at debug).
type watermillLogger struct{ log *slog.Logger }

func (l watermillLogger) attrs(fields watermill.LogFields) []any {
	out := make([]any, 0, 2*len(fields))
	for k, v := range fields {
		out = append(out, k, v)
	}
	return out
}

func (l watermillLogger) Error(msg string, err error, fields watermill.LogFields) {
	l.log.Error("queue: "+msg, append(l.attrs(fields), "error", fmt.Sprint(err))...)
}
func (l watermillLogger) Info(msg string, fields watermill.LogFields) {
	l.log.Debug("queue: "+msg, l.attrs(fields)...) // one per delivery ("got msg")
}
func (l watermillLogger) Debug(msg string, fields watermill.LogFields) {
	l.log.Debug("queue: "+msg, l.attrs(fields)...)
}
func (l watermillLogger) Trace(msg string, fields watermill.LogFields) {
	l.log.Debug("queue: "+msg, l.attrs(fields)...)
}
func (l watermillLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return watermillLogger{l.log.With(l.attrs(fields)...)}
}
