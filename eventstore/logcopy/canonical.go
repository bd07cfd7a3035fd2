package logcopy

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"time"

	"github.com/skillflaw/skillflaw-go/eventstore"
)

// Digest is a running SHA-256 over the canonical form of a log's events.
// The canonical form of an event is, in order: its id (16 bytes), stream,
// revision, type, schema version, data bytes, and the metadata fields
// (actor user id, tenant id, business id, correlation id, causation id,
// client ip, occurred-at in RFC 3339 with nanoseconds, UTC); integers are
// 8 bytes big-endian, strings and bytes are preceded by their length.
// Positions and recording times are not part of it: they belong to the
// store that holds the event.
type Digest struct {
	h   hash.Hash
	buf []byte
	n   int64
}

// NewDigest returns the Digest of an empty log.
func NewDigest() *Digest { return &Digest{h: sha256.New()} }

// Add adds the next event of the log.
func (d *Digest) Add(e eventstore.RecordedEvent) {
	d.buf = appendCanonical(d.buf[:0], e)
	d.h.Write(d.buf)
	d.n++
}

// Count is how many events were added.
func (d *Digest) Count() int64 { return d.n }

// Sum is the hex SHA-256 of the events added so far.
func (d *Digest) Sum() string {
	return hex.EncodeToString(d.h.Sum(nil))
}

func appendCanonical(b []byte, e eventstore.RecordedEvent) []byte {
	str := func(b []byte, s []byte) []byte {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		return append(b, s...)
	}
	m := e.Metadata
	b = append(b, e.ID[:]...)
	b = str(b, []byte(e.StreamID))
	b = binary.BigEndian.AppendUint64(b, e.StreamVersion)
	b = str(b, []byte(e.Type))
	b = binary.BigEndian.AppendUint64(b, uint64(int64(e.SchemaVersion)))
	b = str(b, e.Data)
	b = binary.BigEndian.AppendUint64(b, uint64(m.ActorUserID))
	b = append(b, m.TenantID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(m.BusinessID))
	b = str(b, []byte(m.CorrelationID))
	b = str(b, []byte(m.CausationID))
	b = str(b, []byte(m.ClientIP))
	return str(b, []byte(m.OccurredAt.UTC().Format(time.RFC3339Nano)))
}

// differs names the first part of the canonical form in which a and b
// differ ("" when they are equal).
func differs(a, b eventstore.RecordedEvent) string {
	ma, mb := a.Metadata, b.Metadata
	switch {
	case a.ID != b.ID:
		return "id"
	case a.StreamID != b.StreamID:
		return "stream"
	case a.StreamVersion != b.StreamVersion:
		return "revision"
	case a.Type != b.Type:
		return "type"
	case a.SchemaVersion != b.SchemaVersion:
		return "schema version"
	case !bytes.Equal(a.Data, b.Data):
		return "data"
	case ma.ActorUserID != mb.ActorUserID, ma.TenantID != mb.TenantID, ma.BusinessID != mb.BusinessID,
		ma.CorrelationID != mb.CorrelationID, ma.CausationID != mb.CausationID, ma.ClientIP != mb.ClientIP,
		!ma.OccurredAt.Equal(mb.OccurredAt):
		return "metadata"
	}
	return ""
}
