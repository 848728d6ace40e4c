package sweep

import (
	"math"
	"slices"
)

// Hypervolume returns the volume of the region that the points dominate
// and the reference point bounds, all objectives minimised. Points that
// are not strictly better than ref in every objective add nothing, and so
// do dominated points. The computation is exact: it slices the space along
// the last objective and recurses on the rest, which takes O(n^d log n)
// time for n points in d dimensions, fine for fronts of a few hundred
// points in three dimensions.
func Hypervolume(points [][]float64, ref []float64) float64 {
	var inside [][]float64
	for _, p := range points {
		if len(p) == len(ref) && strictlyBelow(p, ref) {
			inside = append(inside, p)
		}
	}
	if len(ref) == 0 || len(inside) == 0 {
		return 0
	}
	return sliceVolume(inside, ref)
}

func strictlyBelow(p, ref []float64) bool {
	for i := range p {
		if !(p[i] < ref[i]) {
			return false
		}
	}
	return true
}

// sliceVolume computes the hypervolume of points that all lie strictly
// below ref.
func sliceVolume(points [][]float64, ref []float64) float64 {
	d := len(ref)
	switch d {
	case 1:
		best := math.Inf(1)
		for _, p := range points {
			best = min(best, p[0])
		}
		return ref[0] - best
	case 2:
		return sweepArea(points, ref)
	}

	sorted := slices.Clone(points)
	slices.SortFunc(sorted, func(a, b []float64) int { return compareFloat(a[d-1], b[d-1]) })

	// Between two consecutive values of the last objective, the slab is
	// dominated by the projections of every point at or below the lower one.
	volume := 0.0
	var projected [][]float64
	for i, p := range sorted {
		projected = append(projected, p[:d-1])
		upper := ref[d-1]
		if i+1 < len(sorted) {
			upper = sorted[i+1][d-1]
		}
		if height := upper - p[d-1]; height > 0 {
			volume += height * sliceVolume(projected, ref[:d-1])
		}
	}
	return volume
}

// sweepArea computes the hypervolume in two dimensions: sorted by the
// first objective, each point adds the strip up to the next point's first
// objective, as high as the lowest second objective seen so far.
func sweepArea(points [][]float64, ref []float64) float64 {
	sorted := slices.Clone(points)
	slices.SortFunc(sorted, func(a, b []float64) int { return compareFloat(a[0], b[0]) })
	area := 0.0
	lowest := math.Inf(1)
	for i, p := range sorted {
		lowest = min(lowest, p[1])
		right := ref[0]
		if i+1 < len(sorted) {
			right = sorted[i+1][0]
		}
		area += (right - p[0]) * (ref[1] - lowest)
	}
	return area
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	default:
		return 0
	}
}
