package components

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/skillflaw/skillflaw-go/engine"
)

// SplitText is Langflow's Split Text: LangChain's CharacterTextSplitter
// over the input's texts — split on the separator (literal; "/n" and
// "/t" mean newline and tab, a typed \n a newline), optionally keeping it
// at the start or the end of each piece, then pieces merged into chunks
// of at most chunk_size characters (code points) overlapping by up to
// chunk_overlap, exactly as LangChain's _merge_splits does (a piece
// longer than chunk_size stays whole). Each chunk is a row of the output
// DataFrame with the input's other fields (a message's fields, a Data's
// or a DataFrame row's other keys) and its text.
type SplitText struct{}

// Spec implements engine.Component.
func (SplitText) Spec() *engine.Spec {
	return &engine.Spec{
		Type: "SplitText", Category: "processing", DisplayName: "Split Text", Description: "Split text into chunks based on specified criteria.",
		Icon: "scissors-line-dashed", BaseClasses: []string{"DataFrame"},
		Fields: []engine.FieldSpec{
			handleInput("data_inputs", "Input", []string{"Data", "DataFrame", "Message"}, required,
				info("The data with texts to split in chunks.")),
			intInput("chunk_overlap", "Chunk Overlap", 200, info("Number of characters to overlap between chunks.")),
			intInput("chunk_size", "Chunk Size", 1000,
				info("The maximum length of each chunk. Text is first split by separator, then chunks are merged up to this size. Individual splits larger than this won't be further divided.")),
			messageTextInput("separator", "Separator", "\n",
				info(`The character to split on. Use \n for newline. Examples: \n\n for paragraphs, \n for lines, . for sentences`)),
			messageTextInput("text_key", "Text Key", "text", advanced, info("The key to use for the text column.")),
			dropdownInput("keep_separator", "Keep Separator", "False", []string{"False", "True", "Start", "End"}, advanced,
				info("Whether to keep the separator in the output chunks and where to place it.")),
		},
		Outputs: []engine.OutputSpec{output("dataframe", "Chunks", "split_text", "DataFrame")},
	}
}

// document is a text with its metadata (LangChain's Document).
type document struct {
	text string
	meta map[string]any
}

// Build implements engine.Component.
func (SplitText) Build(_ context.Context, b *engine.Build) error {
	sep := b.Str("separator")
	switch sep {
	case "/n":
		sep = "\n"
	case "/t":
		sep = "\t"
	}
	sep = strings.ReplaceAll(sep, `\n`, "\n")
	in, _ := b.Param("data_inputs")
	docs, err := splitDocuments(in, b.Str("text_key"))
	if err != nil {
		return err
	}
	size, _ := b.Int("chunk_size")
	overlap, _ := b.Int("chunk_overlap")
	keep := strings.ToLower(b.Str("keep_separator"))
	if keep == "true" {
		keep = "start"
	}
	var rows []map[string]any
	cols := []string{}
	for _, d := range docs {
		chunks, err := splitText(d.text, sep, keep, int(size), int(overlap))
		if err != nil {
			return fmt.Errorf("Error splitting text: %w", err)
		}
		keys := make([]string, 0, len(d.meta))
		for k := range d.meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range append(keys, "text") {
			if !slices.Contains(cols, k) {
				cols = append(cols, k)
			}
		}
		for _, c := range chunks {
			row := make(map[string]any, len(d.meta)+1)
			for k, v := range d.meta {
				row[k] = v
			}
			if _, has := row["text"]; !has {
				row["text"] = c
			}
			rows = append(rows, row)
		}
	}
	b.Set("dataframe", &engine.DataFrame{Rows: rows, Columns: cols})
	return nil
}

