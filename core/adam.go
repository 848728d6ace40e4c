package core

import (
	"math"

	"github.com/modsweep/modsweep/core/model"
)

// adam is the Adam optimiser in TensorFlow's form, the one Yang et al.
// (2019) train with (tf.train.AdamOptimizer): the bias correction is folded
// into the step size,
//
//	lr_t = lr·sqrt(1-β2^t)/(1-β1^t),  θ -= lr_t·m/(sqrt(v)+ε),
//
// so ε acts on the uncorrected v. PyTorch's Adam adds ε to sqrt(v̂) instead;
// the two differ only while sqrt(v) is comparable to ε.
type adam struct {
	lr, beta1, beta2, eps float64
	step                  int
	m, v                  *model.Params
}

func newAdam(p *model.Params, lr float64) *adam {
	return &adam{
		lr: lr, beta1: 0.9, beta2: 0.999, eps: 1e-8,
		m: model.New(p.NIn, p.N, p.NOut),
		v: model.New(p.NIn, p.N, p.NOut),
	}
}

// update applies one Adam step with gradient g to p.
func (a *adam) update(p, g *model.Params) {
	a.step++
	t := float64(a.step)
	lrT := a.lr * math.Sqrt(1-math.Pow(a.beta2, t)) / (1 - math.Pow(a.beta1, t))
	ms, vs, gs := a.m.Tensors(), a.v.Tensors(), g.Tensors()
	for ti, w := range p.Tensors() {
		m, v, grad := ms[ti], vs[ti], gs[ti]
		for i, gi := range grad {
			m[i] = a.beta1*m[i] + (1-a.beta1)*gi
			v[i] = a.beta2*v[i] + (1-a.beta2)*gi*gi
			w[i] -= lrT * m[i] / (math.Sqrt(v[i]) + a.eps)
		}
	}
}

// clipGradient clips every entry of g to [-limit, limit] (limit 0 leaves g
// unchanged) and reports whether every entry is finite.
func clipGradient(g *model.Params, limit float64) bool {
	finite := true
	for _, s := range g.Tensors() {
		for i, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				finite = false
			}
			if limit > 0 {
				s[i] = math.Max(-limit, math.Min(limit, v))
			}
		}
	}
	return finite
}
