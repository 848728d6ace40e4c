package sweep

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/modsweep/modsweep/core"
)

// ErrNothingToPlot is returned by Plot when no trial has succeeded with
// finite performance, active neurons and wiring length.
var ErrNothingToPlot = errors.New("nothing to plot: no trial has succeeded with finite metrics yet")

// Size of the two-panel figure and of the legend column at its right.
const (
	plotWidth   = 30 * vg.Centimeter
	plotHeight  = 12 * vg.Centimeter
	legendWidth = 3 * vg.Centimeter
)

// regularizerColors gives each regularizer a colour that stays apart in
// print and for common colour-vision deficiencies (Okabe-Ito palette).
var regularizerColors = map[string]color.RGBA{
	core.RegNone: {R: 0x99, G: 0x99, B: 0x99, A: 0xff},
	core.RegL1:   {R: 0x00, G: 0x72, B: 0xb2, A: 0xff},
	core.RegBIMT: {R: 0xd5, G: 0x5e, B: 0x00, A: 0xff},
}

var otherColor = color.RGBA{R: 0x00, G: 0x9e, B: 0x73, A: 0xff}

// Plot draws two panels, performance against active neurons and against
// wiring length, with one series per regularizer. Each panel circles its
// 2-D front and draws the staircase that bounds the region it dominates.
// The extension of path picks the format: .png or .svg.
func (r *Report) Plot(path string) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".svg" {
		return fmt.Errorf("plot file %q has extension %q: use .png or .svg", path, ext)
	}
	legend := plot.NewLegend()
	legend.Top = true
	legend.Left = true
	legend.XOffs = 4 * vg.Millimeter
	left, err := r.panel("active neurons (weight-based)", ObjActiveNeurons, r.FrontPerfActive, &legend)
	if err != nil {
		return err
	}
	right, err := r.panel("wiring length", ObjWiringLength, r.FrontPerfWiring, nil)
	if err != nil {
		return err
	}

	var (
		dc     draw.Canvas
		writer io.WriterTo
	)
	if ext == ".png" {
		img := vgimg.New(plotWidth, plotHeight)
		dc = draw.New(img)
		writer = vgimg.PngCanvas{Canvas: img}
	} else {
		svg := vgsvg.New(plotWidth, plotHeight)
		dc = draw.New(svg)
		writer = svg
	}
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	panels := [][]*plot.Plot{{left, right}}
	canvases := plot.Align(panels, tiles, draw.Crop(dc, 0, -legendWidth, 0, 0))
	left.Draw(canvases[0][0])
	right.Draw(canvases[0][1])
	legend.Draw(draw.Crop(dc, plotWidth-legendWidth, 0, 0, -vg.Centimeter))

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create plot file: %w", err)
	}
	if _, err := writer.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write plot %s: %w", path, err)
	}
	return nil
}

// panel builds one scatter panel: performance against the x objective.
// It adds its series to legend unless legend is nil.
func (r *Report) panel(xLabel string, x Objective, front []string, legend *plot.Legend) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: performance vs %s", r.Sweep, xLabel)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = "performance"
	p.Add(plotter.NewGrid())

	points := map[string]plotter.XYs{}
	byID := map[string]plotter.XY{}
	for _, rec := range r.Records {
		if unusable(rec, Objectives3D) != "" {
			continue
		}
		xy := plotter.XY{X: x.Value(rec.Metrics), Y: rec.Metrics.Performance}
		points[rec.Regularizer] = append(points[rec.Regularizer], xy)
		byID[rec.ID] = xy
	}
	if len(byID) == 0 {
		return nil, ErrNothingToPlot
	}

	for i, reg := range r.Regularizers {
		if len(points[reg]) == 0 {
			continue
		}
		s, err := plotter.NewScatter(points[reg])
		if err != nil {
			return nil, fmt.Errorf("plot %s points: %w", reg, err)
		}
		c, ok := regularizerColors[reg]
		if !ok {
			c = otherColor
		}
		s.GlyphStyle.Color = c
		s.GlyphStyle.Radius = vg.Points(3)
		s.GlyphStyle.Shape = glyphShape(i)
		p.Add(s)
		if legend != nil {
			legend.Add(reg, s)
		}
	}

	if err := addFront(p, front, byID, legend); err != nil {
		return nil, err
	}
	padRange(&p.X.Min, &p.X.Max)
	padRange(&p.Y.Min, &p.Y.Max)
	return p, nil
}

// padRange widens an axis range by 5% on each side so that points on the
// edge are not cut by the frame.
func padRange(lo, hi *float64) {
	pad := 0.05 * (*hi - *lo)
	if pad == 0 {
		pad = 0.5
	}
	*lo -= pad
	*hi += pad
}

func glyphShape(i int) draw.GlyphDrawer {
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.CrossGlyph{}}
	return shapes[i%len(shapes)]
}

// addFront circles the front points and draws the staircase through them:
// from each point, across to the next point's x, then up to its
// performance. It adds the front to legend unless legend is nil.
func addFront(p *plot.Plot, front []string, byID map[string]plotter.XY, legend *plot.Legend) error {
	var xys plotter.XYs
	for _, id := range front {
		if xy, ok := byID[id]; ok {
			xys = append(xys, xy)
		}
	}
	if len(xys) == 0 {
		return nil
	}
	slices.SortFunc(xys, func(a, b plotter.XY) int {
		if c := compareFloat(a.X, b.X); c != 0 {
			return c
		}
		return compareFloat(a.Y, b.Y)
	})
	stairs := plotter.XYs{xys[0]}
	for i := 1; i < len(xys); i++ {
		stairs = append(stairs, plotter.XY{X: xys[i].X, Y: xys[i-1].Y}, xys[i])
	}
	line, err := plotter.NewLine(stairs)
	if err != nil {
		return fmt.Errorf("plot front line: %w", err)
	}
	line.LineStyle.Color = color.Black
	line.LineStyle.Width = vg.Points(1)
	line.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}

	rings, err := plotter.NewScatter(xys)
	if err != nil {
		return fmt.Errorf("plot front points: %w", err)
	}
	rings.GlyphStyle.Color = color.Black
	rings.GlyphStyle.Radius = vg.Points(6)
	rings.GlyphStyle.Shape = draw.RingGlyph{}

	p.Add(line, rings)
	if legend != nil {
		legend.Add("2-D front", line, rings)
	}
	return nil
}
