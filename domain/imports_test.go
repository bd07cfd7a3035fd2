package domain_test

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDomain_DependsOnNothing keeps the domain pure: the standard library
// (minus I/O) and google/uuid only. Every other package depends on domain,
// never the reverse.
func TestDomain_DependsOnNothing(t *testing.T) {
	t.Parallel()
	forbidden := []string{"net", "os", "database/sql", "io/fs", "log", "context"}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(path, ".") && path != "github.com/google/uuid" {
				t.Errorf("%s imports %s: domain may use the standard library and google/uuid only", name, path)
			}
			for _, bad := range forbidden {
				if path == "net/url" {
					continue // pure parsing (file names may arrive percent-encoded), no I/O
				}
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s: no I/O in the domain: it decides, others fetch and store", name, path)
				}
			}
		}
	}
}
