package coordinator

import (
	"encoding/json"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
	"github.com/modsweep/modsweep/sweep"
)

// This file is the one place where wire types and domain types meet.

var trialStateToProto = map[string]modsweepv1.TrialState{
	statePending:   modsweepv1.TrialState_TRIAL_STATE_PENDING,
	stateLeased:    modsweepv1.TrialState_TRIAL_STATE_LEASED,
	stateSucceeded: modsweepv1.TrialState_TRIAL_STATE_SUCCEEDED,
	stateFailed:    modsweepv1.TrialState_TRIAL_STATE_FAILED,
	stateCancelled: modsweepv1.TrialState_TRIAL_STATE_CANCELLED,
}

var sweepStateToProto = map[string]modsweepv1.SweepState{
	sweepRunning:   modsweepv1.SweepState_SWEEP_STATE_RUNNING,
	sweepStopped:   modsweepv1.SweepState_SWEEP_STATE_STOPPED,
	sweepCancelled: modsweepv1.SweepState_SWEEP_STATE_CANCELLED,
	sweepDone:      modsweepv1.SweepState_SWEEP_STATE_DONE,
}

// TrialStateName returns the lower-case state name of a wire trial state
// (pending, leased, ...), or "" for TRIAL_STATE_UNSPECIFIED and unknown
// values.
func TrialStateName(s modsweepv1.TrialState) string {
	for name, v := range trialStateToProto {
		if v == s {
			return name
		}
	}
	return ""
}

// TrialStateFromName returns the wire trial state of a lower-case state
// name, or TRIAL_STATE_UNSPECIFIED for an unknown name.
func TrialStateFromName(name string) modsweepv1.TrialState {
	return trialStateToProto[name]
}

// RecordFromProto converts a wire trial record to the domain record that
// the sweep package's reports read. The thresholds behind the neuron counts
// come from the trial's configuration JSON; LeaseAge is measured from the
// start of the current attempt to now.
func RecordFromProto(rec *modsweepv1.TrialRecord) sweep.Record {
	return recordFromProto(rec, time.Now())
}

func recordFromProto(rec *modsweepv1.TrialRecord, now time.Time) sweep.Record {
	trial := rec.GetTrial()
	out := sweep.Record{
		ID:          trial.GetId(),
		State:       TrialStateName(rec.GetState()),
		Regularizer: trial.GetRegularizer(),
		Lambda:      trial.GetLambda(),
		Seed:        trial.GetSeed(),
		Attempts:    len(rec.GetAttempts()),
		Error:       rec.GetError(),
		Axes:        rec.GetTrial().GetAxes(),
	}
	if out.Axes == nil {
		out.Axes = map[string]string{}
	}
	if m := rec.GetMetrics(); m != nil && rec.GetState() == modsweepv1.TrialState_TRIAL_STATE_SUCCEEDED {
		out.Metrics = MetricsFromProto(m)
		var thresholds struct {
			ThetaN        float64 `json:"theta_n"`
			ThetaW        float64 `json:"theta_w"`
			ThetaActivity float64 `json:"theta_activity"`
		}
		if err := json.Unmarshal(trial.GetConfigJson(), &thresholds); err == nil {
			out.Metrics.ThetaN = thresholds.ThetaN
			out.Metrics.ThetaW = thresholds.ThetaW
			out.Metrics.ThetaActivity = thresholds.ThetaActivity
		}
	}
	if rec.GetState() == modsweepv1.TrialState_TRIAL_STATE_LEASED {
		if n := len(rec.GetAttempts()); n > 0 {
			started := rec.GetAttempts()[n-1].GetStartedAt()
			if started != nil {
				out.LeaseAge = max(now.Sub(started.AsTime()), 0)
			}
		}
	}
	return out
}

