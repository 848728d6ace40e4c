package core

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/modsweep/modsweep/core/model"
	"github.com/modsweep/modsweep/core/reg"
	"github.com/modsweep/modsweep/core/task"
)

// lossEvery is the spacing, in steps, of the points of Result.LossCurve.
const lossEvery = 10

// DivergedError is returned by Train when the loss or a gradient stops being
// a finite number.
type DivergedError struct {
	Step int     // the step (counting from 1) whose loss or gradient was not finite
	Loss float64 // that step's task loss
}

func (e *DivergedError) Error() string {
	cause := fmt.Sprintf("loss %v", e.Loss)
	if !math.IsNaN(e.Loss) && !math.IsInf(e.Loss, 0) {
		cause = fmt.Sprintf("a NaN or infinite gradient (loss %.4g)", e.Loss)
	}
	return fmt.Sprintf("training diverged at step %d with %s: lower learning_rate or set grad_clip to a small positive value such as 1", e.Step, cause)
}

// Train trains one network as cfg describes and returns its evaluations,
// structure measures and final weights.
//
// It returns cfg.Validate's error for an invalid configuration, a
// *DivergedError when the loss or the gradient becomes NaN or infinite, and
// an error wrapping ctx.Err() when ctx is cancelled. Cancellation takes
// effect before the next training step or evaluation batch. progress, if not
// nil, is called after every step on the calling goroutine and should
// return quickly.
//
// The same cfg gives a bit-identical Result, apart from Duration, on the same
// machine, Go release and BLAS build.
func Train(ctx context.Context, cfg Config, progress func(Progress)) (res *Result, err error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			res = nil
			err = fmt.Errorf("train trial with seed %d: internal error: %v\n%s", cfg.Seed, r, debug.Stack())
		}
	}()

	if cfg.Precision == "float64" {
		res, err = runTrial[float64](ctx, cfg, progress)
	} else {
		res, err = runTrial[float32](ctx, cfg, progress)
	}
	if res != nil {
		res.Duration = time.Since(start)
	}
	return res, err
}

func runTrial[F float](ctx context.Context, cfg Config, progress func(Progress)) (*Result, error) {
	tr, err := newTrainer[F](cfg)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	perf := math.NaN()
	var recent []float64 // task losses of the last lossEvery steps

	for step := 1; step <= cfg.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("train stopped before step %d of %d: %w", step, cfg.Steps, err)
		}
		loss, penalty, err := tr.trainStep(step)
		if err != nil {
			return nil, err
		}

		if len(recent) == lossEvery {
			recent = recent[1:]
		}
		recent = append(recent, loss)
		if step%lossEvery == 0 || step == cfg.Steps {
			res.LossCurve = append(res.LossCurve, LossPoint{Step: step, Loss: loss, Penalty: penalty})
		}

		if (cfg.EvalEvery > 0 && step%cfg.EvalEvery == 0) || step == cfg.Steps {
			ev, err := tr.evaluate(ctx, step)
			if err != nil {
				return nil, err
			}
			res.Evals = append(res.Evals, ev)
			perf = ev.Mean
		}
		if progress != nil {
			progress(Progress{Step: step, Steps: cfg.Steps, Loss: loss, Perf: perf})
		}
	}

	res.Final = res.Evals[len(res.Evals)-1]
	res.FinalLoss = mean(recent)
	res.Swaps = tr.swaps
	res.Weights = weightsOf(tr.params)
	res.Layout = layoutOf(tr.geo)
	m, err := tr.measure(ctx)
	if err != nil {
		return nil, err
	}
	res.Measures = m
	return res, nil
}

// trainer holds the state of one training run.
type trainer[F float] struct {
	cfg    Config
	geo    *reg.Geometry
	cost   reg.Cost
	params *model.Params // master weights
	grad   *model.Params
	opt    *adam
	nw     *network[F]

	taskOrder  *rand.Rand
	cumWeights []float64 // cumulative task sampling weights

	noise    *noiseGen
	noiseSrc *rand.PCG

	sigmaX, sigmaRec float64 // noise standard deviations after the sqrt(2/alpha) scaling

	swaps int
	yhat  []float64  // outputs in float64 for task.Score
	batch task.Batch // the batch being trained or evaluated on, reused
}

