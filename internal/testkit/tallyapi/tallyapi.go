// Package tallyapi serves the testkit's Tally over HTTP as an app.Module,
// for tests of the whole process (app, cmd). It is apart from testkit so
// that the event store's own tests can use testkit without importing app.
package tallyapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
	"github.com/skillflaw/skillflaw-go/projections"
)

// Module serves tallies over HTTP under /api/v1/_test/tallies, the way
// a real feature module serves its resource: writes through the repository
// answering with X-Event-Position once the read model shows them, reads from
// the read model only.
type Module struct{}

var _ app.Module = Module{}

// TallyBody is the body of the create and rename operations.
type TallyBody struct {
	Name string `json:"name" binding:"required,max=64"`
}

// IncrementBody is the body of the increment operation.
type IncrementBody struct {
	By int64 `json:"by" binding:"required,gte=1"`
}

// TallyRead is a tally as the read model shows it.
type TallyRead struct {
	ID         uuid.UUID `json:"id"`
	Name       string    `json:"name"`
	Total      int64     `json:"total"`
	Increments int       `json:"increments"`
	Version    int64     `json:"version"`
	CreatedBy  int64     `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Register implements app.Module.
func (Module) Register(reg *eventstore.Registry) error { return testkit.RegisterTally(reg) }

// Projections implements app.Module.
func (Module) Projections() []*projections.Projection {
	return []*projections.Projection{testkit.TallyProjection()}
}

// Routes implements app.Module.
func (Module) Routes(s *httpapi.Server, d app.Deps) {
	h := &tallyHandlers{s: s, repo: d.Repository, pool: d.Pool, clock: d.Clock}
	const base = "/api/v1/_test/tallies"
	models := []string{"tallies"}
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: base, Tag: "Test", Summary: "Open Tally",
		Body: TallyBody{}, Response: TallyRead{}, Status: http.StatusCreated, ReadModels: models, Access: access.SignedIn(), Handler: h.create})
	s.Handle(httpapi.Operation{Method: http.MethodGet, Path: base + "/{tally_id}", Tag: "Test", Summary: "Read Tally",
		Response: TallyRead{}, ReadModels: models, Access: access.SignedIn(), Handler: h.read})
	s.Handle(httpapi.Operation{Method: http.MethodPost, Path: base + "/{tally_id}/increment", Tag: "Test",
		Summary: "Increment Tally", Body: IncrementBody{}, Response: TallyRead{}, ReadModels: models, Access: access.SignedIn(), Handler: h.increment})
}

type tallyHandlers struct {
	s     *httpapi.Server
	repo  *commands.Repository
	pool  *pgxpool.Pool
	clock func() time.Time
}

func (h *tallyHandlers) create(c *gin.Context) {
	var body TallyBody
	if !httpapi.BindJSON(c, &body) {
		return
	}
	id := uuid.New()
	tally, err := testkit.OpenTally(id, body.Name)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.save(c, tally, http.StatusCreated)
}

func (h *tallyHandlers) increment(c *gin.Context) {
	id, ok := httpapi.PathUUID(c, "tally_id")
	if !ok {
		return
	}
	var body IncrementBody
	if !httpapi.BindJSON(c, &body) {
		return
	}
	tally := testkit.LoadTally(id)
	if err := h.repo.Load(c.Request.Context(), tally); err != nil {
		httpapi.Fail(c, err)
		return
	}
	if err := tally.Increment(body.By); err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.save(c, tally, http.StatusOK)
}

func (h *tallyHandlers) save(c *gin.Context, tally *testkit.Tally, status int) {
	res, err := h.repo.Save(c.Request.Context(), tally, httpapi.Metadata(c, h.clock()))
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	h.s.Written(c, res.Last())
	row, err := readTally(c.Request.Context(), h.pool, tally.ID())
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(status, row)
}

func (h *tallyHandlers) read(c *gin.Context) {
	id, ok := httpapi.PathUUID(c, "tally_id")
	if !ok {
		return
	}
	row, err := readTally(c.Request.Context(), h.pool, id)
	if err != nil {
		httpapi.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, row)
}

func readTally(ctx context.Context, pool *pgxpool.Pool, id uuid.UUID) (TallyRead, error) {
	rows, _ := pool.Query(ctx, `SELECT id, name, total, increments, version, created_by, created_at, updated_at
FROM tallies WHERE id = $1`, id)
	row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[TallyRead])
	if errors.Is(err, pgx.ErrNoRows) {
		return row, domain.NotFoundf("Tally not found")
	}
	return row, err
}
