package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/tenancy"
)

// Who may run a flow: its owner, or a holder of flows.run where it lives
// (a developer of its tenant). A viewer of the tenant may read it but not
// run it (403); a user of another tenant, or of none, learns nothing of
// it (404, as for a flow that does not exist). A job's events and cancel
// follow the same rule: others get Langflow's 404 for an unknown job.
func TestBuild_Authorization(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	root := s.root.token
	tenant := func(name string) string {
		r := s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": name}, root)
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		return r.obj(t)["tenant_id"].(string)
	}
	a, b := tenant("Run A"), tenant("Run B")
	dev := s.newUser(t, "rt_dev", rtPassword)
	viewer := s.newUser(t, "rt_viewer", rtPassword)
	adminB := s.newUser(t, "rt_admin_b", rtPassword)
	stranger := s.newUser(t, "rt_stranger", rtPassword)
	s.grantRole(t, root, a, dev.id, "developer")
	s.grantRole(t, root, a, viewer.id, "viewer")
	s.grantRole(t, root, b, adminB.id, "tenant_admin")

	flow := s.flow(t, root, rtBasic(false), map[string]any{"tenant_id": a})
	missing := uuid.NewString()
	notFound := func(id string) string { return "Flow with id " + id + " not found" }
	as := func(token, tenantHeader string) http.Header {
		h := bearer(token)
		if tenantHeader != "" {
			h.Set(tenancy.HeaderTenantID, tenantHeader)
		}
		return h
	}
	post := func(token, tenantHeader, id string) reply {
		return s.do(t, http.MethodPost, "/api/v1/build/"+id+"/flow", inputs("hi", ""), as(token, tenantHeader))
	}

	// The developer of A runs it, naming A or not, and reads and cancels
	// its job.
	for _, header := range []string{"", a} {
		r := post(dev.token, header, flow)
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	job := s.job(t, dev.token, flow, inputs("hi", ""))
	ev := s.events(t, dev.token, job, "")
	require.Equal(t, http.StatusOK, ev.status, ev.raw)
	assert.Equal(t, "end", names(t, frames(t, ev.raw))[len(frames(t, ev.raw))-1])
	c := s.call(t, http.MethodPost, "/api/v1/build/"+job+"/cancel", nil, dev.token)
	require.Equal(t, http.StatusOK, c.status, c.raw)
	assert.Equal(t, map[string]any{"success": true, "message": "Flow build cancelled successfully"}, c.body)

	// The viewer of A reads the flow but may not run it.
	r := post(viewer.token, "", flow)
	requireForbidden(t, r, "viewer")
	assert.Contains(t, r.detail(), "flows.run")
	requireForbidden(t, post(viewer.token, a, flow), "viewer naming A")

	// The admin of B and a user without roles learn nothing: 404 as for
	// a flow that does not exist (naming A, the enforcer refuses first).
	for _, who := range []caller{adminB, stranger} {
		requireDetail(t, post(who.token, "", flow), http.StatusNotFound, notFound(flow), who.name)
		requireDetail(t, post(who.token, "", missing), http.StatusNotFound, notFound(missing), who.name)
		requireForbidden(t, post(who.token, a, flow), who.name+" naming A")
	}
	requireDetail(t, post(adminB.token, b, flow), http.StatusNotFound, notFound(flow), "naming B")

	// Nobody but the job's people reads or cancels it.
	jobNotFound := "Job not found: Job queue not found for job_id: " + job
	for _, who := range []caller{viewer, adminB, stranger} {
		requireDetail(t, s.events(t, who.token, job, ""), http.StatusNotFound, jobNotFound, who.name)
		requireDetail(t, s.events(t, who.token, job, "polling"), http.StatusNotFound, jobNotFound, who.name)
		requireDetail(t, s.call(t, http.MethodPost, "/api/v1/build/"+job+"/cancel", nil, who.token), http.StatusNotFound, jobNotFound, who.name)
	}
	// The flow's owner does (and a superuser).
	assert.Equal(t, http.StatusOK, s.events(t, root, job, "polling").status)

	// A personal flow of the developer: its owner only.
	own := s.flow(t, dev.token, rtBasic(false), nil)
	require.Equal(t, http.StatusOK, post(dev.token, "", own).status)
	requireDetail(t, post(stranger.token, "", own), http.StatusNotFound, notFound(own))
	requireDetail(t, post(viewer.token, "", own), http.StatusNotFound, notFound(own))

	// Unknown, malformed and deleted.
	unknownJob := uuid.NewString()
	requireDetail(t, s.events(t, root, unknownJob, ""), http.StatusNotFound, "Job not found: Job queue not found for job_id: "+unknownJob)
	requireDetail(t, s.events(t, root, "not-a-job", "polling"), http.StatusNotFound, "Job not found: Job queue not found for job_id: not-a-job")
	requireDetail(t, s.call(t, http.MethodPost, "/api/v1/build/"+unknownJob+"/cancel", nil, root), http.StatusNotFound,
		"Job not found: Job queue not found for job_id: "+unknownJob)
	assert.Equal(t, http.StatusUnprocessableEntity, post(root, "", "not-a-uuid").status)
	gone := s.flow(t, root, rtBasic(false), nil)
	require.Equal(t, http.StatusOK, s.call(t, http.MethodDelete, "/api/v1/flows/"+gone, nil, root).status)
	requireDetail(t, post(root, "", gone), http.StatusNotFound, notFound(gone))

	// Bad requests.
	extra := s.build(t, root, flow, "", map[string]any{"inputs": map[string]any{"input_value": "x", "nope": 1}})
	require.Equal(t, http.StatusUnprocessableEntity, extra.status, extra.raw)
	assert.Contains(t, extra.raw, `"extra_forbidden"`)
	assert.Contains(t, extra.raw, `["body","inputs","nope"]`)
	assert.Equal(t, http.StatusUnprocessableEntity, s.build(t, root, flow, "event_delivery=carrier", nil).status)
	assert.Equal(t, http.StatusUnprocessableEntity, s.build(t, root, flow, "", map[string]any{"data": map[string]any{"nodes": []any{}}}).status,
		"data needs nodes and edges")
	assert.Equal(t, http.StatusOK, s.build(t, root, flow, "", nil).status, "no body at all")
}

// A public flow runs for an anonymous client named by its client_id
// cookie, as the flow's owner, recorded under the client's virtual flow
// id; only that client (and the flow's people) read its jobs.
func TestBuild_PublicFlow(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, nil, "")
	root := s.root.token
	pub := s.flow(t, root, rtBasic(false), map[string]any{"access_type": "PUBLIC"})
	private := s.flow(t, root, rtBasic(false), nil)
	cookie := func(id string) http.Header { return http.Header{"Cookie": {"client_id=" + id}} }
	post := func(flow string, h http.Header, body any) reply {
		return s.do(t, http.MethodPost, "/api/v1/build_public_tmp/"+flow+"/flow", body, h)
	}

	requireDetail(t, post(pub, nil, nil), http.StatusBadRequest, "No client_id cookie found")
	requireDetail(t, post(private, cookie("visitor-1"), nil), http.StatusForbidden, "Flow is not public")
	requireDetail(t, post(uuid.NewString(), cookie("visitor-1"), nil), http.StatusForbidden, "Flow is not public")

	// A graph in the body is ignored: the stored flow runs.
	evil := inputs("hello", "")
	evil["data"] = rtFlowData([]rtNode{node("ChatInput-EVIL:ChatInput", nil)})
	r := post(pub, cookie("visitor-1"), evil)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	job := r.obj(t)["job_id"].(string)
	ev := s.do(t, http.MethodGet, "/api/v1/build_public_tmp/"+job+"/events", nil, cookie("visitor-1"))
	require.Equal(t, http.StatusOK, ev.status, ev.raw)
	fs := frames(t, ev.raw)
	assert.Equal(t, "end", names(t, fs)[len(fs)-1])
	assert.NotContains(t, ev.raw, "ChatInput-EVIL")
	virtual := uuid.NewSHA1(uuid.NameSpaceDNS, []byte("visitor-1_"+pub)).String()
	assert.Contains(t, fs[1], `"session_id": "`+virtual+`"`, "the session defaults to the virtual flow id")
	assert.Contains(t, fs[1], `"flow_id": "`+virtual+`"`)
	recs, _ := s.runEvents(t, job)
	require.NotEmpty(t, recs)
	for _, rec := range recs {
		assert.NotContains(t, string(rec.Data), "visitor-1", "%s: the client_id cookie is never stored", rec.Type)
	}

	// Another client, no client, a signed-in stranger: not found.
	notFound := "Job not found: Job queue not found for job_id: " + job
	requireDetail(t, s.do(t, http.MethodGet, "/api/v1/build_public_tmp/"+job+"/events", nil, cookie("visitor-2")), http.StatusNotFound, notFound)
	requireDetail(t, s.do(t, http.MethodGet, "/api/v1/build_public_tmp/"+job+"/events", nil, nil), http.StatusBadRequest, "No client_id cookie found")
	requireDetail(t, s.do(t, http.MethodPost, "/api/v1/build_public_tmp/"+job+"/cancel", nil, cookie("visitor-2")), http.StatusNotFound, notFound)
	stranger := s.newUser(t, "rt_pub_stranger", rtPassword)
	requireDetail(t, s.events(t, stranger.token, job, ""), http.StatusNotFound, notFound)
	// The flow's owner reads it through the signed-in route.
	owner := s.events(t, root, job, "")
	require.Equal(t, http.StatusOK, owner.status)
	assert.Equal(t, ev.raw, owner.raw)
	c := s.do(t, http.MethodPost, "/api/v1/build_public_tmp/"+job+"/cancel", nil, cookie("visitor-1"))
	require.Equal(t, http.StatusOK, c.status, c.raw)
	assert.Equal(t, true, c.obj(t)["success"])

	// The owner's monitor shows the visitor's chat under the virtual id.
	msgs := s.do(t, http.MethodGet, "/api/v1/monitor/messages", nil, http.Header{"Authorization": {"Bearer " + root},
		"X-Min-Position": {s.head(t).String()}})
	require.Equal(t, http.StatusOK, msgs.status, msgs.raw)
	found := 0
	for _, m := range msgs.objects(t) {
		if m["flow_id"] == virtual {
			found++
		}
	}
	assert.Equal(t, 2, found, msgs.raw)

	// direct delivery answers the events themselves.
	d := s.do(t, http.MethodPost, "/api/v1/build_public_tmp/"+pub+"/flow?event_delivery=direct", inputs("hi", ""), cookie("visitor-3"))
	require.Equal(t, http.StatusOK, d.status)
	assert.True(t, strings.HasSuffix(d.raw, "{\"event\": \"end\", \"data\": {}}\n\n"))
}

