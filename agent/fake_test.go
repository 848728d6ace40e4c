package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/modsweep/modsweep/core"
	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// fakeCoordinator is an in-memory CoordinatorService with the lease rules
// of the real one, plus hooks that inject faults. Its state survives a
// restart of its gRPC server, as the real coordinator's bbolt file does.
type fakeCoordinator struct {
	modsweepv1.UnimplementedCoordinatorServiceServer

	ttl, heartbeat, hold time.Duration

	mu       sync.Mutex
	agents   map[string]bool
	nAgents  int
	trials   map[string]*fakeTrial
	order    []string // trial ids, in submission order
	work     chan struct{}
	register int // RegisterAgent calls
	releases int
	// quarantined makes LeaseTrial fail with FailedPrecondition.
	quarantined bool
	// rejectRegister, when set, is returned by RegisterAgent.
	rejectRegister error
	// completeHook, when set, runs before CompleteTrial and may return
	// an error or a forced outcome.
	completeHook func(*modsweepv1.CompleteTrialRequest) (modsweepv1.Outcome, error)
	// heartbeatHook, when set, runs before Heartbeat's lease check, and a
	// true result makes Heartbeat return cancel.
	heartbeatHook func(*modsweepv1.HeartbeatRequest) (cancel bool)
	completeCalls int
	polled        int // leases granted by LeaseTrial
	chained       int // leases granted by CompleteTrial with lease_next

	srv  *grpc.Server
	addr string
}

type fakeTrial struct {
	trial     *modsweepv1.Trial
	state     string // pending, leased, succeeded, failed
	epoch     uint64
	attempts  uint32
	accepted  int
	failures  []string
	lastSteps int64
}

func newFakeCoordinator() *fakeCoordinator {
	return &fakeCoordinator{
		ttl:       2 * time.Second,
		heartbeat: 100 * time.Millisecond,
		hold:      200 * time.Millisecond,
		agents:    map[string]bool{},
		trials:    map[string]*fakeTrial{},
		work:      make(chan struct{}),
	}
}

// addTrials queues n trials of a tiny configuration with seeds 1..n.
func (f *fakeCoordinator) addTrials(n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for range n {
		seed := len(f.order) + 1
		id := fmt.Sprintf("trial%02d", seed)
		cfg := fmt.Sprintf(`{"hidden":16,"grid_rows":4,"grid_cols":4,"steps":5,"seed":%d}`, seed)
		f.trials[id] = &fakeTrial{
			trial: &modsweepv1.Trial{SweepId: "sweep1", Id: id, ConfigJson: []byte(cfg), Seed: uint64(seed)},
			state: "pending",
		}
		f.order = append(f.order, id)
		ids = append(ids, id)
	}
	f.wakeLocked()
	return ids
}

func (f *fakeCoordinator) wakeLocked() {
	close(f.work)
	f.work = make(chan struct{})
}

// start serves the fake on addr ("127.0.0.1:0" picks a port) and stops it
// at the end of the test.
func (f *fakeCoordinator) start(t testing.TB, addr string) {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	srv := grpc.NewServer()
	modsweepv1.RegisterCoordinatorServiceServer(srv, f)
	f.mu.Lock()
	f.srv, f.addr = srv, lis.Addr().String()
	f.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
}

// stop ends the gRPC server, as a crashed coordinator would.
func (f *fakeCoordinator) stop() {
	f.mu.Lock()
	srv := f.srv
	f.mu.Unlock()
	srv.Stop()
}

// forgetAgents drops every registration, as a coordinator that lost its
// agent records would.
func (f *fakeCoordinator) forgetAgents() {
	f.mu.Lock()
	f.agents = map[string]bool{}
	f.mu.Unlock()
}

func (f *fakeCoordinator) get(id string) fakeTrial {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.trials[id]
}

func (f *fakeCoordinator) counts() (registers, releases, completes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.register, f.releases, f.completeCalls
}

func (f *fakeCoordinator) RegisterAgent(_ context.Context, req *modsweepv1.RegisterAgentRequest) (*modsweepv1.RegisterAgentResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.register++
	if f.rejectRegister != nil {
		return nil, f.rejectRegister
	}
	if req.GetProtocolVersion() != modsweepv1.ProtocolVersion || req.GetSlots() == 0 || req.GetName() == "" {
		return nil, status.Errorf(codes.InvalidArgument, "bad registration %v", req)
	}
	f.nAgents++
	id := fmt.Sprintf("%s-%d", req.GetName(), f.nAgents)
	f.agents[id] = true
	return &modsweepv1.RegisterAgentResponse{
		AgentId:           id,
		LeaseTtl:          durationpb.New(f.ttl),
		HeartbeatInterval: durationpb.New(f.heartbeat),
		PollHold:          durationpb.New(f.hold),
		ProtocolVersion:   modsweepv1.ProtocolVersion,
	}, nil
}

