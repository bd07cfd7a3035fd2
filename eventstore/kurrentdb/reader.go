package kurrentdb

import (
	"context"

	kdb "github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"
)

// events is what the adapter uses of a *kurrentdb.ReadStream.
type events interface {
	Recv() (*kdb.ResolvedEvent, error)
	Close()
}

// reader is the adapter's access to the client's reads, apart from the
// client so that the paging and filtering above it can be tested without a
// server.
type reader interface {
	// readStream reads up to count events of a stream from a revision, or
	// backwards from its end when from is nil.
	readStream(ctx context.Context, full string, from *uint64, count uint64) (events, error)
	// readAll reads up to count events of $all from a position.
	readAll(ctx context.Context, dir kdb.Direction, from kdb.AllPosition, count uint64) (events, error)
}

// clientReader is the reader of a connected client.
type clientReader struct{ client *kdb.Client }

func (c clientReader) readStream(ctx context.Context, full string, from *uint64, count uint64) (events, error) {
	opts := kdb.ReadStreamOptions{Direction: kdb.Backwards, From: kdb.End{}}
	if from != nil {
		opts = kdb.ReadStreamOptions{Direction: kdb.Forwards, From: kdb.Revision(*from)}
	}
	rs, err := c.client.ReadStream(ctx, full, opts, count)
	if err != nil {
		return nil, err
	}
	return rs, nil
}

func (c clientReader) readAll(ctx context.Context, dir kdb.Direction, from kdb.AllPosition, count uint64) (events, error) {
	rs, err := c.client.ReadAll(ctx, kdb.ReadAllOptions{Direction: dir, From: from}, count)
	if err != nil {
		return nil, err
	}
	return rs, nil
}
