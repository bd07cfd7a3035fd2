// Package config reads SkillFlaw's settings from environment variables, the
// way Langflow reads its LANGFLOW_* variables: every setting has a
// SKILLFLAW_* variable and a default, and an invalid value is an error that
// names the variable. Load never reads the process environment itself; the
// caller passes os.Getenv (tests pass a map lookup).
package config
