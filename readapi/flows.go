package readapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillflaw/skillflaw-go/domain"
)

// FlowRead is a flow as the API shows it (the spec's FlowRead).
type FlowRead struct {
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	FlowSkill         string          `json:"flow_skill"`
	Icon              string          `json:"icon"`
	IconBgColor       string          `json:"icon_bg_color"`
	Gradient          string          `json:"gradient"`
	Data              json.RawMessage `json:"data"`
	IsComponent       bool            `json:"is_component"`
	UpdatedAt         time.Time       `json:"updated_at"`
	Webhook           bool            `json:"webhook"`
	EndpointName      *string         `json:"endpoint_name"`
	Tags              []string        `json:"tags"`
	Locked            bool            `json:"locked"`
	IsOnline          bool            `json:"is_online"`
	IsVersion         bool            `json:"is_version"`
	IsHold            bool            `json:"is_hold"`
	IsEndpoint        bool            `json:"is_endpoint"`
	IsDeleted         bool            `json:"is_deleted"`
	FlowType          string          `json:"flow_type"`
	OnlineVersion     *string         `json:"online_version"`
	MCPEnabled        bool            `json:"mcp_enabled"`
	ActionName        *string         `json:"action_name"`
	ActionDescription *string         `json:"action_description"`
	AccessType        string          `json:"access_type"`
	ID                uuid.UUID       `json:"id"`
	UserID            int64           `json:"user_id"`
	TenantID          *uuid.UUID      `json:"tenant_id"`
	BusinessID        int64           `json:"business_id"`
	IsSelf            bool            `json:"is_self"`
	OrgID             int64           `json:"org_id"`
	ProjectID         *uuid.UUID      `json:"project_id"`
	CreateAt          time.Time       `json:"create_at"`
	MUID              int64           `json:"m_uid"`
	CreatorName       string          `json:"creator_name"`
}

// FlowColumns select a FlowRead from flows f joined with users u (the
// creator's name: nickname, else username).
const FlowColumns = `f.name, f.description, f.flow_skill, f.icon, f.icon_bg_color, f.gradient, f.data, f.is_component,
    f.updated_at, f.webhook, nullif(f.endpoint_name, ''), f.tags, f.locked, f.online_version_id <> 0, f.version_count > 0,
    f.is_hold, f.is_endpoint, f.is_deleted, f.flow_type, f.online_version, f.mcp_enabled, nullif(f.action_name, ''),
    nullif(f.action_description, ''), f.access_type, f.id, f.user_id, f.tenant_id, f.business_id, f.is_self, f.org_id,
    f.project_id, f.create_at, f.m_uid, coalesce(nullif(u.nickname, ''), u.username, '')`

// FlowFrom is the FROM clause FlowColumns expect.
const FlowFrom = ` FROM flows f LEFT JOIN users u ON u.id = f.user_id`

// ScanFlow reads a row of FlowColumns.
func ScanFlow(row pgx.CollectableRow) (FlowRead, error) {
	var f FlowRead
	var tags []byte
	err := row.Scan(&f.Name, &f.Description, &f.FlowSkill, &f.Icon, &f.IconBgColor, &f.Gradient, (*[]byte)(&f.Data), &f.IsComponent,
		&f.UpdatedAt, &f.Webhook, &f.EndpointName, &tags, &f.Locked, &f.IsOnline, &f.IsVersion,
		&f.IsHold, &f.IsEndpoint, &f.IsDeleted, &f.FlowType, &f.OnlineVersion, &f.MCPEnabled, &f.ActionName,
		&f.ActionDescription, &f.AccessType, &f.ID, &f.UserID, &f.TenantID, &f.BusinessID, &f.IsSelf, &f.OrgID,
		&f.ProjectID, &f.CreateAt, &f.MUID, &f.CreatorName)
	if err != nil {
		return f, err
	}
	f.UpdatedAt, f.CreateAt = f.UpdatedAt.UTC(), f.CreateAt.UTC()
	return f, dataAndTags(&f.Data, tags, &f.Tags)
}

// dataAndTags completes a scanned row's graph and tags: no data is JSON
// null; tags (a JSON array, or nothing) decode into a list that is never
// nil.
func dataAndTags(data *json.RawMessage, tags []byte, into *[]string) error {
	if len(*data) == 0 {
		*data = json.RawMessage("null")
	}
	*into = []string{}
	if len(tags) == 0 {
		return nil
	}
	return json.Unmarshal(tags, into)
}

// FlowIDByEndpoint returns the flow named endpoint (not deleted): among
// user's flows when user is not nil, else the caller's own first, then the
// oldest; ok is false when there is none.
func FlowIDByEndpoint(ctx context.Context, db DB, endpoint string, caller int64, user *int64) (uuid.UUID, bool, error) {
	var id uuid.UUID
	err := db.QueryRow(ctx, `SELECT id FROM flows WHERE endpoint_name = $1 AND NOT is_deleted AND ($2::bigint IS NULL OR user_id = $2)
ORDER BY user_id = $3 DESC, create_at, id LIMIT 1`, endpoint, user, caller).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return uuid.Nil, false, nil
	case err != nil:
		return uuid.Nil, false, fmt.Errorf("find flow %q: %w", endpoint, err)
	}
	return id, true, nil
}

