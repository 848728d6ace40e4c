package agent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/modsweep/modsweep/core"
	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

func TestRun_CompletesEveryTrialOnce(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(6)
	tr := &fakeTrainer{stepTime: time.Millisecond}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.IdleExit = 500 * time.Millisecond

	// Every completion must find its spool file already on disk.
	var missing atomic.Int32
	f.completeHook = func(req *modsweepv1.CompleteTrialRequest) (modsweepv1.Outcome, error) {
		name := spoolName(req.GetLease()) + spoolComplete
		if _, err := os.Stat(filepath.Join(cfg.SpoolDir, name)); err != nil {
			missing.Add(1)
		}
		return 0, nil
	}

	wait := runAgent(t, context.Background(), cfg)
	if err := wait(20 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	for _, id := range ids {
		if got := f.get(id); got.state != "succeeded" || got.accepted != 1 {
			t.Errorf("trial %s: state %s, accepted %d times; want succeeded once", id, got.state, got.accepted)
		}
	}
	if n := missing.Load(); n > 0 {
		t.Errorf("%d completions were sent before their spool file was written", n)
	}
	assertSpoolEmpty(t, cfg.SpoolDir)
}

func TestRun_ChainsNextLeaseOnCompletion(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(4)
	tr := &fakeTrainer{stepTime: time.Millisecond}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.Workers = 1
	cfg.MaxTrials = 3

	if err := runAgent(t, context.Background(), cfg)(10 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	f.mu.Lock()
	polled, chained := f.polled, f.chained
	f.mu.Unlock()
	if polled != 1 || chained != 2 {
		t.Errorf("%d leases by LeaseTrial and %d chained onto completions, want 1 and 2", polled, chained)
	}
	for i, id := range ids {
		got := f.get(id)
		if i < 3 && got.state != "succeeded" {
			t.Errorf("trial %s state %s, want succeeded", id, got.state)
		}
		if i == 3 && got.attempts != 0 {
			t.Errorf("trial %s leased %d times beyond max trials, want 0", id, got.attempts)
		}
	}
	assertSpoolEmpty(t, cfg.SpoolDir)
}

func TestRun_DeliversSpoolAfterRestart(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(1)
	tr := &fakeTrainer{stepTime: time.Millisecond}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.Workers = 1
	cfg.Grace = 300 * time.Millisecond

	// The first run finishes the trial, but the coordinator never
	// acknowledges it; the run is then shut down.
	f.completeHook = func(*modsweepv1.CompleteTrialRequest) (modsweepv1.Outcome, error) {
		return 0, status.Error(codes.Unavailable, "coordinator is busy")
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait := runAgent(t, ctx, cfg)
	waitFor(t, 10*time.Second, "the first completion attempt", func() bool {
		_, _, completes := f.counts()
		return completes > 0
	})
	cancel()
	err := wait(10 * time.Second)
	if err == nil || !strings.Contains(err.Error(), cfg.SpoolDir) {
		t.Fatalf("Run returned %v, want an error naming the spool folder %s", err, cfg.SpoolDir)
	}
	if got := f.get(ids[0]); got.accepted != 0 {
		t.Fatalf("trial accepted %d times during the outage, want 0", got.accepted)
	}
	left, _ := (&spool{dir: cfg.SpoolDir}).list()
	if len(left) != 1 {
		t.Fatalf("spool holds %d reports after the outage, want 1", len(left))
	}

	// A new run with the same spool delivers the result before anything else.
	f.completeHook = nil
	cfg.IdleExit = 300 * time.Millisecond
	if err := runAgent(t, context.Background(), cfg)(10 * time.Second); err != nil {
		t.Fatalf("second Run returned %v, want nil", err)
	}
	if got := f.get(ids[0]); got.state != "succeeded" || got.accepted != 1 {
		t.Errorf("trial state %s, accepted %d times; want succeeded once", got.state, got.accepted)
	}
	if got := f.get(ids[0]); got.attempts != 1 {
		t.Errorf("trial leased %d times, want 1: the spooled result must be delivered, not retrained", got.attempts)
	}
	assertSpoolEmpty(t, cfg.SpoolDir)
}

func TestRun_FinalOutcomesEndDelivery(t *testing.T) {
	for _, outcome := range []modsweepv1.Outcome{
		modsweepv1.Outcome_OUTCOME_SUPERSEDED,
		modsweepv1.Outcome_OUTCOME_ALREADY_COMPLETED,
	} {
		t.Run(outcome.String(), func(t *testing.T) {
			f := newFakeCoordinator()
			f.start(t, "127.0.0.1:0")
			f.addTrials(1)
			f.completeHook = func(*modsweepv1.CompleteTrialRequest) (modsweepv1.Outcome, error) {
				return outcome, nil
			}
			tr := &fakeTrainer{stepTime: time.Millisecond}
			cfg := testConfig(t, f.addr, tr.train)
			cfg.IdleExit = 300 * time.Millisecond

			if err := runAgent(t, context.Background(), cfg)(10 * time.Second); err != nil {
				t.Fatalf("Run returned %v, want nil", err)
			}
			if _, _, completes := f.counts(); completes != 1 {
				t.Errorf("CompleteTrial called %d times, want 1: %v is final", completes, outcome)
			}
			assertSpoolEmpty(t, cfg.SpoolDir)
		})
	}
}

func TestRun_DeliversAfterCoordinatorRestart(t *testing.T) {
	f := newFakeCoordinator()
	f.ttl = 10 * time.Second
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(1)
	finish := make(chan struct{})
	started := make(chan struct{})
	tr := &fakeTrainer{stepTime: time.Millisecond}
	train := func(ctx context.Context, cfg core.Config, p func(core.Progress)) (*core.Result, error) {
		close(started)
		<-finish
		return tr.train(ctx, cfg, p)
	}
	cfg := testConfig(t, f.addr, train)
	cfg.Workers = 1
	cfg.IdleExit = 500 * time.Millisecond
	wait := runAgent(t, context.Background(), cfg)

	// The coordinator goes down while the trial trains, so the result is
	// ready while no coordinator can accept it.
	<-started
	addr := f.addr
	f.stop()
	f.forgetAgents()
	close(finish)
	waitFor(t, 10*time.Second, "the result in the spool", func() bool {
		left, _ := (&spool{dir: cfg.SpoolDir}).list()
		return len(left) == 1
	})
	time.Sleep(500 * time.Millisecond) // several failed deliveries
	f.start(t, addr)

	if err := wait(20 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	if got := f.get(ids[0]); got.state != "succeeded" || got.accepted != 1 {
		t.Errorf("trial state %s, accepted %d times; want succeeded once", got.state, got.accepted)
	}
	assertSpoolEmpty(t, cfg.SpoolDir)
}

func TestRun_RegistersAgainWhenAgentUnknown(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	tr := &fakeTrainer{stepTime: time.Millisecond}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.MaxTrials = 1

	wait := runAgent(t, context.Background(), cfg)
	waitFor(t, 10*time.Second, "the first registration", func() bool {
		registers, _, _ := f.counts()
		return registers == 1
	})
	f.forgetAgents()
	ids := f.addTrials(1)
	if err := wait(10 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	if registers, _, _ := f.counts(); registers != 2 {
		t.Errorf("RegisterAgent called %d times, want 2: once at start, once after the id was lost", registers)
	}
	if got := f.get(ids[0]); got.state != "succeeded" {
		t.Errorf("trial state %s, want succeeded", got.state)
	}
}

func TestRun_HeartbeatCancelStopsTraining(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(1)
	var heartbeats atomic.Int32
	f.heartbeatHook = func(*modsweepv1.HeartbeatRequest) bool { return heartbeats.Add(1) >= 2 }
	// One step lasts longer than the test, so only the cancel can end it.
	tr := &fakeTrainer{stepTime: time.Hour}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.Workers = 1
	cfg.IdleExit = 300 * time.Millisecond

	start := time.Now()
	if err := runAgent(t, context.Background(), cfg)(10 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	tr.mu.Lock()
	stopped := tr.stopped
	tr.mu.Unlock()
	if len(stopped) != 1 || !errors.Is(stopped[0], context.Canceled) {
		t.Fatalf("trainer ended with %v, want one context.Canceled", stopped)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("agent took %v to stop a cancelled trial", elapsed)
	}
	got := f.get(ids[0])
	if got.accepted != 0 || len(got.failures) != 0 {
		t.Errorf("cancelled trial reported: accepted %d, failures %q; want no report", got.accepted, got.failures)
	}
}

func TestRun_LeaseLostStopsTraining(t *testing.T) {
	f := newFakeCoordinator()
	f.ttl = 500 * time.Millisecond
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(1)
	started := make(chan uint64, 1)
	tr := &fakeTrainer{stepTime: time.Hour, started: started}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.Workers = 1

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wait := runAgent(t, ctx, cfg)
	<-started
	f.stop()
	waitFor(t, 10*time.Second, "the trainer to stop", func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.stopped) == 1
	})
	cancel()
	if err := wait(10 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil: a lost lease leaves nothing to deliver", err)
	}
	if got := f.get(ids[0]); got.accepted != 0 || len(got.failures) != 0 {
		t.Errorf("trial with a lost lease reported: accepted %d, failures %q", got.accepted, got.failures)
	}
}

func TestRun_DivergedTrialFailsAndNextRuns(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(2)
	tr := &fakeTrainer{stepTime: time.Millisecond, divergeSeed: 1}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.Workers = 1
	cfg.IdleExit = 300 * time.Millisecond

	if err := runAgent(t, context.Background(), cfg)(10 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	first := f.get(ids[0])
	if first.state != "failed" || len(first.failures) != 1 || !strings.Contains(first.failures[0], "NaN") {
		t.Errorf("diverged trial: state %s, failures %q; want failed with the NaN reason", first.state, first.failures)
	}
	if second := f.get(ids[1]); second.state != "succeeded" {
		t.Errorf("next trial state %s, want succeeded", second.state)
	}
	assertSpoolEmpty(t, cfg.SpoolDir)
}

func TestRun_InvalidConfigFailsTrial(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(1)
	f.trials[ids[0]].trial.ConfigJson = []byte(`{"hidden":15}`)
	tr := &fakeTrainer{stepTime: time.Millisecond}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.IdleExit = 300 * time.Millisecond

	if err := runAgent(t, context.Background(), cfg)(10 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	got := f.get(ids[0])
	if got.state != "failed" || len(got.failures) != 1 || !strings.Contains(got.failures[0], "hidden = 15") {
		t.Errorf("trial: state %s, failures %q; want failed naming hidden = 15", got.state, got.failures)
	}
}

func TestRun_ShutdownReleasesLeases(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(2)
	started := make(chan uint64, 2)
	tr := &fakeTrainer{stepTime: time.Hour, started: started}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.Grace = 100 * time.Millisecond

	ctx, cancel := context.WithCancel(context.Background())
	wait := runAgent(t, ctx, cfg)
	<-started
	<-started
	cancel()
	if err := wait(10 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	for _, id := range ids {
		if got := f.get(id); got.state != "pending" || len(got.failures) != 0 {
			t.Errorf("trial %s: state %s, failures %q; want pending with no failure", id, got.state, got.failures)
		}
	}
	if _, releases, _ := f.counts(); releases != 2 {
		t.Errorf("ReleaseTrial called %d times, want 2", releases)
	}
}

func TestRun_ShutdownLetsTrialsFinishWithinGrace(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(3)
	started := make(chan uint64, 3)
	tr := &fakeTrainer{stepTime: 60 * time.Millisecond, started: started}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.Workers = 1

	ctx, cancel := context.WithCancel(context.Background())
	wait := runAgent(t, ctx, cfg)
	<-started
	cancel()
	if err := wait(10 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	if got := f.get(ids[0]); got.state != "succeeded" {
		t.Errorf("running trial state %s, want succeeded within the grace period", got.state)
	}
	for _, id := range ids[1:] {
		if got := f.get(id); got.attempts != 0 {
			t.Errorf("trial %s leased %d times after shutdown began, want 0", id, got.attempts)
		}
	}
	if _, releases, _ := f.counts(); releases != 0 {
		t.Errorf("ReleaseTrial called %d times, want 0", releases)
	}
}

func TestRun_MaxTrials(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(5)
	tr := &fakeTrainer{stepTime: time.Millisecond}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.Workers = 3
	cfg.MaxTrials = 2

	if err := runAgent(t, context.Background(), cfg)(10 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	succeeded, leased := 0, 0
	for _, id := range ids {
		got := f.get(id)
		if got.state == "succeeded" {
			succeeded++
		}
		if got.attempts > 0 {
			leased++
		}
	}
	if succeeded != 2 || leased != 2 {
		t.Errorf("%d trials succeeded and %d were leased, want 2 and 2", succeeded, leased)
	}
}

func TestRun_IdleExit(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	tr := &fakeTrainer{stepTime: time.Millisecond}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.IdleExit = 300 * time.Millisecond

	start := time.Now()
	if err := runAgent(t, context.Background(), cfg)(10 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	if elapsed := time.Since(start); elapsed < cfg.IdleExit {
		t.Errorf("Run returned after %v, before the idle limit %v", elapsed, cfg.IdleExit)
	}
}

func TestRun_RejectedRegistration(t *testing.T) {
	f := newFakeCoordinator()
	f.rejectRegister = status.Error(codes.FailedPrecondition, "protocol version 0, coordinator speaks 1")
	f.start(t, "127.0.0.1:0")
	tr := &fakeTrainer{stepTime: time.Millisecond}
	cfg := testConfig(t, f.addr, tr.train)

	err := runAgent(t, context.Background(), cfg)(10 * time.Second)
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("Run returned %v, want the coordinator's rejection", err)
	}
}

func TestRun_QuarantineStopsPollingOnly(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(1)
	started := make(chan uint64, 1)
	tr := &fakeTrainer{stepTime: 50 * time.Millisecond, started: started}
	cfg := testConfig(t, f.addr, tr.train)
	cfg.Workers = 2

	wait := runAgent(t, context.Background(), cfg)
	<-started
	f.mu.Lock()
	f.quarantined = true
	f.mu.Unlock()

	err := wait(10 * time.Second)
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "no more trials") {
		t.Fatalf("Run returned %v, want the quarantine error", err)
	}
	if got := f.get(ids[0]); got.state != "succeeded" {
		t.Errorf("trial running at quarantine: state %s, want succeeded", got.state)
	}
}

func TestRun_RetriesRegistrationUntilCoordinatorStarts(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	addr := f.addr
	f.stop()
	ids := f.addTrials(1)
	tr := &fakeTrainer{stepTime: time.Millisecond}
	cfg := testConfig(t, addr, tr.train)
	// The idle limit also bounds registration, so it must outlast the
	// coordinator's absence.
	cfg.IdleExit = 3 * time.Second

	wait := runAgent(t, context.Background(), cfg)
	time.Sleep(300 * time.Millisecond)
	f.start(t, addr)
	if err := wait(20 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	if got := f.get(ids[0]); got.state != "succeeded" {
		t.Errorf("trial state %s, want succeeded", got.state)
	}
}

func assertSpoolEmpty(t *testing.T, dir string) {
	t.Helper()
	left, err := (&spool{dir: dir}).list()
	if err != nil {
		t.Fatalf("list spool: %v", err)
	}
	if len(left) != 0 {
		t.Errorf("spool still holds %v", left)
	}
}

// waitFor polls cond every 10ms until it holds, and fails the test after
// timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRun_TrainsWithCoreTrain(t *testing.T) {
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	ids := f.addTrials(1)
	f.trials[ids[0]].trial.ConfigJson = []byte(`{"tasks":["fdgo"],"hidden":16,"grid_rows":4,"grid_cols":4,
		"steps":20,"batch_size":8,"eval_every":0,"eval_trials":16}`)
	var results [][]byte
	f.completeHook = func(req *modsweepv1.CompleteTrialRequest) (modsweepv1.Outcome, error) {
		results = append(results, req.GetResult().GetResultJson())
		return 0, nil
	}
	cfg := testConfig(t, f.addr, nil) // nil selects core.Train
	cfg.Workers = 1
	cfg.MaxTrials = 1

	if err := runAgent(t, context.Background(), cfg)(60 * time.Second); err != nil {
		t.Fatalf("Run returned %v, want nil", err)
	}
	if got := f.get(ids[0]); got.state != "succeeded" {
		t.Fatalf("trial state %s (failures %q), want succeeded", got.state, got.failures)
	}
	var res core.Result
	if len(results) != 1 {
		t.Fatalf("%d completions, want 1", len(results))
	}
	if err := json.Unmarshal(results[0], &res); err != nil {
		t.Fatalf("result JSON does not decode: %v", err)
	}
	if res.Weights.N != 16 || len(res.Weights.Wrec) != 16*16 {
		t.Errorf("result weights have n = %d and %d recurrent weights, want 16 and 256", res.Weights.N, len(res.Weights.Wrec))
	}
}

func TestRun_IdleExitWhileCoordinatorUnreachable(t *testing.T) {
	// A loopback port that nothing listens on.
	f := newFakeCoordinator()
	f.start(t, "127.0.0.1:0")
	addr := f.addr
	f.stop()

	tr := &fakeTrainer{stepTime: time.Millisecond}
	cfg := testConfig(t, addr, tr.train)
	cfg.IdleExit = 300 * time.Millisecond

	wait := runAgent(t, context.Background(), cfg)
	err := wait(10 * time.Second)
	if err == nil {
		t.Fatal("Run returned nil for an unreachable coordinator, want an error")
	}
	if !strings.Contains(err.Error(), "within the idle limit") {
		t.Errorf("Run error %q does not mention the idle limit", err)
	}
}
