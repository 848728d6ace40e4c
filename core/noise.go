package core

import (
	"math"
	"math/rand/v2"
	"unsafe"

	"github.com/modsweep/modsweep/core/internal/kernel"
)

// noiseGen draws Gaussian noise from a PCG stream with the Box–Muller
// transform: each 64-bit PCG output supplies the 24-bit uniforms for half of
// one pair of draws. The AVX2 kernel makes the draws where the CPU has it,
// and boxMullerScalar elsewhere. The two agree only to float32 rounding, so a
// trial reproduces bit for bit only on machines that take the same path.
//
// Noise drawn this way never exceeds 5.77 standard deviations (see
// kernel.BoxMuller), which the noise of a training step does not miss.
type noiseGen struct {
	src    *rand.PCG
	bits   []uint64
	padded []float32 // fillChunk's output when len(dst) is not a multiple of 16
	draws  []float32 // one chunk of addNoise's draws before they are added to src
}

// noiseChunk is the number of draws fill makes per pass: the PCG outputs
// of one pass (32 KiB) stay in L1.
const noiseChunk = 8192

// fill sets dst to std times independent standard normal draws.
func (g *noiseGen) fill(dst []float32, std float64) {
	for start := 0; start < len(dst); start += noiseChunk {
		g.fillChunk(dst[start:min(start+noiseChunk, len(dst))], std)
	}
}

// fillChunk is fill for at most noiseChunk draws.
func (g *noiseGen) fillChunk(dst []float32, std float64) {
	pairs := (len(dst) + 15) / 16 * 8 // pairs of draws, a multiple of 8
	g.bits = growUint64(g.bits, pairs)
	for i := range g.bits {
		g.bits[i] = g.src.Uint64()
	}
	bits := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(g.bits))), 2*pairs)

	out := dst
	if len(dst) != 2*pairs {
		g.padded = grow(g.padded, 2*pairs)
		out = g.padded
	}
	if kernel.Available {
		kernel.BoxMuller(&bits[0], &out[0], pairs, float32(std))
	} else {
		boxMullerScalar(bits, out, pairs, float32(std))
	}
	if len(dst) != 2*pairs {
		copy(dst, out)
	}
}

// boxMullerScalar is kernel.BoxMuller in Go, with package math.
func boxMullerScalar(bits []uint32, out []float32, pairs int, std float32) {
	for i := range pairs {
		u1 := float64(bits[i]>>8+1) * 0x1p-24
		u2 := float64(bits[pairs+i]>>8) * 0x1p-24
		radius := float64(std) * math.Sqrt(-2*math.Log(u1))
		sin, cos := math.Sincos(2 * math.Pi * u2)
		out[i] = float32(radius * cos)
		out[pairs+i] = float32(radius * sin)
	}
}

func growUint64(s []uint64, n int) []uint64 {
	if cap(s) < n {
		return make([]uint64, n)
	}
	return s[:n]
}

// addNoise sets dst[i] = src[i] + std·ξ_i with ξ_i standard normal draws
// from g, or dst[i] = src[i] when std is 0. A nil src counts as zeros.
func addNoise[F float](dst []F, src []float64, std float64, g *noiseGen) {
	if std == 0 {
		if src == nil {
			clear(dst)
		} else {
			convert(dst, src[:len(dst)])
		}
		return
	}
	if src == nil && unsafe.Sizeof(F(0)) == 4 {
		g.fill(unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst)), std)
		return
	}

	for start := 0; start < len(dst); start += noiseChunk {
		end := min(start+noiseChunk, len(dst))
		g.draws = grow(g.draws, end-start)
		g.fillChunk(g.draws, std)
		if src == nil {
			convert(dst[start:end], g.draws)
			continue
		}
		for i, v := range g.draws {
			dst[start+i] = F(src[start+i] + float64(v))
		}
	}
}
