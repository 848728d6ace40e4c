package netplot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modsweep/modsweep/core"
)

// gridPositions places n×n units on the BIMT grid of the unit square,
// index k = r·n + c at ((2c+1)/(2n), (2r+1)/(2n)).
func gridPositions(n int) []core.Point {
	pts := make([]core.Point, 0, n*n)
	for r := range n {
		for c := range n {
			pts = append(pts, core.Point{X: (2*float64(c) + 1) / (2 * float64(n)), Y: (2*float64(r) + 1) / (2 * float64(n))})
		}
	}
	return pts
}

// Units of the two clusters on the 4×4 grid of twoClusters: the 2×2 block
// in the bottom-left corner and the one in the top-right corner.
var (
	clusterA = []int{0, 1, 4, 5}
	clusterB = []int{10, 11, 14, 15}
)

// twoClusters builds a trained-looking result with 16 hidden units, where
// each cluster is strongly connected inside (|w| between 0.5 and 1.1) and
// every other weight is at most 0.002, below the threshold theta_w = 0.01.
// Input 0 drives cluster A, input 1 drives cluster B, cluster A drives
// output 0 and cluster B drives output 1.
func twoClusters() *core.Result {
	const nIn, n, nOut = 3, 16, 2
	rng := rand.New(rand.NewPCG(1, 2))
	small := func() float64 { return (rng.Float64()*2 - 1) * 0.002 }

	w := core.Weights{
		NIn: nIn, N: n, NOut: nOut,
		Win:  make([]float64, nIn*n),
		Wrec: make([]float64, n*n),
		Brec: make([]float64, n),
		Wout: make([]float64, n*nOut),
		Bout: make([]float64, nOut),
	}
	for k := range w.Win {
		w.Win[k] = small()
	}
	for k := range w.Wrec {
		w.Wrec[k] = small()
	}
	for k := range w.Wout {
		w.Wout[k] = small()
	}
	for c, cluster := range [][]int{clusterA, clusterB} {
		for a, i := range cluster {
			for b, j := range cluster {
				v := 0.5 + 0.1*float64(a+b)
				if (a+b)%3 == 2 {
					v = -v // some inhibition inside each cluster
				}
				w.Wrec[i*n+j] = v
			}
			w.Win[c*n+i] = 0.8
			w.Wout[i*nOut+c] = 0.9
		}
	}
	return &core.Result{
		Final: core.Eval{Mean: 0.93, Min: 0.81},
		Measures: core.Measures{
			ActiveNeurons: 8, Connections: 2*16 + 8 + 8,
			ThetaN: 0.1, ThetaW: 0.01, WiringLength: 9.4, DiagShare: 0.2,
		},
		Layout: core.Layout{
			Inputs:  []core.Point{{X: 0.25, Y: 0.2}, {X: 0.75, Y: 0.8}, {X: 0.5, Y: 0.5}},
			Hidden:  gridPositions(4),
			Outputs: []core.Point{{X: 0.2, Y: 0.3}, {X: 0.8, Y: 0.7}},
		},
		Weights: w,
		Swaps:   3,
	}
}

func sameCluster(i, j int) bool {
	in := func(c []int, k int) bool {
		for _, u := range c {
			if u == k {
				return true
			}
		}
		return false
	}
	return (in(clusterA, i) && in(clusterA, j)) || (in(clusterB, i) && in(clusterB, j))
}

func TestSelectEdgesKeepsClusters(t *testing.T) {
	conns, err := SelectEdges(twoClusters(), Options{})
	if err != nil {
		t.Fatalf("SelectEdges: %v", err)
	}
	if conns.Threshold != 0.01 {
		t.Errorf("threshold = %g, want theta_w 0.01", conns.Threshold)
	}
	rec := conns.Recurrent
	if len(rec.Edges) != 32 {
		t.Errorf("recurrent edges = %d, want 32 (two clusters of 4×4)", len(rec.Edges))
	}
	if rec.Above != 32 {
		t.Errorf("recurrent above threshold = %d, want 32", rec.Above)
	}
	if rec.Total != 256 {
		t.Errorf("recurrent total = %d, want 256", rec.Total)
	}
	for _, e := range rec.Edges {
		if !sameCluster(e.From, e.To) {
			t.Errorf("edge %d -> %d (w = %g) crosses clusters", e.From, e.To, e.W)
		}
		if math.Abs(e.W) <= conns.Threshold {
			t.Errorf("edge %d -> %d has |w| = %g, not above threshold", e.From, e.To, math.Abs(e.W))
		}
	}
	for k := 1; k < len(rec.Edges); k++ {
		if math.Abs(rec.Edges[k].W) < math.Abs(rec.Edges[k-1].W) {
			t.Fatalf("edges not in increasing |w| at %d: %g then %g", k, rec.Edges[k-1].W, rec.Edges[k].W)
		}
	}
	if len(conns.Input.Edges) != 8 {
		t.Errorf("input edges = %d, want 8", len(conns.Input.Edges))
	}
	for _, e := range conns.Input.Edges {
		want := clusterA
		if e.From == 1 {
			want = clusterB
		}
		if !sameCluster(e.To, want[0]) {
			t.Errorf("input edge %d -> %d lands outside its cluster", e.From, e.To)
		}
	}
	if len(conns.Output.Edges) != 8 {
		t.Errorf("output edges = %d, want 8", len(conns.Output.Edges))
	}
}

