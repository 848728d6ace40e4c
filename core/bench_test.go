package core

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/modsweep/modsweep/core/task"
)

// syntheticBatch returns a batch of random inputs, targets in [0.05, 0.85]
// and cost-mask weights, of the shape of the reference benchmark.
func syntheticBatch(t, b int, seed uint64) *task.Batch {
	rng := rand.New(rand.NewPCG(seed, 1))
	rows := t * b
	tb := &task.Batch{
		Task: "fdgo", T: t, B: b,
		X:    make([]float64, rows*task.NumInputs),
		Y:    make([]float64, rows*task.NumOutput),
		Mask: make([]float64, rows*task.NumOutput),
		YLoc: make([]float64, rows),
	}
	for i := range tb.X {
		tb.X[i] = rng.Float64()
	}
	for i := range tb.Y {
		tb.Y[i] = 0.05 + 0.8*rng.Float64()
		tb.Mask[i] = 1
	}
	return tb
}

// benchTrainStep times one training step (forward, BPTT, Adam) of the
// reference shape: 85 inputs, n hidden units, 33 outputs, batch 64, 100 time
// steps, softplus, with noise.
func benchTrainStep[F float](b *testing.B, n, rows, cols int, penalty bool) {
	cfg := Default()
	cfg.Hidden, cfg.GridRows, cfg.GridCols = n, rows, cols
	if penalty {
		// BIMT's distance-weighted penalty and its gradient at every step;
		// the first swap round would come at step 200.
		cfg.Regularizer, cfg.Lambda = RegBIMT, 1e-4
	}
	batch := syntheticBatch(100, 64, 1)
	before := liveHeap()
	tr, err := newTrainer[F](cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := tr.update(1, batch); err != nil {
		b.Fatal(err)
	}
	// The trainer's live heap after one step: weights, gradients, Adam
	// state, geometry and the activation buffers of one batch.
	trialMB := float64(liveHeap()-before) / (1 << 20)
	b.ReportAllocs()
	cpuStart := processCPUTime()
	step := 0
	for b.Loop() {
		step++
		if _, _, err := tr.update(step, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	// CPU time per step is what a step costs when other processes share
	// the cores; wall time (ns/op, steps/s) includes waiting for a core.
	b.ReportMetric(float64((processCPUTime()-cpuStart).Milliseconds())/float64(b.N), "cpu-ms/step")
	b.ReportMetric(trialMB, "trainer-MiB")
}

// liveHeap returns the bytes of live heap objects after a garbage
// collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// processCPUTime returns the user and system CPU time of this process.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchSizes = []struct{ n, rows, cols int }{{64, 8, 8}, {128, 8, 16}, {256, 16, 16}}

func BenchmarkTrainStep(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", s.n), func(b *testing.B) { benchTrainStep[float32](b, s.n, s.rows, s.cols, false) })
	}
}

func BenchmarkTrainStepPenalty(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", s.n), func(b *testing.B) { benchTrainStep[float32](b, s.n, s.rows, s.cols, true) })
	}
}

func BenchmarkTrainStepFloat64(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", s.n), func(b *testing.B) { benchTrainStep[float64](b, s.n, s.rows, s.cols, false) })
	}
}
