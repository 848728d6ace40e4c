package netplot

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/modsweep/modsweep/core"
)

// Page geometry of a figure.
const (
	pagePad      = 0.5 * vg.Centimeter
	panelGap     = 0.6 * vg.Centimeter
	headerHeight = 1.8 * vg.Centimeter
	panelHeader  = 1.2 * vg.Centimeter
	legendHeight = 1.7 * vg.Centimeter
)

// Colours of a figure.
var (
	colorExcitatory = color.NRGBA{R: 200, G: 40, B: 40, A: 255}
	colorInhibitory = color.NRGBA{R: 30, G: 100, B: 185, A: 255}
	colorUnit       = color.NRGBA{R: 40, G: 48, B: 62, A: 255}
	colorUnitFaint  = color.NRGBA{R: 170, G: 178, B: 190, A: 255}
	colorInactive   = color.NRGBA{R: 150, G: 150, B: 150, A: 255}
	colorIO         = color.NRGBA{R: 35, G: 35, B: 35, A: 255}
	colorSheet      = color.NRGBA{R: 246, G: 246, B: 242, A: 255}
	colorSheetEdge  = color.NRGBA{R: 205, G: 205, B: 200, A: 255}
	colorNote       = color.NRGBA{R: 90, G: 90, B: 90, A: 255}
)

var (
	fontSans = font.Font{Typeface: "Liberation", Variant: "Sans"}
	fontBold = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
	// The plot package registers the Liberation fonts with font.DefaultCache.
	textPlain = plot.DefaultTextHandler
)

func textStyle(f font.Font, size vg.Length, c color.Color) draw.TextStyle {
	return draw.TextStyle{
		Color:   c,
		Font:    font.From(f, size),
		XAlign:  draw.XLeft,
		YAlign:  draw.YTop,
		Handler: textPlain,
	}
}

// figure is one network drawing, laid out and ready to draw.
type figure struct {
	res      *core.Result
	conns    Connections
	title    string
	subtitle string
	width    vg.Length
	height   vg.Length
	panel    vg.Length // side of each square panel

	hidden, inputs, outputs []core.Point
	missingInputs           bool // input positions were not stored
	missingOutputs          bool // output positions were not stored

	strength unitStrength
	thetaN   float64
	// Typical distance between neighbouring units of each layer, in sheet
	// units. It sizes markers and lines to the layout.
	spacing, inSpacing, outSpacing float64

	// Data window shown in every panel, in sheet units.
	x0, y0, x1, y1 float64
}

func newFigure(res *core.Result, conns Connections, title string, width vg.Length) *figure {
	w := res.Weights
	f := &figure{
		res:      res,
		conns:    conns,
		title:    title,
		width:    width,
		hidden:   res.Layout.Hidden,
		inputs:   res.Layout.Inputs,
		outputs:  res.Layout.Outputs,
		strength: hiddenStrength(w),
		thetaN:   res.Measures.ThetaN,
	}
	if f.title == "" {
		f.title = "trained network"
	}
	f.subtitle = measuresLine(res, conns.Threshold)
	if len(f.inputs) == 0 && w.NIn > 0 {
		f.inputs = rowPositions(w.NIn, -0.1)
		f.missingInputs = true
	}
	if len(f.outputs) == 0 && w.NOut > 0 {
		f.outputs = rowPositions(w.NOut, 1.1)
		f.missingOutputs = true
	}
	f.spacing = nearestSpacing(f.hidden, 0.5)
	// Channels sit on rings of different radii, so the tightest ring sets
	// the marker size.
	f.inSpacing = nearestSpacing(f.inputs, 0.1)
	f.outSpacing = nearestSpacing(f.outputs, 0.1)

	f.x0, f.y0, f.x1, f.y1 = 0, 0, 1, 1
	for _, pts := range [][]core.Point{f.hidden, f.inputs, f.outputs} {
		for _, p := range pts {
			f.x0, f.x1 = math.Min(f.x0, p.X), math.Max(f.x1, p.X)
			f.y0, f.y1 = math.Min(f.y0, p.Y), math.Max(f.y1, p.Y)
		}
	}
	// Hidden units on the grid sit half a cell inside the sheet, so the
	// margin only needs room for units outside it.
	const margin = 0.04
	f.x0, f.y0, f.x1, f.y1 = f.x0-margin, f.y0-margin, f.x1+margin, f.y1+margin

	f.panel = (width - 2*pagePad - 2*panelGap) / 3
	f.height = 2*pagePad + headerHeight + panelHeader + f.panel + legendHeight
	return f
}

