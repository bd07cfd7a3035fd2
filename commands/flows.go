package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/graphpatch"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The use cases of flows and their versions: each is a command value and
// one method of Flows that loads, decides and saves the flow with its
// name claims, with no HTTP in sight (ports.Flows binds, calls and
// answers).

// FlowReads is the read-model lookup the flow commands decide with (the
// port wraps the read side's query).
type FlowReads interface {
	// DefaultProjectOf returns the id of user's default project (uuid.Nil
	// if there is none).
	DefaultProjectOf(ctx context.Context, user int64) (uuid.UUID, error)
}

// Flows handles the commands of flows and their versions.
type Flows struct {
	Repo  *Repository
	Pool  *pgxpool.Pool
	Reads FlowReads
}

// Langflow's messages.
const (
	msgFlowNotFound        = "Flow not found"
	msgNameNotUnique       = "Name must be unique"
	msgEndpointNotUnique   = "Endpoint name must be unique"
	msgFlowLocked          = "Flow is locked. Unlock it before making changes."
	msgFlowModifiedSince   = "The flow was changed after last_known_updated_at: reload it and apply your change again"
	msgFlowChangedMeantime = "The flow was changed by another request at the same time: reload it and apply your change again"
)

// FlowCreate is the body of Create Flow (the spec's FlowCreate). user_id
// and updated_at are accepted and ignored: the owner is the caller and the
// time is the server's.
type FlowCreate struct {
	Name              string          `json:"name" binding:"required"`
	Description       *string         `json:"description"`
	FlowSkill         *string         `json:"flow_skill"`
	Icon              *string         `json:"icon"`
	IconBgColor       *string         `json:"icon_bg_color"`
	Gradient          *string         `json:"gradient"`
	Data              json.RawMessage `json:"data" binding:"maxbody"`
	IsComponent       *bool           `json:"is_component"`
	UpdatedAt         *string         `json:"updated_at"`
	Webhook           *bool           `json:"webhook"`
	EndpointName      *string         `json:"endpoint_name"`
	Tags              []string        `json:"tags" binding:"max=100,dive,max=255"`
	Locked            *bool           `json:"locked"`
	IsOnline          *bool           `json:"is_online"`
	IsVersion         *bool           `json:"is_version"`
	IsHold            *bool           `json:"is_hold"`
	IsEndpoint        *bool           `json:"is_endpoint"`
	IsDeleted         *bool           `json:"is_deleted"`
	FlowType          *string         `json:"flow_type"`
	OnlineVersion     *string         `json:"online_version"`
	MCPEnabled        *bool           `json:"mcp_enabled"`
	ActionName        *string         `json:"action_name"`
	ActionDescription *string         `json:"action_description"`
	AccessType        *string         `json:"access_type" binding:"omitempty,oneof=PRIVATE PUBLIC RESTRICTED"`
	UserID            *int64          `json:"user_id"`
	TenantID          *uuid.UUID      `json:"tenant_id"`
	BusinessID        *int64          `json:"business_id"`
	IsSelf            *bool           `json:"is_self"`
	OrgID             *int64          `json:"org_id"`
	ProjectID         *uuid.UUID      `json:"project_id"`
	FSPath            *string         `json:"fs_path"`
	// ID, when given (flow import), becomes the flow's id.
	ID *uuid.UUID `json:"id"`
}

