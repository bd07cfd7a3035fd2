// Package ports holds the thin HTTP ports of the use cases: one generic
// adapter (Write) that binds a request into a command value, calls its
// HTTP-free handler (package commands) and answers, and every module's
// write routes. A request that is not JSON (a multipart upload, a zip
// download) or that sets cookies (a login) has a thin gin handler here
// that binds, calls the same use case and answers (answerRow,
// answerValue).
package ports

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/readapi"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Port is what the writes of a module share: the server they are
// registered with, the pool tenants are resolved in and answers read
// from, and the clock of the events' metadata.
type Port struct {
	Server *httpapi.Server
	Pool   *pgxpool.Pool
	Clock  func() time.Time
}

// Write is one write operation served by the generic adapter. Its command
// C is a struct whose tags say where each field comes from:
//
//   - `path:"name"`: the path parameter {name} (an int64: 422
//     int_parsing for a non-integer, as httpapi.PathInt; a uuid.UUID:
//     httpapi.PathUUID; a type whose pointer is an
//     encoding.TextUnmarshaler: its UnmarshalText, whose error fails the
//     request through httpapi.Fail, documented as a string; a string: as
//     it is);
//   - `form:"name"` or `form:"name,default=v"`: the query parameter name
//     (httpapi.BindQuery: its `binding` rules apply, errors at
//     ["query", name]; a `binding` tag with required documents the
//     parameter as required);
//   - `body:""`: the JSON body (httpapi.BindJSON); its type is the
//     operation's Body schema;
//   - `tenant:""` (a uuid.UUID): the tenant the request acts in
//     (tenancy.Resolve: X-Tenant-Id, else the system tenant, with the
//     operation's privilege there); `tenant:"scoped"`:
//     tenancy.ResolveScoped (the tenant must exist and be active, the
//     handler asks where the caller may act);
//   - `caller:""` (an auth.Principal): the caller (auth.CallerOf);
//   - `meta:""` (an eventstore.Metadata): the events' metadata
//     (httpapi.Metadata at Port.Clock, TenantID the resolved tenant).
//
// The operation's path and query parameters in /openapi.json are generated
// from the path and form tags (a `place:"…"` tag declares Param.Place, a
// `doc:"…"` tag its description), so Op.Params is not written by hand (an
// entry there, a header say, is added after them); Op.Body and Op.Handler
// are left nil.
type Write[C, R any] struct {
	// Op is the route: Method, Path, Access, Tag, Summary, Description,
	// Response, Status, ReadModels …
	Op httpapi.Operation
	// Handle is the use case: no gin, no HTTP status; domain errors carry
	// their kind. pos is where its events landed (zero: none).
	Handle func(ctx context.Context, cmd C) (r R, pos eventstore.Position, err error)
	// PlacesLast binds the path and query parameters after the body, the
	// caller and the tenant (else they come first): a request wrong in
	// both is answered as the module's older port answered it.
	PlacesLast bool
	// TenantParam, if set, is the tenant the request itself names (a
	// body or query field of the command; nil: none), resolved before
	// X-Tenant-Id and the system tenant (tenancy.Resolve's param). The
	// command's fields are bound by then, but for its path and query ones
	// if PlacesLast and its body if BodyLast.
	TenantParam func(cmd C) *uuid.UUID
	// Check, if set, runs once the tenant is resolved and the path and
	// query parameters are bound (before the body if BodyLast): what the
	// request names is checked there, where the use case cannot (the
	// business a path names must be one the caller may see, which hangs
	// on the request's X-Tenant-Id header), and may complete cmd (the
	// tenant of that business). It answers its own failure and returns
	// false then.
	Check func(c *gin.Context, cmd *C) bool
	// BodyLast binds the body last, after the caller, the tenant, the
	// path and query parameters and Check (else it comes before the
	// caller): a request wrong in both is answered as the module's older
	// port answered it.
	BodyLast bool
	// Answer reads the answer (the read model's row) once the operation's
	// read models show the write, or from a preview of them at pos
	// (readBack); nil answers r itself once they show it or the
	// wait timed out.
	Answer func(ctx context.Context, db readapi.DB, cmd C, r R) (any, error)
}

// Register registers w with p.Server; a command type the adapter cannot
// bind is reported by the server's Handler (Misconfigured).
func (w Write[C, R]) Register(p Port) {
	op, b, err := w.operation()
	if err != nil {
		p.Server.Misconfigured(fmt.Errorf("%s %s: %w", w.Op.Method, w.Op.Path, err))
		return
	}
	op.Handler = func(c *gin.Context) { w.serve(c, p, b) }
	p.Server.Handle(op)
}

// binding is where C's fields come from (reflect indexes into C).
type binding struct {
	path   []pathField
	query  []reflect.StructField // their Index is into C
	qtype  reflect.Type          // a struct of the query fields alone
	body   []int
	tenant []int
	scoped bool // tenant:"scoped": tenancy.ResolveScoped
	caller []int
	meta   []int
}

