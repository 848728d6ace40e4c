package task

import (
	"math"
	"strings"
	"testing"
)

// setOutput writes a fixation output and a ring whose population vector
// points exactly at angle (0.5 + 0.4·cos(θ_k − angle)) into step t of
// trial i.
func setOutput(yhat []float64, b *Batch, t, i int, fixation, angle float64) {
	out := yhat[(t*b.B+i)*NumOutput:][:NumOutput]
	out[0] = fixation
	for k := range RingSize {
		out[1+k] = 0.5 + 0.4*math.Cos(2*math.Pi*float64(k)/RingSize-angle)
	}
}

func TestPerformanceHandBuiltOutputs(t *testing.T) {
	const target = 1.0
	const eps = 1e-9
	edge := ResponseTolerance
	cases := []struct {
		name     string
		fixation float64
		angle    float64
		want     float64
	}{
		{"correct angle", 0.1, target + 0.1, 1},
		{"wrong angle", 0.1, target + math.Pi/2, 0},
		{"opposite angle", 0.1, target + math.Pi, 0},
		{"kept fixating on a go trial", 0.9, target, 0},
		{"inside tolerance above", 0.1, target + edge - eps, 1},
		{"outside tolerance above", 0.1, target + edge + eps, 0},
		{"inside tolerance below", 0.1, target - edge + eps, 1},
		{"outside tolerance below", 0.1, target - edge - eps, 0},
		{"fixation output exactly 0.5 counts as released", 0.5, target, 1},
		{"tolerance is 0.2π not π/10", 0.1, target + 0.15*math.Pi, 1},
	}

	// One fdgo trial per case, all with the target at 1 rad.
	timing := Timing{T: 30, Stim1On: 5, Stim1Off: 30, GoCue: 15}
	trials := make([]Trial, len(cases))
	for i := range trials {
		trials[i] = Trial{Loc1: target, Strength1: [2]float64{1, 0}}
	}
	b := mustBuild(t, "fdgo", timing, trials)
	yhat := make([]float64, b.T*b.B*NumOutput)
	for i, c := range cases {
		setOutput(yhat, b, b.T-1, i, c.fixation, c.angle)
	}

	perf := Performance(yhat, b)
	for i, c := range cases {
		if perf[i] != c.want {
			t.Errorf("%s: performance %v, want %v", c.name, perf[i], c.want)
		}
	}
}

func TestPerformanceWrapsAroundZero(t *testing.T) {
	timing := Timing{T: 30, Stim1On: 5, Stim1Off: 30, GoCue: 15}
	b := mustBuild(t, "fdgo", timing, []Trial{
		{Loc1: 0.05, Strength1: [2]float64{1, 0}},
		{Loc1: 2*math.Pi - 0.05, Strength1: [2]float64{1, 0}},
	})
	yhat := make([]float64, b.T*b.B*NumOutput)
	setOutput(yhat, b, b.T-1, 0, 0.1, 2*math.Pi-0.1)
	setOutput(yhat, b, b.T-1, 1, 0.1, 0.1)
	for i, p := range Performance(yhat, b) {
		if p != 1 {
			t.Errorf("trial %d: performance %v across 0 rad, want 1", i, p)
		}
	}
}

func TestPerformanceNoGoTrials(t *testing.T) {
	// Trial 0 matches (go), trial 1 does not (no-go) under dmsgo.
	timing := Timing{T: 40, Stim1On: 5, Stim1Off: 10, Stim2On: 20, Stim2Off: 40, GoCue: 20}
	b := mustBuild(t, "dmsgo", timing, []Trial{
		{Loc1: 2, Loc2: 2, Strength1: [2]float64{1, 0}, Strength2: [2]float64{1, 0}},
		{Loc1: 2, Loc2: 4, Strength1: [2]float64{1, 0}, Strength2: [2]float64{1, 0}},
	})
	cases := []struct {
		name        string
		fixation    [2]float64
		want        [2]float64
		description string
	}{
		{"both right", [2]float64{0.1, 0.9}, [2]float64{1, 1}, "go trial responds, no-go trial fixates"},
		{"both fixate", [2]float64{0.9, 0.9}, [2]float64{0, 1}, "fixating on a go trial fails"},
		{"both respond", [2]float64{0.1, 0.1}, [2]float64{1, 0}, "responding on a no-go trial fails"},
		{"no-go at 0.5", [2]float64{0.1, 0.5}, [2]float64{1, 0}, "0.5 is not above the fixation threshold"},
	}
	for _, c := range cases {
		yhat := make([]float64, b.T*b.B*NumOutput)
		// Trial 1's decoded angle points at its test stimulus, which must
		// not matter on a no-go trial.
		setOutput(yhat, b, b.T-1, 0, c.fixation[0], 2)
		setOutput(yhat, b, b.T-1, 1, c.fixation[1], 4)
		perf := Performance(yhat, b)
		if perf[0] != c.want[0] || perf[1] != c.want[1] {
			t.Errorf("%s (%s): performance %v, want %v", c.name, c.description, perf, c.want)
		}
	}
}

