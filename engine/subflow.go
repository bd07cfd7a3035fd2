package engine

import "context"

// SubFlows runs another flow for a component (Run Flow): as the run's
// user, who must be allowed to run it, one level deeper than the run.
type SubFlows interface {
	RunFlow(ctx context.Context, run RunInfo, req SubFlowRequest) (*SubFlowResult, error)
}

// SubFlowRequest is a sub-flow to run.
type SubFlowRequest struct {
	// Flow is the flow's id or name.
	Flow string
	// InputValue goes to its chat input (nil: none); Tweaks change its
	// fields (see Tweaks).
	InputValue *string
	Tweaks     Tweaks
	// Session is the chat session (default: the caller's).
	Session string
}

// SubFlowResult is what a sub-flow answered: the outputs of its output
// vertices, in graph order.
type SubFlowResult struct {
	Outputs []Value
}
