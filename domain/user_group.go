package domain

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxUserGroupNameLength bounds a user group's name (the spec's 1..64).
const MaxUserGroupNameLength = 64

// The answers about missing groups and members.
const (
	MsgUserGroupNotFound       = "User group not found"
	MsgUserGroupMemberNotFound = "User group member not found"
)

// UserGroups is every user group of one tenant and every member of those
// groups (stream user_groups-<tenant uuid>). One aggregate per tenant, so
// that its rules are checked exactly, never against a read model that may
// lag: group names are unique in the tenant (case-insensitively), a user is
// at most once in a group, and a group is removed only once it has no
// members. Group and member ids are allocated by the caller (sequences
// group_id_seq and group_member_id_seq) before the append.
type UserGroups struct {
	root    Root
	tenant  uuid.UUID
	groups  map[int64]*UserGroupState
	names   map[string]int64 // ClaimKey(name) → group id
	members map[int64]*UserGroupMemberState
	inGroup map[[2]int64]int64 // {group id, uid} → member id
	counts  map[int64]int      // group id → members
}

// UserGroupState is a group as the aggregate knows it: the API's group
// minus its audit fields.
type UserGroupState struct {
	GroupID   int64     `json:"group_id"`
	GroupName string    `json:"group_name"`
	TenantID  uuid.UUID `json:"tenant_id"`
	IsEnable  bool      `json:"is_enable"`
	Note      *string   `json:"note"`
}

// UserGroupMemberState is a member as the aggregate knows it: the API's
// member minus its audit fields and the user's names (which belong to the
// user's own stream).
type UserGroupMemberState struct {
	ID       int64 `json:"id"`
	GroupID  int64 `json:"group_id"`
	UID      int64 `json:"uid"`
	IsLeader bool  `json:"is_leader"`
}

// UserGroupsState is what AuditState returns: the tenant's groups and
// members, each ordered by id.
type UserGroupsState struct {
	UserGroups       []UserGroupState       `json:"user_groups"`
	UserGroupMembers []UserGroupMemberState `json:"user_group_members"`
}

// LoadUserGroups returns the empty user groups of tenant, to fold its
// stream into (a tenant without groups has no stream yet: the empty
// aggregate is then its state).
func LoadUserGroups(tenant uuid.UUID) *UserGroups {
	return &UserGroups{
		tenant: tenant, groups: map[int64]*UserGroupState{}, names: map[string]int64{},
		members: map[int64]*UserGroupMemberState{}, inGroup: map[[2]int64]int64{}, counts: map[int64]int{},
	}
}

// UserGroupsStream names the stream of tenant's user groups.
func UserGroupsStream(tenant uuid.UUID) string { return "user_groups-" + tenant.String() }

// StreamID implements commands.Aggregate.
func (g *UserGroups) StreamID() string { return UserGroupsStream(g.tenant) }

// Root implements commands.Aggregate.
func (g *UserGroups) Root() *Root { return &g.root }

// TenantID returns the tenant the groups belong to.
func (g *UserGroups) TenantID() uuid.UUID { return g.tenant }

// Group returns group id (ok false if the tenant has no such group).
func (g *UserGroups) Group(id int64) (UserGroupState, bool) {
	s, ok := g.groups[id]
	if !ok {
		return UserGroupState{}, false
	}
	return *s, true
}

// Member returns member id (ok false if no group of the tenant has it).
func (g *UserGroups) Member(id int64) (UserGroupMemberState, bool) {
	m, ok := g.members[id]
	if !ok {
		return UserGroupMemberState{}, false
	}
	return *m, true
}

// Len returns how many groups and members the tenant has (a tenant with
// either is not empty).
func (g *UserGroups) Len() (groups, members int) { return len(g.groups), len(g.members) }

