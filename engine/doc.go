// Package engine runs Langflow flows natively in Go.
//
// A flow's data, as Langflow stores it, is parsed (ParseFlow) and compiled
// (Compile, Engine.Compile) into a Graph: every node is dispatched on its
// data.type to a Go Component from a Registry, never to the Python source
// the node carries; a type without a Go component, or a node whose code
// was edited, is refused. Compile checks everything before anything runs
// and reports every problem at once (*InvalidFlowError).
//
// Engine.Run builds a graph's vertices the way Langflow schedules them
// (the runtime reference's §11.4): the chat input first, then every vertex
// whose predecessors are built, independent branches in parallel up to
// Limits.Parallelism; a failing vertex stops its descendants (or, with
// AbortOnError, the run); a router switches the branch it does not take
// off; frozen vertices reuse their last result. Runs are bounded in wall
// time, size and output, and cancelled through their context.
//
// The engine is plain Go: no HTTP. It reports through a Sink (the build
// API's events) and records through the Recorder port (the command API);
// components reach models, message history and variables through the
// other ports of Env. The components live in package engine/components.
package engine
