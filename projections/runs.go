package projections

import (
	"context"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// RunsName is the name of the runs projection.
const RunsName = "runs"

// Runs builds the runs read model: one row per run of a flow, running
// until it finished, failed or was cancelled.
func Runs() *Projection {
	p := New(RunsName, "runs")
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.RunStarted) error {
		// The sealed task of a queued run (e.Task) is not copied: the
		// re-publish sweep reads it from the log.
		tx.Queue(`INSERT INTO runs (run_id, flow_id, user_id, owner_id, tenant_id, business_id, public, instance, status, started_at, queued)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'running', $9, $10)`,
			e.RunID, e.FlowID, e.UserID, e.OwnerID, e.TenantID, e.BusinessID, e.Public, e.Instance, rec.Metadata.OccurredAt, e.Queued)
		return nil
	})
	end := func(tx *Tx, rec eventstore.RecordedEvent, status string, reason *string) {
		tx.Queue(`UPDATE runs SET status = $2, error = $3, ended_at = $4 WHERE run_id = $1`,
			runID(rec.StreamID), status, reason, rec.Metadata.OccurredAt)
	}
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, _ domain.RunFinished) error {
		end(tx, rec, "finished", nil)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.RunFailed) error {
		end(tx, rec, "failed", &e.Error)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.RunCancelled) error {
		end(tx, rec, "cancelled", &e.Reason)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.RunClaimed) error {
		// The process running a queued run is its claimer: the sweep and
		// the monitor ask after that one.
		tx.Queue(`UPDATE runs SET instance = $2, claimed = true WHERE run_id = $1`, runID(rec.StreamID), e.Instance)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, _ domain.RunReleased) error {
		// Handed back: unclaimed again (the instance stays the last
		// claimer's, for whoever asks who had it).
		tx.Queue(`UPDATE runs SET claimed = false WHERE run_id = $1`, runID(rec.StreamID))
		return nil
	})
	return p
}

// runID is the run id of a run's stream name (run-<uuid>).
func runID(stream string) string { return stream[len("run-"):] }
