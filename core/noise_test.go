package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/modsweep/modsweep/core/internal/kernel"
)

func TestNoiseIsGaussian(t *testing.T) {
	paths := map[string]func(bits []uint32, out []float32, pairs int, std float32){
		"scalar": boxMullerScalar,
	}
	if kernel.Available {
		paths["avx2"] = func(bits []uint32, out []float32, pairs int, std float32) {
			kernel.BoxMuller(&bits[0], &out[0], pairs, std)
		}
	}
	for name, boxMuller := range paths {
		t.Run(name, func(t *testing.T) {
			const pairs = 100000
			rng := rand.New(rand.NewPCG(3, 4))
			bits := make([]uint32, 2*pairs)
			for i := range bits {
				bits[i] = rng.Uint32()
			}
			out := make([]float32, 2*pairs)
			boxMuller(bits, out, pairs, 2)
			checkStandardNormal(t, out, 2)
		})
	}
}

func TestNoiseKernelMatchesScalar(t *testing.T) {
	if !kernel.Available {
		t.Skip("no AVX2/FMA kernel in this build or on this CPU")
	}
	const pairs = 4096
	rng := rand.New(rand.NewPCG(5, 6))
	bits := make([]uint32, 2*pairs)
	for i := range bits {
		bits[i] = rng.Uint32()
	}
	// The extreme inputs: u1 = 2^-24 (largest radius), u1 = 1, and angles
	// at the quadrant boundaries.
	bits[0], bits[1], bits[pairs], bits[pairs+1] = 0, 0xffffffff, 0, 0x40000000
	want := make([]float32, 2*pairs)
	got := make([]float32, 2*pairs)
	boxMullerScalar(bits, want, pairs, 1)
	kernel.BoxMuller(&bits[0], &got[0], pairs, 1)
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 2e-6*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("draw %d: kernel %v, scalar %v", i, got[i], want[i])
		}
	}
}

func TestNoiseFillsOddLengths(t *testing.T) {
	g := noiseGen{src: rand.NewPCG(7, 8)}
	for _, n := range []int{1, 15, 16, 17, 1000, 2*noiseChunk + 3} {
		dst := make([]float32, n+1)
		dst[n] = 42
		g.fill(dst[:n], 1)
		if dst[n] != 42 {
			t.Errorf("fill of %d values wrote past the end", n)
		}
		if n > 1 && dst[0] == dst[n-1] {
			t.Errorf("fill of %d values: first and last draw equal (%v)", n, dst[0])
		}
	}
}

// checkStandardNormal checks the mean, variance and Kolmogorov–Smirnov
// distance of x against N(0, std²).
func checkStandardNormal(t *testing.T, draws []float32, std float64) {
	t.Helper()
	n := float64(len(draws))
	x := make([]float64, len(draws))
	sum, sumSq := 0.0, 0.0
	for i, v := range draws {
		x[i] = float64(v) / std
		sum += x[i]
		sumSq += x[i] * x[i]
	}
	mean := sum / n
	variance := sumSq/n - mean*mean
	if math.Abs(mean) > 5/math.Sqrt(n) {
		t.Errorf("mean %.5f, want 0 within %.5f", mean, 5/math.Sqrt(n))
	}
	if math.Abs(variance-1) > 0.01 {
		t.Errorf("variance %.5f, want 1 within 0.01", variance)
	}
	// The 0.1% critical value of the Kolmogorov–Smirnov distance for n
	// draws is 1.95/√n.
	slices.Sort(x)
	ks := 0.0
	for i, v := range x {
		cdf := 0.5 * math.Erfc(-v/math.Sqrt2)
		ks = math.Max(ks, math.Max(math.Abs(cdf-float64(i)/n), math.Abs(cdf-float64(i+1)/n)))
	}
	if ks > 1.95/math.Sqrt(n) {
		t.Errorf("Kolmogorov–Smirnov distance %.5f, want below %.5f", ks, 1.95/math.Sqrt(n))
	}
}
