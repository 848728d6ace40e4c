package reg

import (
	"math"
	"testing"

	"github.com/modsweep/modsweep/core/model"
)

// handBuilt returns a network on a 1 × 2 grid with one input and one output,
// and weights that sit exactly on the thresholds used by the tests.
//
// Positions: hidden 0 at (1/4, 1/2), hidden 1 at (3/4, 1/2), the input at
// (1/2, 1/2) and the output at (3/4, 1/2), so DIn = [1/4, 1/4],
// DRec[0, 1] = 1/2 and DOut = [1/2, 0]; the layers are 1/2 apart.
func handBuilt(t *testing.T) (*Geometry, *model.Params) {
	g := mustGeometry(t, 1, 1, 2, 1, 0.5)
	p := model.New(1, 2, 1)
	copy(p.Win, []float64{0.5, 1.0})
	copy(p.Wrec, []float64{
		2.0, -0.25, // hidden 0: autapse 2, to hidden 1 −0.25
		0.5, 0, // hidden 1: to hidden 0 0.5, no autapse
	})
	copy(p.Wout, []float64{0.875, -0.75})
	p.Brec[0], p.Bout[0] = 9, 9 // biases take no part in any measure
	return g, p
}

func TestMeasureHandBuilt(t *testing.T) {
	g, p := handBuilt(t)
	m := Measure(p, g, 1.0, 0.5)

	// |w| > 0.5 strictly: Win[0, 1] (length 1/4 + 1/2), the autapse
	// (length 0), Wout[0, 0] (1/2 + 1/2) and Wout[1, 0] (0 + 1/2). Win[0, 0]
	// and Wrec[1, 0] are exactly 0.5 and do not count.
	if m.Connections != 4 {
		t.Errorf("connections %d, want 4", m.Connections)
	}
	if want := 0.75 + 0 + 1.0 + 0.5; math.Abs(m.WiringLength-want) > 1e-15 {
		t.Errorf("wiring length %v, want %v", m.WiringLength, want)
	}
	// Weighted: Win 0.5·0.75 + 1·0.75, Wrec 0.25·0.5 + 0.5·0.5,
	// Wout 0.875·1 + 0.75·0.5.
	if want := 1.125 + 0.375 + 1.25; math.Abs(m.WiringLengthWeighted-want) > 1e-15 {
		t.Errorf("weighted wiring length %v, want %v", m.WiringLengthWeighted, want)
	}
	if want := 2 / 2.75; math.Abs(m.DiagShare-want) > 1e-15 {
		t.Errorf("diagonal share %v, want %v", m.DiagShare, want)
	}

	// Hidden 0 receives 0.5 + 0.5 = 1 without its autapse, exactly at the
	// threshold, so it is inactive although it sends 1.125. Hidden 1
	// receives 1.25 and sends 1.25.
	if m.ActiveNeurons != 1 {
		t.Errorf("active neurons at threshold 1: %d, want 1", m.ActiveNeurons)
	}
	if got := Measure(p, g, 0.999, 0.5).ActiveNeurons; got != 2 {
		t.Errorf("active neurons at threshold 0.999: %d, want 2", got)
	}
	if got := Measure(p, g, 1.25, 0.5).ActiveNeurons; got != 0 {
		t.Errorf("active neurons at threshold 1.25: %d, want 0", got)
	}

	// At threshold 0.25 every nonzero weight but Wrec[0, 1] counts.
	if got := Measure(p, g, 1.0, 0.25).Connections; got != 6 {
		t.Errorf("connections at threshold 0.25: %d, want 6", got)
	}
}

func TestMeasureOutgoingThreshold(t *testing.T) {
	g, p := handBuilt(t)
	// Hidden 1 now sends 0.5 + 0.5 = 1, exactly at the threshold, while it
	// still receives 1.25. Hidden 0 still receives exactly 1.
	p.Wout[1] = 0.5
	if got := Measure(p, g, 1.0, 0.5).ActiveNeurons; got != 0 {
		t.Errorf("active neurons %d, want 0", got)
	}
	if got := Measure(p, g, 0.99, 0.5).ActiveNeurons; got != 2 {
		t.Errorf("active neurons below the threshold: %d, want 2", got)
	}
}

func TestMeasureZeroNetwork(t *testing.T) {
	g := mustGeometry(t, 85, 4, 4, 33, 0.5)
	m := Measure(model.New(85, 16, 33), g, 0.1, 0.01)
	if m != (Measures{}) {
		t.Errorf("measures of an all-zero network: %+v, want all zero", m)
	}
}

func TestMeasureDiagonalOnly(t *testing.T) {
	g := mustGeometry(t, 85, 4, 4, 33, 0.5)
	p := model.New(85, 16, 33)
	for j := range 16 {
		p.Wrec[j*16+j] = 0.5
	}
	m := Measure(p, g, 0.1, 0.01)
	if m.DiagShare != 1 {
		t.Errorf("diagonal share %v, want 1", m.DiagShare)
	}
	if m.ActiveNeurons != 0 {
		t.Errorf("units with only autapses: %d active, want 0", m.ActiveNeurons)
	}
	if m.Connections != 16 || m.WiringLength != 0 || m.WiringLengthWeighted != 0 {
		t.Errorf("autapses: %d connections, wiring length %v, weighted %v; want 16, 0, 0",
			m.Connections, m.WiringLength, m.WiringLengthWeighted)
	}
}

func TestActiveByActivity(t *testing.T) {
	variance := []float64{0, 1e-3, 2e-3, math.NaN(), 5, -1}
	if got := ActiveByActivity(variance, 1e-3); got != 2 {
		t.Errorf("active by activity %d, want 2 (1e-3 itself and NaN do not count)", got)
	}
	if got := ActiveByActivity(nil, 0); got != 0 {
		t.Errorf("active by activity of no units: %d, want 0", got)
	}
}