// MetricsFromProto converts wire metrics to sweep metrics; the thresholds
// stay zero because the wire metrics do not carry them.
func MetricsFromProto(m *modsweepv1.Metrics) *sweep.Metrics {
	return &sweep.Metrics{
		Performance:           m.GetPerformance(),
		PerformanceMin:        m.GetPerformanceMin(),
		ActiveNeurons:         m.GetActiveNeurons(),
		ActiveNeuronsActivity: m.GetActiveNeuronsActivity(),
		WiringLength:          m.GetWiringLength(),
		WiringLengthWeighted:  m.GetWiringLengthWeighted(),
		DiagShare:             m.GetDiagShare(),
		FinalLoss:             m.GetFinalLoss(),
	}
}

func metricsEntryFromProto(m *modsweepv1.Metrics) metricsEntry {
	out := metricsEntry{
		Performance:           jsonFloat(m.GetPerformance()),
		PerformanceMin:        jsonFloat(m.GetPerformanceMin()),
		ActiveNeurons:         jsonFloat(m.GetActiveNeurons()),
		ActiveNeuronsActivity: jsonFloat(m.GetActiveNeuronsActivity()),
		WiringLength:          jsonFloat(m.GetWiringLength()),
		WiringLengthWeighted:  jsonFloat(m.GetWiringLengthWeighted()),
		DiagShare:             jsonFloat(m.GetDiagShare()),
		FinalLoss:             jsonFloat(m.GetFinalLoss()),
	}
	if len(m.GetPerTask()) > 0 {
		out.PerTask = make(map[string]jsonFloat, len(m.GetPerTask()))
		for k, v := range m.GetPerTask() {
			out.PerTask[k] = jsonFloat(v)
		}
	}
	return out
}

func metricsEntryToProto(m *metricsEntry) *modsweepv1.Metrics {
	if m == nil {
		return nil
	}
	out := &modsweepv1.Metrics{
		Performance:           float64(m.Performance),
		PerformanceMin:        float64(m.PerformanceMin),
		ActiveNeurons:         float64(m.ActiveNeurons),
		ActiveNeuronsActivity: float64(m.ActiveNeuronsActivity),
		WiringLength:          float64(m.WiringLength),
		WiringLengthWeighted:  float64(m.WiringLengthWeighted),
		DiagShare:             float64(m.DiagShare),
		FinalLoss:             float64(m.FinalLoss),
	}
	if len(m.PerTask) > 0 {
		out.PerTask = make(map[string]float64, len(m.PerTask))
		for k, v := range m.PerTask {
			out.PerTask[k] = float64(v)
		}
	}
	return out
}

func progressFromProto(p *modsweepv1.Progress) *progressEntry {
	if p == nil {
		return nil
	}
	return &progressEntry{
		Step:        p.GetStep(),
		Steps:       p.GetSteps(),
		Loss:        jsonFloat(p.GetLoss()),
		Performance: jsonFloat(p.GetPerformance()),
	}
}

func progressToProto(p *progressEntry) *modsweepv1.Progress {
	if p == nil {
		return nil
	}
	return &modsweepv1.Progress{
		Step:        p.Step,
		Steps:       p.Steps,
		Loss:        float64(p.Loss),
		Performance: float64(p.Performance),
	}
}

