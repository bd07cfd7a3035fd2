package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/blob"
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/engine/components"
	"github.com/skillflaw/skillflaw-go/runs"
)

// Sub-flows and uploaded files in runs, through the run API: the Run
// Flow component over runs.Service.RunFlow and the File component over
// runs.Files, wired as app/runs.go is to wire them.

// lateFiles is the Files port of a store made once the App is open.
type lateFiles struct{ files engine.Files }

func (l *lateFiles) Read(ctx context.Context, run engine.RunInfo, path string, limit int64) (string, []byte, error) {
	return l.files.Read(ctx, run, path, limit)
}

// withComponents is comps with extra (replacing those of the same type).
func withComponents(comps []engine.Component, extra ...engine.Component) []engine.Component {
	var out []engine.Component
	for _, c := range comps {
		keep := true
		for _, x := range extra {
			if x.Spec().Type == c.Spec().Type {
				keep = false
			}
		}
		if keep {
			out = append(out, c)
		}
	}
	return append(out, extra...)
}

// subStart serves the runs and files modules with sub-flows and files
// wired.
func subStart(t *testing.T) (*fileServer, *rtServer) {
	t.Helper()
	storage := t.TempDir()
	r := &app.Runs{Components: withComponents(components.All(), components.RunFlow{}, components.File{})}
	files := &lateFiles{}
	r.Env = engine.Env{Files: files, Flows: engine.SubFlowsFunc(
		func(ctx context.Context, run engine.RunInfo, req engine.SubFlowRequest) (*engine.SubFlowResult, error) {
			return r.Service().RunFlow(ctx, run, req)
		})}
	env := adminEnv(rtRoot, rtPassword)
	env["SKILLFLAW_STORAGE_DIR"] = storage
	mods := []app.Module{&app.Identity{}, app.Tenants{}, app.Flows{}, app.Projects{}, app.Files{}, app.Businesses{},
		app.Permissions{}, app.TenantGrants{}, app.Messages{}, r, &app.Audit{}}
	h := startApp(t, options{env: env, modules: mods})
	blobs, err := blob.NewLocal(h.app.Deps().Config.FileStorageDir())
	require.NoError(t, err)
	files.files = runs.Files{Pool: h.app.Pool(), Blobs: blobs}
	return &fileServer{harness: h, storage: storage}, &rtServer{harness: h, runs: r, root: h.signIn(t, rtRoot, rtPassword)}
}

// echoFlow is ChatInput → ChatOutput.
func echoFlow() map[string]any {
	return rtFlowData([]rtNode{node("ChatInput-A:ChatInput", nil), node("ChatOutput-B:ChatOutput", nil)},
		"ChatInput-A.message>ChatOutput-B.input_value")
}

// runFlowData is ChatInput → Run Flow (of flow) → ChatOutput.
func runFlowData(flow string) map[string]any {
	return rtFlowData([]rtNode{node("ChatInput-A:ChatInput", nil), node("RunFlow-R:RunFlow", map[string]any{"flow_name_selected": flow}),
		node("ChatOutput-B:ChatOutput", nil)},
		"ChatInput-A.message>RunFlow-R.input_value", "RunFlow-R.message>ChatOutput-B.input_value")
}

// fileFlowData is File (of paths) → ChatOutput.
func fileFlowData(paths ...string) map[string]any {
	list := make([]any, len(paths))
	for i, p := range paths {
		list[i] = p
	}
	return rtFlowData([]rtNode{node("File-F:File", map[string]any{"path": list}), node("ChatOutput-B:ChatOutput", nil)},
		"File-F.message>ChatOutput-B.input_value")
}

// eventuallyRuns waits until the runs read model holds n runs of flow.
func (s *fileServer) eventuallyRuns(t *testing.T, flow string, n int, msg string) {
	t.Helper()
	var got int
	assert.Eventually(t, func() bool {
		err := s.app.Pool().QueryRow(context.Background(), `SELECT count(*) FROM runs WHERE flow_id = $1`, flow).Scan(&got)
		return err == nil && got == n
	}, 10*time.Second, 20*time.Millisecond, "%s (%d runs)", msg, got)
}

