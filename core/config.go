package core

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/modsweep/modsweep/core/task"
)

// Regularizer names accepted in Config.Regularizer.
const (
	RegNone = "none" // no penalty (lambda must be 0)
	RegL1   = "l1"   // lambda·Σ mean(|W|·l0): the BIMT cost with A = 0 and no swaps
	RegBIMT = "bimt" // lambda·Σ mean(|W|·(A·D + l0)) plus neuron swaps
)

// Regularizers lists the accepted regularizer names.
var Regularizers = []string{RegNone, RegL1, RegBIMT}

// LambdaStep multiplies the base lambda by Factor from the step
// round(At·Steps) on. Steps apply in order and do not compound: the factor of
// the last step reached is the one in force.
type LambdaStep struct {
	At     float64 `json:"at" yaml:"at"`         // fraction of training in [0, 1)
	Factor float64 `json:"factor" yaml:"factor"` // multiplier of the base lambda, >= 0
}

// Config is the complete description of one training trial. Every field has
// a default (see Default). Default fills the struct before a sweep file or a
// wire message overrides fields, so a zero value never silently stands in
// for a default.
type Config struct {
	// Tasks names the tasks to train on, from task.Names.
	Tasks []string `json:"tasks" yaml:"tasks"`
	// TaskWeights gives each task's sampling weight, in the order of Tasks.
	// Empty means Yang et al.'s weights: 5 for contextdm1 and contextdm2, 1
	// for every other task.
	TaskWeights []float64 `json:"task_weights,omitempty" yaml:"task_weights,omitempty"`

	// Hidden is the number of hidden units; it must equal GridRows·GridCols.
	Hidden   int `json:"hidden" yaml:"hidden"`
	GridRows int `json:"grid_rows" yaml:"grid_rows"`
	GridCols int `json:"grid_cols" yaml:"grid_cols"`

	Activation string  `json:"activation" yaml:"activation"` // "softplus" or "relu"
	WRecInit   string  `json:"w_rec_init" yaml:"w_rec_init"` // "diag" (0.5·I) or "randortho" (0.5·Q)
	TauMS      float64 `json:"tau_ms" yaml:"tau_ms"`         // membrane time constant, ms
	DtMS       float64 `json:"dt_ms" yaml:"dt_ms"`           // time step, ms; alpha = DtMS/TauMS
	SigmaRec   float64 `json:"sigma_rec" yaml:"sigma_rec"`   // recurrent noise, scaled by sqrt(2/alpha)
	SigmaX     float64 `json:"sigma_x" yaml:"sigma_x"`       // input noise, scaled by sqrt(2/alpha)
	EvalNoise  bool    `json:"eval_noise" yaml:"eval_noise"` // noise on during evaluation, as in Yang et al.
	Precision  string  `json:"precision" yaml:"precision"`   // compute precision: "float32" or "float64"
	BatchSize  int     `json:"batch_size" yaml:"batch_size"` // trials per training batch (one task per batch)
	Steps      int     `json:"steps" yaml:"steps"`           // training steps (parameter updates)
	LR         float64 `json:"learning_rate" yaml:"learning_rate"`
	GradClip   float64 `json:"grad_clip" yaml:"grad_clip"`     // element-wise clip to [-GradClip, GradClip]; 0 disables
	EvalEvery  int     `json:"eval_every" yaml:"eval_every"`   // steps between evaluations; 0 evaluates only at the end
	EvalTrials int     `json:"eval_trials" yaml:"eval_trials"` // evaluation trials per task
	Seed       uint64  `json:"seed" yaml:"seed"`

	Regularizer    string       `json:"regularizer" yaml:"regularizer"`
	Lambda         float64      `json:"lambda" yaml:"lambda"`
	LambdaSchedule []LambdaStep `json:"lambda_schedule,omitempty" yaml:"lambda_schedule,omitempty"`
	DistanceA      float64      `json:"distance_a" yaml:"distance_a"`       // A: weight of distance in the cost (BIMT only)
	LayerSpacing   float64      `json:"layer_spacing" yaml:"layer_spacing"` // l0: constant added to every connection length
	PenalizeIO     bool         `json:"penalize_io" yaml:"penalize_io"`     // whether Win and Wout carry the distance term
	SwapEvery      int          `json:"swap_every" yaml:"swap_every"`       // steps between BIMT swap rounds; 0 disables
	SwapTopK       int          `json:"swap_top_k" yaml:"swap_top_k"`       // hidden units tried per swap round

	ThetaN        float64 `json:"theta_n" yaml:"theta_n"`               // active neuron: Σ|in| and Σ|out| both above this
	ThetaW        float64 `json:"theta_w" yaml:"theta_w"`               // connection counts toward wiring length if |w| > this
	ThetaActivity float64 `json:"theta_activity" yaml:"theta_activity"` // active neuron by summed task variance above this
}

