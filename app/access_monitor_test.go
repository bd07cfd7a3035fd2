package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
)

// TestAccessMonitor: a flow placed in tenant A by a developer of A (not
// the superuser), with chats and a run recorded through the command API
// as the flow engine will. The viewer of A reads its messages, sessions,
// builds and transactions (Get Messages with flow_id, naming A or no
// tenant); the tenant admin of B gets none of them (an empty list, 404,
// or 403 when it names A) and cannot delete them. The public chat's
// messages (#3): 404 unless the flow is PUBLIC; in A's public flow each
// caller reads only the messages of its own chat sessions.
func TestAccessMonitor(t *testing.T) {
	t.Parallel()
	w := accStart(t, options{})
	cmds := app.MessagesCommands(w.app.Deps())
	ctx := context.Background()
	now := time.Now().UTC()

	tenant := func(name string) string {
		r := w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": name}, "")
		return r.obj(t)["tenant_id"].(string)
	}
	A, B := tenant("monitor tenant A"), tenant("monitor tenant B")
	user := func(name, tenant, role string) caller {
		u := w.newUser(t, name, accPassword)
		w.su(t, http.StatusCreated, http.MethodPost, "/api/v1/tenants/user-roles", map[string]any{"tenant_id": tenant, "uid": u.id, "role_id": role}, "")
		return u
	}
	owner, viewer, member := user("mon_owner", A, "developer"), user("mon_viewer", A, "viewer"), user("mon_member_b", B, "tenant_admin")
	flow := func(name, accessType string) string {
		body := map[string]any{"name": name, "tenant_id": A}
		if accessType != "" {
			body["access_type"] = accessType
		}
		r := w.as(t, owner.token, http.StatusCreated, http.MethodPost, "/api/v1/flows/", body, "")
		require.Equal(t, A, r.obj(t)["tenant_id"], r.raw)
		return r.obj(t)["id"].(string)
	}
	private, public := flow("monitored flow", ""), flow("public flow", domain.AccessPublic)
	say := func(u caller, flow, session, text string) int64 {
		f := uuid.MustParse(flow)
		res, err := cmds.RecordMessage(ctx, msgMD(u.id, now), commands.NewMessage{
			SessionKey: commands.SessionKey{FlowID: &f, SessionID: session}, UserID: u.id,
			Fields: domain.MessageFields{Sender: "User", SenderName: u.name, Text: text}})
		require.NoError(t, err)
		return res.ID
	}
	first := say(owner, private, "owner-session", "hello from the owner")
	second := say(owner, private, "owner-session", "second from the owner")
	f := uuid.MustParse(private)
	_, _, err := cmds.RecordVertexBuild(ctx, msgMD(owner.id, now), domain.VertexBuildRecorded{FlowID: f, VertexID: "ChatInput-1", Valid: true})
	require.NoError(t, err)
	_, _, err = cmds.RecordTransaction(ctx, msgMD(owner.id, now), domain.TransactionRecorded{FlowID: f, VertexID: "ChatInput-1", Status: "success"})
	require.NoError(t, err)
	say(owner, public, "owner-public-session", "the owner in the public chat")
	say(member, public, "client-session-of-b", "the member of B in the public chat")
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, w.app.Runtime().WaitFor(waitCtx, w.head(t)))

	get := func(u caller, want int, path, tenant string) reply {
		t.Helper()
		return w.as(t, u.token, want, http.MethodGet, path, nil, tenant)
	}
	messages := "/api/v1/monitor/messages?flow_id=" + private
	ownerTexts := []string{"hello from the owner", "second from the owner"}

	// The viewer of A reads the monitor of another user's flow in A.
	for _, named := range []string{A, ""} {
		require.Equal(t, ownerTexts, msgTexts(get(viewer, http.StatusOK, messages, named).objects(t)), "naming %q", named)
		sessions := get(viewer, http.StatusOK, "/api/v1/monitor/messages/sessions?flow_id="+private, named).objects(t)
		require.Len(t, sessions, 1)
		require.Equal(t, "owner-session", sessions[0]["session_id"])
		builds := get(viewer, http.StatusOK, "/api/v1/monitor/builds?flow_id="+private, named).obj(t)
		require.Contains(t, builds["vertex_builds"], "ChatInput-1")
		require.EqualValues(t, 1, get(viewer, http.StatusOK, "/api/v1/monitor/transactions?flow_id="+private, named).obj(t)["total"])
	}
	// Without flow_id, Get Messages lists the caller's own flows' only.
	require.Empty(t, get(viewer, http.StatusOK, "/api/v1/monitor/messages", "").list(t))
	// The viewer reads, it does not delete.
	requireForbidden(t, w.as(t, viewer.token, http.StatusForbidden, http.MethodDelete, "/api/v1/monitor/messages", []int64{first}, A))
	require.Equal(t, map[string]any{"detail": []any{}},
		w.as(t, viewer.token, http.StatusOK, http.MethodDelete, "/api/v1/monitor/messages", []int64{first}, "").obj(t))

	// The member of B gets none of it, whatever tenant it names.
	for _, named := range []string{"", B} {
		require.Empty(t, get(member, http.StatusOK, messages, named).list(t), "naming %q", named)
		require.Empty(t, get(member, http.StatusOK, "/api/v1/monitor/messages/sessions?flow_id="+private, named).list(t))
		require.Empty(t, get(member, http.StatusOK, "/api/v1/monitor/messages", named).list(t))
		require.Empty(t, get(member, http.StatusOK, "/api/v1/monitor/messages?flow_id="+public, named).list(t),
			"the monitor of A's public flow is its owner's")
		get(member, http.StatusNotFound, "/api/v1/monitor/builds?flow_id="+private, named)
		get(member, http.StatusNotFound, "/api/v1/monitor/transactions?flow_id="+private, named)
		require.Equal(t, map[string]any{"detail": []any{}},
			w.as(t, member.token, http.StatusOK, http.MethodDelete, "/api/v1/monitor/messages", []int64{first, second}, named).obj(t))
		w.as(t, member.token, http.StatusNotFound, http.MethodPut, "/api/v1/monitor/messages/"+msgItoa(first), map[string]any{"text": "b"}, named)
		w.as(t, member.token, http.StatusNotFound, http.MethodDelete, "/api/v1/monitor/builds?flow_id="+private, nil, named)
	}
	requireForbidden(t, get(member, http.StatusForbidden, messages, A))
	require.Equal(t, ownerTexts, msgTexts(get(viewer, http.StatusOK, messages, "").objects(t)), "nothing was removed or changed")

	// #3: only a PUBLIC flow, only the caller's own chat sessions.
	chat := func(flow string) string { return "/api/v1/build_public_tmp/" + flow + "/messages" }
	require.Equal(t, []string{"the member of B in the public chat"}, msgTexts(get(member, http.StatusOK, chat(public), "").objects(t)))
	require.Equal(t, []string{"the owner in the public chat"}, msgTexts(get(owner, http.StatusOK, chat(public), "").objects(t)))
	require.Empty(t, get(viewer, http.StatusOK, chat(public), A).list(t))
	for _, u := range []caller{member, viewer, owner} {
		requireDetail(t, get(u, http.StatusNotFound, chat(private), ""), http.StatusNotFound, "Flow not found", u.name)
	}
	r := w.call(t, http.MethodGet, chat(public), nil, "")
	require.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, r.status, r.raw)
}
