package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// testEnv is a coordinator behind a real gRPC server on loopback, with a
// real bbolt file in a temporary folder.
type testEnv struct {
	t      *testing.T
	cfg    Config
	c      *Coordinator
	srv    *grpc.Server
	conn   *grpc.ClientConn
	client modsweepv1.CoordinatorServiceClient
}

// testLogger writes warnings and errors to the test log, so they show only
// when a test fails.
func testLogger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:   "test",
		Level:  hclog.Warn,
		Output: testWriter{t},
	})
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startEnv opens a coordinator with cfg (Path defaults to a file in a
// temporary folder, PollHold to 300ms) and serves it.
func startEnv(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "modsweep.db")
	}
	if cfg.PollHold == 0 {
		cfg.PollHold = 300 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	e := &testEnv{t: t, cfg: cfg}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *testEnv) start() {
	e.t.Helper()
	c, err := Open(context.Background(), e.cfg)
	if err != nil {
		e.t.Fatalf("open coordinator: %v", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatalf("listen: %v", err)
	}
	srv, _ := c.newGRPCServer(security{mode: "loopback"})
	go func() { _ = srv.Serve(lis) }()

	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		e.t.Fatalf("dial %s: %v", lis.Addr(), err)
	}
	e.c, e.srv, e.conn = c, srv, conn
	e.client = modsweepv1.NewCoordinatorServiceClient(conn)
}

// stop shuts the server down and closes the data file; calling it twice
// is harmless.
func (e *testEnv) stop() {
	if e.c == nil {
		return
	}
	_ = e.conn.Close()
	e.c.Drain()
	e.srv.Stop()
	if err := e.c.Close(); err != nil {
		e.t.Errorf("close coordinator: %v", err)
	}
	e.c = nil
}

// restart closes the coordinator and opens the same data file again.
func (e *testEnv) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

// sweepYAML returns a sweep file of n trials of a tiny network.
func sweepYAML(name string, n int) []byte {
	return fmt.Appendf(nil, `name: %s
base:
  tasks: [fdgo]
  hidden: 4
  steps: 2
  batch_size: 2
  eval_trials: 2
regularizers:
  none: {}
seeds: {count: %d}
limits: {max_trials: 100000}
`, name, n)
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func (e *testEnv) submit(name string, n int) *modsweepv1.SubmitSweepResponse {
	e.t.Helper()
	resp, err := e.client.SubmitSweep(ctxTimeout(e.t, 10*time.Second), &modsweepv1.SubmitSweepRequest{
		Spec: sweepYAML(name, n), Source: name + ".yaml",
	})
	if err != nil {
		e.t.Fatalf("submit sweep %s: %v", name, err)
	}
	return resp
}

func (e *testEnv) register(name string) string {
	e.t.Helper()
	resp, err := e.client.RegisterAgent(ctxTimeout(e.t, 5*time.Second), &modsweepv1.RegisterAgentRequest{
		Name: name, ProtocolVersion: modsweepv1.ProtocolVersion, Slots: 1,
	})
	if err != nil {
		e.t.Fatalf("register agent %s: %v", name, err)
	}
	return resp.GetAgentId()
}

// lease makes one LeaseTrial call with a deadline past the poll hold.
func (e *testEnv) lease(agentID string) (*modsweepv1.LeaseTrialResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.PollHold+2*time.Second)
	defer cancel()
	return e.client.LeaseTrial(ctx, &modsweepv1.LeaseTrialRequest{AgentId: agentID})
}

// mustLease leases a trial and fails the test when none is found.
func (e *testEnv) mustLease(agentID string) *modsweepv1.LeaseTrialResponse {
	e.t.Helper()
	resp, err := e.lease(agentID)
	if err != nil {
		e.t.Fatalf("lease for %s: %v", agentID, err)
	}
	if !resp.GetFound() {
		e.t.Fatalf("lease for %s found no trial", agentID)
	}
	return resp
}

func (e *testEnv) complete(agentID string, lease *modsweepv1.Lease, perf float64) modsweepv1.Outcome {
	e.t.Helper()
	resp, err := e.client.CompleteTrial(ctxTimeout(e.t, 5*time.Second), &modsweepv1.CompleteTrialRequest{
		AgentId: agentID,
		Lease:   lease,
		Result: &modsweepv1.TrialResult{
			Metrics:    &modsweepv1.Metrics{Performance: perf, FinalLoss: 0.5},
			ResultJson: fmt.Appendf(nil, `{"performance": %v}`, perf),
		},
	})
	if err != nil {
		e.t.Fatalf("complete %s epoch %d: %v", lease.GetTrialId(), lease.GetEpoch(), err)
	}
	return resp.GetOutcome()
}

func (e *testEnv) failTrial(agentID string, lease *modsweepv1.Lease, reason string) *modsweepv1.FailTrialResponse {
	e.t.Helper()
	resp, err := e.client.FailTrial(ctxTimeout(e.t, 5*time.Second), &modsweepv1.FailTrialRequest{
		AgentId: agentID, Lease: lease, Reason: reason,
	})
	if err != nil {
		e.t.Fatalf("fail %s epoch %d: %v", lease.GetTrialId(), lease.GetEpoch(), err)
	}
	return resp
}

func (e *testEnv) getTrial(id string) *modsweepv1.TrialRecord {
	e.t.Helper()
	resp, err := e.client.GetTrial(ctxTimeout(e.t, 5*time.Second), &modsweepv1.GetTrialRequest{TrialId: id})
	if err != nil {
		e.t.Fatalf("get trial %s: %v", id, err)
	}
	return resp.GetTrial()
}

// listTrials returns every trial of a sweep.
func (e *testEnv) listTrials(sweepID string) []*modsweepv1.TrialRecord {
	e.t.Helper()
	stream, err := e.client.ListTrials(ctxTimeout(e.t, 10*time.Second),
		&modsweepv1.ListTrialsRequest{SweepId: sweepID})
	if err != nil {
		e.t.Fatalf("list trials of %s: %v", sweepID, err)
	}
	var out []*modsweepv1.TrialRecord
	for {
		msg, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			e.t.Fatalf("list trials of %s: %v", sweepID, err)
		}
		out = append(out, msg.GetTrials()...)
	}
}

// waitFor polls cond every 10ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: not true after %v", what, timeout)
	return 0
}
