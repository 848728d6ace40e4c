package sweep

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/modsweep/modsweep/core"
)

const smallSweep = `
name: small
base:
  tasks: [fdgo, reactgo]
  hidden: 16
  steps: 100
regularizers:
  none: {}
  l1: {lambda: [1e-4, 1e-3]}
  bimt: {lambda: [1e-3]}
seeds: [1, 2]
grid:
  learning_rate: [0.001, 0.003]
`

func mustParse(t *testing.T, text string) *File {
	t.Helper()
	f, err := Parse([]byte(text), "test.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func mustExpand(t *testing.T, text string) []Trial {
	t.Helper()
	trials, err := mustParse(t, text).Expand()
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	return trials
}

func TestExpandUnionOfRegularizers(t *testing.T) {
	trials := mustExpand(t, smallSweep)
	// none: 1 × 2 seeds × 2 rates; l1: 2 lambdas × 2 × 2; bimt: 1 × 2 × 2.
	if len(trials) != 4+8+4 {
		t.Fatalf("%d trials, want 16", len(trials))
	}
	counts := map[string]int{}
	for i, tr := range trials {
		counts[tr.Regularizer]++
		if tr.Index != i {
			t.Errorf("trial %d has Index %d", i, tr.Index)
		}
		if tr.Config.Regularizer != tr.Regularizer || tr.Config.Lambda != tr.Lambda || tr.Config.Seed != tr.Seed {
			t.Errorf("trial %d: config has %s/%v/%d, trial says %s/%v/%d", i,
				tr.Config.Regularizer, tr.Config.Lambda, tr.Config.Seed, tr.Regularizer, tr.Lambda, tr.Seed)
		}
		if err := tr.Config.Validate(); err != nil {
			t.Errorf("trial %d: %v", i, err)
		}
		if tr.Config.GridRows != 4 || tr.Config.GridCols != 4 {
			t.Errorf("trial %d: grid %d × %d, want 4 × 4 derived from hidden 16", i, tr.Config.GridRows, tr.Config.GridCols)
		}
		if tr.ID != TrialID(tr.Config) {
			t.Errorf("trial %d: ID %s is not TrialID(Config) %s", i, tr.ID, TrialID(tr.Config))
		}
	}
	if counts["none"] != 4 || counts["l1"] != 8 || counts["bimt"] != 4 {
		t.Errorf("trials per regularizer = %v, want none 4, l1 8, bimt 4", counts)
	}
	first := trials[0]
	if first.Regularizer != "none" || first.Seed != 1 || first.Axes["learning_rate"] != "0.001" {
		t.Errorf("first trial = %+v, want none, seed 1, learning_rate 0.001", first)
	}
	if trials[1].Seed != 2 || trials[1].Axes["learning_rate"] != "0.001" {
		t.Errorf("second trial = %+v, want seeds innermost", trials[1])
	}
}

func TestExpandKeyOrderIndependent(t *testing.T) {
	reordered := `
seeds: [1, 2]
grid:
  learning_rate: [0.001, 0.003]
regularizers:
  bimt: {lambda: [1e-3]}
  l1: {lambda: [1e-3, 1e-4]}
  none: {}
base:
  steps: 100
  hidden: 16
  tasks: [fdgo, reactgo]
name: small
`
	a, b := mustExpand(t, smallSweep), mustExpand(t, reordered)
	if len(a) != len(b) {
		t.Fatalf("%d and %d trials", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Errorf("trial %d: id %s, reordered file gives %s", i, a[i].ID, b[i].ID)
		}
	}
}

func TestExpandLambdaChangeAffectsOnlyItsTrials(t *testing.T) {
	before := mustExpand(t, smallSweep)
	after := mustExpand(t, strings.Replace(smallSweep, "l1: {lambda: [1e-4, 1e-3]}", "l1: {lambda: [2e-4, 1e-3]}", 1))
	ids := func(trials []Trial) map[string]Trial {
		m := map[string]Trial{}
		for _, tr := range trials {
			m[tr.ID] = tr
		}
		return m
	}
	old, changed := ids(before), ids(after)
	for id, tr := range old {
		_, kept := changed[id]
		affected := tr.Regularizer == "l1" && tr.Lambda == 1e-4
		if kept == affected {
			t.Errorf("trial %s (%s, lambda %v): kept its id = %v, want %v", id, tr.Regularizer, tr.Lambda, kept, !affected)
		}
	}
	if len(changed) != len(old) {
		t.Errorf("%d trials after the change, want %d", len(changed), len(old))
	}
}

func TestExpandDeterministic(t *testing.T) {
	a, b := mustExpand(t, smallSweep), mustExpand(t, smallSweep)
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Seed != b[i].Seed {
			t.Errorf("trial %d differs between two expansions", i)
		}
	}
	a[0].Config.Tasks[0] = "changed"
	if b[0].Config.Tasks[0] == "changed" {
		t.Error("two expansions share the Tasks slice")
	}
	again, _ := mustParse(t, smallSweep).Expand()
	if again[0].Config.Tasks[0] != "fdgo" {
		t.Error("editing an expanded trial changed the file's trials")
	}
}

