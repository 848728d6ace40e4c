package core

import (
	"math/rand/v2"
	"testing"

	"github.com/modsweep/modsweep/core/internal/kernel"
)

// TestFallbackPaths runs the numerical checks with the AVX2 kernels switched
// off, through the gonum BLAS and the scalar softplus, sigmoid and noise code
// that CPUs without AVX2 and FMA use.
func TestFallbackPaths(t *testing.T) {
	saved := kernel.Available
	kernel.Available = false
	t.Cleanup(func() { kernel.Available = saved })

	t.Run("gradients", func(t *testing.T) {
		checkFiniteDifferences(t, newFixedBatch(3, 20, 6, 33, 7, 3, false, true))
	})
	t.Run("float32", func(t *testing.T) { checkFloat32(t, 13) })
	t.Run("noise", func(t *testing.T) {
		g := noiseGen{src: rand.NewPCG(9, 10)}
		draws := make([]float32, 100001)
		g.fill(draws, 1.5)
		checkStandardNormal(t, draws, 1.5)
	})
}
