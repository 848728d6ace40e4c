package reg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func meanAbs(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += math.Abs(v)
	}
	return s / float64(len(x))
}

func TestPenaltyL1Path(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	g := mustGeometry(t, 12, 3, 4, 5, 0.5)
	p := randomParams(rng, g.NIn, g.N, g.NOut)

	const lambda, l0 = 0.3, 0.7
	want := lambda * l0 * (meanAbs(p.Win) + meanAbs(p.Wrec) + meanAbs(p.Wout))
	for _, io := range []bool{true, false} {
		got := g.Penalty(p, Cost{A: 0, L0: l0, PenalizeIO: io}, lambda, nil)
		if math.Abs(got-want) > 1e-14*want {
			t.Errorf("PenalizeIO %v: penalty %v, want %v", io, got, want)
		}
	}
}

// penaltyByHand computes the cost from the unit positions, independently of
// the precomputed distance matrices.
func penaltyByHand(g *Geometry, w []float64, from, to []Point, a, l0 float64) float64 {
	s := 0.0
	for i, pa := range from {
		for j, pb := range to {
			s += math.Abs(w[i*len(to)+j]) * (a*manhattanByHand(pa, pb) + l0)
		}
	}
	return s / float64(len(w))
}

func TestPenaltyMatchesPositions(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	g := mustGeometry(t, 12, 3, 4, 5, 0.5)
	p := randomParams(rng, g.NIn, g.N, g.NOut)

	const lambda, a, l0 = 0.25, 2.0, 0.5
	rec := penaltyByHand(g, p.Wrec, g.Hidden, g.Hidden, a, l0)
	for _, io := range []bool{true, false} {
		aIO := 0.0
		if io {
			aIO = a
		}
		want := lambda * (penaltyByHand(g, p.Win, g.Inputs, g.Hidden, aIO, l0) + rec +
			penaltyByHand(g, p.Wout, g.Hidden, g.Outputs, aIO, l0))
		got := g.Penalty(p, Cost{A: a, L0: l0, PenalizeIO: io}, lambda, nil)
		if math.Abs(got-want) > 1e-13*want {
			t.Errorf("PenalizeIO %v: penalty %v, want %v", io, got, want)
		}
	}

	// Biases are not penalised.
	q := p.Clone()
	for i := range q.Brec {
		q.Brec[i] += 10
	}
	q.Bout[0] = -100
	c := Cost{A: a, L0: l0, PenalizeIO: true}
	if got, want := g.Penalty(q, c, lambda, nil), g.Penalty(p, c, lambda, nil); got != want {
		t.Errorf("changing the biases changed the penalty from %v to %v", want, got)
	}
}

func TestPenaltyGradientFiniteDifference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	g := mustGeometry(t, 12, 3, 4, 5, 0.5)
	p := randomParams(rng, g.NIn, g.N, g.NOut)

	// Keep every weight at least 0.05 away from zero, where the penalty is
	// linear, so a central difference with step 1e-5 is exact up to rounding.
	for _, tensor := range [][]float64{p.Win, p.Wrec, p.Wout} {
		for i, w := range tensor {
			if math.Abs(w) < 0.05 {
				tensor[i] = math.Copysign(0.05+math.Abs(w), w)
			}
		}
	}

	const lambda, h = 0.7, 1e-5
	for _, c := range []Cost{{A: 2, L0: 0.5, PenalizeIO: true}, {A: 2, L0: 0.5}, {A: 0, L0: 1}} {
		grad := p.Clone()
		grad.Zero()
		g.Penalty(p, c, lambda, grad)

		names := []string{"Win", "Wrec", "Brec", "Wout", "Bout"}
		for ti, tensor := range p.Tensors() {
			for i := range tensor {
				orig := tensor[i]
				tensor[i] = orig + h
				up := g.Penalty(p, c, lambda, nil)
				tensor[i] = orig - h
				down := g.Penalty(p, c, lambda, nil)
				tensor[i] = orig

				fd := (up - down) / (2 * h)
				got := grad.Tensors()[ti][i]
				if names[ti] == "Brec" || names[ti] == "Bout" {
					if got != 0 || fd != 0 {
						t.Errorf("cost %+v: %s[%d] gradient %v, finite difference %v, want both 0", c, names[ti], i, got, fd)
					}
					continue
				}
				if rel := math.Abs(got-fd) / math.Abs(got); rel > 1e-6 {
					t.Errorf("cost %+v: %s[%d] gradient %v, finite difference %v (relative error %.2g)",
						c, names[ti], i, got, fd, rel)
				}
			}
		}
	}
}

func TestPenaltyGradientAdds(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	g := mustGeometry(t, 12, 3, 4, 5, 0.5)
	p := randomParams(rng, g.NIn, g.N, g.NOut)
	c := Cost{A: 2, L0: 0.5, PenalizeIO: true}

	fresh := p.Clone()
	fresh.Zero()
	g.Penalty(p, c, 1, fresh)

	base := randomParams(rng, g.NIn, g.N, g.NOut)
	grad := base.Clone()
	g.Penalty(p, c, 1, grad)

	zeros := 0
	for ti, tensor := range grad.Tensors() {
		for i, got := range tensor {
			want := base.Tensors()[ti][i] + fresh.Tensors()[ti][i]
			if got != want {
				t.Errorf("tensor %d entry %d: gradient %v, want the previous %v plus %v",
					ti, i, got, base.Tensors()[ti][i], fresh.Tensors()[ti][i])
			}
		}
	}
	for ti, tensor := range p.Tensors() {
		for i, w := range tensor {
			if w == 0 {
				zeros++
				if fresh.Tensors()[ti][i] != 0 {
					t.Errorf("tensor %d entry %d: zero weight got gradient %v, want 0", ti, i, fresh.Tensors()[ti][i])
				}
			}
		}
	}
	if zeros == 0 {
		t.Fatal("the random parameters contain no zero weight, so sign(0) = 0 went untested")
	}
}

func TestPenaltyScalesWithLambda(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	g := mustGeometry(t, 12, 3, 4, 5, 0.5)
	p := randomParams(rng, g.NIn, g.N, g.NOut)
	c := Cost{A: 2, L0: 0.5, PenalizeIO: true}

	one := g.Penalty(p, c, 1, nil)
	if one <= 0 {
		t.Fatalf("penalty at lambda 1 is %v, want > 0", one)
	}
	if got := g.Penalty(p, c, 0, nil); got != 0 {
		t.Errorf("penalty at lambda 0 is %v, want 0", got)
	}
	if got := g.Penalty(p, c, 0.01, nil); math.Abs(got-0.01*one) > 1e-15*one {
		t.Errorf("penalty at lambda 0.01 is %v, want %v", got, 0.01*one)
	}
}

var penaltySink float64

func BenchmarkPenalty(b *testing.B) {
	for _, grid := range [][2]int{{8, 8}, {16, 16}} {
		g := mustGeometry(b, 85, grid[0], grid[1], 33, 0.5)
		b.Run(fmt.Sprintf("N=%d", g.N), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			p := randomParams(rng, g.NIn, g.N, g.NOut)
			grad := p.Clone()
			for b.Loop() {
				penaltySink += g.Penalty(p, bimtCost, 1e-3, grad)
			}
		})
	}
}
