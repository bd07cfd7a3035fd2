package app_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
)

var msgT0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestMessages_FiltersAndOrdering(t *testing.T) {
	t.Parallel()
	s := msgStart(t)
	alice := s.msgUser(t, "alice")
	f1, f2 := s.msgFlow(t, alice, "One", ""), s.msgFlow(t, alice, "Two", "")
	// Recorded out of time order: ids follow recording, timestamps do not.
	a := s.msgRecord(t, alice.id, f1, "s1", "User", "c", msgT0.Add(3*time.Second))
	b := s.msgRecord(t, alice.id, f1, "s1", "Machine", "a", msgT0.Add(1*time.Second))
	c := s.msgRecord(t, alice.id, f1, "s 2/x", "User", "b", msgT0.Add(2*time.Second))
	d := s.msgRecord(t, alice.id, f2, "s1", "User", "d", msgT0)

	all := s.msgGet(t, alice, nil)
	assert.Equal(t, []int64{a, b, c, d}, msgIDs(all), "default order_by is id")
	keys := make([]string, 0, len(all[0]))
	for k := range all[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	assert.Equal(t, []string{"category", "content_blocks", "context_id", "edit", "end_time", "error", "files", "flow_id",
		"flow_version", "id", "ip_address", "properties", "sender", "sender_name", "session_id", "start_time", "tenant_id",
		"text", "timestamp"}, keys)
	m := all[0]
	assert.Equal(t, "message", m["category"])
	assert.Equal(t, []any{}, m["files"])
	assert.Equal(t, map[string]any{}, m["properties"])
	assert.Equal(t, []any{}, m["content_blocks"])
	assert.Equal(t, f1.String(), m["flow_id"])
	assert.Equal(t, "User name", m["sender_name"])
	assert.Equal(t, msgT0.Add(3*time.Second).Format(time.RFC3339), m["timestamp"])
	assert.Nil(t, m["tenant_id"], "a personal flow has no tenant (as Read Flow shows it)")

	assert.Equal(t, []int64{d, b, c, a}, msgIDs(s.msgGet(t, alice, url.Values{"order_by": {"timestamp"}})))
	assert.Equal(t, []string{"a", "b", "c", "d"}, msgTexts(s.msgGet(t, alice, url.Values{"order_by": {"text"}})))
	assert.Equal(t, []int64{a, b, c}, msgIDs(s.msgGet(t, alice, url.Values{"flow_id": {f1.String()}})))
	assert.Equal(t, []int64{a, b, d}, msgIDs(s.msgGet(t, alice, url.Values{"session_id": {"s1"}})))
	assert.Equal(t, []int64{a, b}, msgIDs(s.msgGet(t, alice, url.Values{"session_id": {"s1"}, "flow_id": {f1.String()}})))
	// Langflow unquotes session_id once more: an encoded id finds the session.
	assert.Equal(t, []int64{c}, msgIDs(s.msgGet(t, alice, url.Values{"session_id": {"s%202%2Fx"}})))
	assert.Equal(t, []int64{c}, msgIDs(s.msgGet(t, alice, url.Values{"session_id": {"s 2/x"}})))
	assert.Equal(t, []int64{b}, msgIDs(s.msgGet(t, alice, url.Values{"sender": {"Machine"}})))
	assert.Equal(t, []int64{a, c, d}, msgIDs(s.msgGet(t, alice, url.Values{"sender_name": {"User name"}})))
	assert.Empty(t, s.msgGet(t, alice, url.Values{"sender": {"nobody"}}))

	r := s.call(t, http.MethodGet, "/api/v1/monitor/messages?order_by=password", nil, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	assert.Contains(t, r.raw, `"enum"`)
	r = s.call(t, http.MethodGet, "/api/v1/monitor/messages?flow_id=nope", nil, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	r = s.call(t, http.MethodGet, "/api/v1/monitor/messages", nil, "")
	require.Equal(t, http.StatusForbidden, r.status, r.raw)
}

func TestMessages_IsolationBetweenUsers(t *testing.T) {
	t.Parallel()
	s := msgStart(t)
	alice, bob := s.msgUser(t, "alice"), s.msgUser(t, "bob")
	fa, fb := s.msgFlow(t, alice, "A", ""), s.msgFlow(t, bob, "B", "")
	am := s.msgRecord(t, alice.id, fa, "shared", "User", "alice secret", msgT0)
	bm := s.msgRecord(t, bob.id, fb, "shared", "User", "bob text", msgT0)
	_, pos, err := s.cmds.RecordVertexBuild(context.Background(), msgMD(alice.id, msgT0),
		domain.VertexBuildRecorded{FlowID: fa, VertexID: "v1", Valid: true})
	require.NoError(t, err)
	s.msgWait(t, pos)

	// GHSA-9c59-2mvc-vfr8: bob sees none of alice's messages, whatever he asks.
	assert.Equal(t, []int64{bm}, msgIDs(s.msgGet(t, bob, nil)))
	assert.Empty(t, s.msgGet(t, bob, url.Values{"flow_id": {fa.String()}}))
	assert.Equal(t, []int64{bm}, msgIDs(s.msgGet(t, bob, url.Values{"session_id": {"shared"}})))
	r := s.call(t, http.MethodGet, "/api/v1/monitor/messages/sessions?flow_id="+fa.String(), nil, bob.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Empty(t, r.list(t))
	r = s.call(t, http.MethodGet, "/api/v1/monitor/messages/sessions", nil, bob.token)
	require.Len(t, r.objects(t), 1)
	assert.Equal(t, fb.String(), r.objects(t)[0]["flow_id"])

	// Nor change, rename or delete them.
	requireDetail(t, s.call(t, http.MethodPut, "/api/v1/monitor/messages/"+msgItoa(am), map[string]any{"text": "x"}, bob.token),
		http.StatusNotFound, "Message not found")
	r = s.call(t, http.MethodDelete, "/api/v1/monitor/messages", []int64{am, bm}, bob.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []any{float64(bm)}, r.detail(), "only his own message goes")
	r = s.call(t, http.MethodPatch, "/api/v1/monitor/messages/session/shared?new_session_name=mine", nil, bob.token)
	require.Equal(t, http.StatusOK, r.status, r.raw) // his own session of that id (now empty)
	r = s.call(t, http.MethodDelete, "/api/v1/monitor/messages/session/shared", nil, bob.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	requireDetail(t, s.call(t, http.MethodGet, "/api/v1/monitor/builds?flow_id="+fa.String(), nil, bob.token), http.StatusNotFound, "Flow not found")
	requireDetail(t, s.call(t, http.MethodDelete, "/api/v1/monitor/builds?flow_id="+fa.String(), nil, bob.token), http.StatusNotFound, "Flow not found")
	requireDetail(t, s.call(t, http.MethodGet, "/api/v1/monitor/transactions?flow_id="+fa.String(), nil, bob.token), http.StatusNotFound, "Flow not found")
	requireDetail(t, s.call(t, http.MethodPost, "/api/v1/monitor/messages/sessions", map[string]any{"flow_id": fa}, bob.token),
		http.StatusNotFound, "Flow not found")

	// Alice's data is untouched.
	got := s.msgGet(t, alice, nil)
	require.Len(t, got, 1)
	assert.Equal(t, "alice secret", got[0]["text"])
	r = s.call(t, http.MethodGet, "/api/v1/monitor/messages/sessions", nil, alice.token)
	require.Len(t, r.objects(t), 1)
	assert.Equal(t, "shared", r.objects(t)[0]["session_name"])
	r = s.call(t, http.MethodGet, "/api/v1/monitor/builds?flow_id="+fa.String(), nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Len(t, r.obj(t)["vertex_builds"], 1)

	// A superuser holds every privilege: with the flow named, alice's messages.
	admin := s.signIn(t, msgAdmin, msgAdminPassword)
	assert.Equal(t, []int64{am}, msgIDs(s.msgGet(t, admin, url.Values{"flow_id": {fa.String()}})))
	assert.Empty(t, s.msgGet(t, admin, nil), "without a flow: the caller's own")
}

func TestMessages_SessionsCreateRenameDelete(t *testing.T) {
	t.Parallel()
	s := msgStart(t)
	alice := s.msgUser(t, "alice")
	f := s.msgFlow(t, alice, "Chat", "")
	r := s.call(t, http.MethodPost, "/api/v1/monitor/messages/sessions",
		map[string]any{"flow_id": f, "session_id": "room-1", "session_name": "Room one"}, alice.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	sess := r.obj(t)
	assert.Equal(t, f.String(), sess["flow_id"])
	assert.Equal(t, "room-1", sess["session_id"])
	assert.Equal(t, "Room one", sess["session_name"])
	assert.Equal(t, msgItoa(alice.id), sess["user_id"])
	assert.Equal(t, "alice", sess["user_name"])
	assert.Equal(t, true, sess["is_active"])
	assert.NotZero(t, sess["id"])
	for _, k := range []string{"create_at", "updated_at"} {
		assert.NotEmpty(t, sess[k])
	}
	requireDetail(t, s.call(t, http.MethodPost, "/api/v1/monitor/messages/sessions", map[string]any{"flow_id": f, "session_id": "room-1"}, alice.token),
		http.StatusConflict, `Message session "room-1" already exists`)
	r = s.call(t, http.MethodPost, "/api/v1/monitor/messages/sessions", map[string]any{"flow_id": f}, alice.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	generated := r.obj(t)["session_id"].(string)
	_, err := uuid.Parse(generated)
	require.NoError(t, err, "a session id is made when none is given")
	assert.Equal(t, generated, r.obj(t)["session_name"])
	r = s.call(t, http.MethodPost, "/api/v1/monitor/messages/sessions", map[string]any{"session_id": "x"}, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	requireDetail(t, s.call(t, http.MethodPost, "/api/v1/monitor/messages/sessions", map[string]any{"flow_id": uuid.New()}, alice.token),
		http.StatusNotFound, "Flow not found")

	m1 := s.msgRecord(t, alice.id, f, "room-1", "User", "hi", msgT0)
	m2 := s.msgRecord(t, alice.id, f, "room-1", "Machine", "hello", msgT0.Add(time.Second))
	other := s.msgRecord(t, alice.id, f, "room-2", "User", "elsewhere", msgT0)
	r = s.call(t, http.MethodGet, "/api/v1/monitor/messages/sessions?flow_id="+f.String(), nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	names := []string{}
	for _, o := range r.objects(t) {
		names = append(names, o["session_id"].(string))
	}
	// Oldest first: the engine opened room-2 at msgT0, before the sessions made over HTTP now.
	assert.Equal(t, []string{"room-2", "room-1", generated}, names)

	// Rename: the session keeps its id, gets the name; the answer is its messages.
	r = s.call(t, http.MethodPatch, "/api/v1/monitor/messages/session/room-1?new_session_name=Renamed", nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []int64{m1, m2}, msgIDs(r.objects(t)))
	r = s.call(t, http.MethodGet, "/api/v1/monitor/messages/sessions?flow_id="+f.String(), nil, alice.token)
	assert.Equal(t, "Renamed", r.objects(t)[1]["session_name"])
	assert.Equal(t, "room-1", r.objects(t)[1]["session_id"])
	requireDetail(t, s.call(t, http.MethodPatch, "/api/v1/monitor/messages/session/nope?new_session_name=x", nil, alice.token),
		http.StatusNotFound, "No messages found with the given session ID")
	r = s.call(t, http.MethodPatch, "/api/v1/monitor/messages/session/room-1", nil, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	r = s.call(t, http.MethodPatch, "/api/v1/monitor/messages/session/room-1?new_session_name=%20", nil, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)

	// Delete: the session and its messages go; others stay.
	r = s.call(t, http.MethodDelete, "/api/v1/monitor/messages/session/room-1", nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []any{float64(m1), float64(m2)}, r.detail())
	assert.Equal(t, []int64{other}, msgIDs(s.msgGet(t, alice, nil)))
	r = s.call(t, http.MethodGet, "/api/v1/monitor/messages/sessions?flow_id="+f.String(), nil, alice.token)
	assert.Len(t, r.objects(t), 2)
	r = s.call(t, http.MethodDelete, "/api/v1/monitor/messages/session/room-1", nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []any{}, r.detail())
	// The id can be used again: a new session.
	again := s.msgRecord(t, alice.id, f, "room-1", "User", "back", msgT0)
	assert.Equal(t, []int64{again}, msgIDs(s.msgGet(t, alice, url.Values{"session_id": {"room-1"}})))
}

func TestMessages_UpdateAndDelete(t *testing.T) {
	t.Parallel()
	s := msgStart(t)
	alice := s.msgUser(t, "alice")
	f := s.msgFlow(t, alice, "Chat", "")
	m1 := s.msgRecord(t, alice.id, f, "s", "User", "first", msgT0)
	m2 := s.msgRecord(t, alice.id, f, "s", "User", "second", msgT0)
	m3 := s.msgRecord(t, alice.id, f, "s", "User", "third", msgT0)

	r := s.call(t, http.MethodPut, "/api/v1/monitor/messages/"+msgItoa(m1), map[string]any{
		"text": "first!", "properties": map[string]any{"state": "complete"}, "files": []string{"a.png"},
		"context_id": "ctx", "flow_version": "1.0", "start_time": "2025-03-01T12:00:00Z", "sender_name": nil}, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	got := r.obj(t)
	assert.Equal(t, "first!", got["text"])
	assert.Equal(t, true, got["edit"], "a new text marks the message edited")
	assert.Equal(t, map[string]any{"state": "complete"}, got["properties"])
	assert.Equal(t, []any{"a.png"}, got["files"])
	assert.Equal(t, "ctx", got["context_id"])
	assert.Equal(t, "1.0", got["flow_version"])
	assert.Equal(t, "2025-03-01T12:00:00Z", got["start_time"])
	assert.Equal(t, "User name", got["sender_name"], "null leaves a field as it is")
	assert.NotEmpty(t, r.header.Get("X-Event-Position"))
	// Nothing new: no event, same answer.
	r = s.call(t, http.MethodPut, "/api/v1/monitor/messages/"+msgItoa(m1), map[string]any{"text": "first!"}, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Empty(t, r.header.Get("X-Event-Position"))
	// Moving into another session of the flow.
	r = s.call(t, http.MethodPut, "/api/v1/monitor/messages/"+msgItoa(m2), map[string]any{"session_id": "t"}, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, "t", r.obj(t)["session_id"])
	assert.Equal(t, "second", r.obj(t)["text"])
	assert.Equal(t, []int64{m1, m3}, msgIDs(s.msgGet(t, alice, url.Values{"session_id": {"s"}})))
	assert.Equal(t, []int64{m2}, msgIDs(s.msgGet(t, alice, url.Values{"session_id": {"t"}})))

	requireDetail(t, s.call(t, http.MethodPut, "/api/v1/monitor/messages/999999", map[string]any{"text": "x"}, alice.token),
		http.StatusNotFound, "Message not found")
	r = s.call(t, http.MethodPut, "/api/v1/monitor/messages/abc", map[string]any{"text": "x"}, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	r = s.call(t, http.MethodPut, "/api/v1/monitor/messages/"+msgItoa(m1), map[string]any{"edit": "maybe"}, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)

	r = s.call(t, http.MethodDelete, "/api/v1/monitor/messages", []any{m1, m2, 424242}, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []any{float64(m1), float64(m2)}, r.detail())
	assert.Equal(t, []int64{m3}, msgIDs(s.msgGet(t, alice, nil)))
	r = s.call(t, http.MethodDelete, "/api/v1/monitor/messages", []any{"x"}, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
	r = s.call(t, http.MethodDelete, "/api/v1/monitor/messages", map[string]any{"ids": 1}, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)
}

func TestMessages_PublicChatOnlyOwnSession(t *testing.T) {
	t.Parallel()
	s := msgStart(t)
	alice, bob, carol := s.msgUser(t, "alice"), s.msgUser(t, "bob"), s.msgUser(t, "carol")
	pub, priv := s.msgFlow(t, alice, "Pub", "PUBLIC"), s.msgFlow(t, alice, "Priv", "")
	b1 := s.msgRecord(t, bob.id, pub, "bob-session", "User", "from bob", msgT0)
	b2 := s.msgRecord(t, bob.id, pub, "bob-session", "Machine", "to bob", msgT0.Add(time.Second))
	c1 := s.msgRecord(t, carol.id, pub, "carol-session", "User", "from carol", msgT0)
	s.msgRecord(t, bob.id, priv, "x", "User", "private", msgT0)

	// Nobody writes into another user's session.
	_, err := s.cmds.RecordMessage(context.Background(), msgMD(carol.id, msgT0), commands.NewMessage{
		SessionKey: commands.SessionKey{FlowID: &pub, SessionID: "bob-session"}, Fields: domain.MessageFields{Text: "intrude"}})
	require.ErrorIs(t, err, domain.ErrForbidden)

	path := "/api/v1/build_public_tmp/" + pub.String() + "/messages"
	r := s.call(t, http.MethodGet, path, nil, bob.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, []int64{b1, b2}, msgIDs(r.objects(t)))
	r = s.call(t, http.MethodGet, path+"?sender=Machine", nil, bob.token)
	assert.Equal(t, []int64{b2}, msgIDs(r.objects(t)))
	r = s.call(t, http.MethodGet, path+"?session_id=carol-session", nil, bob.token)
	assert.Empty(t, r.list(t), "carol's session is not bob's")
	r = s.call(t, http.MethodGet, path, nil, carol.token)
	assert.Equal(t, []int64{c1}, msgIDs(r.objects(t)))
	requireDetail(t, s.call(t, http.MethodGet, "/api/v1/build_public_tmp/"+priv.String()+"/messages", nil, bob.token),
		http.StatusNotFound, "Flow not found")
	requireDetail(t, s.call(t, http.MethodGet, "/api/v1/build_public_tmp/"+uuid.NewString()+"/messages", nil, bob.token),
		http.StatusNotFound, "Flow not found")
	r = s.call(t, http.MethodGet, path, nil, "")
	require.Equal(t, http.StatusForbidden, r.status, r.raw)

	// The owner's monitor sees every session of the flow, with who chatted.
	assert.Equal(t, []int64{b1, b2, c1}, msgIDs(s.msgGet(t, alice, url.Values{"flow_id": {pub.String()}})))
	r = s.call(t, http.MethodGet, "/api/v1/monitor/messages/sessions?flow_id="+pub.String(), nil, alice.token)
	users := []any{}
	for _, o := range r.objects(t) {
		users = append(users, o["user_name"])
	}
	assert.Equal(t, []any{"bob", "carol"}, users)
	// The visitors' monitor does not.
	assert.Empty(t, s.msgGet(t, bob, url.Values{"flow_id": {pub.String()}}))
}

func TestMonitor_BuildsAndTransactions(t *testing.T) {
	t.Parallel()
	s := msgStart(t)
	alice := s.msgUser(t, "alice")
	f := s.msgFlow(t, alice, "Run", "")
	ctx := context.Background()
	var builds []uuid.UUID
	for i, v := range []string{"ChatInput-1", "LLM-2", "ChatInput-1"} {
		id, pos, err := s.cmds.RecordVertexBuild(ctx, msgMD(alice.id, msgT0), domain.VertexBuildRecorded{FlowID: f, VertexID: v,
			Timestamp: msgT0.Add(time.Duration(i) * time.Second), Data: []byte(`{"results":{}}`), Params: new("p"), Valid: i != 1})
		require.NoError(t, err)
		s.msgWait(t, pos)
		builds = append(builds, id)
	}
	_, _, err := s.cmds.RecordVertexBuild(ctx, msgMD(alice.id, msgT0), domain.VertexBuildRecorded{FlowID: uuid.New(), VertexID: "v"})
	require.ErrorIs(t, err, domain.ErrNotFound, "a build of no flow")

	r := s.call(t, http.MethodGet, "/api/v1/monitor/builds?flow_id="+f.String(), nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	vb := r.obj(t)["vertex_builds"].(map[string]any)
	require.Len(t, vb, 2)
	chat := vb["ChatInput-1"].([]any)
	require.Len(t, chat, 2)
	first := chat[0].(map[string]any)
	assert.Equal(t, builds[0].String(), first["build_id"])
	assert.Equal(t, "ChatInput-1", first["id"])
	assert.Equal(t, map[string]any{"results": map[string]any{}}, first["data"])
	assert.Equal(t, "p", first["params"])
	assert.Equal(t, true, first["valid"])
	assert.Equal(t, f.String(), first["flow_id"])
	assert.Equal(t, builds[2].String(), chat[1].(map[string]any)["build_id"])
	assert.Equal(t, false, vb["LLM-2"].([]any)[0].(map[string]any)["valid"])

	r = s.call(t, http.MethodDelete, "/api/v1/monitor/builds?flow_id="+f.String(), nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.ElementsMatch(t, []any{builds[0].String(), builds[1].String(), builds[2].String()}, r.detail())
	r = s.call(t, http.MethodGet, "/api/v1/monitor/builds?flow_id="+f.String(), nil, alice.token)
	assert.Equal(t, map[string]any{}, r.obj(t)["vertex_builds"])
	r = s.call(t, http.MethodDelete, "/api/v1/monitor/builds?flow_id="+f.String(), nil, alice.token)
	assert.Equal(t, []any{}, r.detail())
	r = s.call(t, http.MethodGet, "/api/v1/monitor/builds", nil, alice.token)
	require.Equal(t, http.StatusUnprocessableEntity, r.status, r.raw)

	var txs []string
	for i := range 5 {
		id, pos, err := s.cmds.RecordTransaction(ctx, msgMD(alice.id, msgT0), domain.TransactionRecorded{FlowID: f,
			VertexID: "a", TargetID: new("b"), Inputs: []byte(`{"x":1}`), Status: "success",
			Timestamp: msgT0.Add(time.Duration(i) * time.Second)})
		require.NoError(t, err)
		s.msgWait(t, pos)
		txs = append(txs, id.String())
	}
	r = s.call(t, http.MethodGet, "/api/v1/monitor/transactions?flow_id="+f.String()+"&page=2&size=2", nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	page := r.obj(t)
	assert.Equal(t, float64(5), page["total"])
	assert.Equal(t, float64(3), page["pages"])
	assert.Equal(t, float64(2), page["page"])
	assert.Equal(t, float64(2), page["size"])
	items := page["items"].([]any)
	require.Len(t, items, 2)
	it := items[0].(map[string]any)
	assert.Equal(t, txs[2], it["id"])
	assert.Equal(t, "a", it["vertex_id"])
	assert.Equal(t, "b", it["target_id"])
	assert.Equal(t, map[string]any{"x": 1.0}, it["inputs"])
	assert.Nil(t, it["outputs"])
	assert.Equal(t, "success", it["status"])
	assert.Nil(t, it["error"])
	r = s.call(t, http.MethodGet, "/api/v1/monitor/transactions?flow_id="+f.String(), nil, alice.token)
	assert.Len(t, r.obj(t)["items"], 5)
	assert.Equal(t, float64(50), r.obj(t)["size"])
	for _, q := range []string{"page=0", "size=0", "size=101", "page=x"} {
		r = s.call(t, http.MethodGet, "/api/v1/monitor/transactions?flow_id="+f.String()+"&"+q, nil, alice.token)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, q+": "+r.raw)
	}
}

func TestMessages_RebuildGivesIdenticalRows(t *testing.T) {
	t.Parallel()
	s := msgStart(t)
	alice, bob := s.msgUser(t, "alice"), s.msgUser(t, "bob")
	f := s.msgFlow(t, alice, "F", "PUBLIC")
	m1 := s.msgRecord(t, alice.id, f, "s1", "User", "one", msgT0)
	s.msgRecord(t, alice.id, f, "s1", "Machine", "two", msgT0)
	s.msgRecord(t, bob.id, f, "s2", "User", "three", msgT0)
	m4 := s.msgRecord(t, alice.id, f, "s3", "User", "four", msgT0)
	r := s.call(t, http.MethodPut, "/api/v1/monitor/messages/"+msgItoa(m1), map[string]any{"text": "uno", "properties": map[string]any{"a": 1}}, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodPut, "/api/v1/monitor/messages/"+msgItoa(m4), map[string]any{"session_id": "s1"}, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodPatch, "/api/v1/monitor/messages/session/s1?new_session_name=Main", nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	r = s.call(t, http.MethodDelete, "/api/v1/monitor/messages/session/s3", nil, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	ctx := context.Background()
	for i := range 3 {
		_, pos, err := s.cmds.RecordVertexBuild(ctx, msgMD(alice.id, msgT0), domain.VertexBuildRecorded{FlowID: f, VertexID: "v", Valid: true})
		require.NoError(t, err)
		_, pos2, err := s.cmds.RecordTransaction(ctx, msgMD(alice.id, msgT0), domain.TransactionRecorded{FlowID: f, VertexID: "v", Status: "ok"})
		require.NoError(t, err)
		s.msgWait(t, pos)
		s.msgWait(t, pos2)
		if i == 1 {
			_, pos, err := s.cmds.DeleteVertexBuilds(ctx, msgMD(alice.id, msgT0), f)
			require.NoError(t, err)
			s.msgWait(t, pos)
		}
	}

	queries := map[string]string{
		"sessions":     `SELECT x::text FROM chat_sessions x ORDER BY stream`,
		"messages":     `SELECT x::text FROM messages x ORDER BY id`,
		"builds":       `SELECT x::text FROM vertex_builds x ORDER BY build_id`,
		"transactions": `SELECT x::text FROM transactions x ORDER BY id`,
	}
	before := map[string][]string{}
	for k, q := range queries {
		before[k] = msgRows(t, s, q)
	}
	assert.Len(t, before["sessions"], 2)
	assert.Len(t, before["messages"], 4)
	assert.Len(t, before["builds"], 1)
	assert.Len(t, before["transactions"], 3)
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, s.app.Runtime().Rebuild(rctx, "messages", nil))
	require.NoError(t, s.app.Runtime().Rebuild(rctx, "monitor", nil))
	for k, q := range queries {
		assert.Equal(t, before[k], msgRows(t, s, q), k)
	}
	assert.Len(t, s.msgGet(t, alice, nil), 4)
}

// msgRows returns every row of query as text, in order.
func msgRows(t *testing.T, s *msgServer, query string) []string {
	t.Helper()
	return s.textRows(t, query)
}

func TestMessages_TenantFlowCarriesTenant(t *testing.T) {
	t.Parallel()
	s := msgStart(t)
	admin := s.signIn(t, msgAdmin, msgAdminPassword)
	bob := s.msgUser(t, "bob")
	r := s.call(t, http.MethodPost, "/api/v1/tenants", map[string]any{"tenant_name": "Msg Co", "note": "n"}, admin.token)
	require.Equal(t, http.StatusCreated, r.status, r.raw)
	tenant := r.obj(t)["tenant_id"].(string)
	f := uuid.MustParse(s.createFlow(t, admin.token, map[string]any{"name": "Placed", "tenant_id": tenant})["id"].(string))
	m := s.msgRecord(t, admin.id, f, "s", "User", "in a tenant", msgT0)
	_, pos, err := s.cmds.RecordTransaction(context.Background(), msgMD(admin.id, msgT0), domain.TransactionRecorded{FlowID: f, VertexID: "v", Status: "ok"})
	require.NoError(t, err)
	s.msgWait(t, pos)

	// Every event of the flow's chats and runs carries the flow's tenant.
	rows := msgRows(t, s, `SELECT coalesce(tenant_id::text, '') FROM events
WHERE stream_id LIKE 'session-`+f.String()+`-%' OR stream_id = 'transactions-`+f.String()+`' ORDER BY global_position`)
	assert.Equal(t, []string{tenant, tenant, tenant}, rows, "session created, message added, transaction recorded")
	got := s.msgGet(t, admin, nil)
	require.Equal(t, []int64{m}, msgIDs(got))
	assert.Equal(t, tenant, got[0]["tenant_id"])
	// A user without a grant in the tenant sees nothing of it.
	assert.Empty(t, s.msgGet(t, bob, url.Values{"flow_id": {f.String()}}))
	requireDetail(t, s.call(t, http.MethodPut, "/api/v1/monitor/messages/"+msgItoa(m), map[string]any{"text": "x"}, bob.token),
		http.StatusNotFound, "Message not found")
}

// The process keeps the chat sessions it wrote (commands.Messages.Sessions)
// and the flows it placed them by; a session written meanwhile by someone
// else (the monitor's edit, another process without this one's cache)
// loses nothing: the next message decides on the stored session, lands
// after the others and is read at once, as are the edits.
func TestMessages_KeptSessionMeetsOtherWriters(t *testing.T) {
	t.Parallel()
	s := msgStart(t)
	alice := s.msgUser(t, "alice")
	f := s.msgFlow(t, alice, "Chat", "")
	d := s.app.Deps()
	other := &commands.Messages{Repo: d.Repository, Store: d.Store, Registry: d.Registry, IDs: commands.NewSequences(d.Pool)}

	m1 := s.msgRecord(t, alice.id, f, "s", "User", "first", msgT0)
	m2 := s.msgRecord(t, alice.id, f, "s", "Machine", "second", msgT0.Add(time.Second))
	r := s.call(t, http.MethodPut, "/api/v1/monitor/messages/"+msgItoa(m1), map[string]any{"text": "first!"}, alice.token)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	res, err := other.RecordMessage(context.Background(), msgMD(alice.id, msgT0.Add(2*time.Second)), commands.NewMessage{
		SessionKey: commands.SessionKey{FlowID: &f, SessionID: "s"}, UserID: alice.id,
		Fields: domain.MessageFields{Sender: "User", SenderName: "User name", Text: "third, elsewhere", Timestamp: msgT0.Add(2 * time.Second)}})
	require.NoError(t, err)
	s.msgWait(t, res.Position)
	m4 := s.msgRecord(t, alice.id, f, "s", "Machine", "fourth", msgT0.Add(3*time.Second))

	got := s.msgGet(t, alice, url.Values{"session_id": {"s"}})
	require.Equal(t, []int64{m1, m2, res.ID, m4}, msgIDs(got), "every message, in order")
	assert.Equal(t, "first!", got[0]["text"], "the monitor's edit stands")
	assert.Equal(t, "fourth", got[3]["text"])
	n := msgRows(t, s, `SELECT count(*)::text FROM events WHERE stream_id = '`+domain.ChatSessionStream(&f, "s")+
		`' AND event_type = 'chat_session.created'`)
	assert.Equal(t, []string{"1"}, n, "opened once")
}
