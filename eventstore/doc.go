// Package eventstore defines the Store port of the event log and what every
// adapter shares: the envelope of a recorded event, expected versions and
// positions, typed errors, and the Registry that turns stored payloads back
// into Go values (upcasting older schema versions on the way).
//
// The log is the only truth of SkillFlaw: read models, flow versions and the
// audit trail are folds over it. Adapters live in sub-packages (postgres;
// memory, for tests; kurrentdb) and all pass the conformance suite in
// storetest (kurrentdb without the cross-stream duplicate-id check, which
// KurrentDB cannot give; see storetest.Options).
package eventstore
