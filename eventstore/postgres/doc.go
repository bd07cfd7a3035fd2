// Package postgres is the PostgreSQL adapter of the event store (pgx/v5).
//
// # Appends
//
// One statement checks the expected version against the streams table and
// inserts the events, in one round trip and one transaction (a single
// statement, no server-side function: it costs a quarter less server CPU
// than the same work in PL/pgSQL). Idempotency by event id rides on the
// events_event_id_key constraint: when an append fails on it, or on the
// version check, the adapter looks the event ids up and returns the stored
// result if the call was a retry of an append that had succeeded.
//
// AppendMulti runs the same statement once per stream, in call order, in
// one transaction whose failure is analysed only after its rollback; it
// first takes advisory locks on its streams, in one order, so that calls on
// the same streams queue instead of deadlocking. Each statement moves its
// stream's row before it takes positions, so the transaction has its id
// before its first position, and it holds the events-table lock from its
// first insert to its end: the gap-safe reader's assumptions below hold
// for it as for a single append.
//
// # Gap-safe reading of the global log
//
// global_position comes from a sequence, so it is taken at INSERT but seen at
// COMMIT: a reader that has seen position 8 may not yet see position 7, whose
// transaction commits later (or never). A reader that moved past 7 would lose
// it for ever. The reader here never passes a hole it cannot prove final:
//
//   - Rows are delivered while positions are contiguous (last+1).
//   - At a hole, the reader stops and remembers the highest position P its
//     read saw. Every position below P was allocated before that read (P's
//     transaction had committed), and an appender takes the events-table
//     lock when its statement starts, before it allocates a position, and
//     keeps it to its end. So whichever transaction holds a missing
//     position holds that lock when the reader looks next (one query over
//     pg_locks, after the read), or has ended: the reader notes those
//     transactions by virtual transaction id.
//   - Once none of them holds the lock any more (each has ended), a fresh
//     read sees every hole below P filled or final, and the reader may step
//     over the final ones. Long transactions that never append, and appends
//     that begin later, do not hold followers up.
//
// (An earlier version looked for the appenders in the read's snapshot, in
// its list of transactions in progress; but a snapshot leaves out running
// transactions whose id is above the latest completed one, so a follower
// could step over a hole whose transaction committed later. The
// conformance test read_all_and_follow_see_every_event_in_order caught it
// about once in twenty runs.)
//
// Holes come only from appends that failed after allocating a position, so
// the extra queries are rare; a follower waiting on one is woken by the
// append's commit or retries within milliseconds.
//
// # Waking followers
//
// After each append the adapter wakes the followers of its own process at
// once, and sends one coalesced NOTIFY (outside the append's transaction, so
// writers never serialise on the notify queue lock) that wakes followers in
// other processes, which LISTEN on a dedicated connection. A slow poll is
// only a safety net.
package postgres
