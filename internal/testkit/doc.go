// Package testkit is test support shared by the packages of SkillFlaw: a
// fresh, migrated PostgreSQL database per test on the cluster that
// `make test` starts, and Tally, a minimal event-sourced aggregate with its
// projection and routes that exercises the spine without any real feature.
// Only tests import it.
package testkit