// FlowUpdate is the change of Update Flow (its body): absent or null
// fields stay as they are. last_known_updated_at, when given, must not be
// older than the flow's updated_at (409 otherwise). is_online, is_version
// and online_version are read-only here (publish and take offline
// instead).
type FlowUpdate struct {
	Name               *string         `json:"name"`
	Description        *string         `json:"description"`
	FlowSkill          *string         `json:"flow_skill"`
	Icon               *string         `json:"icon"`
	IconBgColor        *string         `json:"icon_bg_color"`
	Gradient           *string         `json:"gradient"`
	Data               json.RawMessage `json:"data" binding:"maxbody"`
	IsComponent        *bool           `json:"is_component"`
	Webhook            *bool           `json:"webhook"`
	Tags               *[]string       `json:"tags" binding:"omitnil,max=100,dive,max=255"`
	LastKnownUpdatedAt *time.Time      `json:"last_known_updated_at"`
	TenantID           *uuid.UUID      `json:"tenant_id"`
	BusinessID         *int64          `json:"business_id"`
	IsSelf             *bool           `json:"is_self"`
	OrgID              *int64          `json:"org_id"`
	ProjectID          *uuid.UUID      `json:"project_id"`
	EndpointName       *string         `json:"endpoint_name"`
	MCPEnabled         *bool           `json:"mcp_enabled"`
	Locked             *bool           `json:"locked"`
	IsOnline           *bool           `json:"is_online"`
	IsVersion          *bool           `json:"is_version"`
	IsHold             *bool           `json:"is_hold"`
	IsEndpoint         *bool           `json:"is_endpoint"`
	IsDeleted          *bool           `json:"is_deleted"`
	FlowType           *string         `json:"flow_type"`
	OnlineVersion      *string         `json:"online_version"`
	ActionName         *string         `json:"action_name"`
	ActionDescription  *string         `json:"action_description"`
	AccessType         *string         `json:"access_type" binding:"omitempty,oneof=PRIVATE PUBLIC RESTRICTED"`
	FSPath             *string         `json:"fs_path"`
}

// MaxFlowsPerBatch bounds the flows of a batch create and of an import
// (a {"flows": [...]} document, or the JSON files of a zip).
const MaxFlowsPerBatch = 500

// FlowInput is a flow to create, from a request or an import.
type FlowInput = FlowCreate

// CreateFlow creates a flow of Caller from Flow.
type CreateFlow struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	Flow   FlowInput
}

// CreateFlowBatch creates several flows of Caller at once: every one is
// checked before any is written.
type CreateFlowBatch struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	Flows  []FlowInput
}

// UpdateFlow changes flow ID as Change says.
type UpdateFlow struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	ID     uuid.UUID
	Change FlowUpdate
}

// FlowRef names one flow of the caller: Delete Flow and Delete Online
// Flow.
type FlowRef struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	ID     uuid.UUID
}

// DeleteFlowBatch deletes the caller's flows among IDs.
type DeleteFlowBatch struct {
	Caller auth.Principal
	Meta   eventstore.Metadata
	IDs    []uuid.UUID
}

// CreateFlowVersion names flow FlowID's current draft as Version.
type CreateFlowVersion struct {
	Caller  auth.Principal
	Meta    eventstore.Metadata
	FlowID  uuid.UUID
	Version string
	Note    *string
}

// FlowVersionRef names version VersionID of flow FlowID: Publish and
// Rollback Flow Version.
type FlowVersionRef struct {
	Caller    auth.Principal
	Meta      eventstore.Metadata
	FlowID    uuid.UUID
	VersionID int64
}

// FlowWritten is what a command on one flow did (Version: the version it
// created, if any).
type FlowWritten struct {
	ID      uuid.UUID
	Version int64
	Result  eventstore.AppendResult
}

// FlowsWritten is what a command on several flows did: the flows it
// created (IDs) or how many it deleted (Deleted), and the last position
// it wrote (zero: none).
type FlowsWritten struct {
	IDs     []uuid.UUID
	Deleted int
	Last    eventstore.Position
}

// Create handles CreateFlow. A name (and endpoint name) the caller already
// uses gets Langflow's suffix; the name and endpoint claims are taken in
// the same atomic append as the flow's creation.
func (h *Flows) Create(ctx context.Context, cmd CreateFlow) (FlowWritten, error) {
	id, res, err := h.create(ctx, cmd.Caller, cmd.Flow, cmd.Meta)
	return FlowWritten{ID: id, Result: res}, err
}

// create creates a flow of caller from in (Create): it checks in
// (checkFlow) and writes it (write).
func (h *Flows) create(ctx context.Context, caller auth.Principal, in FlowInput, md eventstore.Metadata) (uuid.UUID, eventstore.AppendResult, error) {
	id := newFlowID(in)
	c, err := h.checkFlow(ctx, caller, in)
	if err != nil {
		return id, eventstore.AppendResult{}, err
	}
	res, err := h.write(ctx, caller, id, c, md)
	return id, res, err
}

