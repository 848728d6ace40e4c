package reg

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/modsweep/modsweep/core/model"
)

// randomParams returns parameters with standard normal entries, about a
// tenth of them set to exactly zero.
func randomParams(rng *rand.Rand, nIn, n, nOut int) *model.Params {
	p := model.New(nIn, n, nOut)
	for _, t := range p.Tensors() {
		for i := range t {
			if rng.Float64() < 0.1 {
				continue
			}
			t[i] = rng.NormFloat64()
		}
	}
	return p
}

func mustGeometry(t testing.TB, nIn, rows, cols, nOut int, layerSpacing float64) *Geometry {
	t.Helper()
	g, err := NewGeometry(nIn, rows, cols, nOut, layerSpacing)
	if err != nil {
		t.Fatalf("NewGeometry(%d, %d, %d, %d, %v): %v", nIn, rows, cols, nOut, layerSpacing, err)
	}
	return g
}

func TestNewGeometryGrid2x3(t *testing.T) {
	g := mustGeometry(t, 3, 2, 3, 2, 0.5)
	if g.N != 6 || g.Rows != 2 || g.Cols != 3 || g.NIn != 3 || g.NOut != 2 {
		t.Fatalf("sizes: got NIn %d, N %d (%d × %d), NOut %d", g.NIn, g.N, g.Rows, g.Cols, g.NOut)
	}
	want := []Point{
		{1.0 / 6, 0.25}, {3.0 / 6, 0.25}, {5.0 / 6, 0.25},
		{1.0 / 6, 0.75}, {3.0 / 6, 0.75}, {5.0 / 6, 0.75},
	}
	for k, p := range g.Hidden {
		if math.Abs(p.X-want[k].X) > 1e-15 || math.Abs(p.Y-want[k].Y) > 1e-15 {
			t.Errorf("hidden %d at %v, want %v", k, p, want[k])
		}
	}
	// Neighbours along a row are 1/3 apart, along a column 1/2.
	if d := g.DRec[0*6+1]; math.Abs(d-1.0/3) > 1e-15 {
		t.Errorf("DRec[0, 1] = %v, want 1/3", d)
	}
	if d := g.DRec[0*6+3]; math.Abs(d-0.5) > 1e-15 {
		t.Errorf("DRec[0, 3] = %v, want 1/2", d)
	}
	if d := g.DRec[0*6+5]; math.Abs(d-(2.0/3+0.5)) > 1e-15 {
		t.Errorf("DRec[0, 5] = %v, want 2/3 + 1/2", d)
	}
}

func TestNewGeometryDistances(t *testing.T) {
	for _, sizes := range [][4]int{{3, 2, 3, 2}, {85, 8, 8, 33}, {12, 3, 5, 5}, {1, 1, 1, 1}} {
		g := mustGeometry(t, sizes[0], sizes[1], sizes[2], sizes[3], 0.5)
		n := g.N

		if len(g.DIn) != g.NIn*n || len(g.DRec) != n*n || len(g.DOut) != n*g.NOut {
			t.Fatalf("%v: distance lengths %d, %d, %d", sizes, len(g.DIn), len(g.DRec), len(g.DOut))
		}
		for a := range n {
			if g.DRec[a*n+a] != 0 {
				t.Errorf("%v: DRec[%d, %d] = %v, want 0", sizes, a, a, g.DRec[a*n+a])
			}
			for b := range n {
				if g.DRec[a*n+b] != g.DRec[b*n+a] {
					t.Errorf("%v: DRec[%d, %d] = %v but DRec[%d, %d] = %v", sizes, a, b, g.DRec[a*n+b], b, a, g.DRec[b*n+a])
				}
				if want := manhattanByHand(g.Hidden[a], g.Hidden[b]); math.Abs(g.DRec[a*n+b]-want) > 1e-15 {
					t.Errorf("%v: DRec[%d, %d] = %v, want %v", sizes, a, b, g.DRec[a*n+b], want)
				}
			}
		}
		for i := range g.NIn {
			for j := range n {
				if want := manhattanByHand(g.Inputs[i], g.Hidden[j]); math.Abs(g.DIn[i*n+j]-want) > 1e-15 {
					t.Errorf("%v: DIn[%d, %d] = %v, want %v", sizes, i, j, g.DIn[i*n+j], want)
				}
			}
		}
		for j := range n {
			for o := range g.NOut {
				if want := manhattanByHand(g.Hidden[j], g.Outputs[o]); math.Abs(g.DOut[j*g.NOut+o]-want) > 1e-15 {
					t.Errorf("%v: DOut[%d, %d] = %v, want %v", sizes, j, o, g.DOut[j*g.NOut+o], want)
				}
			}
		}
	}
}

