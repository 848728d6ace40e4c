package core

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestLearningGoTasks trains the default 64-unit network on fdgo, reactgo,
// delaygo and fdanti and requires a mean performance of at least 0.9. It
// takes under a minute without the race detector, so it runs only when
// MODSWEEP_LEARNING_TEST=1, as .ci/test sets it, and never under -race or
// -short.
func TestLearningGoTasks(t *testing.T) {
	switch {
	case os.Getenv("MODSWEEP_LEARNING_TEST") != "1":
		t.Skip("set MODSWEEP_LEARNING_TEST=1 to run the learning test")
	case raceEnabled:
		t.Skip("the learning test is too slow under the race detector")
	case testing.Short():
		t.Skip("the learning test is skipped in -short mode")
	}

	cfg := Default()
	cfg.Tasks = []string{"fdgo", "reactgo", "delaygo", "fdanti"}
	cfg.Hidden, cfg.GridRows, cfg.GridCols = 64, 8, 8
	cfg.Steps = 2500
	cfg.EvalEvery = 500
	cfg.EvalTrials = 256

	start := time.Now()
	res, err := Train(context.Background(), cfg, func(p Progress) {
		if p.Step%500 == 0 {
			t.Logf("step %d: loss %.4f, mean performance %.3f", p.Step, p.Loss, p.Perf)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d steps in %v (BLAS %s); final loss %.4f; per task %v",
		cfg.Steps, time.Since(start).Round(time.Second), BLASBackend, res.FinalLoss, res.Final.PerTask)
	if res.Final.Mean < 0.9 {
		t.Errorf("mean performance %.3f after %d steps, want >= 0.9", res.Final.Mean, cfg.Steps)
	}
}
