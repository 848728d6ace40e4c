package task

import (
	"fmt"
	"slices"
	"testing"
)

// timingSeeds is the number of batches drawn per task in the timing tests.
const timingSeeds = 2000

// set returns the values as a set.
func set(values ...int) map[int]bool {
	m := map[int]bool{}
	for _, v := range values {
		m[v] = true
	}
	return m
}

// span returns the integers in [lo, hi].
func span(lo, hi int) map[int]bool {
	m := map[int]bool{}
	for v := lo; v <= hi; v++ {
		m[v] = true
	}
	return m
}

// timingRule lists, for one family, each timing term in steps and the set
// of values gyyang/multitask draws it from, after per-term truncation of
// ms/20.
type timingRule struct {
	tasks []string
	terms func(tm Timing) map[string]int
	sets  map[string]map[int]bool
	// fixed lists terms that must always hold (a name and a check).
	fixed func(tm Timing) error
	// minT and maxT are the documented trial-length range.
	minT, maxT int
}

var timingRules = []timingRule{
	{
		tasks: []string{"fdgo", "fdanti"},
		terms: func(tm Timing) map[string]int {
			return map[string]int{"stim_on": tm.Stim1On, "stim_dur": tm.GoCue - tm.Stim1On, "response": tm.T - tm.GoCue}
		},
		// U(300, 700) ms and U(500, 1500) ms.
		sets: map[string]map[int]bool{"stim_on": span(15, 34), "stim_dur": span(25, 74), "response": set(25)},
		fixed: func(tm Timing) error {
			if tm.Stim1Off != tm.T {
				return fmt.Errorf("stimulus off at %d, want T = %d", tm.Stim1Off, tm.T)
			}
			return nil
		},
		minT: 65, maxT: 133,
	},
	{
		tasks: []string{"reactgo", "reactanti"},
		terms: func(tm Timing) map[string]int {
			return map[string]int{"stim_on": tm.Stim1On, "response": tm.T - tm.GoCue}
		},
		// U(500, 2500) ms.
		sets: map[string]map[int]bool{"stim_on": span(25, 124), "response": set(25)},
		fixed: func(tm Timing) error {
			if tm.GoCue != tm.Stim1On || tm.Stim1Off != tm.T {
				return fmt.Errorf("go cue %d, stimulus [%d, %d), T %d: want the go cue at stimulus onset and the stimulus on to T",
					tm.GoCue, tm.Stim1On, tm.Stim1Off, tm.T)
			}
			return nil
		},
		minT: 50, maxT: 149,
	},
	{
		tasks: []string{"delaygo", "delayanti"},
		terms: func(tm Timing) map[string]int {
			return map[string]int{
				"stim_on": tm.Stim1On, "stim_dur": tm.Stim1Off - tm.Stim1On,
				"delay": tm.GoCue - tm.Stim1Off, "response": tm.T - tm.GoCue,
			}
		},
		sets: map[string]map[int]bool{
			"stim_on": set(15, 25, 35), "stim_dur": set(10, 20, 30),
			"delay": set(10, 20, 40, 80), "response": set(25),
		},
		minT: 60, maxT: 170,
	},
	{
		tasks: []string{"dm1", "dm2", "contextdm1", "contextdm2", "multidm"},
		terms: func(tm Timing) map[string]int {
			return map[string]int{"stim_on": tm.Stim1On, "stim_dur": tm.GoCue - tm.Stim1On, "response": tm.T - tm.GoCue}
		},
		// U(100, 400) ms, then {400, 800, 1600} ms.
		sets:  map[string]map[int]bool{"stim_on": span(5, 19), "stim_dur": set(20, 40, 80), "response": set(25)},
		fixed: simultaneousStimuli,
		minT:  50, maxT: 124,
	},
	{
		tasks: []string{"delaydm1", "delaydm2", "contextdelaydm1", "contextdelaydm2", "multidelaydm"},
		terms: func(tm Timing) map[string]int {
			return map[string]int{
				"stim1_on": tm.Stim1On, "stim1_dur": tm.Stim1Off - tm.Stim1On,
				"delay1": tm.Stim2On - tm.Stim1Off, "stim2_dur": tm.Stim2Off - tm.Stim2On,
				"delay2": tm.GoCue - tm.Stim2Off, "response": tm.T - tm.GoCue,
			}
		},
		// delay2 is U(100, 300) ms.
		sets: map[string]map[int]bool{
			"stim1_on": set(10, 20, 30), "stim1_dur": set(10, 20, 30), "delay1": set(10, 20, 40, 80),
			"stim2_dur": set(10, 20, 30), "delay2": span(5, 14), "response": set(25),
		},
		minT: 70, maxT: 209,
	},
	{
		tasks: []string{"dmsgo", "dmsnogo"},
		terms: matchingTerms,
		sets: map[string]map[int]bool{
			"stim1_on": set(10, 20, 30), "stim1_dur": set(10, 20, 30), "delay1": set(10, 20, 40, 80), "test_dur": set(25),
		},
		fixed: testStimulusToEnd,
		minT:  55, maxT: 165,
	},
	{
		tasks: []string{"dmcgo", "dmcnogo"},
		terms: matchingTerms,
		sets: map[string]map[int]bool{
			"stim1_on": set(10, 20, 30), "stim1_dur": set(10, 20, 30), "delay1": set(10, 20, 40, 80), "test_dur": set(10, 20, 30),
		},
		fixed: testStimulusToEnd,
		minT:  40, maxT: 170,
	},
}

