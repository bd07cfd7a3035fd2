package httpapi_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"

	"github.com/skillflaw/skillflaw-go/httpapi"
)

// TestServer_json_operations_refuse_other_content_types proves that an
// operation with a JSON body answers 415 to a body labelled otherwise
// (what a cross-site form can send) before its handler runs, while JSON
// (with parameters, +json types, or unlabelled) and the form operations
// pass.
func TestServer_json_operations_refuse_other_content_types(t *testing.T) {
	t.Parallel()
	type thing struct {
		Name string `json:"name" binding:"required"`
	}
	var handled atomic.Int64
	s := httpapi.New(httpapi.Options{})
	s.Handle(httpapi.Operation{Method: "POST", Path: "/things", Summary: "Create", Public: true, Body: thing{},
		Handler: func(c *gin.Context) {
			handled.Add(1)
			var body thing
			if httpapi.BindJSON(c, &body) {
				c.JSON(http.StatusOK, body)
			}
		}})
	s.Handle(httpapi.Operation{Method: "POST", Path: "/login", Summary: "Login", Public: true,
		Handler: func(c *gin.Context) {
			var form struct {
				Username string `form:"username" binding:"required"`
			}
			if httpapi.BindForm(c, &form) {
				c.JSON(http.StatusOK, gin.H{"username": form.Username})
			}
		}})
	ts := serve(t, s)
	const valid = `{"name":"x"}`

	for _, ct := range []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/jsonx", "application/xml", "text/json;", "application/json;;"} {
		before := handled.Load()
		r := do(t, "POST", ts.URL+"/things", strings.NewReader(valid), "Content-Type", ct)
		assert.Equal(t, http.StatusUnsupportedMediaType, r.status, ct)
		assert.JSONEq(t, `{"detail":"Unsupported Media Type: the request body must be JSON (Content-Type: application/json)"}`, r.body, ct)
		assert.Equal(t, before, handled.Load(), "the handler of %s did not run", ct)
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON",
		"application/merge-patch+json", "application/vnd.skillflaw+json; version=1", ""} {
		r := do(t, "POST", ts.URL+"/things", strings.NewReader(valid), "Content-Type", ct)
		assert.Equal(t, http.StatusOK, r.status, "%q: %s", ct, r.body)
	}
	t.Run("an_empty_body_is_the_handlers_to_answer", func(t *testing.T) {
		t.Parallel()
		r := do(t, "POST", ts.URL+"/things", strings.NewReader(""), "Content-Type", "text/plain")
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, r.body)
	})
	t.Run("form_operations_take_forms", func(t *testing.T) {
		t.Parallel()
		r := do(t, "POST", ts.URL+"/login", strings.NewReader("username=ann"), "Content-Type", "application/x-www-form-urlencoded")
		assert.Equal(t, http.StatusOK, r.status, r.body)
		assert.JSONEq(t, `{"username":"ann"}`, r.body)
	})
}
