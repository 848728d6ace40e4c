package reg

import (
	"math"

	"github.com/modsweep/modsweep/core/model"
)

// Measures are the weight-based structure measures of a network.
type Measures struct {
	// ActiveNeurons counts the hidden units whose incoming and outgoing
	// weight magnitudes, autapse excluded, both sum to more than thetaN.
	ActiveNeurons int

	// WiringLength is the summed length of the connections with |w| > thetaW.
	WiringLength float64

	// WiringLengthWeighted is Σ |w|·length over every connection.
	WiringLengthWeighted float64

	// DiagShare is Σ|diag Wrec| / Σ|Wrec|, 0 when Wrec is all zero.
	DiagShare float64

	// Connections counts the weights in Win, Wrec and Wout with |w| > thetaW,
	// autapses included.
	Connections int
}

// Measure computes the structure measures of p laid out by g.
//
// Hidden unit j is active when Σ_i |Win[i, j]| + Σ_{a≠j} |Wrec[a, j]| >
// thetaN and Σ_{b≠j} |Wrec[j, b]| + Σ_o |Wout[j, o]| > thetaN, both strictly.
// The autapse Wrec[j, j] is left out of both sums, because a unit that only
// drives itself neither reads from nor writes to the rest of the network.
//
// A connection's length is the in-plane distance for Wrec, and the in-plane
// distance plus g.LayerSpacing for Win and Wout, which cross one layer gap.
// An autapse has length 0, so it counts in Connections but adds nothing to
// either wiring length.
//
// Measure panics if p does not fit g (see CheckShape).
func Measure(p *model.Params, g *Geometry, thetaN, thetaW float64) Measures {
	g.mustFit(p, "p")

	var m Measures
	m.ActiveNeurons = activeNeurons(p, thetaN)
	addWiring(&m, p.Win, g.DIn, g.LayerSpacing, thetaW)
	addWiring(&m, p.Wrec, g.DRec, 0, thetaW)
	addWiring(&m, p.Wout, g.DOut, g.LayerSpacing, thetaW)

	total, diag := 0.0, 0.0
	for i, w := range p.Wrec {
		total += math.Abs(w)
		if i%(p.N+1) == 0 {
			diag += math.Abs(w)
		}
	}
	if total > 0 {
		m.DiagShare = diag / total
	}
	return m
}

// addWiring adds the connections of w, with lengths d + gap, to m.
func addWiring(m *Measures, w, d []float64, gap, thetaW float64) {
	for i, x := range w {
		length := d[i] + gap
		m.WiringLengthWeighted += math.Abs(x) * length
		if math.Abs(x) > thetaW {
			m.Connections++
			m.WiringLength += length
		}
	}
}

func activeNeurons(p *model.Params, thetaN float64) int {
	n := p.N
	in := make([]float64, n)
	out := make([]float64, n)
	for i := range p.NIn {
		for j, w := range p.Win[i*n : (i+1)*n] {
			in[j] += math.Abs(w)
		}
	}
	for a := range n {
		for b, w := range p.Wrec[a*n : (a+1)*n] {
			if a != b {
				out[a] += math.Abs(w)
				in[b] += math.Abs(w)
			}
		}
	}
	for j := range n {
		for _, w := range p.Wout[j*p.NOut : (j+1)*p.NOut] {
			out[j] += math.Abs(w)
		}
	}

	active := 0
	for j := range n {
		if in[j] > thetaN && out[j] > thetaN {
			active++
		}
	}
	return active
}

// ActiveByActivity counts the units whose task variance, summed over tasks,
// is strictly greater than theta. NaN variances do not count.
func ActiveByActivity(variance []float64, theta float64) int {
	active := 0
	for _, v := range variance {
		if v > theta {
			active++
		}
	}
	return active
}
