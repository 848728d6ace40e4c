//go:build !openblas

package core

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLASBackend names the BLAS this build multiplies matrices with: "go" is
// the AVX2 kernels of package kernel, or gonum's pure-Go BLAS on CPUs
// without AVX2 and FMA.
const BLASBackend = "go"

// gemm32 and gemm64 multiply with the AVX2 kernels where the CPU has them
// and alpha is 1, and with gonum otherwise.
type gemm32 struct {
	scratch *gemmScratch[float32]
}

func newGemm32() gemm32 { return gemm32{scratch: newGemmScratch[float32]()} }

func (g gemm32) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if alpha == 1 && gemmBlocked(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, g.scratch) {
		return
	}
	gonum.Implementation{}.Sgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

type gemm64 struct {
	scratch *gemmScratch[float64]
}

func newGemm64() gemm64 { return gemm64{scratch: newGemmScratch[float64]()} }

func (g gemm64) gemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int,
	b []float64, ldb int, beta float64, c []float64, ldc int) {
	if alpha == 1 && gemmBlocked(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc, g.scratch) {
		return
	}
	gonum.Implementation{}.Dgemm(trans(transA), trans(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}
