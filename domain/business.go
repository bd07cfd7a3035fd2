package domain

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxBusinessNameLength bounds a business's name (the spec's <= 64).
const MaxBusinessNameLength = 64

// MsgBusinessNotFound is the answer about a business that does not exist
// (or not in the tenant asked about).
const MsgBusinessNotFound = "Business not found"

// MsgBusinessUserRoleNotFound answers about a role relation (a user's role
// in a business) the business does not have.
const MsgBusinessUserRoleNotFound = "Business user role not found"

// BusinessTree is every business of one tenant (stream
// businesses-<tenant uuid>), in three levels. One aggregate per tenant, so
// that the rules of the tree are checked exactly, never against a read
// model that may lag:
//
//   - first_business_id, second_business_id and third_business_id are the
//     ids of a business's ancestors and of itself at each level, 0 below
//     its own level: level-1 business 5 is (5, 0, 0); level-2 business 7
//     under it (5, 7, 0); level-3 business 9 under 7 (5, 7, 9). So the
//     filter first_business_id = 5 finds 5 and everything under it. When a
//     business is added its own id is not known yet: the slots at and
//     below its level must be 0 (422 otherwise) and the server fills its
//     own slot.
//   - A level-2 business names an existing, enabled level-1 business of
//     the tenant in first_business_id; a level-3 business names an
//     existing, enabled level-2 business in second_business_id and that
//     business's own parent in first_business_id. Anything else is 422,
//     with a detail saying what is wrong.
//   - Names are unique among siblings (the children of one parent, or the
//     tenant's level-1 businesses), case-insensitively: 409.
//   - A business is enabled only while its parent is: disabling one that
//     has enabled sub-businesses is 409 (disable them first), enabling one
//     under a disabled parent is 409 (enable the parent first).
//   - A move (a PATCH of the ancestor ids) keeps the level — a level change
//     is 422 — and follows the rules of adding: a level-2 business moves to
//     another enabled level-1 parent and takes its level-3 children along;
//     a level-3 business moves to another enabled level-2 parent (its
//     first_business_id follows that parent's).
//   - A business is removed only without sub-businesses and without users
//     (409 naming them).
//
// Users of a business are its members through their business roles
// (Upsert Business User Roles, #102): the aggregate keeps, per business,
// each user's role relations (relation id → role id), so that setting a
// user's roles, removing relations, removing a user and removing a
// business see them exactly. A user is a member while they hold at least
// one role there: the membership ends with their last role.
//
// Business ids are allocated by the caller (sequence business_id_seq)
// before the append.
type BusinessTree struct {
	root       Root
	tenant     uuid.UUID
	businesses map[int64]*BusinessState
	// members maps business id → user id → the user's role relations in
	// that business, ordered by relation id.
	members map[int64]map[int64][]BusinessRoleRelation
}

// BusinessRoleRelation is one business role of a user: relation ID (from
// the sequence role_relation_id_seq) gives role RoleID of the
// permission catalogue.
type BusinessRoleRelation struct {
	ID     int64  `json:"id"`
	RoleID string `json:"role_id"`
}

// BusinessState is a business as the aggregate knows it: the API's
// business minus its audit fields (c_uid, m_uid, ctime, utime).
type BusinessState struct {
	TenantID         uuid.UUID `json:"tenant_id"`
	BusinessName     string    `json:"business_name"`
	BusinessLevel    int       `json:"business_level"`
	FirstBusinessID  int64     `json:"first_business_id"`
	SecondBusinessID int64     `json:"second_business_id"`
	ThirdBusinessID  int64     `json:"third_business_id"`
	IsEnable         bool      `json:"is_enable"`
	Note             *string   `json:"note"`
	BusinessID       int64     `json:"business_id"`
}

// ParentID returns the id of the business's parent (0 for level 1).
func (b BusinessState) ParentID() int64 {
	switch b.BusinessLevel {
	case 2:
		return b.FirstBusinessID
	case 3:
		return b.SecondBusinessID
	}
	return 0
}

