package reg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/modsweep/modsweep/core/model"
)

var bimtCost = Cost{A: 2, L0: 0.5, PenalizeIO: true}

func softplus(z float64) float64 {
	return math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z)))
}

// forward runs the leaky RNN r ← (1−α)r + α·softplus(x·Win + r·Wrec + b),
// y = sigmoid(r·Wout + bout) from r = 0 over the input sequence xs and
// returns the outputs of every step.
func forward(p *model.Params, xs [][]float64, alpha float64) [][]float64 {
	n := p.N
	r := make([]float64, n)
	z := make([]float64, n)
	ys := make([][]float64, len(xs))
	for t, x := range xs {
		copy(z, p.Brec)
		for i, xi := range x {
			for j := range n {
				z[j] += xi * p.Win[i*n+j]
			}
		}
		for a, ra := range r {
			for j := range n {
				z[j] += ra * p.Wrec[a*n+j]
			}
		}
		for j := range n {
			r[j] = (1-alpha)*r[j] + alpha*softplus(z[j])
		}

		y := slices.Clone(p.Bout)
		for j, rj := range r {
			for o := range y {
				y[o] += rj * p.Wout[j*p.NOut+o]
			}
		}
		for o := range y {
			y[o] = 1 / (1 + math.Exp(-y[o]))
		}
		ys[t] = y
	}
	return ys
}

func TestSwapRoundPreservesFunction(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	g := mustGeometry(t, 12, 3, 4, 5, 0.5)
	p := randomParams(rng, g.NIn, g.N, g.NOut)
	for i := range p.Wrec {
		p.Wrec[i] /= math.Sqrt(float64(g.N))
	}
	orig := p.Clone()

	for trial := range 3 {
		xs := make([][]float64, 30)
		for s := range xs {
			xs[s] = make([]float64, g.NIn)
			for i := range xs[s] {
				xs[s][i] = rng.NormFloat64()
			}
		}
		before := forward(orig, xs, 0.2)

		q := orig.Clone()
		swaps := g.SwapRound(q, bimtCost, g.N)
		if swaps == 0 {
			t.Fatal("the round made no swap, so it tested nothing")
		}
		if slices.Equal(q.Wrec, orig.Wrec) {
			t.Fatalf("the round reported %d swaps but Wrec is unchanged", swaps)
		}

		after := forward(q, xs, 0.2)
		for s := range before {
			for o := range before[s] {
				if d := math.Abs(before[s][o] - after[s][o]); d > 1e-12 {
					t.Errorf("trial %d, step %d, output %d: %v before the swaps, %v after", trial, s, o, before[s][o], after[s][o])
				}
			}
		}
	}
}

// randomCase returns a geometry of random shape, random parameters with some
// exact zeros, and a random cost.
func randomCase(t *testing.T, rng *rand.Rand) (*Geometry, *model.Params, Cost) {
	rows, cols := 1+rng.IntN(4), 1+rng.IntN(5)
	if rows*cols < 2 {
		cols = 2
	}
	nIn, nOut := 1+rng.IntN(12), 1+rng.IntN(6)
	g := mustGeometry(t, nIn, rows, cols, nOut, 0.5)
	p := randomParams(rng, nIn, g.N, nOut)
	c := Cost{A: 0.5 + 2.5*rng.Float64(), L0: rng.Float64(), PenalizeIO: rng.IntN(2) == 0}
	return g, p, c
}

