package task

import (
	"math"
	"slices"
	"testing"
)

const tol = 1e-12

func TestRuleUnitOnlyTasksOwn(t *testing.T) {
	for rule, name := range Names {
		b := mustGenerate(t, name, 1, 0, 3)
		for step := range b.T {
			for i := range b.B {
				for r := range NumRules {
					want := 0.0
					if r == rule {
						want = 1
					}
					if got := inputAt(b, step, i, RuleStart+r); got != want {
						t.Fatalf("%s step %d trial %d: rule unit %d = %v, want %v", name, step, i, r, got, want)
					}
				}
			}
		}
	}
}

func TestGoAndAntiResponseAngle(t *testing.T) {
	cases := []struct {
		name   string
		offset float64
	}{
		{"fdgo", 0}, {"reactgo", 0}, {"delaygo", 0},
		{"fdanti", math.Pi}, {"reactanti", math.Pi}, {"delayanti", math.Pi},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := mustGenerate(t, c.name, 4, 2, 32)
			last := b.T - 1
			for i, tr := range b.Trials {
				want := wrapAngle(tr.Loc1 + c.offset)
				if got := yLocAt(b, last, i); !closeTo(got, want, tol) {
					t.Fatalf("trial %d: YLoc %v, want stimulus %v + %v = %v", i, got, tr.Loc1, c.offset, want)
				}
				// The ring target is 0.05 plus a bump at the response.
				bump := expectedBump(want, 1)
				for k := range RingSize {
					if got := targetAt(b, last, i, 1+k); !closeTo(got, 0.05+bump[k], tol) {
						t.Fatalf("trial %d: ring target unit %d = %v, want %v", i, k, got, 0.05+bump[k])
					}
				}
				// The stimulus sits at Loc1 in the input.
				on := b.Timing.Stim1On
				ring := slices.Concat(ringInput(b, on, i, 0), ringInput(b, on, i, 1))
				peak := slices.Index(ring, slices.Max(ring)) % RingSize
				if d := CircularDistance(float64(peak)*2*math.Pi/RingSize, tr.Loc1); d > math.Pi/RingSize+tol {
					t.Fatalf("trial %d: input peaks at unit %d, %.3f rad from the stimulus at %.3f", i, peak, d, tr.Loc1)
				}
			}
		})
	}
}

func TestGoFamilyOneRingPerBatch(t *testing.T) {
	for _, name := range []string{"fdgo", "reactanti", "delaygo"} {
		ringsSeen := map[int]bool{}
		for seed := range uint64(20) {
			b := mustGenerate(t, name, seed, 0, 8)
			ring := slices.IndexFunc(b.Trials[0].Strength1[:], func(s float64) bool { return s != 0 })
			for i, tr := range b.Trials {
				want := [2]float64{}
				want[ring] = 1
				if tr.Strength1 != want || tr.Strength2 != [2]float64{} {
					t.Fatalf("%s seed %d trial %d: strengths %v and %v, want %v and none (ring chosen once per batch)",
						name, seed, i, tr.Strength1, tr.Strength2, want)
				}
			}
			ringsSeen[ring] = true
		}
		if len(ringsSeen) != 2 {
			t.Errorf("%s: 20 batches used rings %v, want both", name, ringsSeen)
		}
	}
}

func TestReactAndMatchingKeepFixationInput(t *testing.T) {
	for _, name := range []string{"reactgo", "reactanti", "dmsgo", "dmsnogo", "dmcgo", "dmcnogo"} {
		t.Run(name, func(t *testing.T) {
			b := mustGenerate(t, name, 8, 3, 16)
			lastOnset := b.Timing.Stim1On
			if specs[mustIndex(t, name)].isMatching() {
				lastOnset = b.Timing.Stim2On
			}
			if b.Timing.GoCue != lastOnset {
				t.Fatalf("go cue %d, want the last stimulus onset %d", b.Timing.GoCue, lastOnset)
			}
			for i := range b.B {
				for step := range b.T {
					if got := inputAt(b, step, i, 0); got != 1 {
						t.Fatalf("trial %d step %d: fixation input %v, want 1 all trial", i, step, got)
					}
				}
				// The last stimulus starts exactly at the go cue.
				if !ringActive(b, lastOnset, i) || ringActive(b, lastOnset-1, i) {
					t.Fatalf("trial %d: ring input does not switch on at the go cue %d", i, lastOnset)
				}
				// A responding trial's fixation target drops at that onset.
				if yLocAt(b, b.T-1, i) >= 0 {
					if targetAt(b, lastOnset-1, i, 0) != 0.8 || targetAt(b, lastOnset, i, 0) != 0.05 {
						t.Fatalf("trial %d: fixation target %v then %v around the go cue, want 0.8 then 0.05",
							i, targetAt(b, lastOnset-1, i, 0), targetAt(b, lastOnset, i, 0))
					}
				}
			}
		})
	}
}

