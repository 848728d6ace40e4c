package coordinator

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

func TestGetTrial_PicksTheNamedSweep(t *testing.T) {
	e := startEnv(t, Config{})
	alpha := e.submit("alpha", 2)
	// Sweeps of different names share trial ids when their trials are equal.
	beta := e.submit("beta", 2)
	id := e.listTrials(alpha.GetSweepId())[0].GetTrial().GetId()

	if got := e.getTrial(id).GetTrial().GetSweepId(); got != beta.GetSweepId() {
		t.Errorf("GetTrial without a sweep returned sweep %s, want the newest, %s", got, beta.GetSweepId())
	}
	for _, ref := range []string{alpha.GetSweepId(), "alpha"} {
		resp, err := e.client.GetTrial(ctxTimeout(t, 5*time.Second),
			&modsweepv1.GetTrialRequest{TrialId: id, SweepId: ref})
		if err != nil {
			t.Fatalf("GetTrial in sweep %q: %v", ref, err)
		}
		if got := resp.GetTrial().GetTrial().GetSweepId(); got != alpha.GetSweepId() {
			t.Errorf("GetTrial in sweep %q returned sweep %s, want %s", ref, got, alpha.GetSweepId())
		}
	}

	_, err := e.client.GetTrial(ctxTimeout(t, 5*time.Second),
		&modsweepv1.GetTrialRequest{TrialId: id, SweepId: "nosuchsweep"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("GetTrial in an unknown sweep: %v, want NotFound", err)
	}
}

func TestStopAndCancel_KeepFinishedSweepDone(t *testing.T) {
	e := startEnv(t, Config{})
	sub := e.submit("finished", 2)
	agent := e.register("a")
	for range 2 {
		l := e.mustLease(agent)
		if got := e.complete(agent, l.GetLease(), 0.9); got != modsweepv1.Outcome_OUTCOME_ACCEPTED {
			t.Fatalf("complete: %v", got)
		}
	}

	stop, err := e.client.StopSweep(ctxTimeout(t, 5*time.Second), &modsweepv1.StopSweepRequest{SweepId: sub.GetSweepId()})
	if err != nil {
		t.Fatal(err)
	}
	if got := stop.GetSweep().GetState(); got != modsweepv1.SweepState_SWEEP_STATE_DONE {
		t.Errorf("state after stopping a finished sweep = %v, want DONE", got)
	}
	cancel, err := e.client.CancelSweep(ctxTimeout(t, 5*time.Second), &modsweepv1.CancelSweepRequest{SweepId: sub.GetSweepId()})
	if err != nil {
		t.Fatal(err)
	}
	if got := cancel.GetSweep().GetState(); got != modsweepv1.SweepState_SWEEP_STATE_DONE {
		t.Errorf("state after cancelling a finished sweep = %v, want DONE", got)
	}
	if got := cancel.GetSweep().GetCounts()["succeeded"]; got != 2 {
		t.Errorf("succeeded trials after cancel = %d, want 2", got)
	}
}
