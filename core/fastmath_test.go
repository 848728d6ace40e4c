package core

import (
	"math"
	"testing"
)

func TestFastMathAccuracy(t *testing.T) {
	worstExp, worstLog := 0.0, 0.0
	for a := 0.0; a < 80; a += 0.001 {
		want := math.Exp(-a)
		if rel := math.Abs(expNeg(a)-want) / want; rel > worstExp {
			worstExp = rel
		}
	}
	for e := 0.0; e <= 1; e += 1e-5 {
		want := math.Log1p(e)
		got := log1pUnit(e)
		if e == 0 {
			if got != 0 {
				t.Errorf("log1pUnit(0) = %g, want 0", got)
			}
			continue
		}
		if rel := math.Abs(got-want) / want; rel > worstLog {
			worstLog = rel
		}
	}
	if worstExp > 1e-8 {
		t.Errorf("expNeg: worst relative error %.3g over [0, 80), want <= 1e-8", worstExp)
	}
	if worstLog > 2e-8 {
		t.Errorf("log1pUnit: worst relative error %.3g over [0, 1], want <= 2e-8", worstLog)
	}
	if got := expNeg(800); got != 0 {
		t.Errorf("expNeg(800) = %g, want 0", got)
	}
}

func TestSoftplusFloat32Accuracy(t *testing.T) {
	var z []float32
	for x := -100.0; x <= 100; x += 0.0137 {
		z = append(z, float32(x))
	}
	z = append(z, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 200, -200, 3) // 3 makes a scalar tail
	r := make([]float32, len(z))
	df := make([]float32, len(z))
	softplusFast(r, df, z)
	worstR, worstDF := 0.0, 0.0
	for i, v := range z {
		x := float64(v)
		if x < -87 {
			continue
		}
		wantR := math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
		wantDF := 1 / (1 + math.Exp(-x))
		if rel := math.Abs(float64(r[i])-wantR) / wantR; rel > worstR {
			worstR = rel
		}
		if rel := math.Abs(float64(df[i])-wantDF) / wantDF; rel > worstDF {
			worstDF = rel
		}
	}
	// Below z = -87 the exponential is clamped at e^-87, so compare only
	// down to there.
	if worstR > 5e-7 {
		t.Errorf("softplus: worst relative error %.3g, want <= 5e-7", worstR)
	}
	if worstDF > 5e-7 {
		t.Errorf("sigmoid slope: worst relative error %.3g, want <= 5e-7", worstDF)
	}

	y := []float32{-20, -1, -0.5, 0, 0.5, 1, 20, 50, float32(math.NaN())}
	want := make([]float64, len(y))
	for i, v := range y {
		want[i] = 1 / (1 + math.Exp(-float64(v)))
	}
	sigmoidFast(y)
	for i := range 8 {
		if rel := math.Abs(float64(y[i])-want[i]) / want[i]; rel > 5e-7 {
			t.Errorf("sigmoid: element %d = %v, want %v", i, y[i], want[i])
		}
	}

	nan := []float32{float32(math.NaN()), 1, 2, 3, 4, 5, 6, 7}
	softplusFast(r[:8], df[:8], nan)
	if !math.IsNaN(float64(r[0])) {
		t.Errorf("softplus(NaN) = %v, want NaN so that divergence shows in the loss", r[0])
	}
}
