package runs

import (
	"github.com/skillflaw/skillflaw-go/engine"
	"github.com/skillflaw/skillflaw-go/httpapi"
)

// RegisterCatalogue serves the component catalogue (#49) of reg on s.
func RegisterCatalogue(s *httpapi.Server, reg *engine.Registry) {}
