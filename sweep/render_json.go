package sweep

import (
	"encoding/json"
	"io"
	"math"
	"time"
)

// The JSON report; the package documentation describes every field.
type reportJSON struct {
	Sweep         string           `json:"sweep"`
	GeneratedAt   string           `json:"generated_at"`
	SchemaVersion int              `json:"schema_version"`
	Total         int              `json:"total"`
	Complete      bool             `json:"complete"`
	Counts        map[string]int   `json:"counts"`
	OldestLease   float64          `json:"oldest_lease_seconds"`
	Thresholds    []thresholdsJSON `json:"thresholds"`

	Trials                []trialJSON         `json:"trials"`
	Frontier              []string            `json:"frontier"`
	FrontierByRegularizer map[string][]string `json:"frontier_by_regularizer"`
	Frontier2D            map[string][]string `json:"frontier_2d"`
	Excluded              []excludedJSON      `json:"excluded"`

	SeedAggregated         []groupJSON     `json:"seed_aggregated"`
	SeedAggregatedFrontier []string        `json:"seed_aggregated_frontier"`
	Hypervolume            hypervolumeJSON `json:"hypervolume"`
}

type thresholdsJSON struct {
	ThetaN        float64 `json:"theta_n"`
	ThetaW        float64 `json:"theta_w"`
	ThetaActivity float64 `json:"theta_activity"`
	Trials        int     `json:"trials"`
}

type trialJSON struct {
	ID                string            `json:"id"`
	State             string            `json:"state"`
	Regularizer       string            `json:"regularizer"`
	Lambda            float64           `json:"lambda"`
	Seed              uint64            `json:"seed"`
	Attempts          int               `json:"attempts"`
	Axes              map[string]string `json:"axes"`
	Metrics           *metricsJSON      `json:"metrics"`
	Rank              int               `json:"rank,omitempty"`
	RankInRegularizer int               `json:"rank_in_regularizer,omitempty"`
	Error             string            `json:"error,omitempty"`
	LeaseAge          float64           `json:"lease_age_seconds,omitempty"`
}

type metricsJSON struct {
	Performance           *float64 `json:"performance"`
	PerformanceMin        *float64 `json:"performance_min"`
	ActiveNeurons         *float64 `json:"active_neurons"`
	ActiveNeuronsActivity *float64 `json:"active_neurons_activity"`
	WiringLength          *float64 `json:"wiring_length"`
	WiringLengthWeighted  *float64 `json:"wiring_length_weighted"`
	DiagShare             *float64 `json:"diag_share"`
	FinalLoss             *float64 `json:"final_loss"`
}

type excludedJSON struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

type spreadJSON struct {
	Median *float64 `json:"median"`
	Min    *float64 `json:"min"`
	Max    *float64 `json:"max"`
}

type groupJSON struct {
	Key                   string            `json:"key"`
	Regularizer           string            `json:"regularizer"`
	Lambda                float64           `json:"lambda"`
	Axes                  map[string]string `json:"axes"`
	Trials                []string          `json:"trials"`
	Rank                  int               `json:"rank"`
	Performance           spreadJSON        `json:"performance"`
	PerformanceMin        spreadJSON        `json:"performance_min"`
	ActiveNeurons         spreadJSON        `json:"active_neurons"`
	ActiveNeuronsActivity spreadJSON        `json:"active_neurons_activity"`
	WiringLength          spreadJSON        `json:"wiring_length"`
	WiringLengthWeighted  spreadJSON        `json:"wiring_length_weighted"`
	DiagShare             spreadJSON        `json:"diag_share"`
	FinalLoss             spreadJSON        `json:"final_loss"`
}

type hypervolumeJSON struct {
	Reference     referenceJSON        `json:"reference"`
	Normalization string               `json:"normalization"`
	ByRegularizer []hypervolumeRowJSON `json:"by_regularizer"`
}

type referenceJSON struct {
	Performance   float64 `json:"performance"`
	ActiveNeurons float64 `json:"active_neurons"`
	WiringLength  float64 `json:"wiring_length"`
}

type hypervolumeRowJSON struct {
	Regularizer  string  `json:"regularizer"`
	Trials       int     `json:"trials"`
	FrontSize    int     `json:"front_size"`
	Volume       float64 `json:"volume"`
	Groups       int     `json:"groups"`
	MedianVolume float64 `json:"median_volume"`
}

