package core

import "github.com/modsweep/modsweep/core/internal/kernel"

// kBlock is the depth of one pass of the blocked SGEMM: a kBlock×16 panel of
// B (16 KiB) stays in L1 while the 6- and 4-row strips of A stream past it.
const kBlock = 256

// sgemmBlocked computes C = op(A)·op(B) + beta·C for row-major float32
// matrices with the AVX2 kernel and reports whether it did; it declines
// (returns false, C untouched) when the CPU lacks AVX2 and FMA. scratch
// holds B's transpose when transB is set and the zero-padded last columns
// of B and C when n is not a multiple of 16.
//
// Every entry of C is summed in the same order on every call, so results
// are reproducible.
func sgemmBlocked(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int,
	beta float32, c []float32, ldc int, scratch *sgemmScratch) bool {
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

	six, four := rowStrips(m)
	mFull, nFull := 6*six+4*four, n&^15
	for p0 := 0; p0 < k; p0 += kBlock {
		kc := min(kBlock, k-p0)
		for j := 0; j < nFull; j += 16 {
			stripPanel(six, four, kc, a[p0*aK:], aRow, aK, b[p0*ldb+j:], ldb, c[j:], ldc)
		}
	}
	if nFull < n {
		sgemmColumnEdge(six, four, nFull, n, k, a, aRow, aK, b, ldb, c, ldc, scratch)
	}
	sgemmEdge(mFull, m, 0, n, k, a, aRow, aK, b, ldb, c, ldc)
	return true
}

// sgemmScratch holds the work buffers of sgemmBlocked.
type sgemmScratch struct {
	bt     []float32 // B's transpose
	bp, cp []float32 // B's and C's last n%16 columns, zero-padded to 16
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

// stripPanel runs the kernels down one 16-column panel: six 6-row strips,
// then four 4-row strips, each over the same kc×16 block of B.
func stripPanel(six, four, kc int, a []float32, aRow, aK int, b []float32, ldb int, c []float32, ldc int) {
	i := 0
	for range six {
		kernel.Kernel6x16(kc, &a[i*aRow], aRow, aK, &b[0], ldb, &c[i*ldc], ldc)
		i += 6
	}
	for range four {
		kernel.Kernel4x16(kc, &a[i*aRow], aRow, aK, &b[0], ldb, &c[i*ldc], ldc)
		i += 4
	}
}

// sgemmColumnEdge adds op(A)·B to C over the rows the strips cover and the
// columns [nFull, n), fewer than 16: it runs the kernels on copies of those
// columns of B and C padded with zeros to 16.
func sgemmColumnEdge(six, four, nFull, n, k int, a []float32, aRow, aK int, b []float32, ldb int,
	c []float32, ldc int, scratch *sgemmScratch) {
	mFull := 6*six + 4*four
	w := n - nFull
	scratch.bp = grow(scratch.bp, k*16)
	scratch.cp = grow(scratch.cp, mFull*16)
	bp, cp := scratch.bp, scratch.cp
	clear(bp)
	clear(cp)
	for p := range k {
		copy(bp[p*16:p*16+w], b[p*ldb+nFull:p*ldb+n])
	}
	for i := range mFull {
		copy(cp[i*16:i*16+w], c[i*ldc+nFull:i*ldc+n])
	}
	for p0 := 0; p0 < k; p0 += kBlock {
		kc := min(kBlock, k-p0)
		stripPanel(six, four, kc, a[p0*aK:], aRow, aK, bp[p0*16:], 16, cp, 16)
	}
	for i := range mFull {
		copy(c[i*ldc+nFull:i*ldc+n], cp[i*16:i*16+w])
	}
}

// sgemmEdge adds op(A)·B to C over rows [i0, i1) and columns [j0, j1)
// with scalar code.
func sgemmEdge(i0, i1, j0, j1, k int, a []float32, aRow, aK int, b []float32, ldb int, c []float32, ldc int) {
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
func scaleRows(c []float32, m, n, ldc int, beta float32) {
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
