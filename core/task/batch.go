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
	// GoCue is the first step of the response period: the step at which the
	// fixation cue goes off or, in the react and matching tasks, where the
	// cue stays on, the onset of the last stimulus.
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

// MaxBatchSize bounds the trials per batch. A batch of the longest task
// (209 steps) at this size takes about 200 MB.
const MaxBatchSize = 8192

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
// an unknown task, no trials, non-finite parameters, or a timing outside
// the trial. The react tasks need GoCue = Stim1On and the matching tasks
// GoCue = Stim2On, because their go cue is that stimulus onset.
func Build(name string, timing Timing, trials []Trial) (*Batch, error) {
	rule, err := Index(name)
	if err != nil {
		return nil, err
	}
	if err := validate(specs[rule], timing, trials); err != nil {
		return nil, fmt.Errorf("build %s batch: %w", name, err)
	}
	return build(rule, timing, trials), nil
}

// build encodes trials that validate has accepted.
func build(rule int, timing Timing, trials []Trial) *Batch {
	sp := specs[rule]
	T, B := timing.T, len(trials)
	b := &Batch{
		Task:   Names[rule],
		T:      T,
		B:      B,
		X:      make([]float64, T*B*NumInputs),
		Y:      make([]float64, T*B*NumOutput),
		Mask:   make([]float64, T*B*NumOutput),
		YLoc:   make([]float64, T*B),
		Epochs: sp.epochs(timing),
		Timing: timing,
		Trials: make([]Trial, B),
	}

	fixOff := timing.GoCue
	if sp.keepsFixationCue() {
		fixOff = T
	}
	for t := range T {
		for i := range B {
			row := (t*B + i) * NumInputs
			b.X[row+RuleStart+rule] = 1
			if t < fixOff {
				b.X[row] = 1
			}
		}
	}

	for i, tr := range trials {
		tr.Loc1 = wrapAngle(tr.Loc1)
		tr.Loc2 = wrapAngle(tr.Loc2)
		b.Trials[i] = tr
		b.addStimulus(i, timing.Stim1On, timing.Stim1Off, tr.Loc1, tr.Strength1)
		b.addStimulus(i, timing.Stim2On, timing.Stim2Off, tr.Loc2, tr.Strength2)
		response, respond := sp.response(tr)
		b.setTargets(i, timing.GoCue, response, respond)
	}
	b.fillMask(timing.GoCue)
	return b
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

// addStimulus adds a stimulus at angle loc to each ring r with a non-zero
// strength[r], on steps [on, off) of trial i.
func (b *Batch) addStimulus(i, on, off int, loc float64, strength [2]float64) {
	shape := bump(loc)
	for r, s := range strength {
		if s == 0 {
			continue
		}
		first := 1 + r*RingSize
		for t := on; t < off; t++ {
			unit := b.X[(t*b.B+i)*NumInputs+first:][:RingSize]
			for k := range unit {
				unit[k] += s * shape[k]
			}
		}
	}
}

// setTargets writes trial i's targets and YLoc. The network fixates before
// goCue, and from goCue on responds at angle response if respond is true
// and keeps fixating otherwise.
func (b *Batch) setTargets(i, goCue int, response float64, respond bool) {
	var ring [RingSize]float64
	shape := bump(response)
	for k := range ring {
		ring[k] = baseline + shape[k]
	}
	for t := range b.T {
		step := t*b.B + i
		out := b.Y[step*NumOutput:][:NumOutput]
		if t < goCue || !respond {
			out[0] = fixTarget
			for k := 1; k < NumOutput; k++ {
				out[k] = baseline
			}
			b.YLoc[step] = -1
			continue
		}
		out[0] = baseline
		copy(out[1:], ring[:])
		b.YLoc[step] = response
	}
}

// fillMask writes the cost mask, which depends only on the step and the
// output channel.
func (b *Batch) fillMask(goCue int) {
	for t := range b.T {
		w := 0.0
		switch {
		case t < graceSteps:
		case t < goCue:
			w = maskPre
		case t < goCue+graceSteps:
		default:
			w = maskResponse
		}
		rows := b.Mask[t*b.B*NumOutput:][:b.B*NumOutput]
		for j := range rows {
			rows[j] = w
		}
		for i := range b.B {
			rows[i*NumOutput] = w * maskFixation
		}
	}
}

// response returns the response angle of a trial and whether the trial
// asks for a response at all.
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

// epochs returns the named epochs of a batch with timing tm, with the
// boundaries gyyang/multitask gives each family.
func (s spec) epochs(tm Timing) map[string][2]int {
	e := map[string][2]int{"fix1": {0, tm.Stim1On}, "go1": {tm.GoCue, tm.T}}
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
	return e
}
