package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files from the current output")

var reportTime = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func metrics(perf, active, wiring float64) *Metrics {
	return &Metrics{
		Performance: perf, PerformanceMin: perf - 0.1, ActiveNeurons: active, ActiveNeuronsActivity: active + 2,
		WiringLength: wiring, WiringLengthWeighted: wiring / 4, DiagShare: 0.2, FinalLoss: 0.01,
		ThetaN: 0.1, ThetaW: 0.01, ThetaActivity: 0.001,
	}
}

// sampleRecords is a small finished sweep: none, l1 and bimt over two
// seeds, with one failed, one leased, one pending and one NaN trial.
func sampleRecords() []Record {
	hidden := map[string]string{"hidden": "16"}
	return []Record{
		{ID: "n1", State: StateSucceeded, Regularizer: "none", Seed: 1, Attempts: 1, Axes: hidden, Metrics: metrics(0.95, 16, 40)},
		{ID: "n2", State: StateSucceeded, Regularizer: "none", Seed: 2, Attempts: 1, Axes: hidden, Metrics: metrics(0.93, 16, 42)},
		{ID: "l1a", State: StateSucceeded, Regularizer: "l1", Lambda: 1e-3, Seed: 1, Attempts: 1, Axes: hidden, Metrics: metrics(0.90, 12, 20)},
		{ID: "l1b", State: StateSucceeded, Regularizer: "l1", Lambda: 1e-3, Seed: 2, Attempts: 2, Axes: hidden, Metrics: metrics(0.88, 11, 22)},
		{ID: "l1c", State: StateFailed, Regularizer: "l1", Lambda: 1e-2, Seed: 1, Attempts: 3, Axes: hidden, Error: "loss is NaN at step 40"},
		{ID: "l1d", State: StateLeased, Regularizer: "l1", Lambda: 1e-2, Seed: 2, Attempts: 1, Axes: hidden, LeaseAge: 95 * time.Second},
		{ID: "b1", State: StateSucceeded, Regularizer: "bimt", Lambda: 1e-3, Seed: 1, Attempts: 1, Axes: hidden, Metrics: metrics(0.91, 8, 9)},
		{ID: "b2", State: StateSucceeded, Regularizer: "bimt", Lambda: 1e-3, Seed: 2, Attempts: 1, Axes: hidden, Metrics: metrics(0.85, 7, 8)},
		{ID: "b3", State: StateSucceeded, Regularizer: "bimt", Lambda: 1e-2, Seed: 1, Attempts: 1, Axes: hidden, Metrics: metrics(math.NaN(), 3, 2)},
		{ID: "b4", State: StatePending, Regularizer: "bimt", Lambda: 1e-2, Seed: 2, Axes: hidden},
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update after checking the change):\n%s", path, got)
	}
}

func TestReportGolden(t *testing.T) {
	r := BuildReport("demo", sampleRecords(), reportTime)
	for _, format := range []string{FormatTable, FormatCSV, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := r.Write(&b, format); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "report."+format+".golden", b.Bytes())
		})
	}
}

func TestReportContent(t *testing.T) {
	r := BuildReport("demo", sampleRecords(), reportTime)
	if r.Complete() {
		t.Error("Complete() = true with failed, leased and pending trials")
	}
	wantCounts := map[string]int{StatePending: 1, StateLeased: 1, StateSucceeded: 7, StateFailed: 1, StateCancelled: 0}
	for state, n := range wantCounts {
		if r.Counts[state] != n {
			t.Errorf("Counts[%s] = %d, want %d", state, r.Counts[state], n)
		}
	}

	if r.OldestLease != 95*time.Second {
		t.Errorf("OldestLease = %v, want 1m35s", r.OldestLease)
	}
	// n1 has the best performance, b1 and b2 trade it for size; l1a is
	// dominated by b1, n2 by n1 and l1b by b1.
	if got := strings.Join(r.Front, " "); got != "n1 b1 b2" {
		t.Errorf("Front = %q, want \"n1 b1 b2\"", got)
	}
	if got := strings.Join(r.RegularizerFronts["l1"], " "); got != "l1a l1b" {
		t.Errorf("l1 front = %q, want \"l1a l1b\"", got)
	}

	if len(r.Excluded) != 4 {
		t.Errorf("Excluded = %v, want l1c, l1d, b3 and b4", r.Excluded)
	}
	if len(r.Groups) != 3 {
		t.Fatalf("Groups = %d, want 3 (none, l1 1e-3, bimt 1e-3)", len(r.Groups))
	}
	bimt := r.Groups[2]
	if bimt.Key != "bimt lambda=0.001 hidden=16" || bimt.Performance.Median != 0.88 || bimt.Performance.Min != 0.85 || bimt.Performance.Max != 0.91 {
		t.Errorf("bimt group = %+v, want key \"bimt lambda=0.001 hidden=16\" and performance 0.88 [0.85, 0.91]", bimt)
	}

	if want := HypervolumeMargin * 42; r.Reference.WiringLength != want {
		t.Errorf("reference wiring length = %v, want %v", r.Reference.WiringLength, want)
	}
	var hvNone, hvBIMT float64
	for _, h := range r.Hypervolume {
		switch h.Regularizer {
		case "none":
			hvNone = h.Volume
		case "bimt":
			hvBIMT = h.Volume
		}
	}
	if !(hvBIMT > hvNone) {
		t.Errorf("bimt hypervolume %v is not above none's %v", hvBIMT, hvNone)
	}
}