type pathField struct {
	name  string
	index []int
	kind  string // "int", "uuid", "text" or "string"
}

var (
	uuidType   = reflect.TypeFor[uuid.UUID]()
	metaType   = reflect.TypeFor[eventstore.Metadata]()
	callerType = reflect.TypeFor[auth.Principal]()
	textType   = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// operation completes w.Op from C's tags: its parameters and its body.
func (w Write[C, R]) operation() (httpapi.Operation, binding, error) {
	op := w.Op
	var b binding
	t := reflect.TypeFor[C]()
	if t.Kind() != reflect.Struct {
		return op, b, fmt.Errorf("command %v: need a struct", t)
	}
	if w.Handle == nil {
		return op, b, errors.New("no handle")
	}
	if op.Handler != nil || op.Body != nil {
		return op, b, errors.New("the adapter sets Handler and Body (a body:\"\" field of the command)")
	}
	var params, qfields []reflect.StructField
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() {
			continue
		}
		if name, ok := f.Tag.Lookup("path"); ok {
			pf := pathField{name: name, index: f.Index}
			switch {
			case f.Type == uuidType:
				pf.kind = "uuid"
			case reflect.PointerTo(f.Type).Implements(textType):
				pf.kind = "text"
			case f.Type.Kind() == reflect.Int64:
				pf.kind = "int"
			case f.Type.Kind() == reflect.String:
				pf.kind = "string"
			default:
				return op, b, fmt.Errorf("field %s: a path parameter is an int64, a uuid.UUID or a string, not %v", f.Name, f.Type)
			}
			b.path = append(b.path, pf)
			params = append(params, f)
		}
		if tag, ok := f.Tag.Lookup("form"); ok && tag != "-" {
			b.query = append(b.query, f)
			qfields = append(qfields, reflect.StructField{Name: f.Name, Type: f.Type, Tag: f.Tag})
			params = append(params, f)
		}
		if _, ok := f.Tag.Lookup("body"); ok {
			if b.body != nil {
				return op, b, errors.New("two body fields")
			}
			b.body = f.Index
			op.Body = reflect.Zero(f.Type).Interface()
		}
		if tag, ok := f.Tag.Lookup("tenant"); ok {
			if f.Type != uuidType {
				return op, b, fmt.Errorf("field %s: the tenant is a uuid.UUID, not %v", f.Name, f.Type)
			}
			if tag != "" && tag != "scoped" {
				return op, b, fmt.Errorf("field %s: tenant:%q (\"\" or \"scoped\")", f.Name, tag)
			}
			b.tenant, b.scoped = f.Index, tag == "scoped"
		}
		if _, ok := f.Tag.Lookup("caller"); ok {
			if f.Type != callerType {
				return op, b, fmt.Errorf("field %s: the caller is an auth.Principal, not %v", f.Name, f.Type)
			}
			b.caller = f.Index
		}
		if _, ok := f.Tag.Lookup("meta"); ok {
			if f.Type != metaType {
				return op, b, fmt.Errorf("field %s: the metadata is an eventstore.Metadata, not %v", f.Name, f.Type)
			}
			b.meta = f.Index
		}
	}
	if w.TenantParam != nil && b.tenant == nil {
		return op, b, errors.New("a tenant parameter but no tenant field")
	}
	if len(qfields) > 0 {
		b.qtype = reflect.StructOf(qfields)
	}
	generated, err := Params(params)
	if err != nil {
		return op, b, err
	}
	op.Params = append(generated, op.Params...)
	return op, b, nil
}

