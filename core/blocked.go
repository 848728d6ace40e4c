package core

import "github.com/modsweep/modsweep/core/internal/kernel"

// kBlock is the depth of one pass of the blocked GEMM: a kBlock-deep panel of
// B, 16 KiB wide for either precision, stays in L1 while the 6- and 4-row
// strips of A stream past it.
const kBlock = 256

// kernelFunc is the signature of the GEMM micro-kernels of package kernel:
// C[block] += A[block]·B[block] with A's entry (i, p) at a[i·aRow + p·aK].
type kernelFunc[F float] func(k int, a *F, aRow, aK int, b *F, ldb int, c *F, ldc int)

// gemmKernels are the micro-kernels of one precision: six and four rows by
// width columns.
type gemmKernels[F float] struct {
	width     int
	six, four kernelFunc[F]
}

// kernelsFor returns the micro-kernels of precision F.
func kernelsFor[F float]() gemmKernels[F] {
	var zero F
	if _, ok := any(zero).(float32); ok {
		return gemmKernels[F]{
			width: 16,
			six:   any(kernelFunc[float32](kernel.Kernel6x16)).(kernelFunc[F]),
			four:  any(kernelFunc[float32](kernel.Kernel4x16)).(kernelFunc[F]),
		}
	}
	return gemmKernels[F]{
		width: 8,
		six:   any(kernelFunc[float64](kernel.Kernel6x8D)).(kernelFunc[F]),
		four:  any(kernelFunc[float64](kernel.Kernel4x8D)).(kernelFunc[F]),
	}
}

// gemmScratch holds the work buffers of gemmBlocked.
type gemmScratch[F float] struct {
	kern   gemmKernels[F]
	bt     []F // B's transpose
	bp, cp []F // B's and C's last n%width columns, zero-padded to width
}

func newGemmScratch[F float]() *gemmScratch[F] {
	return &gemmScratch[F]{kern: kernelsFor[F]()}
}

// gemmBlocked computes C = op(A)·op(B) + beta·C for row-major matrices with
// the AVX2 kernels and reports whether it did. It declines (returns false,
// C untouched) when the CPU lacks AVX2 and FMA. scratch holds B's transpose
// when transB is set and the zero-padded last columns of B and C when n is
// not a multiple of the kernels' width.
//
// Every entry of C is summed in the same order on every call, so results
// are reproducible.
func gemmBlocked[F float](transA, transB bool, m, n, k int, a []F, lda int, b []F, ldb int,
	beta F, c []F, ldc int, scratch *gemmScratch[F]) bool {
	if !kernel.Available {
		return false
	}
	scaleRows(c, m, n, ldc, beta)
	if m == 0 || n == 0 || k == 0 {
		return true
	}

	if transB {
		// B is stored n×k; copy its transpose into a k×n scratch matrix.
		scratch.bt = grow(scratch.bt, k*n)
		bt := scratch.bt
		for j := range n {
			row := b[j*ldb : j*ldb+k]
			for p, v := range row {
				bt[p*n+j] = v
			}
		}
		b, ldb = bt, n
	}
	aRow, aK := lda, 1
	if transA {
		aRow, aK = 1, lda
	}

	kern := scratch.kern
	six, four := rowStrips(m)
	mFull, nFull := 6*six+4*four, n-n%kern.width
	for p0 := 0; p0 < k; p0 += kBlock {
		kc := min(kBlock, k-p0)
		for j := 0; j < nFull; j += kern.width {
			stripPanel(kern, six, four, kc, a[p0*aK:], aRow, aK, b[p0*ldb+j:], ldb, c[j:], ldc)
		}
	}
	if nFull < n {
		columnEdge(six, four, nFull, n, k, a, aRow, aK, b, ldb, c, ldc, scratch)
	}
	scalarEdge(mFull, m, 0, n, k, a, aRow, aK, b, ldb, c, ldc)
	return true
}

// rowStrips splits m rows into six strips of 6 rows and four strips of 4.
// For m >= 4 it leaves at most one row (none when m is even) to the scalar
// edge code, and for m < 4 it leaves all of them.
func rowStrips(m int) (six, four int) {
	best := -1
	for f := 0; f <= 2 && 4*f <= m; f++ {
		s := (m - 4*f) / 6
		if covered := 6*s + 4*f; covered > best {
			best, six, four = covered, s, f
		}
	}
	return six, four
}

// stripPanel runs the kernels down one panel of kern.width columns: six
// 6-row strips, then four 4-row strips, each over the same kc-deep block of B.
func stripPanel[F float](kern gemmKernels[F], six, four, kc int, a []F, aRow, aK int, b []F, ldb int,
	c []F, ldc int) {
	i := 0
	for range six {
		kern.six(kc, &a[i*aRow], aRow, aK, &b[0], ldb, &c[i*ldc], ldc)
		i += 6
	}
	for range four {
		kern.four(kc, &a[i*aRow], aRow, aK, &b[0], ldb, &c[i*ldc], ldc)
		i += 4
	}
}

// columnEdge adds op(A)·B to C over the rows the strips cover and the
// columns [nFull, n), fewer than the kernels' width. It runs the kernels on
// copies of those columns of B and C padded with zeros to the width.
func columnEdge[F float](six, four, nFull, n, k int, a []F, aRow, aK int, b []F, ldb int,
	c []F, ldc int, scratch *gemmScratch[F]) {
	width := scratch.kern.width
	mFull := 6*six + 4*four
	w := n - nFull
	scratch.bp = grow(scratch.bp, k*width)
	scratch.cp = grow(scratch.cp, mFull*width)
	bp, cp := scratch.bp, scratch.cp
	clear(bp)
	clear(cp)
	for p := range k {
		copy(bp[p*width:p*width+w], b[p*ldb+nFull:p*ldb+n])
	}
	for i := range mFull {
		copy(cp[i*width:i*width+w], c[i*ldc+nFull:i*ldc+n])
	}
	for p0 := 0; p0 < k; p0 += kBlock {
		kc := min(kBlock, k-p0)
		stripPanel(scratch.kern, six, four, kc, a[p0*aK:], aRow, aK, bp[p0*width:], width, cp, width)
	}
	for i := range mFull {
		copy(c[i*ldc+nFull:i*ldc+n], cp[i*width:i*width+w])
	}
}

// scalarEdge adds op(A)·B to C over rows [i0, i1) and columns [j0, j1)
// with scalar code.
func scalarEdge[F float](i0, i1, j0, j1, k int, a []F, aRow, aK int, b []F, ldb int, c []F, ldc int) {
	if j0 >= j1 {
		return
	}
	for i := i0; i < i1; i++ {
		crow := c[i*ldc+j0 : i*ldc+j1]
		for p := range k {
			av := a[i*aRow+p*aK]
			brow := b[p*ldb+j0 : p*ldb+j1]
			for j, bv := range brow {
				crow[j] += av * bv
			}
		}
	}
}

// scaleRows multiplies the m×n matrix C by beta, setting it to zero when
// beta is 0 so that NaNs in an uninitialised C do not survive.
func scaleRows[F float](c []F, m, n, ldc int, beta F) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
