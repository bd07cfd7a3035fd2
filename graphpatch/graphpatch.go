// Package graphpatch records a change of a JSON document (a flow's graph)
// as an RFC 6902 JSON Patch and applies such patches.
//
// Diff computes a patch with github.com/wI2L/jsondiff, numbers kept as
// written (json.Number), arrays compared index by index (an edit that moves
// or changes nodes in place gives a few operations; an insertion in the
// middle of a list gives many, and the caller then records the whole graph
// instead). Apply edits the document's text in place with tidwall's
// gjson/sjson (jsondiff's own dependencies) for the operations such an edit
// needs, and hands any other patch to github.com/evanphx/json-patch/v5;
// either way every part of the document that no operation touches stays
// as written. Diff checks its own work: it returns a patch only when Apply of
// it to from gives a document Equal to to, so a patch recorded once
// reproduces the graph it stands for whatever quirk either library has.
//
// All three libraries are pure computations (no I/O, no clock, no
// randomness). Package domain, which depends on nothing, declares what it
// needs (domain.GraphPatcher); Patcher is that, and the code that loads or
// folds flows hands it over (LoadFlow).
package graphpatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/uuid"
	"github.com/wI2L/jsondiff"

	"github.com/skillflaw/skillflaw-go/domain"
)

// ErrNotExact is Diff's answer when the patch it computed does not give
// back the target document (Apply(from, patch) is not Equal to to).
var ErrNotExact = errors.New("graphpatch: the patch does not reproduce the target")

// Diff returns the RFC 6902 patch (a JSON array of operations) that turns
// document from into document to: empty ("[]") when they are Equal.
func Diff(from, to []byte) (json.RawMessage, error) {
	patch, _, err := diff(from, to)
	return patch, err
}

// diff is Diff, also returning the patch's number of operations.
func diff(from, to []byte) (json.RawMessage, int, error) {
	var src, tgt any
	if err := unmarshalNumbers(from, &src); err != nil {
		return nil, 0, fmt.Errorf("graphpatch: diff: from: %w", err)
	}
	if err := unmarshalNumbers(to, &tgt); err != nil {
		return nil, 0, fmt.Errorf("graphpatch: diff: to: %w", err)
	}
	p, err := jsondiff.CompareWithoutMarshal(src, tgt)
	if err != nil {
		return nil, 0, fmt.Errorf("graphpatch: diff: %w", err)
	}
	if p == nil {
		p = jsondiff.Patch{}
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, 0, fmt.Errorf("graphpatch: diff: %w", err)
	}
	got, err := Apply(from, raw)
	if err != nil {
		return nil, 0, fmt.Errorf("graphpatch: diff: %w", err)
	}
	var back any
	if err := unmarshalNumbers(got, &back); err != nil || !equalValues(back, tgt) {
		return nil, 0, ErrNotExact
	}
	return raw, len(p), nil
}

// Apply applies patches, in order, to doc and returns the new document.
// Several patches are applied as one: their operations in sequence. A
// patch of the operations Diff makes for an edit in place (replace,
// remove, add to an object or at the end of an array, at plain paths) is
// applied to the text where it points, the rest of the document copied as
// written; any other goes through json-patch, which decodes the document
// (lazily) and encodes it compact. Both leave untouched values as written.
func Apply(doc []byte, patches ...json.RawMessage) (json.RawMessage, error) {
	var ops []operation
	for _, raw := range patches {
		var p []operation
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("graphpatch: decode patch: %w", err)
		}
		ops = append(ops, p...)
	}
	if len(ops) == 0 {
		return slices.Clone(doc), nil
	}
	// doc is a graph this code folded or stored (valid JSON: applyInPlace
	// does not check it again); json-patch checks it.
	if out, ok := applyInPlace(doc, ops); ok {
		return out, nil
	}
	var all jsonpatch.Patch
	for _, raw := range patches {
		p, err := jsonpatch.DecodePatch(raw)
		if err != nil {
			return nil, fmt.Errorf("graphpatch: decode patch: %w", err)
		}
		all = append(all, p...)
	}
	out, err := all.Apply(doc)
	if err != nil {
		return nil, fmt.Errorf("graphpatch: apply: %w", err)
	}
	return out, nil
}

// Patcher is Diff and Apply as a domain.GraphPatcher. It holds nothing.
type Patcher struct{}

// Diff is the package's Diff, with the patch's number of operations.
func (Patcher) Diff(from, to []byte) (json.RawMessage, int, error) { return diff(from, to) }

// Apply is the package's Apply.
func (Patcher) Apply(doc []byte, patches ...json.RawMessage) (json.RawMessage, error) {
	return Apply(doc, patches...)
}

// LoadFlow returns an empty flow to fold the stream of id into, with the
// Patcher to fold and record its graph patches: every load of a flow goes
// through here (domain.LoadFlow alone cannot fold a patched graph).
func LoadFlow(id uuid.UUID) *domain.Flow { return domain.LoadFlow(id).WithGraphPatcher(Patcher{}) }

// Ops is the number of operations of patch (0 if it is not an array).
func Ops(patch json.RawMessage) int {
	var ops []json.RawMessage
	if json.Unmarshal(patch, &ops) != nil {
		return 0
	}
	return len(ops)
}

// Equal reports whether a and b are the same JSON value: objects equal
// whatever the order of their members, numbers equal when written alike
// (as PostgreSQL's jsonb keeps them), whitespace ignored. Invalid JSON is
// equal to nothing.
func Equal(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return json.Valid(a)
	}
	var va, vb any
	if unmarshalNumbers(a, &va) != nil || unmarshalNumbers(b, &vb) != nil {
		return false
	}
	return equalValues(va, vb)
}

func equalValues(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, va := range a {
			vb, ok := bm[k]
			if !ok || !equalValues(va, vb) {
				return false
			}
		}
		return true
	case []any:
		bs, ok := b.([]any)
		return ok && slices.EqualFunc(a, bs, equalValues)
	default:
		return a == b // nil, bool, string, json.Number
	}
}

// unmarshalNumbers is json.Unmarshal keeping numbers as json.Number.
func unmarshalNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("graphpatch: data after the JSON value")
	}
	return nil
}
