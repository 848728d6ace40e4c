package core

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/modsweep/modsweep/core/model"
)

// initParams returns the initial weights of Yang et al.'s LeakyRNNCell:
// Win ~ N(0, 1)/sqrt(nIn); Wrec = 0.5·I (diag) or 0.5·Q with Q a random
// orthogonal matrix (randortho); Wout ~ U(±sqrt(6/(N+nOut))), TensorFlow's
// Glorot-uniform; zero biases.
func initParams(nIn, n, nOut int, wRecInit string, rng *rand.Rand) *model.Params {
	p := model.New(nIn, n, nOut)
	scale := 1 / math.Sqrt(float64(nIn))
	for i := range p.Win {
		p.Win[i] = scale * rng.NormFloat64()
	}

	if wRecInit == "randortho" {
		q := randomOrthogonal(n, rng)
		for i := range p.Wrec {
			p.Wrec[i] = 0.5 * q[i]
		}
	} else {
		for i := range n {
			p.Wrec[i*n+i] = 0.5
		}
	}

	limit := math.Sqrt(6 / float64(n+nOut))
	for i := range p.Wout {
		p.Wout[i] = limit * (2*rng.Float64() - 1)
	}
	return p
}

// randomOrthogonal returns a row-major n×n orthogonal matrix drawn from the
// Haar measure: the Q of the QR factorisation of a Gaussian matrix, with
// column signs fixed so that R has a positive diagonal.
func randomOrthogonal(n int, rng *rand.Rand) []float64 {
	g := make([]float64, n*n)
	for i := range g {
		g[i] = rng.NormFloat64()
	}
	var qr mat.QR
	qr.Factorize(mat.NewDense(n, n, g))
	var q, r mat.Dense
	qr.QTo(&q)
	qr.RTo(&r)

	out := make([]float64, n*n)
	for j := range n {
		sign := 1.0
		if r.At(j, j) < 0 {
			sign = -1
		}
		for i := range n {
			out[i*n+j] = sign * q.At(i, j)
		}
	}
	return out
}