func manhattanByHand(a, b Point) float64 {
	dx, dy := a.X-b.X, a.Y-b.Y
	if dx < 0 {
		dx = -dx
	}
	if dy < 0 {
		dy = -dy
	}
	return dx + dy
}

func TestNewGeometryYangLayout(t *testing.T) {
	const ring, rules = 32, 20
	g := mustGeometry(t, 1+2*ring+rules, 8, 8, 1+ring, 0.5)
	centre := Point{0.5, 0.5}

	if g.Inputs[0] != centre {
		t.Errorf("fixation input at %v, want the centre", g.Inputs[0])
	}
	if g.Outputs[0] != centre {
		t.Errorf("fixation output at %v, want the centre", g.Outputs[0])
	}

	checkRing := func(name string, points []Point, radius float64) {
		t.Helper()
		for k, p := range points {
			dx, dy := p.X-0.5, p.Y-0.5
			if r := math.Hypot(dx, dy); math.Abs(r-radius) > 1e-12 {
				t.Errorf("%s unit %d at radius %v, want %v", name, k, r, radius)
			}
			angle := math.Atan2(dy, dx)
			if angle < 0 {
				angle += 2 * math.Pi
			}
			if want := 2 * math.Pi * float64(k) / ring; math.Abs(angle-want) > 1e-12 {
				t.Errorf("%s unit %d at angle %v, want %v", name, k, angle, want)
			}
		}
	}
	checkRing("ring 1", g.Inputs[1:1+ring], 0.375)
	checkRing("ring 2", g.Inputs[1+ring:1+2*ring], 0.125)
	checkRing("output ring", g.Outputs[1:], 0.25)

	// Rule units lie on the border of [1/16, 15/16]², evenly spaced along it.
	const lo, hi = 1.0 / 16, 15.0 / 16
	onEdge := func(v float64) bool { return math.Abs(v-lo) < 1e-12 || math.Abs(v-hi) < 1e-12 }
	ruleUnits := g.Inputs[1+2*ring:]
	for i, p := range ruleUnits {
		if !onEdge(p.X) && !onEdge(p.Y) {
			t.Errorf("rule %d at %v is not on the border of the inset square", i, p)
		}
		if p.X < lo-1e-12 || p.X > hi+1e-12 || p.Y < lo-1e-12 || p.Y > hi+1e-12 {
			t.Errorf("rule %d at %v lies outside the inset square", i, p)
		}
	}
	perimeter := 4 * (hi - lo)
	if d := manhattanByHand(ruleUnits[0], ruleUnits[1]); math.Abs(d-perimeter/rules) > 1e-12 {
		t.Errorf("rules 0 and 1 are %v apart, want %v", d, perimeter/rules)
	}
	if want := (Point{lo + perimeter/rules/2, lo}); manhattanByHand(ruleUnits[0], want) > 1e-12 {
		t.Errorf("rule 0 at %v, want %v", ruleUnits[0], want)
	}
}