func TestSubFlow_RunFlowAndFiles(t *testing.T) {
	t.Parallel()
	fs, s := subStart(t)
	root := s.root
	rootKey := s.apiKey(t, root.token)
	eve := s.newUser(t, "eve", "eve-password-1")
	eveKey := s.apiKey(t, eve.token)
	hi := map[string]any{"input_value": "hi there"}

	t.Run("runs_another_flow_by_name_and_by_id", func(t *testing.T) {
		childName := "child " + uuid.NewString()[:8]
		child := s.flow(t, root.token, echoFlow(), map[string]any{"name": childName})
		parent := s.flow(t, root.token, runFlowData(childName), nil)
		assert.Equal(t, "hi there", answerOf(t, s.run(t, rootKey, "/api/v1/run/"+parent, hi)))
		byID := s.flow(t, root.token, runFlowData(child), nil)
		assert.Equal(t, "hi there", answerOf(t, s.run(t, rootKey, "/api/v1/run/"+byID, hi)))
		fs.eventuallyRuns(t, child, 2, "each sub-flow run is recorded as a run of the child flow")
	})

	t.Run("only_flows_the_user_may_run", func(t *testing.T) {
		child := s.flow(t, root.token, echoFlow(), nil)
		parent := s.flow(t, eve.token, runFlowData(child), nil)
		r := s.run(t, eveKey, "/api/v1/run/"+parent, hi)
		assert.NotEqual(t, http.StatusOK, r.status)
		assert.Contains(t, r.raw, "Flow identifier "+child+" not found", "another user's flow does not exist for eve")
	})

	t.Run("depth_limit", func(t *testing.T) {
		name := "self " + uuid.NewString()[:8]
		self := s.flow(t, root.token, runFlowData(name), map[string]any{"name": name})
		r := s.run(t, rootKey, "/api/v1/run/"+self, hi)
		assert.NotEqual(t, http.StatusOK, r.status)
		assert.Contains(t, r.raw, "at most 5 levels deep", r.raw)
		fs.eventuallyRuns(t, self, 6, "the run and five sub-flows ran; the sixth was refused")
	})

	t.Run("reads_uploaded_files_the_user_may_read", func(t *testing.T) {
		flow := s.flow(t, root.token, echoFlow(), nil)
		up := fs.fileMultipart(t, "/api/v1/files/upload/"+flow, root.token, filePart{field: "file", filename: "notes.md", content: []byte("# Notes")})
		require.Equal(t, http.StatusCreated, up.status, up.raw)
		flowFile := up.obj(t)["file_path"].(string)
		userFile := fs.fileUploadOK(t, root.token, "todo.txt", []byte("buy milk"))["path"].(string)

		reader := s.flow(t, root.token, fileFlowData(flowFile, userFile), nil)
		assert.Equal(t, "# Notes\n\nbuy milk", answerOf(t, s.run(t, rootKey, "/api/v1/run/"+reader, nil)))

		for _, p := range []string{flowFile, userFile, "../../etc/passwd.txt", "/etc/hostname.txt"} {
			theirs := s.flow(t, eve.token, fileFlowData(p), nil)
			r := s.run(t, eveKey, "/api/v1/run/"+theirs, nil)
			assert.NotEqual(t, http.StatusOK, r.status, p)
			assert.True(t, strings.Contains(r.raw, "file not found"), "%s: %s", p, r.raw)
		}
	})

	t.Run("tenant_privileges", func(t *testing.T) {
		r := s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Sub-flows A"}, root.token)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		a := r.obj(t)["tenant_id"].(string)
		dev := s.newUser(t, "sub-dev", "sub-password-1")
		viewer := s.newUser(t, "sub-viewer", "sub-password-1")
		s.grantRole(t, root.token, a, dev.id, "developer")
		s.grantRole(t, root.token, a, viewer.id, "viewer")
		child := s.flow(t, root.token, echoFlow(), map[string]any{"tenant_id": a})
		up := fs.fileMultipart(t, "/api/v1/files/upload/"+child, root.token, filePart{field: "file", filename: "a.txt", content: []byte("tenant file")})
		require.Equal(t, http.StatusCreated, up.status, up.raw)
		file := up.obj(t)["file_path"].(string)

		devKey := s.apiKey(t, dev.token)
		assert.Equal(t, "hi there", answerOf(t, s.run(t, devKey, "/api/v1/run/"+s.flow(t, dev.token, runFlowData(child), nil), hi)),
			"flows.run where the flow lives runs it")
		assert.Equal(t, "tenant file", answerOf(t, s.run(t, devKey, "/api/v1/run/"+s.flow(t, dev.token, fileFlowData(file), nil), nil)),
			"files.read where the flow lives reads its files")

		viewerKey := s.apiKey(t, viewer.token)
		r = s.run(t, viewerKey, "/api/v1/run/"+s.flow(t, viewer.token, runFlowData(child), nil), hi)
		assert.NotEqual(t, http.StatusOK, r.status)
		assert.Contains(t, r.raw, "You do not have permission to run this flow", "a viewer reads the flow but may not run it")
		assert.Equal(t, "tenant file", answerOf(t, s.run(t, viewerKey, "/api/v1/run/"+s.flow(t, viewer.token, fileFlowData(file), nil), nil)),
			"a viewer may download the file, so a run of theirs may read it")
		r = s.run(t, eveKey, "/api/v1/run/"+s.flow(t, eve.token, fileFlowData(file), nil), nil)
		assert.Contains(t, r.raw, "file not found", "a stranger may not")
	})
}
