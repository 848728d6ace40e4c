package core

import (
	"context"
	"fmt"
	"math"

	"github.com/modsweep/modsweep/core/reg"
	"github.com/modsweep/modsweep/core/task"
)

// evalBatchSize is the number of trials per evaluation batch. Timing is
// drawn once per batch, so 512 evaluation trials in batches of 32 cover 16
// timings per task, as in Yang et al.'s evaluation.
const evalBatchSize = 32

// maxActivityTrials caps the noise-free trials per task over which the
// activity-based measure takes each unit's variance. The measure uses
// min(cfg.EvalTrials, maxActivityTrials) trials in batches of at most
// activityBatchSize, so its buffers stay near the size of a training batch.
const (
	maxActivityTrials = 256
	activityBatchSize = 64
)

// Batch indices of the evaluation seed. Performance batches of task k use
// indices from k·evalIndexStride, and activity batches from activityIndex +
// k·evalIndexStride.
const (
	evalIndexStride = 1 << 32
	activityIndex   = 1 << 60
)

// evaluate runs cfg.EvalTrials trials of every trained task through the
// current network, with noise when cfg.EvalNoise is set, and returns the
// performance per task with its mean and minimum. The trials and their
// noise are the same at every evaluation.
func (tr *trainer[F]) evaluate(ctx context.Context, step int) (Eval, error) {
	ev := Eval{Step: step, PerTask: make(map[string]float64, len(tr.cfg.Tasks)), Min: math.Inf(1)}
	sx, srec := 0.0, 0.0
	if tr.cfg.EvalNoise {
		sx, srec = tr.sigmaX, tr.sigmaRec
	}
	tr.nw.load(tr.params)

	for _, name := range tr.cfg.Tasks {
		// The batch index comes from the task's rule index, not its place in
		// cfg.Tasks, so a task is scored on the same trials whatever list it
		// is trained in.
		rule, err := task.Index(name)
		if err != nil {
			return Eval{}, fmt.Errorf("evaluation at step %d: %w", step, err)
		}
		correct := 0.0
		for done, batch := 0, 0; done < tr.cfg.EvalTrials; batch++ {
			if err := ctx.Err(); err != nil {
				return Eval{}, fmt.Errorf("evaluation at step %d stopped: %w", step, err)
			}
			size := min(evalBatchSize, tr.cfg.EvalTrials-done)
			index := uint64(rule)*evalIndexStride + uint64(batch)
			b := &tr.batch
			if err := task.GenerateInto(b, name, evalSeed, index, size); err != nil {
				return Eval{}, fmt.Errorf("evaluation at step %d: %w", step, err)
			}
			seedStream(tr.noiseSrc, evalSeed, streamEvalNoise, index)
			tr.run(b, sx, srec)

			perf, err := task.Score(tr.outputs(), b)
			if err != nil {
				return Eval{}, fmt.Errorf("evaluation at step %d: %w", step, err)
			}
			for _, p := range perf {
				correct += p
			}
			done += size
		}
		p := correct / float64(tr.cfg.EvalTrials)
		ev.PerTask[name] = p
		ev.Mean += p / float64(len(tr.cfg.Tasks))
		ev.Min = math.Min(ev.Min, p)
	}
	return ev, nil
}

// run computes the network's outputs on b with the given noise levels and
// the current contents of tr.nw's parameters.
func (tr *trainer[F]) run(b *task.Batch, sigmaX, sigmaRec float64) {
	tr.nw.resize(b.T, b.B)
	addNoise(tr.nw.x, b.X, sigmaX, tr.noise)
	addNoise(tr.nw.z, nil, sigmaRec, tr.noise)
	tr.nw.forward()
}

// outputs returns the outputs of the last run in float64.
func (tr *trainer[F]) outputs() []float64 {
	n := tr.nw.t * tr.nw.b * tr.nw.nOut
	if cap(tr.yhat) < n {
		tr.yhat = make([]float64, n)
	}
	tr.yhat = tr.yhat[:n]
	convert(tr.yhat, tr.nw.y[:n])
	return tr.yhat
}

// measure returns the structure measures of the current weights. The
// activity-based count follows Yang et al.'s task variance. For each trained
// task it runs min(cfg.EvalTrials, maxActivityTrials) noise-free trials in
// batches. It takes the variance of each unit's rate across the trials of a
// batch at each step after the first epoch (fix1), then averages it over
// those steps and over the batches. A unit is active when its variance
// summed over tasks exceeds cfg.ThetaActivity.
func (tr *trainer[F]) measure(ctx context.Context) (Measures, error) {
	wm := reg.Measure(tr.params, tr.geo, tr.cfg.ThetaN, tr.cfg.ThetaW)
	n := tr.cfg.Hidden
	variance := make([]float64, n)
	taskVariance := make([]float64, n)
	tr.nw.load(tr.params)

	trials := min(tr.cfg.EvalTrials, maxActivityTrials)
	for k, name := range tr.cfg.Tasks {
		clear(taskVariance)
		batches := 0
		for done := 0; done < trials; done += activityBatchSize {
			if err := ctx.Err(); err != nil {
				return Measures{}, fmt.Errorf("structure measures stopped: %w", err)
			}
			index := activityIndex + uint64(k)*evalIndexStride + uint64(batches)
			b := &tr.batch
			if err := task.GenerateInto(b, name, evalSeed, index, min(activityBatchSize, trials-done)); err != nil {
				return Measures{}, fmt.Errorf("structure measures: %w", err)
			}
			tr.run(b, 0, 0)
			addTaskVariance(taskVariance, tr.nw.r, b.Epochs["fix1"][1], b.T, b.B, n)
			batches++
		}
		for j, v := range taskVariance {
			variance[j] += v / float64(batches)
		}
	}

	return Measures{
		ActiveNeurons:         wm.ActiveNeurons,
		ActiveNeuronsActivity: reg.ActiveByActivity(variance, tr.cfg.ThetaActivity),
		WiringLength:          wm.WiringLength,
		WiringLengthWeighted:  wm.WiringLengthWeighted,
		DiagShare:             wm.DiagShare,
		Connections:           wm.Connections,
		ThetaN:                tr.cfg.ThetaN,
		ThetaW:                tr.cfg.ThetaW,
		ThetaActivity:         tr.cfg.ThetaActivity,
	}, nil
}

// addTaskVariance adds to variance[j] the variance of unit j's rate across
// the b trials, averaged over the steps [from, t), for rates r laid out as
// (step·b + trial)·n + j.
func addTaskVariance[F float](variance []float64, r []F, from, t, b, n int) {
	if from >= t {
		return
	}
	sum := make([]float64, n)
	sumSq := make([]float64, n)
	steps := float64(t - from)
	for s := from; s < t; s++ {
		clear(sum)
		clear(sumSq)
		for trial := range b {
			row := r[(s*b+trial)*n:][:n]
			for j, v := range row {
				x := float64(v)
				sum[j] += x
				sumSq[j] += x * x
			}
		}
		for j := range n {
			m := sum[j] / float64(b)
			variance[j] += math.Max(sumSq[j]/float64(b)-m*m, 0) / steps
		}
	}
}
