//go:build amd64

package kernel

import "golang.org/x/sys/cpu"

// Available reports whether the CPU runs the kernels (AVX2 and FMA). Tests
// set it to false to run the scalar and gonum paths that other CPUs take.
var Available = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// Kernel4x16 adds the product of a 4×k block of A and a k×16 block of B to
// the 4×16 block of C at c (row stride ldc). Entry (i, p) of the A block is
// at a[i·aRow + p·aK], and the B block starts at b (row stride ldb).
// Strides are in elements, and k must be at least 1. Each entry of C sums
// its k products in order.
//
//go:noescape
func Kernel4x16(k int, a *float32, aRow, aK int, b *float32, ldb int, c *float32, ldc int)

// Kernel6x16 is Kernel4x16 for a 6×16 block of C.
//
//go:noescape
func Kernel6x16(k int, a *float32, aRow, aK int, b *float32, ldb int, c *float32, ldc int)

// Kernel4x8D is Kernel4x16 for float64 and a 4×8 block of C.
//
//go:noescape
func Kernel4x8D(k int, a *float64, aRow, aK int, b *float64, ldb int, c *float64, ldc int)

// Kernel6x8D is Kernel4x16 for float64 and a 6×8 block of C.
//
//go:noescape
func Kernel6x8D(k int, a *float64, aRow, aK int, b *float64, ldb int, c *float64, ldc int)

// Softplus sets r[i] = ln(1+e^{z[i]}) and df[i] = sigmoid(z[i]) for i < n,
// 8 lanes at a time in float32 arithmetic, to about 2e-7 relative. n must
// be a multiple of 8. A NaN in z gives NaN in r. Below z = -87 the exponential
// is held at e^-87.
//
//go:noescape
func Softplus(z, r, df *float32, n int)

// LeakySoftplus sets, with u = z[i] + bias[i], r[i] = keep·prev[i] +
// alpha·ln(1+e^u) and df[i] = sigmoid(u) for i < n: one time step of the
// leaky softplus RNN on one row. n must be a multiple of 8.
//
//go:noescape
func LeakySoftplus(z, bias, prev, r, df *float32, n int, alpha, keep float32)

// LeakyBackward sets dz[i] = alpha·dr[i]·df[i] and adds keep·dr[i] to
// prevDr[i] for i < n: one time step of BPTT through the leak. n must be a
// multiple of 8.
//
//go:noescape
func LeakyBackward(dr, df, dz, prevDr *float32, n int, alpha, keep float32)

// BoxMuller sets out[i] and out[pairs+i], for i < pairs, to std times two
// independent standard normal numbers made by the Box–Muller transform from
// the uniform bits bits[i] (radius) and bits[pairs+i] (angle), 24 bits each.
// The radius is at most sqrt(48 ln 2) ≈ 5.77, so draws beyond 5.77 standard
// deviations (probability 8e-9) do not occur. pairs must be a multiple of 8.
//
//go:noescape
func BoxMuller(bits *uint32, out *float32, pairs int, std float32)

// Sigmoid sets y[i] = 1/(1+e^{-y[i]}) for i < n; n must be a multiple of 8.
//
//go:noescape
func Sigmoid(y *float32, n int)