func TestSelectEdgesThresholdOverride(t *testing.T) {
	res := twoClusters()
	// Intra-cluster |w| ranges over 0.5, 0.6, ..., 1.1. Above 0.95 only
	// 1.0 (a+b = 5) and 1.1 (a+b = 6) remain: 2+1 entries per cluster.
	conns, err := SelectEdges(res, Options{Threshold: 0.95})
	if err != nil {
		t.Fatalf("SelectEdges: %v", err)
	}
	if got := len(conns.Recurrent.Edges); got != 6 {
		t.Errorf("recurrent edges above 0.95 = %d, want 6", got)
	}
	for _, e := range conns.Recurrent.Edges {
		if math.Abs(e.W) <= 0.95 {
			t.Errorf("edge %d -> %d with |w| = %g drawn below threshold 0.95", e.From, e.To, math.Abs(e.W))
		}
	}
	if len(conns.Input.Edges) != 0 {
		t.Errorf("input edges above 0.95 = %d, want 0 (all input weights are 0.8 or tiny)", len(conns.Input.Edges))
	}

	// A tiny override draws the sub-threshold noise too.
	all, err := SelectEdges(res, Options{Threshold: 1e-9, MaxEdges: 1000})
	if err != nil {
		t.Fatalf("SelectEdges: %v", err)
	}
	if all.Recurrent.Above <= 32 {
		t.Errorf("recurrent edges above 1e-9 = %d, want more than the 32 cluster edges", all.Recurrent.Above)
	}
}

func TestSelectEdgesMaxEdgesKeepsStrongest(t *testing.T) {
	conns, err := SelectEdges(twoClusters(), Options{MaxEdges: 4})
	if err != nil {
		t.Fatalf("SelectEdges: %v", err)
	}
	rec := conns.Recurrent
	if len(rec.Edges) != 4 {
		t.Fatalf("recurrent edges = %d, want 4", len(rec.Edges))
	}
	if rec.Above != 32 {
		t.Errorf("above = %d, want 32 before the cap", rec.Above)
	}
	for _, e := range rec.Edges {
		if math.Abs(e.W) < 1.0-1e-12 {
			t.Errorf("kept edge %d -> %d with |w| = %g, want only the strongest (>= 1.0)", e.From, e.To, math.Abs(e.W))
		}
	}
}

func TestSelectEdgesSkipsNaN(t *testing.T) {
	res := twoClusters()
	res.Weights.Wrec[2*16+3] = math.NaN()
	conns, err := SelectEdges(res, Options{})
	if err != nil {
		t.Fatalf("SelectEdges: %v", err)
	}
	for _, e := range conns.Recurrent.Edges {
		if math.IsNaN(e.W) {
			t.Errorf("NaN edge %d -> %d selected", e.From, e.To)
		}
	}
}

