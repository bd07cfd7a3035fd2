package components

import (
	"context"
	"strings"
	"time"
	_ "time/tzdata" // the IANA database, whatever the host has

	"github.com/skillflaw/skillflaw-go/engine"
)

// CurrentDate is Langflow's Current Date: the run's time (the engine's
// clock, so that tests pin it) in the chosen IANA timezone, as the
// message "Current date and time in <tz>: YYYY-MM-DD HH:MM:SS <abbr>".
// An unknown timezone is not a failure: the message is Langflow's
// "Error: 'No time zone found with key <tz>'". Only names of the IANA
// database are accepted ("Local" and paths are not).
type CurrentDate struct{}

// Spec implements engine.Component.
func (CurrentDate) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "CurrentDate", Category: "utilities", DisplayName: "Current Date",
		Description: "Returns the current date and time in the selected timezone.", Icon: "clock",
		BaseClasses: []string{"Message"},
		Fields: []engine.FieldSpec{
			dropdownInput("timezone", "Timezone", "UTC", timezones, toolArg,
				info("Select the timezone for the current date and time.")),
		},
		Outputs: []engine.OutputSpec{output("current_date", "Current Date", "get_current_date")},
	}
}

// timezones are the dropdown's options: Langflow lists every name of the
// host's database; these are the common ones, and any IANA name is
// accepted.
var timezones = []string{
	"UTC", "Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Africa/Nairobi",
	"America/Anchorage", "America/Argentina/Buenos_Aires", "America/Bogota", "America/Chicago", "America/Denver",
	"America/Halifax", "America/Los_Angeles", "America/Mexico_City", "America/New_York", "America/Phoenix",
	"America/Santiago", "America/Sao_Paulo", "America/Toronto", "Asia/Bangkok", "Asia/Dubai", "Asia/Hong_Kong",
	"Asia/Jakarta", "Asia/Jerusalem", "Asia/Karachi", "Asia/Kolkata", "Asia/Manila", "Asia/Seoul", "Asia/Shanghai",
	"Asia/Singapore", "Asia/Taipei", "Asia/Tehran", "Asia/Tokyo", "Atlantic/Reykjavik", "Australia/Adelaide",
	"Australia/Brisbane", "Australia/Perth", "Australia/Sydney", "Europe/Amsterdam", "Europe/Athens", "Europe/Berlin",
	"Europe/Dublin", "Europe/Istanbul", "Europe/Lisbon", "Europe/London", "Europe/Madrid", "Europe/Moscow",
	"Europe/Paris", "Europe/Rome", "Europe/Stockholm", "Europe/Warsaw", "Europe/Zurich", "Pacific/Auckland",
	"Pacific/Honolulu",
}

// Build implements engine.Component.
func (CurrentDate) Build(_ context.Context, b *engine.Build) error {
	tz := b.Str("timezone")
	now := time.Now()
	if c := b.Env().Clock; c != nil {
		now = c()
	}
	text := "Error: 'No time zone found with key " + tz + "'"
	if loc, ok := loadZone(tz); ok {
		text = "Current date and time in " + tz + ": " + now.In(loc).Format("2006-01-02 15:04:05 MST")
	}
	setText(b, "current_date", text)
	return nil
}

// loadZone loads an IANA zone by name, as Python's ZoneInfo accepts it.
func loadZone(name string) (*time.Location, bool) {
	if name == "" || name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}
