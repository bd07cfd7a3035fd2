package components

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/skillflaw/skillflaw-go/engine"
)

func TestCurrentDate_UsesTheRunsClock(t *testing.T) {
	t.Parallel()
	reg := netRegistry(t)
	env := engine.Env{Clock: func() time.Time { return time.Date(2025, 6, 1, 12, 30, 5, 0, time.UTC) }}
	for tz, want := range map[string]string{
		"UTC":              "Current date and time in UTC: 2025-06-01 12:30:05 UTC",
		"Europe/Paris":     "Current date and time in Europe/Paris: 2025-06-01 14:30:05 CEST",
		"America/New_York": "Current date and time in America/New_York: 2025-06-01 08:30:05 EDT",
		"Asia/Kolkata":     "Current date and time in Asia/Kolkata: 2025-06-01 18:00:05 IST",
		"Mars/Olympus":     "Error: 'No time zone found with key Mars/Olympus'",
		"../../etc/passwd": "Error: 'No time zone found with key ../../etc/passwd'",
		"Local":            "Error: 'No time zone found with key Local'",
	} {
		r := runNode(t, reg, env, "CurrentDate-1", "CurrentDate", map[string]any{"timezone": tz})
		assert.Equal(t, want, outText(t, r, "CurrentDate-1", "current_date"), tz)
	}
}
