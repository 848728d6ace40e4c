package sweep

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// HypervolumeMargin scales the worst observed active neuron count and
// wiring length into the hypervolume reference point, so that the worst
// trials still add a sliver of volume.
const HypervolumeMargin = 1.1

// Reference is the hypervolume reference point in measure units.
type Reference struct {
	Performance   float64 // always 0
	ActiveNeurons float64 // HypervolumeMargin × the largest count observed (1 if none is > 0)
	WiringLength  float64 // HypervolumeMargin × the largest length observed (1 if none is > 0)
}

// normalize maps metrics into the unit cube of the hypervolume, all three
// minimised: 1 - performance, active neurons and wiring length divided by
// the reference. The reference point maps to (1, 1, 1), so a volume is the
// fraction of the cube dominated and lies in [0, 1].
func (ref Reference) normalize(m *Metrics) []float64 {
	return []float64{1 - m.Performance, m.ActiveNeurons / ref.ActiveNeurons, m.WiringLength / ref.WiringLength}
}

// HypervolumeRow compares one regularizer's trade-off.
type HypervolumeRow struct {
	Regularizer string
	Trials      int     // trials that could be placed on the frontier
	FrontSize   int     // trials on the regularizer's own front
	Volume      float64 // normalised hypervolume of those trials
	Groups      int     // seed-aggregated groups
	// MedianVolume is the normalised hypervolume of the groups' medians,
	// which a lucky seed cannot inflate.
	MedianVolume float64
}

// Thresholds are the measure thresholds that some trials recorded.
type Thresholds struct {
	ThetaN        float64
	ThetaW        float64
	ThetaActivity float64
	Trials        int
}

// Report is everything that `sweep report` shows about a sweep.
type Report struct {
	Sweep       string
	GeneratedAt time.Time
	Counts      map[string]int // trials per state; every state in States is present
	OldestLease time.Duration  // age of the oldest current lease, 0 when none
	Records     []Record       // sorted by regularizer, lambda, axes, seed and id

	Rank              map[string]int // front rank over all usable trials
	RankInRegularizer map[string]int // front rank among the trials of the same regularizer
	Front             []string       // ids of rank 1, in record order
	RegularizerFronts map[string][]string
	Regularizers      []string // regularizers present, in the order none, l1, bimt
	FrontPerfActive   []string // 2-D front of performance and active neurons
	FrontPerfWiring   []string // 2-D front of performance and wiring length
	Excluded          []Excluded

	Groups     []Group  // seed aggregates
	GroupFront []string // keys of the groups of rank 1

	Reference   Reference
	Hypervolume []HypervolumeRow
	Thresholds  []Thresholds
}

// BuildReport summarises the records of one sweep at time now.
func BuildReport(sweepName string, records []Record, now time.Time) *Report {
	r := &Report{
		Sweep:             sweepName,
		GeneratedAt:       now.UTC(),
		Counts:            map[string]int{},
		Records:           slices.Clone(records),
		RankInRegularizer: map[string]int{},
		RegularizerFronts: map[string][]string{},
	}
	slices.SortFunc(r.Records, compareRecords)
	for _, s := range States {
		r.Counts[s] = 0
	}
	for _, rec := range r.Records {
		r.Counts[rec.State]++
		if rec.State == StateLeased {
			r.OldestLease = max(r.OldestLease, rec.LeaseAge)
		}
		if !slices.Contains(r.Regularizers, rec.Regularizer) {
			r.Regularizers = append(r.Regularizers, rec.Regularizer)
		}
	}
	slices.SortFunc(r.Regularizers, compareRegularizers)

	r.Rank, r.Excluded = Fronts(r.Records)
	r.Front = rankOne(r.Records, r.Rank)
	for _, reg := range r.Regularizers {
		subset := r.recordsOf(reg)
		ranks, _ := Fronts(subset)
		for id, rank := range ranks {
			r.RankInRegularizer[id] = rank
		}
		r.RegularizerFronts[reg] = rankOne(subset, ranks)
	}
	ranks, _ := FrontsOn(r.Records, PerfVsActiveNeurons)
	r.FrontPerfActive = rankOne(r.Records, ranks)
	ranks, _ = FrontsOn(r.Records, PerfVsWiringLength)
	r.FrontPerfWiring = rankOne(r.Records, ranks)

	r.Groups = Aggregate(r.Records)
	for _, g := range r.Groups {
		if g.Rank == 1 {
			r.GroupFront = append(r.GroupFront, g.Key)
		}
	}
	r.computeHypervolumes()
	r.collectThresholds()
	return r
}