// newFlowID is the id of a flow to create: in's, or a new one.
func newFlowID(in FlowInput) uuid.UUID {
	if in.ID != nil && *in.ID != uuid.Nil {
		return *in.ID
	}
	return uuid.New()
}

// checkedFlow is a flow to create that passed checkFlowInput: its input,
// its content and where it goes.
type checkedFlow struct {
	in        FlowInput
	content   domain.FlowContent
	placement domain.FlowPlacement
}

// checkFlow checks in (checkFlowInput) for the write step.
func (h *Flows) checkFlow(ctx context.Context, caller auth.Principal, in FlowInput) (checkedFlow, error) {
	content, placement, err := h.checkFlowInput(ctx, caller, in)
	return checkedFlow{in: in, content: content, placement: placement}, err
}

// write creates checked flow c of caller with id id, its name and endpoint
// name made unique; it checks nothing more.
func (h *Flows) write(ctx context.Context, caller auth.Principal, id uuid.UUID, c checkedFlow, md eventstore.Metadata) (eventstore.AppendResult, error) {
	in, content, placement := c.in, c.content, c.placement
	// A name taken between the pick and the append loses the claim's race
	// and is picked again (Update, the claim's race rule); the flow's own
	// stream taken means the id is.
	res, err := h.Repo.Update(ctx, md, func(ctx context.Context, md *eventstore.Metadata) ([]Aggregate, error) {
		for tries := 0; ; tries++ {
			c := content
			var err error
			if c.Name, err = freeName(ctx, h.Pool, h.Repo, caller.UserID, content.Name); err != nil {
				return nil, err
			}
			if c.EndpointName != "" {
				if c.EndpointName, err = freeEndpoint(ctx, h.Pool, h.Repo, caller.UserID, content.EndpointName); err != nil {
					return nil, err
				}
			}
			flow, err := domain.CreateFlow(id, domain.NewFlow{UserID: caller.UserID, Content: c, Placement: placement,
				Locked: derefB(in.Locked), FSPath: deref(in.FSPath)})
			if err != nil {
				return nil, err
			}
			claims, err := h.claimsFor(ctx, flow, c, domain.FlowContent{})
			if tries < 20 && (errors.Is(err, errNameTaken) || errors.Is(err, errEndpointTaken)) {
				continue // the read model lagged behind the claims: pick again
			}
			if err != nil {
				return nil, err
			}
			*md = inTenant(*md, flow)
			return append([]Aggregate{flow}, claims...), nil
		}
	})
	var raced *eventstore.WrongExpectedVersionError
	if errors.As(err, &raced) && strings.HasPrefix(raced.Stream, "flow-") {
		return res, domain.Refusedf("Id must be unique")
	}
	return res, flowClaimError(err)
}

// flowContentOf is the content of a flow to create.
func flowContentOf(in FlowInput) domain.FlowContent {
	return domain.FlowContent{
		Name: in.Name, Description: deref(in.Description), FlowSkill: deref(in.FlowSkill), Icon: deref(in.Icon),
		IconBgColor: deref(in.IconBgColor), Gradient: deref(in.Gradient), Data: nullToNil(in.Data),
		IsComponent: derefB(in.IsComponent), Webhook: derefB(in.Webhook), EndpointName: deref(in.EndpointName),
		Tags: in.Tags, MCPEnabled: derefB(in.MCPEnabled), ActionName: deref(in.ActionName),
		ActionDescription: deref(in.ActionDescription), AccessType: deref(in.AccessType), FlowType: deref(in.FlowType),
		IsHold: derefB(in.IsHold), IsEndpoint: derefB(in.IsEndpoint),
	}
}

