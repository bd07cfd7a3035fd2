package domain

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxProjectNameLength bounds a project's name.
const MaxProjectNameLength = 255

// ProjectNameScope is the Claim scope that keeps project names unique per
// user: the claimed value is "<user_id>/<name>".
const ProjectNameScope = "project_name"

// defaultProjectSpace derives the ids of default projects from user ids.
var defaultProjectSpace = uuid.MustParse("0b6c3f5e-4a3d-5d8e-9f61-2c7d3a9e5b10")

// Project is Langflow's folder: a named container of a user's flows
// (stream project-<uuid>).
//
// Names are unique per user, case-insensitively (a claim in scope
// ProjectNameScope), and must not be empty or blank: Langflow's schema
// defaults the name to "", but a project without a name cannot be told
// apart in a list, so an empty name is refused with 422 "name must not be
// empty" rather than stored.
type Project struct {
	root      Root
	id        uuid.UUID
	userID    int64
	isDefault bool
	fields    ProjectFields
	deleted   bool
}

// NewProject is what CreateProject needs.
type NewProject struct {
	UserID    int64
	IsDefault bool
	Fields    ProjectFields
}

// CreateProject starts project id.
func CreateProject(id uuid.UUID, n NewProject) (*Project, error) {
	if err := ValidProjectName(n.Fields.Name); err != nil {
		return nil, err
	}
	if err := validAuthSettings(n.Fields.AuthSettings); err != nil {
		return nil, err
	}
	p := &Project{}
	record(p, ProjectCreated{ProjectID: id, UserID: n.UserID, IsDefault: n.IsDefault, Fields: n.Fields})
	return p, nil
}

// DefaultProjectID is the id of user's default project: derived from the
// user id, so that creating it twice (two logins at once) is one stream
// and the second append fails instead of making a second default.
func DefaultProjectID(user int64) uuid.UUID {
	return uuid.NewSHA1(defaultProjectSpace, []byte("default-project/"+strconv.FormatInt(user, 10)))
}

// LoadProject returns an empty project to fold the stream of id into.
func LoadProject(id uuid.UUID) *Project { return &Project{id: id} }

// ProjectStream names the stream of project id.
func ProjectStream(id uuid.UUID) string { return "project-" + id.String() }

// StreamID implements commands.Aggregate.
func (p *Project) StreamID() string { return ProjectStream(p.id) }

// Root implements commands.Aggregate.
func (p *Project) Root() *Root { return &p.root }

// The project's state.
func (p *Project) ID() uuid.UUID         { return p.id }
func (p *Project) UserID() int64         { return p.userID }
func (p *Project) IsDefault() bool       { return p.isDefault }
func (p *Project) Fields() ProjectFields { return p.fields }
func (p *Project) Deleted() bool         { return p.deleted }

// Exists tells whether the stream held a project.
func (p *Project) Exists() bool { _, ok := p.root.Revision(); return ok || len(p.root.Pending()) > 0 }

// ProjectChange holds the fields to set; nil leaves one as it is.
type ProjectChange struct {
	Name, Description                      *string
	OrgID                                  *int64
	IsEnable, IsHold                       *bool
	ReleaseVersion, PrivType, ProjectSkill *string
	AuthSettings                           json.RawMessage
	Icon                                   *string
}

// MsgProjectNotFound answers a project that is not the caller's, deleted
// or unknown (Langflow's words).
const MsgProjectNotFound = "Project not found"

// ErrDefaultProject refuses to delete the default project.
var ErrDefaultProject = &Error{Kind: ErrInvalid, Message: "The default project cannot be deleted"}

// notFound is the answer about a deleted project.
func (p *Project) notFound() error { return NotFoundf(MsgProjectNotFound) }

