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