// AuditState returns the tenant's groups and members as they are after the
// events folded so far, in the API's shapes minus the audit fields (c_uid,
// m_uid, ctime, utime) and the users' names: folding the stream up to an
// instant and calling AuditState gives the groups "as of" that instant.
// Both lists are ordered by id and never nil.
func (g *UserGroups) AuditState() any {
	out := UserGroupsState{UserGroups: []UserGroupState{}, UserGroupMembers: []UserGroupMemberState{}}
	for _, s := range g.groups {
		out.UserGroups = append(out.UserGroups, *s)
	}
	for _, m := range g.members {
		out.UserGroupMembers = append(out.UserGroupMembers, *m)
	}
	slices.SortFunc(out.UserGroups, func(a, b UserGroupState) int { return cmp.Compare(a.GroupID, b.GroupID) })
	slices.SortFunc(out.UserGroupMembers, func(a, b UserGroupMemberState) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// ValidUserGroupName checks a group's name: not empty or blank, valid
// UTF-8, at most MaxUserGroupNameLength characters.
func ValidUserGroupName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return Invalidf("group_name must not be empty")
	case !utf8.ValidString(name):
		return Invalidf("group_name must be valid UTF-8")
	case utf8.RuneCountInString(name) > MaxUserGroupNameLength:
		return Invalidf("group_name must be at most %d characters", MaxUserGroupNameLength)
	}
	return nil
}

// nameFree refuses name if a group other than self has it.
func (g *UserGroups) nameFree(name string, self int64) error {
	if other, ok := g.names[ClaimKey(name)]; ok && other != self {
		return Conflictf("User group name %q is already used by group %d", g.groups[other].GroupName, other)
	}
	return nil
}

// AddGroup creates group id.
func (g *UserGroups) AddGroup(id int64, name string, isEnable bool, note *string) error {
	if err := ValidUserGroupName(name); err != nil {
		return err
	}
	if _, taken := g.groups[id]; taken {
		return Conflictf("User group %d already exists", id)
	}
	if err := g.nameFree(name, id); err != nil {
		return err
	}
	record(g, UserGroupCreated{TenantID: g.tenant, GroupID: id, GroupName: name, IsEnable: isEnable, Note: note})
	return nil
}

// UserGroupChange holds the fields of a group to set; nil leaves one as
// it is.
type UserGroupChange struct {
	GroupName *string
	IsEnable  *bool
	Note      *string
}

// ChangeGroup records the fields of ch that differ from group id's, in one
// event; it records nothing when none does.
func (g *UserGroups) ChangeGroup(id int64, ch UserGroupChange) error {
	cur, ok := g.groups[id]
	if !ok {
		return NotFoundf(MsgUserGroupNotFound)
	}
	e := UserGroupChanged{TenantID: g.tenant, GroupID: id}
	changed := false
	if ch.GroupName != nil && *ch.GroupName != cur.GroupName {
		if err := ValidUserGroupName(*ch.GroupName); err != nil {
			return err
		}
		if err := g.nameFree(*ch.GroupName, id); err != nil {
			return err
		}
		e.GroupName, changed = ch.GroupName, true
	}
	if ch.IsEnable != nil && *ch.IsEnable != cur.IsEnable {
		e.IsEnable, changed = ch.IsEnable, true
	}
	if ch.Note != nil && (cur.Note == nil || *ch.Note != *cur.Note) {
		e.Note, changed = ch.Note, true
	}
	if changed {
		record(g, e)
	}
	return nil
}

// RemoveGroup removes group id, which must have no members.
func (g *UserGroups) RemoveGroup(id int64) error {
	if _, ok := g.groups[id]; !ok {
		return NotFoundf(MsgUserGroupNotFound)
	}
	switch n := g.counts[id]; {
	case n == 1:
		return Conflictf("Group %d still has 1 member", id)
	case n > 1:
		return Conflictf("Group %d still has %d members", id, n)
	}
	record(g, UserGroupRemoved{TenantID: g.tenant, GroupID: id})
	return nil
}

// AddMember makes user uid member id of group groupID. Whether the user
// exists and is active is the caller's check (users are other streams).
func (g *UserGroups) AddMember(id, groupID, uid int64, isLeader bool) error {
	if _, ok := g.groups[groupID]; !ok {
		return NotFoundf(MsgUserGroupNotFound)
	}
	if _, dup := g.inGroup[[2]int64{groupID, uid}]; dup {
		return Conflictf("User %d is already a member of group %d", uid, groupID)
	}
	if _, taken := g.members[id]; taken {
		return Conflictf("User group member %d already exists", id)
	}
	record(g, UserGroupMemberAdded{TenantID: g.tenant, MemberID: id, GroupID: groupID, UID: uid, IsLeader: isLeader})
	return nil
}

