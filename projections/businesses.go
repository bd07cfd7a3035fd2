package projections

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
)

// BusinessesName names the read model of businesses.
const BusinessesName = "businesses"

// Businesses builds the businesses read models from the events of the
// tenants' BusinessTree aggregates:
//
//   - businesses: one row per business, with every field of the API's
//     answer; c_uid and ctime come from the adding event's metadata, m_uid
//     and utime from the latest change (a business moved along with its
//     parent changes too).
//   - business_trees: one JSON document per tenant, its businesses nested
//     (level-1 nodes, their "children", theirs), each node the API's
//     business plus "children", ordered by id. The projector rewrites the
//     tenant's document from its rows after every change of its
//     businesses, so reads never walk the tree.
//   - business_user_roles: one row per business role relation (id, user,
//     role; c_uid and ctime from the granting event's metadata).
//   - business_users: the users of each business: a user has a row while
//     they hold a role there (business.user_roles_set adds it, the removal
//     of their last role, business.user_removed or business.removed
//     deletes it).
func Businesses() *Projection {
	p := New(BusinessesName, "businesses", "business_trees", "business_users", "business_user_roles")
	touch := func(tx *Tx, rec eventstore.RecordedEvent, tenant uuid.UUID, id int64, set string, args ...any) {
		all := append([]any{id, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt}, args...)
		tx.Queue(`UPDATE businesses SET `+set+`, m_uid = $2, utime = $3 WHERE business_id = $1`, all...)
		queueBusinessTree(tx, tenant)
	}
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.BusinessAdded) error {
		tx.Queue(`INSERT INTO businesses (business_id, tenant_id, business_name, business_level, first_business_id,
    second_business_id, third_business_id, is_enable, note, c_uid, m_uid, ctime, utime)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $11)`,
			e.BusinessID, e.TenantID, e.BusinessName, e.BusinessLevel, e.FirstBusinessID, e.SecondBusinessID,
			e.ThirdBusinessID, e.IsEnable, e.Note, rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		queueBusinessTree(tx, e.TenantID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.BusinessRenamed) error {
		touch(tx, rec, e.TenantID, e.BusinessID, `business_name = $4`, e.BusinessName)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.BusinessEnabled) error {
		touch(tx, rec, e.TenantID, e.BusinessID, `is_enable = true`)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.BusinessDisabled) error {
		touch(tx, rec, e.TenantID, e.BusinessID, `is_enable = false`)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.BusinessNoteChanged) error {
		touch(tx, rec, e.TenantID, e.BusinessID, `note = $4`, e.Note)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.BusinessMoved) error {
		touch(tx, rec, e.TenantID, e.BusinessID, `first_business_id = $4, second_business_id = $5, third_business_id = $6`,
			e.FirstBusinessID, e.SecondBusinessID, e.ThirdBusinessID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.BusinessRemoved) error {
		tx.Queue(`DELETE FROM businesses WHERE business_id = $1`, e.BusinessID)
		tx.Queue(`DELETE FROM business_users WHERE business_id = $1`, e.BusinessID)
		tx.Queue(`DELETE FROM business_user_roles WHERE business_id = $1`, e.BusinessID)
		queueBusinessTree(tx, e.TenantID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.BusinessUserRemoved) error {
		tx.Queue(`DELETE FROM business_users WHERE business_id = $1 AND uid = $2`, e.BusinessID, e.UID)
		tx.Queue(`DELETE FROM business_user_roles WHERE business_id = $1 AND uid = $2`, e.BusinessID, e.UID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, rec eventstore.RecordedEvent, e domain.BusinessUserRolesSet) error {
		if len(e.RemovedIDs) > 0 {
			tx.Queue(`DELETE FROM business_user_roles WHERE id = ANY($1)`, e.RemovedIDs)
		}
		for _, r := range e.Added {
			tx.Queue(`INSERT INTO business_user_roles (id, tenant_id, business_id, uid, role_id, c_uid, ctime)
VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ID, e.TenantID, e.BusinessID, e.UID, r.RoleID,
				rec.Metadata.ActorUserID, rec.Metadata.OccurredAt)
		}
		tx.Queue(`INSERT INTO business_users (tenant_id, business_id, uid) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			e.TenantID, e.BusinessID, e.UID)
		return nil
	})
	On(p, func(_ context.Context, tx *Tx, _ eventstore.RecordedEvent, e domain.BusinessUserRolesRemoved) error {
		ids, uids := make([]int64, len(e.Relations)), make([]int64, len(e.Relations))
		for i, r := range e.Relations {
			ids[i], uids[i] = r.ID, r.UID
		}
		tx.Queue(`DELETE FROM business_user_roles WHERE id = ANY($1)`, ids)
		tx.Queue(`DELETE FROM business_users m WHERE m.business_id = $1 AND m.uid = ANY($2)
    AND NOT EXISTS (SELECT 1 FROM business_user_roles r WHERE r.business_id = m.business_id AND r.uid = m.uid)`,
			e.BusinessID, uids)
		return nil
	})
	return p
}

// businessNode is the JSON of business row a as a node of the tree: the
// API's business (times in UTC, to the microsecond, as the rows keep them)
// followed by children.
func businessNode(a, children string) string {
	stamp := func(col string) string {
		return fmt.Sprintf(`to_char(%s.%s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, a, col)
	}
	return fmt.Sprintf(`jsonb_build_object('tenant_id', %[1]s.tenant_id, 'business_name', %[1]s.business_name,
    'business_level', %[1]s.business_level, 'first_business_id', %[1]s.first_business_id,
    'second_business_id', %[1]s.second_business_id, 'third_business_id', %[1]s.third_business_id,
    'is_enable', %[1]s.is_enable, 'note', %[1]s.note, 'business_id', %[1]s.business_id, 'c_uid', %[1]s.c_uid,
    'm_uid', %[1]s.m_uid, 'ctime', %[2]s, 'utime', %[3]s, 'children', %[4]s)`, a, stamp("ctime"), stamp("utime"), children)
}

// businessTreeSQL rewrites the tree of tenant $1 from its rows: three
// levels, each ordered by id (level 2 under its first_business_id, level 3
// under its second_business_id).
var businessTreeSQL = func() string {
	level3 := `coalesce((SELECT jsonb_agg(` + businessNode("b3", `'[]'::jsonb`) + ` ORDER BY b3.business_id)
    FROM businesses b3 WHERE b3.tenant_id = $1 AND b3.business_level = 3 AND b3.second_business_id = b2.business_id), '[]'::jsonb)`
	level2 := `coalesce((SELECT jsonb_agg(` + businessNode("b2", level3) + ` ORDER BY b2.business_id)
    FROM businesses b2 WHERE b2.tenant_id = $1 AND b2.business_level = 2 AND b2.first_business_id = b1.business_id), '[]'::jsonb)`
	return `INSERT INTO business_trees AS t (tenant_id, tree)
SELECT $1, coalesce(jsonb_agg(` + businessNode("b1", level2) + ` ORDER BY b1.business_id), '[]'::jsonb)
FROM businesses b1 WHERE b1.tenant_id = $1 AND b1.business_level = 1
ON CONFLICT (tenant_id) DO UPDATE SET tree = excluded.tree`
}()

// queueBusinessTree queues the rewrite of tenant's tree, after the row
// changes queued before it.
func queueBusinessTree(tx *Tx, tenant uuid.UUID) { tx.Queue(businessTreeSQL, tenant) }
