package projections

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Orgs builds the read models of organisations (migrations/00013_orgs.sql):
// orgs (one row per org), org_members (one row per member; the users'
// names are joined from the users read model when reading) and org_trees
// (one nested tree per tenant, rewritten from the tenant's orgs rows after
// every event that adds, changes or removes an org of the tenant, so that
// Read Org Tree reads one row). The creation of a row sets c_uid and
// ctime; every event of a row moves m_uid (the actor), utime and version
// (the revision of the tenant's orgs stream).
func Orgs() *Projection {
	p := New("orgs", "orgs", "org_members", "org_trees")
	On(p, func(ctx context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.OrgCreated) error {
		tx.Queue(`INSERT INTO orgs (org_id, tenant_id, org_name, org_code, org_level, one_org_id, two_org_id, three_org_id,
    four_org_id, five_org_id, six_org_id, parent_org_id, is_enable, note, c_uid, m_uid, ctime, utime, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, $16, $17)`,
			e.OrgID, e.TenantID, e.OrgName, e.OrgCode, e.OrgLevel, e.Path[0], e.Path[1], e.Path[2], e.Path[3], e.Path[4],
			e.Path[5], e.ParentOrgID, e.IsEnable, e.Note,
			rec.Metadata.ActorUserID, rec.Metadata.OccurredAt, int64(rec.StreamVersion))
		return writeOrgTree(ctx, tx, rec, e.TenantID)
	})
	On(p, func(ctx context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.OrgChanged) error {
		tx.Queue(`UPDATE orgs SET org_name = coalesce($5, org_name), org_code = coalesce($6, org_code),
    is_enable = coalesce($7, is_enable), note = coalesce($8, note), utime = $2, m_uid = $3, version = $4
WHERE org_id = $1`,
			e.OrgID, rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion),
			e.OrgName, e.OrgCode, e.IsEnable, e.Note)
		return writeOrgTree(ctx, tx, rec, e.TenantID)
	})
	On(p, func(ctx context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.OrgMoved) error {
		tx.Queue(`UPDATE orgs SET parent_org_id = $2 WHERE org_id = $1`, e.OrgID, e.ParentOrgID)
		for _, pl := range e.Placed {
			tx.Queue(`UPDATE orgs SET org_level = $2, one_org_id = $3, two_org_id = $4, three_org_id = $5, four_org_id = $6,
    five_org_id = $7, six_org_id = $8, utime = $9, m_uid = $10, version = $11 WHERE org_id = $1`,
				pl.OrgID, pl.OrgLevel, pl.Path[0], pl.Path[1], pl.Path[2], pl.Path[3], pl.Path[4], pl.Path[5],
				rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion))
		}
		return writeOrgTree(ctx, tx, rec, e.TenantID)
	})
	On(p, func(ctx context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.OrgRemoved) error {
		tx.Queue(`DELETE FROM orgs WHERE org_id = $1`, e.OrgID)
		return writeOrgTree(ctx, tx, rec, e.TenantID)
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.OrgMembersAdded) error {
		for _, m := range e.Members {
			tx.Queue(`INSERT INTO org_members (id, tenant_id, org_id, uid, position, job, is_leader, c_uid, m_uid, ctime, utime, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $9, $10)`,
				m.MemberID, e.TenantID, e.OrgID, m.UID, e.Position, e.Job, e.IsLeader,
				rec.Metadata.ActorUserID, rec.Metadata.OccurredAt, int64(rec.StreamVersion))
		}
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.OrgMemberChanged) error {
		tx.Queue(`UPDATE org_members SET position = coalesce($5, position), job = coalesce($6, job),
    is_leader = coalesce($7, is_leader), utime = $2, m_uid = $3, version = $4 WHERE id = $1`,
			e.MemberID, rec.Metadata.OccurredAt, rec.Metadata.ActorUserID, int64(rec.StreamVersion),
			e.Position, e.Job, e.IsLeader)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.OrgMemberRemoved) error {
		tx.Queue(`DELETE FROM org_members WHERE id = $1`, e.MemberID)
		return nil
	})
	return p
}

// orgTreeNode is an org of a stored tree: the org as Read Orgs shows it,
// with its sub-orgs.
type orgTreeNode struct {
	domain.OrgState
	Audited
	Children []*orgTreeNode `json:"children"`
}

// writeOrgTree rewrites the stored tree of tenant from its orgs rows (the
// statements queued so far included): roots and children ordered by
// org_id. A tenant without orgs has no row.
func writeOrgTree(ctx context.Context, tx *Tx, rec eventstore.RecordedEvent, tenant uuid.UUID) error {
	rows, err := tx.Query(ctx, `SELECT org_id, org_name, tenant_id, org_code, org_level, one_org_id, two_org_id, three_org_id,
    four_org_id, five_org_id, six_org_id, parent_org_id, is_enable, note, c_uid, m_uid, ctime, utime
FROM orgs WHERE tenant_id = $1 ORDER BY org_id`, tenant)
	if err != nil {
		return fmt.Errorf("read orgs of tenant %s: %w", tenant, err)
	}
	nodes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*orgTreeNode, error) {
		n := &orgTreeNode{Children: []*orgTreeNode{}}
		err := row.Scan(&n.OrgID, &n.OrgName, &n.TenantID, &n.OrgCode, &n.OrgLevel, &n.OneOrgID, &n.TwoOrgID,
			&n.ThreeOrgID, &n.FourOrgID, &n.FiveOrgID, &n.SixOrgID, &n.ParentOrgID, &n.IsEnable, &n.Note,
			&n.CUID, &n.MUID, &n.CTime, &n.UTime)
		n.InUTC()
		return n, err
	})
	if err != nil {
		return fmt.Errorf("read orgs of tenant %s: %w", tenant, err)
	}
	if len(nodes) == 0 {
		tx.Queue(`DELETE FROM org_trees WHERE tenant_id = $1`, tenant)
		return nil
	}
	byID := make(map[int64]*orgTreeNode, len(nodes))
	for _, n := range nodes {
		byID[n.OrgID] = n
	}
	roots := []*orgTreeNode{}
	for _, n := range nodes { // by org_id, so every children list is too
		if parent, ok := byID[n.ParentOrgID]; ok && n.ParentOrgID != 0 {
			parent.Children = append(parent.Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	tree, err := json.Marshal(roots)
	if err != nil {
		return fmt.Errorf("encode org tree of tenant %s: %w", tenant, err)
	}
	tx.Queue(`INSERT INTO org_trees (tenant_id, tree, utime, version) VALUES ($1, $2, $3, $4)
ON CONFLICT (tenant_id) DO UPDATE SET tree = excluded.tree, utime = excluded.utime, version = excluded.version`,
		tenant, tree, rec.Metadata.OccurredAt, int64(rec.StreamVersion))
	return nil
}
