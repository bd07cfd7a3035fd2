package ports

import (
	"io"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/httpapi"
)

// FuzzUserFileUpload feeds multipart bodies (boundary "b") to the way a
// user file is read to be streamed to storage (openFileUpload, then its
// content) and requires a 2xx or 4xx answer: a truncated, malformed or
// hostile upload is the client's mistake. The seeds are those of a flow
// import's (FuzzUploadParts); `go test` runs them.
func FuzzUserFileUpload(f *testing.F) {
	addUploadSeeds(f)
	s := httpapi.New(httpapi.Options{MaxBodyBytes: 1 << 20})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: "/file", Summary: "File", Public: true, Handler: func(c *gin.Context) {
		u, err := openFileUpload(c)
		if err == nil {
			_, err = io.Copy(io.Discard, u.Body)
		}
		if err != nil {
			httpapi.Fail(c, err)
			return
		}
		c.Status(http.StatusOK)
	}})
	h, err := s.Handler()
	if err != nil {
		f.Fatal(err)
	}
	fuzzUpload(f, h, "/file")
}