func simultaneousStimuli(tm Timing) error {
	if tm.Stim1Off != tm.GoCue || tm.Stim2On != tm.Stim1On || tm.Stim2Off != tm.Stim1Off {
		return fmt.Errorf("stimuli [%d, %d) and [%d, %d), go cue %d: want both stimuli shown together until the go cue",
			tm.Stim1On, tm.Stim1Off, tm.Stim2On, tm.Stim2Off, tm.GoCue)
	}
	return nil
}

func matchingTerms(tm Timing) map[string]int {
	return map[string]int{
		"stim1_on": tm.Stim1On, "stim1_dur": tm.Stim1Off - tm.Stim1On,
		"delay1": tm.Stim2On - tm.Stim1Off, "test_dur": tm.T - tm.Stim2On,
	}
}

func testStimulusToEnd(tm Timing) error {
	if tm.GoCue != tm.Stim2On || tm.Stim2Off != tm.T {
		return fmt.Errorf("go cue %d, test stimulus [%d, %d), T %d: want the go cue at test onset and the test on to T",
			tm.GoCue, tm.Stim2On, tm.Stim2Off, tm.T)
	}
	return nil
}

func TestGenerateUsesDrawnTiming(t *testing.T) {
	for rule, name := range Names {
		b := mustGenerate(t, name, 5, 9, 3)
		tm, _ := draw(rule, 5, 9, 3)
		if b.Timing != tm {
			t.Errorf("%s: batch timing %+v, drawn timing %+v", name, b.Timing, tm)
		}
		if b.T != tm.T {
			t.Errorf("%s: batch T = %d, timing T = %d", name, b.T, tm.T)
		}
	}
}

func TestTimingRulesCoverAllTasks(t *testing.T) {
	var covered []string
	for _, rule := range timingRules {
		covered = append(covered, rule.tasks...)
	}
	slices.Sort(covered)
	names := slices.Clone(Names)
	slices.Sort(names)
	if !slices.Equal(covered, names) {
		t.Errorf("timing rules cover %v, want every task %v", covered, names)
	}
}

func TestTimingWithinDocumentedRanges(t *testing.T) {
	for _, rule := range timingRules {
		for _, name := range rule.tasks {
			t.Run(name, func(t *testing.T) {
				seen := map[string]map[int]bool{}
				minT, maxT := 1<<30, 0
				ruleIndex := mustIndex(t, name)
				for seed := range uint64(timingSeeds) {
					// draw is the sampling half of Generate; building every
					// batch would only slow the test down.
					tm, _ := draw(ruleIndex, seed, seed*7, 1)
					for term, v := range rule.terms(tm) {
						if !rule.sets[term][v] {
							t.Fatalf("seed %d: %s = %d steps, outside the values %v that gyyang/multitask draws", seed, term, v, keys(rule.sets[term]))
						}
						if seen[term] == nil {
							seen[term] = map[int]bool{}
						}
						seen[term][v] = true
					}
					if rule.fixed != nil {
						if err := rule.fixed(tm); err != nil {
							t.Fatalf("seed %d: %v", seed, err)
						}
					}
					if tm.T < rule.minT || tm.T > rule.maxT {
						t.Fatalf("seed %d: T = %d, outside the range [%d, %d] of gyyang/multitask", seed, tm.T, rule.minT, rule.maxT)
					}
					minT, maxT = min(minT, tm.T), max(maxT, tm.T)
				}
				// Every value must occur, so a distribution narrower than
				// documented fails too.
				for term := range rule.sets {
					if len(seen[term]) != len(rule.sets[term]) {
						t.Errorf("%s took values %v over %d batches, want all of %v", term, keys(seen[term]), timingSeeds, keys(rule.sets[term]))
					}
				}
				// The length distribution must spread over most of its range.
				width := rule.maxT - rule.minT
				if maxT-minT < width/2 {
					t.Errorf("T spans only [%d, %d] over %d batches, want most of [%d, %d]", minT, maxT, timingSeeds, rule.minT, rule.maxT)
				}
			})
		}
	}
}