func TestSelectEdgesRejectsBadInput(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*core.Result)
		opts   Options
		want   string
	}{
		{"short w_in", func(r *core.Result) { r.Weights.Win = r.Weights.Win[1:] }, Options{}, "w_in has 47 entries, want 3×16 = 48"},
		{"short w_rec", func(r *core.Result) { r.Weights.Wrec = nil }, Options{}, "w_rec has 0 entries"},
		{"long w_out", func(r *core.Result) { r.Weights.Wout = append(r.Weights.Wout, 1) }, Options{}, "w_out has 33 entries"},
		{"no hidden units", func(r *core.Result) { r.Weights.N = 0 }, Options{}, "n > 0"},
		{"hidden layout", func(r *core.Result) { r.Layout.Hidden = r.Layout.Hidden[:15] }, Options{}, "15 hidden positions for n = 16"},
		{"partial inputs", func(r *core.Result) { r.Layout.Inputs = r.Layout.Inputs[:1] }, Options{}, "1 input positions for n_in = 3"},
		{"partial outputs", func(r *core.Result) { r.Layout.Outputs = r.Layout.Outputs[:1] }, Options{}, "1 output positions for n_out = 2"},
		{"NaN position", func(r *core.Result) { r.Layout.Hidden[3].Y = math.NaN() }, Options{}, "hidden unit 3 at (0.875, NaN)"},
		{"infinite position", func(r *core.Result) { r.Layout.Inputs[1].X = math.Inf(1) }, Options{}, "input unit 1 at (+Inf, 0.8)"},
		{"negative threshold", func(*core.Result) {}, Options{Threshold: -1}, "invalid threshold -1"},
		{"NaN threshold", func(*core.Result) {}, Options{Threshold: math.NaN()}, "invalid threshold NaN"},
		{"negative max edges", func(*core.Result) {}, Options{MaxEdges: -3}, "invalid max edges -3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := twoClusters()
			tc.mutate(res)
			_, err := SelectEdges(res, tc.opts)
			if err == nil {
				t.Fatalf("SelectEdges succeeded, want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
	if _, err := SelectEdges(nil, Options{}); err == nil {
		t.Error("SelectEdges(nil) succeeded, want error")
	}
}

func TestHiddenStrengthActiveUnits(t *testing.T) {
	res := twoClusters()
	s := hiddenStrength(res.Weights)
	for j := range res.Weights.N {
		want := sameCluster(j, clusterA[0]) || sameCluster(j, clusterB[0])
		if got := s.active(j, res.Measures.ThetaN); got != want {
			t.Errorf("unit %d active = %v (in %g, out %g), want %v", j, got, s.In[j], s.Out[j], want)
		}
	}
	// Unit 0 receives input 0 (0.8) and three cluster weights 0.6, -0.7,
	// 0.8 (its autapse of 0.5 is left out), plus noise below 0.002 each
	// from 18 entries.
	if got, want := s.In[0], 0.8+0.6+0.7+0.8; math.Abs(got-want) > 18*0.002 {
		t.Errorf("unit 0 incoming |w| = %g, want %g ± %g", got, want, 18*0.002)
	}
}

func TestDrawPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net.png")
	// 72 dpi keeps the rasterizer fast under -race, and 36 cm is still 1020
	// pixels wide.
	if err := Draw(twoClusters(), path, Options{Title: "trial 3f9a2c", DPI: 72}); err != nil {
		t.Fatalf("Draw: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode PNG: %v", err)
	}
	b := img.Bounds()
	if b.Dx() < 1000 || b.Dy() < 300 {
		t.Errorf("PNG is %d×%d pixels, want at least 1000×300", b.Dx(), b.Dy())
	}

	// Both edge colours must appear: the clusters contain excitatory and
	// inhibitory connections.
	var red, blue int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			switch {
			case r > 150 && g < 110 && bl < 110:
				red++
			case bl > 150 && r < 110 && g < 150:
				blue++
			}
		}
	}
	if red < 100 {
		t.Errorf("found %d excitatory-red pixels, want at least 100", red)
	}
	if blue < 100 {
		t.Errorf("found %d inhibitory-blue pixels, want at least 100", blue)
	}
}

func TestDrawSVG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net.SVG")
	if err := Draw(twoClusters(), path, Options{Title: "trial 3f9a2c"}); err != nil {
		t.Fatalf("Draw: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	dec := xml.NewDecoder(f)
	var root string
	var paths int
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG does not parse as XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "path" {
				paths++
			}
		}
	}
	if root != "svg" {
		t.Errorf("root element = %q, want svg", root)
	}
	// 48 connections above theta_w plus units, channels and the legend.
	if paths < 48 {
		t.Errorf("SVG has %d path elements, want at least the 48 drawn connections", paths)
	}
}

