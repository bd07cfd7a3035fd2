package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/app"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
)

// The files and monitor part of the access suites: v1 files of a flow
// (/api/v1/files/...), v2 user files (/api/v2/files...), the monitor
// (/api/v1/monitor/...) and the public chat's messages
// (/api/v1/build_public_tmp/{flow_id}/messages).
//
// Rules (beside the matrix's general ones):
//   - v1 flow files and the monitor, on a flow of the superuser placed in
//     A: allowed for holders of files.* / messages.* in A (the viewer
//     reads, the tenant admin reads and writes); refused for the member
//     of B: 403 when the request names A, 403 or 404 when it names no
//     tenant (variant "unnamed": the handler checks the flow's tenant and
//     hides it) — or, for the monitor's filtering routes (Get Messages,
//     Get Message Sessions, Delete Messages, Delete Messages Session), a
//     200 that shows nothing;
//   - v2 user files are their owner's only: a file of the superuser is
//     404 for every other caller the enforcer lets through (403 for those
//     it does not: naming A without the privilege there);
//   - the public chat's messages (signed in): 404 unless the flow is
//     PUBLIC; the caller reads only the messages of its own chat sessions
//     (the superuser, who chatted in A's public flow, sees its own;
//     nobody else sees any).
//
// Every allowed case of these routes must answer 2xx, and show data where
// the route lists or removes something (accFMShows).

// accFMKind classifies the files and monitor routes.
type accFMKind int

const (
	fmNone     accFMKind = iota
	fmFlowFile           // /api/v1/files/... of a flow
	fmUserList           // /api/v2/files: the caller's own files (list, upload, delete all)
	fmUserFile           // /api/v2/files/{file_id}, /api/v2/files/batch/: files by id
	fmMonitor            // /api/v1/monitor/...
	fmPublic             // /api/v1/build_public_tmp/{flow_id}/messages
)

func accFMKindOf(op accOp) accFMKind {
	p := op.path
	switch {
	case strings.HasPrefix(p, "/api/v1/files/profile_pictures"):
		return fmNone
	case strings.HasPrefix(p, "/api/v1/files/"):
		return fmFlowFile
	case p == "/api/v2/files" || p == "/api/v2/files/":
		return fmUserList
	case strings.HasPrefix(p, "/api/v2/files/"):
		return fmUserFile
	case strings.HasPrefix(p, "/api/v1/monitor/"):
		return fmMonitor
	case strings.HasPrefix(p, "/api/v1/build_public_tmp/"):
		return fmPublic
	}
	return fmNone
}

// accFMLate tells the routes that run after all the others, one by one:
// Delete All Files removes every file of the caller, which the other
// routes read.
func accFMLate(op accOp) bool {
	return accFMKindOf(op) == fmUserList && op.method == http.MethodDelete
}

// accFMVariants are the variants of a files or monitor route: A (naming
// A), unnamed (A's objects, naming no tenant) for the routes on a flow or
// a file by id, own (the caller's own objects).
func accFMVariants(op accOp) []string {
	switch accFMKindOf(op) {
	case fmFlowFile, fmUserFile, fmMonitor:
		return []string{"A", "unnamed", "own"}
	case fmUserList:
		return []string{"A", "own"}
	}
	return nil
}

// accFMTenant is the tenant a variant names.
func (w *accWorld) accFMTenant(variant string) string {
	if variant == "A" {
		return w.A
	}
	return ""
}

// fmGet is the fixture id thing of case c: the caller's own in variant
// own; else a victim of the caller (or of the tenant admin or the
// superuser, who run after it), else A's.
func (w *accWorld) fmGet(c accCase, thing string) string {
	self := c.who
	if self == accAnon {
		self = accViewerA
	}
	if c.variant == "own" {
		return w.fm["own."+self+"."+thing]
	}
	for _, who := range []string{c.who, accAdminA, accSuper} {
		if v, ok := w.fm[c.variant+"."+who+"."+thing]; ok {
			return v
		}
	}
	return w.fm["A."+thing]
}

