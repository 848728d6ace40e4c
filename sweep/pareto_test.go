package sweep

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randomRecords returns n succeeded records whose measures come from small
// sets of values, so ties and exact duplicates are common.
func randomRecords(rng *rand.Rand, n int) []Record {
	records := make([]Record, n)
	for i := range records {
		records[i] = Record{
			ID:          fmt.Sprintf("t%03d", i),
			State:       StateSucceeded,
			Regularizer: "l1",
			Metrics: &Metrics{
				Performance:   float64(rng.IntN(5)) / 4,
				ActiveNeurons: float64(rng.IntN(6)),
				WiringLength:  float64(rng.IntN(4)),
			},
		}
	}
	return records
}

// oracleRanks peels fronts by brute force: a point is on the current front
// if no remaining point dominates it.
func oracleRanks(records []Record) map[string]int {
	vectors := map[string][]float64{}
	remaining := map[string]bool{}
	for _, r := range records {
		vectors[r.ID] = []float64{-r.Metrics.Performance, r.Metrics.ActiveNeurons, r.Metrics.WiringLength}
		remaining[r.ID] = true
	}
	ranks := map[string]int{}
	for rank := 1; len(remaining) > 0; rank++ {
		var front []string
		for id := range remaining {
			dominated := false
			for other := range remaining {
				if bruteDominates(vectors[other], vectors[id]) {
					dominated = true
					break
				}
			}
			if !dominated {
				front = append(front, id)
			}
		}
		for _, id := range front {
			ranks[id] = rank
			delete(remaining, id)
		}
	}
	return ranks
}

// bruteDominates restates the dominance rule independently of dominates.
func bruteDominates(a, b []float64) bool {
	noWorse, better := 0, 0
	for i := range a {
		if a[i] <= b[i] {
			noWorse++
		}
		if a[i] < b[i] {
			better++
		}
	}
	return noWorse == len(a) && better > 0
}

func TestFrontsProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		records := randomRecords(rng, 1+rng.IntN(40))
		ranks, excluded := Fronts(records)
		if len(excluded) != 0 {
			t.Fatalf("case %d: %d records excluded, want none", trial, len(excluded))
		}
		want := oracleRanks(records)
		vec := func(r Record) []float64 {
			return []float64{-r.Metrics.Performance, r.Metrics.ActiveNeurons, r.Metrics.WiringLength}
		}
		for _, r := range records {
			if ranks[r.ID] != want[r.ID] {
				t.Errorf("case %d: rank of %s = %d, oracle says %d", trial, r.ID, ranks[r.ID], want[r.ID])
			}
		}
		for _, p := range records {
			if ranks[p.ID] == 1 {
				for _, q := range records {
					if bruteDominates(vec(q), vec(p)) {
						t.Errorf("case %d: front point %s is dominated by %s", trial, p.ID, q.ID)
					}
				}
				continue
			}
			dominatedByFront := false
			for _, q := range records {
				if ranks[q.ID] == 1 && bruteDominates(vec(q), vec(p)) {
					dominatedByFront = true
				}
			}
			if !dominatedByFront {
				t.Errorf("case %d: %s (rank %d) is off the front but no front point dominates it", trial, p.ID, ranks[p.ID])
			}
		}
	}
}

func TestFrontsEqualPointsShareFront(t *testing.T) {
	m := Metrics{Performance: 0.9, ActiveNeurons: 10, WiringLength: 3}
	worse := Metrics{Performance: 0.9, ActiveNeurons: 11, WiringLength: 3}
	records := []Record{
		{ID: "a", State: StateSucceeded, Metrics: &m},
		{ID: "b", State: StateSucceeded, Metrics: &m},
		{ID: "c", State: StateSucceeded, Metrics: &worse},
	}
	ranks, _ := Fronts(records)
	if ranks["a"] != 1 || ranks["b"] != 1 {
		t.Errorf("equal points have ranks %d and %d, want both 1", ranks["a"], ranks["b"])
	}
	if ranks["c"] != 2 {
		t.Errorf("point worse in one objective has rank %d, want 2", ranks["c"])
	}
}

func TestFrontsExclusions(t *testing.T) {
	good := &Metrics{Performance: 0.5, ActiveNeurons: 4, WiringLength: 1}
	records := []Record{
		{ID: "ok", State: StateSucceeded, Metrics: good},
		{ID: "failed", State: StateFailed, Error: "loss is NaN at step 12"},
		{ID: "pending", State: StatePending},
		{ID: "nometrics", State: StateSucceeded},
		{ID: "nan", State: StateSucceeded, Metrics: &Metrics{Performance: math.NaN(), ActiveNeurons: 1, WiringLength: 1}},
		{ID: "inf", State: StateSucceeded, Metrics: &Metrics{Performance: 1, ActiveNeurons: 1, WiringLength: math.Inf(1)}},
		{ID: "ok", State: StateSucceeded, Metrics: good},
	}
	ranks, excluded := Fronts(records)
	if len(ranks) != 1 || ranks["ok"] != 1 {
		t.Errorf("ranks = %v, want only ok at rank 1", ranks)
	}
	want := map[string]string{
		"failed":    "failed: loss is NaN at step 12",
		"pending":   "state is pending, not succeeded",
		"nometrics": "succeeded without recorded metrics",
		"nan":       "performance is NaN",
		"inf":       "wiring_length is +Inf",
		"ok":        "duplicate record of the same trial id",
	}
	if len(excluded) != len(want) {
		t.Fatalf("excluded %d records, want %d: %v", len(excluded), len(want), excluded)
	}
	for _, e := range excluded {
		if want[e.ID] != e.Reason {
			t.Errorf("reason for %s = %q, want %q", e.ID, e.Reason, want[e.ID])
		}
	}
}

func TestFrontsProjection(t *testing.T) {
	records := []Record{
		{ID: "dense", State: StateSucceeded, Metrics: &Metrics{Performance: 0.9, ActiveNeurons: 60, WiringLength: 10}},
		{ID: "sparse", State: StateSucceeded, Metrics: &Metrics{Performance: 0.8, ActiveNeurons: 20, WiringLength: 30}},
	}
	active, _ := FrontsOn(records, PerfVsActiveNeurons)
	if active["dense"] != 1 || active["sparse"] != 1 {
		t.Errorf("performance vs active neurons ranks = %v, want both 1", active)
	}
	wiringOnly, _ := FrontsOn(records, []Objective{ObjWiringLength})
	if wiringOnly["dense"] != 1 || wiringOnly["sparse"] != 2 {
		t.Errorf("wiring length ranks = %v, want dense 1 and sparse 2", wiringOnly)
	}
}

func BenchmarkFronts1000(b *testing.B) {
	records := randomRecords(rand.New(rand.NewPCG(3, 4)), 1000)
	for b.Loop() {
		Fronts(records)
	}
}

func BenchmarkFronts10000(b *testing.B) {
	records := randomRecords(rand.New(rand.NewPCG(3, 4)), 10000)
	for b.Loop() {
		Fronts(records)
	}
}
