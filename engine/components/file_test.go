package components

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/engine"
)

func fileHarness(t *testing.T, files *memFiles) *harnessWith {
	return newHarnessWith(t, func(e *engine.Env) { e.Files = files }, File{MaxBytes: 64})
}

// fileFlow is a File node of paths whose output out feeds a ChatOutput.
func fileFlow(h *harnessWith, t *testing.T, out string, vals map[string]any, paths ...string) []byte {
	list := make([]any, len(paths))
	for i, p := range paths {
		list[i] = p
	}
	if vals == nil {
		vals = map[string]any{}
	}
	vals["path"] = fieldSpec("file_path", list)
	return h.flow(t).node("File-f", "", vals).node("ChatOutput-c", "", nil).
		edge("File-f", out, "ChatOutput-c", "input_value").bytes()
}

func TestFile_Formats(t *testing.T) {
	t.Parallel()
	files := &memFiles{files: map[string]memFile{
		"7/notes.txt":   {owner: 7, content: "plain text"},
		"7/readme.md":   {owner: 7, content: "# Title\n\nbody"},
		"7/config.json": {owner: 7, content: "{\n  \"b\": 1,\n  \"a\": [true, null]\n}"},
		"7/list.json":   {owner: 7, content: "[1, 2]"},
		"7/table.csv":   {owner: 7, content: "name,score,ok,note\nAnn,1.5,True,\nBob,2,false,x\n"},
		"flow-9/a.md":   {owner: 7, content: "flow file"},
	}}
	h := fileHarness(t, files)
	run := func(out string, paths ...string) *engine.RunResult {
		res, _ := h.run(t, fileFlow(h, t, out, nil, paths...), engine.RunInput{})
		return res
	}

	res := run("message", "7/notes.txt")
	m := outValue(t, res, "File-f", "message").(*engine.Message)
	assert.Equal(t, "plain text", m.Text)
	assert.Equal(t, map[string]any{"filename": "notes.txt", "file_size": int64(10), "mimetype": "text/plain"}, m.Data)

	res = run("message", "7/readme.md", "flow-9/a.md")
	assert.Equal(t, "# Title\n\nbody\n\nflow file", outText(t, res, "File-f", "message"), "several files joined by the separator")

	res = run("message", "7/config.json")
	assert.Equal(t, `{"b":1,"a":[true,null]}`, outText(t, res, "File-f", "message"), "JSON compacted, key order kept")
	res, _ = h.run(t, h.flow(t).node("File-f", "", map[string]any{"path": fieldSpec("file_path", []any{"7/config.json"})}).
		node("ParserComponent-p", "", map[string]any{"pattern": "{a}|{b}"}).
		edge("File-f", "json", "ParserComponent-p", "input_data").bytes(), engine.RunInput{})
	assert.Equal(t, "[True, None]|1", outText(t, res, "ParserComponent-p", "parsed_text"), "json: the object as a Data")
	res, _ = h.run(t, h.flow(t).node("File-f", "", map[string]any{"path": fieldSpec("file_path", []any{"7/list.json"})}).
		node("ParserComponent-p", "", map[string]any{"pattern": "{value}"}).
		edge("File-f", "json", "ParserComponent-p", "input_data").bytes(), engine.RunInput{})
	assert.Equal(t, "[1,2]", outText(t, res, "ParserComponent-p", "parsed_text"), "not an object: {value: text}")

	res = run("dataframe", "7/table.csv")
	df := outValue(t, res, "File-f", "dataframe").(*engine.DataFrame)
	assert.Equal(t, []map[string]any{
		{"name": "Ann", "score": 1.5, "ok": true, "note": nil},
		{"name": "Bob", "score": 2.0, "ok": false, "note": "x"},
	}, df.Rows, "CSV rows, typed per column")
	res = run("message", "7/table.csv")
	assert.Equal(t, "name,score,ok,note\nAnn,1.5,True,\nBob,2,false,x\n", outText(t, res, "File-f", "message"), "raw CSV text")

	res = run("dataframe", "7/notes.txt", "7/readme.md")
	df = outValue(t, res, "File-f", "dataframe").(*engine.DataFrame)
	assert.Equal(t, []map[string]any{{"file_path": "7/notes.txt", "text": "plain text"},
		{"file_path": "7/readme.md", "text": "# Title\n\nbody"}}, df.Rows, "several files: a row per file")

	res = run("path", "7/notes.txt", "7/readme.md")
	assert.Equal(t, "7/notes.txt\n7/readme.md", outText(t, res, "File-f", "path"))
}

