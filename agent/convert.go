package agent

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/modsweep/modsweep/core"
	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// decodeConfig returns the trial configuration in raw, the JSON of a
// core.Config laid over core.Default(). An unknown field is an error: it
// comes from a newer coordinator, and ignoring it would train something
// else than the sweep asked for.
func decodeConfig(raw []byte) (core.Config, error) {
	cfg := core.Default()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return core.Config{}, fmt.Errorf("decode trial config (is the agent older than the coordinator?): %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return core.Config{}, err
	}
	return cfg, nil
}

// resultToProto converts a finished training run into its wire form. It
// fails when the result does not encode as JSON, e.g. because a measure is
// NaN.
func resultToProto(r *core.Result) (*modsweepv1.TrialResult, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode result as JSON: %w", err)
	}
	m := r.Measures
	return &modsweepv1.TrialResult{
		Metrics: &modsweepv1.Metrics{
			Performance:           r.Final.Mean,
			PerformanceMin:        r.Final.Min,
			ActiveNeurons:         float64(m.ActiveNeurons),
			ActiveNeuronsActivity: float64(m.ActiveNeuronsActivity),
			WiringLength:          m.WiringLength,
			WiringLengthWeighted:  m.WiringLengthWeighted,
			DiagShare:             m.DiagShare,
			FinalLoss:             r.FinalLoss,
			PerTask:               r.Final.PerTask,
		},
		ResultJson: raw,
		Duration:   durationpb.New(r.Duration),
	}, nil
}

// progressToProto converts the trainer's latest progress for a heartbeat.
func progressToProto(p core.Progress) *modsweepv1.Progress {
	return &modsweepv1.Progress{
		Step:        int64(p.Step),
		Steps:       int64(p.Steps),
		Loss:        p.Loss,
		Performance: p.Perf,
	}
}
