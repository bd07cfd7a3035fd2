package commands

import (
	"context"
	"errors"

	"github.com/google/uuid"

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

// decideAgain is one write on one aggregate (a tenant's orgs, user
// groups, configs …): Repository.Update with a decide that loads the
// aggregate (fresh makes it empty, loadOrNew folds its stream), lets
// decide change it and returns it. A lost race is decided again on the new
// state as the aggregate's race rule says.
func decideAgain[A Aggregate](ctx context.Context, repo *Repository, fresh func() A,
	decide func(A) error, md eventstore.Metadata) (eventstore.AppendResult, error) {
	return repo.Update(ctx, md, func(ctx context.Context, _ *eventstore.Metadata) ([]Aggregate, error) {
		a, err := loadOrNew(ctx, repo, fresh)
		if err != nil {
			return nil, err
		}
		if err := decide(a); err != nil {
			return nil, err
		}
		return []Aggregate{a}, nil
	})
}

// decideIn is decideAgain on tenant's aggregate that load makes (its
// configs, dictionary, catalogues …), the events placed in tenant.
func decideIn[A Aggregate](ctx context.Context, repo *Repository, tenant uuid.UUID, load func(uuid.UUID) A,
	md eventstore.Metadata, decide func(A) error) (eventstore.AppendResult, error) {
	md.TenantID = tenant
	return decideAgain(ctx, repo, func() A { return load(tenant) }, decide, md)
}

// busyIf answers a save that lost its race (for good, past its retries)
// with a 409 of msg; any other err is returned as it is.
func busyIf(err error, msg string) error {
	if _, raced := errors.AsType[*eventstore.WrongExpectedVersionError](err); raced {
		return domain.Conflictf("%s", msg)
	}
	return err
}

// requireRoles refuses (404) any of roles the permission catalogue does
// not have: the roles a write grants must exist.
func requireRoles(ctx context.Context, repo *Repository, roles ...string) error {
	cat, err := loadOrNew(ctx, repo, domain.NewPermissionCatalogue)
	if err != nil {
		return err
	}
	return cat.RequireRoles(roles...)
}
