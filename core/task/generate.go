package task

import (
	"fmt"
	"math"
)

// Generate returns batch number index of the named task in the stream of
// batches that seed defines, with batchSize trials. On one platform the
// same arguments always give a bit-identical batch, whatever else runs in
// the process.
// Timing and stimulus modality are drawn once for the batch, locations,
// strengths and match conditions once per trial, from the distributions of
// gyyang/multitask's random mode. It returns an error for an unknown task
// or a batch size outside [1, MaxBatchSize].
func Generate(name string, seed uint64, index uint64, batchSize int) (*Batch, error) {
	b := &Batch{}
	if err := GenerateInto(b, name, seed, index, batchSize); err != nil {
		return nil, err
	}
	return b, nil
}

// GenerateInto is Generate writing into dst, reusing dst's arrays when they
// are large enough, so a training loop does not reallocate the large
// arrays at every step.
// Slices taken from dst before the call see the new batch afterwards. On
// error dst is left unchanged.
func GenerateInto(dst *Batch, name string, seed uint64, index uint64, batchSize int) error {
	rule, err := Index(name)
	if err != nil {
		return err
	}
	if dst == nil {
		return fmt.Errorf("generate %s batch: destination batch is nil: pass a *Batch, for example &Batch{}", name)
	}
	if batchSize <= 0 || batchSize > MaxBatchSize {
		return fmt.Errorf("generate %s batch: batch size %d is invalid: use 1 to %d trials",
			name, batchSize, MaxBatchSize)
	}

	timing, trials := draw(rule, seed, index, batchSize)
	build(dst, rule, timing, trials)
	return nil
}

// draw returns the random parameters of the batch that Generate builds.
func draw(rule int, seed, index uint64, batchSize int) (Timing, []Trial) {
	s := newSampler(seed, rule, index)
	sp := specs[rule]
	switch sp.family {
	case familyFD, familyReact, familyDelay:
		return drawGo(s, sp, batchSize)
	case familyDM, familyDelayDM:
		return drawDM(s, sp, batchSize)
	default:
		return drawMatching(s, sp, batchSize)
	}
}

// steps converts a duration in milliseconds to steps, truncating as
// gyyang/multitask's int(ms/dt) does.
func steps(ms float64) int {
	return int(ms / DtMS)
}

// responseSteps is the length of the response period of every task except
// the category-matching ones.
var responseSteps = steps(500)

// drawGo draws a batch of the fd, react or delay tasks: one stimulus of
// strength 1 at a uniform angle, in a ring chosen once for the batch.
func drawGo(s *sampler, sp spec, batchSize int) (Timing, []Trial) {
	var tm Timing
	switch sp.family {
	case familyFD:
		tm.Stim1On = steps(s.uniform(300, 700))
		tm.GoCue = tm.Stim1On + steps(s.uniform(500, 1500))
		tm.T = tm.GoCue + responseSteps
		tm.Stim1Off = tm.T
	case familyReact:
		tm.Stim1On = steps(s.uniform(500, 2500))
		tm.GoCue = tm.Stim1On
		tm.T = tm.GoCue + responseSteps
		tm.Stim1Off = tm.T
	default:
		tm.Stim1On = steps(choose(s, 300.0, 500, 700))
		tm.Stim1Off = tm.Stim1On + steps(choose(s, 200.0, 400, 600))
		tm.GoCue = tm.Stim1Off + steps(choose(s, 200.0, 400, 800, 1600))
		tm.T = tm.GoCue + responseSteps
	}

	ring := s.intN(2)
	trials := make([]Trial, batchSize)
	for i := range trials {
		trials[i].Loc1 = s.uniform(0, 2*math.Pi)
		trials[i].Strength1[ring] = 1
	}
	return tm, trials
}