// BusinessUserState is a user of a business: their role relations there,
// ordered by relation id.
type BusinessUserState struct {
	BusinessID int64                  `json:"business_id"`
	UID        int64                  `json:"uid"`
	Roles      []BusinessRoleRelation `json:"roles"`
}

// BusinessTreeState is what AuditState returns: the tenant's businesses
// ordered by id, and their users ordered by business and user id.
type BusinessTreeState struct {
	Businesses    []BusinessState     `json:"businesses"`
	BusinessUsers []BusinessUserState `json:"business_users"`
}

// LoadBusinessTree returns the empty tree of tenant, to fold its stream
// into (a tenant without businesses has no stream yet: the empty tree is
// then its state).
func LoadBusinessTree(tenant uuid.UUID) *BusinessTree {
	return &BusinessTree{tenant: tenant, businesses: map[int64]*BusinessState{}, members: map[int64]map[int64][]BusinessRoleRelation{}}
}

// BusinessesStream names the stream of tenant's businesses.
func BusinessesStream(tenant uuid.UUID) string { return "businesses-" + tenant.String() }

// StreamID implements commands.Aggregate.
func (t *BusinessTree) StreamID() string { return BusinessesStream(t.tenant) }

// Root implements commands.Aggregate.
func (t *BusinessTree) Root() *Root { return &t.root }

// TenantID returns the tenant the businesses belong to.
func (t *BusinessTree) TenantID() uuid.UUID { return t.tenant }

// Business returns business id (ok false if the tenant has none).
func (t *BusinessTree) Business(id int64) (BusinessState, bool) {
	b, ok := t.businesses[id]
	if !ok {
		return BusinessState{}, false
	}
	return *b, true
}

// Len returns how many businesses the tenant has.
func (t *BusinessTree) Len() int { return len(t.businesses) }

// Children returns the ids of business id's sub-businesses, ascending.
func (t *BusinessTree) Children(id int64) []int64 {
	var out []int64
	for _, b := range t.businesses {
		if b.BusinessLevel > 1 && b.ParentID() == id {
			out = append(out, b.BusinessID)
		}
	}
	slices.Sort(out)
	return out
}

// Users returns the ids of the users of business id, ascending.
func (t *BusinessTree) Users(id int64) []int64 {
	var out []int64
	for uid := range t.members[id] {
		out = append(out, uid)
	}
	slices.Sort(out)
	return out
}

// AuditState returns the tenant's businesses and their users as they are
// after the events folded so far (a BusinessTreeState), in the API's shape
// minus the audit fields: folding the stream up to an instant and calling
// AuditState gives the businesses "as of" that instant. Both lists are
// never nil.
func (t *BusinessTree) AuditState() any {
	out := BusinessTreeState{Businesses: []BusinessState{}, BusinessUsers: []BusinessUserState{}}
	for _, b := range t.businesses {
		out.Businesses = append(out.Businesses, *b)
	}
	slices.SortFunc(out.Businesses, func(a, b BusinessState) int { return cmp.Compare(a.BusinessID, b.BusinessID) })
	for business, users := range t.members {
		for uid, rel := range users {
			out.BusinessUsers = append(out.BusinessUsers,
				BusinessUserState{BusinessID: business, UID: uid, Roles: slices.Clone(rel)})
		}
	}
	slices.SortFunc(out.BusinessUsers, func(a, b BusinessUserState) int {
		return cmp.Or(cmp.Compare(a.BusinessID, b.BusinessID), cmp.Compare(a.UID, b.UID))
	})
	return out
}

// ValidBusinessName checks a business's name: not empty or blank, valid
// UTF-8, at most MaxBusinessNameLength characters.
func ValidBusinessName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return Invalidf("business_name must not be empty")
	case !utf8.ValidString(name):
		return Invalidf("business_name must be valid UTF-8")
	case utf8.RuneCountInString(name) > MaxBusinessNameLength:
		return Invalidf("business_name must be at most %d characters", MaxBusinessNameLength)
	}
	return nil
}

