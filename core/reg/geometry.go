package reg

import (
	"errors"
	"fmt"
	"math"

	"github.com/modsweep/modsweep/core/model"
)

// ErrInvalidGeometry is wrapped by every error that NewGeometry returns.
var ErrInvalidGeometry = errors.New("invalid network geometry")

// ErrShapeMismatch is wrapped by the error that CheckShape returns when a
// parameter set does not have the sizes of the geometry.
var ErrShapeMismatch = errors.New("parameters do not match the geometry")

// Point is a position in the unit square.
type Point struct{ X, Y float64 }

// Geometry is the spatial embedding of a leaky RNN: the in-plane position of
// every input, hidden and output unit, and the in-plane Manhattan distances
// that the penalty and the swap rule use. The input layer, the hidden layer
// and the output layer are parallel planes LayerSpacing apart.
//
// Build a Geometry with NewGeometry. The methods treat it as read-only and
// rely on DRec being symmetric with a zero diagonal, which NewGeometry
// guarantees, so one Geometry may be shared by concurrent trials.
type Geometry struct {
	NIn, N, NOut int

	// Rows and Cols are the shape of the hidden grid, N = Rows·Cols.
	Rows, Cols int

	// LayerSpacing is the distance l0 between two neighbouring layers.
	LayerSpacing float64

	Inputs, Hidden, Outputs []Point

	DIn  []float64 // NIn × N: DIn[i*N+j] is the distance from input i to hidden position j
	DRec []float64 // N × N: DRec[i*N+j] is the distance between hidden positions i and j
	DOut []float64 // N × NOut: DOut[j*NOut+k] is the distance from hidden position j to output k
}

// Radii of the rings in the Yang et al. layout. The output ring has the
// radius of the BIMT output ring, and the two stimulus rings sit 1/8 outside
// and 1/8 inside it.
const (
	outputRingRadius = 0.25
	ring1Radius      = 0.375
	ring2Radius      = 0.125
	ruleInset        = 1.0 / 16
)

// NewGeometry places nIn input units, a rows × cols grid of hidden units and
// nOut output units in the unit square, with layers layerSpacing apart.
//
// Hidden unit k = r·cols + c sits at ((2c+1)/(2·cols), (2r+1)/(2·rows)), so x
// varies fastest along the weight index.
//
// When nOut >= 2 and nIn >= 2·nOut − 1, the sizes fit the encoding of Yang et
// al. (2019) with a ring of R = nOut − 1 units: input 0 is fixation, inputs
// 1..R are stimulus ring 1, inputs R+1..2R are stimulus ring 2 and the rest
// are rule units; output 0 is fixation and outputs 1..R are the response
// ring. Both fixation units then sit at the centre (0.5, 0.5). Unit k of
// every ring sits at angle 2πk/R, its preferred direction in the encoding.
// The response ring has radius 1/4 around the centre, ring 1 radius 3/8 and
// ring 2 radius 1/8, so both modalities are equally far from the outputs
// they drive. The rule units are spread evenly along the border of the square
// [1/16, 15/16]², starting at its lower left corner and running
// anticlockwise.
//
// Other sizes get a generic layout: the outputs on the radius-1/4 ring at
// angles 2πk/nOut, and the inputs on a near-square grid with the same
// coordinate rule as the hidden grid.
//
// It returns an error wrapping ErrInvalidGeometry when a size is not
// positive or layerSpacing is negative or not finite.
func NewGeometry(nIn, rows, cols, nOut int, layerSpacing float64) (*Geometry, error) {
	if err := validateSizes(nIn, rows, cols, nOut, layerSpacing); err != nil {
		return nil, err
	}

	n := rows * cols
	g := &Geometry{
		NIn: nIn, N: n, NOut: nOut,
		Rows: rows, Cols: cols,
		LayerSpacing: layerSpacing,
		Hidden:       gridPoints(n, rows, cols),
	}
	if ring, ok := yangRingSize(nIn, nOut); ok {
		g.Inputs = yangInputs(nIn, ring)
		g.Outputs = yangOutputs(ring)
	} else {
		inCols := int(math.Ceil(math.Sqrt(float64(nIn))))
		inRows := (nIn + inCols - 1) / inCols
		g.Inputs = gridPoints(nIn, inRows, inCols)
		g.Outputs = make([]Point, nOut)
		for k := range g.Outputs {
			g.Outputs[k] = ringPoint(k, nOut, outputRingRadius)
		}
	}

	g.DIn = distances(g.Inputs, g.Hidden)
	g.DRec = distances(g.Hidden, g.Hidden)
	g.DOut = distances(g.Hidden, g.Outputs)
	return g, nil
}

func validateSizes(nIn, rows, cols, nOut int, layerSpacing float64) error {
	if nIn <= 0 {
		return fmt.Errorf("%w: %d input units: the network needs at least one input", ErrInvalidGeometry, nIn)
	}
	if nOut <= 0 {
		return fmt.Errorf("%w: %d output units: the network needs at least one output", ErrInvalidGeometry, nOut)
	}
	if rows <= 0 || cols <= 0 {
		return fmt.Errorf("%w: hidden grid of %d × %d: rows and cols must both be positive", ErrInvalidGeometry, rows, cols)
	}

	// The N × N distance matrix must have a length that fits in an int.
	if rows > math.MaxInt/cols || rows*cols > math.MaxInt/(rows*cols) {
		return fmt.Errorf("%w: a hidden grid of %d × %d has too many units for an N × N matrix: use a smaller grid",
			ErrInvalidGeometry, rows, cols)
	}
	if !(layerSpacing >= 0) || math.IsInf(layerSpacing, 0) {
		return fmt.Errorf("%w: layer spacing %v: it must be a finite number >= 0", ErrInvalidGeometry, layerSpacing)
	}
	return nil
}

