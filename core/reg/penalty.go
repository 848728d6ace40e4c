package reg

import (
	"math"

	"github.com/modsweep/modsweep/core/model"
)

// Cost holds the parameters of the connection cost. A connection of weight w
// and in-plane length d costs |w|·(A·d + L0).
type Cost struct {
	A          float64 // weight of the in-plane distance; 0 gives plain L1
	L0         float64 // constant added to every connection's length
	PenalizeIO bool    // whether Win and Wout carry the A·d term; if false they carry only L0
}

// ioWeight returns the distance weight of Win and Wout under c.
func (c Cost) ioWeight() float64 {
	if c.PenalizeIO {
		return c.A
	}
	return 0
}

// Penalty returns lambda times the connection cost of p,
//
//	lambda · Σ over Win, Wrec, Wout of mean(|W| ⊙ (A·D + L0)),
//
// where the mean runs over the entries of each matrix, so lambda means the
// same at every network size. Biases are not penalised.
//
// When grad is not nil, Penalty adds lambda times the subgradient of the
// cost to grad, using sign(0) = 0, and leaves grad's biases unchanged.
// It panics if p or grad does not fit g (see CheckShape).
func (g *Geometry) Penalty(p *model.Params, c Cost, lambda float64, grad *model.Params) float64 {
	g.mustFit(p, "p")

	var gradIn, gradRec, gradOut []float64
	if grad != nil {
		g.mustFit(grad, "grad")
		gradIn, gradRec, gradOut = grad.Win, grad.Wrec, grad.Wout
	}

	aIO := c.ioWeight()
	total := matrixPenalty(p.Win, g.DIn, aIO, c.L0, lambda, gradIn)
	total += matrixPenalty(p.Wrec, g.DRec, c.A, c.L0, lambda, gradRec)
	total += matrixPenalty(p.Wout, g.DOut, aIO, c.L0, lambda, gradOut)
	return total
}

// matrixPenalty returns lambda·mean(|w| ⊙ (a·d + l0)) and, when grad is not
// nil, adds its subgradient to grad.
func matrixPenalty(w, d []float64, a, l0, lambda float64, grad []float64) float64 {
	if len(w) == 0 {
		return 0
	}
	scale := lambda / float64(len(w))

	d = d[:len(w)]
	sum := 0.0
	if grad == nil {
		for i, x := range w {
			sum += math.Abs(x) * (a*d[i] + l0)
		}
		return scale * sum
	}

	grad = grad[:len(w)]
	for i, x := range w {
		length := a*d[i] + l0
		sum += math.Abs(x) * length

		// Copysign avoids a branch on the weight's sign, which is random
		// in a trained network; only an exact zero needs its own case.
		step := math.Copysign(scale*length, x)
		if x == 0 {
			step = 0
		}
		grad[i] += step
	}
	return scale * sum
}
