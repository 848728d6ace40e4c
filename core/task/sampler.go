package task

import (
	"math/bits"
	"math/rand/v2"
)

// sampler draws the random parameters of one batch. It converts the raw
// 64-bit PCG output itself, so a batch stays bit-identical across Go
// releases as long as PCG's documented algorithm does.
type sampler struct {
	src *rand.PCG
}

// newSampler seeds a PCG stream from the sweep seed, the rule index and the
// batch index. Each part goes through a SplitMix64 mixer, so nearby seeds or
// indices give unrelated streams.
func newSampler(seed uint64, rule int, index uint64) *sampler {
	hi := mix64(seed)
	lo := mix64(index ^ mix64(uint64(rule)+hi))
	return &sampler{src: rand.NewPCG(hi, lo)}
}

// mix64 is the SplitMix64 output function.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// uniform returns a draw from U[lo, hi). The conversion of the product
// stops the compiler from fusing it into the sum (which Go allows, for
// example on arm64), so every platform gets the same bits.
func (s *sampler) uniform(lo, hi float64) float64 {
	u := float64(s.src.Uint64()>>11) * 0x1p-53
	return lo + float64((hi-lo)*u)
}

// intN returns a uniform draw from {0, …, n−1} without modulo bias
// (Lemire's multiply-and-reject method).
func (s *sampler) intN(n int) int {
	bound := uint64(n)
	threshold := -bound % bound
	for {
		hi, lo := bits.Mul64(s.src.Uint64(), bound)
		if lo >= threshold {
			return int(hi)
		}
	}
}

// sign returns −1 or +1 with equal probability.
func (s *sampler) sign() float64 {
	if s.intN(2) == 0 {
		return -1
	}
	return 1
}

// choose returns a uniform draw from values.
func choose[T any](s *sampler, values ...T) T {
	return values[s.intN(len(values))]
}