// hypervolumeNormalization states how the report scales the objectives.
const hypervolumeNormalization = "each objective is scaled to [0, 1] and minimised: 1 - performance, " +
	"active_neurons / reference.active_neurons and wiring_length / reference.wiring_length; " +
	"the reference is 1.1 times the worst value observed in this report, so volumes are comparable " +
	"between regularizers of one report but not between reports"

// number returns x for JSON, or nil (null) when x is NaN or infinite.
func number(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func spreadToJSON(s Spread) spreadJSON {
	return spreadJSON{Median: number(s.Median), Min: number(s.Min), Max: number(s.Max)}
}

func metricsToJSON(m *Metrics) *metricsJSON {
	if m == nil {
		return nil
	}
	return &metricsJSON{
		Performance:           number(m.Performance),
		PerformanceMin:        number(m.PerformanceMin),
		ActiveNeurons:         number(m.ActiveNeurons),
		ActiveNeuronsActivity: number(m.ActiveNeuronsActivity),
		WiringLength:          number(m.WiringLength),
		WiringLengthWeighted:  number(m.WiringLengthWeighted),
		DiagShare:             number(m.DiagShare),
		FinalLoss:             number(m.FinalLoss),
	}
}

func (r *Report) toJSON() reportJSON {
	out := reportJSON{
		Sweep:                 r.Sweep,
		GeneratedAt:           r.GeneratedAt.Format(time.RFC3339),
		SchemaVersion:         SchemaVersion,
		Total:                 len(r.Records),
		Complete:              r.Complete(),
		Counts:                r.Counts,
		OldestLease:           r.OldestLease.Seconds(),
		Thresholds:            []thresholdsJSON{},
		Trials:                []trialJSON{},
		Frontier:              nonNil(r.Front),
		FrontierByRegularizer: map[string][]string{},
		Frontier2D: map[string][]string{
			"performance_vs_active_neurons": nonNil(r.FrontPerfActive),
			"performance_vs_wiring_length":  nonNil(r.FrontPerfWiring),
		},
		Excluded:               []excludedJSON{},
		SeedAggregated:         []groupJSON{},
		SeedAggregatedFrontier: nonNil(r.GroupFront),
		Hypervolume: hypervolumeJSON{
			Reference:     referenceJSON{r.Reference.Performance, r.Reference.ActiveNeurons, r.Reference.WiringLength},
			Normalization: hypervolumeNormalization,
			ByRegularizer: []hypervolumeRowJSON{},
		},
	}
	for _, t := range r.Thresholds {
		out.Thresholds = append(out.Thresholds, thresholdsJSON(t))
	}
	for _, rec := range r.Records {
		out.Trials = append(out.Trials, trialJSON{
			ID: rec.ID, State: rec.State, Regularizer: rec.Regularizer, Lambda: rec.Lambda, Seed: rec.Seed,
			Attempts: rec.Attempts, Axes: nonNilMap(rec.Axes), Metrics: metricsToJSON(rec.Metrics),
			Rank: r.Rank[rec.ID], RankInRegularizer: r.RankInRegularizer[rec.ID], Error: rec.Error,
			LeaseAge: rec.LeaseAge.Seconds(),
		})
	}
	for reg, ids := range r.RegularizerFronts {
		out.FrontierByRegularizer[reg] = nonNil(ids)
	}
	for _, e := range r.Excluded {
		out.Excluded = append(out.Excluded, excludedJSON(e))
	}
	for _, g := range r.Groups {
		out.SeedAggregated = append(out.SeedAggregated, groupJSON{
			Key: g.Key, Regularizer: g.Regularizer, Lambda: g.Lambda, Axes: nonNilMap(g.Axes), Trials: g.Trials, Rank: g.Rank,
			Performance: spreadToJSON(g.Performance), PerformanceMin: spreadToJSON(g.PerformanceMin),
			ActiveNeurons: spreadToJSON(g.ActiveNeurons), ActiveNeuronsActivity: spreadToJSON(g.ActiveNeuronsActivity),
			WiringLength: spreadToJSON(g.WiringLength), WiringLengthWeighted: spreadToJSON(g.WiringLengthWeighted),
			DiagShare: spreadToJSON(g.DiagShare), FinalLoss: spreadToJSON(g.FinalLoss),
		})
	}
	for _, h := range r.Hypervolume {
		out.Hypervolume.ByRegularizer = append(out.Hypervolume.ByRegularizer, hypervolumeRowJSON(h))
	}
	return out
}

func nonNil(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (r *Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.toJSON())
}