// NewBusiness is what Add needs: the body of Add Business.
type NewBusiness struct {
	Name                 string
	Level                int
	First, Second, Third int64
	IsEnable             bool
	Note                 *string
}

// Check checks what a new business can be checked for without the tree:
// its name, its level, and that the slots at and below its level are 0.
func (n NewBusiness) Check() error {
	if err := ValidBusinessName(n.Name); err != nil {
		return err
	}
	switch n.Level {
	case 1:
		if n.First != 0 || n.Second != 0 || n.Third != 0 {
			return Invalidf("a level-1 business has no parent: first_business_id, second_business_id and " +
				"third_business_id must be 0 (first_business_id becomes the new business's own id)")
		}
	case 2:
		if n.First == 0 {
			return Invalidf("a level-2 business needs its level-1 parent in first_business_id")
		}
		if n.Second != 0 || n.Third != 0 {
			return Invalidf("second_business_id and third_business_id of a new level-2 business must be 0 " +
				"(second_business_id becomes the new business's own id)")
		}
	case 3:
		if n.First == 0 || n.Second == 0 {
			return Invalidf("a level-3 business needs its level-1 ancestor in first_business_id and its " +
				"level-2 parent in second_business_id")
		}
		if n.Third != 0 {
			return Invalidf("third_business_id of a new level-3 business must be 0 " +
				"(it becomes the new business's own id)")
		}
	default:
		return Invalidf("business_level must be 1, 2 or 3, not %d", n.Level)
	}
	return nil
}

// parentAt returns business id as the parent of a business one level
// below: it must exist in the tenant, be at level and be enabled. field
// names the body field that named it.
func (t *BusinessTree) parentAt(id int64, level int, field string) (*BusinessState, error) {
	p, ok := t.businesses[id]
	switch {
	case !ok:
		return nil, Invalidf("%s %d is not a business of this tenant", field, id)
	case p.BusinessLevel != level:
		return nil, Invalidf("%s %d is a level-%d business, not a level-%d one", field, id, p.BusinessLevel, level)
	case !p.IsEnable:
		return nil, Invalidf("%s %d: business %d (%s) is disabled", field, id, id, p.BusinessName)
	}
	return p, nil
}

// nameFree refuses name for a business other than self under parent (0:
// among the level-1 businesses).
func (t *BusinessTree) nameFree(name string, parent, self int64) error {
	key := ClaimKey(name)
	for _, b := range t.businesses {
		if b.BusinessID != self && b.ParentID() == parent && ClaimKey(b.BusinessName) == key {
			if parent == 0 {
				return Conflictf("Business name %q is already used by level-1 business %d", b.BusinessName, b.BusinessID)
			}
			return Conflictf("Business name %q is already used by business %d under business %d",
				b.BusinessName, b.BusinessID, parent)
		}
	}
	return nil
}

// Add creates business id.
func (t *BusinessTree) Add(id int64, n NewBusiness) error {
	if err := n.Check(); err != nil {
		return err
	}
	if _, taken := t.businesses[id]; taken {
		return Conflictf("Business %d already exists", id)
	}
	e := BusinessAdded{TenantID: t.tenant, BusinessID: id, BusinessName: n.Name, BusinessLevel: n.Level,
		IsEnable: n.IsEnable, Note: n.Note}
	var parent int64
	switch n.Level {
	case 1:
		e.FirstBusinessID = id
	case 2:
		if _, err := t.parentAt(n.First, 1, "first_business_id"); err != nil {
			return err
		}
		e.FirstBusinessID, e.SecondBusinessID, parent = n.First, id, n.First
	case 3:
		p, err := t.parentAt(n.Second, 2, "second_business_id")
		if err != nil {
			return err
		}
		if p.FirstBusinessID != n.First {
			return Invalidf("second_business_id %d belongs to first_business_id %d, not %d", n.Second, p.FirstBusinessID, n.First)
		}
		e.FirstBusinessID, e.SecondBusinessID, e.ThirdBusinessID, parent = n.First, n.Second, id, n.Second
	}
	if err := t.nameFree(n.Name, parent, id); err != nil {
		return err
	}
	record(t, e)
	return nil
}

