package coordinator

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/modsweep/modsweep/core"
	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// BenchmarkLeaseComplete measures lease-and-complete round trips per
// second with simulated agents on loopback gRPC, each on its own
// connection, against a bbolt file with the default fsync on every commit.
// The agents run in a child process (this test binary, in
// TestBenchAgents), so the server's CPU time can be measured apart from
// theirs. Both processes share the machine's cores.
//
// One op is one trial's round trip. In mode=poll an agent calls LeaseTrial
// and then CompleteTrial, and the lease latency is the client-side time of
// LeaseTrial. In mode=chain CompleteTrial sets lease_next and returns the
// next lease, so a trial costs one RPC; the lease latency is then the time
// of that CompleteTrial call.
func BenchmarkLeaseComplete(b *testing.B) {
	for _, chain := range []bool{false, true} {
		for _, agents := range []int{10, 100, 500} {
			mode := "poll"
			if chain {
				mode = "chain"
			}
			b.Run(fmt.Sprintf("mode=%s/agents=%d", mode, agents), func(b *testing.B) {
				benchLeaseComplete(b, agents, chain)
			})
		}
	}
}

// benchReport is what the agent process writes when every trial is done.
type benchReport struct {
	Elapsed time.Duration `json:"elapsed"`
	P50     time.Duration `json:"p50"`
	P99     time.Duration `json:"p99"`
	Errors  []string      `json:"errors"`
}

// Environment of the agent process.
const (
	envBenchAddr   = "MODSWEEP_BENCH_ADDR"
	envBenchAgents = "MODSWEEP_BENCH_AGENTS"
	envBenchTrials = "MODSWEEP_BENCH_TRIALS"
	envBenchChain  = "MODSWEEP_BENCH_CHAIN"
)

func benchLeaseComplete(b *testing.B, agents int, chain bool) {
	c, addr := benchServer(b)
	if _, err := c.submit(benchSubmission(b.N)); err != nil {
		b.Fatalf("submit %d trials: %v", b.N, err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchAgents$", "-test.v")
	cmd.Env = append(os.Environ(),
		envBenchAddr+"="+addr,
		fmt.Sprintf("%s=%d", envBenchAgents, agents),
		fmt.Sprintf("%s=%d", envBenchTrials, b.N),
		fmt.Sprintf("%s=%t", envBenchChain, chain),
	)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start agent process: %v", err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	if !scanTo(lines, "ready") {
		b.Fatalf("agent process did not get ready: %v", lines.Err())
	}

	b.ResetTimer()
	cpu0 := processCPU()
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		b.Fatal(err)
	}
	if !scanTo(lines, "report ") {
		b.Fatalf("agent process ended without a report: %v", lines.Err())
	}
	serverCPU := processCPU() - cpu0
	b.StopTimer()

	var rep benchReport
	if err := json.Unmarshal([]byte(strings.TrimPrefix(lines.Text(), "report ")), &rep); err != nil {
		b.Fatalf("decode report: %v", err)
	}
	c.Drain()
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		b.Errorf("agent process: %v", err)
	}
	for _, e := range rep.Errors {
		b.Error(e)
	}
	logCommitStats(b, c)

	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(float64(b.N)/rep.Elapsed.Seconds(), "roundtrips/s")
	b.ReportMetric(ms(rep.P50), "p50-lease-ms")
	b.ReportMetric(ms(rep.P99), "p99-lease-ms")
	// Server CPU per round trip bounds what a coordinator with dedicated
	// cores can serve; it stays comparable when other processes load the
	// cores.
	b.ReportMetric(float64(serverCPU.Microseconds())/float64(b.N), "server-cpu-us/roundtrip")
}

// scanTo reads lines until one starts with prefix.
func scanTo(lines *bufio.Scanner, prefix string) bool {
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), prefix) {
			return true
		}
	}
	return false
}

// TestBenchAgents is the agent process of BenchmarkLeaseComplete; it is
// skipped unless the benchmark started it. It registers the agents,
// prints "ready", waits for a line on stdin, runs every trial and prints
// "report " and a benchReport as JSON.
func TestBenchAgents(t *testing.T) {
	addr := os.Getenv(envBenchAddr)
	if addr == "" {
		t.Skip("runs only as the agent process of BenchmarkLeaseComplete")
	}
	agents, _ := strconv.Atoi(os.Getenv(envBenchAgents))
	trials, _ := strconv.Atoi(os.Getenv(envBenchTrials))
	chain := os.Getenv(envBenchChain) == "true"

	clients := make([]modsweepv1.CoordinatorServiceClient, agents)
	ids := make([]string, agents)
	for i := range clients {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer conn.Close()
		clients[i] = modsweepv1.NewCoordinatorServiceClient(conn)
		resp, err := clients[i].RegisterAgent(context.Background(), &modsweepv1.RegisterAgentRequest{
			Name: fmt.Sprintf("bench-%d", i), ProtocolVersion: modsweepv1.ProtocolVersion,
		})
		if err != nil {
			t.Fatalf("register: %v", err)
		}
		ids[i] = resp.GetAgentId()
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatalf("wait for start: %v", err)
	}

	rep, latencies := runBenchAgents(clients, ids, trials, chain)
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		rep.P50 = latencies[n/2]
		rep.P99 = latencies[int(0.99*float64(n-1))]
	}
	body, _ := json.Marshal(rep)
	fmt.Printf("report %s\n", body)
}

