package runs

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// RegisterCatalogue serves the component catalogue (#49) of reg on s.
// The registry does not change while the server runs, so the answer is
// built and compressed once, here.
func RegisterCatalogue(s *httpapi.Server, reg *engine.Registry) {
	body, err := catalogueBody(reg)
	if err != nil {
		s.Misconfigured(err)
	}
	length := strconv.Itoa(len(body))
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: "/api/v1/all", Tag: "Base", Summary: "Get All",
		Description: "Retrieve all component types with compression for better performance. " +
			"The component catalogue: {category: {name: node template}} for every component this server " +
			"runs (its Go implementation; the node template is what a new node carries at data.node, and a node " +
			"made from it runs). As in Langflow the answer is always gzip-compressed, whatever Accept-Encoding says.",
		Access: access.SignedIn(),
		Handler: func(c *gin.Context) {
			h := c.Writer.Header()
			h.Set("Content-Encoding", "gzip")
			h.Set("Vary", "Accept-Encoding")
			h.Set("Content-Length", length)
			c.Data(http.StatusOK, "application/json", body)
		}})
}

// catalogueBody is the answer of Get All: reg's catalogue written as
// Langflow's compress_response writes it (Python's json.dumps, then gzip
// at level 6).
func catalogueBody(reg *engine.Registry) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, 6)
	if err != nil {
		return nil, fmt.Errorf("component catalogue: %w", err)
	}
	if _, err := zw.Write(engine.PyDumps(reg.Catalogue())); err != nil {
		return nil, fmt.Errorf("component catalogue: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("component catalogue: %w", err)
	}
	return buf.Bytes(), nil
}