// BusinessChange holds what a PATCH sets; nil leaves a field as it is. For
// the level and the ancestor ids, 0 leaves them as they are too (the
// spec's sample sends 0 for "none").
type BusinessChange struct {
	Name                 *string
	Level                *int
	First, Second, Third *int64
	IsEnable             *bool
	Note                 *string
}

// Change records what ch changes of business id, one event per kind of
// change (moved — with its children —, renamed, enabled or disabled, note
// changed); it records nothing when nothing differs.
func (t *BusinessTree) Change(id int64, ch BusinessChange) error {
	cur, ok := t.businesses[id]
	if !ok {
		return NotFoundf(MsgBusinessNotFound)
	}
	place, err := t.placeOf(cur, ch)
	if err != nil {
		return err
	}
	moved := place != [3]int64{cur.FirstBusinessID, cur.SecondBusinessID, cur.ThirdBusinessID}
	parent := cur.ParentID()
	if moved {
		parent = BusinessState{BusinessLevel: cur.BusinessLevel, FirstBusinessID: place[0], SecondBusinessID: place[1]}.ParentID()
	}
	name := cur.BusinessName
	if ch.Name != nil {
		if err := ValidBusinessName(*ch.Name); err != nil {
			return err
		}
		name = *ch.Name
	}
	renamed := name != cur.BusinessName
	if renamed || moved {
		if err := t.nameFree(name, parent, id); err != nil {
			return err
		}
	}
	enable := cur.IsEnable
	if ch.IsEnable != nil {
		enable = *ch.IsEnable
	}
	switch {
	case cur.IsEnable && !enable:
		var on []string
		for _, c := range t.Children(id) {
			if t.businesses[c].IsEnable {
				on = append(on, strconv.FormatInt(c, 10))
			}
		}
		if len(on) > 0 {
			return Conflictf("Business %d still has %s (%s): disable them first", id,
				bizPlural(len(on), "enabled sub-business", "enabled sub-businesses"), strings.Join(on, ", "))
		}
	case !cur.IsEnable && enable && parent != 0 && !t.businesses[parent].IsEnable:
		return Conflictf("Business %d cannot be enabled while its parent business %d is disabled: enable the parent first",
			id, parent)
	}

	if moved {
		record(t, BusinessMoved{TenantID: t.tenant, BusinessID: id,
			FirstBusinessID: place[0], SecondBusinessID: place[1], ThirdBusinessID: place[2]})
		if cur.BusinessLevel == 2 {
			for _, c := range t.Children(id) {
				record(t, BusinessMoved{TenantID: t.tenant, BusinessID: c,
					FirstBusinessID: place[0], SecondBusinessID: id, ThirdBusinessID: c})
			}
		}
	}
	if renamed {
		record(t, BusinessRenamed{TenantID: t.tenant, BusinessID: id, BusinessName: name})
	}
	if enable != cur.IsEnable {
		if enable {
			record(t, BusinessEnabled{TenantID: t.tenant, BusinessID: id})
		} else {
			record(t, BusinessDisabled{TenantID: t.tenant, BusinessID: id})
		}
	}
	if ch.Note != nil && (cur.Note == nil || *ch.Note != *cur.Note) {
		record(t, BusinessNoteChanged{TenantID: t.tenant, BusinessID: id, Note: *ch.Note})
	}
	return nil
}