func ringActive(b *Batch, t, i int) bool {
	for r := range 2 {
		for _, v := range ringInput(b, t, i, r) {
			if v != 0 {
				return true
			}
		}
	}
	return false
}

func TestFixationTargetBeforeGoCue(t *testing.T) {
	for _, name := range Names {
		b := mustGenerate(t, name, 2, 5, 8)
		for i := range b.B {
			for step := range b.Timing.GoCue {
				if got := targetAt(b, step, i, 0); got != 0.8 {
					t.Fatalf("%s trial %d step %d: fixation target %v, want 0.8 before the go cue", name, i, step, got)
				}
				for k := 1; k < NumOutput; k++ {
					if got := targetAt(b, step, i, k); got != 0.05 {
						t.Fatalf("%s trial %d step %d: ring target %d = %v, want 0.05 before the go cue", name, i, step, k, got)
					}
				}
				if got := yLocAt(b, step, i); got != -1 {
					t.Fatalf("%s trial %d step %d: YLoc %v, want -1 before the go cue", name, i, step, got)
				}
			}
		}
	}
}

// TestMatchingGoAndNoGo checks the response rule of the four matching
// tasks on generated batches: a go trial responds at the test stimulus from
// its onset, and a no-go trial fixates to the end.
func TestMatchingGoAndNoGo(t *testing.T) {
	cases := []struct {
		name        string
		respondWhen bool // the value of match that requires a response
		match       func(tr Trial) bool
	}{
		{"dmsgo", true, sameLocation},
		{"dmsnogo", false, sameLocation},
		{"dmcgo", true, sameCategory},
		{"dmcnogo", false, sameCategory},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := mustGenerate(t, c.name, 6, 1, 64)
			var goTrials, noGoTrials int
			for i, tr := range b.Trials {
				if c.match(tr) == c.respondWhen {
					goTrials++
					checkResponds(t, b, i, tr.Loc2)
				} else {
					noGoTrials++
					checkFixatesToEnd(t, b, i)
				}
			}
			if goTrials == 0 || noGoTrials == 0 {
				t.Fatalf("%d go and %d no-go trials in 64, want both kinds", goTrials, noGoTrials)
			}
		})
	}
}

func sameLocation(tr Trial) bool { return tr.Loc1 == tr.Loc2 }

func sameCategory(tr Trial) bool { return (tr.Loc1 < math.Pi) == (tr.Loc2 < math.Pi) }

func checkResponds(t *testing.T, b *Batch, i int, angle float64) {
	t.Helper()
	for step := b.Timing.GoCue; step < b.T; step++ {
		if got := yLocAt(b, step, i); got != angle {
			t.Fatalf("go trial %d step %d: YLoc %v, want %v", i, step, got, angle)
		}
		if got := targetAt(b, step, i, 0); got != 0.05 {
			t.Fatalf("go trial %d step %d: fixation target %v, want 0.05", i, step, got)
		}
	}
}

func checkFixatesToEnd(t *testing.T, b *Batch, i int) {
	t.Helper()
	for step := range b.T {
		if got := targetAt(b, step, i, 0); got != 0.8 {
			t.Fatalf("no-go trial %d step %d: fixation target %v, want 0.8", i, step, got)
		}
		if got := yLocAt(b, step, i); got != -1 {
			t.Fatalf("no-go trial %d step %d: YLoc %v, want -1", i, step, got)
		}
		for k := 1; k < NumOutput; k++ {
			if got := targetAt(b, step, i, k); got != 0.05 {
				t.Fatalf("no-go trial %d step %d: ring target %d = %v, want 0.05", i, step, k, got)
			}
		}
	}
}

