package core

import "math/rand/v2"

// Random streams. Every random number of a trial comes from a PCG stream
// seeded by the trial seed and one of these domains. So the weight
// initialisation, the task order and each step's noise do not depend on one
// another or on how often the others are drawn.
const (
	streamInit      = 1 // initial weights
	streamTaskOrder = 2 // which task each training step trains on
	streamNoise     = 3 // input and recurrent noise, one stream per step
	streamEvalNoise = 4 // evaluation noise, one stream per evaluation batch
)

// evalSeed seeds the evaluation batches and their noise. It does not depend
// on the trial seed, so every evaluation of every trial scores the same
// trials and the numbers compare directly.
const evalSeed = 0x6d6f6473776565 // "modswee"

// domainSalt keeps the trainer's streams apart from the task generator's.
// The task package seeds its batches with the same mixer, with the rule
// index (0 to 19) in the place of the domain. Without the salt, the noise of
// step s would repeat the draws of batch s of the rule whose index equals
// the noise domain.
const domainSalt = 0x636f72650000 // "core" followed by two zero bytes

// seedStream seeds src with the stream of the given domain and index under
// seed. Each part goes through a SplitMix64 mixer, so nearby seeds and
// indices give unrelated streams.
func seedStream(src *rand.PCG, seed, domain, index uint64) {
	hi := splitMix(seed)
	src.Seed(hi, splitMix(index^splitMix(domainSalt+domain+hi)))
}

// newStream returns a generator on the stream of the given domain and index.
func newStream(seed, domain, index uint64) (*rand.Rand, *rand.PCG) {
	src := rand.NewPCG(0, 0)
	seedStream(src, seed, domain, index)
	return rand.New(src), src
}

// splitMix is the SplitMix64 output function.
func splitMix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