func newTrainer[F float](cfg Config) (*trainer[F], error) {
	geo, err := reg.NewGeometry(task.NumInputs, cfg.GridRows, cfg.GridCols, task.NumOutput, cfg.LayerSpacing)
	if err != nil {
		return nil, fmt.Errorf("train trial with seed %d: %w", cfg.Seed, err)
	}
	initRNG, _ := newStream(cfg.Seed, streamInit, 0)
	params := initParams(task.NumInputs, cfg.Hidden, task.NumOutput, cfg.WRecInit, initRNG)
	taskOrder, _ := newStream(cfg.Seed, streamTaskOrder, 0)
	_, noiseSrc := newStream(cfg.Seed, streamNoise, 0)

	cum := cfg.Weights()
	for i := 1; i < len(cum); i++ {
		cum[i] += cum[i-1]
	}
	noiseScale := math.Sqrt(2 / cfg.Alpha())

	nw := newNetwork[F](task.NumInputs, cfg.Hidden, task.NumOutput, cfg.Activation == "relu", cfg.Alpha())
	return &trainer[F]{
		cfg:        cfg,
		geo:        geo,
		cost:       reg.Cost{A: cfg.EffectiveA(), L0: cfg.LayerSpacing, PenalizeIO: cfg.PenalizeIO},
		params:     params,
		grad:       model.New(params.NIn, params.N, params.NOut),
		opt:        newAdam(params, cfg.LR),
		nw:         nw,
		taskOrder:  taskOrder,
		cumWeights: cum,
		noise:      &noiseGen{src: noiseSrc},
		noiseSrc:   noiseSrc,
		sigmaX:     noiseScale * cfg.SigmaX,
		sigmaRec:   noiseScale * cfg.SigmaRec,
	}, nil
}

// trainStep draws the task and batch of training step step (counting from
// 1), takes one optimiser step on it and returns the task loss and the
// penalty.
func (tr *trainer[F]) trainStep(step int) (loss, penalty float64, err error) {
	name := tr.cfg.Tasks[tr.pickTask()]
	if err := task.GenerateInto(&tr.batch, name, tr.cfg.Seed, uint64(step), tr.cfg.BatchSize); err != nil {
		return 0, 0, fmt.Errorf("train step %d: %w", step, err)
	}
	return tr.update(step, &tr.batch)
}

// pickTask returns the index in cfg.Tasks of the next task, drawn in
// proportion to the task weights.
func (tr *trainer[F]) pickTask() int {
	u := tr.taskOrder.Float64() * tr.cumWeights[len(tr.cumWeights)-1]
	for i, c := range tr.cumWeights {
		if u < c {
			return i
		}
	}
	return len(tr.cumWeights) - 1
}

// update runs forward, BPTT, the penalty, clipping, Adam and the swap round
// of training step step on batch b.
func (tr *trainer[F]) update(step int, b *task.Batch) (loss, penalty float64, err error) {
	seedStream(tr.noiseSrc, tr.cfg.Seed, streamNoise, uint64(step))
	tr.nw.resize(b.T, b.B)
	tr.nw.load(tr.params)
	addNoise(tr.nw.x, b.X, tr.sigmaX, tr.noise)
	addNoise(tr.nw.z, nil, tr.sigmaRec, tr.noise)
	tr.nw.forward()
	loss = tr.nw.loss(b.Y, b.Mask)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, 0, &DivergedError{Step: step, Loss: loss}
	}
	tr.nw.backward()
	tr.nw.storeGrads(tr.grad)

	if lambda := tr.cfg.LambdaAt(step - 1); tr.cfg.Regularizer != RegNone && lambda != 0 {
		penalty = tr.geo.Penalty(tr.params, tr.cost, lambda, tr.grad)
	}
	if !clipGradient(tr.grad, tr.cfg.GradClip) {
		return loss, penalty, &DivergedError{Step: step, Loss: loss}
	}
	tr.opt.update(tr.params, tr.grad)

	if tr.cfg.Swaps() && step%tr.cfg.SwapEvery == 0 {
		tr.swaps += tr.geo.SwapRound(tr.params, tr.cost, tr.cfg.SwapTopK, tr.opt.m, tr.opt.v)
	}
	return loss, penalty, nil
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func weightsOf(p *model.Params) Weights {
	c := p.Clone()
	return Weights{NIn: c.NIn, N: c.N, NOut: c.NOut, Win: c.Win, Wrec: c.Wrec, Brec: c.Brec, Wout: c.Wout, Bout: c.Bout}
}

func layoutOf(g *reg.Geometry) Layout {
	points := func(ps []reg.Point) []Point {
		out := make([]Point, len(ps))
		for i, p := range ps {
			out[i] = Point{X: p.X, Y: p.Y}
		}
		return out
	}
	return Layout{Inputs: points(g.Inputs), Hidden: points(g.Hidden), Outputs: points(g.Outputs)}
}