// drawDM draws a batch of the decision-making tasks: two stimuli 90° to
// 270° apart whose strengths differ by a small coherence.
func drawDM(s *sampler, sp spec, batchSize int) (Timing, []Trial) {
	var tm Timing
	var coherences []float64
	if sp.family == familyDM {
		tm.Stim1On = steps(s.uniform(100, 400))
		tm.GoCue = tm.Stim1On + steps(choose(s, 400.0, 800, 1600))
		tm.Stim1Off = tm.GoCue
		tm.Stim2On, tm.Stim2Off = tm.Stim1On, tm.Stim1Off
		coherences = []float64{0.01, 0.02, 0.04, 0.08}
	} else {
		tm.Stim1On = steps(choose(s, 200.0, 400, 600))
		tm.Stim1Off = tm.Stim1On + steps(choose(s, 200.0, 400, 600))
		tm.Stim2On = tm.Stim1Off + steps(choose(s, 200.0, 400, 800, 1600))
		tm.Stim2Off = tm.Stim2On + steps(choose(s, 200.0, 400, 600))
		tm.GoCue = tm.Stim2Off + steps(s.uniform(100, 300))
		coherences = []float64{0.08, 0.16, 0.32}
	}
	tm.T = tm.GoCue + responseSteps

	trials := make([]Trial, batchSize)
	for i := range trials {
		tr := &trials[i]
		tr.Loc1 = s.uniform(0, 2*math.Pi)
		tr.Loc2 = wrapAngle(tr.Loc1 + s.uniform(0.5*math.Pi, 1.5*math.Pi)*s.sign())
		switch {
		case sp.context:
			tr.Strength1[0], tr.Strength2[0] = strengthPair(s, coherences)
			tr.Strength1[1], tr.Strength2[1] = strengthPair(s, coherences)
		case sp.multi:
			s1, s2 := strengthPair(s, coherences)
			tr.Strength1 = splitStrength(s, s1)
			tr.Strength2 = splitStrength(s, s2)
		default:
			tr.Strength1[sp.attend], tr.Strength2[sp.attend] = strengthPair(s, coherences)
		}
	}
	return tm, trials
}

// strengthPair draws the strengths m ± c of two competing stimuli: a mean
// m from U(0.8, 1.2), a coherence c from coherences and a random sign that
// decides which stimulus is stronger.
func strengthPair(s *sampler, coherences []float64) (s1, s2 float64) {
	mean := s.uniform(0.8, 1.2)
	diff := choose(s, coherences...) * s.sign()
	return mean + diff, mean - diff
}

// splitStrength splits a strength between the two rings, keeping their sum:
// the rings get total ± δ/2 with δ = total·U(0.2, 0.8)·(±1).
func splitStrength(s *sampler, total float64) [2]float64 {
	delta := total * s.uniform(0.2, 0.8) * s.sign()
	return [2]float64{total + delta/2, total - delta/2}
}

// categoryAngles are the DMC stimulus angles in units of π. Angles below π
// form one category and the rest the other.
var categoryAngles = []float64{0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.7, 1.9}

// drawMatching draws a batch of the matching tasks: a sample stimulus, a
// delay, and a test stimulus that stays on to the end. Each stimulus has a
// ring chosen once for the batch.
func drawMatching(s *sampler, sp spec, batchSize int) (Timing, []Trial) {
	var tm Timing
	tm.Stim1On = steps(choose(s, 200.0, 400, 600))
	tm.Stim1Off = tm.Stim1On + steps(choose(s, 200.0, 400, 600))
	tm.Stim2On = tm.Stim1Off + steps(choose(s, 200.0, 400, 800, 1600))
	tm.GoCue = tm.Stim2On
	if sp.family == familyDMS {
		tm.T = tm.Stim2On + responseSteps
	} else {
		tm.T = tm.Stim2On + steps(choose(s, 200.0, 400, 600))
	}
	tm.Stim2Off = tm.T

	ring1, ring2 := s.intN(2), s.intN(2)
	trials := make([]Trial, batchSize)
	for i := range trials {
		tr := &trials[i]
		if sp.family == familyDMS {
			nonMatch := float64(s.intN(2))
			offset := s.uniform(math.Pi/9, 17*math.Pi/9) * s.sign()
			tr.Loc1 = s.uniform(0, 2*math.Pi)
			tr.Loc2 = wrapAngle(tr.Loc1 + offset*nonMatch)
		} else {
			tr.Loc1 = choose(s, categoryAngles...) * math.Pi
			tr.Loc2 = choose(s, categoryAngles...) * math.Pi
		}
		tr.Strength1[ring1] = 1
		tr.Strength2[ring2] = 1
	}
	return tm, trials
}
