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
// # Group commit
//
// Concurrent Appends share transactions. An Append runs at once when no
// other append's statements are running (the one slot is free); else it
// waits, and every append that waits when the slot frees goes in the next
// group (at most 64): one pipeline with one Sync, which PostgreSQL runs
// as one implicit transaction, one round trip and one WAL flush. The
// group takes AppendMulti's stream locks, then appends for all members in
// one statement per layer (the i-th append to a stream in a group is in
// the i-th layer; appends to one stream keep their order), with the same
// version checks as the single statement. The slot passes on as soon as
// the group's statements have run, so the next group's statements run
// while this one's commit is flushed.
//
// Each caller keeps its own outcome. A member whose version check fails
// inserts nothing and the others commit; it gets its own
// WrongExpectedVersionError (or its earlier result, if it was a retry).
// Any other failure aborts the group's transaction as a whole (a reused
// event id, a deadlock, a lost connection): then every member runs again
// alone, exactly as a lone Append, so a failure is its own caller's and
// no one else's events are lost; a member whose group did commit before
// the connection was lost finds its events by id and gets their result.
// An Append whose ctx ends while it waits returns ctx.Err() and writes
// nothing; once its group has been taken it gets the true outcome, and
// the group is cancelled only when every member's ctx has ended.
//
// One slot measured best on the 2-core development machine: groups of
// half the writers (those of one group come back while the next one runs),
// and less than half the CPU time per event, client and server together,
// of one transaction per append. That is where the gain is: PostgreSQL
// already shares one WAL flush among concurrent commits, so while the
// server has CPU to spare the rate is bounded by latency, and an append
// that finds the slot taken waits for the running statements first.
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