// accFMPathIDs sets the path parameters of a files or monitor case.
func (w *accWorld) accFMPathIDs(c accCase, ids map[string]string) {
	kind := accFMKindOf(c.op)
	if kind == fmNone {
		return
	}
	del := c.op.method == http.MethodDelete
	ids["flow_id"] = w.fmGet(c, "flow")
	if kind == fmPublic {
		ids["flow_id"] = w.fm["A.pub"]
	}
	switch {
	case del:
		ids["file_name"] = w.fmGet(c, "ffile_del")
	case strings.HasPrefix(c.op.path, "/api/v1/files/images/"):
		ids["file_name"] = w.fmGet(c, "fimg")
	default:
		ids["file_name"] = w.fmGet(c, "ffile")
	}
	ids["file_id"] = w.fmGet(c, "ufile")
	if del {
		ids["file_id"] = w.fmGet(c, "ufile_del")
	}
	ids["message_id"] = w.fmGet(c, "msgput")
	ids["old_session_id"] = w.fmGet(c, "sess_rename")
	ids["session_id"] = w.fmGet(c, "sess_del")
}

// accFMQuery sets the query of a files or monitor case.
func (w *accWorld) accFMQuery(c accCase, q url.Values) {
	if accFMKindOf(c.op) == fmNone {
		return
	}
	if c.op.params["flow_id"] == "query" {
		q.Set("flow_id", w.fmGet(c, "flow"))
		if c.op.method == http.MethodDelete {
			q.Set("flow_id", w.fmGet(c, "builds_flow"))
		}
	}
	q.Set("name", "renamed "+c.who+" "+c.variant)
	q.Set("new_session_name", "renamed "+c.who+" "+c.variant)
}

// accFMBody is the body of a files or monitor case (ok false: not one).
func (w *accWorld) accFMBody(c accCase) (any, bool) {
	tag := c.who + "-" + c.variant
	switch c.op.key() {
	case "POST /api/v1/files/upload/{flow_id}":
		return accUpload{name: "up-" + tag + ".txt", content: []byte("content " + tag)}, true
	case "POST /api/v2/files", "POST /api/v2/files/":
		return accUpload{name: fmt.Sprintf("acc up %s %d.txt", tag, len(c.op.path)), content: []byte("content " + tag)}, true
	case "DELETE /api/v2/files/batch/":
		return []string{w.fmGet(c, "ubatch_del")}, true
	case "POST /api/v2/files/batch/":
		return []string{w.fmGet(c, "ufile")}, true
	case "POST /api/v1/monitor/messages/sessions":
		return map[string]any{"flow_id": w.fmGet(c, "flow")}, true
	case "DELETE /api/v1/monitor/messages":
		return []int64{intOf(w.fmGet(c, "msg_del"))}, true
	case "PUT /api/v1/monitor/messages/{message_id}":
		return map[string]any{"text": "patched by " + tag}, true
	}
	return nil, false
}

// accFMExpect is the expected outcome of a files or monitor case.
func accFMExpect(c accCase) (allowed bool, refusals []int) {
	kind := accFMKindOf(c.op)
	switch {
	case c.who == accAnon:
		return false, []int{http.StatusUnauthorized, http.StatusForbidden}
	case c.who == accSuper, c.variant == "own", kind == fmPublic:
		return true, nil
	}
	priv := c.op.access[strings.LastIndex(c.op.access, ".")+1:]
	holds := c.who == accAdminA || (c.who == accViewerA && priv == "read") // the privilege in A
	switch kind {
	case fmUserFile: // the owner's only
		if c.variant == "A" && !holds {
			return false, []int{http.StatusForbidden}
		}
		return false, []int{http.StatusNotFound}
	case fmUserList: // the caller's own files, naming A
		if holds {
			return true, nil
		}
		return false, []int{http.StatusForbidden}
	}
	if holds {
		return true, nil
	}
	if c.variant == "A" {
		return false, []int{http.StatusForbidden}
	}
	return false, []int{http.StatusForbidden, http.StatusNotFound}
}

