//go:build !openblas

package core

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLASBackend names the BLAS this build multiplies matrices with: "go" is
// the AVX2 kernel of this package for float32 (gonum's BLAS on CPUs without
// AVX2 and FMA) and gonum's pure-Go BLAS for float64.
const BLASBackend = "go"

// gemm32 multiplies with the AVX2 kernel where the CPU has it and alpha is
// 1, and with gonum otherwise.
type gemm32 struct {
	scratch *sgemmScratch
}

func (g gemm32) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if alpha == 1 && sgemmBlocked(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, g.scratch) {
		return
	}
	gonum.Implementation{}.Sgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

type gemm64 struct{}

func (gemm64) gemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int,
	b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonum.Implementation{}.Dgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}
