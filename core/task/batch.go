package task

import (
	"errors"
	"fmt"
	"math"
)

// Batch is one batch of trials of a single task, all of length T steps.
// Arrays are time-major: element (t*B+b)*NumInputs+i of X is input channel i
// of trial b at step t, and Y and Mask use the same layout with NumOutput
// channels.
type Batch struct {
	Task string
	T, B int
	// X holds the clean inputs, without input noise.
	X []float64
	// Y holds the targets.
	Y []float64
	// Mask holds the cost-mask weights, which multiply the output error
	// before it is squared: 0 for the first 100 ms, 1 until the go cue, 0 for
	// the next 100 ms and 5 after that, doubled in the fixation column.
	Mask []float64
	// YLoc (T*B) is −1 while the network must fixate, else the response
	// angle in [0, 2π).
	YLoc []float64
	// Epochs maps an epoch name (fix1, stim1, delay1, stim2, delay2, go1,
	// where the task has it) to its batch-wide [start, end) steps.
	Epochs map[string][2]int

	// Timing and Trials are the parameters the batch was built from, with
	// the stimulus angles wrapped into [0, 2π).
	Timing Timing
	Trials []Trial
}

// Timing holds the epoch boundaries of one batch, in steps from the start
// of the trial. Stimulus windows are half-open: a stimulus is shown on the
// steps [On, Off).
type Timing struct {
	T int // trial length
	// Stimulus 1 window. In the fd and react tasks the stimulus stays on to
	// the end, so Stim1Off = T.
	Stim1On, Stim1Off int
	// Stimulus 2 window. The simultaneous DM tasks show both stimuli in the
	// stimulus 1 window, the matching tasks keep stimulus 2 on to the end,
	// and the go tasks leave it empty.
	Stim2On, Stim2Off int
	// GoCue is the first step of the response period. It is the step at
	// which the fixation cue goes off, except in the react and matching
	// tasks, which keep the cue on and use the onset of the last stimulus.
	GoCue int
}

// Trial holds the stimuli of one trial. The task's rule turns them into a
// response: the go tasks respond at Loc1 (anti tasks at Loc1 + π), the DM
// tasks at the location of the stronger stimulus, and the matching tasks at
// Loc2 on a go trial.
type Trial struct {
	// Loc1 and Loc2 are the stimulus angles in radians.
	Loc1, Loc2 float64
	// Strength1[r] and Strength2[r] are the strengths of stimulus 1 and 2 in
	// ring r+1. A zero strength leaves that ring without the stimulus.
	Strength1, Strength2 [2]float64
}

// MaxBatchSize bounds the trials per batch, so a bad batch size fails
// instead of exhausting memory: a batch of the longest task (209 steps) at
// this size takes about 1 GB.
const MaxBatchSize = 4096

const (
	baseline     = 0.05 // every target before anything is added
	fixTarget    = 0.8  // fixation output while the network must fixate
	bumpHeight   = 0.8  // peak of a stimulus or response bump at strength 1
	bumpWidth    = math.Pi / 8
	graceSteps   = 100 / DtMS // steps masked out at the start and after the go cue
	maskPre      = 1.0        // mask weight before the go cue
	maskResponse = 5.0        // mask weight from graceSteps after the go cue
	maskFixation = 2.0        // extra factor on the fixation column
	// matchTolerance is the largest distance between the two DMS stimuli
	// that counts as a match (5°). Generate draws matching stimuli at the
	// same angle and non-matching ones at least 20° apart.
	matchTolerance = math.Pi / 36
)

// ErrInvalidTrial is wrapped by the errors Build returns for timing or
// trial parameters it cannot encode.
var ErrInvalidTrial = errors.New("invalid trial parameters")

// Build encodes explicit trials of the named task into a batch with one
// trial per element of trials, all sharing timing. It returns an error for
// an unknown task, no trials or more than MaxBatchSize, non-finite
// parameters, or a timing outside the trial. Build does not modify trials. The react tasks need GoCue = Stim1On and the matching tasks
// GoCue = Stim2On, because their go cue is that stimulus onset.
func Build(name string, timing Timing, trials []Trial) (*Batch, error) {
	rule, err := Index(name)
	if err != nil {
		return nil, err
	}
	if err := validate(specs[rule], timing, trials); err != nil {
		return nil, fmt.Errorf("build %s batch: %w", name, err)
	}
	return build(&Batch{}, rule, timing, trials), nil
}

