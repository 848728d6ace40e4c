package netplot

import (
	"testing"

	"github.com/modsweep/modsweep/core"
)

func TestHiddenStrengthExcludesAutapse(t *testing.T) {
	// Unit 0 drives only itself; unit 1 has input and output weights.
	w := core.Weights{
		NIn: 1, N: 2, NOut: 1,
		Win:  []float64{0, 0.5},
		Wrec: []float64{3, 0, 0, 0},
		Wout: []float64{0, 0.5},
		Brec: []float64{0, 0},
		Bout: []float64{0},
	}
	s := hiddenStrength(w)
	if s.active(0, 0.1) {
		t.Errorf("unit with only an autapse is active: in %v, out %v", s.In[0], s.Out[0])
	}
	if !s.active(1, 0.1) {
		t.Errorf("unit with input and output weights is inactive: in %v, out %v", s.In[1], s.Out[1])
	}
}
