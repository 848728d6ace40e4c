package task

import (
	"errors"
	"fmt"
	"math"
)

// ResponseTolerance is 0.2π (36°). Performance counts a response as
// correct when the decoded angle is closer than this to the target angle.
const ResponseTolerance = 0.2 * math.Pi

// preferredCos and preferredSin are the cosines and sines of the preferred
// angles, for the population vector.
var preferredCos, preferredSin = func() (c, s [RingSize]float64) {
	for k, theta := range preferred {
		c[k], s[k] = math.Cos(theta), math.Sin(theta)
	}
	return c, s
}()

// Performance returns the 0/1 performance of every trial of b, judged from
// the network outputs yhat (after the sigmoid, laid out like b.Y) at the
// last step only. A trial that must fixate is correct if the fixation
// output is above 0.5. A trial that must respond is correct if the fixation
// output is at most 0.5 and the population-vector angle of the 32 ring
// outputs lies within ResponseTolerance of YLoc. Performance returns nil
// if b is nil or malformed or yhat does not have T*B*NumOutput elements.
// Score returns the reason.
func Performance(yhat []float64, b *Batch) []float64 {
	perf, err := Score(yhat, b)
	if err != nil {
		return nil
	}
	return perf
}

// Score is Performance with an error for a nil or malformed batch or a
// yhat of the wrong length.
func Score(yhat []float64, b *Batch) ([]float64, error) {
	if b == nil {
		return nil, errors.New("score outputs: batch is nil")
	}
	if b.T <= 0 || b.B <= 0 || len(b.YLoc) != b.T*b.B {
		return nil, fmt.Errorf("score %s outputs: batch has T = %d, B = %d and %d YLoc values: need T, B >= 1 and T*B YLoc values",
			b.Task, b.T, b.B, len(b.YLoc))
	}
	if want := b.T * b.B * NumOutput; len(yhat) != want {
		return nil, fmt.Errorf("score %s outputs: yhat has %d values, want T*B*NumOutput = %d*%d*%d = %d",
			b.Task, len(yhat), b.T, b.B, NumOutput, want)
	}

	perf := make([]float64, b.B)
	last := (b.T - 1) * b.B
	for i := range b.B {
		out := yhat[(last+i)*NumOutput:][:NumOutput]
		fixating := out[0] > 0.5
		target := b.YLoc[last+i]
		if target < 0 {
			if fixating {
				perf[i] = 1
			}
			continue
		}
		if !fixating && CircularDistance(DecodeAngle(out[1:]), target) < ResponseTolerance {
			perf[i] = 1
		}
	}
	return perf, nil
}

// DecodeAngle returns the population-vector angle in [0, 2π) of ring
// activity: atan2(Σ r_k sin θ_k, Σ r_k cos θ_k) over the preferred angles
// θ_k = 2πk/RingSize. ring must have RingSize elements; extra elements are
// ignored and missing ones count as 0.
func DecodeAngle(ring []float64) float64 {
	var x, y float64
	for k := range min(len(ring), RingSize) {
		x += ring[k] * preferredCos[k]
		y += ring[k] * preferredSin[k]
	}
	return wrapAngle(math.Atan2(y, x))
}