// Update records the fields of ch that differ, in one event. It returns
// the previous name when the name changed ("" if not), so the caller can
// move the name's claim.
func (p *Project) Update(ch ProjectChange) (oldName string, err error) {
	if p.deleted {
		return "", p.notFound()
	}
	if ch.Name != nil {
		if err := ValidProjectName(*ch.Name); err != nil {
			return "", err
		}
	}
	if err := validAuthSettings(ch.AuthSettings); err != nil {
		return "", err
	}
	cur := p.fields
	e := ProjectUpdated{ProjectID: p.id}
	changed := false
	str := func(dst **string, v *string, was string) {
		if v != nil && *v != was {
			*dst, changed = v, true
		}
	}
	opt := func(dst **string, v *string, was *string) {
		if v != nil && (was == nil || *v != *was) {
			*dst, changed = v, true
		}
	}
	flag := func(dst **bool, v *bool, was bool) {
		if v != nil && *v != was {
			*dst, changed = v, true
		}
	}
	str(&e.Name, ch.Name, cur.Name)
	str(&e.Description, ch.Description, cur.Description)
	if ch.OrgID != nil && *ch.OrgID != cur.OrgID {
		e.OrgID, changed = ch.OrgID, true
	}
	flag(&e.IsEnable, ch.IsEnable, cur.IsEnable)
	flag(&e.IsHold, ch.IsHold, cur.IsHold)
	opt(&e.ReleaseVersion, ch.ReleaseVersion, cur.ReleaseVersion)
	opt(&e.PrivType, ch.PrivType, cur.PrivType)
	opt(&e.ProjectSkill, ch.ProjectSkill, cur.ProjectSkill)
	opt(&e.Icon, ch.Icon, cur.Icon)
	if ch.AuthSettings != nil {
		next := keepMaskedSecrets(ch.AuthSettings, cur.AuthSettings)
		if !JSONEqual(next, cur.AuthSettings) {
			e.AuthSettings, changed = next, true
		}
	}
	if !changed {
		return "", nil
	}
	record(p, e)
	if e.Name != nil {
		return cur.Name, nil
	}
	return "", nil
}

// Delete marks the project deleted. The default project cannot be
// deleted; a deleted one is not found.
func (p *Project) Delete() error {
	switch {
	case p.deleted:
		return p.notFound()
	case p.isDefault:
		return ErrDefaultProject
	}
	record(p, ProjectDeleted{ProjectID: p.id})
	return nil
}

// Apply implements commands.Aggregate.
func (p *Project) Apply(e Event) {
	f := &p.fields
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setOpt := func(dst **string, v *string) {
		if v != nil {
			*dst = v
		}
	}
	setB := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	switch e := e.(type) {
	case ProjectCreated:
		p.id, p.userID, p.isDefault, p.fields = e.ProjectID, e.UserID, e.IsDefault, e.Fields
	case ProjectUpdated:
		set(&f.Name, e.Name)
		set(&f.Description, e.Description)
		if e.OrgID != nil {
			f.OrgID = *e.OrgID
		}
		setB(&f.IsEnable, e.IsEnable)
		setB(&f.IsHold, e.IsHold)
		setOpt(&f.ReleaseVersion, e.ReleaseVersion)
		setOpt(&f.PrivType, e.PrivType)
		setOpt(&f.ProjectSkill, e.ProjectSkill)
		setOpt(&f.Icon, e.Icon)
		if e.AuthSettings != nil {
			f.AuthSettings = e.AuthSettings
		}
	case ProjectDeleted:
		p.deleted = true
	}
}

// ValidProjectName checks a project's name: not empty or blank, at most
// MaxProjectNameLength characters.
func ValidProjectName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return Invalidf("name must not be empty")
	case !utf8.ValidString(name):
		return Invalidf("name must be valid UTF-8")
	case utf8.RuneCountInString(name) > MaxProjectNameLength:
		return Invalidf("name must be at most %d characters", MaxProjectNameLength)
	}
	return nil
}

// validAuthSettings accepts nothing (nil) or a JSON object.
func validAuthSettings(raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return Invalidf("auth_settings must be an object")
	}
	return nil
}