// CheckShape returns an error wrapping ErrShapeMismatch when p does not have
// g's numbers of input, hidden and output units, or a slice of p has the
// wrong length. Penalty, SwapRound and Measure panic on such parameters, so a
// caller that builds Params from outside data checks them here first.
func (g *Geometry) CheckShape(p *model.Params) error {
	if p == nil {
		return fmt.Errorf("%w: the parameters are nil", ErrShapeMismatch)
	}
	if p.NIn != g.NIn || p.N != g.N || p.NOut != g.NOut {
		return fmt.Errorf("%w: parameters have %d inputs, %d hidden units and %d outputs, "+
			"but the geometry has %d inputs, a %d × %d grid of %d hidden units and %d outputs: "+
			"build the geometry with the network's sizes",
			ErrShapeMismatch, p.NIn, p.N, p.NOut, g.NIn, g.Rows, g.Cols, g.N, g.NOut)
	}

	want := []int{g.NIn * g.N, g.N * g.N, g.N, g.N * g.NOut, g.NOut}
	names := model.TensorNames()
	for i, t := range p.Tensors() {
		if len(t) != want[i] {
			return fmt.Errorf("%w: %s has %d entries but a %d-%d-%d network needs %d: allocate the parameters with model.New",
				ErrShapeMismatch, names[i], len(t), g.NIn, g.N, g.NOut, want[i])
		}
	}
	return nil
}

// mustFit panics with the CheckShape error, naming the argument, when p does
// not fit g.
func (g *Geometry) mustFit(p *model.Params, arg string) {
	if err := g.CheckShape(p); err != nil {
		panic(fmt.Sprintf("reg: argument %s: %v", arg, err))
	}
}

// yangRingSize returns the ring size R = nOut − 1 and true when the sizes
// fit the Yang et al. encoding (1 + 2R + rules inputs, 1 + R outputs).
func yangRingSize(nIn, nOut int) (int, bool) {
	ring := nOut - 1
	return ring, ring >= 1 && nIn >= 1+2*ring
}

func yangInputs(nIn, ring int) []Point {
	inputs := make([]Point, nIn)
	inputs[0] = Point{0.5, 0.5}
	for k := range ring {
		inputs[1+k] = ringPoint(k, ring, ring1Radius)
		inputs[1+ring+k] = ringPoint(k, ring, ring2Radius)
	}

	rules := inputs[1+2*ring:]
	for i := range rules {
		rules[i] = borderPoint((float64(i) + 0.5) / float64(len(rules)))
	}
	return inputs
}

func yangOutputs(ring int) []Point {
	outputs := make([]Point, 1+ring)
	outputs[0] = Point{0.5, 0.5}
	for k := range ring {
		outputs[1+k] = ringPoint(k, ring, outputRingRadius)
	}
	return outputs
}

// gridPoints places n units on a rows × cols grid, unit k = r·cols + c at
// ((2c+1)/(2·cols), (2r+1)/(2·rows)). The grid may have more cells than n.
func gridPoints(n, rows, cols int) []Point {
	points := make([]Point, n)
	for k := range points {
		r, c := k/cols, k%cols
		points[k] = Point{
			X: float64(2*c+1) / float64(2*cols),
			Y: float64(2*r+1) / float64(2*rows),
		}
	}
	return points
}

// ringPoint returns unit k of n on a circle of the given radius around the
// centre of the unit square, at angle 2πk/n.
func ringPoint(k, n int, radius float64) Point {
	angle := 2 * math.Pi * float64(k) / float64(n)
	return Point{0.5 + radius*math.Cos(angle), 0.5 + radius*math.Sin(angle)}
}

// borderPoint returns the point a fraction t in [0, 1) of the way along the
// border of the square [ruleInset, 1−ruleInset]², starting at the lower left
// corner and running anticlockwise.
func borderPoint(t float64) Point {
	lo, hi := ruleInset, 1-ruleInset
	side := hi - lo
	s := 4 * t // position in units of one side
	switch {
	case s < 1:
		return Point{lo + s*side, lo}
	case s < 2:
		return Point{hi, lo + (s-1)*side}
	case s < 3:
		return Point{hi - (s-2)*side, hi}
	default:
		return Point{lo, hi - (s-3)*side}
	}
}

// distances returns the len(from) × len(to) matrix of Manhattan distances.
func distances(from, to []Point) []float64 {
	d := make([]float64, len(from)*len(to))
	for i, a := range from {
		row := d[i*len(to) : (i+1)*len(to)]
		for j, b := range to {
			row[j] = manhattan(a, b)
		}
	}
	return d
}

func manhattan(a, b Point) float64 {
	return math.Abs(a.X-b.X) + math.Abs(a.Y-b.Y)
}