func TestExpandSeedCount(t *testing.T) {
	text := strings.Replace(smallSweep, "seeds: [1, 2]", "seeds: {count: 3, start: 10}", 1)
	f := mustParse(t, text)
	if got := f.Seeds(); !slices.Equal(got, []uint64{10, 11, 12}) {
		t.Errorf("seeds = %v, want [10 11 12]", got)
	}
	noSeeds := strings.Replace(smallSweep, "seeds: [1, 2]", "", 1)
	if got := mustParse(t, noSeeds).Seeds(); !slices.Equal(got, []uint64{1}) {
		t.Errorf("seeds without a seeds section = %v, want [1]", got)
	}
}

func TestExpandGridEntryWithShape(t *testing.T) {
	text := `
name: shapes
regularizers: {none: {}}
grid:
  hidden: [64, 144, {hidden: 96, grid_rows: 8, grid_cols: 12}]
`
	trials := mustExpand(t, text)
	want := []struct {
		label      string
		rows, cols int
	}{{"64", 8, 8}, {"144", 12, 12}, {"96 (grid_cols=12, grid_rows=8)", 8, 12}}
	if len(trials) != len(want) {
		t.Fatalf("%d trials, want %d", len(trials), len(want))
	}
	for i, w := range want {
		c := trials[i].Config
		if trials[i].Axes["hidden"] != w.label || c.GridRows != w.rows || c.GridCols != w.cols {
			t.Errorf("trial %d: label %q grid %d × %d, want %q %d × %d", i, trials[i].Axes["hidden"], c.GridRows, c.GridCols, w.label, w.rows, w.cols)
		}
	}
}

func TestExpandRegularizerOverrides(t *testing.T) {
	text := `
name: overrides
regularizers:
  none: {}
  bimt: {lambda: [1e-3], swap_every: 50}
`
	trials := mustExpand(t, text)
	if trials[0].Config.SwapEvery != core.Default().SwapEvery {
		t.Errorf("none trial swap_every = %d, want the default", trials[0].Config.SwapEvery)
	}
	if trials[1].Config.SwapEvery != 50 {
		t.Errorf("bimt trial swap_every = %d, want 50", trials[1].Config.SwapEvery)
	}
}

func TestExpandMergesDuplicates(t *testing.T) {
	// distance_a does not change none or l1 trials, so their values merge.
	text := `
name: merged
regularizers:
  none: {}
  bimt: {lambda: [1e-3]}
grid:
  distance_a: [1, 2]
`
	f := mustParse(t, text)
	trials, _ := f.Expand()
	if len(trials) != 3 || f.Merged() != 1 {
		t.Errorf("%d trials with %d merged, want 3 with 1 merged", len(trials), f.Merged())
	}
}