func measuresLine(res *core.Result, threshold float64) string {
	m := res.Measures
	return fmt.Sprintf("N = %d    performance mean %.3f, min %.3f    active neurons %d/%d (θn = %g)    "+
		"connections %d (θw = %g)    wiring length %.4g    diagonal share %.3f    swaps %d    drawn: |w| > %g",
		res.Weights.N, res.Final.Mean, res.Final.Min, m.ActiveNeurons, res.Weights.N, m.ThetaN,
		m.Connections, m.ThetaW, m.WiringLength, m.DiagShare, res.Swaps, threshold)
}

// rowPositions spreads n units along a horizontal row at height y, with the
// 1-D BIMT coordinates x_k = (2k+1)/(2n).
func rowPositions(n int, y float64) []core.Point {
	pts := make([]core.Point, n)
	for k := range pts {
		pts[k] = core.Point{X: (2*float64(k) + 1) / (2 * float64(n)), Y: y}
	}
	return pts
}

// nearestSpacing returns the given quantile of the distances from each
// point to its nearest neighbour.
func nearestSpacing(pts []core.Point, quantile float64) float64 {
	fallback := 1 / math.Sqrt(float64(max(len(pts), 1)))
	if len(pts) < 2 {
		return fallback
	}
	nearest := make([]float64, len(pts))
	for i, p := range pts {
		nearest[i] = math.Inf(1)
		for j, q := range pts {
			if i != j {
				nearest[i] = math.Min(nearest[i], math.Hypot(p.X-q.X, p.Y-q.Y))
			}
		}
	}
	slices.Sort(nearest)
	d := nearest[int(quantile*float64(len(nearest)-1))]
	if d <= 0 || math.IsNaN(d) || math.IsInf(d, 0) {
		return fallback
	}
	return d
}

func (f *figure) draw(canvas vg.CanvasSizer) {
	dc := draw.New(canvas)
	dc.FillPolygon(color.White, rectPoints(dc.Rectangle))

	top := dc.Max.Y - pagePad
	dc.FillText(textStyle(fontBold, 16, color.Black), vg.Point{X: pagePad, Y: top}, f.title)
	dc.FillText(textStyle(fontSans, 10, colorNote), vg.Point{X: pagePad, Y: top - 0.8*vg.Centimeter}, f.subtitle)

	panelTop := top - headerHeight
	for k, p := range []Panel{f.conns.Input, f.conns.Recurrent, f.conns.Output} {
		left := pagePad + vg.Length(k)*(f.panel+panelGap)
		f.drawPanelHeader(dc, vg.Point{X: left, Y: panelTop}, p)
		area := vg.Rectangle{
			Min: vg.Point{X: left, Y: panelTop - panelHeader - f.panel},
			Max: vg.Point{X: left + f.panel, Y: panelTop - panelHeader},
		}
		f.drawPanel(dc, area, p)
	}
	f.drawLegend(dc, vg.Point{X: pagePad, Y: pagePad + legendHeight - 0.3*vg.Centimeter})
}