// build encodes trials that validate has accepted into dst and returns
// dst. It reuses dst's arrays where their capacity suffices, so a caller
// that generates batch after batch into one Batch allocates only small
// per-trial buffers.
func build(dst *Batch, rule int, timing Timing, trials []Trial) *Batch {
	sp := specs[rule]
	T, B := timing.T, len(trials)
	b := dst
	b.Task, b.T, b.B, b.Timing = Names[rule], T, B, timing

	// The loop below writes every element, so reused arrays need no
	// clearing.
	b.X = resize(b.X, T*B*NumInputs)
	b.Y = resize(b.Y, T*B*NumOutput)
	b.Mask = resize(b.Mask, T*B*NumOutput)
	b.YLoc = resize(b.YLoc, T*B)
	b.Trials = append(b.Trials[:0], trials...)
	if b.Epochs == nil {
		b.Epochs = make(map[string][2]int, 6)
	}
	clear(b.Epochs)
	sp.addEpochs(b.Epochs, timing)

	codes := make([]trialCode, B)
	for i := range b.Trials {
		tr := &b.Trials[i]
		tr.Loc1 = wrapAngle(tr.Loc1)
		tr.Loc2 = wrapAngle(tr.Loc2)
		codes[i] = sp.encode(*tr)
	}

	fixOff := timing.GoCue
	if sp.keepsFixationCue() {
		fixOff = T
	}
	// One pass in memory order over the steps, each trial's row in turn.
	for t := range T {
		show1 := t >= timing.Stim1On && t < timing.Stim1Off
		show2 := t >= timing.Stim2On && t < timing.Stim2Off
		fixating := t < timing.GoCue
		weight := maskWeight(t, timing.GoCue)
		for i := range B {
			step := t*B + i
			c := &codes[i]

			x := b.X[step*NumInputs:][:NumInputs]
			clear(x)
			if t < fixOff {
				x[0] = 1
			}
			x[RuleStart+rule] = 1
			rings := x[1 : 1+2*RingSize]
			if show1 {
				addTo(rings, c.stimulus1[:])
			}
			if show2 {
				addTo(rings, c.stimulus2[:])
			}

			y := b.Y[step*NumOutput:][:NumOutput]
			if fixating || !c.respond {
				y[0] = fixTarget
				for k := 1; k < NumOutput; k++ {
					y[k] = baseline
				}
				b.YLoc[step] = -1
			} else {
				y[0] = baseline
				copy(y[1:], c.target[:])
				b.YLoc[step] = c.response
			}

			m := b.Mask[step*NumOutput:][:NumOutput]
			m[0] = weight * maskFixation
			for k := 1; k < NumOutput; k++ {
				m[k] = weight
			}
		}
	}
	return b
}

// trialCode is the precomputed input and target pattern of one trial.
type trialCode struct {
	// stimulus1 and stimulus2 are the stimuli's input to both rings, units
	// 0–31 for ring 1 and 32–63 for ring 2.
	stimulus1, stimulus2 [2 * RingSize]float64
	// target is the ring target during the response period.
	target   [RingSize]float64
	response float64 // response angle
	respond  bool    // false on a no-go trial
}

// encode computes the input and target patterns of one trial.
func (s spec) encode(tr Trial) trialCode {
	var c trialCode
	shape1, shape2 := bump(tr.Loc1), bump(tr.Loc2)
	for r := range 2 {
		for k := range RingSize {
			c.stimulus1[r*RingSize+k] = tr.Strength1[r] * shape1[k]
			c.stimulus2[r*RingSize+k] = tr.Strength2[r] * shape2[k]
		}
	}
	c.response, c.respond = s.response(tr)
	shape := bump(c.response)
	for k := range c.target {
		c.target[k] = baseline + shape[k]
	}
	return c
}

// maskWeight returns the cost-mask weight of step t for a go cue at goCue:
// 0 for the first 100 ms, 1 until the go cue, 0 for the next 100 ms and 5
// from then on.
func maskWeight(t, goCue int) float64 {
	switch {
	case t < graceSteps:
		return 0
	case t < goCue:
		return maskPre
	case t < goCue+graceSteps:
		return 0
	default:
		return maskResponse
	}
}

// addTo adds src to dst element by element.
func addTo(dst, src []float64) {
	for k, v := range src {
		dst[k] += v
	}
}