func TestTrialIDNormalisation(t *testing.T) {
	base := core.Default()
	base.Regularizer, base.Lambda = core.RegL1, 1e-3

	other := base
	other.SwapEvery = 7
	if TrialID(base) != TrialID(other) {
		t.Error("swap_every changes the id of an l1 trial, which never swaps")
	}
	other = base
	other.LR = 2e-3
	if TrialID(base) == TrialID(other) {
		t.Error("learning_rate does not change the id")
	}
	bimt := base
	bimt.Regularizer = core.RegBIMT
	if TrialID(base) == TrialID(bimt) {
		t.Error("l1 and bimt trials share an id")
	}
	negativeZero := core.Default()
	negativeZero.Lambda = math.Copysign(0, -1)
	if TrialID(negativeZero) != TrialID(core.Default()) {
		t.Error("lambda -0 and 0 give different ids")
	}
	if id := TrialID(base); len(id) != 16 {
		t.Errorf("id %q has %d characters, want 16", id, len(id))
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		text string
		want []string // substrings of the error
	}{
		{"malformed YAML", "name: [a\n", []string{"malformed YAML"}},
		{"empty file", "", []string{"empty"}},
		{"top level list", "- a\n", []string{"line 1", "a list"}},
		{"missing name", "regularizers: {none: {}}\n", []string{"name", "missing"}},
		{"bad name", "name: My Sweep\nregularizers: {none: {}}\n", []string{"line 1", "name", `"My Sweep"`, "a-z"}},
		{"unknown top field", "name: a\nregularizers: {none: {}}\nextra: 1\n", []string{"line 3", `"extra"`, "use one of"}},
		{"unknown base field", "name: a\nbase:\n  hiden: 16\nregularizers: {none: {}}\n", []string{"line 3", "base.hiden", `"hiden"`, "hidden"}},
		{"unknown nested field", "name: a\nbase:\n  lambda_schedule: [{at: 0.25, factr: 10}]\nregularizers: {none: {}}\n",
			[]string{"line 3", "lambda_schedule[0]", `"factr"`, "at, factor"}},
		{"wrong type", "name: a\nbase:\n  steps: many\nregularizers: {none: {}}\n", []string{"line 3", "base.steps", `"many"`, "whole number"}},
		{"fraction for an integer", "name: a\nbase:\n  steps: 16.7\nregularizers: {none: {}}\n", []string{"line 3", "base.steps", `"16.7"`, "whole number"}},
		{"fraction for a seed", "name: a\nregularizers: {none: {}}\nseeds: [1.5]\n", []string{"line 3", "seeds[0]", `"1.5"`}},
		{"wrong list type", "name: a\nbase:\n  tasks: fdgo\nregularizers: {none: {}}\n", []string{"line 3", "base.tasks", `"fdgo"`, "list of strings"}},
		{"reserved base field", "name: a\nbase:\n  seed: 3\nregularizers: {none: {}}\n", []string{"line 3", "base.seed", "seeds section"}},
		{"negative lambda", "name: a\nregularizers:\n  l1: {lambda: [1e-3, -1e-4]}\n", []string{"line 3", "regularizers.l1.lambda[1]", "-1e-4", ">= 0"}},
		{"NaN lambda", "name: a\nregularizers:\n  l1: {lambda: [.nan]}\n", []string{"line 3", "lambda[0]", ".nan", "finite"}},
		{"infinite lambda", "name: a\nregularizers:\n  bimt: {lambda: [.inf]}\n", []string{"line 3", "bimt.lambda[0]", ".inf"}},
		{"text lambda", "name: a\nregularizers:\n  l1: {lambda: [big]}\n", []string{"line 3", "lambda[0]", `"big"`, "not a number"}},
		{"duplicate lambda", "name: a\nregularizers:\n  l1: {lambda: [1e-3, 0.001]}\n", []string{"line 3", "lambda[1]", "twice"}},
		{"lambda for none", "name: a\nregularizers:\n  none: {lambda: [1e-3]}\n", []string{"line 3", "regularizers.none.lambda", "no penalty"}},
		{"lambda given twice", "name: a\nregularizers:\n  l1:\n    lambda: [1e-3]\n    lambda: [1e-2]\n", []string{"line 5", "regularizers.l1.lambda", "twice"}},
		{"missing lambda", "name: a\nregularizers:\n  l1: {}\n", []string{"line 3", "regularizers.l1.lambda", "missing"}},
		{"empty lambda", "name: a\nregularizers:\n  l1: {lambda: []}\n", []string{"line 3", "regularizers.l1.lambda", "empty"}},
		{"unknown regularizer", "name: a\nregularizers:\n  l2: {lambda: [1]}\n", []string{"line 3", `"l2"`, "none, l1, bimt"}},
		{"no regularizers", "name: a\nregularizers: {}\n", []string{"line 2", "regularizers", "at least one"}},
		{"missing regularizers", "name: a\n", []string{"regularizers", "missing"}},
		{"unknown task", "name: a\nbase:\n  tasks: [fdgo, fdgoo]\nregularizers: {none: {}}\n", []string{"line 3", "base.tasks", `"fdgoo"`, "use one of"}},
		{"hidden does not fit", "name: a\nbase:\n  hidden: 96\nregularizers: {none: {}}\n", []string{"line 3", "base.hidden", "96", "grid_rows"}},
		{"grid hidden does not fit", "name: a\nregularizers: {none: {}}\ngrid:\n  hidden: [64, 50]\n", []string{"line 4", "grid.hidden[1]", "hidden = 50"}},
		{"second field of a message", "name: a\nbase:\n  dt_ms: 200\nregularizers: {none: {}}\n", []string{"line 3", "base.dt_ms", "dt_ms = 200"}},
		{"empty seeds", "name: a\nregularizers: {none: {}}\nseeds: []\n", []string{"line 3", "seeds", "empty"}},
		{"negative seed", "name: a\nregularizers: {none: {}}\nseeds: [1, -2]\n", []string{"line 3", "seeds[1]", `"-2"`}},
		{"zero seed count", "name: a\nregularizers: {none: {}}\nseeds: {count: 0}\n", []string{"line 3", "seeds.count", `"0"`}},
		{"empty grid axis", "name: a\nregularizers: {none: {}}\ngrid:\n  hidden: []\n", []string{"line 4", "grid.hidden", "empty"}},
		{"unknown grid axis", "name: a\nregularizers: {none: {}}\ngrid:\n  size: [1]\n", []string{"line 4", "grid.size", `"size"`}},
		{"reserved grid axis", "name: a\nregularizers: {none: {}}\ngrid:\n  lambda: [1]\n", []string{"line 4", "grid.lambda", "regularizers section"}},
		{"grid entry without axis", "name: a\nregularizers: {none: {}}\ngrid:\n  hidden: [{grid_rows: 2}]\n", []string{"line 4", "grid.hidden[0]", "does not set hidden"}},
		{"two axes set one field", "name: a\nregularizers: {none: {}}\ngrid:\n  hidden: [{hidden: 16, grid_rows: 4, grid_cols: 4}]\n  grid_rows: [4]\n",
			[]string{"grid_rows", "also sets"}},
		{"bad grid value", "name: a\nregularizers: {none: {}}\ngrid:\n  learning_rate: [0.001, -1]\n", []string{"line 4", "grid.learning_rate[1]", "-1"}},
		{"too many trials", "name: a\nregularizers: {none: {}}\nseeds: {count: 20}\nlimits: {max_trials: 10}\n", []string{"20 trials", "limit of 10", "max_trials"}},
		{"default limit", "name: a\nregularizers: {none: {}}\nseeds: {count: 10001}\n", []string{"10001 trials", "limit of 10000"}},
		{"limit above hard maximum", "name: a\nregularizers: {none: {}}\nlimits: {max_trials: 1000000}\n", []string{"line 3", "limits.max_trials", "1000000"}},
		{"duplicate key", "name: a\nname: b\nregularizers: {none: {}}\n", []string{"line 2", "twice"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.text), "bad.yaml")
			if err == nil {
				t.Fatal("Parse returned no error")
			}
			if !errors.Is(err, ErrInvalidFile) {
				t.Errorf("error does not wrap ErrInvalidFile: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "bad.yaml: ") {
				t.Errorf("error does not start with the file name: %v", err)
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	text := "name: a\nbase:\n  steps: x\n  hiden: 1\nregularizers:\n  l1: {lambda: [-1]}\n"
	_, err := Parse([]byte(text), "bad.yaml")
	if err == nil {
		t.Fatal("Parse returned no error")
	}
	for _, want := range []string{"line 3", "line 4", "line 6"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestExamplesParse(t *testing.T) {
	paths, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 3 {
		t.Fatalf("found %d example files, want smoke, demo and paper", len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			trials, _ := f.Expand()
			if len(trials) == 0 {
				t.Error("no trials")
			}
		})
	}
}

func TestParseFileMissing(t *testing.T) {
	_, err := ParseFile(filepath.Join(t.TempDir(), "none.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ParseFile of a missing file: %v, want os.ErrNotExist", err)
	}
}

func ExampleFile_Expand() {
	f, err := Parse([]byte(`
name: example
base: {tasks: [fdgo], hidden: 16, steps: 200}
regularizers:
  none: {}
  l1: {lambda: [1e-3]}
seeds: [1, 2]
`), "example.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	trials, _ := f.Expand()
	for _, t := range trials {
		fmt.Println(t.Regularizer, t.Lambda, t.Seed, t.Config.GridRows, t.Config.GridCols)
	}
	// Output:
	// none 0 1 4 4
	// none 0 2 4 4
	// l1 0.001 1 4 4
	// l1 0.001 2 4 4
}

func BenchmarkParse10000Trials(b *testing.B) {
	text := "name: big\nbase: {hidden: 16}\nregularizers:\n  none: {}\n  l1: {lambda: [1e-4, 1e-3, 1e-2, 1e-1]}\n" +
		"seeds: {count: 100}\ngrid:\n  learning_rate: [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01]\n" +
		"  batch_size: [16, 32]\n"
	for b.Loop() {
		if _, err := Parse([]byte(text), "big.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}