// benchRun is the shared state of the simulated agents.
type benchRun struct {
	trials    int64
	start     time.Time
	completed atomic.Int64
	finished  chan struct{} // closed at the last completion

	mu        sync.Mutex
	report    benchReport
	latencies []time.Duration
}

// runBenchAgents runs one goroutine per agent and returns at the last
// completion, with the latencies of every successful lease. The agents
// still polling then end when the server drains.
func runBenchAgents(clients []modsweepv1.CoordinatorServiceClient, ids []string, trials int,
	chain bool,
) (benchReport, []time.Duration) {
	run := &benchRun{trials: int64(trials), start: time.Now(), finished: make(chan struct{})}
	for i := range clients {
		go run.agent(clients[i], ids[i], chain)
	}
	<-run.finished

	run.mu.Lock()
	defer run.mu.Unlock()
	return run.report, slices.Clone(run.latencies)
}

func (r *benchRun) record(latency time.Duration) {
	r.mu.Lock()
	r.latencies = append(r.latencies, latency)
	r.mu.Unlock()
}

func (r *benchRun) fail(err error) {
	r.mu.Lock()
	if len(r.report.Errors) < 10 {
		r.report.Errors = append(r.report.Errors, err.Error())
	}
	r.mu.Unlock()
}

// agent leases and completes trials until LeaseTrial finds none.
func (r *benchRun) agent(client modsweepv1.CoordinatorServiceClient, id string, chain bool) {
	result := &modsweepv1.TrialResult{
		Metrics:    &modsweepv1.Metrics{Performance: 0.9, ActiveNeurons: 12, WiringLength: 40},
		ResultJson: []byte(`{"measures":{"performance":0.9,"active_neurons":12}}`),
	}
	var next *modsweepv1.LeaseTrialResponse
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		resp := next
		if resp == nil {
			t0 := time.Now()
			var err error
			resp, err = client.LeaseTrial(ctx, &modsweepv1.LeaseTrialRequest{AgentId: id})
			if err != nil {
				r.fail(fmt.Errorf("lease: %w", err))
			}
			if err != nil || !resp.GetFound() {
				cancel()
				return
			}
			r.record(time.Since(t0))
		}
		t0 := time.Now()
		out, err := client.CompleteTrial(ctx, &modsweepv1.CompleteTrialRequest{
			AgentId: id, Lease: resp.GetLease(), Result: result, LeaseNext: chain,
		})
		cancel()
		if err != nil || out.GetOutcome() != modsweepv1.Outcome_OUTCOME_ACCEPTED {
			r.fail(fmt.Errorf("complete: outcome %v: %w", out.GetOutcome(), err))
			return
		}
		if chain {
			r.record(time.Since(t0))
		}
		if r.completed.Add(1) == r.trials {
			r.mu.Lock()
			r.report.Elapsed = time.Since(r.start)
			r.mu.Unlock()
			close(r.finished)
		}
		next = nil
		if out.GetNext().GetFound() {
			next = out.GetNext()
		}
	}
}

// processCPU returns the user plus system CPU time of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchServer serves a fresh coordinator on loopback until the benchmark
// ends.
func benchServer(b *testing.B) (*Coordinator, string) {
	c, err := Open(context.Background(), Config{
		Path:     filepath.Join(b.TempDir(), "bench.db"),
		LeaseTTL: time.Minute,
		Logger:   hclog.NewNullLogger(),
	})
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatalf("listen: %v", err)
	}
	srv, _ := c.newGRPCServer(security{mode: "loopback"})
	go func() { _ = srv.Serve(lis) }()
	b.Cleanup(func() {
		c.Drain()
		srv.Stop()
		_ = c.Close()
	})
	return c, lis.Addr().String()
}

// benchSubmission builds a sweep of n trials with a full default
// configuration each, without the YAML parser.
func benchSubmission(n int) submission {
	cfg, err := json.Marshal(core.Default())
	if err != nil {
		panic(err)
	}
	sub := submission{name: "bench", spec: []byte("name: bench\n"), axes: map[string]int64{"seed": int64(n)}}
	for i := range n {
		sub.trials = append(sub.trials, trialSpec{
			ID:          fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15),
			Index:       i,
			Config:      cfg,
			Regularizer: "none",
			Seed:        uint64(i + 1),
		})
	}
	return sub
}

// logCommitStats logs the mean commit duration, writes per commit and
// server-side lease latency, to show how far group commit batches.
func logCommitStats(b *testing.B, c *Coordinator) {
	mfs, _ := c.metrics.registry.Gather()
	for _, mf := range mfs {
		switch mf.GetName() {
		case "modsweep_commit_seconds", "modsweep_commit_writes", "modsweep_lease_latency_seconds":
			h := mf.GetMetric()[0].GetHistogram()
			b.Logf("%s: count %d mean %.4f", mf.GetName(), h.GetSampleCount(), h.GetSampleSum()/float64(h.GetSampleCount()))
		}
	}
}
