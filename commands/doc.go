// Package commands holds the write side: one handler per command that loads
// an aggregate, lets it decide, and appends what it recorded with an
// expected version (optimistic concurrency: a lost race is a 409, never an
// overwrite). Each handler returns where its events landed in the log, so
// the HTTP layer can make the caller's next read see them.
package commands
