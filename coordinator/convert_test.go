package coordinator

import (
	"math"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
	"github.com/modsweep/modsweep/sweep"
)

func TestRecordFromProto(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	trial := &modsweepv1.Trial{
		Id:          "abc123",
		Regularizer: "bimt",
		Lambda:      0.01,
		Seed:        7,
		Axes:        map[string]string{"hidden": "16"},
		ConfigJson:  []byte(`{"theta_n": 0.1, "theta_w": 0.01, "theta_activity": 0.001}`),
	}
	metrics := &modsweepv1.Metrics{
		Performance: 0.9, PerformanceMin: 0.8, ActiveNeurons: 12, ActiveNeuronsActivity: 11,
		WiringLength: 30, WiringLengthWeighted: 3, DiagShare: 0.2, FinalLoss: 0.01,
	}
	cases := []struct {
		name string
		in   *modsweepv1.TrialRecord
		want sweep.Record
	}{
		{
			name: "succeeded",
			in: &modsweepv1.TrialRecord{
				Trial: trial, State: modsweepv1.TrialState_TRIAL_STATE_SUCCEEDED, Metrics: metrics,
				Attempts: []*modsweepv1.Attempt{{Attempt: 1}},
			},
			want: sweep.Record{
				ID: "abc123", State: sweep.StateSucceeded, Regularizer: "bimt", Lambda: 0.01, Seed: 7,
				Attempts: 1, Axes: map[string]string{"hidden": "16"},
				Metrics: &sweep.Metrics{
					Performance: 0.9, PerformanceMin: 0.8, ActiveNeurons: 12, ActiveNeuronsActivity: 11,
					WiringLength: 30, WiringLengthWeighted: 3, DiagShare: 0.2, FinalLoss: 0.01,
					ThetaN: 0.1, ThetaW: 0.01, ThetaActivity: 0.001,
				},
			},
		},
		{
			name: "leased",
			in: &modsweepv1.TrialRecord{
				Trial: trial, State: modsweepv1.TrialState_TRIAL_STATE_LEASED,
				Attempts: []*modsweepv1.Attempt{
					{Attempt: 1, Outcome: "expired"},
					{Attempt: 2, StartedAt: timestamppb.New(now.Add(-90 * time.Second))},
				},
			},
			want: sweep.Record{
				ID: "abc123", State: sweep.StateLeased, Regularizer: "bimt", Lambda: 0.01, Seed: 7,
				Attempts: 2, Axes: map[string]string{"hidden": "16"}, LeaseAge: 90 * time.Second,
			},
		},
		{
			name: "failed",
			in: &modsweepv1.TrialRecord{
				Trial: trial, State: modsweepv1.TrialState_TRIAL_STATE_FAILED, Error: "loss is NaN",
				Metrics: metrics, // ignored unless succeeded
			},
			want: sweep.Record{
				ID: "abc123", State: sweep.StateFailed, Regularizer: "bimt", Lambda: 0.01, Seed: 7,
				Error: "loss is NaN", Axes: map[string]string{"hidden": "16"},
			},
		},
		{
			name: "empty",
			in:   &modsweepv1.TrialRecord{},
			want: sweep.Record{Axes: map[string]string{}},
		},
		{
			name: "nil",
			in:   nil,
			want: sweep.Record{Axes: map[string]string{}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := recordFromProto(tc.in, now)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("recordFromProto:\n got %+v\nwant %+v", got, tc.want)
				if got.Metrics != nil && tc.want.Metrics != nil {
					t.Errorf("metrics:\n got %+v\nwant %+v", *got.Metrics, *tc.want.Metrics)
				}
			}
		})
	}
}

func TestTrialStateNames(t *testing.T) {
	for _, name := range sweep.States {
		s := TrialStateFromName(name)
		if s == modsweepv1.TrialState_TRIAL_STATE_UNSPECIFIED {
			t.Errorf("state %q has no wire value", name)
		}
		if back := TrialStateName(s); back != name {
			t.Errorf("state %q round-trips to %q", name, back)
		}
	}
	if got := TrialStateName(modsweepv1.TrialState_TRIAL_STATE_UNSPECIFIED); got != "" {
		t.Errorf("unspecified state named %q, want empty", got)
	}
}

func TestTrialRecordToProto_RoundTripsMetrics(t *testing.T) {
	in := &modsweepv1.Metrics{
		Performance: math.NaN(), FinalLoss: math.Inf(1), DiagShare: 0.25,
		PerTask: map[string]float64{"fdgo": 0.5},
	}
	entry := metricsEntryFromProto(in)
	out := metricsEntryToProto(&entry)
	if !math.IsNaN(out.GetPerformance()) || !math.IsInf(out.GetFinalLoss(), 1) {
		t.Errorf("special values lost: %v", out)
	}
	if out.GetDiagShare() != 0.25 || out.GetPerTask()["fdgo"] != 0.5 {
		t.Errorf("values changed: %v", out)
	}

	view := trialView{
		sweepID: "s1",
		spec:    trialSpec{ID: "t1", Regularizer: "l1", Lambda: 0.1, Seed: 3},
		st: trialState{
			State: stateLeased, Epoch: 2, AgentID: "a-1",
			Attempts: []attemptEntry{{Attempt: 1, Epoch: 1, Outcome: "expired"}, {Attempt: 2, Epoch: 2}},
		},
	}
	rec := trialRecordToProto(view)
	if rec.GetLease().GetEpoch() != 2 || rec.GetLease().GetAttempt() != 2 || rec.GetAgentId() != "a-1" {
		t.Errorf("lease of a leased trial: %v", rec.GetLease())
	}
	if got := RecordFromProto(rec); got.Attempts != 2 || got.State != sweep.StateLeased {
		t.Errorf("round trip: %+v", got)
	}
}
