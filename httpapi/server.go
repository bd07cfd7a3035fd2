package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"
	"golang.org/x/sync/semaphore"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// DefaultReadYourWritesTimeout bounds read-model waits when Options leaves
// ReadYourWritesTimeout zero.
const DefaultReadYourWritesTimeout = 5 * time.Second

// DefaultBodyReadTimeout bounds the wait for room for a large body when
// Options leaves BodyReadTimeout zero.
const DefaultBodyReadTimeout = time.Minute

// Options configures a Server.
type Options struct {
	// Logger receives the access log, panics and 5xx errors; nil discards.
	Logger *slog.Logger
	// CORSOrigins are the allowed browser origins; "*" allows any other
	// origin, answered with "Access-Control-Allow-Origin: *" and never
	// with credentials. Empty disables CORS.
	CORSOrigins []string
	// CORSAllowCredentials lets browsers send cookies from the origins
	// listed by name (never from "*" or the origin "null").
	CORSAllowCredentials bool
	// TrustedProxies are the IPs or CIDRs whose X-Forwarded-For is believed
	// for the client IP; empty trusts none.
	TrustedProxies []string
	// MaxBodyBytes bounds request bodies (0: unbounded); an Operation may
	// raise it with its own MaxBodyBytes, or take LargeBodyBytes.
	MaxBodyBytes int64
	// LargeBodyBytes bounds the bodies of LargeBody operations (flows).
	LargeBodyBytes int64
	// LargeBodyMemory bounds the bytes of large bodies (over MaxBodyBytes,
	// on LargeBody operations) handled at once; more wait (see admitBody).
	// 0: unbounded.
	LargeBodyMemory int64
	// BodyReadTimeout bounds how long a body takes to arrive (see
	// MinBodyRate); 0: no deadline. Headers and idle connections are the
	// http.Server's business (ReadHeaderTimeout, IdleTimeout).
	BodyReadTimeout time.Duration
	// ReadYourWritesTimeout bounds read-model waits (default 5s).
	ReadYourWritesTimeout time.Duration
	// Waiter tells when read models reached a position; nil skips waiting.
	Waiter Waiter
	// Authenticator runs before every non-public operation; nil serves
	// them without authentication.
	Authenticator Authenticator
	// Authorizer enforces each non-public operation's Access after
	// authentication; nil leaves authorisation to the handlers.
	Authorizer Authorizer
	// AccessReadModels are the read models the Authorizer decides from for
	// operations that need a privilege (AccessOwn, AccessTenant): their
	// X-Min-Position waits for these too, before authorisation.
	AccessReadModels []string
	// Title and Version go into the OpenAPI document's info (defaults
	// "SkillFlaw" and "dev").
	Title, Version string
}

// Waiter is the projections runtime as the HTTP layer sees it.
type Waiter interface {
	// WaitFor returns nil once every named projection has processed the
	// log up to and including pos, or ctx's error when ctx ends first.
	WaitFor(ctx context.Context, pos eventstore.Position, projections ...string) error
}

// Authenticator establishes who is calling.
type Authenticator interface {
	// Authenticate returns the request's context carrying the caller's
	// identity, or an error that Fail renders (a *StatusError with 401, a
	// domain.ErrForbidden …).
	Authenticate(r *http.Request) (context.Context, error)
}

// Server is a gin engine plus the OpenAPI document of its operations.
// Register every operation with Handle, then call Handler once and serve
// what it returns; Handle must not be called after that.
type Server struct {
	opts     Options
	log      *slog.Logger
	engine   *gin.Engine
	validate *validator.Validate
	doc      *openapi3.T
	// documented holds the visible operations, for the /docs fallback.
	documented []Operation
	// keys holds "METHOD /normalized/{}" of every operation, to refuse
	// duplicates; hidden holds "METHOD /gin/:path" of hidden ones.
	keys, hidden map[string]bool
	opIDs        map[string]bool
	// wildcards maps a gin path prefix to the parameter name gin knows at
	// the position after it (see ginPath).
	wildcards map[string]string
	// bodies is the room large bodies take (Options.LargeBodyMemory);
	// largeBodies counts the requests holding some.
	bodies      *semaphore.Weighted
	largeBodies atomic.Int64
	errs        []error
	// docJSON is the OpenAPI document as served, marshalled at its first
	// request (a process that is never asked for it, a test's, never pays
	// for the megabyte).
	docJSON  func() ([]byte, error)
	docsHTML []byte
}