// Complete reports whether the sweep has trials and every one succeeded.
func (r *Report) Complete() bool {
	return len(r.Records) > 0 && r.Counts[StateSucceeded] == len(r.Records)
}

func (r *Report) recordsOf(regularizer string) []Record {
	var out []Record
	for _, rec := range r.Records {
		if rec.Regularizer == regularizer {
			out = append(out, rec)
		}
	}
	return out
}

func rankOne(records []Record, ranks map[string]int) []string {
	var ids []string
	for _, rec := range records {
		if ranks[rec.ID] == 1 && !slices.Contains(ids, rec.ID) {
			ids = append(ids, rec.ID)
		}
	}
	return ids
}

func compareRecords(a, b Record) int {
	if c := compareRegularizers(a.Regularizer, b.Regularizer); c != 0 {
		return c
	}
	if c := compareFloat(a.Lambda, b.Lambda); c != 0 {
		return c
	}
	if c := strings.Compare(axesKey(a.Axes), axesKey(b.Axes)); c != 0 {
		return c
	}
	if c := compareUint(a.Seed, b.Seed); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// computeHypervolumes sets the reference point from the worst usable
// trial of any regularizer, so the volumes of one report are comparable,
// and computes each regularizer's volume over its trials and over its
// groups' medians.
func (r *Report) computeHypervolumes() {
	var worstActive, worstWiring float64
	usable := map[string][]*Metrics{}
	for _, rec := range r.Records {
		if unusable(rec, Objectives3D) != "" {
			continue
		}
		worstActive = max(worstActive, rec.Metrics.ActiveNeurons)
		worstWiring = max(worstWiring, rec.Metrics.WiringLength)
		usable[rec.Regularizer] = append(usable[rec.Regularizer], rec.Metrics)
	}
	r.Reference = Reference{ActiveNeurons: 1, WiringLength: 1}
	if worstActive > 0 {
		r.Reference.ActiveNeurons = HypervolumeMargin * worstActive
	}
	if worstWiring > 0 {
		r.Reference.WiringLength = HypervolumeMargin * worstWiring
	}

	unit := []float64{1, 1, 1}
	for _, reg := range r.Regularizers {
		row := HypervolumeRow{Regularizer: reg, Trials: len(usable[reg]), FrontSize: len(r.RegularizerFronts[reg])}
		var points [][]float64
		for _, m := range usable[reg] {
			points = append(points, r.Reference.normalize(m))
		}
		row.Volume = Hypervolume(points, unit)

		points = points[:0]
		for _, g := range r.Groups {
			if g.Regularizer == reg {
				row.Groups++
				points = append(points, r.Reference.normalize(g.medians()))
			}
		}
		row.MedianVolume = Hypervolume(points, unit)
		r.Hypervolume = append(r.Hypervolume, row)
	}
}

func (r *Report) collectThresholds() {
	for _, rec := range r.Records {
		m := rec.Metrics
		if m == nil || (m.ThetaN == 0 && m.ThetaW == 0 && m.ThetaActivity == 0) {
			continue
		}
		i := slices.IndexFunc(r.Thresholds, func(t Thresholds) bool {
			return t.ThetaN == m.ThetaN && t.ThetaW == m.ThetaW && t.ThetaActivity == m.ThetaActivity
		})
		if i < 0 {
			r.Thresholds = append(r.Thresholds, Thresholds{ThetaN: m.ThetaN, ThetaW: m.ThetaW, ThetaActivity: m.ThetaActivity})
			i = len(r.Thresholds) - 1
		}
		r.Thresholds[i].Trials++
	}
}

// axisNames returns the grid axis names that any record carries, sorted.
func (r *Report) axisNames() []string {
	names := map[string]bool{}
	for _, rec := range r.Records {
		for name := range rec.Axes {
			names[name] = true
		}
	}
	return sortedKeys(names)
}

// Write renders the report as "table" (for people), "csv" (one row per
// trial) or "json" (the schema in the package documentation).
func (r *Report) Write(w io.Writer, format string) error {
	var err error
	switch format {
	case FormatTable, "":
		err = r.writeTable(w)
	case FormatCSV:
		err = r.writeCSV(w)
	case FormatJSON:
		err = r.writeJSON(w)
	default:
		return fmt.Errorf("report format %q is not supported: use table, csv or json", format)
	}
	if err != nil {
		return fmt.Errorf("write %s report of sweep %s: %w", format, r.Sweep, err)
	}
	return nil
}

// formatNumber prints x with prec decimals, and NaN or infinities as "-".
func formatNumber(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, x)
}
