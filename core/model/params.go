// Package model holds the parameters of the leaky RNN that every other part
// of the trainer reads and writes: the weights, their gradients and Adam's
// moment estimates all share this one layout.
package model

// Params holds the weights of a leaky RNN with NIn inputs, N hidden units and
// NOut outputs. Every matrix is dense, row-major and float64.
//
// The network computes, for a batch row vector x_t of inputs and r_{t-1} of
// rates,
//
//	z_t = x_t·Win + r_{t-1}·Wrec + Brec
//	y_t = sigmoid(r_t·Wout + Bout)
//
// so Win[i*N+j] is the weight from input i to hidden unit j, Wrec[i*N+j] the
// weight from hidden unit i to hidden unit j, and Wout[j*NOut+k] the weight
// from hidden unit j to output k.
type Params struct {
	NIn, N, NOut int

	Win  []float64 // NIn × N
	Wrec []float64 // N × N
	Brec []float64 // N
	Wout []float64 // N × NOut
	Bout []float64 // NOut
}

// New returns zeroed parameters of the given shape.
func New(nIn, n, nOut int) *Params {
	return &Params{
		NIn: nIn, N: n, NOut: nOut,
		Win:  make([]float64, nIn*n),
		Wrec: make([]float64, n*n),
		Brec: make([]float64, n),
		Wout: make([]float64, n*nOut),
		Bout: make([]float64, nOut),
	}
}

// Clone returns a deep copy of p.
func (p *Params) Clone() *Params {
	c := New(p.NIn, p.N, p.NOut)
	copy(c.Win, p.Win)
	copy(c.Wrec, p.Wrec)
	copy(c.Brec, p.Brec)
	copy(c.Wout, p.Wout)
	copy(c.Bout, p.Bout)
	return c
}

// Tensors returns the parameter slices in a fixed order (Win, Wrec, Brec,
// Wout, Bout), so code that treats every parameter alike can loop over them.
func (p *Params) Tensors() [][]float64 {
	return [][]float64{p.Win, p.Wrec, p.Brec, p.Wout, p.Bout}
}

// TensorNames returns the names of the slices that Tensors returns, in the
// same order.
func TensorNames() []string {
	return []string{"Win", "Wrec", "Brec", "Wout", "Bout"}
}

// Zero sets every parameter to zero.
func (p *Params) Zero() {
	for _, t := range p.Tensors() {
		clear(t)
	}
}
