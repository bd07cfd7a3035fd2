// Package domain holds the aggregates of SkillFlaw and the events they
// record. It is pure Go: no SQL, no HTTP, and no clock or random source that
// is not passed in. Every other package depends on it; it depends on none of
// them.
package domain