func (f *fakeCoordinator) LeaseTrial(ctx context.Context, req *modsweepv1.LeaseTrialRequest) (*modsweepv1.LeaseTrialResponse, error) {
	if _, ok := ctx.Deadline(); !ok {
		return nil, status.Error(codes.InvalidArgument, "lease call without a deadline")
	}
	hold := time.NewTimer(f.hold)
	defer hold.Stop()
	for {
		f.mu.Lock()
		if !f.agents[req.GetAgentId()] {
			f.mu.Unlock()
			return nil, status.Errorf(codes.NotFound, "agent %q is not registered", req.GetAgentId())
		}
		if f.quarantined {
			f.mu.Unlock()
			return nil, status.Errorf(codes.FailedPrecondition, "agent %q is quarantined", req.GetAgentId())
		}
		if resp := f.leaseLocked(); resp != nil {
			f.polled++
			f.mu.Unlock()
			return resp, nil
		}
		work := f.work
		f.mu.Unlock()

		select {
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-hold.C:
			return &modsweepv1.LeaseTrialResponse{}, nil
		case <-work:
		}
	}
}

// leaseLocked leases the first pending trial, or returns nil when none is.
func (f *fakeCoordinator) leaseLocked() *modsweepv1.LeaseTrialResponse {
	for _, id := range f.order {
		t := f.trials[id]
		if t.state != "pending" {
			continue
		}
		t.state, t.epoch, t.attempts = "leased", t.epoch+1, t.attempts+1
		lease := &modsweepv1.Lease{SweepId: t.trial.SweepId, TrialId: id, Attempt: t.attempts, Epoch: t.epoch}
		return &modsweepv1.LeaseTrialResponse{Found: true, Lease: lease, Trial: t.trial}
	}
	return nil
}

// check returns the outcome of a report for lease, or 0 when the lease is
// current.
func (f *fakeCoordinator) checkLocked(lease *modsweepv1.Lease) (*fakeTrial, modsweepv1.Outcome, error) {
	t, ok := f.trials[lease.GetTrialId()]
	if !ok {
		return nil, 0, status.Errorf(codes.NotFound, "trial %q not found", lease.GetTrialId())
	}
	switch {
	case lease.GetEpoch() != t.epoch:
		return t, modsweepv1.Outcome_OUTCOME_SUPERSEDED, nil
	case t.state == "succeeded":
		return t, modsweepv1.Outcome_OUTCOME_ALREADY_COMPLETED, nil
	case t.state != "leased":
		return t, modsweepv1.Outcome_OUTCOME_SUPERSEDED, nil
	}
	return t, 0, nil
}