func TestDrawMissingIOPositions(t *testing.T) {
	res := twoClusters()
	res.Layout.Inputs = nil
	res.Layout.Outputs = nil
	path := filepath.Join(t.TempDir(), "net.svg")
	if err := Draw(res, path, Options{}); err != nil {
		t.Fatalf("Draw without input and output positions: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("no SVG written: stat %v", err)
	}
}

func TestDrawRejectsUnknownExtension(t *testing.T) {
	path := filepath.Join(t.TempDir(), "net.pdf")
	err := Draw(twoClusters(), path, Options{})
	if err == nil {
		t.Fatal("Draw to .pdf succeeded, want error")
	}
	for _, want := range []string{`".pdf"`, ".png", ".svg"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, statErr := os.Stat(path); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("file %s exists after the error (stat: %v)", path, statErr)
	}
}

func TestDrawInvalidLeavesNoFile(t *testing.T) {
	res := twoClusters()
	res.Weights.Wrec = res.Weights.Wrec[:10]
	path := filepath.Join(t.TempDir(), "net.svg")
	if err := Draw(res, path, Options{}); err == nil {
		t.Fatal("Draw with a short w_rec succeeded, want error")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file %s exists after the error (stat: %v)", path, err)
	}
	if err := Draw(twoClusters(), path, Options{Width: 5}); err == nil {
		t.Error("Draw with a 5 pt width succeeded, want error")
	}
}

// sparseNetwork builds a result with side×side hidden units on the grid.
// Unit i connects to unit j with a probability that falls exponentially
// with their Manhattan distance, and to itself with probability 0.3.
func sparseNetwork(side int, seed uint64) *core.Result {
	n := side * side
	nIn, nOut := 85, 33
	rng := rand.New(rand.NewPCG(seed, 7))
	w := core.Weights{
		NIn: nIn, N: n, NOut: nOut,
		Win:  make([]float64, nIn*n),
		Wrec: make([]float64, n*n),
		Brec: make([]float64, n),
		Wout: make([]float64, n*nOut),
		Bout: make([]float64, nOut),
	}
	hidden := gridPositions(side)
	for i := range n {
		for j := range n {
			d := math.Abs(hidden[i].X-hidden[j].X) + math.Abs(hidden[i].Y-hidden[j].Y)
			p := math.Exp(-d * float64(side) * 1.2)
			if i == j {
				p = 0.3
			}
			if rng.Float64() < p {
				w.Wrec[i*n+j] = rng.NormFloat64() * 0.6
			}
		}
	}
	for i := range nIn {
		w.Win[i*n+rng.IntN(n)] = rng.NormFloat64()
	}
	for o := range nOut {
		w.Wout[rng.IntN(n)*nOut+o] = rng.NormFloat64()
	}
	return &core.Result{
		Measures: core.Measures{ThetaN: 0.1, ThetaW: 0.05},
		Layout: core.Layout{
			Inputs:  rowPositions(nIn, 0.5),
			Hidden:  hidden,
			Outputs: rowPositions(nOut, 0.5),
		},
		Weights: w,
	}
}

func TestDrawLargeNetwork(t *testing.T) {
	res := sparseNetwork(16, 1)
	path := filepath.Join(t.TempDir(), "net256.svg")
	if err := Draw(res, path, Options{Title: "N = 256", MaxEdges: 300}); err != nil {
		t.Fatalf("Draw: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(data, new(struct{})); err != nil {
		t.Errorf("SVG does not parse as XML: %v", err)
	}
	if !bytes.Contains(data, []byte("strongest 300 drawn")) {
		t.Error("SVG does not state that only the strongest 300 recurrent connections are drawn")
	}
}

func BenchmarkDraw256(b *testing.B) {
	res := sparseNetwork(16, 1)
	for _, ext := range []string{".png", ".svg"} {
		b.Run(ext, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "net"+ext)
			for b.Loop() {
				if err := Draw(res, path, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestDrawDegenerateNetworks(t *testing.T) {
	single := &core.Result{
		Measures: core.Measures{ThetaW: 0.01},
		Layout:   core.Layout{Hidden: []core.Point{{X: 0.5, Y: 0.5}}},
		Weights: core.Weights{
			NIn: 1, N: 1, NOut: 1,
			Win: []float64{0.5}, Wrec: []float64{-0.8}, Wout: []float64{0.3},
		},
	}
	zero := twoClusters()
	for _, m := range [][]float64{zero.Weights.Win, zero.Weights.Wrec, zero.Weights.Wout} {
		clear(m)
	}
	nan := twoClusters()
	for k := range nan.Weights.Wrec {
		nan.Weights.Wrec[k] = math.NaN()
	}

	cases := []struct {
		name string
		res  *core.Result
	}{
		{"single unit", single},
		{"all weights zero", zero},
		{"NaN recurrent weights", nan},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "net.svg")
			if err := Draw(tc.res, path, Options{}); err != nil {
				t.Fatalf("Draw: %v", err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := xml.Unmarshal(data, new(struct{})); err != nil {
				t.Errorf("SVG does not parse as XML: %v", err)
			}
			if bytes.Contains(data, []byte("NaN")) {
				t.Error("SVG contains NaN")
			}
		})
	}
}
