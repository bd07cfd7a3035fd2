package components

import (
	"context"

	"github.com/skillflaw/skillflaw-go/engine"
)

// LoopComponent is Langflow's Loop (runtime reference §11.8): for each
// item of its data input (a DataFrame's rows, a Data, a Message, or a
// list of them, each as a Data) the item output gives the item to the
// loop's body, and what the body's end sends back into item is
// collected; done then gives the collected results as a DataFrame (a
// Message's as its text). The body runs inside the loop's build, once per
// item (engine.Build.RunLoop), as Langflow 1.7+ runs it as a subgraph;
// afterwards item gives an empty Data and the body is switched off for
// the rest of the run. A loop without an edge back into item has no body:
// done gives the items themselves.
type LoopComponent struct{}

// Spec implements engine.Component.
func (LoopComponent) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "LoopComponent", Category: "flow_controls", DisplayName: "Loop",
		Description: "Iterates over a list of Data or Message objects, outputting one item at a time and " +
			"aggregating results from loop inputs. Message objects are automatically converted to " +
			"Data objects for consistent processing.",
		Icon: "infinity", BaseClasses: []string{"Data", "DataFrame"}, Loop: true,
		Fields: []engine.FieldSpec{
			handleInput("data", "Inputs", []string{"DataFrame"}, info("The initial DataFrame to iterate over.")),
		},
		Outputs: []engine.OutputSpec{
			{Name: "item", DisplayName: "Item", Method: "item_output", Types: []string{"Data"}, AllowsLoop: true, GroupOutputs: true},
			{Name: "done", DisplayName: "Done", Method: "done_output", Types: []string{"DataFrame"}, GroupOutputs: true},
		},
	}
}

// Build implements engine.Component.
func (LoopComponent) Build(ctx context.Context, b *engine.Build) error {
	in, _ := b.Param("data")
	items, err := engine.LoopItems(in)
	if err != nil {
		return err
	}
	collected := items
	if b.HasLoopBack("item") {
		if collected, err = b.RunLoop(ctx, "item", items); err != nil {
			return err
		}
	}
	rows := make([]map[string]any, 0, len(collected))
	for _, v := range collected {
		switch x := v.(type) {
		case nil:
		case *engine.Data:
			rows = append(rows, x.Map)
		case *engine.Message:
			rows = append(rows, map[string]any{"text": x.Text})
		case *engine.DataFrame:
			rows = append(rows, x.Rows...)
		default:
			rows = append(rows, map[string]any{"text": engine.Text(v)})
		}
	}
	done := engine.NewDataFrame(rows)
	b.Set("item", engine.NewData(map[string]any{"text": ""}))
	b.Set("done", done)
	b.SetStatus(done)
	return nil
}
