package core

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/modsweep/modsweep/core/model"
)

// torchCase is one case of testdata/torch_crosscheck.json, which
// testdata/torch_crosscheck.py writes with PyTorch autograd in float64.
type torchCase struct {
	Activation string               `json:"activation"`
	Alpha      float64              `json:"alpha"`
	NIn        int                  `json:"n_in"`
	N          int                  `json:"n"`
	NOut       int                  `json:"n_out"`
	T          int                  `json:"t"`
	B          int                  `json:"b"`
	Params     map[string][]float64 `json:"params"`
	X          []float64            `json:"x"`
	Noise      []float64            `json:"noise"`
	Target     []float64            `json:"target"`
	Mask       []float64            `json:"mask"`
	Loss       float64              `json:"loss"`
	Grads      map[string][]float64 `json:"grads"`
}

func TestGradientsMatchPyTorch(t *testing.T) {
	data, err := os.ReadFile("testdata/torch_crosscheck.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Torch string      `json:"torch"`
		Cases []torchCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("parse testdata/torch_crosscheck.json: %v", err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("testdata/torch_crosscheck.json has no cases")
	}
	for _, c := range file.Cases {
		t.Run(c.Activation, func(t *testing.T) { checkTorchCase(t, c) })
	}
}

func checkTorchCase(t *testing.T, c torchCase) {
	fb := &fixedBatch{
		t: c.T, b: c.B, nIn: c.NIn, n: c.N, nOut: c.NOut,
		relu: c.Activation == "relu", alpha: c.Alpha,
		x: c.X, recNoise: c.Noise, target: c.Target, mask: c.Mask,
		params: model.New(c.NIn, c.N, c.NOut),
	}
	names := model.TensorNames()
	for i, s := range fb.params.Tensors() {
		if len(c.Params[names[i]]) != len(s) {
			t.Fatalf("%s has %d values in the JSON, want %d", names[i], len(c.Params[names[i]]), len(s))
		}
		copy(s, c.Params[names[i]])
	}

	grad := model.New(c.NIn, c.N, c.NOut)
	loss := runFixed[float64](fb, fb.params, grad)
	if rel := math.Abs(loss-c.Loss) / c.Loss; rel > 1e-9 {
		t.Errorf("loss %.17g, PyTorch %.17g, relative difference %.3g > 1e-9", loss, c.Loss, rel)
	}
	for i, g := range grad.Tensors() {
		want := c.Grads[names[i]]
		if len(want) != len(g) {
			t.Fatalf("gradient of %s has %d values in the JSON, want %d", names[i], len(want), len(g))
		}
		worst := 0.0
		for j := range g {
			rel := math.Abs(g[j]-want[j]) / math.Max(math.Abs(want[j]), 1e-6)
			worst = math.Max(worst, rel)
			if rel > 1e-9 {
				t.Errorf("d loss/d %s[%d] = %.17g, PyTorch %.17g, relative difference %.3g > 1e-9",
					names[i], j, g[j], want[j], rel)
			}
		}
		t.Logf("%s: worst relative difference %.3g", names[i], worst)
	}
}
