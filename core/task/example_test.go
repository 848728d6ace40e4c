package task_test

import (
	"fmt"
	"math"

	"github.com/modsweep/modsweep/core/task"
)

// A known fdanti trial: the stimulus at π/2 in ring 1 appears at step 10,
// the fixation cue goes off at step 40, and the network must respond at
// 3π/2.
func ExampleBuild() {
	timing := task.Timing{T: 65, Stim1On: 10, Stim1Off: 65, GoCue: 40}
	trial := task.Trial{Loc1: math.Pi / 2, Strength1: [2]float64{1, 0}}
	b, err := task.Build("fdanti", timing, []task.Trial{trial})
	if err != nil {
		fmt.Println(err)
		return
	}

	last := b.T - 1
	fmt.Printf("response at %.4f rad (3π/2 = %.4f)\n", b.YLoc[last], 3*math.Pi/2)
	fmt.Println("epochs:", b.Epochs["fix1"], b.Epochs["stim1"], b.Epochs["go1"])
	fmt.Println("mask at steps 0, 20, 42, 50:", b.Mask[0*task.NumOutput+1], b.Mask[20*task.NumOutput+1],
		b.Mask[42*task.NumOutput+1], b.Mask[50*task.NumOutput+1])

	// Scoring the targets themselves gives a correct trial.
	fmt.Println("performance of the targets:", task.Performance(b.Y, b))
	// Output:
	// response at 4.7124 rad (3π/2 = 4.7124)
	// epochs: [0 10] [10 40] [40 65]
	// mask at steps 0, 20, 42, 50: 0 1 0 5
	// performance of the targets: [1]
}

func ExampleGenerate() {
	b, err := task.Generate("dmsnogo", 1, 0, 64)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Task, "trials:", b.B, "inputs per step:", len(b.X)/(b.T*b.B))
	_, err = task.Generate("dms", 1, 0, 64)
	fmt.Println(err != nil)
	// Output:
	// dmsnogo trials: 64 inputs per step: 85
	// true
}
