package task

import (
	"math"
	"testing"
)

// Accessors for the time-major batch layout.

func inputAt(b *Batch, t, i, channel int) float64 {
	return b.X[(t*b.B+i)*NumInputs+channel]
}

func targetAt(b *Batch, t, i, channel int) float64 {
	return b.Y[(t*b.B+i)*NumOutput+channel]
}

func maskAt(b *Batch, t, i, channel int) float64 {
	return b.Mask[(t*b.B+i)*NumOutput+channel]
}

func yLocAt(b *Batch, t, i int) float64 {
	return b.YLoc[t*b.B+i]
}

// ringInput returns the 32 units of ring r (0 or 1) of trial i at step t.
func ringInput(b *Batch, t, i, r int) []float64 {
	start := (t*b.B+i)*NumInputs + 1 + r*RingSize
	return b.X[start : start+RingSize]
}

// expectedBump computes the bump 0.8·s·exp(−(d/(π/8))²/2) of every ring
// unit for a stimulus at angle loc, independently of the package code.
func expectedBump(loc, strength float64) []float64 {
	out := make([]float64, RingSize)
	for k := range out {
		theta := 2 * math.Pi * float64(k) / 32
		d := math.Abs(loc - theta)
		for d > 2*math.Pi {
			d -= 2 * math.Pi
		}
		d = math.Min(d, 2*math.Pi-d)
		out[k] = strength * 0.8 * math.Exp(-math.Pow(d/(math.Pi/8), 2)/2)
	}
	return out
}

// mustGenerate generates a batch or stops the test.
func mustGenerate(t testing.TB, name string, seed, index uint64, batchSize int) *Batch {
	t.Helper()
	b, err := Generate(name, seed, index, batchSize)
	if err != nil {
		t.Fatalf("Generate(%q, %d, %d, %d): %v", name, seed, index, batchSize, err)
	}
	return b
}

// mustBuild builds a batch or stops the test.
func mustBuild(t testing.TB, name string, timing Timing, trials []Trial) *Batch {
	t.Helper()
	b, err := Build(name, timing, trials)
	if err != nil {
		t.Fatalf("Build(%q, %+v): %v", name, timing, err)
	}
	return b
}

func closeTo(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