func keys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestTimingSharedAcrossTrials reads the timing back from the arrays of
// every trial: the step where the fixation input or target changes, where
// each ring input starts and stops, and where YLoc starts.
func TestTimingSharedAcrossTrials(t *testing.T) {
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(3) {
				b := mustGenerate(t, name, seed, 0, 16)
				var first []int
				for i := range b.B {
					marks := trialMarks(b, i)
					if first == nil {
						first = marks
						continue
					}
					if !slices.Equal(marks, first) {
						t.Fatalf("seed %d: trial %d has events at %v, trial 0 at %v", seed, i, marks, first)
					}
				}
			}
		})
	}
}

// trialMarks returns the steps at which trial i's fixation input, any ring
// input and the fixation mask column change value. YLoc is left out
// because no-go trials never respond.
func trialMarks(b *Batch, i int) []int {
	var marks []int
	active := func(t int) [3]bool {
		var ringOn [2]bool
		for r := range 2 {
			for _, v := range ringInput(b, t, i, r) {
				if v != 0 {
					ringOn[r] = true
				}
			}
		}
		return [3]bool{inputAt(b, t, i, 0) == 1, ringOn[0] || ringOn[1], maskAt(b, t, i, 0) != 0}
	}
	prev := active(0)
	for t := 1; t < b.T; t++ {
		cur := active(t)
		if cur != prev {
			marks = append(marks, t)
		}
		prev = cur
	}
	return marks
}

// TestTimingMatchesArrays checks that the fixation input goes off at the go
// cue in the tasks that switch it off, and that ring inputs are non-zero
// exactly inside the stimulus windows.
func TestTimingMatchesArrays(t *testing.T) {
	for _, name := range Names {
		t.Run(name, func(t *testing.T) {
			b := mustGenerate(t, name, 3, 1, 4)
			tm := b.Timing
			sp := specs[mustIndex(t, name)]
			for i := range b.B {
				for step := range b.T {
					wantFix := step < tm.GoCue || sp.keepsFixationCue()
					if got := inputAt(b, step, i, 0) == 1; got != wantFix {
						t.Fatalf("trial %d step %d: fixation input on = %v, want %v (go cue %d)", i, step, got, wantFix, tm.GoCue)
					}
					inWindow := (step >= tm.Stim1On && step < tm.Stim1Off) || (step >= tm.Stim2On && step < tm.Stim2Off)
					nonZero := false
					for r := range 2 {
						for _, v := range ringInput(b, step, i, r) {
							nonZero = nonZero || v != 0
						}
					}
					if nonZero != inWindow {
						t.Fatalf("trial %d step %d: ring input present = %v, want %v (timing %+v)", i, step, nonZero, inWindow, tm)
					}
				}
			}
		})
	}
}

func mustIndex(t testing.TB, name string) int {
	t.Helper()
	i, err := Index(name)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestEpochsFollowTiming(t *testing.T) {
	want := map[string][]string{
		"fdgo":     {"fix1", "go1", "stim1"},
		"reactgo":  {"fix1", "go1"},
		"delaygo":  {"delay1", "fix1", "go1", "stim1"},
		"dm1":      {"fix1", "go1", "stim1"},
		"delaydm1": {"delay1", "delay2", "fix1", "go1", "stim1", "stim2"},
		"dmsgo":    {"delay1", "fix1", "go1", "stim1"},
		"dmcnogo":  {"delay1", "fix1", "go1", "stim1"},
	}
	for name, epochNames := range want {
		t.Run(name, func(t *testing.T) {
			b := mustGenerate(t, name, 11, 2, 2)
			var got []string
			for k := range b.Epochs {
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, epochNames) {
				t.Fatalf("epochs %v, want %v", got, epochNames)
			}
			// The epochs tile [0, T) without gaps or overlaps.
			covered := make([]int, b.T)
			for k, e := range b.Epochs {
				if e[0] > e[1] || e[0] < 0 || e[1] > b.T {
					t.Fatalf("epoch %s = %v is not inside [0, %d)", k, e, b.T)
				}
				for step := e[0]; step < e[1]; step++ {
					covered[step]++
				}
			}
			for step, n := range covered {
				if n != 1 {
					t.Fatalf("step %d is in %d epochs, want 1 (epochs %v)", step, n, b.Epochs)
				}
			}
			if got := b.Epochs["go1"]; got != [2]int{b.Timing.GoCue, b.T} {
				t.Errorf("go1 = %v, want [%d, %d)", got, b.Timing.GoCue, b.T)
			}
		})
	}
}
