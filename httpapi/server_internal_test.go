package httpapi

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHandler_router_and_document_agree proves the check Handler runs: a
// route that bypasses Handle, or a documented operation nobody serves,
// fails the build.
func TestHandler_router_and_document_agree(t *testing.T) {
	t.Parallel()
	build := func() *Server {
		s := New(Options{})
		ok := func(c *gin.Context) { c.Status(http.StatusOK) }
		s.Handle(Operation{Method: "GET", Path: "/flows/{flow_id}", Summary: "Read Flow", Access: Access{Kind: AccessSignedIn}, Handler: ok})
		s.Handle(Operation{Method: "HEAD", Path: "/mcp/streamable", Summary: "Streamable Health", Access: Access{Kind: AccessSignedIn}, Handler: ok})
		return s
	}

	t.Run("registered_through_handle", func(t *testing.T) {
		t.Parallel()
		s := build()
		_, err := s.Handler()
		require.NoError(t, err)
		for _, r := range s.Routes() {
			if s.hidden[r.Method+" "+r.Path] {
				assert.Contains(t, []string{"/openapi.json", "/docs"}, r.Path)
				continue
			}
			path := regexp.MustCompile(`:(\w+)`).ReplaceAllString(r.Path, "{$1}")
			item := s.OpenAPI().Paths.Find(path)
			require.NotNil(t, item, "%s %s", r.Method, r.Path)
			assert.NotNil(t, item.GetOperation(r.Method), "%s %s", r.Method, r.Path)
		}
	})
	t.Run("route_bypassing_handle", func(t *testing.T) {
		t.Parallel()
		s := build()
		s.engine.GET("/sneaky/:id", func(*gin.Context) {})
		_, err := s.Handler()
		assert.ErrorContains(t, err, "served but not documented: GET /sneaky/{}")
	})
	t.Run("documented_but_not_served", func(t *testing.T) {
		t.Parallel()
		s := build()
		s.doc.AddOperation("/ghost", "DELETE", &openapi3.Operation{Responses: openapi3.NewResponses()})
		_, err := s.Handler()
		assert.ErrorContains(t, err, "documented but not served: DELETE /ghost")
	})
}
