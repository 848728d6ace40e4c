package core

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
}

func TestValidateNamesFieldAndLimit(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"hidden too large", func(c *Config) { c.Hidden, c.GridRows, c.GridCols = 1_000_000, 1000, 1000 }, []string{"hidden = 1000000", "4096"}},
		{"hidden zero", func(c *Config) { c.Hidden = 0 }, []string{"hidden = 0", "between 1 and 4096"}},
		{"grid mismatch", func(c *Config) { c.Hidden = 60 }, []string{"hidden = 60 does not fit the 8 × 8 grid", "grid_rows"}},
		{"steps too many", func(c *Config) { c.Steps = MaxSteps + 1 }, []string{"steps = 10000001", "10000000"}},
		{"eval trials zero", func(c *Config) { c.EvalTrials = 0 }, []string{"eval_trials = 0"}},
		{"batch too large", func(c *Config) { c.BatchSize = 5000 }, []string{"batch_size = 5000", "4096"}},
		{"nan lambda", func(c *Config) { c.Regularizer, c.Lambda = RegL1, math.NaN() }, []string{"lambda = NaN"}},
		{"lambda with none", func(c *Config) { c.Lambda = 0.1 }, []string{"regularizer none", "set lambda to 0"}},
		{"unknown task", func(c *Config) { c.Tasks = []string{"fdgo", "nosuch"} }, []string{`unknown task "nosuch"`, "dmcnogo"}},
		{"unknown regularizer", func(c *Config) { c.Regularizer = "l2" }, []string{`regularizer = "l2"`, "none, l1, bimt"}},
		{"schedule out of order", func(c *Config) {
			c.Regularizer, c.Lambda = RegBIMT, 0.1
			c.LambdaSchedule = []LambdaStep{{At: 0.5, Factor: 10}, {At: 0.25, Factor: 1}}
		}, []string{"lambda_schedule[1].at = 0.25", "increasing"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			tc.change(&cfg)
			err := cfg.Validate()
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want an error wrapping ErrInvalidConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLambdaScheduleSteps(t *testing.T) {
	cfg := Default()
	cfg.Regularizer, cfg.Lambda, cfg.Steps = RegBIMT, 0.01, 1000
	cfg.LambdaSchedule = []LambdaStep{{At: 0.25, Factor: 10}, {At: 0.75, Factor: 1}}
	cases := map[int]float64{0: 0.01, 249: 0.01, 250: 0.1, 749: 0.1, 750: 0.01, 999: 0.01}
	for step, want := range cases {
		if got := cfg.LambdaAt(step); math.Abs(got-want) > 1e-15 {
			t.Errorf("LambdaAt(%d) = %v, want %v", step, got, want)
		}
	}
}

func TestEffectiveAIsZeroForL1(t *testing.T) {
	cfg := Default()
	cfg.Regularizer = RegL1
	if a := cfg.EffectiveA(); a != 0 {
		t.Errorf("EffectiveA() for l1 = %v, want 0", a)
	}
	cfg.Regularizer = RegBIMT
	if a := cfg.EffectiveA(); a != cfg.DistanceA {
		t.Errorf("EffectiveA() for bimt = %v, want %v", a, cfg.DistanceA)
	}
	if cfg.Swaps() != true {
		t.Error("Swaps() = false for bimt with swap_every > 0")
	}
	cfg.Regularizer = RegL1
	if cfg.Swaps() {
		t.Error("Swaps() = true for l1")
	}
}

func TestDefaultTaskWeights(t *testing.T) {
	cfg := Default()
	cfg.Tasks = []string{"fdgo", "contextdm1", "contextdm2"}
	w := cfg.Weights()
	want := []float64{1, 5, 5}
	for i := range want {
		if w[i] != want[i] {
			t.Errorf("Weights()[%d] = %v, want %v", i, w[i], want[i])
		}
	}
}