func (f *figure) drawPanelHeader(dc draw.Canvas, at vg.Point, p Panel) {
	dc.FillText(textStyle(fontBold, 12, color.Black), at, p.Matrix.String())
	line := fmt.Sprintf("%d of %d connections with |w| > %g, max |w| = %.3g", p.Above, p.Total, f.conns.Threshold, p.MaxAbs)
	if len(p.Edges) < p.Above {
		line += fmt.Sprintf(", strongest %d drawn", len(p.Edges))
	}
	dc.FillText(textStyle(fontSans, 9, colorNote), vg.Point{X: at.X, Y: at.Y - 0.55*vg.Centimeter}, line)
	var missing string
	switch {
	case p.Matrix == MatrixInput && f.missingInputs:
		missing = "input positions not stored: inputs drawn on a row below the sheet"
	case p.Matrix == MatrixOutput && f.missingOutputs:
		missing = "output positions not stored: outputs drawn on a row above the sheet"
	}
	if missing != "" {
		dc.FillText(textStyle(fontSans, 8, colorNote), vg.Point{X: at.X, Y: at.Y - 0.9*vg.Centimeter}, missing)
	}
}

// panelView maps sheet coordinates into one panel and sizes marks to the
// hidden-unit grid.
type panelView struct {
	origin vg.Point  // canvas point of sheet coordinate (x0, y0)
	scale  vg.Length // canvas length of one sheet unit
	x0, y0 float64

	unitMax, unitMin vg.Length // disc radius of the heaviest and of a massless hidden unit
	lineMax          vg.Length // line width of the strongest connection
	inRadius         vg.Length // marker radius of input channels
	outRadius        vg.Length // marker radius of output channels
}

func (f *figure) view(area vg.Rectangle) panelView {
	dx, dy := f.x1-f.x0, f.y1-f.y0
	side := area.Max.X - area.Min.X
	scale := min(side/vg.Length(dx), (area.Max.Y-area.Min.Y)/vg.Length(dy))
	v := panelView{
		scale: scale,
		x0:    f.x0,
		y0:    f.y0,
		origin: vg.Point{
			X: area.Min.X + (side-scale*vg.Length(dx))/2,
			Y: area.Min.Y + (area.Max.Y-area.Min.Y-scale*vg.Length(dy))/2,
		},
	}
	cell := scale * vg.Length(f.spacing)
	v.unitMax = min(0.3*cell, 10)
	v.unitMin = max(0.3*v.unitMax, 1.2)
	v.lineMax = min(max(0.18*cell, 0.8), 3.5)
	v.inRadius = channelRadius(scale * vg.Length(f.inSpacing))
	v.outRadius = channelRadius(scale * vg.Length(f.outSpacing))
	return v
}

// channelRadius sizes input and output markers to about a third of the
// spacing of their ring or row, between 1.5 and 4 pt.
func channelRadius(spacing vg.Length) vg.Length {
	return min(max(0.36*spacing, 1.5), 4)
}

func (v panelView) at(p core.Point) vg.Point {
	return vg.Point{
		X: v.origin.X + v.scale*vg.Length(p.X-v.x0),
		Y: v.origin.Y + v.scale*vg.Length(p.Y-v.y0),
	}
}

func (f *figure) drawPanel(dc draw.Canvas, area vg.Rectangle, p Panel) {
	v := f.view(area)
	sheet := vg.Rectangle{Min: v.at(core.Point{X: 0, Y: 0}), Max: v.at(core.Point{X: 1, Y: 1})}
	dc.FillPolygon(colorSheet, rectPoints(sheet))
	dc.StrokeLines(draw.LineStyle{Color: colorSheetEdge, Width: 0.6}, append(rectPoints(sheet), sheet.Min))

	radius := f.unitRadii(v)
	switch p.Matrix {
	case MatrixInput:
		f.drawStraight(dc, v, p, f.inputs, f.hidden)
		f.drawHidden(dc, v, scaleRadii(radius, 0.6), colorUnitFaint)
		f.drawChannels(dc, f.inputs, v.at, v.inRadius, draw.PyramidGlyph{})
	case MatrixRecurrent:
		f.drawRecurrent(dc, v, p, radius)
		f.drawHidden(dc, v, radius, colorUnit)
	case MatrixOutput:
		f.drawStraight(dc, v, p, f.hidden, f.outputs)
		f.drawHidden(dc, v, scaleRadii(radius, 0.6), colorUnitFaint)
		f.drawChannels(dc, f.outputs, v.at, v.outRadius, draw.BoxGlyph{})
	}
}