func TestReportJSONFields(t *testing.T) {
	var b bytes.Buffer
	if err := BuildReport("demo", sampleRecords(), reportTime).Write(&b, FormatJSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Counts map[string]int `json:"counts"`
		Trials []struct {
			ID      string              `json:"id"`
			Metrics map[string]*float64 `json:"metrics"`
		} `json:"trials"`
		Frontier []string `json:"frontier"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("report JSON does not decode: %v", err)
	}
	if doc.Counts[StateSucceeded] != 7 {
		t.Errorf("counts.succeeded = %d, want 7", doc.Counts[StateSucceeded])
	}
	if len(doc.Trials) != 10 {
		t.Errorf("%d trials in JSON, want 10", len(doc.Trials))
	}
	if len(doc.Frontier) != 3 {
		t.Errorf("frontier = %v, want 3 ids", doc.Frontier)
	}
	for _, tr := range doc.Trials {
		if tr.ID == "b3" && tr.Metrics["performance"] != nil {
			t.Errorf("NaN performance of b3 encoded as %v, want null", *tr.Metrics["performance"])
		}
		if tr.ID == "n1" && (tr.Metrics["active_neurons"] == nil || *tr.Metrics["active_neurons"] != 16) {
			t.Errorf("n1 metrics = %v, want active_neurons 16", tr.Metrics)
		}
	}
}

func TestReportComplete(t *testing.T) {
	done := []Record{{ID: "a", State: StateSucceeded, Metrics: metrics(0.9, 3, 3)}}
	if !BuildReport("x", done, reportTime).Complete() {
		t.Error("Complete() = false with every trial succeeded")
	}
	if BuildReport("x", nil, reportTime).Complete() {
		t.Error("Complete() = true for a sweep without trials")
	}
	cancelled := append(done, Record{ID: "b", State: StateCancelled})
	if BuildReport("x", cancelled, reportTime).Complete() {
		t.Error("Complete() = true with a cancelled trial")
	}
}

func TestReportWriteUnknownFormat(t *testing.T) {
	err := BuildReport("x", nil, reportTime).Write(&bytes.Buffer{}, "xml")
	if err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("Write(xml) error = %v, want one naming the format", err)
	}
}

func TestReportPlot(t *testing.T) {
	r := BuildReport("demo", sampleRecords(), reportTime)
	dir := t.TempDir()

	pngPath := filepath.Join(dir, "front.png")
	if err := r.Plot(pngPath); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("plot PNG does not decode: %v", err)
	}
	if colors := distinctColors(img, 5); colors < 5 {
		t.Errorf("plot PNG has %d distinct colours, want at least 5 (it looks blank)", colors)
	}

	svgPath := filepath.Join(dir, "front.svg")
	if err := r.Plot(svgPath); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("bimt")) {
		t.Errorf("plot SVG (%d bytes) lacks an <svg> element or the bimt legend", len(svg))
	}
}

func distinctColors(img image.Image, enough int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= enough {
				return len(seen)
			}
		}
	}
	return len(seen)
}

func TestReportPlotErrors(t *testing.T) {
	r := BuildReport("demo", sampleRecords(), reportTime)
	if err := r.Plot(filepath.Join(t.TempDir(), "front.jpg")); err == nil || !strings.Contains(err.Error(), ".jpg") {
		t.Errorf("Plot(.jpg) error = %v, want one naming the extension", err)
	}
	empty := BuildReport("demo", []Record{{ID: "p", State: StatePending}}, reportTime)
	if err := empty.Plot(filepath.Join(t.TempDir(), "front.png")); !errors.Is(err, ErrNothingToPlot) {
		t.Errorf("Plot without finished trials error = %v, want ErrNothingToPlot", err)
	}
}

func TestReportEmptySweep(t *testing.T) {
	r := BuildReport("empty", nil, reportTime)
	for _, format := range []string{FormatTable, FormatCSV, FormatJSON} {
		var b bytes.Buffer
		if err := r.Write(&b, format); err != nil {
			t.Errorf("Write(%s) of an empty sweep: %v", format, err)
		}
		if b.Len() == 0 {
			t.Errorf("Write(%s) of an empty sweep wrote nothing", format)
		}
	}
	var doc struct {
		Trials   []any `json:"trials"`
		Frontier []any `json:"frontier"`
	}
	var b bytes.Buffer
	if err := r.Write(&b, FormatJSON); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Trials == nil || doc.Frontier == nil {
		t.Errorf("empty sweep JSON has null lists: %s", b.String())
	}
}
