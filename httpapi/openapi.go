package httpapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3gen"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// The security schemes of Langflow's document, which every non-public
// operation accepts. Langflow names the API key schemes "API key query" and
// "API key header"; OpenAPI allows no spaces in component names.
const (
	schemeOAuth2    = "OAuth2PasswordBearerCookie"
	schemeKeyQuery  = "API_key_query"
	schemeKeyHeader = "API_key_header"
)

func newDocument(title, version string) *openapi3.T {
	validationError, err := openapi3gen.NewSchemaRefForValue(ErrorItem{}, nil)
	if err != nil { // ErrorItem is a plain struct; this cannot fail
		validationError = openapi3.NewObjectSchema().NewRef()
	}
	detail := openapi3.NewArraySchema()
	detail.Items = openapi3.NewSchemaRef("#/components/schemas/ValidationError", validationError.Value)
	return &openapi3.T{
		OpenAPI: "3.0.3",
		Info:    &openapi3.Info{Title: title, Version: version},
		Paths:   openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas: openapi3.Schemas{
				"ValidationError":     validationError,
				"HTTPValidationError": openapi3.NewObjectSchema().WithProperty("detail", detail).NewRef(),
			},
			SecuritySchemes: openapi3.SecuritySchemes{
				schemeOAuth2: {Value: &openapi3.SecurityScheme{Type: "oauth2", Flows: &openapi3.OAuthFlows{
					Password: &openapi3.OAuthFlow{TokenURL: "api/v1/login", Scopes: map[string]string{}},
				}}},
				schemeKeyQuery:  {Value: &openapi3.SecurityScheme{Type: "apiKey", In: "query", Name: "x-api-key"}},
				schemeKeyHeader: {Value: &openapi3.SecurityScheme{Type: "apiKey", In: "header", Name: "x-api-key"}},
			},
		},
	}
}

// describe builds the document's entry for op.
func (s *Server) describe(op Operation, params []Param) (*openapi3.Operation, error) {
	o := &openapi3.Operation{
		Summary:     op.Summary,
		Description: op.Description,
		OperationID: cmp.Or(op.OperationID, defaultOperationID(op)),
		Responses:   openapi3.NewResponses(),
	}
	if s.opIDs[o.OperationID] {
		return nil, fmt.Errorf("operationId %q is taken", o.OperationID)
	}
	if op.Tag != "" {
		o.Tags = []string{op.Tag}
	}
	for _, p := range params {
		o.Parameters = append(o.Parameters, paramDoc(p))
	}
	if !op.Public {
		o.Extensions = map[string]any{"x-access": op.Access.String()}
	}
	if len(op.ReadModels) > 0 {
		if o.Extensions == nil {
			o.Extensions = map[string]any{}
		}
		o.Extensions["x-read-models"] = op.ReadModels
	}
	if len(s.awaited(op)) > 0 {
		o.Parameters = append(o.Parameters, paramDoc(Param{Name: HeaderMinPosition, In: "header",
			Description: "Wait (bounded) until the read models serving this operation (and the permissions it is checked against) reached this event position, " +
				"e.g. the X-Event-Position of an earlier write; 503 if they do not in time."}))
	}
	if op.Body != nil {
		ref, err := s.schemaFor(op.Body, true)
		if err != nil {
			return nil, fmt.Errorf("request body schema: %w", err)
		}
		o.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).WithJSONSchemaRef(ref)}
	}
	ok := openapi3.NewResponse().WithDescription("Successful Response")
	switch {
	case op.Response != nil:
		ref, err := s.schemaFor(op.Response, false)
		if err != nil {
			return nil, fmt.Errorf("response schema: %w", err)
		}
		ok.WithJSONSchemaRef(ref)
	case op.Status != 204:
		ok.WithJSONSchema(&openapi3.Schema{})
	}
	o.Responses.Set(strconv.Itoa(op.Status), &openapi3.ResponseRef{Value: ok})
	if len(o.Parameters) > 0 || op.Body != nil {
		ref := openapi3.NewSchemaRef("#/components/schemas/HTTPValidationError", s.doc.Components.Schemas["HTTPValidationError"].Value)
		o.Responses.Set("422", &openapi3.ResponseRef{Value: openapi3.NewResponse().
			WithDescription("Validation Error").WithJSONSchemaRef(ref)})
	}
	switch {
	case op.APIKey:
		o.Security = &openapi3.SecurityRequirements{{schemeKeyQuery: {}}, {schemeKeyHeader: {}}}
	case !op.Public:
		o.Security = &openapi3.SecurityRequirements{{schemeOAuth2: {}}, {schemeKeyQuery: {}}, {schemeKeyHeader: {}}}
	}
	return o, nil
}

func paramDoc(p Param) *openapi3.ParameterRef {
	typ := cmp.Or(p.Type, "string")
	schema := &openapi3.Schema{Type: &openapi3.Types{typ}, Format: p.Format, Default: p.Default}
	enumOf := schema
	if typ == "array" {
		schema.Items = openapi3.NewStringSchema().NewRef()
		enumOf = schema.Items.Value
	}
	for _, e := range p.Enum {
		enumOf.Enum = append(enumOf.Enum, e)
	}
	doc := &openapi3.Parameter{Name: p.Name, In: p.In, Description: p.Description, Required: p.Required, Schema: schema.NewRef()}
	if p.Place != "" {
		doc.Extensions = map[string]any{"x-place": p.Place}
	}
	return &openapi3.ParameterRef{Value: doc}
}