// checkFlowInput validates a flow to create and resolves where it goes
// (the caller's project, or their default project), writing nothing.
func (h *Flows) checkFlowInput(ctx context.Context, caller auth.Principal, in FlowInput) (domain.FlowContent, domain.FlowPlacement, error) {
	content := flowContentOf(in)
	placement := domain.FlowPlacement{ProjectID: in.ProjectID, TenantID: in.TenantID, IsSelf: derefB(in.IsSelf)}
	if err := domain.ValidFlowContent(withDefaults(content)); err != nil {
		return content, placement, err
	}
	if in.TenantID != nil {
		if _, err := tenancy.CheckIn(ctx, h.Pool, caller, *in.TenantID, derefI(in.BusinessID)); err != nil {
			return content, placement, err
		}
	}
	if in.BusinessID != nil {
		placement.BusinessID = *in.BusinessID
	}
	if in.OrgID != nil {
		placement.OrgID = *in.OrgID
	}
	if err := placedInTenant(ctx, h.Pool, placement); err != nil {
		return content, placement, err
	}
	if placement.ProjectID != nil {
		return content, placement, ownProject(ctx, h.Pool, h.Repo, caller, *placement.ProjectID)
	}
	p, err := h.Reads.DefaultProjectOf(ctx, caller.UserID)
	if err == nil && p != uuid.Nil {
		placement.ProjectID = &p
	}
	return content, placement, err
}

// placedInTenant checks that a flow's business and org (0: none) are of
// the flow's tenant (the system tenant when it has none): a flow of tenant
// A is never filed under a business or org of tenant B.
func placedInTenant(ctx context.Context, pool *pgxpool.Pool, p domain.FlowPlacement) error {
	return tenancy.InTenant(ctx, pool, tenancy.OrSystem(p.TenantID),
		tenancy.Place{Kind: tenancy.PlaceBusiness, ID: p.BusinessID, Where: []any{"body", "business_id"}},
		tenancy.Place{Kind: tenancy.PlaceOrg, ID: p.OrgID, Where: []any{"body", "org_id"}})
}

var (
	errNameTaken     = domain.Conflictf(msgNameNotUnique)
	errEndpointTaken = domain.Conflictf(msgEndpointNotUnique)
)

// flowClaimError answers a taken name with Langflow's 400.
func flowClaimError(err error) error {
	switch {
	case errors.Is(err, errNameTaken):
		return domain.Refusedf(msgNameNotUnique)
	case errors.Is(err, errEndpointTaken):
		return domain.Refusedf(msgEndpointNotUnique)
	}
	return err
}

// claimsFor moves the flow's name and endpoint claims from was to now
// (was empty: a new flow): the new values are taken (errNameTaken or
// errEndpointTaken if another flow holds one), the old ones released.
func (h *Flows) claimsFor(ctx context.Context, f *domain.Flow, now, was domain.FlowContent) ([]Aggregate, error) {
	var out []Aggregate
	owner := domain.FlowStream(f.ID())
	for _, c := range []struct {
		scope, now, was string
		taken           error
	}{
		{domain.FlowNameScope, now.Name, was.Name, errNameTaken},
		{domain.FlowEndpointScope, now.EndpointName, was.EndpointName, errEndpointTaken},
	} {
		if domain.ClaimKey(c.now) == domain.ClaimKey(c.was) {
			continue
		}
		if c.now != "" {
			claim, err := loadClaim(ctx, h.Repo, c.scope, userScoped(f.UserID(), c.now))
			if err != nil {
				return nil, err
			}
			if claim.Take(owner, c.taken.Error()) != nil {
				return nil, c.taken
			}
			out = append(out, claim)
		}
		if c.was != "" {
			claim, err := loadClaim(ctx, h.Repo, c.scope, userScoped(f.UserID(), c.was))
			if err != nil {
				return nil, err
			}
			claim.Release(owner)
			out = append(out, claim)
		}
	}
	return out, nil
}

// userScoped makes a claim value unique per user.
func userScoped(user int64, value string) string { return strconv.FormatInt(user, 10) + "/" + value }

// freeName picks Langflow's name for a new flow of user: name itself if
// free, else "name (n)" with n one more than the largest in use.
func freeName(ctx context.Context, pool *pgxpool.Pool, repo *Repository, user int64, name string) (string, error) {
	return freeValue(ctx, pool, repo, domain.FlowNameScope, `SELECT name FROM flows WHERE user_id = $1 AND NOT is_deleted AND
    (lower(name) = lower($2) OR lower(name) LIKE lower($3) ESCAPE '\')`, user, name, " (", ")")
}

