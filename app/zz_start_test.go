package app_test

import (
	"testing"
	"time"

	"github.com/skillflaw/skillflaw-go/app"
)

func TestZZStartCost(t *testing.T) {
	for name, mods := range map[string]func() []app.Module{"identity": func() []app.Module { return []app.Module{&app.Identity{}} }, "all": accModules} {
		t0 := time.Now()
		for range 10 {
			h := startApp(t, options{env: adminEnv("root", "rootpassword1"), modules: mods()})
			h.stop()
		}
		t.Logf("%s: %v per start", name, time.Since(t0)/10)
		h := startApp(t, options{env: adminEnv("root", "rootpassword1"), modules: mods()})
		t.Logf("%s: events %v", name, h.textRows(t, "SELECT count(*)::text FROM events"))
		h.stop()
	}
}