// placeOf returns the ancestor ids (and own id) business cur has after ch:
// its current ones unless ch moves it, which must follow the rules of
// adding. The level cannot change, and a business's own slot is its id.
func (t *BusinessTree) placeOf(cur *BusinessState, ch BusinessChange) ([3]int64, error) {
	id, level := cur.BusinessID, cur.BusinessLevel
	place := [3]int64{cur.FirstBusinessID, cur.SecondBusinessID, cur.ThirdBusinessID}
	if ch.Level != nil && *ch.Level != 0 && *ch.Level != level {
		return place, Invalidf("business_level cannot change: business %d is level %d (remove it and add it at "+
			"the other level)", id, level)
	}
	given := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	slots := [3]int64{given(ch.First), given(ch.Second), given(ch.Third)}
	names := [3]string{"first_business_id", "second_business_id", "third_business_id"}
	if own := slots[level-1]; own != 0 && own != id {
		return place, Invalidf("%s of a level-%d business is its own id (%d), not %d", names[level-1], level, id, own)
	}
	for i := level; i < 3; i++ {
		if slots[i] != 0 {
			return place, Invalidf("%s of a level-%d business must be 0", names[i], level)
		}
	}
	switch level {
	case 2:
		if first := slots[0]; first != 0 && first != place[0] {
			if _, err := t.parentAt(first, 1, "first_business_id"); err != nil {
				return place, err
			}
			place[0] = first
		}
	case 3:
		first, second := cmp.Or(slots[0], place[0]), cmp.Or(slots[1], place[1])
		if first == place[0] && second == place[1] {
			break
		}
		p, ok := t.businesses[second]
		if second == place[1] && ok && p.FirstBusinessID != first {
			// Only first_business_id changed: the parent stays, so the
			// ancestors no longer agree.
			return place, Invalidf("second_business_id %d belongs to first_business_id %d, not %d", second, p.FirstBusinessID, first)
		}
		p, err := t.parentAt(second, 2, "second_business_id")
		if err != nil {
			return place, err
		}
		if slots[0] == 0 {
			first = p.FirstBusinessID // only the parent was named: its ancestor comes with it
		}
		if p.FirstBusinessID != first {
			return place, Invalidf("second_business_id %d belongs to first_business_id %d, not %d", second, p.FirstBusinessID, first)
		}
		place[0], place[1] = first, second
	}
	return place, nil
}

// Remove removes business id, which must have no sub-businesses and no
// users.
func (t *BusinessTree) Remove(id int64) error {
	if _, ok := t.businesses[id]; !ok {
		return NotFoundf(MsgBusinessNotFound)
	}
	if kids := t.Children(id); len(kids) > 0 {
		return Conflictf("Business %d still has %s (%s)", id,
			bizPlural(len(kids), "sub-business", "sub-businesses"), bizJoinIDs(kids))
	}
	if users := t.Users(id); len(users) > 0 {
		return Conflictf("Business %d still has %s (%s)", id, bizPlural(len(users), "user", "users"), bizJoinIDs(users))
	}
	record(t, BusinessRemoved{TenantID: t.tenant, BusinessID: id})
	return nil
}

// RemoveUser removes user uid from business id: their membership and
// their role relations there. It returns how many role relations it
// removed (0, recording nothing, when the user is no member).
func (t *BusinessTree) RemoveUser(id, uid int64) (int, error) {
	if _, ok := t.businesses[id]; !ok {
		return 0, NotFoundf(MsgBusinessNotFound)
	}
	rel, ok := t.members[id][uid]
	if !ok {
		return 0, nil
	}
	record(t, BusinessUserRemoved{TenantID: t.tenant, BusinessID: id, UID: uid, RelationIDs: relationIDs(rel)})
	return len(rel), nil
}

// UserRoles returns user uid's role relations in business id, ordered by
// relation id (none when the user is no member).
func (t *BusinessTree) UserRoles(id, uid int64) []BusinessRoleRelation {
	return slices.Clone(t.members[id][uid])
}

