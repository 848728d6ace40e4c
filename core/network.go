package core

import (
	"math"
	"unsafe"

	"github.com/modsweep/modsweep/core/internal/kernel"

	"github.com/modsweep/modsweep/core/model"
)

// network runs the leaky RNN forward and back over one batch in compute
// precision F. Rows of every activation buffer are indexed t·B+b (time-major),
// so the input and output layers are single GEMMs over all T·B rows and only
// the recurrence runs step by step. Buffers grow to the largest batch seen and
// are reused, so a steady-state training step does not allocate.
type network[F float] struct {
	nIn, n, nOut int
	relu         bool // relu when true, softplus otherwise
	alpha        F    // leak dt/tau
	fastMath     bool // float32 precision: use the polynomial exp and log1p
	blas         gemmer[F]

	// Parameters and their gradients in compute precision, laid out as in
	// model.Params.
	win, wrec, brec, wout, bout      []F
	gwin, gwrec, gbrec, gwout, gbout []F
	wrecT, woutT                     []F // transposes for the backward pass
	zeroRow                          []F // r_{-1}, n zeros

	t, b int // shape of the current batch

	// x holds the inputs with input noise (rows × nIn). z holds the recurrent
	// noise before forward, the pre-activations without Brec during it and
	// dL/dz after backward (rows × n). r holds the rates, df the activation's slope f'(z)
	// and dr dL/dr (rows × n). y holds the outputs and dy dL/d(logit)
	// (rows × nOut).
	x, z, r, df, dr, y, dy []F
}

func newNetwork[F float](nIn, n, nOut int, relu bool, alpha float64) *network[F] {
	return &network[F]{
		nIn: nIn, n: n, nOut: nOut, relu: relu, alpha: F(alpha),
		fastMath: unsafe.Sizeof(F(0)) == 4,
		blas:     newGemmer[F](),
		win:      make([]F, nIn*n),
		wrec:     make([]F, n*n),
		brec:     make([]F, n),
		wout:     make([]F, n*nOut),
		bout:     make([]F, nOut),
		gwin:     make([]F, nIn*n),
		gwrec:    make([]F, n*n),
		gbrec:    make([]F, n),
		gwout:    make([]F, n*nOut),
		gbout:    make([]F, nOut),
		wrecT:    make([]F, n*n),
		woutT:    make([]F, nOut*n),
		zeroRow:  make([]F, n),
	}
}

// resize sets the batch shape to T time steps of B trials, growing buffers
// when needed. The buffer contents are undefined afterwards.
func (nw *network[F]) resize(t, b int) {
	nw.t, nw.b = t, b
	rows := t * b
	nw.x = grow(nw.x, rows*nw.nIn)
	nw.z = grow(nw.z, rows*nw.n)
	nw.r = grow(nw.r, rows*nw.n)
	nw.df = grow(nw.df, rows*nw.n)
	nw.dr = grow(nw.dr, rows*nw.n)
	nw.y = grow(nw.y, rows*nw.nOut)
	nw.dy = grow(nw.dy, rows*nw.nOut)
}

func grow[F float](s []F, n int) []F {
	if cap(s) < n {
		return make([]F, n)
	}
	return s[:n]
}

// load copies the master parameters into compute precision.
func (nw *network[F]) load(p *model.Params) {
	convert(nw.win, p.Win)
	convert(nw.wrec, p.Wrec)
	convert(nw.brec, p.Brec)
	convert(nw.wout, p.Wout)
	convert(nw.bout, p.Bout)
}

// storeGrads copies the gradients of the last backward pass into g.
func (nw *network[F]) storeGrads(g *model.Params) {
	convert(g.Win, nw.gwin)
	convert(g.Wrec, nw.gwrec)
	convert(g.Brec, nw.gbrec)
	convert(g.Wout, nw.gwout)
	convert(g.Bout, nw.gbout)
}

func convert[D, S float](dst []D, src []S) {
	for i, v := range src {
		dst[i] = D(v)
	}
}

