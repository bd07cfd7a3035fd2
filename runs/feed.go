package runs

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// feed is the sequence of frames of one job as its readers get them: the
// frames so far, whether the run ended, and a channel closed whenever
// either changes. Every streaming reader reads it from the start; the
// polling readers share one cursor (each poll takes what the previous
// ones left, as Langflow's queue does).
type feed struct {
	mu     sync.Mutex
	frames [][]byte
	done   bool
	// finished tells a run that ended with its end event (a poll past
	// its end answers another end, Langflow's duplicate end).
	finished bool
	wake     chan struct{}
	polled   int
	touched  time.Time
	// streamers counts the readers streaming the feed now.
	streamers int
}

func newFeed() *feed { return &feed{wake: make(chan struct{}), touched: time.Now()} }

func (f *feed) signal() {
	close(f.wake)
	f.wake = make(chan struct{})
}

// push adds frames.
func (f *feed) push(frames ...[]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return
	}
	f.frames = append(f.frames, frames...)
	f.signal()
}

// end closes the feed; finished tells whether its last frame is the end
// event.
func (f *feed) end(finished bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return
	}
	f.done, f.finished = true, finished
	f.signal()
}

// since returns the frames from index i, whether the feed ended, and a
// channel closed when there is more.
func (f *feed) since(i int) ([][]byte, bool, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.touched = time.Now()
	if i > len(f.frames) {
		i = len(f.frames)
	}
	return f.frames[i:len(f.frames):len(f.frames)], f.done, f.wake
}

// stream calls write with every frame from the start, as they come, until
// the feed ends (nil) or ctx does (its error) or write fails.
func (f *feed) stream(ctx context.Context, write func([]byte) error) error {
	f.mu.Lock()
	f.streamers++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.streamers--
		f.mu.Unlock()
	}()
	next := 0
	for {
		frames, done, wake := f.since(next)
		for _, fr := range frames {
			if err := write(fr); err != nil {
				return err
			}
		}
		next += len(frames)
		if done && len(frames) == 0 {
			return nil
		}
		if len(frames) > 0 {
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// streaming reports how many readers stream the feed now.
func (f *feed) streaming() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.streamers
}

// endFrame is the end event.
var endFrame = frame("end", []byte("{}"))

// poll answers a poll: the frames no poll took yet, joined with "\n";
// when there are none it waits for one. Past the end of a run that ended
// with its end event a poll answers another end at once (Langflow
// enqueues a duplicate end after the poll that reaches the end); past the
// end of a run that failed or was cancelled (no end event) it answers an
// empty body, Langflow's answer when its wait meets the end of the queue.
func (f *feed) poll(ctx context.Context) ([]byte, error) {
	for {
		f.mu.Lock()
		f.touched = time.Now()
		if f.polled < len(f.frames) {
			frames := f.frames[f.polled:]
			f.polled = len(f.frames)
			f.mu.Unlock()
			return bytes.Join(frames, []byte("\n")), nil
		}
		done, finished, wake := f.done, f.finished, f.wake
		f.mu.Unlock()
		if done {
			if finished {
				return endFrame, nil
			}
			return []byte{}, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// idleSince is when a reader last touched the feed.
func (f *feed) idleSince() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.touched
}
