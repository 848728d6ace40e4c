package task

import (
	"errors"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// sameBatch reports whether two batches are bit-identical.
func sameBatch(a, b *Batch) bool {
	return a.Task == b.Task && a.T == b.T && a.B == b.B &&
		slices.Equal(a.X, b.X) && slices.Equal(a.Y, b.Y) &&
		slices.Equal(a.Mask, b.Mask) && slices.Equal(a.YLoc, b.YLoc) &&
		maps.Equal(a.Epochs, b.Epochs) && a.Timing == b.Timing && slices.Equal(a.Trials, b.Trials)
}

func TestGenerateDeterministic(t *testing.T) {
	for _, name := range Names {
		a := mustGenerate(t, name, 42, 7, 8)
		b := mustGenerate(t, name, 42, 7, 8)
		if !sameBatch(a, b) {
			t.Errorf("%s: two calls with the same arguments gave different batches", name)
		}
	}
}

func TestGenerateVariesWithIndexAndSeed(t *testing.T) {
	for _, name := range Names {
		base := mustGenerate(t, name, 42, 7, 8)
		otherIndex := mustGenerate(t, name, 42, 8, 8)
		otherSeed := mustGenerate(t, name, 43, 7, 8)
		if reflect.DeepEqual(base.Trials, otherIndex.Trials) {
			t.Errorf("%s: batches 7 and 8 of seed 42 have the same trials", name)
		}
		if reflect.DeepEqual(base.Trials, otherSeed.Trials) {
			t.Errorf("%s: batch 7 of seeds 42 and 43 have the same trials", name)
		}
	}
}

// TestGenerateTasksIndependent checks that the tasks do not share a
// stream at the same seed and index, including tasks that draw their
// parameters with the same code.
func TestGenerateTasksIndependent(t *testing.T) {
	first := map[uint64]string{}
	for rule, name := range Names {
		key := newSampler(42, rule, 7).src.Uint64()
		if other, ok := first[key]; ok {
			t.Errorf("%s and %s start with the same random number %#x", name, other, key)
		}
		first[key] = name
	}
	for _, pair := range [][2]string{{"fdgo", "fdanti"}, {"dm1", "contextdm1"}, {"dmcgo", "dmcnogo"}} {
		a := mustGenerate(t, pair[0], 42, 7, 8)
		b := mustGenerate(t, pair[1], 42, 7, 8)
		if reflect.DeepEqual(a.Trials, b.Trials) {
			t.Errorf("%s and %s drew the same trials", pair[0], pair[1])
		}
	}
}

func TestGenerateUnaffectedByOtherCalls(t *testing.T) {
	want := mustGenerate(t, "contextdm1", 5, 100, 16)
	for i, name := range Names {
		mustGenerate(t, name, uint64(i), uint64(i), 3)
	}
	if got := mustGenerate(t, "contextdm1", 5, 100, 16); !sameBatch(got, want) {
		t.Error("generating other tasks in between changed the batch")
	}

	// Concurrent generation must neither race nor change results.
	var wg sync.WaitGroup
	results := make([]*Batch, 8)
	for g := range results {
		wg.Go(func() {
			for i, name := range Names {
				if _, err := Generate(name, uint64(g), uint64(i), 2); err != nil {
					t.Error(err)
				}
			}
			results[g], _ = Generate("contextdm1", 5, 100, 16)
		})
	}
	wg.Wait()
	for g, got := range results {
		if !sameBatch(got, want) {
			t.Errorf("goroutine %d: concurrent generation changed the batch", g)
		}
	}
}

// TestGenerateGolden pins a few drawn values, so a change to the sampler or
// to the order of draws, which would silently change every sweep, fails
// here and must be made on purpose.
func TestGenerateGolden(t *testing.T) {
	b := mustGenerate(t, "delaydm1", 1, 2, 2)
	got := struct {
		Timing     Timing
		Loc1, Str1 float64
	}{b.Timing, b.Trials[1].Loc1, b.Trials[1].Strength1[0]}
	// Values recorded from this implementation.
	want := Timing{T: 132, Stim1On: 20, Stim1Off: 40, Stim2On: 80, Stim2Off: 100, GoCue: 107}
	if got.Timing != want {
		t.Errorf("timing %+v, want %+v", got.Timing, want)
	}
	if got.Loc1 != 2.8957052771982683 {
		t.Errorf("trial 1 location %.17g, want 2.8957052771982683", got.Loc1)
	}
	if got.Str1 != 1.397519796953564 {
		t.Errorf("trial 1 strength %.17g, want 1.397519796953564", got.Str1)
	}
}

func TestGenerateRejectsUnknownTask(t *testing.T) {
	_, err := Generate("dm3", 1, 0, 4)
	if err == nil {
		t.Fatal("Generate(dm3) returned no error")
	}
	if !errors.Is(err, ErrUnknownTask) {
		t.Errorf("error %q does not wrap ErrUnknownTask", err)
	}
	for _, want := range []string{`"dm3"`, "fdgo", "dmcnogo"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestGenerateRejectsBatchSize(t *testing.T) {
	for _, size := range []int{0, -1, MaxBatchSize + 1} {
		_, err := Generate("fdgo", 1, 0, size)
		if err == nil {
			t.Errorf("batch size %d: no error", size)
			continue
		}
		if !strings.Contains(err.Error(), "batch size") {
			t.Errorf("batch size %d: error %q does not name the batch size", size, err)
		}
	}
}

func TestIndexFollowsNames(t *testing.T) {
	for want, name := range Names {
		got, err := Index(name)
		if err != nil || got != want {
			t.Errorf("Index(%q) = %d, %v; want %d", name, got, err, want)
		}
	}
	if _, err := Index("FDGO"); !errors.Is(err, ErrUnknownTask) {
		t.Errorf("Index(FDGO) error = %v, want ErrUnknownTask", err)
	}
}

func TestBuildReproducesGenerate(t *testing.T) {
	for _, name := range Names {
		want := mustGenerate(t, name, 77, 3, 6)
		got := mustBuild(t, name, want.Timing, want.Trials)
		if !sameBatch(got, want) {
			t.Errorf("%s: Build from the generated parameters differs from Generate", name)
		}
	}
}

func TestBuildWrapsAngles(t *testing.T) {
	timing := Timing{T: 40, Stim1On: 5, Stim1Off: 40, GoCue: 20}
	b := mustBuild(t, "fdgo", timing, []Trial{{Loc1: -math.Pi / 2, Strength1: [2]float64{1, 0}}})
	if got, want := b.Trials[0].Loc1, 1.5*math.Pi; !closeTo(got, want, tol) {
		t.Errorf("Loc1 -π/2 stored as %v, want %v", got, want)
	}
	if got, want := yLocAt(b, b.T-1, 0), 1.5*math.Pi; !closeTo(got, want, tol) {
		t.Errorf("YLoc %v, want %v", got, want)
	}
}

func TestBuildRejectsInvalidParameters(t *testing.T) {
	one := []Trial{{Loc1: 1, Strength1: [2]float64{1, 0}}}
	fd := Timing{T: 40, Stim1On: 5, Stim1Off: 40, GoCue: 20}
	cases := []struct {
		name   string
		task   string
		timing Timing
		trials []Trial
		want   string
	}{
		{"unknown task", "fdgo2", fd, one, "unknown task"},
		{"no trials", "fdgo", fd, nil, "no trials"},
		{"zero length", "fdgo", Timing{}, one, "T = 0"},
		{"window past end", "fdgo", Timing{T: 40, Stim1On: 5, Stim1Off: 41, GoCue: 20}, one, "stimulus 1 window"},
		{"window reversed", "delaygo", Timing{T: 40, Stim1On: 9, Stim1Off: 5, GoCue: 20}, one, "stimulus 1 window"},
		{"negative onset", "dm1", Timing{T: 40, Stim1On: 2, Stim1Off: 20, Stim2On: -1, Stim2Off: 20, GoCue: 20}, one, "stimulus 2 window"},
		{"go cue at end", "fdgo", Timing{T: 40, Stim1On: 5, Stim1Off: 40, GoCue: 40}, one, "go cue"},
		{"react cue off onset", "reactgo", Timing{T: 40, Stim1On: 10, Stim1Off: 40, GoCue: 20}, one, "stimulus onset"},
		{"matching cue off onset", "dmsgo", Timing{T: 40, Stim1On: 5, Stim1Off: 10, Stim2On: 20, Stim2Off: 40, GoCue: 25}, one, "stimulus 2 onset"},
		{"NaN location", "fdgo", fd, []Trial{{Loc1: math.NaN()}}, "non-finite"},
		{"infinite strength", "dm1", fd, []Trial{{Strength2: [2]float64{math.Inf(1), 0}}}, "non-finite"},
		{"too many trials", "fdgo", fd, make([]Trial, MaxBatchSize+1), "at most"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Build(c.task, c.timing, c.trials)
			if err == nil {
				t.Fatalf("no error, batch T = %d", b.T)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestGenerateIntoReusesBatch(t *testing.T) {
	dst := &Batch{}
	// Alternate long and short tasks and batch sizes so the arrays both
	// grow and shrink.
	steps := []struct {
		name string
		size int
	}{{"multidelaydm", 8}, {"dm1", 3}, {"dmsnogo", 16}, {"reactgo", 2}, {"contextdelaydm2", 8}}
	for i, s := range steps {
		if err := GenerateInto(dst, s.name, 9, uint64(i), s.size); err != nil {
			t.Fatal(err)
		}
		want := mustGenerate(t, s.name, 9, uint64(i), s.size)
		if !sameBatch(dst, want) {
			t.Fatalf("step %d (%s, %d trials): reused batch differs from a fresh one", i, s.name, s.size)
		}
	}
}

func TestGenerateIntoRejectsNilBatch(t *testing.T) {
	err := GenerateInto(nil, "fdgo", 1, 0, 4)
	if err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("GenerateInto(nil) error = %v, want one naming the nil destination", err)
	}
}