// The jobs of a user running at once are bounded (429 with Retry-After
// beyond); a finished job frees its slot.
func TestBuild_ConcurrencyLimit(t *testing.T) {
	t.Parallel()
	s := rtStart(t, false, map[string]string{"SKILLFLAW_RUN_MAX_CONCURRENT_PER_USER": "1"}, "")
	flow := s.flow(t, s.root.token, rtGated("TGate-L1"), nil)
	job := s.job(t, s.root.token, flow, inputs("hi", ""))
	s.gate.waitStarted(t, "TGate-L1")
	r := s.build(t, s.root.token, flow, "", inputs("again", ""))
	require.Equal(t, http.StatusTooManyRequests, r.status, r.raw)
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	assert.Contains(t, r.detail(), "at most 1")
	other := s.newUser(t, "rt_other", rtPassword)
	mine := s.flow(t, other.token, rtBasic(false), nil)
	assert.Equal(t, http.StatusOK, s.build(t, other.token, mine, "", nil).status, "another user's slots")

	s.gate.open("TGate-L1")
	ev := s.events(t, s.root.token, job, "")
	fs := frames(t, ev.raw)
	require.Equal(t, "end", names(t, fs)[len(fs)-1])
	require.Eventually(t, func() bool {
		return s.build(t, s.root.token, flow, "", nil).status == http.StatusOK
	}, 10*time.Second, 10*time.Millisecond, "the slot is free once the job ended")
}
