package coordinator

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

func TestLease_ManyAgentsCompleteEachTrialOnce(t *testing.T) {
	e := startEnv(t, Config{})
	const trials, agents = 150, 20
	sub := e.submit("grid", trials)

	ids := make([]string, agents)
	for i := range ids {
		ids[i] = e.register("agent")
	}

	var mu sync.Mutex
	accepted := map[string]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, id := range ids {
		wg.Go(func() {
			<-start
			for {
				resp, err := e.lease(id)
				if err != nil {
					t.Errorf("lease for %s: %v", id, err)
					return
				}
				if !resp.GetFound() {
					return
				}
				if e.complete(id, resp.GetLease(), 0.9) == modsweepv1.Outcome_OUTCOME_ACCEPTED {
					mu.Lock()
					accepted[resp.GetLease().GetTrialId()]++
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	wg.Wait()

	if len(accepted) != trials {
		t.Errorf("accepted %d distinct trials, want %d", len(accepted), trials)
	}
	for id, n := range accepted {
		if n != 1 {
			t.Errorf("trial %s accepted %d times, want 1", id, n)
		}
	}
	records := e.listTrials(sub.GetSweepId())
	if len(records) != trials {
		t.Fatalf("listed %d trials, want %d", len(records), trials)
	}
	for _, r := range records {
		if r.GetState() != modsweepv1.TrialState_TRIAL_STATE_SUCCEEDED {
			t.Errorf("trial %s is %v, want SUCCEEDED", r.GetTrial().GetId(), r.GetState())
		}
		if len(r.GetAttempts()) != 1 {
			t.Errorf("trial %s has %d attempts, want 1", r.GetTrial().GetId(), len(r.GetAttempts()))
		}
	}
	got, err := e.client.GetSweep(ctxTimeout(t, 5*time.Second), &modsweepv1.GetSweepRequest{SweepId: "grid"})
	if err != nil {
		t.Fatalf("get sweep by name: %v", err)
	}
	if got.GetSweep().GetState() != modsweepv1.SweepState_SWEEP_STATE_DONE {
		t.Errorf("sweep state %v, want DONE", got.GetSweep().GetState())
	}
}

func TestLease_OrderFollowsExpansionIndex(t *testing.T) {
	e := startEnv(t, Config{})
	e.submit("order", 5)
	agent := e.register("a")

	var got []string
	for range 5 {
		got = append(got, e.mustLease(agent).GetTrial().GetId())
	}
	var seeds []uint64
	for _, id := range got {
		seeds = append(seeds, e.getTrial(id).GetTrial().GetSeed())
	}
	for i := 1; i < len(seeds); i++ {
		if seeds[i] <= seeds[i-1] {
			t.Errorf("lease %d has seed %d after seed %d: leases must follow the expansion order",
				i, seeds[i], seeds[i-1])
		}
	}
}

func TestLease_ExpiredLeaseRequeued(t *testing.T) {
	const ttl = 300 * time.Millisecond
	e := startEnv(t, Config{LeaseTTL: ttl})
	e.submit("expiry", 2)
	agent := e.register("a")

	// One lease never heartbeats; the other heartbeats once and stops.
	silent := e.mustLease(agent)
	beating := e.mustLease(agent)
	_, err := e.client.Heartbeat(ctxTimeout(t, 5*time.Second), &modsweepv1.HeartbeatRequest{
		AgentId: agent, Lease: beating.GetLease(),
	})
	if err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	leasedAt := time.Now()

	for _, l := range []*modsweepv1.LeaseTrialResponse{silent, beating} {
		id := l.GetTrial().GetId()
		waitFor(t, 3*ttl, "trial "+id+" requeued", func() bool {
			return e.getTrial(id).GetState() == modsweepv1.TrialState_TRIAL_STATE_PENDING
		})
		rec := e.getTrial(id)
		if n := len(rec.GetAttempts()); n != 1 {
			t.Fatalf("trial %s has %d attempts, want 1", id, n)
		}
		if got := rec.GetAttempts()[0].GetOutcome(); got != "expired" {
			t.Errorf("trial %s attempt outcome %q, want expired", id, got)
		}
	}
	// Expiry is TTL after the last lease or heartbeat, plus at most one
	// reaper period of TTL/4; allow scheduling slack on a loaded machine.
	if took := time.Since(leasedAt); took > 2*ttl+ttl/2 {
		t.Errorf("requeue took %v after the last heartbeat, want about %v", took, ttl+ttl/4)
	}

	again := e.mustLease(agent)
	if again.GetLease().GetEpoch() != 2 || again.GetLease().GetAttempt() != 2 {
		t.Errorf("re-lease has epoch %d attempt %d, want 2 and 2",
			again.GetLease().GetEpoch(), again.GetLease().GetAttempt())
	}
}

func TestHeartbeat_KeepsLeaseAlive(t *testing.T) {
	const ttl = 300 * time.Millisecond
	e := startEnv(t, Config{LeaseTTL: ttl})
	e.submit("alive", 1)
	agent := e.register("a")
	l := e.mustLease(agent)

	for range 8 {
		time.Sleep(ttl / 3)
		resp, err := e.client.Heartbeat(ctxTimeout(t, 5*time.Second), &modsweepv1.HeartbeatRequest{
			AgentId: agent, Lease: l.GetLease(),
			Progress: &modsweepv1.Progress{Step: 1, Steps: 2, Loss: 0.3},
		})
		if err != nil {
			t.Fatalf("heartbeat: %v", err)
		}
		if resp.GetCancel() {
			t.Fatalf("heartbeat answered cancel: %s", resp.GetReason())
		}
	}
	rec := e.getTrial(l.GetTrial().GetId())
	if rec.GetState() != modsweepv1.TrialState_TRIAL_STATE_LEASED {
		t.Errorf("state %v after heartbeats, want LEASED", rec.GetState())
	}
	if rec.GetProgress().GetStep() != 1 {
		t.Errorf("progress step %d, want 1", rec.GetProgress().GetStep())
	}
	if e.complete(agent, l.GetLease(), 0.5) != modsweepv1.Outcome_OUTCOME_ACCEPTED {
		t.Errorf("completion after heartbeats not accepted")
	}
}

// leaseTwice leases a trial to a, gives it back and leases it again
// to b, so the two leases have epochs 1 and 2.
func leaseTwice(e *testEnv) (a, b string, first, second *modsweepv1.Lease) {
	a, b = e.register("a"), e.register("b")
	first = e.mustLease(a).GetLease()
	_, err := e.client.ReleaseTrial(ctxTimeout(e.t, 5*time.Second), &modsweepv1.ReleaseTrialRequest{
		AgentId: a, Lease: first,
	})
	if err != nil {
		e.t.Fatalf("release: %v", err)
	}
	second = e.mustLease(b).GetLease()
	if second.GetTrialId() != first.GetTrialId() || second.GetEpoch() != 2 {
		e.t.Fatalf("second lease is %s epoch %d, want %s epoch 2",
			second.GetTrialId(), second.GetEpoch(), first.GetTrialId())
	}
	return a, b, first, second
}

func TestComplete_StaleEpochSuperseded(t *testing.T) {
	t.Run("stale first", func(t *testing.T) {
		e := startEnv(t, Config{})
		e.submit("stale", 1)
		a, b, first, second := leaseTwice(e)
		if got := e.complete(a, first, 0.1); got != modsweepv1.Outcome_OUTCOME_SUPERSEDED {
			t.Errorf("stale completion before the current one: %v, want SUPERSEDED", got)
		}
		if got := e.complete(b, second, 0.2); got != modsweepv1.Outcome_OUTCOME_ACCEPTED {
			t.Errorf("current completion: %v, want ACCEPTED", got)
		}
		if perf := e.getTrial(first.GetTrialId()).GetMetrics().GetPerformance(); perf != 0.2 {
			t.Errorf("stored performance %v, want 0.2 from the current lease", perf)
		}
	})
	t.Run("stale last", func(t *testing.T) {
		e := startEnv(t, Config{})
		e.submit("stale", 1)
		a, b, first, second := leaseTwice(e)
		if got := e.complete(b, second, 0.2); got != modsweepv1.Outcome_OUTCOME_ACCEPTED {
			t.Errorf("current completion: %v, want ACCEPTED", got)
		}
		if got := e.complete(a, first, 0.1); got != modsweepv1.Outcome_OUTCOME_SUPERSEDED {
			t.Errorf("stale completion after the current one: %v, want SUPERSEDED", got)
		}
		rec := e.getTrial(first.GetTrialId())
		if perf := rec.GetMetrics().GetPerformance(); perf != 0.2 {
			t.Errorf("stored performance %v, want 0.2 from the current lease", perf)
		}
		if len(rec.GetAttempts()) != 2 {
			t.Errorf("%d attempts recorded, want 2", len(rec.GetAttempts()))
		}
	})
}

func TestComplete_RepeatAlreadyCompleted(t *testing.T) {
	e := startEnv(t, Config{})
	e.submit("repeat", 1)
	agent := e.register("a")
	l := e.mustLease(agent).GetLease()

	if got := e.complete(agent, l, 0.7); got != modsweepv1.Outcome_OUTCOME_ACCEPTED {
		t.Fatalf("first completion: %v, want ACCEPTED", got)
	}
	if got := e.complete(agent, l, 0.1); got != modsweepv1.Outcome_OUTCOME_ALREADY_COMPLETED {
		t.Errorf("repeated completion: %v, want ALREADY_COMPLETED", got)
	}
	rec := e.getTrial(l.GetTrialId())
	if perf := rec.GetMetrics().GetPerformance(); perf != 0.7 {
		t.Errorf("stored performance %v, want 0.7 from the first completion", perf)
	}
	if string(rec.GetResultJson()) != `{"performance": 0.7}` {
		t.Errorf("stored result %s, want the first completion's", rec.GetResultJson())
	}
	fail := e.failTrial(agent, l, "late failure")
	if fail.GetOutcome() != modsweepv1.Outcome_OUTCOME_ALREADY_COMPLETED {
		t.Errorf("failure after success: %v, want ALREADY_COMPLETED", fail.GetOutcome())
	}
}

func TestFail_AttemptLimitFailsTrial(t *testing.T) {
	e := startEnv(t, Config{MaxAttempts: 3, QuarantineAfter: 10})
	e.submit("limit", 1)
	agent := e.register("a")

	var last *modsweepv1.FailTrialResponse
	reasons := []string{"loss is NaN", "out of memory", "loss is +Inf"}
	for i, reason := range reasons {
		l := e.mustLease(agent).GetLease()
		last = e.failTrial(agent, l, reason)
		if last.GetOutcome() != modsweepv1.Outcome_OUTCOME_ACCEPTED {
			t.Fatalf("failure %d: %v, want ACCEPTED", i+1, last.GetOutcome())
		}
		if final := i == len(reasons)-1; last.GetFinal() != final {
			t.Fatalf("failure %d: final = %v, want %v", i+1, last.GetFinal(), final)
		}
	}

	resp, err := e.lease(agent)
	if err != nil {
		t.Fatalf("lease after final failure: %v", err)
	}
	if resp.GetFound() {
		t.Errorf("leased %s after it failed for good", resp.GetTrial().GetId())
	}
	stream, err := e.client.ListTrials(ctxTimeout(t, 5*time.Second), &modsweepv1.ListTrialsRequest{
		SweepId: "limit", States: []modsweepv1.TrialState{modsweepv1.TrialState_TRIAL_STATE_FAILED},
	})
	if err != nil {
		t.Fatalf("list failed trials: %v", err)
	}
	msg, err := stream.Recv()
	if err != nil {
		t.Fatalf("receive failed trials: %v", err)
	}
	if len(msg.GetTrials()) != 1 {
		t.Fatalf("%d failed trials listed, want 1", len(msg.GetTrials()))
	}
	rec := msg.GetTrials()[0]
	for _, reason := range reasons {
		if !strings.Contains(rec.GetError(), reason) {
			t.Errorf("error %q does not name the reason %q", rec.GetError(), reason)
		}
	}
}

func TestFail_QuarantinesAgent(t *testing.T) {
	e := startEnv(t, Config{MaxAttempts: 5, QuarantineAfter: 2})
	e.submit("quarantine", 3)
	bad, good := e.register("bad"), e.register("good")

	inFlight := e.mustLease(bad).GetLease()
	for range 2 {
		e.failTrial(bad, e.mustLease(bad).GetLease(), "segfault")
	}

	_, err := e.lease(bad)
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("lease by quarantined agent: %v, want FailedPrecondition", err)
	}
	hb, err := e.client.Heartbeat(ctxTimeout(t, 5*time.Second), &modsweepv1.HeartbeatRequest{
		AgentId: bad, Lease: inFlight,
	})
	if err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if !hb.GetCancel() {
		t.Errorf("heartbeat of a quarantined agent's lease did not answer cancel")
	}

	done := 0
	for {
		resp, err := e.lease(good)
		if err != nil {
			t.Fatalf("lease by healthy agent: %v", err)
		}
		if !resp.GetFound() {
			break
		}
		if e.complete(good, resp.GetLease(), 0.8) == modsweepv1.Outcome_OUTCOME_ACCEPTED {
			done++
		}
	}
	if done != 3 {
		t.Errorf("healthy agent completed %d trials, want all 3", done)
	}
}

func TestLeaseTrial_WithoutDeadlineInvalid(t *testing.T) {
	e := startEnv(t, Config{})
	agent := e.register("a")
	_, err := e.client.LeaseTrial(context.Background(), &modsweepv1.LeaseTrialRequest{AgentId: agent})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("lease without deadline: %v, want InvalidArgument", err)
	}
}

func TestLeaseTrial_UnknownAgentNotFound(t *testing.T) {
	e := startEnv(t, Config{})
	_, err := e.lease("ghost-00000000")
	if status.Code(err) != codes.NotFound {
		t.Errorf("lease by unknown agent: %v, want NotFound", err)
	}
}

func TestLeaseTrial_WakesOnSubmit(t *testing.T) {
	e := startEnv(t, Config{PollHold: 3 * time.Second})
	agent := e.register("a")

	type result struct {
		resp *modsweepv1.LeaseTrialResponse
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		resp, err := e.lease(agent)
		done <- result{resp, err, time.Since(start)}
	}()
	time.Sleep(200 * time.Millisecond)
	e.submit("wake", 1)

	r := <-done
	if r.err != nil {
		t.Fatalf("lease: %v", r.err)
	}
	if !r.resp.GetFound() {
		t.Fatalf("waiting lease found nothing after a submit")
	}
	if r.took >= 2*time.Second {
		t.Errorf("waiting lease returned after %v, want soon after the submit", r.took)
	}
}

func TestLeaseTrial_EmptyAnswerBeforeDeadline(t *testing.T) {
	e := startEnv(t, Config{PollHold: 5 * time.Second})
	agent := e.register("a")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := e.client.LeaseTrial(ctx, &modsweepv1.LeaseTrialRequest{AgentId: agent})
	if err != nil {
		t.Fatalf("lease with a deadline shorter than the hold: %v, want found = false", err)
	}
	if resp.GetFound() {
		t.Errorf("found a trial in an empty coordinator")
	}
}

func TestRegisterAgent_ProtocolMismatch(t *testing.T) {
	e := startEnv(t, Config{})
	_, err := e.client.RegisterAgent(ctxTimeout(t, 5*time.Second), &modsweepv1.RegisterAgentRequest{
		Name: "old", ProtocolVersion: modsweepv1.ProtocolVersion + 1,
	})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("register with another protocol: %v, want FailedPrecondition", err)
	}
	msg := status.Convert(err).Message()
	for _, v := range []string{"version 1", "version 2"} {
		if !strings.Contains(msg, v) {
			t.Errorf("message %q does not name %q", msg, v)
		}
	}
}

func TestCancelSweep_StopsLeasedTrials(t *testing.T) {
	e := startEnv(t, Config{})
	sub := e.submit("cancel", 3)
	agent := e.register("a")
	l := e.mustLease(agent).GetLease()

	resp, err := e.client.CancelSweep(ctxTimeout(t, 5*time.Second), &modsweepv1.CancelSweepRequest{
		SweepId: sub.GetSweepId(),
	})
	if err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if got := resp.GetSweep().GetCounts()["cancelled"]; got != 3 {
		t.Errorf("%d trials cancelled, want 3", got)
	}
	hb, err := e.client.Heartbeat(ctxTimeout(t, 5*time.Second), &modsweepv1.HeartbeatRequest{
		AgentId: agent, Lease: l,
	})
	if err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	if !hb.GetCancel() || hb.GetReason() != "trial cancelled" {
		t.Errorf("heartbeat after cancel: cancel=%v reason %q, want cancel and trial cancelled",
			hb.GetCancel(), hb.GetReason())
	}
	if got := e.complete(agent, l, 0.5); got != modsweepv1.Outcome_OUTCOME_SUPERSEDED {
		t.Errorf("completion after cancel: %v, want SUPERSEDED", got)
	}
	if r, _ := e.lease(agent); r.GetFound() {
		t.Errorf("leased a trial of a cancelled sweep")
	}

	// Submitting the same file again resumes the sweep.
	again := e.submit("cancel", 3)
	if again.GetSweepId() != sub.GetSweepId() {
		t.Fatalf("resubmit gave sweep %s, want %s", again.GetSweepId(), sub.GetSweepId())
	}
	e.mustLease(agent)
}

func TestStopSweep_NoNewLeases(t *testing.T) {
	e := startEnv(t, Config{})
	sub := e.submit("drain", 2)
	agent := e.register("a")
	l := e.mustLease(agent).GetLease()

	_, err := e.client.StopSweep(ctxTimeout(t, 5*time.Second), &modsweepv1.StopSweepRequest{
		SweepId: sub.GetSweepId(),
	})
	if err != nil {
		t.Fatalf("stop: %v", err)
	}
	if r, _ := e.lease(agent); r.GetFound() {
		t.Errorf("leased %s from a stopped sweep", r.GetTrial().GetId())
	}
	if got := e.complete(agent, l, 0.5); got != modsweepv1.Outcome_OUTCOME_ACCEPTED {
		t.Errorf("running trial of a stopped sweep: %v, want ACCEPTED", got)
	}
}

func TestComplete_LeaseNextChainsTrials(t *testing.T) {
	e := startEnv(t, Config{})
	e.submit("chain", 3)
	agent := e.register("a")

	lease := e.mustLease(agent).GetLease()
	seen := map[string]bool{lease.GetTrialId(): true}
	for i := range 3 {
		resp, err := e.client.CompleteTrial(ctxTimeout(t, 5*time.Second), &modsweepv1.CompleteTrialRequest{
			AgentId:   agent,
			Lease:     lease,
			Result:    &modsweepv1.TrialResult{Metrics: &modsweepv1.Metrics{Performance: 0.5}},
			LeaseNext: true,
		})
		if err != nil {
			t.Fatalf("complete %d: %v", i, err)
		}
		if resp.GetOutcome() != modsweepv1.Outcome_OUTCOME_ACCEPTED {
			t.Fatalf("complete %d: %v, want ACCEPTED", i, resp.GetOutcome())
		}
		next := resp.GetNext()
		if i == 2 {
			if next.GetFound() {
				t.Errorf("next lease found %s after the last trial", next.GetTrial().GetId())
			}
			break
		}
		if !next.GetFound() {
			t.Fatalf("complete %d: no next lease, want one of the pending trials", i)
		}
		if seen[next.GetLease().GetTrialId()] {
			t.Fatalf("next lease %s was leased before", next.GetLease().GetTrialId())
		}
		if len(next.GetTrial().GetConfigJson()) == 0 {
			t.Errorf("next lease carries no configuration")
		}
		seen[next.GetLease().GetTrialId()] = true
		lease = next.GetLease()
	}
	if len(seen) != 3 {
		t.Errorf("chain leased %d trials, want 3", len(seen))
	}
}
