// Package task generates batches of the 20 cognitive tasks of Yang et al.
// (2019), "Task representations in neural networks trained to perform many
// cognitive tasks" (Nature Neuroscience 22:297–306). The task definitions,
// the encoding and the timing distributions follow the authors' code,
// github.com/gyyang/multitask (task.py, random mode), at dt = 20 ms.
//
// # Encoding
//
// Time runs in steps of DtMS = 20 ms. A duration drawn in milliseconds is
// converted to steps by truncating ms/20, one term at a time.
//
// Inputs have NumInputs = 85 channels:
//
//   - channel 0 is the fixation cue: 1 while the cue is shown, else 0;
//   - channels 1–32 and 33–64 are two rings of 32 units with preferred
//     angles 2πk/32. A stimulus at angle φ with strength s adds
//     s·0.8·exp(−(d/(π/8))²/2) to unit k, where d is the circular distance
//     between φ and 2πk/32, so two stimuli in one ring add up;
//   - channels 65–84 are one-hot rule units: the unit of the batch's task
//     is 1 on every step.
//
// Inputs are clean: the caller adds input noise.
//
// Targets have NumOutput = 33 channels and start at 0.05 everywhere. The
// fixation output (channel 0) is 0.8 while the network must fixate. During
// the response period the ring outputs 1–32 are 0.05 plus a bump of height
// 0.8 centred on the response angle, and YLoc holds that angle; YLoc is −1
// while the network must fixate. On a no-go trial the fixation target stays
// 0.8 and YLoc stays −1 to the end.
//
// The cost mask multiplies the output error before it is squared. It is 0
// for the first 100 ms, 1 until the go cue, 0 for the 100 ms after it and 5
// from then on, and the fixation column is doubled.
//
// # Randomness
//
// Generate draws everything from its own PCG stream, seeded from the seed,
// the task and the batch index, so a batch never depends on what else runs
// in the process. Timing and stimulus modality are drawn once per batch;
// locations, strengths and match flags once per trial. Yang's multisensory
// tasks split strengths across modalities with the global numpy generator.
// Here that split comes from the seeded stream too, so every batch can be
// reproduced.
//
// NOTE: the drawn parameters (Batch.Timing and Batch.Trials) are the same
// on every platform, but the encoded arrays go through math.Exp, whose last
// bit may differ between CPU architectures.
package task
