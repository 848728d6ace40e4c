//go:build amd64 && !openblas

package core

import "golang.org/x/sys/cpu"

// haveKernel reports whether the CPU runs kernel4x16 (AVX2 and FMA).
var haveKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel4x16 adds to the 4×16 block of C at c (row stride ldc) the product
// of the 4×k block of A, whose entry (i, p) is at a[i·aRow + p·aK], with the
// k×16 block of B at b (row stride ldb). k must be at least 1.
//
//go:noescape
func kernel4x16(k int, a *float32, aRow, aK int, b *float32, ldb int, c *float32, ldc int)