// Default returns a small trial with the training settings of Yang et al.
// (2019) (softplus, diag init, alpha 0.2, Adam 1e-3, batch 64, clip 1) and
// the BIMT defaults (A = 2, l0 = 0.5, swaps every 200 steps over the top 30
// units). Unlike Yang et al., who train 256 units on all 20 tasks, it trains
// 64 hidden units on an 8 × 8 grid on the four go/anti tasks for 2000 steps.
func Default() Config {
	return Config{
		Tasks:         []string{"fdgo", "reactgo", "delaygo", "fdanti"},
		Hidden:        64,
		GridRows:      8,
		GridCols:      8,
		Activation:    "softplus",
		WRecInit:      "diag",
		TauMS:         100,
		DtMS:          20,
		SigmaRec:      0.05,
		SigmaX:        0.01,
		EvalNoise:     true,
		Precision:     "float32",
		BatchSize:     64,
		Steps:         2000,
		LR:            1e-3,
		GradClip:      1,
		EvalEvery:     500,
		EvalTrials:    512,
		Seed:          1,
		Regularizer:   RegNone,
		Lambda:        0,
		DistanceA:     2,
		LayerSpacing:  0.5,
		PenalizeIO:    true,
		SwapEvery:     200,
		SwapTopK:      30,
		ThetaN:        0.1,
		ThetaW:        1e-2,
		ThetaActivity: 1e-3,
	}
}

// Alpha returns dt/tau, the leak of the hidden state per step.
func (c *Config) Alpha() float64 { return c.DtMS / c.TauMS }

// Weights returns the sampling weight of each task in c.Tasks.
func (c *Config) Weights() []float64 {
	if len(c.TaskWeights) > 0 {
		return slices.Clone(c.TaskWeights)
	}
	w := make([]float64, len(c.Tasks))
	for i, name := range c.Tasks {
		w[i] = 1
		if name == "contextdm1" || name == "contextdm2" {
			w[i] = 5
		}
	}
	return w
}

// LambdaAt returns the penalty strength in force at training step step.
func (c *Config) LambdaAt(step int) float64 {
	lambda := c.Lambda
	for _, s := range c.LambdaSchedule {
		if step >= int(math.Round(s.At*float64(c.Steps))) {
			lambda = c.Lambda * s.Factor
		}
	}
	return lambda
}

// Swaps reports whether the configuration runs BIMT neuron swaps.
func (c *Config) Swaps() bool {
	return c.Regularizer == RegBIMT && c.SwapEvery > 0 && c.SwapTopK > 0
}

// EffectiveA returns the distance weight A of the penalty: DistanceA for
// BIMT and 0 otherwise, so L1 is the BIMT cost without its distance term.
func (c *Config) EffectiveA() float64 {
	if c.Regularizer == RegBIMT {
		return c.DistanceA
	}
	return 0
}

// Upper limits of a trial's size. They bound a trial's memory (a 4096-unit
// float32 trial needs about 2 GB) and its run time well above anything the
// tasks need, so a typing slip is an error instead of an agent that runs out
// of memory.
const (
	MaxHidden     = 4096
	MaxSteps      = 10_000_000
	MaxEvalTrials = 100_000
)

// ErrInvalidConfig is wrapped by every error that Validate returns.
var ErrInvalidConfig = errors.New("invalid trial configuration")

