package commands

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// answerWrite answers a write with status and the row read returns, once
// the operation's read models show what res appended (a write that
// appended nothing waits for nothing); a failed write (err) or read fails
// the request.
func answerWrite[T any](c *gin.Context, s *httpapi.Server, res eventstore.AppendResult, err error, status int,
	read func(ctx context.Context) (T, error)) {
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	if len(res.Positions) > 0 {
		s.Written(c, res.Last())
	}
	row, err := read(c.Request.Context())
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(status, row)
}
