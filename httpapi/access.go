package httpapi

import (
	"fmt"

	"github.com/gin-gonic/gin"
)

// AccessKind says how an operation is authorised once its caller is known.
type AccessKind int

const (
	// AccessSuperuser: superusers only.
	AccessSuperuser AccessKind = iota + 1
	// AccessSignedIn: any signed-in user; the handler scopes the answer to
	// the caller (their profile, their API keys).
	AccessSignedIn
	// AccessOwn: the caller's own resources need no grant (Langflow's
	// personal workspace); other users' resources, and any tenant but the
	// system tenant, need Module.Priv where they live.
	AccessOwn
	// AccessTenant: Module.Priv in the request's tenant (and business,
	// where the request names one).
	AccessTenant
)

// Access declares, at registration, what an operation needs: every
// operation that is not Public declares one, or Handler fails. The access
// package builds them (access.Tenant("flows", "read") …) and enforces them
// (the Authorizer).
type Access struct {
	Kind         AccessKind
	Module, Priv string
	// Scoped (AccessTenant only): at the door, the privilege held
	// somewhere in the request's tenant is enough — tenant-wide or in one
	// of its businesses — and the handler narrows to where (the scoped
	// catalogues: tenancy.Readable for reads, tenancy.Authorize with the
	// entry's business for writes).
	Scoped bool
}

// String is the requirement as the OpenAPI document and 403s show it.
func (a Access) String() string {
	switch a.Kind {
	case AccessSuperuser:
		return "superuser"
	case AccessSignedIn:
		return "signed in"
	case AccessOwn:
		return fmt.Sprintf("own resources, or %s.%s", a.Module, a.Priv)
	case AccessTenant:
		return fmt.Sprintf("%s.%s", a.Module, a.Priv)
	}
	return "undeclared"
}

func (a Access) valid() bool {
	switch a.Kind {
	case AccessSuperuser, AccessSignedIn:
		return a.Module == "" && a.Priv == ""
	case AccessOwn, AccessTenant:
		return a.Module != "" && a.Priv != ""
	}
	return false
}

// Authorizer enforces the declared Access of every non-public operation,
// after authentication: nil leaves them to their handlers (tests of the
// HTTP layer alone).
type Authorizer interface {
	// Authorize returns nil when the caller of c may go on (it may put
	// what handlers need into c's request context), else the error Fail
	// renders (a 403 with detail).
	Authorize(c *gin.Context, a Access) error
}

// SetAuthorizer installs the Authorizer (it may come from a module
// registered after New); call it before serving.
func (s *Server) SetAuthorizer(a Authorizer) { s.opts.Authorizer = a }

// Authorizer returns the installed Authorizer (nil if none).
func (s *Server) Authorizer() Authorizer { return s.opts.Authorizer }

// AccessOf returns the Access of the operation c serves.
func AccessOf(c *gin.Context) (Access, bool) {
	rt, ok := routeOf(c)
	if !ok {
		return Access{}, false
	}
	return rt.op.Access, true
}

// ParamsOf returns the declared parameters of the operation c serves
// (path parameters first, each with its Place where it names one).
func ParamsOf(c *gin.Context) []Param {
	rt, ok := routeOf(c)
	if !ok {
		return nil
	}
	return rt.params
}

// ParamValue is the raw value of the declared parameter p in c's request
// as its handler binds it: the path parameter, or the last repetition of
// a query parameter (BindQuery's rule for scalars: ?tenant_id=B&tenant_id=A
// is A), so that what the Authorizer checks is what the handler reads; ""
// when absent.
func ParamValue(c *gin.Context, p Param) string {
	switch p.In {
	case "path":
		return c.Param(p.Name)
	case "query":
		if values := c.QueryArray(p.Name); len(values) > 0 {
			return values[len(values)-1]
		}
	}
	return ""
}

func (s *Server) authorize(c *gin.Context) {
	rt, ok := routeOf(c)
	if s.opts.Authorizer == nil || !ok {
		return
	}
	if err := s.opts.Authorizer.Authorize(c, rt.op.Access); err != nil {
		Fail(c, err)
	}
}