// Params documents the fields tagged `path` and `form`: path parameters
// and query parameters, typed from the Go field (integer, boolean,
// number, array, else string; a uuid.UUID is a string of format uuid),
// with the form tag's default and the field's `place` tag.
func Params(fields []reflect.StructField) ([]httpapi.Param, error) {
	var out []httpapi.Param
	for _, f := range fields {
		p := httpapi.Param{Place: f.Tag.Get("place"), Description: f.Tag.Get("doc")}
		var def string
		hasDef := false
		if name, ok := f.Tag.Lookup("path"); ok {
			p.Name, p.In = name, "path"
		} else {
			name, opts, _ := strings.Cut(f.Tag.Get("form"), ",")
			p.Name, p.In = name, "query"
			if p.Name == "" {
				p.Name = f.Name
			}
			def, hasDef = strings.CutPrefix(opts, "default=")
			p.Required = slices.Contains(strings.Split(f.Tag.Get("binding"), ","), "required")
		}
		t := f.Type
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t == uuidType:
			p.Type, p.Format = "string", "uuid"
		case reflect.PointerTo(t).Implements(textType):
			p.Type = "string"
		case isInt(t.Kind()):
			p.Type = "integer"
		case t.Kind() == reflect.Bool:
			p.Type = "boolean"
		case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
			p.Type = "number"
		case t.Kind() == reflect.Slice:
			p.Type = "array"
		default:
			p.Type = "string"
		}
		if hasDef {
			var err error
			switch p.Type {
			case "integer":
				p.Default, err = strconv.ParseInt(def, 10, 64)
			case "boolean":
				p.Default, err = strconv.ParseBool(def)
			case "number":
				p.Default, err = strconv.ParseFloat(def, 64)
			default:
				p.Default = def
			}
			if err != nil {
				return nil, fmt.Errorf("field %s: default %q is not a %s", f.Name, def, p.Type)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func isInt(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Int64 || k >= reflect.Uint && k <= reflect.Uint64
}

// serve binds the request into a C (the path and query parameters, the
// body, the caller, the tenant, then Check; PlacesLast and BodyLast move
// the parameters and the body later), calls Handle and answers.
func (w Write[C, R]) serve(c *gin.Context, p Port, b binding) {
	var cmd C
	v := reflect.ValueOf(&cmd).Elem()
	if !w.PlacesLast && !bindPlaces(c, v, b) {
		return
	}
	if !w.BodyLast && !bindBody(c, v, b) {
		return
	}
	if b.caller != nil {
		caller, ok := auth.CallerOf(c)
		if !ok {
			return
		}
		v.FieldByIndex(b.caller).Set(reflect.ValueOf(caller))
	}
	var tenant uuid.UUID
	if b.tenant != nil {
		resolve := tenancy.Resolve
		if b.scoped {
			resolve = tenancy.ResolveScoped
		}
		var param *uuid.UUID
		if w.TenantParam != nil {
			param = w.TenantParam(cmd)
		}
		t, ok := resolve(c, p.Pool, param)
		if !ok {
			return
		}
		tenant = t.ID
		v.FieldByIndex(b.tenant).Set(reflect.ValueOf(tenant))
	}
	if w.PlacesLast && !bindPlaces(c, v, b) {
		return
	}
	if w.Check != nil && !w.Check(c, &cmd) {
		return
	}
	if w.BodyLast && !bindBody(c, v, b) {
		return
	}
	if b.meta != nil {
		md := httpapi.Metadata(c, p.Clock())
		if b.tenant != nil {
			md.TenantID = tenant
		}
		v.FieldByIndex(b.meta).Set(reflect.ValueOf(md))
	}
	r, pos, err := w.Handle(c.Request.Context(), cmd)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	status := w.Op.Status
	if status == 0 {
		status = http.StatusOK
	}
	if w.Answer == nil {
		answerValue(c, p, pos, status, r)
		return
	}
	answerRow(c, p, pos, status, func(ctx context.Context, db readapi.DB) (any, error) {
		return w.Answer(ctx, db, cmd, r)
	})
}

// bindBody binds the JSON body, if C has one, into v (a C), having
// answered any failure.
func bindBody(c *gin.Context, v reflect.Value, b binding) bool {
	return b.body == nil || httpapi.BindJSON(c, v.FieldByIndex(b.body).Addr().Interface())
}

// bindPlaces binds the path and query parameters into v (a C), having
// answered any failure.
func bindPlaces(c *gin.Context, v reflect.Value, b binding) bool {
	for _, pf := range b.path {
		fv := v.FieldByIndex(pf.index)
		switch pf.kind {
		case "int":
			id, ok := httpapi.PathInt(c, pf.name)
			if !ok {
				return false
			}
			fv.SetInt(id)
		case "uuid":
			id, ok := httpapi.PathUUID(c, pf.name)
			if !ok {
				return false
			}
			fv.Set(reflect.ValueOf(id))
		case "text":
			if err := fv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(c.Param(pf.name))); err != nil {
				httpapi.Fail(c, err)
				return false
			}
		default:
			fv.SetString(c.Param(pf.name))
		}
	}
	if b.qtype != nil {
		q := reflect.New(b.qtype)
		if !httpapi.BindQuery(c, q.Interface()) {
			return false
		}
		for i, f := range b.query {
			v.FieldByIndex(f.Index).Set(q.Elem().Field(i))
		}
	}
	return true
}

// InTenant are the fields of a write on the caller's tenant, to embed in
// its request: the tenant (tenancy.Resolve) and the events' metadata.
type InTenant struct {
	Tenant uuid.UUID           `tenant:""`
	Meta   eventstore.Metadata `meta:""`
}

// InScope are the fields of a write on a scoped catalogue, to embed in
// its request: the caller, the tenant (tenancy.ResolveScoped: the entry's
// place decides) and the events' metadata.
type InScope struct {
	Caller auth.Principal      `caller:""`
	Tenant uuid.UUID           `tenant:"scoped"`
	Meta   eventstore.Metadata `meta:""`
}