// validate checks that timing fits the task and that every trial is finite.
func validate(sp spec, tm Timing, trials []Trial) error {
	if len(trials) == 0 {
		return fmt.Errorf("%w: no trials: pass at least one", ErrInvalidTrial)
	}
	if len(trials) > MaxBatchSize {
		return fmt.Errorf("%w: %d trials: at most %d fit in one batch", ErrInvalidTrial, len(trials), MaxBatchSize)
	}
	if tm.T <= 0 {
		return fmt.Errorf("%w: T = %d: the trial needs at least one step", ErrInvalidTrial, tm.T)
	}
	windows := []struct {
		name    string
		on, off int
	}{{"stimulus 1", tm.Stim1On, tm.Stim1Off}, {"stimulus 2", tm.Stim2On, tm.Stim2Off}}
	for _, w := range windows {
		if w.on < 0 || w.off < w.on || w.off > tm.T {
			return fmt.Errorf("%w: %s window [%d, %d): need 0 <= on <= off <= T = %d",
				ErrInvalidTrial, w.name, w.on, w.off, tm.T)
		}
	}
	if tm.GoCue < 0 || tm.GoCue >= tm.T {
		return fmt.Errorf("%w: go cue at step %d: need 0 <= GoCue < T = %d", ErrInvalidTrial, tm.GoCue, tm.T)
	}
	if sp.family == familyReact && tm.GoCue != tm.Stim1On {
		return fmt.Errorf("%w: go cue at step %d but stimulus onset at %d: a react task's go cue is its stimulus onset",
			ErrInvalidTrial, tm.GoCue, tm.Stim1On)
	}
	if sp.isMatching() && tm.GoCue != tm.Stim2On {
		return fmt.Errorf("%w: go cue at step %d but stimulus 2 onset at %d: a matching task's go cue is the stimulus 2 onset",
			ErrInvalidTrial, tm.GoCue, tm.Stim2On)
	}
	for i, tr := range trials {
		values := []float64{tr.Loc1, tr.Loc2, tr.Strength1[0], tr.Strength1[1], tr.Strength2[0], tr.Strength2[1]}
		for _, v := range values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: trial %d has a non-finite location or strength (%+v): use finite values",
					ErrInvalidTrial, i, tr)
			}
		}
	}
	return nil
}

// response returns the response angle of a trial and whether the trial
// requires a response at all.
func (s spec) response(tr Trial) (angle float64, respond bool) {
	switch s.family {
	case familyFD, familyReact, familyDelay:
		if s.anti {
			return wrapAngle(tr.Loc1 + math.Pi), true
		}
		return tr.Loc1, true
	case familyDM, familyDelayDM:
		var s1, s2 float64
		switch s.attend {
		case attendRing1:
			s1, s2 = tr.Strength1[0], tr.Strength2[0]
		case attendRing2:
			s1, s2 = tr.Strength1[1], tr.Strength2[1]
		default:
			s1 = tr.Strength1[0] + tr.Strength1[1]
			s2 = tr.Strength2[0] + tr.Strength2[1]
		}
		if s1 > s2 {
			return tr.Loc1, true
		}
		return tr.Loc2, true
	default:
		var match bool
		if s.family == familyDMS {
			match = CircularDistance(tr.Loc1, tr.Loc2) < matchTolerance
		} else {
			match = (tr.Loc1 < math.Pi) == (tr.Loc2 < math.Pi)
		}
		return tr.Loc2, match != s.nogo
	}
}

// addEpochs adds the named epochs of a batch with timing tm to e, with the
// boundaries gyyang/multitask gives each family.
func (s spec) addEpochs(e map[string][2]int, tm Timing) {
	e["fix1"] = [2]int{0, tm.Stim1On}
	e["go1"] = [2]int{tm.GoCue, tm.T}
	switch s.family {
	case familyFD, familyDM:
		e["stim1"] = [2]int{tm.Stim1On, tm.GoCue}
	case familyReact:
	case familyDelay:
		e["stim1"] = [2]int{tm.Stim1On, tm.Stim1Off}
		e["delay1"] = [2]int{tm.Stim1Off, tm.GoCue}
	case familyDelayDM:
		e["stim1"] = [2]int{tm.Stim1On, tm.Stim1Off}
		e["delay1"] = [2]int{tm.Stim1Off, tm.Stim2On}
		e["stim2"] = [2]int{tm.Stim2On, tm.Stim2Off}
		e["delay2"] = [2]int{tm.Stim2Off, tm.GoCue}
	default:
		e["stim1"] = [2]int{tm.Stim1On, tm.Stim1Off}
		e["delay1"] = [2]int{tm.Stim1Off, tm.Stim2On}
	}
}

// resize returns s with length n, reusing its backing array when the
// capacity suffices. The contents are not cleared.
func resize(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}
