package sweep

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that every input yields trials or an error wrapping
// ErrInvalidFile, and never a panic. The seed corpus is the example files.
func FuzzParse(f *testing.F) {
	paths, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(smallSweep))
	f.Add([]byte("name: a\nregularizers: {none: {}}\ngrid:\n  hidden: [{hidden: 96, grid_rows: 8, grid_cols: 12}]\n"))
	f.Add([]byte("name: a\nbase: &b {hidden: 16}\nregularizers: {none: *b}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, ErrInvalidFile) {
				t.Fatalf("error does not wrap ErrInvalidFile: %v", err)
			}
			return
		}
		trials, err := file.Expand()
		if err != nil {
			t.Fatalf("Expand after a successful Parse: %v", err)
		}
		if len(trials) == 0 || len(trials) > file.MaxTrials {
			t.Fatalf("%d trials, want 1 to %d", len(trials), file.MaxTrials)
		}
		seen := map[string]bool{}
		for _, tr := range trials {
			if seen[tr.ID] {
				t.Fatalf("duplicate trial id %s", tr.ID)
			}
			seen[tr.ID] = true
			if err := tr.Config.Validate(); err != nil {
				t.Fatalf("trial %s is invalid: %v", tr.ID, err)
			}
		}
	})
}