func TestMatchingLocations(t *testing.T) {
	_, trials := draw(mustIndex(t, "dmsgo"), 3, 4, 256)
	for i, tr := range trials {
		if tr.Loc1 != tr.Loc2 && CircularDistance(tr.Loc1, tr.Loc2) < math.Pi/9-tol {
			t.Fatalf("DMS trial %d: non-matching stimuli %v and %v are closer than 20°", i, tr.Loc1, tr.Loc2)
		}
	}
	_, trials = draw(mustIndex(t, "dmcgo"), 3, 4, 256)
	for i, tr := range trials {
		for _, loc := range []float64{tr.Loc1, tr.Loc2} {
			if !slices.ContainsFunc(categoryAngles, func(a float64) bool { return closeTo(a*math.Pi, loc, tol) }) {
				t.Fatalf("DMC trial %d: stimulus at %v rad is not one of the ten category angles", i, loc)
			}
		}
	}
}

// TestMatchingExplicitTrials builds known trials to pin the response rule
// independently of the generator.
func TestMatchingExplicitTrials(t *testing.T) {
	timing := Timing{T: 40, Stim1On: 5, Stim1Off: 10, Stim2On: 20, Stim2Off: 40, GoCue: 20}
	trials := []Trial{
		{Loc1: 1, Loc2: 1, Strength1: [2]float64{1, 0}, Strength2: [2]float64{0, 1}},               // same location and category
		{Loc1: 1, Loc2: 1.5, Strength1: [2]float64{1, 0}, Strength2: [2]float64{0, 1}},             // same category only
		{Loc1: 0.5, Loc2: 0.5 + math.Pi, Strength1: [2]float64{1, 0}, Strength2: [2]float64{0, 1}}, // neither
	}
	want := map[string][]bool{
		"dmsgo":   {true, false, false},
		"dmsnogo": {false, true, true},
		"dmcgo":   {true, true, false},
		"dmcnogo": {false, false, true},
	}
	for name, respond := range want {
		b := mustBuild(t, name, timing, trials)
		for i, tr := range b.Trials {
			got := yLocAt(b, b.T-1, i) >= 0
			if got != respond[i] {
				t.Errorf("%s trial %d (%v, %v): responds = %v, want %v", name, i, tr.Loc1, tr.Loc2, got, respond[i])
			}
			if respond[i] {
				checkResponds(t, b, i, tr.Loc2)
			} else {
				checkFixatesToEnd(t, b, i)
			}
		}
	}
}

func TestTwoStimuliInOneRingAdd(t *testing.T) {
	for _, name := range []string{"dm1", "dm2"} {
		b := mustGenerate(t, name, 12, 0, 16)
		ring := mustIndex(t, name) - mustIndex(t, "dm1")
		step := b.Timing.Stim1On
		for i, tr := range b.Trials {
			s1, s2 := tr.Strength1[ring], tr.Strength2[ring]
			if s1 == 0 || s2 == 0 {
				t.Fatalf("%s trial %d: strengths %v and %v, want both stimuli in ring %d", name, i, s1, s2, ring+1)
			}
			b1, b2 := expectedBump(tr.Loc1, s1), expectedBump(tr.Loc2, s2)
			got := ringInput(b, step, i, ring)
			for k := range RingSize {
				if !closeTo(got[k], b1[k]+b2[k], 1e-12) {
					t.Fatalf("%s trial %d unit %d: input %v, want the sum %v + %v", name, i, k, got[k], b1[k], b2[k])
				}
			}
			for _, v := range ringInput(b, step, i, 1-ring) {
				if v != 0 {
					t.Fatalf("%s trial %d: the other ring carries input %v, want 0", name, i, v)
				}
			}
		}
	}
}