// accFMFilters are the monitor routes that answer a caller who may not
// see the flow (or messages) with a 200 showing nothing.
var accFMFilters = map[string]bool{
	"GET /api/v1/monitor/messages":                         true,
	"GET /api/v1/monitor/messages/sessions":                true,
	"DELETE /api/v1/monitor/messages":                      true,
	"DELETE /api/v1/monitor/messages/session/{session_id}": true,
}

// accFMShows tells whether an answer of a files or monitor route shows
// data (judged false: the route's answer is not judged so).
func accFMShows(key string, r reply) (shows, judged bool) {
	m, _ := r.body.(map[string]any)
	items, isList := r.body.([]any)
	switch key {
	case "GET /api/v1/monitor/messages", "GET /api/v1/monitor/messages/sessions",
		"PATCH /api/v1/monitor/messages/session/{old_session_id}", "GET /api/v2/files", "GET /api/v2/files/":
		return isList && len(items) > 0, true
	case "DELETE /api/v1/monitor/messages", "DELETE /api/v1/monitor/messages/session/{session_id}", "DELETE /api/v1/monitor/builds":
		d, _ := m["detail"].([]any)
		return len(d) > 0, true
	case "GET /api/v1/monitor/builds":
		vb, _ := m["vertex_builds"].(map[string]any)
		return len(vb) > 0, true
	case "GET /api/v1/monitor/transactions":
		n, _ := m["total"].(float64)
		return n > 0, true
	case "GET /api/v1/files/list/{flow_id}":
		f, _ := m["files"].([]any)
		return len(f) > 0, true
	case "GET /api/v1/files/download/{flow_id}/{file_name}", "GET /api/v1/files/images/{flow_id}/{file_name}",
		"GET /api/v2/files/{file_id}", "POST /api/v2/files/batch/":
		return len(r.raw) > 0, true
	}
	return false, false
}

// accFMJudge judges the answer of a files or monitor case: "" when it is
// as expected, else what is wrong.
func accFMJudge(c accCase, r reply) (allowed bool, wrong string) {
	allowed, refusals := accFMExpect(c)
	shows, judged := accFMShows(c.op.key(), r)
	switch {
	case r.status >= 500:
		return allowed, "server error"
	case allowed && r.status/100 != 2:
		return allowed, "allowed case failed"
	case allowed && judged && !shows && !(accFMKindOf(c.op) == fmPublic) && c.op.key() != "DELETE /api/v2/files" && c.op.key() != "DELETE /api/v2/files/":
		return allowed, "allowed case shows nothing"
	case kindPublicWrong(c, r):
		return allowed, "public chat shows messages that are not the caller's"
	case allowed:
		return allowed, ""
	case r.status == http.StatusOK && accFMFilters[c.op.key()] && c.variant != "A" && judged && !shows:
		return allowed, "" // filtered: nothing shown
	case r.status/100 == 2:
		return allowed, "not refused"
	}
	for _, s := range refusals {
		if s == r.status {
			return allowed, ""
		}
	}
	return allowed, fmt.Sprintf("not refused as %v", refusals)
}

// kindPublicWrong: the public chat's messages of A's public flow show
// only the superuser's own (it chatted there), nothing to anyone else.
func kindPublicWrong(c accCase, r reply) bool {
	if accFMKindOf(c.op) != fmPublic || r.status != http.StatusOK {
		return false
	}
	items, ok := r.body.([]any)
	if !ok {
		return true
	}
	if c.who == accSuper {
		return len(items) == 0
	}
	return len(items) > 0
}