// BusinessUserRolesChange is what SetUserRoles needs: the user (whether
// the users read model shows them active) and the role set wanted, every
// role known to the permission catalogue. NewIDs are relation ids
// allocated beforehand, at least one per role of Roles (the unused ones
// are gaps).
type BusinessUserRolesChange struct {
	UID    int64
	Active bool
	Roles  []string
	NewIDs []int64
}

// SetUserRoles makes ch.Roles user ch.UID's role set in business id: the
// roles missing are added (each a new relation), the others removed; an
// empty set removes the user's roles and membership (BusinessUserRemoved).
// Adding roles needs an enabled business (409 otherwise: enable it first)
// and an active user (409); removing never does. Nothing is recorded when
// the set is already the user's.
func (t *BusinessTree) SetUserRoles(id int64, ch BusinessUserRolesChange) error {
	b, ok := t.businesses[id]
	if !ok {
		return NotFoundf(MsgBusinessNotFound)
	}
	cur := t.members[id][ch.UID]
	if len(ch.Roles) == 0 {
		if len(cur) > 0 {
			record(t, BusinessUserRemoved{TenantID: t.tenant, BusinessID: id, UID: ch.UID, RelationIDs: relationIDs(cur)})
		}
		return nil
	}
	want := map[string]bool{}
	for _, r := range ch.Roles {
		want[r] = true
	}
	have := map[string]bool{}
	var removed []int64
	for _, r := range cur {
		have[r.RoleID] = true
		if !want[r.RoleID] {
			removed = append(removed, r.ID)
		}
	}
	var added []BusinessRoleRelation
	for _, r := range ch.Roles {
		if have[r] {
			continue
		}
		if len(added) >= len(ch.NewIDs) {
			return fmt.Errorf("set roles of user %d in business %d: %d relation ids for more roles", ch.UID, id, len(ch.NewIDs))
		}
		added = append(added, BusinessRoleRelation{ID: ch.NewIDs[len(added)], RoleID: r})
		have[r] = true
	}
	if len(added) > 0 {
		if !b.IsEnable {
			return Conflictf("Business %d (%s) is disabled: enable it before granting roles in it", id, b.BusinessName)
		}
		if !ch.Active {
			return Conflictf("User %d is not active: roles are granted to active users only", ch.UID)
		}
	}
	if len(added) == 0 && len(removed) == 0 {
		return nil
	}
	record(t, BusinessUserRolesSet{TenantID: t.tenant, BusinessID: id, UID: ch.UID, Added: added, RemovedIDs: removed})
	return nil
}

