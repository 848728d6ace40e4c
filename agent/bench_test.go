package agent

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/modsweep/modsweep/core"
)

// BenchmarkRun_TrialOverhead measures the agent's cost per trial around an
// instant trainer on loopback: lease, heartbeat-free training, spool write
// with fsync, completion with the next lease chained, and spool removal.
func BenchmarkRun_TrialOverhead(b *testing.B) {
	f := newFakeCoordinator()
	f.hold = 10 * time.Millisecond
	f.start(b, "127.0.0.1:0")
	f.addTrials(b.N)
	instant := func(_ context.Context, cfg core.Config, _ func(core.Progress)) (*core.Result, error) {
		return &core.Result{Final: core.Eval{PerTask: map[string]float64{"fdgo": 1}, Mean: 1, Min: 1}}, nil
	}
	cfg := Config{
		Addr:      f.addr,
		Name:      "bench",
		Workers:   1,
		MaxTrials: b.N,
		SpoolDir:  b.TempDir(),
		Train:     instant,
		Logger:    hclog.NewNullLogger(),
	}

	b.ResetTimer()
	if err := Run(context.Background(), cfg); err != nil {
		b.Fatalf("Run: %v", err)
	}
	b.StopTimer()
	if _, _, completes := f.counts(); completes != b.N {
		b.Fatalf("%d completions, want %d", completes, b.N)
	}
}