func TestSwapDeltaMatchesFullCost(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	for tc := range 300 {
		g, p, c := randomCase(t, rng)
		ws := newSwapWorkspace(g, p, c)
		before := g.Penalty(p, c, 1, nil)

		j := rng.IntN(g.N)
		k := (j + 1 + rng.IntN(g.N-1)) % g.N
		delta := ws.delta(j, k)

		q := p.Clone()
		swapUnits(q, j, k)
		want := g.Penalty(q, c, 1, nil) - before
		if math.Abs(delta-want) > 1e-12*(1+before) {
			t.Errorf("case %d (%d-%d×%d-%d, %+v), swap %d and %d: delta %v, full recomputation %v",
				tc, g.NIn, g.Rows, g.Cols, g.NOut, c, j, k, delta, want)
		}

		// The workspace, permuted like the weights, must give the deltas of
		// the swapped network.
		ws.swap(j, k)
		fresh := newSwapWorkspace(g, q, c)
		for a := range g.N {
			b := (a + 1) % g.N
			if a == b {
				continue
			}
			if got, want := ws.delta(a, b), fresh.delta(a, b); math.Abs(got-want) > 1e-12*(1+before) {
				t.Errorf("case %d: after swapping %d and %d, delta(%d, %d) is %v, want %v", tc, j, k, a, b, got, want)
			}
		}
	}
}

func TestSwapRoundNeverIncreasesCost(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	total := 0
	for tc := range 200 {
		g, p, c := randomCase(t, rng)
		topK := 1 + rng.IntN(g.N)
		before := g.Penalty(p, c, 1, nil)
		swaps := g.SwapRound(p, c, topK)
		after := g.Penalty(p, c, 1, nil)

		if swaps < 0 || swaps > topK {
			t.Errorf("case %d: %d swaps with top-k %d", tc, swaps, topK)
		}
		if after > before+1e-12*before {
			t.Errorf("case %d (%d-%d×%d-%d, %+v, top-k %d): cost rose from %v to %v over %d swaps",
				tc, g.NIn, g.Rows, g.Cols, g.NOut, c, topK, before, after, swaps)
		}
		if swaps > 0 && !(after < before) {
			t.Errorf("case %d: %d swaps left the cost at %v", tc, swaps, after)
		}
		total += swaps
	}
	if total == 0 {
		t.Fatal("no case made a swap, so the test checked nothing")
	}
}

func TestSwapRoundPermutesAlso(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	g := mustGeometry(t, 12, 3, 4, 5, 0.5)
	p := randomParams(rng, g.NIn, g.N, g.NOut)
	orig := p.Clone()
	n, nOut := g.N, g.NOut

	// Every entry of the first moment gets a distinct value that records
	// where it started, and its Brec holds the unit index itself.
	m := model.New(g.NIn, n, nOut)
	for i := range m.Win {
		m.Win[i] = float64(1000 + i)
	}
	for i := range m.Wrec {
		m.Wrec[i] = float64(2000 + i)
	}
	for j := range m.Brec {
		m.Brec[j] = float64(j)
	}
	for i := range m.Wout {
		m.Wout[i] = float64(3000 + i)
	}
	for o := range m.Bout {
		m.Bout[o] = float64(4000 + o)
	}
	mOrig := m.Clone()
	v := p.Clone()

	swaps := g.SwapRound(p, bimtCost, n, m, nil, v, p)
	if swaps == 0 {
		t.Fatal("the round made no swap, so it tested nothing")
	}

	// perm[a] is the unit that now sits at position a.
	perm := make([]int, n)
	for a := range perm {
		perm[a] = int(m.Brec[a])
	}
	sorted := slices.Clone(perm)
	slices.Sort(sorted)
	for a := range sorted {
		if sorted[a] != a {
			t.Fatalf("moment Brec %v is not a permutation of the unit indices", m.Brec)
		}
	}
	if slices.IsSorted(perm) {
		t.Fatalf("%d swaps left the identity permutation", swaps)
	}

	for _, q := range []struct {
		name      string
		got, from *model.Params
	}{{"weights", p, orig}, {"first moment", m, mOrig}, {"second moment", v, orig}} {
		for i := range g.NIn {
			for a := range n {
				if got, want := q.got.Win[i*n+a], q.from.Win[i*n+perm[a]]; got != want {
					t.Errorf("%s: Win[%d, %d] = %v, want %v", q.name, i, a, got, want)
				}
			}
		}
		for a := range n {
			for b := range n {
				if got, want := q.got.Wrec[a*n+b], q.from.Wrec[perm[a]*n+perm[b]]; got != want {
					t.Errorf("%s: Wrec[%d, %d] = %v, want %v", q.name, a, b, got, want)
				}
			}
			if got, want := q.got.Brec[a], q.from.Brec[perm[a]]; got != want {
				t.Errorf("%s: Brec[%d] = %v, want %v", q.name, a, got, want)
			}
			for o := range nOut {
				if got, want := q.got.Wout[a*nOut+o], q.from.Wout[perm[a]*nOut+o]; got != want {
					t.Errorf("%s: Wout[%d, %d] = %v, want %v", q.name, a, o, got, want)
				}
			}
		}
		if !slices.Equal(q.got.Bout, q.from.Bout) {
			t.Errorf("%s: Bout changed from %v to %v", q.name, q.from.Bout, q.got.Bout)
		}
	}
}

