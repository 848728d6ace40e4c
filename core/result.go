package core

import "time"

// Progress is the state of a running Train call, passed to its callback.
type Progress struct {
	Step  int     // steps completed
	Steps int     // total steps
	Loss  float64 // task loss of the latest step (without the penalty)
	// Perf is the mean performance of the latest evaluation, NaN before the
	// first one.
	Perf float64
}

// LossPoint is one point of the loss curve.
type LossPoint struct {
	Step    int     `json:"step"`
	Loss    float64 `json:"loss"`    // task loss (masked MSE)
	Penalty float64 `json:"penalty"` // regularizer cost times lambda at that step
}

// Eval is one evaluation of the network during or after training.
type Eval struct {
	Step    int                `json:"step"`
	PerTask map[string]float64 `json:"per_task"`
	Mean    float64            `json:"mean"`
	Min     float64            `json:"min"`
}

// Point is a position in the unit square.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Layout gives the in-plane position of every unit after training, so a
// report can draw the network.
type Layout struct {
	Inputs  []Point `json:"inputs"`  // one per input channel
	Hidden  []Point `json:"hidden"`  // one per hidden unit, in the order of the weights
	Outputs []Point `json:"outputs"` // one per output channel
}

// Measures are the structure measures of a trained network. Thresholds are
// copied from the configuration so each number travels with its definition.
type Measures struct {
	ActiveNeurons         int     `json:"active_neurons"`          // weight-based: Σ|in| and Σ|out|, autapse excluded, both > ThetaN
	ActiveNeuronsActivity int     `json:"active_neurons_activity"` // task variance summed over tasks > ThetaActivity
	WiringLength          float64 `json:"wiring_length"`           // Σ d over connections with |w| > ThetaW
	WiringLengthWeighted  float64 `json:"wiring_length_weighted"`  // Σ |w|·d
	DiagShare             float64 `json:"diag_share"`              // Σ|diag Wrec| / Σ|Wrec|
	Connections           int     `json:"connections"`             // connections with |w| > ThetaW
	ThetaN                float64 `json:"theta_n"`
	ThetaW                float64 `json:"theta_w"`
	ThetaActivity         float64 `json:"theta_activity"`
}

// Weights are the final parameters of a trained network, row-major, with
// the same layout as model.Params.
type Weights struct {
	NIn  int       `json:"n_in"`
	N    int       `json:"n"`
	NOut int       `json:"n_out"`
	Win  []float64 `json:"w_in"`
	Wrec []float64 `json:"w_rec"`
	Brec []float64 `json:"b_rec"`
	Wout []float64 `json:"w_out"`
	Bout []float64 `json:"b_out"`
}

// Result is the outcome of one finished training run.
type Result struct {
	Final     Eval          `json:"final"`      // evaluation after the last step
	Evals     []Eval        `json:"evals"`      // every evaluation, in step order
	LossCurve []LossPoint   `json:"loss_curve"` // one point per logged step
	FinalLoss float64       `json:"final_loss"` // mean task loss of the last 10 steps
	Measures  Measures      `json:"measures"`
	Layout    Layout        `json:"layout"`
	Weights   Weights       `json:"weights"`
	Swaps     int           `json:"swaps"` // neuron swaps performed over the run
	Duration  time.Duration `json:"duration_ns"`
}