// New builds a Server with its middleware and the hidden /openapi.json and
// /docs routes. Configuration errors are reported by Handler. New puts gin
// in release mode, a process-wide gin setting.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ReadYourWritesTimeout <= 0 {
		opts.ReadYourWritesTimeout = DefaultReadYourWritesTimeout
	}
	opts.Title, opts.Version = cmp.Or(opts.Title, "SkillFlaw"), cmp.Or(opts.Version, "dev")
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		opts:      opts,
		log:       opts.Logger,
		engine:    gin.New(),
		validate:  newValidator(),
		doc:       newDocument(opts.Title, opts.Version),
		keys:      map[string]bool{},
		hidden:    map[string]bool{},
		opIDs:     map[string]bool{},
		wildcards: map[string]string{},
	}
	if opts.LargeBodyMemory > 0 {
		s.bodies = semaphore.NewWeighted(opts.LargeBodyMemory)
	}
	e := s.engine
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = true
	e.RedirectFixedPath = false
	e.ContextWithFallback = true
	if err := e.SetTrustedProxies(opts.TrustedProxies); err != nil {
		s.errs = append(s.errs, fmt.Errorf("trusted proxies: %w", err))
	}
	e.NoRoute(func(c *gin.Context) { c.JSON(http.StatusNotFound, gin.H{"detail": "Not Found"}) })
	e.NoMethod(func(c *gin.Context) { c.JSON(http.StatusMethodNotAllowed, gin.H{"detail": "Method Not Allowed"}) })
	e.Use(s.requestID, s.accessLog, s.recoverPanic)
	if len(opts.CORSOrigins) > 0 {
		if p, err := newCORSPolicy(opts.CORSOrigins, opts.CORSAllowCredentials); err != nil {
			s.errs = append(s.errs, err)
		} else {
			e.Use(p.middleware)
		}
	}
	s.Handle(Operation{Method: http.MethodGet, Path: "/openapi.json", Public: true, Hidden: true,
		Handler: func(c *gin.Context) {
			doc, err := s.docJSON()
			if err != nil {
				Fail(c, fmt.Errorf("marshal OpenAPI document: %w", err))
				return
			}
			c.Data(http.StatusOK, "application/json", doc)
		}})
	s.Handle(Operation{Method: http.MethodGet, Path: "/docs", Public: true, Hidden: true,
		Handler: func(c *gin.Context) { c.Data(http.StatusOK, "text/html; charset=utf-8", s.docsHTML) }})
	return s
}

// Handler finishes the OpenAPI document (marshalled when it is first
// asked for) and returns the router. It fails if
// any Handle call failed (a duplicate method and path, a malformed path …),
// if the configuration is invalid, or if the router serves a route the
// document lacks or the other way round.
func (s *Server) Handler() (http.Handler, error) {
	errs := slices.Clone(s.errs)
	s.docJSON = sync.OnceValues(s.doc.MarshalJSON)
	var err error
	if s.docsHTML, err = docsPage(s.opts.Title, s.opts.Version, s.documented); err != nil {
		errs = append(errs, err)
	}
	if err := checkDocumented(s.engine.Routes(), s.doc, s.hidden); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("http server: %w", err)
	}
	return s.engine, nil
}

// Misconfigured records a module's configuration error (a storage
// directory that cannot be created …); Handler reports it, so the server
// does not start.
func (s *Server) Misconfigured(err error) { s.errs = append(s.errs, err) }

// OpenAPI returns the document built from the registered operations.
func (s *Server) OpenAPI() *openapi3.T { return s.doc }

// Routes lists what the router serves, hidden routes included.
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }

// Logger is the server's logger, for handlers that log beside Fail.
func (s *Server) Logger() *slog.Logger { return s.log }

// Handle registers op with the router and, unless it is Hidden, with the
// OpenAPI document. A failure (duplicate method and path, bad path, bad
// parameter) registers nothing and is reported by Handler.
func (s *Server) Handle(op Operation) {
	if err := s.handle(op); err != nil {
		s.errs = append(s.errs, fmt.Errorf("%s %s: %w", op.Method, op.Path, err))
	}
}