// ChangeMember sets member id's leader flag (nothing is recorded when it
// already has it).
func (g *UserGroups) ChangeMember(id int64, isLeader bool) error {
	m, ok := g.members[id]
	if !ok {
		return NotFoundf(MsgUserGroupMemberNotFound)
	}
	if m.IsLeader != isLeader {
		record(g, UserGroupMemberChanged{TenantID: g.tenant, MemberID: id, GroupID: m.GroupID, IsLeader: isLeader})
	}
	return nil
}

// RemoveMember removes member id from its group.
func (g *UserGroups) RemoveMember(id int64) error {
	m, ok := g.members[id]
	if !ok {
		return NotFoundf(MsgUserGroupMemberNotFound)
	}
	record(g, UserGroupMemberRemoved{TenantID: g.tenant, MemberID: id, GroupID: m.GroupID, UID: m.UID})
	return nil
}

// Apply implements commands.Aggregate.
func (g *UserGroups) Apply(e Event) {
	switch e := e.(type) {
	case UserGroupCreated:
		g.groups[e.GroupID] = &UserGroupState{GroupID: e.GroupID, GroupName: e.GroupName, TenantID: g.tenant,
			IsEnable: e.IsEnable, Note: e.Note}
		g.names[ClaimKey(e.GroupName)] = e.GroupID
	case UserGroupChanged:
		s, ok := g.groups[e.GroupID]
		if !ok {
			return
		}
		if e.GroupName != nil {
			delete(g.names, ClaimKey(s.GroupName))
			s.GroupName = *e.GroupName
			g.names[ClaimKey(s.GroupName)] = s.GroupID
		}
		if e.IsEnable != nil {
			s.IsEnable = *e.IsEnable
		}
		if e.Note != nil {
			note := *e.Note
			s.Note = &note
		}
	case UserGroupRemoved:
		if s, ok := g.groups[e.GroupID]; ok {
			delete(g.names, ClaimKey(s.GroupName))
			delete(g.groups, e.GroupID)
			delete(g.counts, e.GroupID)
		}
	case UserGroupMemberAdded:
		g.addMember(UserGroupMemberState{ID: e.MemberID, GroupID: e.GroupID, UID: e.UID, IsLeader: e.IsLeader})
	case UserGroupMemberChanged:
		if m, ok := g.members[e.MemberID]; ok {
			m.IsLeader = e.IsLeader
		}
	case UserGroupMemberRemoved:
		if m, ok := g.members[e.MemberID]; ok {
			delete(g.inGroup, [2]int64{m.GroupID, m.UID})
			delete(g.members, e.MemberID)
			if g.counts[m.GroupID]--; g.counts[m.GroupID] <= 0 {
				delete(g.counts, m.GroupID)
			}
		}
	}
}

func (g *UserGroups) addMember(m UserGroupMemberState) {
	g.members[m.ID] = &m
	g.inGroup[[2]int64{m.GroupID, m.UID}] = m.ID
	g.counts[m.GroupID]++
}

// SnapshotVersion implements Snapshotter.
func (g *UserGroups) SnapshotVersion() int { return 1 }

// Snapshot implements Snapshotter: the groups and members, as AuditState
// gives them.
func (g *UserGroups) Snapshot() ([]byte, error) { return json.Marshal(g.AuditState()) }

// Restore implements Snapshotter.
func (g *UserGroups) Restore(state []byte) error {
	var s UserGroupsState
	if err := json.Unmarshal(state, &s); err != nil {
		return err
	}
	fresh := LoadUserGroups(g.tenant)
	for _, gr := range s.UserGroups {
		gr.TenantID = g.tenant
		fresh.groups[gr.GroupID] = &gr
		fresh.names[ClaimKey(gr.GroupName)] = gr.GroupID
	}
	for _, m := range s.UserGroupMembers {
		fresh.addMember(m)
	}
	g.groups, g.names, g.members, g.inGroup, g.counts = fresh.groups, fresh.names, fresh.members, fresh.inGroup, fresh.counts
	return nil
}

// RaceRule implements Raced: every write of a tenant's groups appends to one stream.
func (*UserGroups) RaceRule() RaceRule { return Shared }