func TestPerformanceUsesLastStepOnly(t *testing.T) {
	timing := Timing{T: 30, Stim1On: 5, Stim1Off: 30, GoCue: 15}
	b := mustBuild(t, "fdgo", timing, []Trial{{Loc1: 3, Strength1: [2]float64{1, 0}}})
	yhat := make([]float64, b.T*b.B*NumOutput)
	// Wrong everywhere except the last step.
	for step := range b.T - 1 {
		setOutput(yhat, b, step, 0, 0.1, 0)
	}
	setOutput(yhat, b, b.T-1, 0, 0.1, 3)
	if got := Performance(yhat, b)[0]; got != 1 {
		t.Errorf("performance %v with a correct last step, want 1", got)
	}
	setOutput(yhat, b, b.T-1, 0, 0.1, 0)
	for step := range b.T - 1 {
		setOutput(yhat, b, step, 0, 0.1, 3)
	}
	if got := Performance(yhat, b)[0]; got != 0 {
		t.Errorf("performance %v with only the last step wrong, want 0", got)
	}
}

// TestPerformanceOfTargets scores the targets themselves, which must pass
// on every trial of every task, and a network that always fixates, which
// must pass exactly on the trials that ask for fixation.
func TestPerformanceOfTargets(t *testing.T) {
	for _, name := range Names {
		b := mustGenerate(t, name, 31, 0, 32)
		for i, p := range Performance(b.Y, b) {
			if p != 1 {
				t.Errorf("%s trial %d: targets score %v, want 1", name, i, p)
			}
		}
		fixate := make([]float64, len(b.Y))
		for j := 0; j < len(fixate); j += NumOutput {
			fixate[j] = 0.9
		}
		for i, p := range Performance(fixate, b) {
			want := 0.0
			if yLocAt(b, b.T-1, i) < 0 {
				want = 1
			}
			if p != want {
				t.Errorf("%s trial %d: always fixating scores %v, want %v", name, i, p, want)
			}
		}
	}
}

func TestScoreRejectsBadShapes(t *testing.T) {
	b := mustGenerate(t, "fdgo", 1, 0, 2)
	cases := []struct {
		name  string
		yhat  []float64
		batch *Batch
		want  string
	}{
		{"short outputs", make([]float64, b.T*b.B*NumOutput-1), b, "yhat has"},
		{"inputs passed as outputs", b.X, b, "yhat has"},
		{"nil batch", nil, nil, "batch is nil"},
		{"empty batch", nil, &Batch{Task: "fdgo"}, "T = 0"},
	}
	for _, c := range cases {
		_, err := Score(c.yhat, c.batch)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
		}
		if p := Performance(c.yhat, c.batch); p != nil {
			t.Errorf("%s: Performance returned %v, want nil", c.name, p)
		}
	}
}

func TestDecodeAngle(t *testing.T) {
	for _, want := range []float64{0, 0.3, math.Pi, 4, 2*math.Pi - 1e-3} {
		ring := make([]float64, RingSize)
		for k := range ring {
			ring[k] = 0.5 + 0.4*math.Cos(2*math.Pi*float64(k)/RingSize-want)
		}
		if got := DecodeAngle(ring); CircularDistance(got, want) > 1e-12 {
			t.Errorf("cosine ring at %v decodes to %v", want, got)
		}
		// A target bump decodes to its centre up to the sampling of the ring.
		bump := expectedBump(want, 1)
		if got := DecodeAngle(bump); CircularDistance(got, want) > 1e-6 {
			t.Errorf("bump at %v decodes to %v", want, got)
		}
		if got := DecodeAngle(bump); got < 0 || got >= 2*math.Pi {
			t.Errorf("bump at %v decodes to %v, outside [0, 2π)", want, got)
		}
	}
}

func TestCircularDistance(t *testing.T) {
	cases := []struct{ a, b, want float64 }{
		{0, 0, 0},
		{0.1, 2*math.Pi - 0.1, 0.2},
		{0, math.Pi, math.Pi},
		{1, 1 + 3*math.Pi, math.Pi},
		{-0.5, 0.5, 1},
	}
	for _, c := range cases {
		if got := CircularDistance(c.a, c.b); !closeTo(got, c.want, 1e-12) {
			t.Errorf("CircularDistance(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
