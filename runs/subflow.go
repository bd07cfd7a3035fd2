package runs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// APISubFlow is the door of a flow run by another flow's Run Flow
// component (RunStarted.API).
const APISubFlow = "subflow"

// subFlowCause prefixes the causation id of a sub-flow's run: the run
// that asked for it.
const subFlowCause = "run:"

var _ engine.SubFlows = (*Service)(nil)

// RunFlow implements engine.SubFlows: it runs the flow req names (its id,
// else the name of one of the user's flows, else an endpoint name, as the
// run API resolves it) as a run of the run API, as run's user, who must
// be allowed to run it exactly as through the run API (its owner, or
// flows.run where it lives; checked against that user's privileges, not
// against the calling run's context, which a background job leaves
// unchecked). The run is recorded like any run, its causation the calling
// run (so the monitor tells who ran it); its answer is what its output
// vertices gave. A flow run deeper than engine.MaxSubFlowDepth (counted
// through the runs that asked, and through ctx) is refused, and so is one
// while the user's runs fill their slots (waiting for a slot its own
// caller holds would never end). Cancelling ctx cancels the sub-flow's
// run.
func (s *Service) RunFlow(ctx context.Context, run engine.RunInfo, req engine.SubFlowRequest) (*engine.SubFlowResult, error) {
	depth := max(engine.SubFlowDepth(ctx), s.subFlowDepth(run.RunID)+1)
	if err := engine.CheckSubFlowDepth(depth); err != nil {
		return nil, err
	}
	if run.UserID == 0 {
		return nil, errors.New("Run Flow: this run has no user to run another flow as")
	}
	actx, err := s.asUser(ctx, run.UserID, "flows", "run")
	if err != nil {
		return nil, err
	}
	ref := strings.TrimSpace(req.Flow)
	id, err := s.subFlowID(actx, ref, run.UserID)
	if err != nil {
		return nil, err
	}
	key := "run:" + fmt.Sprint(run.UserID)
	s.mu.Lock()
	ch := s.slot(key)
	full := len(ch) == cap(ch)
	s.mu.Unlock()
	if full {
		return nil, fmt.Errorf("Run Flow: %w", &BusyError{Limit: s.opts.MaxConcurrentPerUser})
	}
	session := req.Session
	if session == "" {
		session = run.Session
	}
	var inputs json.RawMessage = []byte("{}")
	if req.InputValue != nil {
		inputs, _ = json.Marshal(map[string]string{"input_value": *req.InputValue}) // a map of strings: cannot fail
	}
	job, err := s.StartRun(actx, StartRun{FlowID: id, Ref: ref, UserID: run.UserID, InputValue: req.InputValue,
		InputType: "chat", OutputType: "any", Tweaks: req.Tweaks, SessionID: session, API: APISubFlow, InputsRaw: inputs,
		Metadata: eventstore.Metadata{ActorUserID: run.UserID, CausationID: subFlowCause + run.RunID}})
	if err != nil {
		return nil, fmt.Errorf("Run Flow %q: %w", ref, err)
	}
	out, err := job.Result(ctx)
	if err != nil {
		if ctx.Err() != nil {
			job.Cancel(domain.RunCancelRequested)
		}
		var runErr *RunError
		if errors.As(err, &runErr) {
			return nil, fmt.Errorf("Run Flow %q: %s", ref, runErr.Detail)
		}
		return nil, err
	}
	res := &engine.SubFlowResult{}
	for _, r := range out.Results {
		o := engine.SubFlowOutput{VertexID: r.Vertex.ID, DisplayName: displayName(r.Vertex), Results: maps.Clone(r.Outputs)}
		if m := chatMessageOf(r); m != nil {
			o.Message = m.Clone()
		}
		res.Outputs = append(res.Outputs, o)
	}
	return res, nil
}

// subFlowDepth is how deep run id is among the sub-flows running on this
// process: 0 for a run no flow asked for.
func (s *Service) subFlowDepth(runID string) int {
	depth := 0
	for depth <= engine.MaxSubFlowDepth {
		id, err := uuid.Parse(runID)
		if err != nil {
			break
		}
		s.mu.Lock()
		j := s.jobs[id]
		s.mu.Unlock()
		if j == nil {
			break
		}
		parent, ok := strings.CutPrefix(j.cmd.Metadata.CausationID, subFlowCause)
		if !ok {
			break
		}
		depth++
		runID = parent
	}
	return depth
}

