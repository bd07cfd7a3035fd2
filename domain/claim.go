package domain

import "strings"

// Claim makes a value unique within a scope ("username", later flow
// endpoint names, org codes …). Its stream is the value's: whoever appends
// ClaimTaken to it first, in the same atomic multi-stream append as the
// owner's own event, holds the value; the loser's append fails on the
// claim stream's expected version, so two owners can never both commit.
// Releasing it (owner renamed or deleted) lets another owner take it.
type Claim struct {
	root  Root
	scope string
	key   string
	value string
	owner string
}

// ClaimTaken records that owner now holds value in scope.
type ClaimTaken struct {
	Scope string `json:"scope"`
	Value string `json:"value"`
	Owner string `json:"owner"`
}

// ClaimReleased records that owner gave value up.
type ClaimReleased struct {
	Scope string `json:"scope"`
	Value string `json:"value"`
	Owner string `json:"owner"`
}

func (ClaimTaken) EventType() string    { return "claim.taken" }
func (ClaimReleased) EventType() string { return "claim.released" }

// ClaimEvents lists the claim events with their schema versions.
func ClaimEvents() []Schema { return V1(ClaimTaken{}, ClaimReleased{}) }

// ClaimKey is the form a value is compared in: case does not make two
// values different (whitespace does: "N" and "N " are two names, as in
// Langflow).
func ClaimKey(value string) string { return strings.ToLower(value) }

// NewClaim returns the claim of value in scope, to load its stream into.
func NewClaim(scope, value string) *Claim {
	return &Claim{scope: scope, key: ClaimKey(value), value: value}
}

// ClaimStream names the stream of the claim of value in scope.
func ClaimStream(scope, value string) string { return "claim-" + scope + "-" + ClaimKey(value) }

// StreamID implements commands.Aggregate.
func (c *Claim) StreamID() string { return "claim-" + c.scope + "-" + c.key }

// Root implements commands.Aggregate.
func (c *Claim) Root() *Root { return &c.root }

// Owner returns who holds the value ("" when free).
func (c *Claim) Owner() string { return c.owner }

// Take gives the value to owner. Taking a value one already holds records
// nothing; taking one held by another is a conflict carrying msg.
func (c *Claim) Take(owner, msg string) error {
	switch c.owner {
	case owner:
		return nil
	case "":
		record(c, ClaimTaken{Scope: c.scope, Value: c.value, Owner: owner})
		return nil
	default:
		return Conflictf("%s", msg)
	}
}

// Release frees the value if owner holds it.
func (c *Claim) Release(owner string) {
	if c.owner == owner && owner != "" {
		record(c, ClaimReleased{Scope: c.scope, Value: c.value, Owner: owner})
	}
}

// Apply implements commands.Aggregate.
func (c *Claim) Apply(e Event) {
	switch e := e.(type) {
	case ClaimTaken:
		c.owner, c.value = e.Owner, e.Value
	case ClaimReleased:
		if c.owner == e.Owner {
			c.owner = ""
		}
	}
}

// RaceRule implements Raced: a name taken meanwhile is picked again (a
// write that claims a name re-checks it on the claim's new state).
func (*Claim) RaceRule() RaceRule { return Shared }
