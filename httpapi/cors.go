package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// corsMethods are the methods a preflight allows.
const corsMethods = "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"

// corsMaxAge is how long browsers may cache a preflight's answer.
const corsMaxAge = 10 * time.Minute

// corsPolicy answers browsers' cross-origin checks. It is safe by default:
// cookies (credentials) are only ever allowed for origins listed by name,
// never for "*" and never for the opaque origin "null" (sandboxed frames,
// file: pages, data: URLs), so that no website a user happens to visit can
// act with their session. Langflow (Starlette's CORSMiddleware with
// allow_origins=["*"] and allow_credentials=True) echoes any Origin with
// Access-Control-Allow-Credentials: true instead.
type corsPolicy struct {
	// listed are the origins named in the configuration, normalised
	// (lower case, no trailing slash).
	listed map[string]bool
	// any is "*" in the configuration: every other origin is answered
	// with Access-Control-Allow-Origin: * and without credentials.
	any bool
	// credentials lets the listed origins send cookies.
	credentials bool
	// expose lists the response headers scripts may read.
	expose string
}

// newCORSPolicy checks the configured origins: "*" or an http(s) origin
// (scheme://host[:port], nothing after it).
func newCORSPolicy(origins []string, credentials bool) (*corsPolicy, error) {
	p := &corsPolicy{listed: map[string]bool{}, credentials: credentials,
		expose: strings.Join([]string{HeaderRequestID, HeaderEventPosition, HeaderReadModelLag}, ", ")}
	for _, o := range origins {
		if o == "*" {
			p.any = true
			continue
		}
		norm, ok := normalOrigin(o)
		if !ok {
			return nil, fmt.Errorf("cors: origin %q must be * or scheme://host[:port] with scheme http or https", o)
		}
		p.listed[norm] = true
	}
	return p, nil
}

// normalOrigin is o as browsers send it in Origin (lower case, no path);
// ok is false for anything that is not an http(s) origin.
func normalOrigin(o string) (string, bool) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(o), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", false
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), true
}

// allow tells how origin is answered: allowed at all, and whether it is
// echoed with credentials or answered with "*".
func (p *corsPolicy) allow(origin string) (allowed, echo bool) {
	if origin == "null" {
		return false, false
	}
	if norm, ok := normalOrigin(origin); ok && p.listed[norm] {
		return true, true
	}
	return p.any, false
}

// middleware answers preflights (OPTIONS with Access-Control-Request-Method)
// itself and adds the CORS headers to the other requests of allowed
// origins. A request from an origin that is not allowed is served without
// CORS headers (the browser then keeps the answer from the page), as
// Starlette does; its preflight is 400 "Disallowed CORS origin".
// Starlette's allow_headers=["*"] is imitated by echoing the requested
// headers.
func (p *corsPolicy) middleware(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin == "" {
		return // not a cross-origin request of a browser
	}
	h := c.Writer.Header()
	h.Add("Vary", "Origin")
	allowed, echo := p.allow(origin)
	preflight := c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != ""
	if !allowed {
		if preflight {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"detail": "Disallowed CORS origin"})
		}
		return
	}
	if echo {
		h.Set("Access-Control-Allow-Origin", origin)
		if p.credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	} else {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	if !preflight {
		h.Set("Access-Control-Expose-Headers", p.expose)
		return
	}
	h.Set("Access-Control-Allow-Methods", corsMethods)
	if req := c.GetHeader("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	h.Set("Access-Control-Max-Age", strconv.Itoa(int(corsMaxAge.Seconds())))
	c.AbortWithStatus(http.StatusNoContent)
}
