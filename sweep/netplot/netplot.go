// Package netplot draws a trained network in space: the hidden units at
// their positions on the sheet and the connections between them, so a
// reader can see whether spatial modules formed.
//
// A drawing has three top-view panels side by side, input → hidden,
// hidden → hidden and hidden → output, all on the same scale. Every
// connection with |w| above a threshold is a line whose width and opacity
// grow with |w|, red if excitatory (w > 0) and blue if inhibitory (w < 0).
// Recurrent connections bend to the right of their direction of travel, so
// the pair i → j and j → i draws as a lens, and an autapse (i → i) is a ring
// around its unit. Hidden units are discs whose area grows with their total
// |w|. A unit that fails the weight-based activity rule of
// core.Measures.ActiveNeurons is a hollow grey circle.
package netplot

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/modsweep/modsweep/core"
)

// Defaults of Options.
const (
	DefaultMaxEdges = 4000
	DefaultWidth    = 36 * vg.Centimeter
	DefaultDPI      = 150
)

// Formats lists the file extensions Draw writes.
var Formats = []string{".png", ".svg"}

// Options tunes Draw. The zero value draws with the defaults.
type Options struct {
	// Title is the first title line, typically the trial id. The second
	// line always lists the key measures of the result.
	Title string
	// Threshold is the |w| that a connection must exceed to be drawn. Zero
	// means the result's Measures.ThetaW, the threshold behind its
	// connection count and wiring length.
	Threshold float64
	// MaxEdges caps the connections drawn per weight matrix, keeping the
	// strongest. Zero means DefaultMaxEdges.
	MaxEdges int
	// Width is the width of the whole figure, at least 12 cm. The height
	// follows from it. Zero means DefaultWidth.
	Width vg.Length
	// DPI is the resolution of a PNG file. Zero means DefaultDPI.
	DPI int
}

func (o Options) threshold(res *core.Result) (float64, error) {
	t := o.Threshold
	if t == 0 {
		t = res.Measures.ThetaW
	}
	if t < 0 || math.IsNaN(t) || math.IsInf(t, 0) {
		return 0, fmt.Errorf("invalid threshold %g: use a finite |w| >= 0, or 0 for the result's theta_w", t)
	}
	return t, nil
}

func (o Options) maxEdges() (int, error) {
	switch {
	case o.MaxEdges < 0:
		return 0, fmt.Errorf("invalid max edges %d: use a positive count, or 0 for %d", o.MaxEdges, DefaultMaxEdges)
	case o.MaxEdges == 0:
		return DefaultMaxEdges, nil
	}
	return o.MaxEdges, nil
}

func (o Options) width() (vg.Length, error) {
	switch {
	case o.Width < 0 || math.IsNaN(float64(o.Width)):
		return 0, fmt.Errorf("invalid width %g pt: use a positive length, or 0 for %g cm", float64(o.Width), float64(DefaultWidth/vg.Centimeter))
	case o.Width == 0:
		return DefaultWidth, nil
	case o.Width < 12*vg.Centimeter:
		return 0, fmt.Errorf("invalid width %.1f cm: use at least 12 cm so the three panels stay readable", float64(o.Width/vg.Centimeter))
	}
	return o.Width, nil
}

func (o Options) dpi() (int, error) {
	switch {
	case o.DPI < 0:
		return 0, fmt.Errorf("invalid dpi %d: use a positive resolution, or 0 for %d", o.DPI, DefaultDPI)
	case o.DPI == 0:
		return DefaultDPI, nil
	}
	return o.DPI, nil
}

// Draw writes a picture of the trained network in res to path, as PNG or
// SVG by the extension of path (case-insensitive). It draws the connections
// that SelectEdges returns. On error no file is left at path.
func Draw(res *core.Result, path string, opts Options) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".png" && ext != ".svg" {
		return fmt.Errorf("unsupported plot file extension %q in %s: use one of %s", ext, path, strings.Join(Formats, ", "))
	}
	width, err := opts.width()
	if err != nil {
		return err
	}
	dpi, err := opts.dpi()
	if err != nil {
		return err
	}
	conns, err := SelectEdges(res, opts)
	if err != nil {
		return err
	}

	fig := newFigure(res, conns, opts.Title, width)
	var canvas vg.CanvasWriterTo
	switch ext {
	case ".png":
		img := vgimg.NewWith(vgimg.UseWH(fig.width, fig.height), vgimg.UseDPI(dpi))
		canvas = vgimg.PngCanvas{Canvas: img}
	case ".svg":
		// Fonts are not embedded: the text names Liberation Sans, which is
		// metric-compatible with Arial, and embedding adds about 1 MB.
		canvas = vgsvg.New(fig.width, fig.height)
	}
	fig.draw(canvas)
	return writeFile(path, canvas)
}

// writeFile writes the rendered canvas to path and removes the partial
// file if writing fails.
func writeFile(path string, canvas io.WriterTo) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create plot file: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, removeIfExists(path))
		}
	}()
	if _, err := canvas.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("write plot file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write plot file %s: %w", path, err)
	}
	return nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove partial plot file: %w", err)
	}
	return nil
}
