package httpapi

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// Operation is one route: what the router serves and what the OpenAPI
// document says about it.
type Operation struct {
	// Method is the HTTP method; HEAD routes are registered explicitly.
	Method string
	// Path is in OpenAPI form, e.g. "/api/v1/flows/{flow_id}"; a trailing
	// slash is significant.
	Path string
	// Tag groups the operation in the document ("Base", "Flows" …).
	Tag string
	// Summary and Description document the operation.
	Summary, Description string
	// OperationID defaults to FastAPI's form: summary_path_method in snake
	// case, e.g. get_version_api_v1_version_get.
	OperationID string
	// Public operations need no authentication; the others get the
	// Authenticator and Langflow's security schemes in the document.
	Public bool
	// APIKey operations authenticate by API key only (x-api-key header or
	// query parameter), as Langflow's api_key_security: a bearer token is
	// not a credential there. The Authenticator must implement
	// APIKeyAuthenticator.
	APIKey bool
	// LocalSuperuser operations (the MCP server's) let a request with no
	// credentials at all act as a superuser when the Authenticator allows
	// it (LocalAuthenticator: auto-login on, the request from the server's
	// own machine, as Langflow's MCP auth falls back under AUTO_LOGIN).
	LocalSuperuser bool
	// Params documents path, query and header parameters. Path parameters
	// not listed are documented as required strings.
	Params []Param
	// Body is a prototype of the JSON request body (nil: none, or a form
	// or file the handler reads itself); its schema is generated from its
	// type, `binding:"required"` and the like included. A body labelled
	// other than JSON is refused with 415 before the handler runs.
	Body any
	// Response is a prototype of the success body (nil: unspecified JSON).
	Response any
	// Status is the success status code (default 200).
	Status int
	// ReadModels names the projections the operation reads or waits for:
	// X-Min-Position is honoured and Written waits for them.
	ReadModels []string
	// MaxBodyBytes raises the server's body limit for this route (uploads).
	MaxBodyBytes int64
	// LargeBody operations take flow graphs: their bodies may reach the
	// server's LargeBodyBytes, and those over its MaxBodyBytes wait for
	// room within LargeBodyMemory.
	LargeBody bool
	// Hidden routes are served but left out of the document.
	Hidden bool
	// Access is what the caller needs (see Access); required unless Public.
	Access Access
	// Handler serves the operation.
	Handler gin.HandlerFunc
}

// Param documents one parameter of an Operation.
type Param struct {
	// Name is the parameter's name on the wire.
	Name string
	// In is "path", "query" or "header".
	In string
	// Type is "string" (default), "integer", "boolean", "number" or
	// "array" (of strings).
	Type string
	// Format refines Type: "uuid", "date-time", "int64" …
	Format string
	// Required marks a mandatory parameter; path parameters always are.
	Required bool
	// Default is the value used when the parameter is absent.
	Default any
	// Enum lists the allowed values (of the items, for arrays).
	Enum []string
	// Description documents the parameter.
	Description string
	// Place is what the parameter names when it identifies a place of a
	// tenant (tenancy.PlaceBusiness, PlaceOrg …; PlaceTenant for the
	// tenant itself). The Authorizer resolves every place a request names
	// and refuses one that lies outside the tenant the request acts in. A
	// parameter whose name looks like a place's id (PlaceLike) must declare
	// it, or Handle refuses the operation; the document shows it as
	// x-place.
	Place string
}

// PlaceLike matches the parameter and field names that identify a place
// of a tenant: tenant_id, business-id, first-business-id, org_id,
// parent_org_id, group-id, member_id, relation_id …
var PlaceLike = regexp.MustCompile(`(^|[-_])(tenant|business|org|group|member|relation)[-_]id$`)

// pathParams returns op's parameters with every path parameter declared,
// in path order, followed by the others.
func pathParams(op Operation) ([]Param, error) {
	var inPath []string
	for seg := range strings.SplitSeq(op.Path, "/") {
		if name, ok := paramName(seg); ok {
			inPath = append(inPath, name)
		}
	}
	params := make([]Param, 0, len(op.Params)+len(inPath))
	for _, name := range inPath {
		p := Param{Name: name, In: "path"}
		if i := slices.IndexFunc(op.Params, func(p Param) bool { return p.In == "path" && p.Name == name }); i >= 0 {
			p = op.Params[i]
		}
		p.Required = true
		params = append(params, p)
	}
	for _, p := range op.Params {
		switch {
		case p.In == "path" && !slices.Contains(inPath, p.Name):
			return nil, fmt.Errorf("path parameter %q is not in the path", p.Name)
		case p.In == "path":
			continue
		case p.In != "query" && p.In != "header" && p.In != "cookie":
			return nil, fmt.Errorf("parameter %q: in must be path, query, header or cookie, not %q", p.Name, p.In)
		}
		params = append(params, p)
	}
	for _, p := range params {
		if !slices.Contains([]string{"", "string", "integer", "boolean", "number", "array"}, p.Type) {
			return nil, fmt.Errorf("parameter %q: unknown type %q", p.Name, p.Type)
		}
		if p.Place == "" && p.In != "header" && PlaceLike.MatchString(p.Name) {
			return nil, fmt.Errorf("parameter %q names a place of a tenant: declare which (Param.Place)", p.Name)
		}
	}
	return params, nil
}

// nonWord is what FastAPI replaces with "_" in generated operation ids.
var nonWord = regexp.MustCompile(`\W`)

// defaultOperationID imitates FastAPI's generate_unique_id.
func defaultOperationID(op Operation) string {
	name := strings.ToLower(strings.TrimSpace(op.Summary))
	if name == "" {
		name = "operation"
	}
	return nonWord.ReplaceAllString(strings.ReplaceAll(name, " ", "_")+op.Path, "_") + "_" + strings.ToLower(op.Method)
}
