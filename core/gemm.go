package core

// float is the set of compute precisions of the network.
type float interface{ ~float32 | ~float64 }

// gemmer computes the row-major matrix product C = alpha·op(A)·op(B) + beta·C,
// where op(X) is X or its transpose, as BLAS gemm does. A is m×k after op, B
// is k×n after op and C is m×n.
type gemmer[F float] interface {
	gemm(transA, transB bool, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int)
}

// newGemmer returns the BLAS backend for precision F: gonum's pure-Go BLAS by
// default, OpenBLAS when built with the openblas tag.
func newGemmer[F float]() gemmer[F] {
	var zero F
	switch any(zero).(type) {
	case float32:
		return any(newGemm32()).(gemmer[F])
	default:
		return any(newGemm64()).(gemmer[F])
	}
}
