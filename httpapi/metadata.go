package httpapi

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Metadata returns the event metadata of a write made by this request: its
// request id as correlation id, the client address, and now as the time of
// the change. The caller's identity (actor, tenant, business) is added by
// the authentication layer once it exists.
func Metadata(c *gin.Context, now time.Time) eventstore.Metadata {
	return eventstore.Metadata{
		CorrelationID: RequestID(c.Request.Context()),
		ClientIP:      c.ClientIP(),
		OccurredAt:    now.UTC(),
	}
}