func (f *fakeCoordinator) Heartbeat(_ context.Context, req *modsweepv1.HeartbeatRequest) (*modsweepv1.HeartbeatResponse, error) {
	f.mu.Lock()
	hook := f.heartbeatHook
	f.mu.Unlock()
	if hook != nil && hook(req) {
		return &modsweepv1.HeartbeatResponse{Cancel: true, Reason: "trial cancelled"}, nil
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.agents[req.GetAgentId()] {
		return nil, status.Errorf(codes.NotFound, "agent %q is not registered", req.GetAgentId())
	}
	t, outcome, err := f.checkLocked(req.GetLease())
	if err != nil {
		return nil, err
	}
	if outcome != 0 {
		return &modsweepv1.HeartbeatResponse{Cancel: true, Reason: outcome.String()}, nil
	}
	t.lastSteps = req.GetProgress().GetSteps()
	return &modsweepv1.HeartbeatResponse{}, nil
}

func (f *fakeCoordinator) CompleteTrial(_ context.Context, req *modsweepv1.CompleteTrialRequest) (*modsweepv1.CompleteTrialResponse, error) {
	f.mu.Lock()
	f.completeCalls++
	hook := f.completeHook
	f.mu.Unlock()
	if hook != nil {
		outcome, err := hook(req)
		if err != nil {
			return nil, err
		}
		if outcome != 0 {
			return &modsweepv1.CompleteTrialResponse{Outcome: outcome}, nil
		}
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if req.GetResult().GetMetrics() == nil || len(req.GetResult().GetResultJson()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "completion without a result")
	}
	t, outcome, err := f.checkLocked(req.GetLease())
	if err != nil {
		return nil, err
	}
	if outcome == 0 {
		t.state = "succeeded"
		t.accepted++
		outcome = modsweepv1.Outcome_OUTCOME_ACCEPTED
	}
	resp := &modsweepv1.CompleteTrialResponse{Outcome: outcome}
	if req.GetLeaseNext() {
		resp.Next = &modsweepv1.LeaseTrialResponse{}
		if next := f.leaseLocked(); next != nil {
			f.chained++
			resp.Next = next
		}
	}
	return resp, nil
}

func (f *fakeCoordinator) FailTrial(_ context.Context, req *modsweepv1.FailTrialRequest) (*modsweepv1.FailTrialResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, outcome, err := f.checkLocked(req.GetLease())
	if err != nil {
		return nil, err
	}
	if outcome != 0 {
		return &modsweepv1.FailTrialResponse{Outcome: outcome}, nil
	}
	t.failures = append(t.failures, req.GetReason())
	t.state = "failed"
	return &modsweepv1.FailTrialResponse{Outcome: modsweepv1.Outcome_OUTCOME_ACCEPTED, Final: true}, nil
}

func (f *fakeCoordinator) ReleaseTrial(_ context.Context, req *modsweepv1.ReleaseTrialRequest) (*modsweepv1.ReleaseTrialResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releases++
	t, outcome, err := f.checkLocked(req.GetLease())
	if err != nil {
		return nil, err
	}
	if outcome != 0 {
		return &modsweepv1.ReleaseTrialResponse{Outcome: outcome}, nil
	}
	t.state = "pending"
	f.wakeLocked()
	return &modsweepv1.ReleaseTrialResponse{Outcome: modsweepv1.Outcome_OUTCOME_ACCEPTED}, nil
}

// fakeTrainer trains nothing: each step sleeps stepTime, or until ctx
// ends.
type fakeTrainer struct {
	stepTime time.Duration
	// divergeSeed makes the trial with that seed fail at step 2.
	divergeSeed uint64
	// started receives the seed of every trial as it starts, if not nil.
	started chan uint64

	mu      sync.Mutex
	stopped []error // the error of every trial that ended early
}

func (f *fakeTrainer) train(ctx context.Context, cfg core.Config, progress func(core.Progress)) (*core.Result, error) {
	if f.started != nil {
		f.started <- cfg.Seed
	}
	for step := 1; step <= cfg.Steps; step++ {
		if err := sleep(ctx, f.stepTime); err != nil {
			f.mu.Lock()
			f.stopped = append(f.stopped, err)
			f.mu.Unlock()
			return nil, err
		}
		progress(core.Progress{Step: step, Steps: cfg.Steps, Loss: 1 / float64(step)})
		if cfg.Seed == f.divergeSeed && step == 2 {
			return nil, errors.New("training diverged: loss is NaN at step 2")
		}
	}
	return &core.Result{
		Final:     core.Eval{Step: cfg.Steps, PerTask: map[string]float64{"fdgo": 0.9}, Mean: 0.9, Min: 0.9},
		FinalLoss: 0.01,
		Duration:  time.Duration(cfg.Steps) * f.stepTime,
	}, nil
}

// testConfig returns an agent configuration for the fake at addr with a
// spool in a temporary folder and fast retries.
func testConfig(t *testing.T, addr string, train TrainFunc) Config {
	return Config{
		Addr:      addr,
		Name:      "test",
		Workers:   2,
		SpoolDir:  t.TempDir(),
		Grace:     5 * time.Second,
		Train:     train,
		Logger:    hclog.New(&hclog.LoggerOptions{Name: "agent", Level: hclog.Debug, Output: testWriter{t}}),
		retry:     backoffPolicy{Base: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		logWindow: time.Second,
	}
}

// testWriter sends log output to t.Log, so logs show only on failure.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// runAgent runs Run in the background and returns a function that waits
// for its error, failing the test after timeout.
func runAgent(t *testing.T, ctx context.Context, cfg Config) func(timeout time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	return func(timeout time.Duration) error {
		t.Helper()
		select {
		case err := <-done:
			return err
		case <-time.After(timeout):
			t.Fatalf("agent did not stop within %v", timeout)
			return nil
		}
	}
}
