package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"slices"
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
// Clients and server share the machine's cores.
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

func benchLeaseComplete(b *testing.B, agents int, chain bool) {
	c, addr := benchServer(b)
	sub := benchSubmission(b.N)
	if _, err := c.submit(sub); err != nil {
		b.Fatalf("submit %d trials: %v", b.N, err)
	}

	clients := make([]modsweepv1.CoordinatorServiceClient, agents)
	ids := make([]string, agents)
	for i := range clients {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatalf("dial: %v", err)
		}
		b.Cleanup(func() { _ = conn.Close() })
		clients[i] = modsweepv1.NewCoordinatorServiceClient(conn)
		resp, err := clients[i].RegisterAgent(context.Background(), &modsweepv1.RegisterAgentRequest{
			Name: fmt.Sprintf("bench-%d", i), ProtocolVersion: modsweepv1.ProtocolVersion,
		})
		if err != nil {
			b.Fatalf("register: %v", err)
		}
		ids[i] = resp.GetAgentId()
	}
	result := &modsweepv1.TrialResult{
		Metrics:    &modsweepv1.Metrics{Performance: 0.9, ActiveNeurons: 12, WiringLength: 40},
		ResultJson: []byte(`{"measures":{"performance":0.9,"active_neurons":12}}`),
	}

	// Agents run until the trials run out; the clock stops at the last
	// completion, and Drain then ends the polls still waiting.
	var completed atomic.Int64
	finished := make(chan time.Time, 1)
	latencies := make([][]time.Duration, agents)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range agents {
		wg.Go(func() {
			<-start
			var next *modsweepv1.LeaseTrialResponse
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				resp := next
				if resp == nil {
					t0 := time.Now()
					var err error
					resp, err = clients[i].LeaseTrial(ctx, &modsweepv1.LeaseTrialRequest{AgentId: ids[i]})
					latencies[i] = append(latencies[i], time.Since(t0))
					if err != nil {
						b.Errorf("lease: %v", err)
					}
					if err != nil || !resp.GetFound() {
						cancel()
						return
					}
				}
				t0 := time.Now()
				out, err := clients[i].CompleteTrial(ctx, &modsweepv1.CompleteTrialRequest{
					AgentId: ids[i], Lease: resp.GetLease(), Result: result, LeaseNext: chain,
				})
				if chain {
					latencies[i] = append(latencies[i], time.Since(t0))
				}
				cancel()
				if err != nil || out.GetOutcome() != modsweepv1.Outcome_OUTCOME_ACCEPTED {
					b.Errorf("complete: %v %v", out.GetOutcome(), err)
					return
				}
				if completed.Add(1) == int64(b.N) {
					finished <- time.Now()
				}
				next = nil
				if out.GetNext().GetFound() {
					next = out.GetNext()
				}
			}
		})
	}

	b.ResetTimer()
	cpu0 := processCPU()
	t0 := time.Now()
	close(start)
	var elapsed time.Duration
	select {
	case end := <-finished:
		elapsed = end.Sub(t0)
	case <-time.After(10 * time.Minute):
		b.Fatalf("only %d of %d trials completed in 10 minutes", completed.Load(), b.N)
	}
	cpu := processCPU() - cpu0
	b.StopTimer()
	c.Drain()
	wg.Wait()
	logCommitStats(b, c)

	all := slices.Concat(latencies...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	quantile := func(q float64) float64 {
		return float64(all[int(q*float64(len(all)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "roundtrips/s")
	b.ReportMetric(quantile(0.50), "p50-lease-ms")
	b.ReportMetric(quantile(0.99), "p99-lease-ms")
	// CPU per round trip, client and server together, is the figure that
	// stays comparable when other processes share the cores.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/roundtrip")
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
