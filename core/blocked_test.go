package core

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/modsweep/modsweep/core/internal/kernel"
)

func TestGemmBlockedMatchesNaive(t *testing.T) {
	if !kernel.Available {
		t.Skip("no AVX2/FMA kernel in this build or on this CPU")
	}
	t.Run("float32", func(t *testing.T) { checkGemmShapes[float32](t, 1e-5) })
	t.Run("float64", func(t *testing.T) { checkGemmShapes[float64](t, 1e-13) })
}

// checkGemmShapes compares gemmBlocked with a float64 triple loop on shapes
// that hit every edge: row counts that leave 0 to 3 rows to scalar code and
// column counts that are and are not multiples of both kernel widths.
func checkGemmShapes[F float](t *testing.T, eps float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{
		{4, 16, 1}, {8, 32, 300}, {7, 33, 5}, {85, 64, 513}, {3, 15, 9},
		{64, 48, 64}, {6, 16, 3}, {10, 17, 7}, {13, 48, 260}, {128, 33, 40}, {6, 8, 2}, {5, 12, 11},
	}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, beta := range []F{0, 1} {
					name := fmt.Sprintf("m=%d/n=%d/k=%d/tA=%v/tB=%v/beta=%v", m, n, k, tA, tB, beta)
					checkGemm(t, name, rng, tA, tB, m, n, k, beta, eps)
				}
			}
		}
	}
}

func checkGemm[F float](t *testing.T, name string, rng *rand.Rand, tA, tB bool, m, n, k int, beta F, eps float64) {
	t.Helper()
	// Leading dimensions wider than the matrices catch stride mistakes.
	lda, ldb, ldc := k+3, n+2, n+5
	if tA {
		lda = m + 3
	}
	if tB {
		ldb = k + 2
	}
	rows := func(r, ld int) []F {
		s := make([]F, r*ld)
		for i := range s {
			s[i] = F(rng.NormFloat64())
		}
		return s
	}
	a := rows(max(m, k), lda)
	b := rows(max(n, k), ldb)
	c := rows(m, ldc)

	want := make([]float64, len(c))
	for i := range m {
		for j := range n {
			sum := float64(beta) * float64(c[i*ldc+j])
			for p := range k {
				av, bv := a[i*lda+p], b[p*ldb+j]
				if tA {
					av = a[p*lda+i]
				}
				if tB {
					bv = b[j*ldb+p]
				}
				sum += float64(av) * float64(bv)
			}
			want[i*ldc+j] = sum
		}
	}

	if !gemmBlocked(tA, tB, m, n, k, a, lda, b, ldb, beta, c, ldc, newGemmScratch[F]()) {
		t.Fatalf("%s: kernel declined", name)
	}
	tol := 4 * eps * math.Sqrt(float64(k))
	for i := range m {
		for j := range n {
			if d := math.Abs(float64(c[i*ldc+j]) - want[i*ldc+j]); d > tol {
				t.Fatalf("%s: C[%d,%d] = %v, want %v", name, i, j, c[i*ldc+j], want[i*ldc+j])
			}
		}
	}
}

func TestRowStripsCoverRows(t *testing.T) {
	for m := range 200 {
		six, four := rowStrips(m)
		left := m - 6*six - 4*four
		if m < 4 {
			if left != m {
				t.Errorf("rowStrips(%d) = %d sixes and %d fours, want none", m, six, four)
			}
			continue
		}
		if left < 0 || left > 1 || (m%2 == 0 && left != 0) {
			t.Errorf("rowStrips(%d) = %d sixes and %d fours, leaving %d rows", m, six, four, left)
		}
	}
}

// BenchmarkSgemm times the kernel on the shapes of a training step at
// N = 256, T = 100, B = 64: a weight gradient (Rᵀ·dZ), one recurrent step
// (r·Wrec) and the input layer (X·Win).
func BenchmarkSgemm(b *testing.B) {
	if !kernel.Available {
		b.Skip("no AVX2/FMA kernel in this build or on this CPU")
	}
	shapes := []struct {
		name    string
		transA  bool
		m, n, k int
	}{
		{"weight-gradient", true, 256, 256, 6400},
		{"recurrent-step", false, 64, 256, 256},
		{"input-layer", false, 6400, 256, 85},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			lda := s.k
			if s.transA {
				lda = s.m
			}
			a := make([]float32, s.m*s.k)
			bm := make([]float32, s.k*s.n)
			c := make([]float32, s.m*s.n)
			scratch := newGemmScratch[float32]()
			cpuStart := processCPUTime()
			for b.Loop() {
				gemmBlocked(s.transA, false, s.m, s.n, s.k, a, lda, bm, s.n, 0, c, s.n, scratch)
			}
			flops := 2 * float64(s.m*s.n*s.k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			b.ReportMetric(flops/(processCPUTime()-cpuStart).Seconds()/1e9, "cpu-GFLOP/s")
		})
	}
}