func TestDMTargetIsStrongerStimulus(t *testing.T) {
	cases := []struct {
		name     string
		strength func(s [2]float64) float64
	}{
		{"dm1", ring1}, {"dm2", ring2}, {"contextdm1", ring1}, {"contextdm2", ring2}, {"multidm", bothRings},
		{"delaydm1", ring1}, {"delaydm2", ring2}, {"contextdelaydm1", ring1}, {"contextdelaydm2", ring2},
		{"multidelaydm", bothRings},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := mustGenerate(t, c.name, 21, 3, 64)
			picked := [2]int{}
			for i, tr := range b.Trials {
				want, which := tr.Loc2, 1
				if c.strength(tr.Strength1) > c.strength(tr.Strength2) {
					want, which = tr.Loc1, 0
				}
				picked[which]++
				if got := yLocAt(b, b.T-1, i); got != want {
					t.Fatalf("trial %d: YLoc %v, want the stronger stimulus at %v", i, got, want)
				}
				if d := CircularDistance(tr.Loc1, tr.Loc2); d < math.Pi/2-tol {
					t.Fatalf("trial %d: stimuli %v and %v are %v apart, want at least π/2", i, tr.Loc1, tr.Loc2, d)
				}
			}
			if picked[0] == 0 || picked[1] == 0 {
				t.Fatalf("stimulus 1 won %d and stimulus 2 won %d of 64 trials, want both", picked[0], picked[1])
			}
		})
	}
}

func ring1(s [2]float64) float64     { return s[0] }
func ring2(s [2]float64) float64     { return s[1] }
func bothRings(s [2]float64) float64 { return s[0] + s[1] }

// TestContextDMRingsDisagree checks that the unattended ring often points
// the other way, so a network that ignores the rule cannot solve the task.
func TestContextDMRingsDisagree(t *testing.T) {
	for _, name := range []string{"contextdm1", "contextdelaydm2"} {
		b := mustGenerate(t, name, 2, 2, 128)
		disagree := 0
		for _, tr := range b.Trials {
			if (tr.Strength1[0] > tr.Strength2[0]) != (tr.Strength1[1] > tr.Strength2[1]) {
				disagree++
			}
		}
		// Independent draws disagree on half the trials on average.
		if disagree < 32 || disagree > 96 {
			t.Errorf("%s: rings disagree on %d of 128 trials, want about 64", name, disagree)
		}
	}
}

func TestDMStrengthDistributions(t *testing.T) {
	cases := []struct {
		name       string
		coherences []float64
	}{
		{"dm1", []float64{0.01, 0.02, 0.04, 0.08}},
		{"contextdm2", []float64{0.01, 0.02, 0.04, 0.08}},
		{"delaydm2", []float64{0.08, 0.16, 0.32}},
		{"contextdelaydm1", []float64{0.08, 0.16, 0.32}},
	}
	for _, c := range cases {
		// draw is the sampling half of Generate, enough for strengths.
		_, trials := draw(mustIndex(t, c.name), 9, 9, 256)
		seen := map[float64]bool{}
		for i, tr := range trials {
			for r := range 2 {
				s1, s2 := tr.Strength1[r], tr.Strength2[r]
				if s1 == 0 && s2 == 0 {
					continue
				}
				mean, coh := (s1+s2)/2, math.Abs(s1-s2)/2
				if mean < 0.8 || mean >= 1.2 {
					t.Fatalf("%s trial %d ring %d: mean strength %v outside [0.8, 1.2)", c.name, i, r+1, mean)
				}
				j := slices.IndexFunc(c.coherences, func(x float64) bool { return closeTo(x, coh, 1e-12) })
				if j < 0 {
					t.Fatalf("%s trial %d ring %d: coherence %v not in %v", c.name, i, r+1, coh, c.coherences)
				}
				seen[c.coherences[j]] = true
			}
		}
		if len(seen) != len(c.coherences) {
			t.Errorf("%s: coherences seen %v, want all of %v", c.name, seen, c.coherences)
		}
	}
}

