package readapi

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/skillflaw/skillflaw-go/httpapi"
)

// healthCheckTimeout bounds each check of GET /health_check.
const healthCheckTimeout = 2 * time.Second

// The values of a HealthResponse component, as Langflow words them.
const (
	healthOK    = "ok"
	healthError = "error check the server logs"
)

// Pinger is the database as the health check sees it (*pgxpool.Pool).
type Pinger interface {
	Ping(ctx context.Context) error
}

// HealthResponse is Langflow's answer to GET /health_check.
type HealthResponse struct {
	Status string `json:"status"`
	Chat   string `json:"chat"`
	DB     string `json:"db"`
}

// StatusResponse is the answer to GET /health.
type StatusResponse struct {
	Status string `json:"status"`
}

type health struct {
	db   Pinger
	chat func(context.Context) error
	log  *slog.Logger
}

// RegisterHealth adds GET /health (the process is up) and GET
// /health_check, which pings db (required) and runs chat, the check of the
// event-processing side (the projections runtime); a nil chat counts as
// healthy. Each check gets two seconds. An unhealthy check answers as
// Langflow does: 500 with {"detail": {"status": "nok", ...}}, and logs the
// cause (never sent to the client).
func RegisterHealth(s *httpapi.Server, db Pinger, chat func(context.Context) error) {
	h := &health{db: db, chat: chat, log: s.Logger()}
	s.Handle(httpapi.Operation{
		Method: http.MethodGet, Path: "/health", Tag: "Health Check", Summary: "Health", Public: true,
		Response: StatusResponse{}, Handler: h.health,
	})
	s.Handle(httpapi.Operation{
		Method: http.MethodGet, Path: "/health_check", Tag: "Health Check", Summary: "Health Check", Public: true,
		Response: HealthResponse{}, Handler: h.healthCheck,
	})
}

func (h *health) health(c *gin.Context) { c.JSON(http.StatusOK, StatusResponse{Status: healthOK}) }

func (h *health) healthCheck(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), healthCheckTimeout)
	defer cancel()
	var dbErr, chatErr error
	var wg sync.WaitGroup
	wg.Go(func() { dbErr = h.db.Ping(ctx) })
	if h.chat != nil {
		wg.Go(func() { chatErr = h.chat(ctx) })
	}
	wg.Wait()

	res := HealthResponse{Status: healthOK, Chat: h.verdict(c, "chat", chatErr), DB: h.verdict(c, "db", dbErr)}
	if dbErr != nil || chatErr != nil {
		res.Status = "nok"
		httpapi.Fail(c, &httpapi.StatusError{Status: http.StatusInternalServerError, Detail: res})
		return
	}
	c.JSON(http.StatusOK, res)
}

// verdict logs a failed check and words it for the client, who never sees
// the cause.
func (h *health) verdict(c *gin.Context, check string, err error) string {
	if err == nil {
		return healthOK
	}
	h.log.LogAttrs(c.Request.Context(), slog.LevelError, "health check failed",
		slog.String("check", check), slog.String("error", err.Error()),
		slog.String("request_id", httpapi.RequestID(c.Request.Context())))
	return healthError
}