// accSetupFM builds the files and monitor fixture: in A, a flow of the
// superuser with flow files (a text, an image), chat sessions and
// messages (recorded through the command API, as the flow engine will),
// a vertex build and a transaction; a PUBLIC flow where the superuser
// chatted; the superuser's user files; victims of every destructive
// route for the tenant admin and the superuser in variants A and unnamed;
// and each signed-in caller's own flow files, user files, messages,
// sessions, builds and transactions on its own flow.
func accSetupFM(t testing.TB, w *accWorld) {
	t.Helper()
	cmds := app.MessagesCommands(w.app.Deps())
	ctx := context.Background()
	now := time.Now().UTC()
	root := w.users[accSuper]
	flow := func(t testing.TB, token, name, tenant, accessType string) string {
		body := map[string]any{"name": name}
		if tenant != "" {
			body["tenant_id"] = tenant
		}
		if accessType != "" {
			body["access_type"] = accessType
		}
		r := w.as(t, token, http.StatusCreated, http.MethodPost, "/api/v1/flows/", body, "")
		return r.obj(t)["id"].(string)
	}
	upFlow := func(t testing.TB, token, flow, name string) string {
		r := w.accSend(t, accRequest{method: http.MethodPost, path: "/api/v1/files/upload/" + flow, header: bearer(token),
			body: accUpload{name: name, content: []byte("content of " + name)}})
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		fp, _ := r.obj(t)["file_path"].(string)
		require.True(t, strings.HasPrefix(fp, flow+"/"), r.raw)
		return strings.TrimPrefix(fp, flow+"/")
	}
	upUser := func(t testing.TB, token, name string) string {
		r := w.accSend(t, accRequest{method: http.MethodPost, path: "/api/v2/files/", header: bearer(token),
			body: accUpload{name: name, content: []byte("content of " + name)}})
		require.Equal(t, http.StatusCreated, r.status, r.raw)
		return r.obj(t)["id"].(string)
	}
	msg := func(t testing.TB, user int64, flow, session, text string) string {
		f := uuid.MustParse(flow)
		res, err := cmds.RecordMessage(ctx, msgMD(user, now), commands.NewMessage{
			SessionKey: commands.SessionKey{FlowID: &f, SessionID: session}, UserID: user,
			Fields: domain.MessageFields{Sender: "User", SenderName: "User", Text: text}})
		require.NoError(t, err)
		return fmt.Sprint(res.ID)
	}
	run := func(t testing.TB, user int64, flow string) {
		f := uuid.MustParse(flow)
		_, _, err := cmds.RecordVertexBuild(ctx, msgMD(user, now), domain.VertexBuildRecorded{FlowID: f, VertexID: "ChatInput-1",
			Data: []byte(`{"results":{}}`), Valid: true})
		require.NoError(t, err)
		_, _, err = cmds.RecordTransaction(ctx, msgMD(user, now), domain.TransactionRecorded{FlowID: f, VertexID: "ChatInput-1",
			Status: "success"})
		require.NoError(t, err)
	}

	var mu sync.Mutex // guards w.fm and w.markers in the jobs below
	set := func(k, v string) string {
		mu.Lock()
		defer mu.Unlock()
		w.fm[k] = v
		return v
	}
	named := func(what string) string {
		mu.Lock()
		defer mu.Unlock()
		return w.named(what)
	}
	keep := func(key, id string) string {
		mu.Lock()
		defer mu.Unlock()
		return w.keep(key, id)
	}

	// A's: a flow with files, chats and a run; a PUBLIC flow the
	// superuser chatted in; the superuser's user files.
	fl := set("A.flow", keep("fm_flow", flow(t, root.token, named("fm-flow"), w.A, "")))
	jobs := map[string]func(t testing.TB){
		"A": func(t testing.TB) {
			sess := named("sess")
			pub := set("A.pub", keep("fm_pub", flow(t, root.token, named("pub-flow"), w.A, domain.AccessPublic)))
			msg(t, root.id, pub, named("pub-sess"), named("pub-msg"))
			set("A.ffile", upFlow(t, root.token, fl, w.mark+"-ffile.txt"))
			set("A.fimg", upFlow(t, root.token, fl, w.mark+"-fimg.png"))
			set("A.ufile", keep("fm_ufile", upUser(t, root.token, w.mark+"-ufile.txt")))
			msg(t, root.id, fl, sess, named("msg-1"))
			msg(t, root.id, fl, sess, named("msg-2"))
			set("A.msgput", msg(t, root.id, fl, sess, named("msg-put")))
			rename := set("A.sess_rename", named("sess-rename"))
			msg(t, root.id, fl, rename, named("msg-rename"))
			run(t, root.id, fl)
		},
	}
	// Victims of the tenant admin's and the superuser's destructive
	// requests on A's objects.
	for _, variant := range []string{"A", "unnamed"} {
		jobs["victims "+variant] = func(t testing.TB) {
			victims := named("sess-victims-" + variant) // a session of this job's only: no write races
			for _, who := range []string{accAdminA, accSuper} {
				k, tag := variant+"."+who+".", variant+"-"+who
				set(k+"ffile_del", upFlow(t, root.token, fl, w.mark+"-del-"+tag+".txt"))
				set(k+"msg_del", msg(t, root.id, fl, victims, named("msg-del-"+tag)))
				msg(t, root.id, fl, set(k+"sess_del", named("sess-del-"+tag)), named("msg-in-sess-del-"+tag))
				run(t, root.id, set(k+"builds_flow", keep("fm_builds_"+tag, flow(t, root.token, named("builds-"+tag), w.A, ""))))
			}
			k := variant + "." + accSuper + "."
			set(k+"ufile_del", keep("fm_udel_"+variant, upUser(t, root.token, w.mark+"-udel-"+variant+".txt")))
			set(k+"ubatch_del", keep("fm_ubatch_"+variant, upUser(t, root.token, w.mark+"-ubatch-"+variant+".txt")))
		}
	}
	// Every signed-in caller's own.
	for _, who := range accCallers[1:] {
		jobs["own "+who] = func(t testing.TB) {
			u, o, k := w.users[who], w.own[who], "own."+who+"."
			set(k+"flow", o.flow)
			set(k+"ffile", upFlow(t, u.token, o.flow, "own-ffile.txt"))
			set(k+"fimg", upFlow(t, u.token, o.flow, "own-fimg.png"))
			set(k+"ffile_del", upFlow(t, u.token, o.flow, "own-del.txt"))
			set(k+"ufile", upUser(t, u.token, "own ufile.txt"))
			set(k+"ufile_del", upUser(t, u.token, "own udel.txt"))
			set(k+"ubatch_del", upUser(t, u.token, "own ubatch.txt"))
			s := "own-" + who + "-sess"
			msg(t, u.id, o.flow, s, "own msg of "+who)
			set(k+"msgput", msg(t, u.id, o.flow, s, "own msg put of "+who))
			set(k+"msg_del", msg(t, u.id, o.flow, s, "own msg del of "+who))
			msg(t, u.id, o.flow, set(k+"sess_rename", s+"-rename"), "own msg rename of "+who)
			msg(t, u.id, o.flow, set(k+"sess_del", s+"-del"), "own msg in sess del of "+who)
			run(t, u.id, o.flow)
			run(t, u.id, set(k+"builds_flow", flow(t, u.token, "own builds "+who, "", "")))
		}
	}
	accJobs(t, jobs)
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, w.app.Runtime().WaitFor(waitCtx, w.head(t)), "the read models fold the fixture")
}

// accJobs runs the jobs of a fixture, at once (as subtests) when t is a
// test, one by one otherwise; it stops t if one failed.
func accJobs(t testing.TB, jobs map[string]func(testing.TB)) {
	t.Helper()
	tt, ok := t.(*testing.T)
	if !ok {
		for _, job := range jobs {
			job(t)
		}
		return
	}
	var wg sync.WaitGroup
	for name, job := range jobs {
		wg.Go(func() { tt.Run("setup "+name, func(t *testing.T) { job(t) }) })
	}
	wg.Wait()
	if tt.Failed() {
		tt.FailNow()
	}
}