func (s *Server) handle(op Operation) (err error) {
	op.Method = strings.ToUpper(op.Method)
	if op.Handler == nil {
		return errors.New("no handler")
	}
	if !strings.HasPrefix(op.Path, "/") {
		return errors.New("path must start with /")
	}
	if !op.Public && !op.Access.valid() {
		return fmt.Errorf("access %+v: a non-public operation declares what it needs (httpapi.Access)", op.Access)
	}
	if op.Status == 0 {
		op.Status = http.StatusOK
	}
	key := op.Method + " " + normalizePath(op.Path)
	if s.keys[key] {
		return errors.New("registered twice")
	}
	params, err := pathParams(op)
	if err != nil {
		return err
	}
	gp, rename, err := s.ginPath(op.Path)
	if err != nil {
		return err
	}
	var docOp *openapi3.Operation
	if !op.Hidden {
		if docOp, err = s.describe(op, params); err != nil {
			return err
		}
	}
	defer func() { // gin panics on conflicting routes; turn that into an error
		if r := recover(); r != nil {
			err = fmt.Errorf("router: %v", r)
		}
	}()
	s.engine.Handle(op.Method, gp, s.chain(&route{op: op, params: params, rename: rename, awaited: s.awaited(op)})...)

	s.keys[key] = true
	if op.Hidden {
		s.hidden[op.Method+" "+gp] = true
		return nil
	}
	s.opIDs[docOp.OperationID] = true
	s.doc.AddOperation(op.Path, op.Method, docOp)
	s.documented = append(s.documented, op)
	return nil
}

// ginPath converts "/flows/{flow_id}" into "/flows/:flow_id". gin wants one
// parameter name per position of its tree, so where an earlier route named
// the parameter at the same position differently, the earlier name is used
// and rename maps it back to this operation's name for the handler.
func (s *Server) ginPath(path string) (gp string, rename map[string]string, err error) {
	segs := strings.Split(path, "/")
	seen := map[string]bool{}
	for i, seg := range segs {
		name, ok := paramName(seg)
		if !ok {
			if strings.ContainsAny(seg, "{}:*") {
				return "", nil, fmt.Errorf("segment %q: a parameter must be a whole segment {name}", seg)
			}
			continue
		}
		prefix := strings.Join(segs[:i], "/") + "/"
		canonical, known := s.wildcards[prefix]
		if !known {
			canonical = name
		}
		if seen[canonical] {
			return "", nil, fmt.Errorf("parameter %q: gin already knows its position as %q, which this path uses elsewhere", name, canonical)
		}
		seen[canonical] = true
		if canonical != name {
			if rename == nil {
				rename = map[string]string{}
			}
			rename[canonical] = name
		}
		segs[i] = ":" + canonical
	}
	// Remember the names only once the whole path is valid.
	for i, seg := range segs {
		if name, ok := strings.CutPrefix(seg, ":"); ok {
			s.wildcards[strings.Join(segs[:i], "/")+"/"] = name
		}
	}
	return strings.Join(segs, "/"), rename, nil
}