// schemaFor generates the schema of v's type. Types that refer to
// themselves land in the document's components. A request body's schema
// states the binder's default bounds too (limits.go).
func (s *Server) schemaFor(v any, request bool) (*openapi3.SchemaRef, error) {
	customize := customizeSchema
	if request {
		customize = func(name string, t reflect.Type, tag reflect.StructTag, schema *openapi3.Schema) error {
			if err := customizeSchema(name, t, tag, schema); err != nil {
				return err
			}
			own, _ := fieldRules(tag.Get("binding"))
			switch {
			case bounded(own):
			case t.Kind() == reflect.String:
				schema.MaxLength = new(uint64(DefaultMaxStringLength))
			case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
				schema.MaxItems = new(uint64(DefaultMaxItems))
			}
			return nil
		}
	}
	return openapi3gen.NewSchemaRefForValue(v, s.doc.Components.Schemas, openapi3gen.SchemaCustomizer(customize))
}

// customizeSchema adds what openapi3gen does not know: UUIDs are strings,
// and `binding` rules (required, oneof, min, max) are constraints.
func customizeSchema(_ string, t reflect.Type, tag reflect.StructTag, schema *openapi3.Schema) error {
	switch t {
	case reflect.TypeFor[uuid.UUID]():
		schema.Type, schema.Format = &openapi3.Types{"string"}, "uuid"
	case reflect.TypeFor[json.RawMessage]():
		// Free-form JSON (optins, flow data …): any object.
		*schema = openapi3.Schema{Type: &openapi3.Types{"object"}, AdditionalProperties: openapi3.AdditionalProperties{Has: new(true)}}
	}
	if t.Kind() == reflect.Struct {
		for _, f := range jsonFields(t) {
			if slices.Contains(rules(f.Tag), "required") {
				schema.Required = append(schema.Required, jsonName(f))
			}
		}
	}
	for _, rule := range rules(tag) {
		key, val, _ := strings.Cut(rule, "=")
		n, err := strconv.ParseFloat(val, 64)
		switch {
		case key == "oneof":
			for _, e := range strings.Fields(val) {
				schema.Enum = append(schema.Enum, e)
			}
		case err != nil:
		case key == "max" && t.Kind() == reflect.String:
			schema.MaxLength = new(uint64(n))
		case key == "min" && t.Kind() == reflect.String:
			schema.MinLength = uint64(n)
		case key == "max" && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
			schema.MaxItems = new(uint64(n))
		case key == "min" && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
			schema.MinItems = uint64(n)
		case key == "max" || key == "lte":
			schema.Max = &n
		case key == "min" || key == "gte":
			schema.Min = &n
		}
	}
	return nil
}

// rules lists a field's `binding` rules up to "dive" (the rest apply to
// the elements).
func rules(tag reflect.StructTag) []string {
	b := tag.Get("binding")
	if b == "" {
		return nil
	}
	r := strings.Split(b, ",")
	if i := slices.Index(r, "dive"); i >= 0 {
		r = r[:i]
	}
	return r
}

// checkDocumented reports every route the router serves that the document
// lacks (hidden routes aside), and every documented operation the router
// does not serve. Handler runs it, so a route that bypassed Handle fails
// the start-up.
func checkDocumented(routes gin.RoutesInfo, doc *openapi3.T, hidden map[string]bool) error {
	served := map[string]bool{}
	for _, r := range routes {
		if !hidden[r.Method+" "+r.Path] {
			served[r.Method+" "+normalizePath(r.Path)] = true
		}
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+normalizePath(path)] = true
		}
	}
	var problems []string
	for k := range served {
		if !documented[k] {
			problems = append(problems, "served but not documented: "+k)
		}
	}
	for k := range documented {
		if !served[k] {
			problems = append(problems, "documented but not served: "+k)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems)
	return errors.New(strings.Join(problems, "; "))
}

// docsTemplate is FastAPI's Swagger UI page plus a list of the operations
// that stays visible when the CDN cannot be reached.
const docsTemplate = `<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - Swagger UI</title>
<link type="text/css" rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
<style>#operations td, #operations th { text-align: left; padding: 2px 12px 2px 0; font-family: sans-serif; }</style>
</head>
<body>
<div id="swagger-ui"></div>
<div id="operations">
<h1>{{.Title}} {{.Version}}</h1>
<p>Swagger UI did not load (offline?). The OpenAPI document is at <a href="openapi.json">/openapi.json</a>.</p>
<table>
<tr><th>Method</th><th>Path</th><th>Summary</th></tr>
{{- range .Operations}}
<tr><td>{{.Method}}</td><td><code>{{.Path}}</code></td><td>{{.Summary}}</td></tr>
{{- end}}
</table>
</div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>
if (window.SwaggerUIBundle) {
  document.getElementById("operations").hidden = true;
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
}
</script>
</body>
</html>
`

func docsPage(title, version string, ops []Operation) ([]byte, error) {
	t, err := template.New("docs").Parse(docsTemplate)
	if err != nil {
		return nil, fmt.Errorf("docs page: %w", err)
	}
	ops = slices.Clone(ops)
	slices.SortStableFunc(ops, func(a, b Operation) int { return cmp.Compare(a.Path, b.Path) })
	var buf bytes.Buffer
	if err := t.Execute(&buf, map[string]any{"Title": title, "Version": version, "Operations": ops}); err != nil {
		return nil, fmt.Errorf("docs page: %w", err)
	}
	return buf.Bytes(), nil
}
