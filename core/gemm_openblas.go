//go:build openblas

package core

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import "unsafe"

// BLASBackend names the BLAS library this build multiplies matrices with.
const BLASBackend = "openblas"

// OpenBLAS runs on the calling thread only: a trial is one unit of work, and
// an agent runs as many trials in parallel as it has worker slots.
func init() { C.openblas_set_num_threads(1) }

type gemm32 struct{}

func newGemm32() gemm32 { return gemm32{} }

func (gemm32) gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	C.cblas_sgemm(C.CblasRowMajor, trans(transA), trans(transB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(unsafe.SliceData(a))), C.blasint(lda),
		(*C.float)(unsafe.Pointer(unsafe.SliceData(b))), C.blasint(ldb),
		C.float(beta), (*C.float)(unsafe.Pointer(unsafe.SliceData(c))), C.blasint(ldc))
}

type gemm64 struct{}

func newGemm64() gemm64 { return gemm64{} }

func (gemm64) gemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int,
	b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	C.cblas_dgemm(C.CblasRowMajor, trans(transA), trans(transB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.double(alpha), (*C.double)(unsafe.Pointer(unsafe.SliceData(a))), C.blasint(lda),
		(*C.double)(unsafe.Pointer(unsafe.SliceData(b))), C.blasint(ldb),
		C.double(beta), (*C.double)(unsafe.Pointer(unsafe.SliceData(c))), C.blasint(ldc))
}

func trans(t bool) C.enum_CBLAS_TRANSPOSE {
	if t {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}
