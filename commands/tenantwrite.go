package commands

import (
	"context"
	"errors"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// loadOrNew folds the stream of the aggregate fresh returns: the
// aggregate as its events left it, or as fresh made it when the stream
// has no events yet.
func loadOrNew[A Aggregate](ctx context.Context, repo *Repository, fresh func() A) (A, error) {
	a := fresh()
	if err := repo.Load(ctx, a); err != nil && !errors.Is(err, domain.ErrNotFound) {
		var none A
		return none, err
	}
	return a, nil
}

// decideAgain is one write on an aggregate that many writers share (a
// tenant's orgs, user groups, businesses): it loads the aggregate (fresh
// makes it empty, loadOrNew folds its stream), lets decide change it and
// saves what it recorded with md. A save that lost a race with another
// write of the stream is decided again on the new state, at most attempts
// times in all; after that the last lost race
// (*eventstore.WrongExpectedVersionError) is the error.
func decideAgain[A Aggregate](ctx context.Context, repo *Repository, attempts int, fresh func() A,
	decide func(A) error, md eventstore.Metadata) (eventstore.AppendResult, error) {
	var (
		res eventstore.AppendResult
		err error
	)
	for range attempts {
		var a A
		if a, err = loadOrNew(ctx, repo, fresh); err != nil {
			return eventstore.AppendResult{}, err
		}
		if err = decide(a); err != nil {
			return eventstore.AppendResult{}, err
		}
		if res, err = repo.Save(ctx, a, md); !errors.As(err, new(*eventstore.WrongExpectedVersionError)) {
			return res, err
		}
	}
	return res, err
}