func TestSwapRoundMovesUnitTowardItsIO(t *testing.T) {
	// Hidden positions at x = 1/6, 1/2, 5/6 (y = 1/2), the input at the
	// centre and the output at (3/4, 1/2). The only unit with weights sits at
	// position 0. Moving it to position 1 shortens both connections by 1/3;
	// moving it to position 2 shortens only the output by 1/2.
	g := mustGeometry(t, 1, 1, 3, 1, 0.5)
	p := model.New(1, 3, 1)
	p.Win[0] = 1
	p.Wout[0] = -1
	p.Brec[0] = 0.3

	if got := g.SwapRound(p, Cost{A: 1, L0: 0.5}, 3); got != 0 {
		t.Errorf("without PenalizeIO: %d swaps, want 0", got)
	}
	if got := g.SwapRound(p, Cost{L0: 0.5, PenalizeIO: true}, 3); got != 0 {
		t.Errorf("with A = 0: %d swaps, want 0", got)
	}
	if got := g.SwapRound(p, Cost{A: 1, L0: 0.5, PenalizeIO: true}, 0); got != 0 {
		t.Errorf("with top-k 0: %d swaps, want 0", got)
	}
	if p.Win[0] != 1 {
		t.Fatalf("rounds that made no swap moved the unit: Win = %v", p.Win)
	}

	c := Cost{A: 1, L0: 0.5, PenalizeIO: true}
	if got := g.SwapRound(p, c, 3); got != 1 {
		t.Fatalf("%d swaps, want 1", got)
	}
	if want := []float64{0, 1, 0}; !slices.Equal(p.Win, want) {
		t.Errorf("Win = %v, want %v", p.Win, want)
	}
	if want := []float64{0, -1, 0}; !slices.Equal(p.Wout, want) {
		t.Errorf("Wout = %v, want %v", p.Wout, want)
	}
	if want := []float64{0, 0.3, 0}; !slices.Equal(p.Brec, want) {
		t.Errorf("Brec = %v, want %v", p.Brec, want)
	}
	if got := g.SwapRound(p, c, 3); got != 0 {
		t.Errorf("a second round made %d swaps, want 0", got)
	}
}

func TestSwapRoundPanicsOnShapeMismatch(t *testing.T) {
	g := mustGeometry(t, 5, 2, 3, 2, 0.5)
	defer func() {
		if recover() == nil {
			t.Fatal("SwapRound accepted a moment estimate of the wrong shape")
		}
	}()
	g.SwapRound(model.New(5, 6, 2), bimtCost, 3, model.New(5, 6, 3))
}

var swapSink int

func BenchmarkSwapRound(b *testing.B) {
	for _, grid := range [][2]int{{8, 8}, {8, 16}, {16, 16}} {
		g := mustGeometry(b, 85, grid[0], grid[1], 33, 0.5)
		b.Run(fmt.Sprintf("N=%d", g.N), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			p := randomParams(rng, g.NIn, g.N, g.NOut)
			m, v := p.Clone(), p.Clone()
			for b.Loop() {
				swapSink += g.SwapRound(p, bimtCost, 30, m, v)
			}
		})
	}
}