func TestNewGeometryGenericLayout(t *testing.T) {
	// Two outputs need at least three inputs for the Yang encoding, so two
	// inputs and two outputs get the generic layout.
	g := mustGeometry(t, 2, 1, 2, 2, 0.5)
	wantIn := []Point{{0.25, 0.5}, {0.75, 0.5}}
	for i, p := range g.Inputs {
		if manhattanByHand(p, wantIn[i]) > 1e-15 {
			t.Errorf("input %d at %v, want %v", i, p, wantIn[i])
		}
	}
	wantOut := []Point{{0.75, 0.5}, {0.25, 0.5}}
	for o, p := range g.Outputs {
		if manhattanByHand(p, wantOut[o]) > 1e-15 {
			t.Errorf("output %d at %v, want %v", o, p, wantOut[o])
		}
	}

	// Five inputs fill a 3 × 2 grid (three columns, two rows) row by row.
	g = mustGeometry(t, 5, 1, 1, 1, 0.5)
	if p, want := g.Inputs[4], (Point{0.5, 0.75}); manhattanByHand(p, want) > 1e-15 {
		t.Errorf("input 4 of 5 at %v, want %v", p, want)
	}
}

func TestNewGeometryRejectsBadSizes(t *testing.T) {
	cases := []struct {
		name                string
		nIn, rows, cols, nO int
		spacing             float64
		mention             string
	}{
		{"zero inputs", 0, 2, 2, 3, 0.5, "0 input units"},
		{"negative outputs", 4, 2, 2, -1, 0.5, "-1 output units"},
		{"zero rows", 4, 0, 2, 3, 0.5, "0 × 2"},
		{"negative cols", 4, 2, -3, 3, 0.5, "2 × -3"},
		{"negative spacing", 4, 2, 2, 3, -0.1, "-0.1"},
		{"NaN spacing", 4, 2, 2, 3, math.NaN(), "NaN"},
		{"infinite spacing", 4, 2, 2, 3, math.Inf(1), "+Inf"},
		{"huge grid", 4, math.MaxInt / 2, 4, 3, 0.5, "too many units"},
		{"grid with too many units squared", 4, 1 << 20, 1 << 20, 3, 0.5, "too many units"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewGeometry(tc.nIn, tc.rows, tc.cols, tc.nO, tc.spacing)
			if err == nil {
				t.Fatalf("got geometry %dx%d, want an error", g.Rows, g.Cols)
			}
			if !errors.Is(err, ErrInvalidGeometry) {
				t.Errorf("error %q does not wrap ErrInvalidGeometry", err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("error %q does not mention %q", err, tc.mention)
			}
		})
	}
}

func TestCheckShape(t *testing.T) {
	g := mustGeometry(t, 5, 2, 3, 2, 0.5)
	if err := g.CheckShape(model.New(5, 6, 2)); err != nil {
		t.Fatalf("matching parameters: %v", err)
	}

	short := model.New(5, 6, 2)
	short.Wrec = short.Wrec[:35]
	cases := map[string]*model.Params{
		"nil":           nil,
		"other hidden":  model.New(5, 7, 2),
		"other inputs":  model.New(4, 6, 2),
		"other outputs": model.New(5, 6, 3),
		"short Wrec":    short,
	}
	for name, p := range cases {
		err := g.CheckShape(p)
		if err == nil {
			t.Errorf("%s: got nil, want an error", name)
			continue
		}
		if !errors.Is(err, ErrShapeMismatch) {
			t.Errorf("%s: error %q does not wrap ErrShapeMismatch", name, err)
		}
	}
	if err := g.CheckShape(short); !strings.Contains(err.Error(), "Wrec has 35 entries") {
		t.Errorf("short Wrec: error %q does not name the slice and its length", err)
	}
}

func TestPenaltyPanicsOnShapeMismatch(t *testing.T) {
	g := mustGeometry(t, 5, 2, 3, 2, 0.5)
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("Penalty accepted a gradient of the wrong shape")
		}
		if msg, _ := r.(string); !strings.Contains(msg, "argument grad") {
			t.Errorf("panic %q does not name the argument", r)
		}
	}()
	g.Penalty(model.New(5, 6, 2), Cost{A: 1}, 1, model.New(5, 6, 3))
}
