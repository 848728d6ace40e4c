package sweep

import (
	"fmt"
	"math"
	"slices"
)

// Objective is one axis of a Pareto front.
type Objective struct {
	Name     string
	Maximize bool
	Value    func(*Metrics) float64
}

// The three objectives of the frontier.
var (
	ObjPerformance   = Objective{Name: "performance", Maximize: true, Value: func(m *Metrics) float64 { return m.Performance }}
	ObjActiveNeurons = Objective{Name: "active_neurons", Value: func(m *Metrics) float64 { return m.ActiveNeurons }}
	ObjWiringLength  = Objective{Name: "wiring_length", Value: func(m *Metrics) float64 { return m.WiringLength }}
)

// Objective sets: the frontier and its two 2-D projections.
var (
	Objectives3D        = []Objective{ObjPerformance, ObjActiveNeurons, ObjWiringLength}
	PerfVsActiveNeurons = []Objective{ObjPerformance, ObjActiveNeurons}
	PerfVsWiringLength  = []Objective{ObjPerformance, ObjWiringLength}
)

// Fronts ranks the records by non-dominated sorting over maximum
// performance, minimum active neurons and minimum wiring length: rank 1 is
// the Pareto front, rank 2 the front of the rest, and so on. A point
// dominates another only if it is no worse in every objective and strictly
// better in at least one, so equal points share a front. Records that did
// not succeed, lack metrics, have a NaN or infinite objective, or repeat an
// earlier id are left out and listed with the reason.
func Fronts(points []Record) (ranks map[string]int, excluded []Excluded) {
	return FrontsOn(points, Objectives3D)
}

// FrontsOn ranks the records as Fronts does, over the given objectives.
func FrontsOn(points []Record, objectives []Objective) (ranks map[string]int, excluded []Excluded) {
	ids, vectors, excluded := objectiveVectors(points, objectives)
	ranks = make(map[string]int, len(ids))
	for i, rank := range nonDominatedRanks(vectors) {
		ranks[ids[i]] = rank
	}
	return ranks, excluded
}

// objectiveVectors returns, for every usable record, its id and its
// objectives turned into values to minimise (maximised ones negated).
func objectiveVectors(points []Record, objectives []Objective) ([]string, [][]float64, []Excluded) {
	var ids []string
	var vectors [][]float64
	var excluded []Excluded
	seen := map[string]bool{}
	for _, r := range points {
		if seen[r.ID] {
			excluded = append(excluded, Excluded{ID: r.ID, Reason: "duplicate record of the same trial id"})
			continue
		}
		seen[r.ID] = true
		if reason := unusable(r, objectives); reason != "" {
			excluded = append(excluded, Excluded{ID: r.ID, Reason: reason})
			continue
		}
		ids = append(ids, r.ID)
		vectors = append(vectors, minimizedVector(r.Metrics, objectives))
	}
	return ids, vectors, excluded
}

// unusable returns why a record cannot be placed on a front, or "".
func unusable(r Record, objectives []Objective) string {
	switch {
	case r.State == StateFailed && r.Error != "":
		return "failed: " + r.Error
	case r.State != StateSucceeded:
		return "state is " + r.State + ", not succeeded"
	case r.Metrics == nil:
		return "succeeded without recorded metrics"
	}
	for _, o := range objectives {
		if v := o.Value(r.Metrics); math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprintf("%s is %v", o.Name, v)
		}
	}
	return ""
}

func minimizedVector(m *Metrics, objectives []Objective) []float64 {
	v := make([]float64, len(objectives))
	for i, o := range objectives {
		v[i] = o.Value(m)
		if o.Maximize {
			v[i] = -v[i]
		}
	}
	return v
}

// dominates reports whether a is no worse than b in every objective and
// strictly better in at least one, all objectives minimised.
func dominates(a, b []float64) bool {
	better := false
	for i := range a {
		if a[i] > b[i] {
			return false
		}
		if a[i] < b[i] {
			better = true
		}
	}
	return better
}

// nonDominatedRanks returns the 1-based front rank of every vector. The
// rank of a point is one more than the largest rank among the points that
// dominate it, which equals the front found by peeling off non-dominated
// sets. A dominating point is lexicographically smaller, so one pass in
// lexicographic order visits every dominator before the points it
// dominates. It takes O(m·n²) time and O(n) memory for n vectors of m
// objectives.
func nonDominatedRanks(vectors [][]float64) []int {
	order := make([]int, len(vectors))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return slices.Compare(vectors[a], vectors[b]) })

	ranks := make([]int, len(vectors))
	for k, i := range order {
		rank := 1
		for _, j := range order[:k] {
			if ranks[j] >= rank && dominates(vectors[j], vectors[i]) {
				rank = ranks[j] + 1
			}
		}
		ranks[i] = rank
	}
	return ranks
}
