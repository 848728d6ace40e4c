package core

import (
	"math"
	"unsafe"

	"github.com/modsweep/modsweep/core/internal/kernel"
)

// The float32 compute path evaluates softplus and sigmoid with the AVX2
// kernels of package kernel where the CPU has them, and otherwise with the
// short polynomials below instead of package math. The polynomials run in
// float64 and are accurate to about 1e-8 relative, well inside float32's
// 6e-8 rounding, at a fraction of the cost. The float64 path uses package
// math.

const (
	log2e = 1.4426950408889634 // 1/ln 2
	ln2   = 0.6931471805599453
)

// expNeg returns e^{-a} for a >= 0. It reduces a to a = k·ln2 - r with
// |r| <= ln2/2 and evaluates e^r with its degree-7 Taylor polynomial, whose
// truncation error is below 6e-9 relative.
func expNeg(a float64) float64 {
	if a > 700 {
		return 0
	}
	k := float64(int64(a*log2e + 0.5))
	r := k*ln2 - a
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float64frombits(uint64(1023-int64(k))<<52)
}

// log1pUnit returns ln(1+e) for e in [0, 1] as 2·atanh(s) with s = e/(2+e)
// <= 1/3, summed to s^13; the first omitted term is below 2e-8 relative.
func log1pUnit(e float64) float64 {
	s := e / (2 + e)
	s2 := s * s
	return 2 * s * (1 + s2*(1.0/3+s2*(1.0/5+s2*(1.0/7+s2*(1.0/9+s2*(1.0/11+s2*(1.0/13)))))))
}

// softplusFast sets r = ln(1+e^z) and df = sigmoid(z): with the AVX2
// kernel for float32 where the CPU has it, else with expNeg and log1pUnit.
func softplusFast[F float](r, df, z []F) {
	done := 0
	if kernel.Available && unsafe.Sizeof(F(0)) == 4 && len(z) >= 8 {
		done = len(z) &^ 7
		kernel.Softplus(f32(z), f32(r), f32(df), done)
	}
	for j := done; j < len(z); j++ {
		v := z[j]
		x := float64(v)
		a := math.Abs(x)
		e := expNeg(a)
		r[j] = F(math.Max(x, 0) + log1pUnit(e))
		num := 1.0
		if x < 0 {
			num = e
		}
		df[j] = F(num / (1 + e))
	}
}

// sigmoidFast sets y[i] = 1/(1+e^{-y[i]}): with the AVX2 kernel for
// float32 where the CPU has it, else with expNeg.
func sigmoidFast[F float](y []F) {
	done := 0
	if kernel.Available && unsafe.Sizeof(F(0)) == 4 && len(y) >= 8 {
		done = len(y) &^ 7
		kernel.Sigmoid(f32(y), done)
	}
	for i := done; i < len(y); i++ {
		v := y[i]
		x := float64(v)
		e := expNeg(math.Abs(x))
		num := 1.0
		if x < 0 {
			num = e
		}
		y[i] = F(num / (1 + e))
	}
}

// f32 returns a pointer to the first element of s, which must hold float32
// values and be non-empty.
func f32[F float](s []F) *float32 {
	return (*float32)(unsafe.Pointer(unsafe.SliceData(s)))
}