// forward computes rates and outputs from nw.x and the recurrent noise in
// nw.z:
//
//	z_t = x_t·Win + r_{t-1}·Wrec + Brec + noise_t
//	r_t = (1-alpha)·r_{t-1} + alpha·f(z_t), r_{-1} = 0
//	y_t = sigmoid(r_t·Wout + Bout)
func (nw *network[F]) forward() {
	n, b := nw.n, nw.b
	rows := nw.t * b
	step := b * n

	nw.blas.gemm(false, false, rows, n, nw.nIn, 1, nw.x, nw.nIn, nw.win, n, 1, nw.z, n)

	for t := range nw.t {
		zt := nw.z[t*step : (t+1)*step]
		rt := nw.r[t*step : (t+1)*step]
		dft := nw.df[t*step : (t+1)*step]
		if t == 0 {
			nw.activate(zt, nil, rt, dft)
			continue
		}
		prev := nw.r[(t-1)*step : t*step]
		nw.blas.gemm(false, false, b, n, n, 1, prev, n, nw.wrec, n, 1, zt, n)
		nw.activate(zt, prev, rt, dft)
	}

	for i := 0; i < rows; i++ {
		copy(nw.y[i*nw.nOut:(i+1)*nw.nOut], nw.bout)
	}
	nw.blas.gemm(false, false, rows, nw.nOut, n, 1, nw.r, n, nw.wout, nw.nOut, 1, nw.y, nw.nOut)
	if nw.fastMath {
		sigmoidFast(nw.y[:rows*nw.nOut])
	} else {
		sigmoidInPlace(nw.y[:rows*nw.nOut])
	}
}

// activate computes, from the pre-activations z of one time step without
// Brec, the rates r = (1-alpha)·prev + alpha·f(z + Brec) and the slopes
// df = f'(z + Brec). prev is nil at the first step. The scalar path adds
// Brec to z in place, the AVX2 path does not write z.
func (nw *network[F]) activate(z, prev, r, df []F) {
	n := nw.n
	keep := 1 - nw.alpha
	vector := nw.vectorised() &^ 7 // leading columns the AVX2 kernel handles
	for row := 0; row < len(z); row += n {
		if vector > 0 {
			prevRow := nw.zeroRow
			if prev != nil {
				prevRow = prev[row : row+n]
			}
			kernel.LeakySoftplus(f32(z[row:]), f32(nw.brec), f32(prevRow), f32(r[row:]), f32(df[row:]),
				vector, float32(nw.alpha), float32(keep))
			if vector == n {
				continue
			}
		}
		zr := z[row+vector : row+n]
		rr := r[row+vector : row+n]
		dr := df[row+vector : row+n]
		for j, bias := range nw.brec[vector:] {
			zr[j] += bias
		}
		switch {
		case nw.relu:
			reluTo(rr, dr, zr)
		case nw.fastMath:
			softplusFast(rr, dr, zr)
		default:
			softplusTo(rr, dr, zr)
		}
		for j := range rr {
			rr[j] *= nw.alpha
		}
		if prev != nil {
			pr := prev[row+vector : row+n]
			for j := range rr {
				rr[j] += keep * pr[j]
			}
		}
	}
}

// vectorised returns the row length n when the AVX2 kernels run this
// network's elementwise steps (float32, softplus, a CPU with AVX2 and FMA)
// and 0 otherwise.
func (nw *network[F]) vectorised() int {
	if nw.fastMath && !nw.relu && kernel.Available {
		return nw.n
	}
	return 0
}

// loss returns the masked mean squared error mean(((y - target)·mask)²)
// over all T·B·nOut entries and stores dL/d(logit) in nw.dy. target and mask
// have the layout of nw.y.
func (nw *network[F]) loss(target, mask []float64) float64 {
	count := len(nw.y[:nw.t*nw.b*nw.nOut])
	scale := 2 / float64(count)
	sum := 0.0
	for i := range count {
		y := float64(nw.y[i])
		m := mask[i]
		e := (y - target[i]) * m
		sum += e * e
		nw.dy[i] = F(scale * e * m * y * (1 - y))
	}
	return sum / float64(count)
}

