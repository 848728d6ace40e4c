package core

import (
	"math/rand/v2"
	"testing"

	"github.com/modsweep/modsweep/core/task"
)

// taskStream returns the PCG stream that the task package seeds for a batch
// (the same SplitMix64 construction with the rule index in place of a
// domain), so the test can check that no trainer stream repeats it.
func taskStream(seed uint64, rule int, index uint64) *rand.PCG {
	hi := splitMix(seed)
	return rand.NewPCG(hi, splitMix(index^splitMix(uint64(rule)+hi)))
}

func TestStreamsDifferFromTaskStreams(t *testing.T) {
	domains := []uint64{streamInit, streamTaskOrder, streamNoise, streamEvalNoise}
	for _, seed := range []uint64{1, 2, evalSeed} {
		for _, domain := range domains {
			for rule := range task.Names {
				for index := uint64(0); index < 4; index++ {
					_, core := newStream(seed, domain, index)
					tasks := taskStream(seed, rule, index)
					if core.Uint64() == tasks.Uint64() {
						t.Fatalf("seed %d: trainer stream %d and task stream of rule %d share draws at index %d",
							seed, domain, rule, index)
					}
				}
			}
		}
	}
}
