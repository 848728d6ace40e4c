package task

import "testing"

// BenchmarkGenerate measures one training batch of 64 trials per task.
func BenchmarkGenerate(b *testing.B) {
	for _, name := range Names {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, err := Generate(name, 1, uint64(i), 64); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPerformance measures scoring one evaluation batch of 512 trials.
func BenchmarkPerformance(b *testing.B) {
	batch, err := Generate("delaydm1", 1, 0, 512)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		Performance(batch.Y, batch)
	}
}

// BenchmarkGenerateInto measures the same batches generated into one
// reused Batch, as a training loop would.
func BenchmarkGenerateInto(b *testing.B) {
	for _, name := range []string{"fdgo", "delaydm1", "dmcgo"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			dst := &Batch{}
			for i := 0; b.Loop(); i++ {
				if err := GenerateInto(dst, name, 1, uint64(i), 64); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
