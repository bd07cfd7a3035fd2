package readapi

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// The privileges that show the values of a flow's password fields, held
// where the flow lives: who may write flows there (flows.write) or change
// this one (flows.modify) may see what it holds. modify is there because
// a graph shown emptied and saved back would lose its keys.
const secretsModule = "flows"

var secretsPrivs = []string{"write", "modify"}

// flowSecrets decides, for one request, who sees the values of the
// template fields marked "password" in flows' graphs: the flow's owner,
// superusers, and holders of flows.write or flows.modify where the flow
// lives (its tenant as a whole, or its business or one above it). Every
// other reader — flows.read alone, anonymous readers of public flows —
// gets them emptied (domain.MaskPasswordFields). Every read of a flow's
// graph (the flow, its list, as_of, versions, online and release reads,
// diffs, the answers of writes) goes through it; the caller's privileges
// are asked once per tenant and request.
type flowSecrets struct {
	ctx    context.Context
	caller auth.Principal
	// held is where the caller holds each of secretsPrivs, by tenant.
	held map[uuid.UUID][]tenancy.Scope
}

// newFlowSecrets decides for caller in the request of ctx (which carries
// the request's tenancy.Authorizer).
func newFlowSecrets(ctx context.Context, caller auth.Principal) *flowSecrets {
	return &flowSecrets{ctx: ctx, caller: caller, held: map[uuid.UUID][]tenancy.Scope{}}
}

// secretsFor decides for the caller of ctx, a request's context (none:
// an anonymous reader, who sees no secret).
func secretsFor(ctx context.Context) *flowSecrets {
	caller, _ := auth.PrincipalFrom(ctx)
	return newFlowSecrets(ctx, caller)
}

// reveals reports whether the caller sees the password values of a flow
// of owner placed in tenant (nil: the system tenant) and business.
func (s *flowSecrets) reveals(owner int64, tenant *uuid.UUID, business int64) (bool, error) {
	switch {
	case s.caller.UserID == 0:
		return false, nil // anonymous
	case s.caller.IsSuperuser, s.caller.UserID == owner:
		return true, nil
	}
	t := tenancy.OrSystem(tenant)
	scopes, ok := s.held[t]
	if !ok {
		for _, priv := range secretsPrivs {
			scope, err := tenancy.ScopeOf(s.ctx, secretsModule, priv, t)
			if err != nil {
				return false, err
			}
			scopes = append(scopes, scope)
		}
		s.held[t] = scopes
	}
	return slices.ContainsFunc(scopes, func(sc tenancy.Scope) bool { return sc.Holds(business) }), nil
}

// graph is data, a graph of a flow of owner placed in tenant and business
// (or anything that carries such graphs), as the caller may see it.
func (s *flowSecrets) graph(data json.RawMessage, owner int64, tenant *uuid.UUID, business int64) (json.RawMessage, error) {
	ok, err := s.reveals(owner, tenant, business)
	if err != nil || ok {
		return data, err
	}
	return domain.MaskPasswordFields(data), nil
}

// ofFlow is data, a graph of the folded flow now (or of one of its
// versions), as the caller may see it: the flow's owner and placement now
// decide, as they decide who reads it.
func (s *flowSecrets) ofFlow(now *domain.Flow, data json.RawMessage) (json.RawMessage, error) {
	p := now.Placement()
	return s.graph(data, now.UserID(), p.TenantID, p.BusinessID)
}

// flow shows f's graph as the caller may see it.
func (s *flowSecrets) flow(f *FlowRead) error {
	var err error
	f.Data, err = s.graph(f.Data, f.UserID, f.TenantID, f.BusinessID)
	return err
}

// AsSeen shows f's graph as the caller of ctx, a request's context, may
// see it. The answers of writes go through it too: their caller may hold
// another privilege (flows.delete).
func AsSeen(ctx context.Context, f *FlowRead) error { return secretsFor(ctx).flow(f) }

// flows shows the graphs of fs as the caller may see them.
func (s *flowSecrets) flows(fs []FlowRead) error {
	for i := range fs {
		if err := s.flow(&fs[i]); err != nil {
			return err
		}
	}
	return nil
}
