package projections

import "time"

// Audited is what the read model of an entity records beside the entity
// itself: who created it and who changed it last (c_uid, m_uid: the actors
// of its first and latest events) and when (ctime, utime). The API's
// entities are their domain state followed by these fields, so readapi's
// types (and the stored trees) embed the domain state and then Audited.
type Audited struct {
	CUID  int64     `json:"c_uid"`
	MUID  int64     `json:"m_uid"`
	CTime time.Time `json:"ctime"`
	UTime time.Time `json:"utime"`
}

// InUTC puts a's times in UTC, as the API shows them.
func (a *Audited) InUTC() { a.CTime, a.UTime = a.CTime.UTC(), a.UTime.UTC() }