// freeEndpoint is freeName for endpoint names, suffixed "-n".
func freeEndpoint(ctx context.Context, pool *pgxpool.Pool, repo *Repository, user int64, ep string) (string, error) {
	return freeValue(ctx, pool, repo, domain.FlowEndpointScope, `SELECT endpoint_name FROM flows WHERE user_id = $1 AND NOT is_deleted AND
    (lower(endpoint_name) = lower($2) OR lower(endpoint_name) LIKE lower($3) ESCAPE '\')`, user, ep, "-", "")
}

// freeValue picks the first free value of value, value+open+n+close for n
// from one more than the largest the read model shows in use (query), as
// Langflow numbers names. The read model only proposes: each candidate is
// checked against its claim (scope, per user), which is exact even while
// the read model lags behind writes just made (a batch of equal names).
func freeValue(ctx context.Context, pool *pgxpool.Pool, repo *Repository, scope, query string, user int64, value, open, close string) (string, error) {
	rows, err := pool.Query(ctx, query, user, value, escapeLike(value)+open+"%"+close)
	if err != nil {
		return "", fmt.Errorf("find a free name: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("find a free name: %w", err)
	}
	// Compare as the claims do (domain.ClaimKey), whatever SQL's lower() did.
	key, prefix := domain.ClaimKey(value), domain.ClaimKey(value+open)
	exact, maxN := false, 0
	for _, v := range names {
		k := domain.ClaimKey(v)
		if k == key {
			exact = true
			continue
		}
		digits, ok := strings.CutPrefix(k, prefix)
		digits, closed := strings.CutSuffix(digits, close)
		if !ok || !closed || digits == "" || strings.Trim(digits, "0123456789") != "" {
			continue
		}
		if n, err := strconv.Atoi(digits); err == nil && n > maxN {
			maxN = n
		}
	}
	candidate := func(n int) string {
		if n == 0 {
			return value
		}
		return value + open + strconv.Itoa(n) + close
	}
	n := maxN + 1
	if !exact {
		n = 0
	}
	for tries := 0; tries < 100; tries++ {
		c, err := loadClaim(ctx, repo, scope, userScoped(user, candidate(n)))
		if err != nil {
			return "", err
		}
		if c.Owner() == "" {
			return candidate(n), nil
		}
		n = max(n+1, maxN+1)
	}
	return "", domain.Conflictf("no free name found for %q", value)
}

// escapeLike escapes LIKE's wildcards and its escape character (a
// backslash) in s, to match it literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefB(b *bool) bool { return b != nil && *b }

func derefI(i *int64) int64 {
	if i == nil {
		return 0
	}
	return *i
}

func withDefaults(c domain.FlowContent) domain.FlowContent {
	if c.AccessType == "" {
		c.AccessType = domain.AccessPrivate
	}
	return c
}

// ValidImport checks an imported flow's content against FlowCreate's
// rules (its defaults filled in), as an import checks every flow before
// it creates any.
func ValidImport(in FlowInput) error { return domain.ValidFlowContent(withDefaults(flowContentOf(in))) }

// inTenant puts the flow's tenant (after the change) on the events'
// metadata: every event carries its tenant, which the audit trail reads.
func inTenant(md eventstore.Metadata, f *domain.Flow) eventstore.Metadata {
	if t := f.Placement().TenantID; t != nil {
		md.TenantID = *t
	}
	return md
}

// ownProject checks that project id exists, is not deleted and belongs to
// caller (superusers may use any): Langflow's 400 "Project not found"
// otherwise. The read model answers first; what it does not show is
// looked up in the log, where a project created a moment ago (by the same
// request, when a project is imported) already is.
func ownProject(ctx context.Context, pool *pgxpool.Pool, repo *Repository, caller auth.Principal, id uuid.UUID) error {
	var ok bool
	err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1 AND NOT is_deleted AND (user_id = $2 OR $3))`,
		id, caller.UserID, caller.IsSuperuser).Scan(&ok)
	if err != nil {
		return fmt.Errorf("check project %s: %w", id, err)
	}
	if ok {
		return nil
	}
	p := domain.LoadProject(id)
	err = repo.Load(ctx, p)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return domain.Refusedf(domain.MsgProjectNotFound)
	case err != nil:
		return fmt.Errorf("check project %s: %w", id, err)
	case p.Deleted() || p.UserID() != caller.UserID && !caller.IsSuperuser:
		return domain.Refusedf(domain.MsgProjectNotFound)
	}
	return nil
}

// CreateBatch handles CreateFlowBatch: every flow is checked before any
// is written, so a bad one fails the batch whole (at ["body", "flows", i]);
// the checked flows are then written without being checked again.
func (h *Flows) CreateBatch(ctx context.Context, cmd CreateFlowBatch) (FlowsWritten, error) {
	checked := make([]checkedFlow, 0, len(cmd.Flows))
	for i, in := range cmd.Flows {
		c, err := h.checkFlow(ctx, cmd.Caller, in)
		if err != nil {
			return FlowsWritten{}, batchItemError(i, err)
		}
		checked = append(checked, c)
	}
	var (
		ids  []uuid.UUID
		last eventstore.Position
	)
	for i, c := range checked {
		id := newFlowID(c.in)
		res, err := h.write(ctx, cmd.Caller, id, c, cmd.Meta)
		if err != nil {
			return FlowsWritten{IDs: ids, Last: last}, batchItemError(i, err)
		}
		ids, last = append(ids, id), res.Last()
	}
	return FlowsWritten{IDs: ids, Last: last}, nil
}

// CreateFlows creates flows one by one (each atomically with its claims,
// so that later ones see the names earlier ones took) and returns their ids
// and the last position written. Each flow is checked (checkFlow) just
// before it is written; callers check the inputs first, so a failure past
// that (storage) stops the batch.
func (h *Flows) CreateFlows(ctx context.Context, caller auth.Principal, flows []FlowInput, md eventstore.Metadata) ([]uuid.UUID, eventstore.Position, error) {
	var (
		ids  []uuid.UUID
		last eventstore.Position
	)
	for i, in := range flows {
		id, res, err := h.create(ctx, caller, in, md)
		if err != nil {
			return ids, last, batchItemError(i, err)
		}
		ids, last = append(ids, id), res.Last()
	}
	return ids, last, nil
}

// batchItemError locates an invalid item of a batch at ["body","flows",i].
func batchItemError(i int, err error) error {
	if errors.Is(err, domain.ErrInvalid) {
		return &domain.FieldError{Loc: []any{"body", "flows", i}, Message: err.Error()}
	}
	return err
}

// LoadOwnFlow loads flow id for caller: the owner (or a superuser) may
// touch it; for anyone else it does not exist.
func LoadOwnFlow(ctx context.Context, repo *Repository, caller auth.Principal, id uuid.UUID) (*domain.Flow, error) {
	f := graphpatch.LoadFlow(id)
	if err := repo.Load(ctx, f); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return nil, domain.NotFoundf(msgFlowNotFound)
		}
		return nil, err
	}
	if f.UserID() != caller.UserID && !caller.IsSuperuser {
		// Somebody else's flow: the operation's privilege where it lives,
		// else it is not revealed.
		p := f.Placement()
		if tenancy.Authorize(ctx, tenancy.OrSystem(p.TenantID), p.BusinessID) != nil {
			return nil, domain.NotFoundf(msgFlowNotFound)
		}
	}
	return f, nil
}

// flowOp runs a command on flow id of caller: load, decide, save the flow
// with the claims decide returns. A lost race is a 409, never a silent
// retry: the caller decided on state that is gone.
func (h *Flows) flowOp(ctx context.Context, caller auth.Principal, id uuid.UUID, md eventstore.Metadata,
	decide func(ctx context.Context, f *domain.Flow) ([]Aggregate, error)) (FlowWritten, error) {
	// A flow is decided once (its race rule): the editor who lost a race
	// on it is told, and reloads; one who lost a name's claim decides again.
	res, err := h.Repo.Update(ctx, md, func(ctx context.Context, md *eventstore.Metadata) ([]Aggregate, error) {
		f, err := LoadOwnFlow(ctx, h.Repo, caller, id)
		if err != nil {
			return nil, err
		}
		*md = inTenant(*md, f)
		extra, err := decide(ctx, f)
		if err != nil {
			return nil, err
		}
		return append([]Aggregate{f}, extra...), nil
	})
	var raced *eventstore.WrongExpectedVersionError
	if errors.As(err, &raced) {
		if strings.HasPrefix(raced.Stream, "claim-") {
			return FlowWritten{ID: id, Result: res}, domain.Refusedf(msgNameNotUnique)
		}
		return FlowWritten{ID: id, Result: res}, domain.Conflictf(msgFlowChangedMeantime)
	}
	return FlowWritten{ID: id, Result: res}, err
}

// Update handles UpdateFlow. With Change.LastKnownUpdatedAt older than
// the flow's updated_at it is a conflict; a locked flow refuses the change
// unless it unlocks it.
func (h *Flows) Update(ctx context.Context, cmd UpdateFlow) (FlowWritten, error) {
	body, caller := cmd.Change, cmd.Caller
	return h.flowOp(ctx, caller, cmd.ID, cmd.Meta, func(ctx context.Context, f *domain.Flow) ([]Aggregate, error) {
		if body.LastKnownUpdatedAt != nil && body.LastKnownUpdatedAt.Before(f.UpdatedAt()) {
			return nil, domain.Conflictf(msgFlowModifiedSince)
		}
		if body.ProjectID != nil {
			if err := ownProject(ctx, h.Pool, h.Repo, caller, *body.ProjectID); err != nil {
				return nil, err
			}
		}
		if body.TenantID != nil {
			if _, err := tenancy.CheckIn(ctx, h.Pool, caller, *body.TenantID, derefI(body.BusinessID)); err != nil {
				return nil, err
			}
		}
		change := flowChange(body, f)
		if change.Placement != nil {
			if err := placedInTenant(ctx, h.Pool, *change.Placement); err != nil {
				return nil, err
			}
		}
		was := heldNames(f)
		if err := f.Edit(change); err != nil {
			return nil, err
		}
		claims, err := h.claimsFor(ctx, f, heldNames(f), was)
		return claims, flowClaimError(err)
	})
}

// heldNames is the content whose names a flow holds claims on: none once
// deleted (deleting frees them, restoring takes them again).
func heldNames(f *domain.Flow) domain.FlowContent {
	if f.Deleted() {
		return domain.FlowContent{}
	}
	return f.Content()
}

// flowChange turns an update into a domain change.
func flowChange(b FlowUpdate, f *domain.Flow) domain.FlowChange {
	ch := domain.FlowChange{
		Name: b.Name, Description: b.Description, FlowSkill: b.FlowSkill, Icon: b.Icon, IconBgColor: b.IconBgColor,
		Gradient: b.Gradient, Data: nullToNil(b.Data), EndpointName: b.EndpointName, FlowType: b.FlowType, FSPath: b.FSPath,
		Webhook: b.Webhook, IsComponent: b.IsComponent, IsHold: b.IsHold, IsEndpoint: b.IsEndpoint, Tags: b.Tags,
		AccessType: b.AccessType, MCPEnabled: b.MCPEnabled, ActionName: b.ActionName, ActionDescription: b.ActionDescription,
		Locked: b.Locked, Deleted: b.IsDeleted,
	}
	if b.ProjectID != nil || b.TenantID != nil || b.BusinessID != nil || b.OrgID != nil || b.IsSelf != nil {
		p := f.Placement()
		if b.ProjectID != nil {
			p.ProjectID = b.ProjectID
		}
		if b.TenantID != nil {
			p.TenantID = b.TenantID
		}
		if b.BusinessID != nil {
			p.BusinessID = *b.BusinessID
		}
		if b.OrgID != nil {
			p.OrgID = *b.OrgID
		}
		if b.IsSelf != nil {
			p.IsSelf = *b.IsSelf
		}
		ch.Placement = &p
	}
	return ch
}

// Delete handles Delete Flow: is_deleted becomes true and the flow's name
// and endpoint name are free again.
func (h *Flows) Delete(ctx context.Context, cmd FlowRef) (FlowWritten, error) {
	return h.flowOp(ctx, cmd.Caller, cmd.ID, cmd.Meta, func(ctx context.Context, f *domain.Flow) ([]Aggregate, error) {
		was := heldNames(f)
		if err := f.Delete(); err != nil {
			return nil, err
		}
		return h.claimsFor(ctx, f, domain.FlowContent{}, was)
	})
}

// DeleteBatch handles DeleteFlowBatch (DeleteFlows).
func (h *Flows) DeleteBatch(ctx context.Context, cmd DeleteFlowBatch) (FlowsWritten, error) {
	n, last, err := h.DeleteFlows(ctx, cmd.Caller, cmd.IDs, cmd.Meta)
	return FlowsWritten{Deleted: n, Last: last}, err
}

// DeleteFlows deletes the caller's flows among ids (others, unknown or
// already deleted ones are skipped) and returns how many it deleted.
func (h *Flows) DeleteFlows(ctx context.Context, caller auth.Principal, ids []uuid.UUID, md eventstore.Metadata) (int, eventstore.Position, error) {
	n := 0
	var last eventstore.Position
	for _, id := range ids {
		f, err := LoadOwnFlow(ctx, h.Repo, caller, id)
		if errors.Is(err, domain.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, last, err
		}
		was := heldNames(f)
		if f.Delete() != nil {
			continue
		}
		claims, err := h.claimsFor(ctx, f, domain.FlowContent{}, was)
		if err != nil {
			return n, last, err
		}
		res, err := h.Repo.SaveAll(ctx, inTenant(md, f), append([]Aggregate{f}, claims...)...)
		if err != nil {
			return n, last, err
		}
		n, last = n+1, res.Last()
	}
	return n, last, nil
}

// CreateVersion handles CreateFlowVersion (version ids count from 1 per
// flow).
func (h *Flows) CreateVersion(ctx context.Context, cmd CreateFlowVersion) (FlowWritten, error) {
	var v domain.FlowVersionRef
	w, err := h.flowOp(ctx, cmd.Caller, cmd.FlowID, cmd.Meta, func(_ context.Context, f *domain.Flow) ([]Aggregate, error) {
		var err error
		v, err = f.CreateVersion(cmd.Version, deref(cmd.Note))
		return nil, err
	})
	w.Version = v.ID
	return w, err
}

// Publish handles Publish Flow Version: the version becomes the flow's
// online one.
func (h *Flows) Publish(ctx context.Context, cmd FlowVersionRef) (FlowWritten, error) {
	return h.flowOp(ctx, cmd.Caller, cmd.FlowID, cmd.Meta, func(_ context.Context, f *domain.Flow) ([]Aggregate, error) {
		return nil, f.Publish(cmd.VersionID)
	})
}

// Rollback handles Rollback Flow Version: the draft becomes exactly the
// version's content (one event).
func (h *Flows) Rollback(ctx context.Context, cmd FlowVersionRef) (FlowWritten, error) {
	version := cmd.VersionID
	return h.flowOp(ctx, cmd.Caller, cmd.FlowID, cmd.Meta, func(ctx context.Context, f *domain.Flow) ([]Aggregate, error) {
		v, ok := f.Version(version)
		if !ok {
			return nil, domain.NotFoundf("Flow version not found")
		}
		content, err := FlowContentAt(ctx, h.Repo, f.ID(), v.Revision)
		if err != nil {
			return nil, err
		}
		was := heldNames(f)
		if err := f.Rollback(version, content); err != nil {
			return nil, err
		}
		claims, err := h.claimsFor(ctx, f, heldNames(f), was)
		return claims, flowClaimError(err)
	})
}

// TakeOffline handles Delete Online Flow: the online version goes
// offline.
func (h *Flows) TakeOffline(ctx context.Context, cmd FlowRef) (FlowWritten, error) {
	return h.flowOp(ctx, cmd.Caller, cmd.ID, cmd.Meta, func(_ context.Context, f *domain.Flow) ([]Aggregate, error) {
		return nil, f.TakeOffline()
	})
}

// FlowContentAt folds flow id's stream up to and including revision: the
// draft as it stood then (a version's content when revision is the
// version's).
func FlowContentAt(ctx context.Context, repo *Repository, id uuid.UUID, revision uint64) (domain.FlowContent, error) {
	f := graphpatch.LoadFlow(id)
	if err := repo.LoadUntil(ctx, f, revision); err != nil {
		return domain.FlowContent{}, err
	}
	return f.Content(), nil
}