// splitDocuments turns the input into documents as Langflow's SplitText
// does.
func splitDocuments(in engine.Value, textKey string) ([]document, error) {
	fromMap := func(m map[string]any, key string) document {
		meta := make(map[string]any, len(m))
		for k, v := range m {
			meta[k] = v
		}
		text, ok := meta[key]
		delete(meta, key)
		if !ok {
			return document{text: "", meta: meta}
		}
		return document{text: engine.Text(text), meta: meta}
	}
	switch x := in.(type) {
	case *engine.DataFrame:
		if len(x.Rows) == 0 {
			return nil, errors.New("DataFrame is empty")
		}
		if !slices.Contains(x.Columns, textKey) {
			return nil, fmt.Errorf("Error converting DataFrame to documents: Text key '%s' not found in DataFrame columns", textKey)
		}
		docs := make([]document, len(x.Rows))
		for i, r := range x.Rows {
			docs[i] = fromMap(r, textKey)
		}
		return docs, nil
	case *engine.Message:
		// The message's data as one Data (text key "text"; text_key does
		// not apply).
		return []document{fromMap(x.Fields(), "text")}, nil
	case *engine.Data:
		return []document{fromMap(x.Map, textKey)}, nil
	case []engine.Value:
		var docs []document
		for _, e := range x {
			switch d := e.(type) {
			case *engine.Data:
				docs = append(docs, fromMap(d.Map, dataKey(d)))
			case *engine.Message:
				docs = append(docs, fromMap(d.Fields(), "text"))
			}
		}
		if len(docs) == 0 {
			return nil, errors.New("No valid Data inputs found in <class 'list'>")
		}
		return docs, nil
	case nil:
		return nil, errors.New("No data inputs provided")
	case string:
		if x == "" {
			return nil, errors.New("No data inputs provided")
		}
	}
	return nil, fmt.Errorf("No valid Data inputs found in <class '%s'>", pyTypeName(in))
}

func dataKey(d *engine.Data) string {
	if d.TextKey == "" {
		return "text"
	}
	return d.TextKey
}

// splitText is LangChain's CharacterTextSplitter.split_text with a
// literal separator; keep is "", "start" or "end".
func splitText(text, sep, keep string, size, overlap int) ([]string, error) {
	switch {
	case size <= 0:
		return nil, fmt.Errorf("chunk_size must be > 0, got %d", size)
	case overlap < 0:
		return nil, fmt.Errorf("chunk_overlap must be >= 0, got %d", overlap)
	case overlap > size:
		return nil, fmt.Errorf("Got a larger chunk overlap (%d) than chunk size (%d), should be smaller.", overlap, size)
	}
	var splits []string
	switch {
	case sep == "":
		for _, r := range text {
			splits = append(splits, string(r))
		}
	case keep == "":
		splits = strings.Split(text, sep)
	default:
		parts := strings.Split(text, sep)
		if keep == "end" {
			for _, p := range parts[:len(parts)-1] {
				splits = append(splits, p+sep)
			}
			splits = append(splits, parts[len(parts)-1])
		} else {
			splits = append(splits, parts[0])
			for _, p := range parts[1:] {
				splits = append(splits, sep+p)
			}
		}
	}
	splits = slices.DeleteFunc(splits, func(s string) bool { return s == "" })
	joiner := sep
	if keep != "" {
		joiner = ""
	}
	return mergeSplits(splits, joiner, size, overlap), nil
}

// mergeSplits is LangChain's TextSplitter._merge_splits with len() and
// strip_whitespace.
func mergeSplits(splits []string, sep string, size, overlap int) []string {
	sepLen := runeLen(sep)
	var docs, cur []string
	total := 0
	sepIf := func(n int) int {
		if n > 0 {
			return sepLen
		}
		return 0
	}
	join := func() {
		if doc := strings.Trim(strings.Join(cur, sep), pySpaceChars); doc != "" {
			docs = append(docs, doc)
		}
	}
	for _, d := range splits {
		n := runeLen(d)
		if total+n+sepIf(len(cur)) > size && len(cur) > 0 {
			join()
			for total > overlap || (total+n+sepIf(len(cur)) > size && total > 0) {
				total -= runeLen(cur[0]) + sepIf(len(cur)-1)
				cur = cur[1:]
			}
		}
		cur = append(cur, d)
		total += n + sepIf(len(cur)-1)
	}
	join()
	return docs
}

func runeLen(s string) int { return len([]rune(s)) }