// Validate checks every field and returns an error naming each bad field,
// its value and what is allowed. It returns nil when the configuration can
// be trained.
func (c *Config) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if len(c.Tasks) == 0 {
		bad("tasks is empty: name at least one of %s", strings.Join(task.Names, ", "))
	}
	seen := map[string]bool{}
	for _, name := range c.Tasks {
		if !slices.Contains(task.Names, name) {
			bad("tasks: unknown task %q: use one of %s", name, strings.Join(task.Names, ", "))
		}
		if seen[name] {
			bad("tasks: %q is listed twice", name)
		}
		seen[name] = true
	}
	if len(c.TaskWeights) > 0 {
		if len(c.TaskWeights) != len(c.Tasks) {
			bad("task_weights has %d entries but tasks has %d: give one weight per task or none", len(c.TaskWeights), len(c.Tasks))
		}
		sum := 0.0
		for i, w := range c.TaskWeights {
			if !(w >= 0) || math.IsInf(w, 0) {
				bad("task_weights[%d] = %v: weights must be finite and >= 0", i, w)
			}
			sum += w
		}
		if !(sum > 0) {
			bad("task_weights sum to %v: at least one weight must be > 0", sum)
		}
	}
	if c.Hidden <= 0 || c.Hidden > MaxHidden {
		bad("hidden = %d: must be between 1 and %d units", c.Hidden, MaxHidden)
	} else if c.GridRows <= 0 || c.GridCols <= 0 {
		bad("grid_rows = %d, grid_cols = %d: both must be positive", c.GridRows, c.GridCols)
	} else if c.GridRows*c.GridCols != c.Hidden {
		bad("hidden = %d does not fit the %d × %d grid (%d positions): set grid_rows and grid_cols so that their product is %d",
			c.Hidden, c.GridRows, c.GridCols, c.GridRows*c.GridCols, c.Hidden)
	}
	if c.Activation != "softplus" && c.Activation != "relu" {
		bad("activation = %q: use softplus or relu", c.Activation)
	}
	if c.WRecInit != "diag" && c.WRecInit != "randortho" {
		bad("w_rec_init = %q: use diag or randortho", c.WRecInit)
	}
	if !(c.TauMS > 0) || !(c.DtMS > 0) || c.DtMS > c.TauMS {
		bad("tau_ms = %v, dt_ms = %v: need 0 < dt_ms <= tau_ms", c.TauMS, c.DtMS)
	} else if c.DtMS != 20 {
		bad("dt_ms = %v: the task generators are defined at 20 ms per step; use 20", c.DtMS)
	}
	if !(c.SigmaRec >= 0) || !(c.SigmaX >= 0) {
		bad("sigma_rec = %v, sigma_x = %v: noise levels must be >= 0", c.SigmaRec, c.SigmaX)
	}
	if c.Precision != "float32" && c.Precision != "float64" {
		bad("precision = %q: use float32 or float64", c.Precision)
	}
	if c.BatchSize <= 0 || c.BatchSize > task.MaxBatchSize {
		bad("batch_size = %d: must be between 1 and %d", c.BatchSize, task.MaxBatchSize)
	}
	if c.Steps <= 0 || c.Steps > MaxSteps {
		bad("steps = %d: must be between 1 and %d", c.Steps, MaxSteps)
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		bad("learning_rate = %v: must be a finite number > 0", c.LR)
	}
	if !(c.GradClip >= 0) {
		bad("grad_clip = %v: must be >= 0 (0 disables clipping)", c.GradClip)
	}
	if c.EvalEvery < 0 {
		bad("eval_every = %d: must be >= 0 (0 evaluates only at the end)", c.EvalEvery)
	}
	if c.EvalTrials <= 0 || c.EvalTrials > MaxEvalTrials {
		bad("eval_trials = %d: must be between 1 and %d", c.EvalTrials, MaxEvalTrials)
	}
	if !slices.Contains(Regularizers, c.Regularizer) {
		bad("regularizer = %q: use one of %s", c.Regularizer, strings.Join(Regularizers, ", "))
	}
	if math.IsNaN(c.Lambda) || c.Lambda < 0 || math.IsInf(c.Lambda, 0) {
		bad("lambda = %v: must be a finite number >= 0", c.Lambda)
	}
	if c.Regularizer == RegNone && c.Lambda != 0 {
		bad("lambda = %v with regularizer none: none has no penalty, so set lambda to 0 or choose l1 or bimt", c.Lambda)
	}
	for i, s := range c.LambdaSchedule {
		if !(s.At >= 0 && s.At < 1) {
			bad("lambda_schedule[%d].at = %v: must be a fraction of training in [0, 1)", i, s.At)
		}
		if !(s.Factor >= 0) || math.IsInf(s.Factor, 0) {
			bad("lambda_schedule[%d].factor = %v: must be a finite number >= 0", i, s.Factor)
		}
		if i > 0 && s.At <= c.LambdaSchedule[i-1].At {
			bad("lambda_schedule[%d].at = %v: steps must be in increasing order of at", i, s.At)
		}
	}
	if !(c.DistanceA >= 0) || !(c.LayerSpacing >= 0) {
		bad("distance_a = %v, layer_spacing = %v: both must be >= 0", c.DistanceA, c.LayerSpacing)
	}
	if c.SwapEvery < 0 || c.SwapTopK < 0 {
		bad("swap_every = %d, swap_top_k = %d: both must be >= 0 (0 disables swaps)", c.SwapEvery, c.SwapTopK)
	}
	if !(c.ThetaN >= 0) || !(c.ThetaW >= 0) || !(c.ThetaActivity >= 0) {
		bad("theta_n = %v, theta_w = %v, theta_activity = %v: thresholds must be >= 0", c.ThetaN, c.ThetaW, c.ThetaActivity)
	}

	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, strings.Join(errs, "; "))
	}
	return nil
}
