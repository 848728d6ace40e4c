//go:build !amd64

package kernel

// Available is false: the kernels are written for amd64. It is a variable,
// as on amd64, so tests can switch the kernels off on any architecture.
var Available = false

// Kernel4x16 does nothing on this architecture.
func Kernel4x16(k int, a *float32, aRow, aK int, b *float32, ldb int, c *float32, ldc int) {}

// Kernel6x16 does nothing on this architecture.
func Kernel6x16(k int, a *float32, aRow, aK int, b *float32, ldb int, c *float32, ldc int) {}

// Kernel4x8D does nothing on this architecture.
func Kernel4x8D(k int, a *float64, aRow, aK int, b *float64, ldb int, c *float64, ldc int) {}

// Kernel6x8D does nothing on this architecture.
func Kernel6x8D(k int, a *float64, aRow, aK int, b *float64, ldb int, c *float64, ldc int) {}

// Softplus does nothing on this architecture.
func Softplus(z, r, df *float32, n int) {}

// LeakySoftplus does nothing on this architecture.
func LeakySoftplus(z, bias, prev, r, df *float32, n int, alpha, keep float32) {}

// LeakyBackward does nothing on this architecture.
func LeakyBackward(dr, df, dz, prevDr *float32, n int, alpha, keep float32) {}

// BoxMuller does nothing on this architecture.
func BoxMuller(bits *uint32, out *float32, pairs int, std float32) {}

// Sigmoid does nothing on this architecture.
func Sigmoid(y *float32, n int) {}
