package ports_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
)

// checkedThing is a write whose Check finds the thing its path names
// (404 for thing 404) and completes the command with its owner.
type checkedThing struct {
	ID    int64     `path:"thing_id"`
	Owner string    // set by Check
	Body  thingBody `body:""`
}

type checkedAnswer struct {
	Owner string `json:"owner"`
	Name  string `json:"name"`
}

// checkedServer serves PUT /things/{thing_id} with Check, the body bound
// last if bodyLast.
func checkedServer(t *testing.T, bodyLast bool) *httptest.Server {
	t.Helper()
	s := httpapi.New(httpapi.Options{})
	ports.Write[checkedThing, checkedAnswer]{
		Op: httpapi.Operation{Method: http.MethodPut, Path: "/things/{thing_id}", Access: access.Tenant("things", "modify"),
			Summary: "Put Thing"},
		Check: func(c *gin.Context, cmd *checkedThing) bool {
			if cmd.ID == 404 {
				httpapi.Fail(c, domain.NotFoundf("Thing not found"))
				return false
			}
			cmd.Owner = "owner of thing"
			return true
		},
		BodyLast: bodyLast,
		Handle: func(_ context.Context, cmd checkedThing) (checkedAnswer, eventstore.Position, error) {
			return checkedAnswer{Owner: cmd.Owner, Name: *cmd.Body.Name}, eventstore.Position{}, nil
		},
	}.Register(ports.Port{Server: s, Clock: time.Now})
	h, err := s.Handler()
	require.NoError(t, err)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// Check completes the command once the path is bound, and refuses in its
// place: after the body, or before it with BodyLast.
func TestWriteCheck(t *testing.T) {
	for _, bodyLast := range []bool{false, true} {
		ts := checkedServer(t, bodyLast)
		status, _, body := put(t, ts.URL+"/things/1", `{"name":"n"}`)
		require.Equal(t, http.StatusOK, status, body)
		assert.JSONEq(t, `{"owner":"owner of thing","name":"n"}`, body)

		status, _, body = put(t, ts.URL+"/things/x", `{}`)
		assert.Equal(t, http.StatusUnprocessableEntity, status, body)
		assert.Contains(t, body, `"loc":["path","thing_id"]`, "the path comes first")

		status, _, body = put(t, ts.URL+"/things/404", `{"name":"n"}`)
		assert.Equal(t, http.StatusNotFound, status, body)
		assert.JSONEq(t, `{"detail":"Thing not found"}`, body)

		status, _, body = put(t, ts.URL+"/things/404", `{}`)
		if bodyLast {
			assert.Equal(t, http.StatusNotFound, status, "Check before the body: "+body)
		} else {
			assert.Equal(t, http.StatusUnprocessableEntity, status, "the body before Check: "+body)
			assert.Contains(t, body, `"loc":["body","name"]`)
		}
	}
}
