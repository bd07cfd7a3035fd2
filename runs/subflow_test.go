package runs

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// chain returns a service whose jobs are n sub-flow runs, each asked for
// by the one before, and the id of the last (the deepest).
func chain(n int) (*Service, string) {
	s := &Service{jobs: map[uuid.UUID]*job{}}
	parent := ""
	for i := 0; i <= n; i++ {
		id := uuid.New()
		j := &job{id: id}
		if parent != "" {
			j.cmd.Metadata = eventstore.Metadata{CausationID: subFlowCause + parent}
		}
		s.jobs[id] = j
		parent = id.String()
	}
	return s, parent
}

func TestService_SubFlowDepth(t *testing.T) {
	t.Parallel()
	for n := 0; n <= engine.MaxSubFlowDepth; n++ {
		s, last := chain(n)
		assert.Equal(t, n, s.subFlowDepth(last), "a run %d sub-flows down", n)
	}
	s, _ := chain(2)
	assert.Equal(t, 0, s.subFlowDepth(uuid.NewString()), "a run of another process (or gone) counts as a top run")
	assert.Equal(t, 0, s.subFlowDepth("not a uuid"))
}

func TestService_RunFlowRefusesPastTheDepthLimit(t *testing.T) {
	t.Parallel()
	// The run asking is MaxSubFlowDepth levels down: the flow it asks for
	// would be one deeper. Refused before anything is read or started.
	s, last := chain(engine.MaxSubFlowDepth)
	_, err := s.RunFlow(context.Background(), engine.RunInfo{RunID: last, UserID: 1}, engine.SubFlowRequest{Flow: "x"})
	var depthErr *engine.SubFlowDepthError
	require.True(t, errors.As(err, &depthErr), "%v", err)
	assert.Contains(t, err.Error(), "at most 5 levels deep")

	// The depth the context carries counts too (a sub-flow run in process).
	s, _ = chain(0)
	ctx := engine.WithSubFlowDepth(context.Background(), engine.MaxSubFlowDepth+1)
	_, err = s.RunFlow(ctx, engine.RunInfo{RunID: uuid.NewString(), UserID: 1}, engine.SubFlowRequest{Flow: "x"})
	require.True(t, errors.As(err, &depthErr), "%v", err)

	_, err = s.RunFlow(context.Background(), engine.RunInfo{RunID: uuid.NewString()}, engine.SubFlowRequest{Flow: "x"})
	assert.ErrorContains(t, err, "no user to run another flow as")
}

func TestFiles_PathsThatNameNoUploadedFile(t *testing.T) {
	t.Parallel()
	// Refused before the database is asked (Files has none here).
	f := Files{}
	run := engine.RunInfo{UserID: 7}
	for _, p := range []string{"", "notes.txt", "/etc/passwd", "../7/notes.txt", "8/notes.txt", "7/", "7/../../etc/passwd",
		"7/a/b.txt", "flows/x.txt", "not-a-uuid/x.txt"} {
		_, _, err := f.Read(context.Background(), run, p, 100)
		assert.ErrorIs(t, err, engine.ErrFileNotFound, "%q", p)
	}
	_, _, err := f.Read(context.Background(), engine.RunInfo{}, "0/x.txt", 100)
	assert.ErrorIs(t, err, engine.ErrFileNotFound, "a run without a user reads nothing")
}
