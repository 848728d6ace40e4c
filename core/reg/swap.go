package reg

import (
	"math"
	"slices"

	"github.com/modsweep/modsweep/core/model"
)

// SwapRound runs one round of BIMT neuron swaps over the hidden units of p
// and returns the number of swaps made.
//
// The round scores every hidden position j by the summed magnitude of the
// weights of the unit there: incoming Win[:, j] and Wrec[:, j], outgoing
// Wrec[j, :] and Wout[j, :] (an autapse counts in both). It takes the topK
// highest-scoring positions once, in descending order with ties to the lower
// index. These are positions, so a later entry refers to whichever unit sits
// there by then. For each such position j, in turn, it computes the change of
// the connection cost under c for swapping the unit at j with the unit at
// every other position k. It applies the swap with the most negative change,
// taking the lowest k among equal changes. The unit stays put unless some swap
// lowers the cost, so a round never raises the cost.
//
// A swap of j and k is the symmetric permutation W ↦ P·W·Pᵀ of Wrec with
// columns j and k of Win, rows j and k of Wout and entries j and k of Brec.
// The network computes the same function after it. Every Params in also,
// such as Adam's moment estimates, receives the same permutations, so its
// entries stay aligned with the weights they belong to. Entries that are nil
// or p itself are skipped. The unit positions in g never change.
//
// Only the A·d part of the cost depends on positions, so a round with c.A = 0
// makes no swaps, and with c.PenalizeIO false the input and output weights
// take no part in the choice. Each candidate costs O(NIn + N + NOut).
// SwapRound panics if p or an entry of also does not fit g (see CheckShape).
func (g *Geometry) SwapRound(p *model.Params, c Cost, topK int, also ...*model.Params) int {
	g.mustFit(p, "p")
	also = slices.DeleteFunc(slices.Clone(also), func(q *model.Params) bool { return q == nil || q == p })
	for _, q := range also {
		g.mustFit(q, "also")
	}
	if topK <= 0 || c.A == 0 || g.N < 2 {
		return 0
	}

	ws := newSwapWorkspace(g, p, c)
	swaps := 0
	for _, j := range ws.topPositions(min(topK, g.N)) {
		best, bestDelta := j, 0.0
		for k := range g.N {
			if k == j {
				continue
			}
			if delta := ws.delta(j, k); delta < bestDelta {
				best, bestDelta = k, delta
			}
		}
		if best == j {
			continue
		}

		ws.swap(j, best)
		swapUnits(p, j, best)
		for _, q := range also {
			swapUnits(q, j, best)
		}
		swaps++
	}
	return swaps
}

// swapWorkspace holds absolute weights in the layouts that make the cost
// change of one swap a few contiguous dot products. It is permuted along with
// the weights, so it stays valid for the whole round.
type swapWorkspace struct {
	g *Geometry

	// Scale of each matrix's distance term: A over the matrix size, because
	// the cost averages each matrix.
	scaleIn, scaleRec, scaleOut float64

	absInT []float64 // N × NIn: absInT[j*NIn+i] = |Win[i, j]|
	dInT   []float64 // N × NIn: dInT[j*NIn+i] = DIn[i, j], which belongs to positions and is never permuted
	absSym []float64 // N × N: absSym[j*N+a] = |Wrec[a, j]| + |Wrec[j, a]|
	absOut []float64 // N × NOut: absOut[j*NOut+o] = |Wout[j, o]|
}

func newSwapWorkspace(g *Geometry, p *model.Params, c Cost) *swapWorkspace {
	n, nIn, nOut := g.N, g.NIn, g.NOut
	aIO := c.ioWeight()
	ws := &swapWorkspace{
		g:        g,
		scaleIn:  aIO / float64(nIn*n),
		scaleRec: c.A / float64(n*n),
		scaleOut: aIO / float64(n*nOut),
		absInT:   make([]float64, n*nIn),
		dInT:     make([]float64, n*nIn),
		absSym:   make([]float64, n*n),
		absOut:   make([]float64, n*nOut),
	}

	for i := range nIn {
		for j := range n {
			ws.absInT[j*nIn+i] = math.Abs(p.Win[i*n+j])
			ws.dInT[j*nIn+i] = g.DIn[i*n+j]
		}
	}
	for a := range n {
		for b := range n {
			ws.absSym[a*n+b] = math.Abs(p.Wrec[a*n+b]) + math.Abs(p.Wrec[b*n+a])
		}
	}
	for i, w := range p.Wout {
		ws.absOut[i] = math.Abs(w)
	}
	return ws
}

