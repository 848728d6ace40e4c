package sweep

import "time"

// Trial states, as the coordinator records them.
const (
	StatePending   = "pending"
	StateLeased    = "leased"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// States lists the trial states in lifecycle order.
var States = []string{StatePending, StateLeased, StateSucceeded, StateFailed, StateCancelled}

// Metrics are the measures of one finished trial (see core.Measures for
// their definitions). Counts are float64 so that missing values can be NaN.
type Metrics struct {
	Performance           float64 // mean performance over the trained tasks, in [0, 1]
	PerformanceMin        float64 // minimum performance over the trained tasks
	ActiveNeurons         float64 // weight-based count of active hidden units
	ActiveNeuronsActivity float64 // activity-based count of active hidden units
	WiringLength          float64 // Σ d over connections with |w| > ThetaW
	WiringLengthWeighted  float64 // Σ |w|·d
	DiagShare             float64 // Σ|diag Wrec| / Σ|Wrec|
	FinalLoss             float64 // mean task loss of the last training steps

	// Thresholds behind the counts; all three 0 when not recorded.
	ThetaN        float64
	ThetaW        float64
	ThetaActivity float64
}

// Record is the coordinator's state of one trial, converted from its store.
type Record struct {
	ID          string
	State       string // one of States
	Regularizer string
	Lambda      float64
	Seed        uint64
	Attempts    int
	Metrics     *Metrics // nil until the trial succeeds
	Error       string   // reason of the last failure, if any
	Axes        map[string]string
	LeaseAge    time.Duration // time since the current lease was granted; 0 unless leased
}

// Excluded is a record left out of a front, with the reason.
type Excluded struct {
	ID     string
	Reason string
}