// backward back-propagates nw.dy through time and stores the gradient of
// every parameter. It overwrites nw.z with dL/dz.
func (nw *network[F]) backward() {
	n, b, nOut := nw.n, nw.b, nw.nOut
	rows := nw.t * b
	step := b * n

	// The transposes are taken once here, so the T per-step products
	// below are plain row-major GEMMs.
	transpose(nw.wrecT, nw.wrec, n, n)
	transpose(nw.woutT, nw.wout, n, nOut)

	nw.blas.gemm(true, false, n, nOut, rows, 1, nw.r, n, nw.dy, nOut, 0, nw.gwout, nOut)
	colSums(nw.gbout, nw.dy[:rows*nOut])
	nw.blas.gemm(false, false, rows, n, nOut, 1, nw.dy, nOut, nw.woutT, n, 0, nw.dr, n)

	dz := nw.z
	keep := 1 - nw.alpha
	for t := nw.t - 1; t >= 0; t-- {
		drt := nw.dr[t*step : (t+1)*step]
		dft := nw.df[t*step : (t+1)*step]
		dzt := dz[t*step : (t+1)*step]
		if t == 0 {
			for i := range dzt {
				dzt[i] = drt[i] * nw.alpha * dft[i]
			}
			break
		}
		prev := nw.dr[(t-1)*step : t*step]
		done := 0
		if nw.vectorised() > 0 {
			done = step &^ 7
			kernel.LeakyBackward(f32(drt), f32(dft), f32(dzt), f32(prev), done, float32(nw.alpha), float32(keep))
		}
		for i := done; i < step; i++ {
			dzt[i] = drt[i] * nw.alpha * dft[i]
			prev[i] += keep * drt[i]
		}
		nw.blas.gemm(false, false, b, n, n, 1, dzt, n, nw.wrecT, n, 1, prev, n)
	}

	if nw.t > 1 {
		nw.blas.gemm(true, false, n, n, rows-b, 1, nw.r, n, dz[step:rows*n], n, 0, nw.gwrec, n)
	} else {
		clear(nw.gwrec)
	}
	nw.blas.gemm(true, false, nw.nIn, n, rows, 1, nw.x, nw.nIn, dz, n, 0, nw.gwin, n)
	colSums(nw.gbrec, dz[:rows*n])
}

// transpose sets dst (cols × rows) to the transpose of the row-major
// rows × cols matrix src.
func transpose[F float](dst, src []F, rows, cols int) {
	for i := range rows {
		for j, v := range src[i*cols : (i+1)*cols] {
			dst[j*rows+i] = v
		}
	}
}

// colSums sets dst[j] to the sum of column j of the row-major matrix m with
// len(dst) columns.
func colSums[F float](dst, m []F) {
	clear(dst)
	cols := len(dst)
	for row := 0; row < len(m); row += cols {
		for j, v := range m[row : row+cols] {
			dst[j] += v
		}
	}
}

// softplusTo sets r = log(1+e^z) and df = sigmoid(z), both computed from one
// exponential e^{-|z|}.
func softplusTo[F float](r, df, z []F) {
	for j, v := range z {
		x := float64(v)
		e := math.Exp(-math.Abs(x))
		r[j] = F(math.Max(x, 0) + math.Log1p(e))
		if x >= 0 {
			df[j] = F(1 / (1 + e))
		} else {
			df[j] = F(e / (1 + e))
		}
	}
}

func reluTo[F float](r, df, z []F) {
	for j, v := range z {
		if v > 0 {
			r[j], df[j] = v, 1
		} else {
			r[j], df[j] = 0, 0
		}
	}
}

func sigmoidInPlace[F float](y []F) {
	for i, v := range y {
		x := float64(v)
		if x >= 0 {
			y[i] = F(1 / (1 + math.Exp(-x)))
		} else {
			e := math.Exp(x)
			y[i] = F(e / (1 + e))
		}
	}
}
