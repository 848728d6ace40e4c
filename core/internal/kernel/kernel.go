// Package kernel holds the AVX2/FMA assembly kernels of the trainer: GEMM micro-kernels for float32 and float64, and vectorised
// softplus, leak, sigmoid and Box–Muller noise for float32.
// It is a package of its own because Go assembly cannot sit in a package
// that uses cgo, as core does in its openblas build.
//
// Callers must check Available before calling any kernel; on CPUs or
// architectures without AVX2 and FMA the kernels do nothing.
package kernel