// timestampOrNil converts t, leaving the zero time unset on the wire.
func timestampOrNil(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func trialToProto(sweepID string, spec trialSpec) *modsweepv1.Trial {
	return &modsweepv1.Trial{
		SweepId:     sweepID,
		Id:          spec.ID,
		ConfigJson:  spec.Config,
		Regularizer: spec.Regularizer,
		Lambda:      spec.Lambda,
		Seed:        spec.Seed,
		Axes:        spec.Axes,
	}
}

// trialRecordToProto converts a stored trial; resultJSON is filled only
// when the view carries it.
func trialRecordToProto(v trialView) *modsweepv1.TrialRecord {
	out := &modsweepv1.TrialRecord{
		Trial:      trialToProto(v.sweepID, v.spec),
		State:      trialStateToProto[v.st.State],
		Metrics:    metricsEntryToProto(v.st.Metrics),
		Error:      v.st.Error,
		Progress:   progressToProto(v.st.Progress),
		ResultJson: v.resultJSON,
		UpdatedAt:  timestampOrNil(v.st.UpdatedAt),
	}
	for _, a := range v.st.Attempts {
		out.Attempts = append(out.Attempts, &modsweepv1.Attempt{
			Attempt:   a.Attempt,
			Epoch:     a.Epoch,
			AgentId:   a.AgentID,
			StartedAt: timestampOrNil(a.StartedAt),
			EndedAt:   timestampOrNil(a.EndedAt),
			Outcome:   a.Outcome,
		})
	}
	if v.st.State == stateLeased {
		out.AgentId = v.st.AgentID
		out.Lease = &modsweepv1.Lease{
			SweepId:   v.sweepID,
			TrialId:   v.spec.ID,
			Attempt:   uint32(len(v.st.Attempts)),
			Epoch:     v.st.Epoch,
			ExpiresAt: timestampOrNil(v.st.ExpiresAt),
		}
	}
	return out
}

func summaryToProto(s sweepSummary) *modsweepv1.SweepSummary {
	counts := make(map[string]int64, len(trialStates))
	for _, state := range trialStates {
		counts[state] = s.counts[state]
	}
	return &modsweepv1.SweepSummary{
		Id:             s.rec.ID,
		Name:           s.rec.Name,
		State:          sweepStateToProto[s.state],
		CreatedAt:      timestampOrNil(s.rec.CreatedAt),
		Counts:         counts,
		Total:          s.total,
		OldestLeaseAge: durationpb.New(s.oldestAge),
		Spec:           s.spec,
	}
}

func outcomeToProto(o Outcome) modsweepv1.Outcome {
	switch o {
	case OutcomeAccepted:
		return modsweepv1.Outcome_OUTCOME_ACCEPTED
	case OutcomeAlreadyCompleted:
		return modsweepv1.Outcome_OUTCOME_ALREADY_COMPLETED
	case OutcomeSuperseded:
		return modsweepv1.Outcome_OUTCOME_SUPERSEDED
	}
	return modsweepv1.Outcome_OUTCOME_UNSPECIFIED
}

// submissionFromSweep converts a parsed, expanded sweep file. Trials with
// an id seen before in the same file are dropped, since equal trainings
// share one id.
func submissionFromSweep(f *sweep.File, trials []sweep.Trial, spec []byte) (submission, error) {
	sub := submission{
		name:   f.Name,
		source: f.Source,
		spec:   spec,
		axes:   map[string]int64{},
	}
	values := map[string]map[string]bool{}
	seen := map[string]bool{}
	for _, t := range trials {
		if seen[t.ID] {
			continue
		}
		seen[t.ID] = true
		cfg, err := json.Marshal(t.Config)
		if err != nil {
			return submission{}, err
		}
		sub.trials = append(sub.trials, trialSpec{
			ID:          t.ID,
			Index:       t.Index,
			Config:      cfg,
			Regularizer: t.Regularizer,
			Lambda:      t.Lambda,
			Seed:        t.Seed,
			Axes:        t.Axes,
		})
		note := func(axis, value string) {
			if values[axis] == nil {
				values[axis] = map[string]bool{}
			}
			values[axis][value] = true
		}
		note("regularizer", t.Regularizer)
		note("lambda", jsonNumber(t.Lambda))
		note("seed", formatUint(t.Seed))
		for axis, value := range t.Axes {
			note(axis, value)
		}
	}
	for axis, vs := range values {
		sub.axes[axis] = int64(len(vs))
	}
	return sub, nil
}

func jsonNumber(x float64) string {
	b, _ := jsonFloat(x).MarshalJSON()
	return string(b)
}

func formatUint(x uint64) string {
	b, _ := json.Marshal(x)
	return string(b)
}