func paramName(seg string) (string, bool) {
	if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' && !strings.ContainsAny(seg[1:len(seg)-1], "{}/") {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}

// normalizePath replaces every parameter ({x}, :x, *x) with {}.
func normalizePath(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if _, ok := paramName(seg); ok || strings.HasPrefix(seg, ":") || strings.HasPrefix(seg, "*") {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// route is what the handlers of one operation share.
type route struct {
	op      Operation
	params  []Param
	rename  map[string]string
	awaited []string // see Server.awaited
}

type (
	routeKey     struct{}
	serverKey    struct{}
	requestIDKey struct{}
)

// chain is the per-route part of the middleware: route info, the check of
// path and query parameters, body limit and read deadline, the JSON
// content type of operations with a JSON body, authentication, the
// X-Min-Position wait, authorisation (which may read a read model the wait
// covered), the wait for room for a large body, then the handler.
func (s *Server) chain(rt *route) []gin.HandlerFunc {
	limit := s.bodyLimit(rt.op)
	h := []gin.HandlerFunc{rt.enter, s.checkParams, s.limitBody(limit)}
	if rt.op.Body != nil {
		h = append(h, requireJSON)
	}
	switch {
	case rt.op.APIKey:
		h = append(h, s.authenticateAPIKey)
	case rt.op.LocalSuperuser && !rt.op.Public:
		h = append(h, s.authenticateOrLocal)
	case !rt.op.Public:
		h = append(h, s.authenticate)
	}
	if len(rt.awaited) > 0 {
		h = append(h, s.awaitMinPosition)
	}
	if !rt.op.Public {
		h = append(h, s.authorize)
	}
	if rt.op.LargeBody {
		h = append(h, s.admitBody(limit))
	}
	return append(h, rt.op.Handler)
}

// awaited is what X-Min-Position waits for on op: its read models, and
// those its authorisation reads.
func (s *Server) awaited(op Operation) []string {
	out := slices.Clone(op.ReadModels)
	if !op.Public && (op.Access.Kind == AccessOwn || op.Access.Kind == AccessTenant) {
		for _, m := range s.opts.AccessReadModels {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// bodyLimit is op's body limit: its own MaxBodyBytes, else the large one
// for LargeBody operations, else the server's.
func (s *Server) bodyLimit(op Operation) int64 {
	switch {
	case op.MaxBodyBytes > 0:
		return op.MaxBodyBytes
	case op.LargeBody && s.opts.LargeBodyBytes > 0:
		return max(s.opts.LargeBodyBytes, s.opts.MaxBodyBytes)
	}
	return s.opts.MaxBodyBytes
}

// BodyLimit is the body limit of the operation c serves (0: unbounded).
func BodyLimit(c *gin.Context) int64 {
	rt, ok := routeOf(c)
	if !ok {
		return 0
	}
	return serverOf(c).bodyLimit(rt.op)
}

func (rt *route) enter(c *gin.Context) {
	c.Set(routeKey{}, rt)
	for i, p := range c.Params {
		if name, ok := rt.rename[p.Key]; ok {
			c.Params[i].Key = name
		}
	}
}

func routeOf(c *gin.Context) (*route, bool) {
	v, ok := c.Get(routeKey{})
	rt, _ := v.(*route)
	return rt, ok && rt != nil
}

// SetAuthenticator installs the Authenticator of the non-public operations
// (it may come from a module registered after New); call it before serving.
func (s *Server) SetAuthenticator(a Authenticator) { s.opts.Authenticator = a }

func (s *Server) authenticate(c *gin.Context) {
	if s.opts.Authenticator == nil {
		return
	}
	ctx, err := s.opts.Authenticator.Authenticate(c.Request)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Request = c.Request.WithContext(ctx)
}

// LocalAuthenticator lets a request without credentials from the
// server's own machine act as a superuser (Operation.LocalSuperuser), when
// its configuration allows (auto-login); ok false otherwise.
type LocalAuthenticator interface {
	AuthenticateLocal(r *http.Request) (ctx context.Context, ok bool, err error)
}

// authenticateOrLocal is authenticate, falling back to the local
// superuser of a LocalAuthenticator when the request has no credentials.
func (s *Server) authenticateOrLocal(c *gin.Context) {
	if s.opts.Authenticator == nil {
		return
	}
	ctx, err := s.opts.Authenticator.Authenticate(c.Request)
	if err != nil {
		if local, ok := s.opts.Authenticator.(LocalAuthenticator); ok {
			lctx, ok, lerr := local.AuthenticateLocal(c.Request)
			switch {
			case lerr != nil:
				err = lerr
			case ok:
				ctx, err = lctx, nil
			}
		}
	}
	if err != nil {
		Fail(c, err)
		return
	}
	c.Request = c.Request.WithContext(ctx)
}

// APIKeyAuthenticator authenticates the operations that take an API key
// only (Operation.APIKey).
type APIKeyAuthenticator interface {
	AuthenticateAPIKey(r *http.Request) (context.Context, error)
}

// APIKeys returns the installed Authenticator's API-key check, nil when
// it has none (for handlers that authenticate a public route themselves,
// such as a webhook with authentication switched on).
func (s *Server) APIKeys() APIKeyAuthenticator {
	a, _ := s.opts.Authenticator.(APIKeyAuthenticator)
	return a
}

func (s *Server) authenticateAPIKey(c *gin.Context) {
	a, ok := s.opts.Authenticator.(APIKeyAuthenticator)
	if !ok {
		if s.opts.Authenticator != nil {
			Fail(c, fmt.Errorf("the authenticator takes no API keys"))
		}
		return
	}
	ctx, err := a.AuthenticateAPIKey(c.Request)
	if err != nil {
		Fail(c, err)
		return
	}
	c.Request = c.Request.WithContext(ctx)
}

// serverOf finds the Server serving c; handlers run outside one (in unit
// tests of a handler alone) get a detached one.
func serverOf(c *gin.Context) *Server {
	if v, ok := c.Get(serverKey{}); ok {
		if s, ok := v.(*Server); ok {
			return s
		}
	}
	return &Server{log: slog.New(slog.DiscardHandler), validate: newValidator()}
}