// subFlowID resolves ref: an id; the user's own flow of that name; else
// an endpoint name (Resolve).
func (s *Service) subFlowID(ctx context.Context, ref string, user int64) (uuid.UUID, error) {
	if ref == "" {
		return uuid.Nil, errors.New("Run Flow: no flow selected")
	}
	if id, err := uuid.Parse(ref); err == nil {
		return id, nil
	}
	var id uuid.UUID
	err := s.opts.Messages.Pool.QueryRow(ctx, `SELECT id FROM flows WHERE name = $1 AND user_id = $2 AND NOT is_deleted
ORDER BY create_at, id LIMIT 1`, ref, user).Scan(&id)
	switch {
	case err == nil:
		return id, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return uuid.Nil, fmt.Errorf("find flow %q: %w", ref, err)
	}
	return s.Resolve(ctx, ref, user, nil)
}

// asUser returns ctx checking privileges as user holding module.priv (a
// request of that user to a route declaring it would): a run's context
// carries no request, and without an Authorizer tenancy allows all.
func (s *Service) asUser(ctx context.Context, user int64, module, priv string) (context.Context, error) {
	a, err := userAuthorizer(ctx, s.opts.Messages.Pool, user, module, priv)
	if err != nil {
		return nil, err
	}
	return tenancy.WithAuthorizer(ctx, a), nil
}

// runAuthorizer is the tenancy.Authorizer of a run's user, outside any
// request: the privileges the user holds (all for an active superuser).
type runAuthorizer struct {
	checker      access.Checker
	user         int64
	superuser    bool
	module, priv string
}

// userAuthorizer returns the authorizer of user for module.priv; an
// account that is not active (or gone) holds nothing.
func userAuthorizer(ctx context.Context, pool *pgxpool.Pool, user int64, module, priv string) (*runAuthorizer, error) {
	var super, active bool
	err := pool.QueryRow(ctx, `SELECT is_superuser, is_active FROM users WHERE id = $1`, user).Scan(&super, &active)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("user %d not found", user)
	case err != nil:
		return nil, fmt.Errorf("read user %d: %w", user, err)
	case !active:
		return nil, domain.Forbiddenf("user %d is not active", user)
	}
	return &runAuthorizer{checker: access.Checker{Pool: pool}, user: user, superuser: super, module: module, priv: priv}, nil
}

// Authorize implements tenancy.Authorizer.
func (a *runAuthorizer) Authorize(ctx context.Context, tenant uuid.UUID, business int64) error {
	sc, err := a.ScopeOf(ctx, a.module, a.priv, tenant)
	switch {
	case err != nil:
		return err
	case sc.All, business != 0 && slices.Contains(sc.Businesses, business):
		return nil
	case business != 0:
		return access.Forbidden("The user doesn't have enough privileges: missing %s.%s in business %d", a.module, a.priv, business)
	}
	return access.Forbidden("The user doesn't have enough privileges: missing %s.%s in tenant %s", a.module, a.priv, tenant)
}

// Readable implements tenancy.Authorizer.
func (a *runAuthorizer) Readable(ctx context.Context, tenant uuid.UUID) (tenancy.Scope, error) {
	return a.ScopeOf(ctx, a.module, a.priv, tenant)
}

// Place implements tenancy.Authorizer: a run creates nothing anywhere but
// where its user holds the privilege.
func (a *runAuthorizer) Place(ctx context.Context, tenant uuid.UUID, business int64) error {
	return a.Authorize(ctx, tenant, business)
}

// Tenants implements tenancy.Authorizer.
func (a *runAuthorizer) Tenants(ctx context.Context) ([]uuid.UUID, bool, error) {
	if a.superuser {
		return nil, true, nil
	}
	rows, err := a.checker.Pool.Query(ctx, `SELECT tenant_id FROM access_privileges
WHERE uid = $1 AND module_id = $2 AND priv_id = $3 AND business_id = 0`, a.user, a.module, a.priv)
	if err != nil {
		return nil, false, fmt.Errorf("read privileges: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, false, fmt.Errorf("read privileges: %w", err)
	}
	return ids, false, nil
}

// ScopeOf answers for another privilege of the same user (mayRun asks
// whether a refused caller may read the flow).
func (a *runAuthorizer) ScopeOf(ctx context.Context, module, priv string, tenant uuid.UUID) (tenancy.Scope, error) {
	if a.superuser {
		return tenancy.Scope{All: true}, nil
	}
	return a.checker.Scope(ctx, a.user, tenant, module, priv)
}
