// Package app assembles a SkillFlaw process: the PostgreSQL pool, the event
// store, the registry of event types, the projections runtime and the HTTP
// server, from a Config and the feature Modules. cmd/skillflaw parses the
// command line and calls it; tests build the same App with test modules.
package app