func TestFile_Refusals(t *testing.T) {
	t.Parallel()
	files := &memFiles{files: map[string]memFile{
		"7/report.pdf": {owner: 7, content: "%PDF-1.7"},
		"7/big.txt":    {owner: 7, content: strings.Repeat("x", 65)},
		"8/theirs.txt": {owner: 8, content: "another user's"},
		"7/photo.png":  {owner: 7, content: "png"},
		"7/bad.json":   {owner: 7, content: "{"},
		"7/ok.txt":     {owner: 7, content: "fine"},
	}}
	h := fileHarness(t, files)
	fail := func(vals map[string]any, paths ...string) string {
		res, _ := h.run(t, fileFlow(h, t, "message", vals, paths...), engine.RunInput{})
		return failure(t, res, "File-f")
	}
	assert.Contains(t, fail(nil, "7/report.pdf"), "is a PDF: this server does not read PDFs")
	assert.Contains(t, fail(nil, "7/big.txt"), "larger than the limit of 64 bytes")
	assert.Contains(t, fail(nil, "8/theirs.txt"), "file not found", "another user's file is not found")
	assert.Contains(t, fail(nil, "/etc/passwd.txt"), "file not found", "a path on the server is only a name")
	assert.Contains(t, fail(nil, "7/bad.json"), "invalid JSON")
	assert.Contains(t, fail(map[string]any{"ignore_unsupported_extensions": false}, "7/photo.png"), "unsupported file type")
	assert.Contains(t, fail(nil, "7/photo.png"), "No files")

	res, _ := h.run(t, fileFlow(h, t, "message", map[string]any{"silent_errors": true}, "7/report.pdf", "8/theirs.txt", "7/ok.txt"),
		engine.RunInput{})
	assert.Equal(t, "fine", outText(t, res, "File-f", "message"), "silent_errors skips what fails")

	res, _ = h.run(t, fileFlow(h, t, "message", nil), engine.RunInput{})
	assert.Contains(t, failure(t, res, "File-f"), "No files to process.")
}

func TestFile_ToolPathAndHandle(t *testing.T) {
	t.Parallel()
	files := &memFiles{files: map[string]memFile{"7/a.txt": {owner: 7, content: "A"}, "7/b.txt": {owner: 7, content: "B"}}}
	h := fileHarness(t, files)
	res, _ := h.run(t, fileFlow(h, t, "message", map[string]any{"file_path_str": fieldSpec("value", "7/b.txt", "show", true)}, "7/a.txt"), engine.RunInput{})
	assert.Equal(t, "B", outText(t, res, "File-f", "message"), "file_path_str (the tool's argument) comes first")

	data := h.flow(t).node("TextInput-t", "", map[string]any{"input_value": "7/b.txt"}).
		node("File-f", "", nil).node("ChatOutput-c", "", nil).
		edge("TextInput-t", "text", "File-f", "file_path").
		edge("File-f", "message", "ChatOutput-c", "input_value").bytes()
	res, _ = h.run(t, data, engine.RunInput{})
	assert.Equal(t, "B", outText(t, res, "File-f", "message"), "a message naming a file")

	spec := File{}.Spec()
	f, ok := spec.Field("file_path_str")
	require.True(t, ok)
	assert.True(t, f.ToolMode)

	h2 := newHarnessWith(t, nil, File{})
	res, _ = h2.run(t, fileFlow(h2, t, "message", nil, "7/a.txt"), engine.RunInput{})
	assert.Contains(t, failure(t, res, "File-f"), "not available on this server")
}
