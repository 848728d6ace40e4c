package core

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/modsweep/modsweep/core/model"
)

// fixedBatch is a batch with its noise drawn once, so the loss is a
// deterministic function of the parameters.
type fixedBatch struct {
	t, b           int
	x              []float64 // inputs including input noise, rows × nIn
	recNoise       []float64 // rows × n
	target, mask   []float64 // rows × nOut
	nIn, n, nOut   int
	relu           bool
	alpha          float64
	params         *model.Params
	maskedFixation bool
}

func newFixedBatch(seed uint64, nIn, n, nOut, t, b int, relu, withMask bool) *fixedBatch {
	rng := rand.New(rand.NewPCG(seed, 7))
	fb := &fixedBatch{t: t, b: b, nIn: nIn, n: n, nOut: nOut, relu: relu, alpha: 0.2}
	rows := t * b
	fb.x = make([]float64, rows*nIn)
	for i := range fb.x {
		fb.x[i] = rng.Float64() + 0.03*rng.NormFloat64()
	}
	fb.recNoise = make([]float64, rows*n)
	for i := range fb.recNoise {
		fb.recNoise[i] = 0.16 * rng.NormFloat64()
	}
	fb.target = make([]float64, rows*nOut)
	fb.mask = make([]float64, rows*nOut)
	weights := []float64{0, 1, 5}
	for i := range fb.target {
		fb.target[i] = 0.05 + 0.8*rng.Float64()
		fb.mask[i] = 1
		if withMask {
			fb.mask[i] = weights[rng.IntN(3)]
			if i%nOut == 0 {
				fb.mask[i] *= 2
			}
		}
	}
	p := model.New(nIn, n, nOut)
	for _, s := range p.Tensors() {
		for i := range s {
			s[i] = 0.5 * rng.NormFloat64()
		}
	}
	// Negative biases put part of the relu units below their kink.
	for i := range p.Brec {
		p.Brec[i] = 0.3*rng.NormFloat64() - 0.1
	}
	fb.params = p
	return fb
}

// run returns the loss at p and, when grad is not nil, its gradient.
func runFixed[F float](fb *fixedBatch, p *model.Params, grad *model.Params) float64 {
	nw := newNetwork[F](fb.nIn, fb.n, fb.nOut, fb.relu, fb.alpha)
	nw.resize(fb.t, fb.b)
	nw.load(p)
	convert(nw.x, fb.x)
	convert(nw.z, fb.recNoise)
	nw.forward()
	loss := nw.loss(fb.target, fb.mask)
	if grad != nil {
		nw.backward()
		nw.storeGrads(grad)
	}
	return loss
}

func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for _, relu := range []bool{false, true} {
		for _, withMask := range []bool{false, true} {
			name := fmt.Sprintf("relu=%v/mask=%v", relu, withMask)
			t.Run(name, func(t *testing.T) {
				fb := newFixedBatch(3, 20, 6, 33, 7, 3, relu, withMask)
				checkFiniteDifferences(t, fb)
			})
		}
	}
}

func TestGradientsMatchFullInputLayer(t *testing.T) {
	fb := newFixedBatch(5, 85, 6, 33, 7, 3, false, true)
	checkFiniteDifferences(t, fb)
}

func checkFiniteDifferences(t *testing.T, fb *fixedBatch) {
	t.Helper()
	grad := model.New(fb.nIn, fb.n, fb.nOut)
	runFixed[float64](fb, fb.params, grad)

	// A five-point central difference: its truncation error is O(h⁴), so h
	// can be large enough that float64 rounding in the loss stays far below
	// the tolerance.
	const h = 1e-3
	p := fb.params.Clone()
	names := model.TensorNames()
	for ti, s := range p.Tensors() {
		g := grad.Tensors()[ti]
		worst := 0.0
		for i := range s {
			orig := s[i]
			at := func(d float64) float64 {
				s[i] = orig + d
				return runFixed[float64](fb, p, nil)
			}
			numeric := (8*(at(h)-at(-h)) - (at(2*h) - at(-2*h))) / (12 * h)
			s[i] = orig
			scale := math.Max(math.Max(math.Abs(numeric), math.Abs(g[i])), 1e-7)
			rel := math.Abs(numeric-g[i]) / scale
			worst = math.Max(worst, rel)
			if rel > 1e-6 {
				t.Errorf("%s[%d]: backprop %.12g, finite difference %.12g, relative error %.3g", names[ti], i, g[i], numeric, rel)
			}
		}
		t.Logf("%s: worst relative error %.3g over %d entries", names[ti], worst, len(s))
	}
}

func TestFloat32MatchesFloat64(t *testing.T) {
	// 32 hidden units run the AVX2 kernels on whole rows, 13 also the
	// scalar tail of each row.
	for _, n := range []int{32, 13} {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) { checkFloat32(t, n) })
	}
}

func checkFloat32(t *testing.T, n int) {
	// Weights as training starts from them, plus a perturbation: the random
	// weights of newFixedBatch make the dynamics chaotic over 50 steps,
	// which amplifies float32 rounding far beyond its size in training.
	fb := newFixedBatch(11, 85, n, 33, 50, 8, false, true)
	rng := rand.New(rand.NewPCG(11, 12))
	fb.params = initParams(85, n, 33, "randortho", rng)
	for _, s := range fb.params.Tensors() {
		for i := range s {
			s[i] += 0.05 * rng.NormFloat64()
		}
	}
	g64 := model.New(fb.nIn, fb.n, fb.nOut)
	g32 := model.New(fb.nIn, fb.n, fb.nOut)
	loss64 := runFixed[float64](fb, fb.params, g64)
	loss32 := runFixed[float32](fb, fb.params, g32)
	if rel := math.Abs(loss32-loss64) / loss64; rel > 1e-5 {
		t.Errorf("loss: float32 %.9g, float64 %.9g, relative difference %.3g > 1e-5", loss32, loss64, rel)
	}
	names := model.TensorNames()
	for ti, a := range g64.Tensors() {
		b := g32.Tensors()[ti]
		// Compare against the tensor's largest entry: single entries near
		// zero carry float32 rounding of the large terms that cancel in them.
		maxAbs, maxDiff := 0.0, 0.0
		for i := range a {
			maxAbs = math.Max(maxAbs, math.Abs(a[i]))
			maxDiff = math.Max(maxDiff, math.Abs(a[i]-b[i]))
		}
		t.Logf("%s: max |float32 - float64| / max |grad| = %.3g", names[ti], maxDiff/maxAbs)
		if maxDiff > 1e-5*maxAbs {
			t.Errorf("%s: max |float32 - float64| = %.3g, more than 1e-5 of max |grad| = %.3g", names[ti], maxDiff, maxAbs)
		}
	}
}
