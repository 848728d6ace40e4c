package sweep

import (
	"math"
	"slices"
	"strings"

	"github.com/modsweep/modsweep/core"
)

// Spread summarises one measure over the seeds of a group: the median and
// the range (minimum and maximum). NaN values are skipped; all three are
// NaN when no seed has a value.
type Spread struct {
	Median float64
	Min    float64
	Max    float64
}

// Group is the seed aggregate of the trials that share a regularizer, a
// lambda and every grid axis value.
type Group struct {
	Key         string // such as "l1 lambda=0.001 hidden=64"
	Regularizer string
	Lambda      float64
	Axes        map[string]string
	Trials      []string // ids of the seeds, in seed order

	Performance           Spread
	PerformanceMin        Spread
	ActiveNeurons         Spread
	ActiveNeuronsActivity Spread
	WiringLength          Spread
	WiringLengthWeighted  Spread
	DiagShare             Spread
	FinalLoss             Spread

	// Rank is the front rank of the group's medians of performance, active
	// neurons and wiring length among all groups.
	Rank int
}

// medians returns the group's median metrics, which the seed-aggregated
// front ranks.
func (g *Group) medians() *Metrics {
	return &Metrics{
		Performance:           g.Performance.Median,
		PerformanceMin:        g.PerformanceMin.Median,
		ActiveNeurons:         g.ActiveNeurons.Median,
		ActiveNeuronsActivity: g.ActiveNeuronsActivity.Median,
		WiringLength:          g.WiringLength.Median,
		WiringLengthWeighted:  g.WiringLengthWeighted.Median,
		DiagShare:             g.DiagShare.Median,
		FinalLoss:             g.FinalLoss.Median,
	}
}

// groupKey names the group of a record.
func groupKey(regularizer string, lambda float64, axes map[string]string) string {
	key := regularizer
	if regularizer != core.RegNone {
		key += " lambda=" + formatFloat(lambda)
	}
	if len(axes) > 0 {
		key += " " + axesKey(axes)
	}
	return key
}

// axesKey renders grid axis values as name=value pairs sorted by name.
func axesKey(axes map[string]string) string {
	parts := make([]string, 0, len(axes))
	for _, name := range sortedKeys(axes) {
		parts = append(parts, name+"="+axes[name])
	}
	return strings.Join(parts, " ")
}

// Aggregate groups the records that can be placed on the frontier by
// regularizer, lambda and grid axes, summarises each measure over seeds,
// and ranks the groups' medians by non-dominated sorting. Groups come in
// the order of regularizerOrder, then lambda, then key.
func Aggregate(records []Record) []Group {
	byKey := map[string]*Group{}
	members := map[string][]Record{}
	for _, r := range records {
		if unusable(r, Objectives3D) != "" {
			continue
		}
		key := groupKey(r.Regularizer, r.Lambda, r.Axes)
		if _, ok := byKey[key]; !ok {
			byKey[key] = &Group{Key: key, Regularizer: r.Regularizer, Lambda: r.Lambda, Axes: r.Axes}
		}
		members[key] = append(members[key], r)
	}

	groups := make([]Group, 0, len(byKey))
	for key, g := range byKey {
		rs := members[key]
		slices.SortFunc(rs, func(a, b Record) int { return compareUint(a.Seed, b.Seed) })
		for _, r := range rs {
			g.Trials = append(g.Trials, r.ID)
		}
		measure := func(value func(*Metrics) float64) Spread {
			values := make([]float64, 0, len(rs))
			for _, r := range rs {
				values = append(values, value(r.Metrics))
			}
			return spreadOf(values)
		}
		g.Performance = measure(func(m *Metrics) float64 { return m.Performance })
		g.PerformanceMin = measure(func(m *Metrics) float64 { return m.PerformanceMin })
		g.ActiveNeurons = measure(func(m *Metrics) float64 { return m.ActiveNeurons })
		g.ActiveNeuronsActivity = measure(func(m *Metrics) float64 { return m.ActiveNeuronsActivity })
		g.WiringLength = measure(func(m *Metrics) float64 { return m.WiringLength })
		g.WiringLengthWeighted = measure(func(m *Metrics) float64 { return m.WiringLengthWeighted })
		g.DiagShare = measure(func(m *Metrics) float64 { return m.DiagShare })
		g.FinalLoss = measure(func(m *Metrics) float64 { return m.FinalLoss })
		groups = append(groups, *g)
	}
	slices.SortFunc(groups, compareGroups)

	vectors := make([][]float64, len(groups))
	for i := range groups {
		vectors[i] = minimizedVector(groups[i].medians(), Objectives3D)
	}
	for i, rank := range nonDominatedRanks(vectors) {
		groups[i].Rank = rank
	}
	return groups
}

func compareGroups(a, b Group) int {
	if c := compareRegularizers(a.Regularizer, b.Regularizer); c != 0 {
		return c
	}
	if c := compareFloat(a.Lambda, b.Lambda); c != 0 {
		return c
	}
	return strings.Compare(a.Key, b.Key)
}

// compareRegularizers orders regularizers as core.Regularizers lists them,
// and unknown names after them by name.
func compareRegularizers(a, b string) int {
	ia, ib := regularizerIndex(a), regularizerIndex(b)
	if ia != ib {
		return ia - ib
	}
	return strings.Compare(a, b)
}

func regularizerIndex(name string) int {
	if i := slices.Index(core.Regularizers, name); i >= 0 {
		return i
	}
	return len(core.Regularizers)
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	default:
		return 0
	}
}

func spreadOf(values []float64) Spread {
	finite := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			finite = append(finite, v)
		}
	}
	if len(finite) == 0 {
		return Spread{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(finite)
	n := len(finite)
	median := finite[n/2]
	if n%2 == 0 {
		median = (finite[n/2-1] + finite[n/2]) / 2
	}
	return Spread{Median: median, Min: finite[0], Max: finite[n-1]}
}
