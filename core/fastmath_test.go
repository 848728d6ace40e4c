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
