// Package logcopy moves an event log from one store to another: the use
// case behind `skillflaw migrate-log`, and the start-up check that refuses
// to serve from an empty KurrentDB log while the PostgreSQL one still
// holds the events.
//
// Copy reads the source with ReadAll, in position order, and appends each
// run of consecutive events of one stream with the expected version that
// gives the target the source's revisions (NoStream before revision 0,
// Exact(revision-1) otherwise), keeping every event's id, type, schema
// version, data bytes and metadata. So the target's log has the source's
// global order, and every fold, checkpoint-free read and audit gives the
// same answers on it. Events that were one AppendMulti in the source are
// appended per stream in the target: the order is kept, the atomicity of
// that write is history.
//
// A copy keeps a Checkpoint (State, a table of the source database) after
// every append, and a run continues from it. A stop between an append and
// its checkpoint re-sends that append: the port promises that an append
// of ids already stored, in the same stream and order, returns the
// original result and writes nothing, so the target still holds each
// event once.
//
// Verify reads both logs whole, in order, and compares their counts and a
// SHA-256 over the canonical form of each event (see Digest); Copy refuses
// at its start a target whose events are not a prefix of the source's.
package logcopy