// topPositions returns the k hidden positions with the largest summed
// incoming and outgoing weight magnitude, largest first, ties to the lower
// position.
func (ws *swapWorkspace) topPositions(k int) []int {
	n, nIn, nOut := ws.g.N, ws.g.NIn, ws.g.NOut
	scores := make([]float64, n)
	for j := range n {
		scores[j] = sum(ws.absInT[j*nIn:(j+1)*nIn]) +
			sum(ws.absSym[j*n:(j+1)*n]) +
			sum(ws.absOut[j*nOut:(j+1)*nOut])
	}

	order := make([]int, n)
	for j := range order {
		order[j] = j
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		default:
			return 0
		}
	})
	return order[:k]
}

// delta returns the change of the position-dependent cost, without lambda,
// if the units at hidden positions j and k (j != k) were swapped.
func (ws *swapWorkspace) delta(j, k int) float64 {
	g := ws.g
	n, nIn, nOut := g.N, g.NIn, g.NOut

	total := ws.scaleRec * recDelta(ws.absSym, g.DRec, n, j, k)
	if ws.scaleIn != 0 {
		// Columns j and k of Win trade places, so each weight's distance
		// changes from its own column's to the other's.
		wj, wk := ws.absInT[j*nIn:(j+1)*nIn], ws.absInT[k*nIn:(k+1)*nIn]
		dj, dk := ws.dInT[j*nIn:(j+1)*nIn], ws.dInT[k*nIn:(k+1)*nIn]
		total += ws.scaleIn * crossDelta(wj, wk, dj, dk)
	}
	if ws.scaleOut != 0 {
		wj, wk := ws.absOut[j*nOut:(j+1)*nOut], ws.absOut[k*nOut:(k+1)*nOut]
		dj, dk := g.DOut[j*nOut:(j+1)*nOut], g.DOut[k*nOut:(k+1)*nOut]
		total += ws.scaleOut * crossDelta(wj, wk, dj, dk)
	}
	return total
}

// crossDelta returns Σ_i (wk[i] − wj[i])·(dj[i] − dk[i]), the cost change
// when the weights wj at distances dj and wk at distances dk trade places.
func crossDelta(wj, wk, dj, dk []float64) float64 {
	wk, dj, dk = wk[:len(wj)], dj[:len(wj)], dk[:len(wj)]
	s := 0.0
	for i, w := range wj {
		s += (wk[i] - w) * (dj[i] - dk[i])
	}
	return s
}

// recDelta returns the change of Σ_ab |Wrec[a, b]|·D[a, b] under the swap of
// hidden positions j and k. Only rows and columns j and k move. For a outside
// {j, k}, the weights between a and j take the distance D[a, k] and those
// between a and k take D[a, j]. The four weights among j and k keep their
// lengths, because D is symmetric with a zero diagonal.
func recDelta(absSym, d []float64, n, j, k int) float64 {
	sj, sk := absSym[j*n:(j+1)*n], absSym[k*n:(k+1)*n]
	dj, dk := d[j*n:(j+1)*n], d[k*n:(k+1)*n]
	lo, hi := min(j, k), max(j, k)
	return crossDelta(sj[:lo], sk[:lo], dj[:lo], dk[:lo]) +
		crossDelta(sj[lo+1:hi], sk[lo+1:hi], dj[lo+1:hi], dk[lo+1:hi]) +
		crossDelta(sj[hi+1:], sk[hi+1:], dj[hi+1:], dk[hi+1:])
}

// swap permutes the workspace like swapUnits permutes the weights.
func (ws *swapWorkspace) swap(j, k int) {
	n, nIn, nOut := ws.g.N, ws.g.NIn, ws.g.NOut
	swapRows(ws.absInT, nIn, j, k)
	swapRows(ws.absSym, n, j, k)
	swapCols(ws.absSym, n, j, k)
	swapRows(ws.absOut, nOut, j, k)
}

// swapUnits exchanges hidden units j and k of p: columns of Win, rows and
// columns of Wrec, entries of Brec and rows of Wout.
func swapUnits(p *model.Params, j, k int) {
	swapCols(p.Win, p.N, j, k)
	swapRows(p.Wrec, p.N, j, k)
	swapCols(p.Wrec, p.N, j, k)
	p.Brec[j], p.Brec[k] = p.Brec[k], p.Brec[j]
	swapRows(p.Wout, p.NOut, j, k)
}

// swapRows exchanges rows j and k of the row-major matrix m with the given
// number of columns.
func swapRows(m []float64, cols, j, k int) {
	rj, rk := m[j*cols:(j+1)*cols], m[k*cols:(k+1)*cols]
	for i := range rj {
		rj[i], rk[i] = rk[i], rj[i]
	}
}

// swapCols exchanges columns j and k of the row-major matrix m with the
// given number of columns.
func swapCols(m []float64, cols, j, k int) {
	for r := 0; r < len(m); r += cols {
		m[r+j], m[r+k] = m[r+k], m[r+j]
	}
}

func sum(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s
}
