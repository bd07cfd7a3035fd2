package domain

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Limits of organisations (the spec's org_name <= 64, position and job
// 1..64; the spec bounds neither org_code nor note, these bounds keep them
// sane).
const (
	MaxOrgNameLength     = 64
	MaxOrgCodeLength     = 64
	MaxOrgNoteLength     = 2000
	MaxOrgMemberTextLen  = 64
	MaxOrgLevel          = 6
	MaxOrgMembersPerCall = 1000
)

// The answers about missing orgs and members.
const (
	MsgOrgNotFound       = "Org not found"
	MsgOrgMemberNotFound = "Org member not found"
)

// OrgPath holds the ids of an org's ancestors by level: slot k-1 is the
// level-k org on the path from the root, the org's own id is at its own
// level, and the slots below it are 0. So one_org_id of every org is its
// root, and the orgs under X (X included) at level k are those whose slot
// k-1 is X.
type OrgPath [MaxOrgLevel]int64

// OrgState is an org as the aggregate knows it: the API's org minus its
// audit fields.
type OrgState struct {
	OrgID       int64     `json:"org_id"`
	OrgName     string    `json:"org_name"`
	TenantID    uuid.UUID `json:"tenant_id"`
	OrgCode     *string   `json:"org_code"`
	OrgLevel    int       `json:"org_level"`
	OneOrgID    int64     `json:"one_org_id"`
	TwoOrgID    int64     `json:"two_org_id"`
	ThreeOrgID  int64     `json:"three_org_id"`
	FourOrgID   int64     `json:"four_org_id"`
	FiveOrgID   int64     `json:"five_org_id"`
	SixOrgID    int64     `json:"six_org_id"`
	ParentOrgID int64     `json:"parent_org_id"`
	IsEnable    bool      `json:"is_enable"`
	Note        *string   `json:"note"`
}

// Path returns the org's ancestors by level.
func (s OrgState) Path() OrgPath {
	return OrgPath{s.OneOrgID, s.TwoOrgID, s.ThreeOrgID, s.FourOrgID, s.FiveOrgID, s.SixOrgID}
}

func (s *OrgState) setPath(p OrgPath) {
	s.OneOrgID, s.TwoOrgID, s.ThreeOrgID, s.FourOrgID, s.FiveOrgID, s.SixOrgID = p[0], p[1], p[2], p[3], p[4], p[5]
}

// OrgMemberState is a member as the aggregate knows it: the API's member
// minus its audit fields and the user's names (which belong to the user's
// own stream).
type OrgMemberState struct {
	ID       int64     `json:"id"`
	TenantID uuid.UUID `json:"tenant_id"`
	OrgID    int64     `json:"org_id"`
	UID      int64     `json:"uid"`
	Position string    `json:"position"`
	Job      string    `json:"job"`
	IsLeader bool      `json:"is_leader"`
}

// OrgTreeState is what AuditState returns: the tenant's orgs and org
// members, each ordered by id.
type OrgTreeState struct {
	Orgs       []OrgState       `json:"orgs"`
	OrgMembers []OrgMemberState `json:"org_members"`
}

// OrgTree is every organisation of one tenant and every member of those
// orgs (stream orgs-<tenant uuid>). One aggregate per tenant, so that its
// rules are checked exactly, never against a read model that may lag:
//
//   - an org's parent is an org of the same tenant (0: a root), and the tree
//     is at most MaxOrgLevel levels deep; each org knows its level and the
//     ids of its ancestors (OrgPath);
//   - org codes are unique in the tenant, case-insensitively (blank codes
//     are no codes and never collide);
//   - a user is at most once in an org (they may be in several orgs);
//   - an org is removed only once it has neither sub-orgs nor members.
//
// The spec's Patch Org has no parent_org_id, so an org never moves: its
// place in the tree is fixed when it is created, and no change can make a
// cycle. Org and member ids are allocated by the caller (sequences
// org_id_seq and org_member_id_seq) before the append.
type OrgTree struct {
	root     Root
	tenant   uuid.UUID
	orgs     map[int64]*OrgState
	codes    map[string]int64 // ClaimKey(code) → org id, for non-blank codes
	children map[int64]int    // org id → direct sub-orgs
	members  map[int64]*OrgMemberState
	inOrg    map[[2]int64]int64 // {org id, uid} → member id
	counts   map[int64]int      // org id → members
}

// LoadOrgTree returns the empty org tree of tenant, to fold its stream
// into (a tenant without orgs has no stream yet: the empty aggregate is
// then its state).
func LoadOrgTree(tenant uuid.UUID) *OrgTree {
	return &OrgTree{
		tenant: tenant, orgs: map[int64]*OrgState{}, codes: map[string]int64{}, children: map[int64]int{},
		members: map[int64]*OrgMemberState{}, inOrg: map[[2]int64]int64{}, counts: map[int64]int{},
	}
}

// OrgTreeStream names the stream of tenant's organisations.
func OrgTreeStream(tenant uuid.UUID) string { return "orgs-" + tenant.String() }

// StreamID implements commands.Aggregate.
func (t *OrgTree) StreamID() string { return OrgTreeStream(t.tenant) }

// Root implements commands.Aggregate.
func (t *OrgTree) Root() *Root { return &t.root }

// TenantID returns the tenant the orgs belong to.
func (t *OrgTree) TenantID() uuid.UUID { return t.tenant }

// Org returns org id (ok false if the tenant has no such org).
func (t *OrgTree) Org(id int64) (OrgState, bool) {
	s, ok := t.orgs[id]
	if !ok {
		return OrgState{}, false
	}
	return *s, true
}

// Member returns member id (ok false if no org of the tenant has it).
func (t *OrgTree) Member(id int64) (OrgMemberState, bool) {
	m, ok := t.members[id]
	if !ok {
		return OrgMemberState{}, false
	}
	return *m, true
}

// MemberOf returns the member id of user uid in org (ok false if the user
// is not a member of it).
func (t *OrgTree) MemberOf(org, uid int64) (int64, bool) {
	id, ok := t.inOrg[[2]int64{org, uid}]
	return id, ok
}

// Len returns how many orgs and members the tenant has (a tenant with
// either is not empty).
func (t *OrgTree) Len() (orgs, members int) { return len(t.orgs), len(t.members) }

// AuditState returns the tenant's orgs and org members as they are after
// the events folded so far, in the API's shapes minus the audit fields
// (c_uid, m_uid, ctime, utime) and the users' names (username, nickname:
// they belong to the users' streams): folding the stream up to an instant
// and calling AuditState gives the orgs "as of" that instant. Both lists
// are ordered by id and never nil.
func (t *OrgTree) AuditState() any { return t.state() }

func (t *OrgTree) state() OrgTreeState {
	out := OrgTreeState{Orgs: make([]OrgState, 0, len(t.orgs)), OrgMembers: make([]OrgMemberState, 0, len(t.members))}
	for _, s := range t.orgs {
		out.Orgs = append(out.Orgs, *s)
	}
	for _, m := range t.members {
		out.OrgMembers = append(out.OrgMembers, *m)
	}
	slices.SortFunc(out.Orgs, func(a, b OrgState) int { return cmp.Compare(a.OrgID, b.OrgID) })
	slices.SortFunc(out.OrgMembers, func(a, b OrgMemberState) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// ValidOrgName checks an org's name: not empty or blank, valid UTF-8, at
// most MaxOrgNameLength characters.
func ValidOrgName(name string) error {
	return validOrgText("org_name", name, MaxOrgNameLength, false)
}

// ValidOrgCode checks an org's code: valid UTF-8, at most
// MaxOrgCodeLength characters (blank: no code).
func ValidOrgCode(code string) error { return validOrgText("org_code", code, MaxOrgCodeLength, true) }

// ValidOrgNote checks an org's note: valid UTF-8, at most
// MaxOrgNoteLength characters.
func ValidOrgNote(note string) error { return validOrgText("note", note, MaxOrgNoteLength, true) }

// ValidOrgMemberText checks a member's position or job (field names
// which): 1..MaxOrgMemberTextLen characters, not blank.
func ValidOrgMemberText(field, v string) error {
	return validOrgText(field, v, MaxOrgMemberTextLen, false)
}

func validOrgText(field, v string, max int, blankOK bool) error {
	switch {
	case !blankOK && strings.TrimSpace(v) == "":
		return Invalidf("%s must not be empty", field)
	case !utf8.ValidString(v):
		return Invalidf("%s must be valid UTF-8", field)
	case utf8.RuneCountInString(v) > max:
		return Invalidf("%s must be at most %d characters", field, max)
	}
	return nil
}

// codeKey is how codes compare: case-insensitively; "" for a blank code,
// which never collides.
func codeKey(code *string) string {
	if code == nil || strings.TrimSpace(*code) == "" {
		return ""
	}
	return ClaimKey(*code)
}

// codeFree refuses code if an org other than self has it.
func (t *OrgTree) codeFree(code *string, self int64) error {
	k := codeKey(code)
	if k == "" {
		return nil
	}
	if other, ok := t.codes[k]; ok && other != self {
		return Conflictf("Org code %q is already used by org %d (%s)", *t.orgs[other].OrgCode, other, t.orgs[other].OrgName)
	}
	return nil
}

// NewOrg is what AddOrg needs. ParentOrgID 0 makes a root org.
type NewOrg struct {
	OrgName     string
	OrgCode     *string
	ParentOrgID int64
	IsEnable    bool
	Note        *string
}

// AddOrg creates org id under its parent (0: a root), one level below it.
func (t *OrgTree) AddOrg(id int64, n NewOrg) error {
	if err := ValidOrgName(n.OrgName); err != nil {
		return err
	}
	if n.OrgCode != nil {
		if err := ValidOrgCode(*n.OrgCode); err != nil {
			return err
		}
	}
	if n.Note != nil {
		if err := ValidOrgNote(*n.Note); err != nil {
			return err
		}
	}
	if _, taken := t.orgs[id]; taken {
		return Conflictf("Org %d already exists", id)
	}
	var path OrgPath
	level := 1
	if n.ParentOrgID != 0 {
		parent, ok := t.orgs[n.ParentOrgID]
		if !ok {
			return NotFoundf("Parent org %d not found", n.ParentOrgID)
		}
		if parent.OrgLevel >= MaxOrgLevel {
			return Invalidf("Orgs are at most %d levels deep: parent org %d is at level %d", MaxOrgLevel,
				parent.OrgID, parent.OrgLevel)
		}
		path, level = parent.Path(), parent.OrgLevel+1
	}
	path[level-1] = id
	if err := t.codeFree(n.OrgCode, id); err != nil {
		return err
	}
	record(t, OrgCreated{TenantID: t.tenant, OrgID: id, OrgName: n.OrgName, OrgCode: n.OrgCode, ParentOrgID: n.ParentOrgID,
		OrgLevel: level, Path: path, IsEnable: n.IsEnable, Note: n.Note})
	return nil
}

// MoveOrg hangs org id under parent (0: make it a root), with everything
// under it. It never creates a cycle (an org cannot move under itself or
// under one of its own sub-orgs) nor a tree deeper than MaxOrgLevel.
// Moving to the current parent records nothing.
func (t *OrgTree) MoveOrg(id, parent int64) error {
	cur, ok := t.orgs[id]
	if !ok {
		return NotFoundf("Org not found")
	}
	if parent == cur.ParentOrgID {
		return nil
	}
	var prefix OrgPath
	level := 1
	if parent != 0 {
		p, ok := t.orgs[parent]
		if !ok {
			return NotFoundf("Parent org %d not found", parent)
		}
		if p.Path()[cur.OrgLevel-1] == id && p.OrgLevel >= cur.OrgLevel {
			return Invalidf("An org cannot be moved under itself or its descendants: org %d is under org %d", parent, id)
		}
		prefix, level = p.Path(), p.OrgLevel+1
	}
	shift := level - cur.OrgLevel
	var placed []OrgPlaced
	for _, o := range t.orgs {
		old := o.Path()
		if old[cur.OrgLevel-1] != id || o.OrgLevel < cur.OrgLevel {
			continue // not in the moved subtree
		}
		newLevel := o.OrgLevel + shift
		if newLevel > MaxOrgLevel {
			return Invalidf("Orgs are at most %d levels deep: org %d would be at level %d", MaxOrgLevel, o.OrgID, newLevel)
		}
		var path OrgPath
		copy(path[:level-1], prefix[:level-1])
		for k := cur.OrgLevel - 1; k < o.OrgLevel; k++ {
			path[k+shift] = old[k]
		}
		placed = append(placed, OrgPlaced{OrgID: o.OrgID, OrgLevel: newLevel, Path: path})
	}
	slices.SortFunc(placed, func(a, b OrgPlaced) int { return cmp.Compare(a.OrgID, b.OrgID) })
	record(t, OrgMoved{TenantID: t.tenant, OrgID: id, ParentOrgID: parent, Placed: placed})
	return nil
}

// OrgChange holds the fields of an org to set; nil leaves one as it is.
// An OrgCode of "" clears the code.
type OrgChange struct {
	OrgName  *string
	OrgCode  *string
	IsEnable *bool
	Note     *string
}

// ChangeOrg records the fields of ch that differ from org id's, in one
// event; it records nothing when none does.
func (t *OrgTree) ChangeOrg(id int64, ch OrgChange) error {
	cur, ok := t.orgs[id]
	if !ok {
		return NotFoundf(MsgOrgNotFound)
	}
	e := OrgChanged{TenantID: t.tenant, OrgID: id}
	changed := false
	if ch.OrgName != nil && *ch.OrgName != cur.OrgName {
		if err := ValidOrgName(*ch.OrgName); err != nil {
			return err
		}
		e.OrgName, changed = ch.OrgName, true
	}
	if ch.OrgCode != nil && (cur.OrgCode == nil && *ch.OrgCode != "" || cur.OrgCode != nil && *ch.OrgCode != *cur.OrgCode) {
		if err := ValidOrgCode(*ch.OrgCode); err != nil {
			return err
		}
		if err := t.codeFree(ch.OrgCode, id); err != nil {
			return err
		}
		e.OrgCode, changed = ch.OrgCode, true
	}
	if ch.IsEnable != nil && *ch.IsEnable != cur.IsEnable {
		e.IsEnable, changed = ch.IsEnable, true
	}
	if ch.Note != nil && (cur.Note == nil || *ch.Note != *cur.Note) {
		if err := ValidOrgNote(*ch.Note); err != nil {
			return err
		}
		e.Note, changed = ch.Note, true
	}
	if changed {
		record(t, e)
	}
	return nil
}

// RemoveOrg removes org id, which must have neither sub-orgs nor members:
// a 409 names what blocks it.
func (t *OrgTree) RemoveOrg(id int64) error {
	if _, ok := t.orgs[id]; !ok {
		return NotFoundf(MsgOrgNotFound)
	}
	var blocks []string
	if n := t.children[id]; n > 0 {
		blocks = append(blocks, plural(n, "sub-org"))
	}
	if n := t.counts[id]; n > 0 {
		blocks = append(blocks, plural(n, "member"))
	}
	if len(blocks) > 0 {
		return Conflictf("Org %d still has %s", id, strings.Join(blocks, " and "))
	}
	record(t, OrgRemoved{TenantID: t.tenant, OrgID: id})
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// AddMembers makes the users of refs members of org orgID, each with its
// member id, all with the same position, job and leader flag, in one event:
// all or nothing. A user already in the org is a 409 naming them. Whether
// the users exist and are active is the caller's check (users are other
// streams).
func (t *OrgTree) AddMembers(orgID int64, refs []OrgMemberRef, position, job string, isLeader bool) error {
	if _, ok := t.orgs[orgID]; !ok {
		return NotFoundf(MsgOrgNotFound)
	}
	switch {
	case len(refs) == 0:
		return Invalidf("uids must list at least one user")
	case len(refs) > MaxOrgMembersPerCall:
		return Invalidf("uids must list at most %d users", MaxOrgMembersPerCall)
	}
	if err := ValidOrgMemberText("position", position); err != nil {
		return err
	}
	if err := ValidOrgMemberText("job", job); err != nil {
		return err
	}
	seenUID, seenID := map[int64]bool{}, map[int64]bool{}
	for _, r := range refs {
		if seenUID[r.UID] {
			return Invalidf("uids lists user %d twice", r.UID)
		}
		if _, dup := t.inOrg[[2]int64{orgID, r.UID}]; dup {
			return Conflictf("User %d is already a member of org %d", r.UID, orgID)
		}
		if _, taken := t.members[r.MemberID]; taken || seenID[r.MemberID] {
			return Conflictf("Org member %d already exists", r.MemberID)
		}
		seenUID[r.UID], seenID[r.MemberID] = true, true
	}
	record(t, OrgMembersAdded{TenantID: t.tenant, OrgID: orgID, Members: slices.Clone(refs), Position: position, Job: job,
		IsLeader: isLeader})
	return nil
}

// OrgMemberChange holds the fields of a member to set; nil leaves one as
// it is.
type OrgMemberChange struct {
	Position *string
	Job      *string
	IsLeader *bool
}

// ChangeMember records the fields of ch that differ from member id's, in
// one event; it records nothing when none does.
func (t *OrgTree) ChangeMember(id int64, ch OrgMemberChange) error {
	m, ok := t.members[id]
	if !ok {
		return NotFoundf(MsgOrgMemberNotFound)
	}
	e := OrgMemberChanged{TenantID: t.tenant, MemberID: id, OrgID: m.OrgID}
	changed := false
	if ch.Position != nil && *ch.Position != m.Position {
		if err := ValidOrgMemberText("position", *ch.Position); err != nil {
			return err
		}
		e.Position, changed = ch.Position, true
	}
	if ch.Job != nil && *ch.Job != m.Job {
		if err := ValidOrgMemberText("job", *ch.Job); err != nil {
			return err
		}
		e.Job, changed = ch.Job, true
	}
	if ch.IsLeader != nil && *ch.IsLeader != m.IsLeader {
		e.IsLeader, changed = ch.IsLeader, true
	}
	if changed {
		record(t, e)
	}
	return nil
}

// RemoveMember removes member id from its org.
func (t *OrgTree) RemoveMember(id int64) error {
	m, ok := t.members[id]
	if !ok {
		return NotFoundf(MsgOrgMemberNotFound)
	}
	record(t, OrgMemberRemoved{TenantID: t.tenant, MemberID: id, OrgID: m.OrgID, UID: m.UID})
	return nil
}

// Apply implements commands.Aggregate.
func (t *OrgTree) Apply(e Event) {
	switch e := e.(type) {
	case OrgCreated:
		s := OrgState{OrgID: e.OrgID, OrgName: e.OrgName, TenantID: t.tenant, OrgCode: e.OrgCode, OrgLevel: e.OrgLevel,
			ParentOrgID: e.ParentOrgID, IsEnable: e.IsEnable, Note: e.Note}
		s.setPath(e.Path)
		t.addOrg(s)
	case OrgChanged:
		s, ok := t.orgs[e.OrgID]
		if !ok {
			return
		}
		if e.OrgName != nil {
			s.OrgName = *e.OrgName
		}
		if e.OrgCode != nil {
			if k := codeKey(s.OrgCode); k != "" && t.codes[k] == s.OrgID {
				delete(t.codes, k)
			}
			code := *e.OrgCode
			s.OrgCode = &code
			if k := codeKey(s.OrgCode); k != "" {
				t.codes[k] = s.OrgID
			}
		}
		if e.IsEnable != nil {
			s.IsEnable = *e.IsEnable
		}
		if e.Note != nil {
			note := *e.Note
			s.Note = &note
		}
	case OrgMoved:
		s, ok := t.orgs[e.OrgID]
		if !ok {
			return
		}
		if s.ParentOrgID != 0 {
			t.children[s.ParentOrgID]--
		}
		if e.ParentOrgID != 0 {
			t.children[e.ParentOrgID]++
		}
		s.ParentOrgID = e.ParentOrgID
		for _, pl := range e.Placed {
			if o, ok := t.orgs[pl.OrgID]; ok {
				o.OrgLevel = pl.OrgLevel
				o.setPath(pl.Path)
			}
		}
	case OrgRemoved:
		s, ok := t.orgs[e.OrgID]
		if !ok {
			return
		}
		if k := codeKey(s.OrgCode); k != "" && t.codes[k] == s.OrgID {
			delete(t.codes, k)
		}
		if s.ParentOrgID != 0 {
			if t.children[s.ParentOrgID]--; t.children[s.ParentOrgID] <= 0 {
				delete(t.children, s.ParentOrgID)
			}
		}
		delete(t.orgs, e.OrgID)
		delete(t.children, e.OrgID)
		delete(t.counts, e.OrgID)
	case OrgMembersAdded:
		for _, r := range e.Members {
			t.addMember(OrgMemberState{ID: r.MemberID, TenantID: t.tenant, OrgID: e.OrgID, UID: r.UID,
				Position: e.Position, Job: e.Job, IsLeader: e.IsLeader})
		}
	case OrgMemberChanged:
		m, ok := t.members[e.MemberID]
		if !ok {
			return
		}
		if e.Position != nil {
			m.Position = *e.Position
		}
		if e.Job != nil {
			m.Job = *e.Job
		}
		if e.IsLeader != nil {
			m.IsLeader = *e.IsLeader
		}
	case OrgMemberRemoved:
		m, ok := t.members[e.MemberID]
		if !ok {
			return
		}
		delete(t.inOrg, [2]int64{m.OrgID, m.UID})
		delete(t.members, e.MemberID)
		if t.counts[m.OrgID]--; t.counts[m.OrgID] <= 0 {
			delete(t.counts, m.OrgID)
		}
	}
}

func (t *OrgTree) addOrg(s OrgState) {
	s.TenantID = t.tenant
	t.orgs[s.OrgID] = &s
	if k := codeKey(s.OrgCode); k != "" {
		t.codes[k] = s.OrgID
	}
	if s.ParentOrgID != 0 {
		t.children[s.ParentOrgID]++
	}
}

func (t *OrgTree) addMember(m OrgMemberState) {
	m.TenantID = t.tenant
	t.members[m.ID] = &m
	t.inOrg[[2]int64{m.OrgID, m.UID}] = m.ID
	t.counts[m.OrgID]++
}

// SnapshotVersion implements Snapshotter.
func (t *OrgTree) SnapshotVersion() int { return 1 }

// SnapshotEvery asks for a snapshot every 32 events: org events are small,
// while a snapshot holds every org and member of the tenant.
func (t *OrgTree) SnapshotEvery() uint64 { return 32 }

// Snapshot implements Snapshotter: the orgs and members, as AuditState
// gives them.
func (t *OrgTree) Snapshot() ([]byte, error) { return json.Marshal(t.state()) }

// Restore implements Snapshotter.
func (t *OrgTree) Restore(state []byte) error {
	var s OrgTreeState
	if err := json.Unmarshal(state, &s); err != nil {
		return err
	}
	fresh := LoadOrgTree(t.tenant)
	for _, o := range s.Orgs {
		fresh.addOrg(o)
	}
	for _, m := range s.OrgMembers {
		fresh.addMember(m)
	}
	t.orgs, t.codes, t.children, t.members, t.inOrg, t.counts =
		fresh.orgs, fresh.codes, fresh.children, fresh.members, fresh.inOrg, fresh.counts
	return nil
}

// RaceRule implements Raced: the writes of a tenant's organisations share one stream.
func (*OrgTree) RaceRule() RaceRule { return RaceRule{Attempts: 8} }
