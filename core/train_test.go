package core

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sync"
	"testing"
)

// smallConfig returns a configuration that trains in well under a second.
func smallConfig() Config {
	cfg := Default()
	cfg.Tasks = []string{"fdgo", "reactgo"}
	cfg.Hidden, cfg.GridRows, cfg.GridCols = 16, 4, 4
	cfg.BatchSize = 8
	cfg.Steps = 20
	cfg.EvalEvery = 10
	cfg.EvalTrials = 32
	return cfg
}

func TestTrainIsDeterministic(t *testing.T) {
	for _, precision := range []string{"float32", "float64"} {
		t.Run(precision, func(t *testing.T) {
			cfg := smallConfig()
			cfg.Precision = precision
			cfg.Regularizer, cfg.Lambda, cfg.SwapEvery, cfg.SwapTopK = RegBIMT, 0.05, 5, 8
			a, err := Train(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Train(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			a.Duration, b.Duration = 0, 0
			if !reflect.DeepEqual(a, b) {
				t.Errorf("two runs of one configuration differ:\nfirst  %+v\nsecond %+v", a.Final, b.Final)
			}
			cfg.Seed++
			c, err := Train(context.Background(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if reflect.DeepEqual(a.Weights, c.Weights) {
				t.Error("seeds 1 and 2 gave identical weights")
			}
		})
	}
}

func TestTrainFillsResult(t *testing.T) {
	cfg := smallConfig()
	cfg.Regularizer, cfg.Lambda, cfg.SwapEvery, cfg.SwapTopK = RegBIMT, 0.05, 5, 8
	var seen []Progress
	res, err := Train(context.Background(), cfg, func(p Progress) { seen = append(seen, p) })
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != cfg.Steps {
		t.Fatalf("progress called %d times, want once per step (%d)", len(seen), cfg.Steps)
	}
	if !math.IsNaN(seen[0].Perf) {
		t.Errorf("progress before the first evaluation has Perf %v, want NaN", seen[0].Perf)
	}
	if last := seen[len(seen)-1]; last.Step != cfg.Steps || last.Perf != res.Final.Mean {
		t.Errorf("last progress %+v, want step %d and perf %v", last, cfg.Steps, res.Final.Mean)
	}
	if got := []int{res.Evals[0].Step, res.Evals[1].Step}; len(res.Evals) != 2 || got[0] != 10 || got[1] != 20 {
		t.Errorf("evaluations at steps %v, want [10 20]", got)
	}
	if len(res.Final.PerTask) != 2 {
		t.Errorf("final evaluation covers %d tasks, want 2", len(res.Final.PerTask))
	}
	if len(res.LossCurve) != 2 || res.LossCurve[1].Step != 20 || !(res.LossCurve[1].Penalty > 0) {
		t.Errorf("loss curve %+v, want points at steps 10 and 20 with a positive penalty", res.LossCurve)
	}
	if !(res.FinalLoss > 0) {
		t.Errorf("final loss %v, want > 0", res.FinalLoss)
	}
	if len(res.Weights.Wrec) != 16*16 || len(res.Layout.Hidden) != 16 || len(res.Layout.Inputs) != 85 {
		t.Errorf("weights or layout have the wrong size: %d recurrent weights, %d hidden and %d input positions",
			len(res.Weights.Wrec), len(res.Layout.Hidden), len(res.Layout.Inputs))
	}
	if res.Measures.ThetaN != cfg.ThetaN || res.Measures.Connections == 0 {
		t.Errorf("measures %+v: want thresholds copied and connections counted", res.Measures)
	}
	if res.Measures.ActiveNeuronsActivity == 0 {
		t.Errorf("activity-based count is 0, want the active units of a trained network")
	}
	if res.Swaps == 0 {
		t.Error("no swaps in 4 BIMT swap rounds")
	}
	if res.Duration <= 0 {
		t.Errorf("duration %v, want > 0", res.Duration)
	}
}

func TestTrainPenaltyShrinksWeights(t *testing.T) {
	cfg := smallConfig()
	plain, err := Train(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Regularizer, cfg.Lambda = RegL1, 20
	l1, err := Train(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	sumAbs := func(w []float64) float64 {
		s := 0.0
		for _, v := range w {
			s += math.Abs(v)
		}
		return s
	}
	if a, b := sumAbs(l1.Weights.Wrec), sumAbs(plain.Weights.Wrec); a >= b {
		t.Errorf("Σ|Wrec| with L1 = %v, without = %v: the penalty should shrink it", a, b)
	}
	if l1.Swaps != 0 {
		t.Errorf("L1 made %d swaps, want 0", l1.Swaps)
	}
}

func TestTrainStopsWithinOneStep(t *testing.T) {
	cfg := smallConfig()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	last := 0
	_, err := Train(ctx, cfg, func(p Progress) {
		last = p.Step
		if p.Step == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want one wrapping context.Canceled", err)
	}
	if last != 3 {
		t.Errorf("last step %d, want 3: training went on after the cancel", last)
	}
}

func TestTrainReportsDivergence(t *testing.T) {
	for _, precision := range []string{"float32", "float64"} {
		t.Run(precision, func(t *testing.T) {
			cfg := smallConfig()
			cfg.Precision = precision
			cfg.LR = 1e200
			cfg.Steps = 50
			_, err := Train(context.Background(), cfg, nil)
			var div *DivergedError
			if !errors.As(err, &div) {
				t.Fatalf("error %v, want a *DivergedError", err)
			}
			if div.Step < 1 || div.Step > cfg.Steps {
				t.Errorf("diverged at step %d, want 1..%d", div.Step, cfg.Steps)
			}
		})
	}
}

func TestTrainRejectsInvalidConfig(t *testing.T) {
	cfg := smallConfig()
	cfg.Hidden = 15
	_, err := Train(context.Background(), cfg, nil)
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("error %v, want one wrapping ErrInvalidConfig", err)
	}
}

func TestTrainConcurrentTrialsAgree(t *testing.T) {
	cfg := smallConfig()
	cfg.Steps = 10
	want, err := Train(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want.Duration = 0

	// An agent runs several trials at once in one process: they must not
	// share state.
	results := make([]*Result, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i], errs[i] = Train(context.Background(), cfg, nil) })
	}
	wg.Wait()
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("trial %d: %v", i, errs[i])
		}
		res.Duration = 0
		if !reflect.DeepEqual(res, want) {
			t.Errorf("trial %d run concurrently differs from the same trial run alone", i)
		}
	}
}

func TestActivityMeasureSkipsSilencedUnits(t *testing.T) {
	cfg := smallConfig()
	cfg.Precision = "float64"
	tr, err := newTrainer[float64](cfg)
	if err != nil {
		t.Fatal(err)
	}
	before, err := tr.measure(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if before.ActiveNeuronsActivity != cfg.Hidden {
		t.Fatalf("%d of %d units active at initialisation, want all", before.ActiveNeuronsActivity, cfg.Hidden)
	}

	// Units without input weights have a constant rate, so zero variance.
	n := cfg.Hidden
	for _, j := range []int{0, 5, 9} {
		for i := range tr.params.NIn {
			tr.params.Win[i*n+j] = 0
		}
		for i := range n {
			tr.params.Wrec[i*n+j] = 0
		}
	}
	after, err := tr.measure(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if after.ActiveNeuronsActivity != n-3 {
		t.Errorf("%d units active after silencing 3 of %d, want %d", after.ActiveNeuronsActivity, n, n-3)
	}
}

// L1 is the BIMT cost without its distance term and without swaps, so the
// two must train identically when BIMT's distance weight and swaps are off.
func TestL1EqualsBIMTWithoutDistance(t *testing.T) {
	l1 := smallConfig()
	l1.Regularizer, l1.Lambda = RegL1, 0.5
	bimt := l1
	bimt.Regularizer, bimt.DistanceA, bimt.SwapEvery = RegBIMT, 0, 0

	a, err := Train(context.Background(), l1, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(context.Background(), bimt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Weights, b.Weights) {
		t.Error("final weights differ between l1 and bimt with distance_a 0 and no swaps")
	}
	if !reflect.DeepEqual(a.LossCurve, b.LossCurve) {
		t.Error("loss curves differ between l1 and bimt with distance_a 0 and no swaps")
	}
	if b.Swaps != 0 {
		t.Errorf("bimt with swap_every 0 made %d swaps", b.Swaps)
	}

	// With the distance term on, BIMT must train differently.
	bimt.DistanceA = 2
	c, err := Train(context.Background(), bimt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Weights, c.Weights) {
		t.Error("bimt with distance_a 2 trained exactly like l1")
	}
}
