package netplot

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/modsweep/modsweep/core"
)

// Matrix names the weight matrix that a connection belongs to.
type Matrix int

// The three weight matrices of the network.
const (
	MatrixInput     Matrix = iota // Win: input i -> hidden j
	MatrixRecurrent               // Wrec: hidden i -> hidden j
	MatrixOutput                  // Wout: hidden i -> output j
)

// String returns the matrix name used in panel titles.
func (m Matrix) String() string {
	switch m {
	case MatrixInput:
		return "input → hidden"
	case MatrixRecurrent:
		return "hidden → hidden"
	case MatrixOutput:
		return "hidden → output"
	}
	return fmt.Sprintf("Matrix(%d)", int(m))
}

// Edge is one drawn connection: W[From*cols+To] of its matrix.
type Edge struct {
	From int     // source unit, indexed within its layer
	To   int     // target unit, indexed within its layer
	W    float64 // signed weight
}

// Panel contains the connections of one weight matrix that Draw draws.
type Panel struct {
	Matrix Matrix
	// Edges are the connections with |w| above the threshold, at most
	// Options.MaxEdges of the strongest, in order of increasing |w| so that
	// the strongest are drawn last, on top.
	Edges []Edge
	// Above counts the connections with |w| above the threshold before the
	// MaxEdges cap.
	Above int
	// Total is the number of entries of the matrix.
	Total int
	// MaxAbs is the largest |w| in the matrix, the reference for line widths.
	MaxAbs float64
}

// Connections are the three panels of a network drawing.
type Connections struct {
	Threshold float64 // |w| must exceed this for a connection to be drawn
	Input     Panel
	Recurrent Panel
	Output    Panel
}

// SelectEdges returns the connections that Draw draws for res: every entry
// of Win, Wrec and Wout with |w| strictly above the threshold (the measure
// definition of a connection), capped at the strongest opts.MaxEdges per
// matrix. NaN weights are never selected.
func SelectEdges(res *core.Result, opts Options) (Connections, error) {
	if err := validate(res); err != nil {
		return Connections{}, err
	}
	threshold, err := opts.threshold(res)
	if err != nil {
		return Connections{}, err
	}
	maxEdges, err := opts.maxEdges()
	if err != nil {
		return Connections{}, err
	}
	w := res.Weights
	return Connections{
		Threshold: threshold,
		Input:     selectPanel(MatrixInput, w.Win, w.N, threshold, maxEdges),
		Recurrent: selectPanel(MatrixRecurrent, w.Wrec, w.N, threshold, maxEdges),
		Output:    selectPanel(MatrixOutput, w.Wout, w.NOut, threshold, maxEdges),
	}, nil
}

func selectPanel(m Matrix, weights []float64, cols int, threshold float64, maxEdges int) Panel {
	p := Panel{Matrix: m, Total: len(weights)}
	for k, w := range weights {
		a := math.Abs(w)
		if a > p.MaxAbs {
			p.MaxAbs = a
		}
		if a > threshold {
			p.Edges = append(p.Edges, Edge{From: k / cols, To: k % cols, W: w})
		}
	}
	p.Above = len(p.Edges)

	// Sort by increasing |w|, breaking ties by position so the output does
	// not depend on the sort algorithm.
	slices.SortFunc(p.Edges, func(a, b Edge) int {
		if c := cmp.Compare(math.Abs(a.W), math.Abs(b.W)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.From, b.From); c != 0 {
			return c
		}
		return cmp.Compare(a.To, b.To)
	})
	if len(p.Edges) > maxEdges {
		p.Edges = p.Edges[len(p.Edges)-maxEdges:]
	}
	return p
}

// validate checks that the weights and the layout of res agree in size, so
// that every index Draw uses is in range.
func validate(res *core.Result) error {
	if res == nil {
		return errors.New("invalid result: nil, want a finished trial's result")
	}
	w := res.Weights
	if w.N <= 0 || w.NIn < 0 || w.NOut < 0 {
		return fmt.Errorf("invalid weights: n_in=%d, n=%d, n_out=%d: the result must contain trained weights with n > 0", w.NIn, w.N, w.NOut)
	}
	sizes := []struct {
		name       string
		got        int
		rows, cols int
	}{
		{"w_in", len(w.Win), w.NIn, w.N},
		{"w_rec", len(w.Wrec), w.N, w.N},
		{"w_out", len(w.Wout), w.N, w.NOut},
	}
	for _, s := range sizes {
		if s.got != s.rows*s.cols {
			return fmt.Errorf("invalid weights: %s has %d entries, want %d×%d = %d", s.name, s.got, s.rows, s.cols, s.rows*s.cols)
		}
	}

	l := res.Layout
	if len(l.Hidden) != w.N {
		return fmt.Errorf("invalid layout: %d hidden positions for n = %d hidden units", len(l.Hidden), w.N)
	}
	// Empty input or output positions are allowed because Draw then places
	// those units on a row outside the sheet. A partial list is not.
	if len(l.Inputs) != 0 && len(l.Inputs) != w.NIn {
		return fmt.Errorf("invalid layout: %d input positions for n_in = %d input channels", len(l.Inputs), w.NIn)
	}
	if len(l.Outputs) != 0 && len(l.Outputs) != w.NOut {
		return fmt.Errorf("invalid layout: %d output positions for n_out = %d output channels", len(l.Outputs), w.NOut)
	}

	for _, layer := range []struct {
		name string
		pts  []core.Point
	}{{"input", l.Inputs}, {"hidden", l.Hidden}, {"output", l.Outputs}} {
		for k, p := range layer.pts {
			if !finite(p.X) || !finite(p.Y) {
				return fmt.Errorf("invalid layout: %s unit %d at (%g, %g): positions must be finite", layer.name, k, p.X, p.Y)
			}
		}
	}
	return nil
}

func finite(x float64) bool {
	return !math.IsNaN(x) && !math.IsInf(x, 0)
}

// unitStrength is the summed |w| into and out of each hidden unit: Win
// column and Wrec column in, Wrec row and Wout row out.
type unitStrength struct {
	In, Out []float64
}

func hiddenStrength(w core.Weights) unitStrength {
	s := unitStrength{In: make([]float64, w.N), Out: make([]float64, w.N)}
	for i := range w.NIn {
		for j := range w.N {
			s.In[j] += math.Abs(w.Win[i*w.N+j])
		}
	}
	for i := range w.N {
		for j := range w.N {
			if i == j {
				// The measure leaves out autapses, so a unit that only
				// drives itself is drawn as inactive, as it is counted.
				continue
			}
			a := math.Abs(w.Wrec[i*w.N+j])
			s.Out[i] += a
			s.In[j] += a
		}
	}
	for i := range w.N {
		for j := range w.NOut {
			s.Out[i] += math.Abs(w.Wout[i*w.NOut+j])
		}
	}
	return s
}

// active reports whether hidden unit j passes the weight-based activity
// rule of core.Measures.ActiveNeurons: Σ|in| and Σ|out|, autapse excluded,
// both above thetaN.
func (s unitStrength) active(j int, thetaN float64) bool {
	return s.In[j] > thetaN && s.Out[j] > thetaN
}
