package runs

import "github.com/skillflaw/skillflaw-go/engine"

// The build API's events are written by Python's json.dumps (engine's
// PyDumps); objects whose key order matters are obj.

// obj is a JSON object whose keys keep their order.
type obj []kv

type kv struct {
	k string
	v any
}

// set appends k: v (obj is built in order; no lookup).
func (o *obj) set(k string, v any) { *o = append(*o, kv{k, v}) }

// PyEach implements engine.PyOrdered.
func (o obj) PyEach(f func(k string, v any)) {
	for _, m := range o {
		f(m.k, m.v)
	}
}

var (
	pyDumps       = engine.PyDumps
	writePyString = engine.WritePyString
	pyJSONFloat   = engine.PyJSONFloat
)
