package httpapi

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

type actorKey struct{}

// WithActor returns ctx naming the user a request acts for; the
// Authenticator sets it, and Metadata puts it on every event the request
// writes.
func WithActor(ctx context.Context, userID int64) context.Context {
	return context.WithValue(ctx, actorKey{}, userID)
}

// Actor returns the user a request acts for (0: anonymous).
func Actor(ctx context.Context) int64 {
	id, _ := ctx.Value(actorKey{}).(int64)
	return id
}

// Metadata returns the event metadata of a write made by this request: the
// acting user, its request id as correlation id, the client address, and
// now as the time of the change (to the microsecond, as stored).
func Metadata(c *gin.Context, now time.Time) eventstore.Metadata {
	ctx := c.Request.Context()
	return eventstore.Metadata{
		ActorUserID:   Actor(ctx),
		CorrelationID: RequestID(ctx),
		ClientIP:      c.ClientIP(),
		OccurredAt:    now.UTC().Truncate(time.Microsecond),
	}
}