// unitRadii sizes each hidden unit's disc between unitMin and unitMax by the
// square root of the unit's total |w|, so the area grows with the weight.
func (f *figure) unitRadii(v panelView) []vg.Length {
	mass := make([]float64, len(f.hidden))
	var maxMass float64
	for j := range mass {
		mass[j] = f.strength.In[j] + f.strength.Out[j]
		if !math.IsNaN(mass[j]) {
			maxMass = math.Max(maxMass, mass[j])
		}
	}
	r := make([]vg.Length, len(mass))
	for j, m := range mass {
		s := 0.0
		if maxMass > 0 && !math.IsNaN(m) {
			s = math.Sqrt(m / maxMass)
		}
		r[j] = v.unitMin + vg.Length(s)*(v.unitMax-v.unitMin)
	}
	return r
}

// scaleRadii shrinks the hidden units in the input and output panels, where
// they are only the targets of the drawn connections.
func scaleRadii(r []vg.Length, s vg.Length) []vg.Length {
	out := make([]vg.Length, len(r))
	for j := range r {
		out[j] = s * r[j]
	}
	return out
}

// edgeStyle returns the line style of a connection of weight w in a panel
// whose largest |w| is maxAbs.
func edgeStyle(v panelView, w, maxAbs float64) draw.LineStyle {
	s := 1.0
	if maxAbs > 0 {
		s = math.Abs(w) / maxAbs
	}
	c := colorExcitatory
	if w < 0 {
		c = colorInhibitory
	}
	c.A = uint8(math.Round(255 * (0.25 + 0.75*s)))
	return draw.LineStyle{Color: c, Width: v.lineMax * vg.Length(0.12+0.88*s)}
}

func (f *figure) drawStraight(dc draw.Canvas, v panelView, p Panel, from, to []core.Point) {
	for _, e := range p.Edges {
		sty := edgeStyle(v, e.W, p.MaxAbs)
		dc.StrokeLines(sty, []vg.Point{v.at(from[e.From]), v.at(to[e.To])})
	}
}

// drawRecurrent draws each connection i → j as a quadratic curve that bends
// to the right of its direction, and each autapse as a ring around its unit.
func (f *figure) drawRecurrent(dc draw.Canvas, v panelView, p Panel, radius []vg.Length) {
	for _, e := range p.Edges {
		sty := edgeStyle(v, e.W, p.MaxAbs)
		dc.SetLineStyle(sty)
		src := v.at(f.hidden[e.From])
		if e.From == e.To {
			r := radius[e.From] + 1 + sty.Width/2
			var ring vg.Path
			ring.Move(vg.Point{X: src.X + r, Y: src.Y})
			ring.Arc(src, r, 0, 2*math.Pi)
			ring.Close()
			dc.Stroke(ring)
			continue
		}
		dst := v.at(f.hidden[e.To])
		d := dst.Sub(src)
		// (d.Y, -d.X) points to the right of the direction src → dst.
		ctrl := src.Add(d.Scale(0.5)).Add(vg.Point{X: d.Y, Y: -d.X}.Scale(0.15))
		var curve vg.Path
		curve.Move(src)
		curve.QuadTo(ctrl, dst)
		dc.Stroke(curve)
	}
}

