package runs

import "github.com/skillflaw/skillflaw-go/engine"

// Compact writes v as FastAPI's JSONResponse (and pydantic's
// model_dump_json) do: engine.CompactDumps (no spaces, key order kept
// for obj, text as UTF-8).
func Compact(v any) []byte { return engine.CompactDumps(v) }
