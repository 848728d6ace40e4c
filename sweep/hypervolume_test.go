package sweep

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestHypervolumeHandComputed(t *testing.T) {
	ref := []float64{1, 1, 1}
	cases := []struct {
		name   string
		points [][]float64
		want   float64
	}{
		{"empty", nil, 0},
		{"one point", [][]float64{{0.5, 0.5, 0.5}}, 0.125},
		{"origin fills the cube", [][]float64{{0, 0, 0}}, 1},
		// Boxes 0.5·1·1 and 1·0.5·1 overlap in 0.5·0.5·1.
		{"two points", [][]float64{{0.5, 0, 0}, {0, 0.5, 0}}, 0.75},
		// Union of 0.5·1·1, 1·0.5·1 and 1·1·0.5 by inclusion-exclusion:
		// 1.5 - 3·0.25 + 0.125.
		{"three points", [][]float64{{0.5, 0, 0}, {0, 0.5, 0}, {0, 0, 0.5}}, 0.875},
		{"dominated point adds nothing", [][]float64{{0.5, 0.5, 0.5}, {0.6, 0.7, 0.5}}, 0.125},
		{"duplicate adds nothing", [][]float64{{0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}}, 0.125},
		{"point on the reference adds nothing", [][]float64{{0.5, 0.5, 0.5}, {1, 0, 0}}, 0.125},
		{"point beyond the reference adds nothing", [][]float64{{2, 0, 0}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Hypervolume(c.points, ref)
			if math.Abs(got-c.want) > 1e-12 {
				t.Errorf("Hypervolume = %v, want %v", got, c.want)
			}
		})
	}
}

func TestHypervolumeTwoDimensions(t *testing.T) {
	// Boxes of (1, 3) and (2, 1) under reference (4, 4): 3·1 + 2·3 - 2·1.
	got := Hypervolume([][]float64{{1, 3}, {2, 1}}, []float64{4, 4})
	if got != 7 {
		t.Errorf("Hypervolume = %v, want 7", got)
	}
}

// TestHypervolumeMonteCarlo checks random fronts against the fraction of
// random samples that some point dominates.
func TestHypervolumeMonteCarlo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 5 {
		points := make([][]float64, 2+rng.IntN(8))
		for i := range points {
			points[i] = []float64{rng.Float64(), rng.Float64(), rng.Float64()}
		}
		const samples = 200000
		hits := 0
		for range samples {
			s := []float64{rng.Float64(), rng.Float64(), rng.Float64()}
			for _, p := range points {
				if p[0] <= s[0] && p[1] <= s[1] && p[2] <= s[2] {
					hits++
					break
				}
			}
		}
		estimate := float64(hits) / samples
		got := Hypervolume(points, []float64{1, 1, 1})
		if math.Abs(got-estimate) > 0.01 {
			t.Errorf("case %d: Hypervolume = %.4f, Monte Carlo estimate %.4f", trial, got, estimate)
		}
	}
}

// BenchmarkHypervolumeFront200 times a 3-D front of 200 mutually
// non-dominated points on the plane x + y + z = 1.
func BenchmarkHypervolumeFront200(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	points := make([][]float64, 200)
	for i := range points {
		x, y := rng.Float64(), rng.Float64()
		if x+y > 1 {
			x, y = 1-x, 1-y
		}
		points[i] = []float64{x, y, 1 - x - y}
	}
	ref := []float64{1.1, 1.1, 1.1}
	for b.Loop() {
		Hypervolume(points, ref)
	}
}