func (f *figure) drawHidden(dc draw.Canvas, v panelView, radius []vg.Length, fill color.Color) {
	for j, p := range f.hidden {
		pt := v.at(p)
		if !f.strength.active(j, f.thetaN) {
			drawRing(dc, pt, v.unitMin, 0.8, colorInactive)
			continue
		}
		dc.DrawGlyphNoClip(draw.GlyphStyle{Color: color.White, Radius: radius[j] + 0.6, Shape: draw.CircleGlyph{}}, pt)
		dc.DrawGlyphNoClip(draw.GlyphStyle{Color: fill, Radius: radius[j], Shape: draw.CircleGlyph{}}, pt)
	}
}

func (f *figure) drawChannels(dc draw.Canvas, pts []core.Point, at func(core.Point) vg.Point, r vg.Length, shape draw.GlyphDrawer) {
	for _, p := range pts {
		pt := at(p)
		dc.DrawGlyphNoClip(draw.GlyphStyle{Color: color.White, Radius: r + 0.7, Shape: shape}, pt)
		dc.DrawGlyphNoClip(draw.GlyphStyle{Color: colorIO, Radius: r, Shape: shape}, pt)
	}
}

func drawRing(dc draw.Canvas, at vg.Point, r, width vg.Length, c color.Color) {
	dc.SetLineStyle(draw.LineStyle{Color: c, Width: width})
	var ring vg.Path
	ring.Move(vg.Point{X: at.X + r, Y: at.Y})
	ring.Arc(at, r, 0, 2*math.Pi)
	ring.Close()
	dc.Stroke(ring)
}

func rectPoints(r vg.Rectangle) []vg.Point {
	return []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
}

// drawLegend draws one row of keys with a note below it, starting at the
// top-left corner at.
func (f *figure) drawLegend(dc draw.Canvas, at vg.Point) {
	label := textStyle(fontSans, 10, color.Black)
	label.YAlign = draw.YCenter
	const key = 14 // width of the space a key sample takes
	y := at.Y - 5
	x := at.X
	item := func(name string, sample func(center vg.Point)) {
		sample(vg.Point{X: x + key/2, Y: y})
		dc.FillText(label, vg.Point{X: x + key + 4, Y: y}, name)
		x += key + 4 + label.Width(name) + 18
	}
	line := func(c color.Color) func(vg.Point) {
		return func(p vg.Point) {
			dc.StrokeLines(draw.LineStyle{Color: c, Width: 2}, []vg.Point{{X: p.X - key/2, Y: p.Y}, {X: p.X + key/2, Y: p.Y}})
		}
	}
	glyph := func(c color.Color, r vg.Length, shape draw.GlyphDrawer) func(vg.Point) {
		return func(p vg.Point) {
			dc.DrawGlyphNoClip(draw.GlyphStyle{Color: c, Radius: r, Shape: shape}, p)
		}
	}

	item("excitatory (w > 0)", line(colorExcitatory))
	item("inhibitory (w < 0)", line(colorInhibitory))
	item("autapse (i → i)", func(p vg.Point) { drawRing(dc, p, 5, 1.5, colorExcitatory) })
	item("hidden unit, area grows with Σ|w|", glyph(colorUnit, 5, draw.CircleGlyph{}))
	item(fmt.Sprintf("inactive unit (Σ|in| or Σ|out| ≤ θn = %g)", f.thetaN), func(p vg.Point) { drawRing(dc, p, 3, 0.8, colorInactive) })
	item("input channel", glyph(colorIO, 4, draw.PyramidGlyph{}))
	item("output channel", glyph(colorIO, 4, draw.BoxGlyph{}))

	note := "Top view of the three layers, inputs below the hidden sheet and outputs above it. " +
		"Line width and opacity grow with |w| relative to the panel's max |w|. " +
		"Recurrent connections bend to the right of their direction, so i → j and j → i form a lens."
	dc.FillText(textStyle(fontSans, 9, colorNote), vg.Point{X: at.X, Y: at.Y - 0.6*vg.Centimeter}, note)
}