func TestMultiDMSplitKeepsSum(t *testing.T) {
	for _, name := range []string{"multidm", "multidelaydm"} {
		b := mustGenerate(t, name, 13, 1, 128)
		for i, tr := range b.Trials {
			for _, s := range [][2]float64{tr.Strength1, tr.Strength2} {
				total := (s[0] + s[1]) / 2
				frac := math.Abs(s[0]-s[1]) / total
				if frac < 0.2-tol || frac >= 0.8+tol {
					t.Fatalf("%s trial %d: split %v gives a ring difference of %v of the strength, want [0.2, 0.8)", name, i, s, frac)
				}
			}
			// The stimuli appear in both rings with the split strengths.
			step := b.Timing.Stim1On
			b1 := expectedBump(tr.Loc1, tr.Strength1[1])
			got := ringInput(b, step, i, 1)
			if name == "multidm" {
				b2 := expectedBump(tr.Loc2, tr.Strength2[1])
				for k := range b1 {
					b1[k] += b2[k]
				}
			}
			for k := range RingSize {
				if !closeTo(got[k], b1[k], 1e-12) {
					t.Fatalf("%s trial %d ring 2 unit %d: input %v, want %v", name, i, k, got[k], b1[k])
				}
			}
		}
	}
}

func TestMaskWeights(t *testing.T) {
	for _, name := range Names {
		b := mustGenerate(t, name, 14, 0, 4)
		goCue := b.Timing.GoCue
		for step := range b.T {
			want := 5.0
			switch {
			case step < 5:
				want = 0
			case step < goCue:
				want = 1
			case step < goCue+5:
				want = 0
			}
			for i := range b.B {
				if got := maskAt(b, step, i, 0); got != 2*want {
					t.Fatalf("%s step %d trial %d: fixation mask %v, want %v (go cue %d)", name, step, i, got, 2*want, goCue)
				}
				for k := 1; k < NumOutput; k++ {
					if got := maskAt(b, step, i, k); got != want {
						t.Fatalf("%s step %d trial %d: mask of output %d = %v, want %v (go cue %d)", name, step, i, k, got, want, goCue)
					}
				}
			}
		}
	}
}

func TestBatchShapesAndFiniteValues(t *testing.T) {
	for _, name := range Names {
		b := mustGenerate(t, name, 15, 2, 5)
		if b.Task != name || b.B != 5 || len(b.Trials) != 5 {
			t.Fatalf("%s: batch task %q with B = %d and %d trials, want %q, 5, 5", name, b.Task, b.B, len(b.Trials), name)
		}
		sizes := []struct {
			array string
			got   int
			want  int
		}{
			{"X", len(b.X), b.T * b.B * 85},
			{"Y", len(b.Y), b.T * b.B * 33},
			{"Mask", len(b.Mask), b.T * b.B * 33},
			{"YLoc", len(b.YLoc), b.T * b.B},
		}
		for _, s := range sizes {
			if s.got != s.want {
				t.Errorf("%s: len(%s) = %d, want %d", name, s.array, s.got, s.want)
			}
		}
		for _, arr := range [][]float64{b.X, b.Y, b.Mask, b.YLoc} {
			for j, v := range arr {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s: element %d is %v", name, j, v)
				}
			}
		}
		for j, v := range b.YLoc {
			if v != -1 && (v < 0 || v >= 2*math.Pi) {
				t.Fatalf("%s: YLoc[%d] = %v, want -1 or an angle in [0, 2π)", name, j, v)
			}
		}
	}
}

// TestMatchingRingsPerBatch checks that the sample and test rings are drawn
// once per batch and independently, so all four pairs occur.
func TestMatchingRingsPerBatch(t *testing.T) {
	for _, name := range []string{"dmsgo", "dmcnogo"} {
		pairs := map[[2]int]bool{}
		for seed := range uint64(40) {
			_, trials := draw(mustIndex(t, name), seed, 0, 8)
			ringOf := func(s [2]float64) int { return slices.Index(s[:], 1) }
			pair := [2]int{ringOf(trials[0].Strength1), ringOf(trials[0].Strength2)}
			for i, tr := range trials {
				got := [2]int{ringOf(tr.Strength1), ringOf(tr.Strength2)}
				if got != pair || got[0] < 0 || got[1] < 0 {
					t.Fatalf("%s seed %d trial %d: stimuli in rings %v, trial 0 in %v; want one ring each, shared by the batch",
						name, seed, i, got, pair)
				}
			}
			pairs[pair] = true
		}
		if len(pairs) != 4 {
			t.Errorf("%s: 40 batches used ring pairs %v, want all four", name, pairs)
		}
	}
}
