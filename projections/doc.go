// Package projections runs the projectors that turn the event log into
// PostgreSQL read models, as Watermill handlers.
//
// # Delivery and exactly-once effect
//
// A Runtime owns one Watermill router with the Retry and Recoverer
// middlewares and one handler per Projection. The router's subscriber is
// logSubscriber: for each projection it follows the log from the
// projection's checkpoint (eventstore.Store.Follow, gap-safe, in position
// order) and delivers the events of a batch that the projection handles as
// one message whose context carries the events and the batch's transaction
// (one hand-over through the router per batch, not per event). When the
// message is acked, the subscriber flushes the handlers' queued statements together
// with the checkpoint update, in one round trip, and commits. The checkpoint
// update only applies if the row still holds the position the batch started
// from, so a redelivered event changes nothing and two instances of one
// projector never both apply an event (the loser repositions).
//
// Projector transactions run with synchronous_commit off: a crash can lose
// only work whose checkpoint rolls back with it, and that work is redone.
//
// # Failures
//
// A handler error in a batch rolls the batch back and replays it one event
// per transaction. There the Retry middleware retries the handler with
// backoff, each attempt inside a savepoint. If the event still fails, the
// error, its position and the count of failures are recorded on the
// checkpoint row (shown by `skillflaw projections status`), and the
// projector retries that event with exponential backoff (up to a minute),
// stopping there rather than skipping it: a read model never silently lacks
// an event. Other projectors and the API carry on.
//
// Events of types the running binary does not know are counted per type on
// the checkpoint row and logged, never silently dropped.
//
// # Read your writes
//
// Runtime.WaitFor blocks until projections have processed a position; the
// HTTP layer uses it to answer writes only once their read models show them,
// and to honour X-Min-Position on reads.
//
// # Rebuild
//
// Runtime.Rebuild replays a projection from position 0 into shadow copies of
// its tables (schema rebuild_<name>) while the live tables keep serving, then
// swaps the contents in one transaction that holds the checkpoint row.
package projections