// RemoveUserRoles removes the role relations ids of business id; ids of
// other businesses, or of none, are ignored. It returns how many it
// removed. A user left without roles is no member any more.
func (t *BusinessTree) RemoveUserRoles(id int64, ids []int64) (int, error) {
	if _, ok := t.businesses[id]; !ok {
		return 0, NotFoundf(MsgBusinessNotFound)
	}
	drop := map[int64]bool{}
	for _, r := range ids {
		drop[r] = true
	}
	var gone []BusinessUserRoleRef
	for _, uid := range t.Users(id) {
		for _, r := range t.members[id][uid] {
			if drop[r.ID] {
				gone = append(gone, BusinessUserRoleRef{ID: r.ID, UID: uid})
			}
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	slices.SortFunc(gone, func(a, b BusinessUserRoleRef) int { return cmp.Compare(a.ID, b.ID) })
	record(t, BusinessUserRolesRemoved{TenantID: t.tenant, BusinessID: id, Relations: gone})
	return len(gone), nil
}

func relationIDs(rel []BusinessRoleRelation) []int64 {
	out := make([]int64, len(rel))
	for i, r := range rel {
		out[i] = r.ID
	}
	return out
}

// Apply implements commands.Aggregate.
func (t *BusinessTree) Apply(e Event) {
	switch e := e.(type) {
	case BusinessAdded:
		t.businesses[e.BusinessID] = &BusinessState{TenantID: t.tenant, BusinessName: e.BusinessName,
			BusinessLevel: e.BusinessLevel, FirstBusinessID: e.FirstBusinessID, SecondBusinessID: e.SecondBusinessID,
			ThirdBusinessID: e.ThirdBusinessID, IsEnable: e.IsEnable, Note: e.Note, BusinessID: e.BusinessID}
	case BusinessRenamed:
		if b, ok := t.businesses[e.BusinessID]; ok {
			b.BusinessName = e.BusinessName
		}
	case BusinessEnabled:
		if b, ok := t.businesses[e.BusinessID]; ok {
			b.IsEnable = true
		}
	case BusinessDisabled:
		if b, ok := t.businesses[e.BusinessID]; ok {
			b.IsEnable = false
		}
	case BusinessNoteChanged:
		if b, ok := t.businesses[e.BusinessID]; ok {
			note := e.Note
			b.Note = &note
		}
	case BusinessMoved:
		if b, ok := t.businesses[e.BusinessID]; ok {
			b.FirstBusinessID, b.SecondBusinessID, b.ThirdBusinessID = e.FirstBusinessID, e.SecondBusinessID, e.ThirdBusinessID
		}
	case BusinessRemoved:
		delete(t.businesses, e.BusinessID)
		delete(t.members, e.BusinessID)
	case BusinessUserRemoved:
		t.dropUser(e.BusinessID, e.UID)
	case BusinessUserRolesSet:
		users := t.members[e.BusinessID]
		if users == nil {
			users = map[int64][]BusinessRoleRelation{}
			t.members[e.BusinessID] = users
		}
		rel := slices.DeleteFunc(slices.Clone(users[e.UID]), func(r BusinessRoleRelation) bool {
			return slices.Contains(e.RemovedIDs, r.ID)
		})
		rel = append(rel, e.Added...)
		slices.SortFunc(rel, func(a, b BusinessRoleRelation) int { return cmp.Compare(a.ID, b.ID) })
		users[e.UID] = rel
		if len(rel) == 0 {
			t.dropUser(e.BusinessID, e.UID)
		}
	case BusinessUserRolesRemoved:
		for _, g := range e.Relations {
			users := t.members[e.BusinessID]
			rel := slices.DeleteFunc(slices.Clone(users[g.UID]), func(r BusinessRoleRelation) bool { return r.ID == g.ID })
			if len(rel) == 0 {
				t.dropUser(e.BusinessID, g.UID)
			} else {
				users[g.UID] = rel
			}
		}
	}
}

// dropUser forgets user uid's membership of business id.
func (t *BusinessTree) dropUser(id, uid int64) {
	if users, ok := t.members[id]; ok {
		delete(users, uid)
		if len(users) == 0 {
			delete(t.members, id)
		}
	}
}

// SnapshotVersion implements Snapshotter.
// Version 2: users carry their roles (relation id and role id).
func (t *BusinessTree) SnapshotVersion() int { return 2 }

// Snapshot implements Snapshotter: the businesses and their users, as
// AuditState gives them.
func (t *BusinessTree) Snapshot() ([]byte, error) { return json.Marshal(t.AuditState()) }

// Restore implements Snapshotter.
func (t *BusinessTree) Restore(state []byte) error {
	var s BusinessTreeState
	if err := json.Unmarshal(state, &s); err != nil {
		return err
	}
	fresh := LoadBusinessTree(t.tenant)
	for _, b := range s.Businesses {
		b.TenantID = t.tenant
		fresh.businesses[b.BusinessID] = &b
	}
	for _, u := range s.BusinessUsers {
		if fresh.members[u.BusinessID] == nil {
			fresh.members[u.BusinessID] = map[int64][]BusinessRoleRelation{}
		}
		fresh.members[u.BusinessID][u.UID] = u.Roles
	}
	t.businesses, t.members = fresh.businesses, fresh.members
	return nil
}

// plural words a count: "1 user", "3 users".
func bizPlural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// joinIDs lists ids as "7, 8, 9".
func bizJoinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}
