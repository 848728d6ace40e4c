//go:build !amd64 || openblas

package core

// haveKernel is false: the SGEMM kernel is written for amd64, and the
// openblas build, which uses cgo, cannot contain Go assembly.
const haveKernel = false

func kernel4x16(k int, a *float32, aRow, aK int, b *float32, ldb int, c *float32, ldc int) {}

func softplusAVX2(z, r, df *float32, n int) {}

func sigmoidAVX2(y *float32, n int) {}