// FlowByID reads one flow; a missing one is Langflow's 404 "Flow not found".
func FlowByID(ctx context.Context, db DB, id uuid.UUID) (FlowRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+FlowColumns+FlowFrom+` WHERE f.id = $1`, id)
	f, err := pgx.CollectExactlyOneRow(rows, ScanFlow)
	if errors.Is(err, pgx.ErrNoRows) {
		return FlowRead{}, domain.NotFoundf("Flow not found")
	}
	if err != nil {
		return FlowRead{}, fmt.Errorf("read flow %s: %w", id, err)
	}
	return f, nil
}

// DefaultProjectOf returns the id of user's default project (uuid.Nil if
// there is none).
func DefaultProjectOf(ctx context.Context, pool *pgxpool.Pool, user int64) (uuid.UUID, error) {
	var id uuid.UUID
	err := pool.QueryRow(ctx, `SELECT id FROM projects WHERE user_id = $1 AND is_default AND NOT is_deleted
ORDER BY ctime LIMIT 1`, user).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, nil
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("default project of user %d: %w", user, err)
	}
	return id, nil
}

// FlowVersionRead is a version of a flow (the spec's Create Flow Version
// answer): the flow's content when the version was made.
type FlowVersionRead struct {
	FlowID            uuid.UUID       `json:"flow_id"`
	TenantID          *uuid.UUID      `json:"tenant_id"`
	BusinessID        int64           `json:"business_id"`
	IsSelf            bool            `json:"is_self"`
	Name              string          `json:"name"`
	Description       string          `json:"description"`
	VersionNote       string          `json:"version_note"`
	Icon              string          `json:"icon"`
	IconBgColor       string          `json:"icon_bg_color"`
	Gradient          string          `json:"gradient"`
	Data              json.RawMessage `json:"data"`
	IsComponent       bool            `json:"is_component"`
	Webhook           bool            `json:"webhook"`
	EndpointName      *string         `json:"endpoint_name"`
	MCPEnabled        bool            `json:"mcp_enabled"`
	ActionName        *string         `json:"action_name"`
	ActionDescription *string         `json:"action_description"`
	AccessType        string          `json:"access_type"`
	Tags              []string        `json:"tags"`
	IsHold            bool            `json:"is_hold"`
	FlowVersion       string          `json:"flow_version"`
	FlowType          string          `json:"flow_type"`
	FlowSkill         string          `json:"flow_skill"`
	ID                int64           `json:"id"`
	UserID            int64           `json:"user_id"`
	CreatorName       string          `json:"creator_name"`
	CreateAt          time.Time       `json:"create_at"`
	// IsEndpoint is part of the content (not of the spec's answer).
	IsEndpoint bool `json:"-"`
}

// VersionColumns select a FlowVersionRead from flow_versions v joined with
// users u (the author of the version).
const VersionColumns = `v.flow_id, v.tenant_id, v.business_id, v.is_self, v.name, v.description, v.note, v.icon,
    v.icon_bg_color, v.gradient, v.data, v.is_component, v.webhook, nullif(v.endpoint_name, ''), v.mcp_enabled,
    nullif(v.action_name, ''), nullif(v.action_description, ''), v.access_type, v.tags, v.is_hold, v.version, v.flow_type,
    v.flow_skill, v.version_id, v.user_id, coalesce(nullif(u.nickname, ''), u.username, ''), v.create_at, v.is_endpoint`

// VersionFrom is the FROM clause VersionColumns expect.
const VersionFrom = ` FROM flow_versions v LEFT JOIN users u ON u.id = v.c_uid`

// ScanVersion reads a row of VersionColumns.
func ScanVersion(row pgx.CollectableRow) (FlowVersionRead, error) {
	var v FlowVersionRead
	var tags []byte
	err := row.Scan(&v.FlowID, &v.TenantID, &v.BusinessID, &v.IsSelf, &v.Name, &v.Description, &v.VersionNote, &v.Icon,
		&v.IconBgColor, &v.Gradient, (*[]byte)(&v.Data), &v.IsComponent, &v.Webhook, &v.EndpointName, &v.MCPEnabled,
		&v.ActionName, &v.ActionDescription, &v.AccessType, &tags, &v.IsHold, &v.FlowVersion, &v.FlowType,
		&v.FlowSkill, &v.ID, &v.UserID, &v.CreatorName, &v.CreateAt, &v.IsEndpoint)
	if err != nil {
		return v, err
	}
	v.CreateAt = v.CreateAt.UTC()
	return v, dataAndTags(&v.Data, tags, &v.Tags)
}

// FlowVersionByID reads version id of flow.
func FlowVersionByID(ctx context.Context, db DB, flow uuid.UUID, id int64) (FlowVersionRead, error) {
	return oneVersion(ctx, db, ` WHERE v.flow_id = $1 AND v.version_id = $2`, flow, id)
}

func oneVersion(ctx context.Context, db DB, where string, args ...any) (FlowVersionRead, error) {
	rows, _ := db.Query(ctx, `SELECT `+VersionColumns+VersionFrom+where, args...)
	v, err := pgx.CollectExactlyOneRow(rows, ScanVersion)
	if errors.Is(err, pgx.ErrNoRows) {
		return FlowVersionRead{}, domain.NotFoundf("Flow version not found")
	}
	if err != nil {
		return FlowVersionRead{}, fmt.Errorf("read flow version: %w", err)
	}
	return v, nil
}
