package coordinator

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Trial states, as stored and as sweep.Record spells them.
const (
	statePending   = "pending"
	stateLeased    = "leased"
	stateSucceeded = "succeeded"
	stateFailed    = "failed"
	stateCancelled = "cancelled"
)

// Sweep states as stored. A running sweep whose trials have all finished is
// reported as done but stays running in the store.
const (
	sweepRunning   = "running"
	sweepStopped   = "stopped"
	sweepCancelled = "cancelled"
	sweepDone      = "done"
)

// trialStates lists every trial state in lifecycle order.
var trialStates = []string{statePending, stateLeased, stateSucceeded, stateFailed, stateCancelled}

// sweepRecord is the stored form of a sweep.
type sweepRecord struct {
	ID        string           `json:"id"`
	Name      string           `json:"name"`
	State     string           `json:"state"`
	CreatedAt time.Time        `json:"created_at"`
	Source    string           `json:"source,omitempty"`
	Trials    int              `json:"trials"`
	Axes      map[string]int64 `json:"axes,omitempty"`
}

// trialSpec is the immutable part of a trial, written once at submit.
type trialSpec struct {
	ID          string            `json:"id"`
	Index       int               `json:"index"`
	Config      json.RawMessage   `json:"config"`
	Regularizer string            `json:"regularizer"`
	Lambda      float64           `json:"lambda"`
	Seed        uint64            `json:"seed"`
	Axes        map[string]string `json:"axes,omitempty"`
}

// trialState is the mutable part of a trial.
type trialState struct {
	ID    string `json:"id"`
	Index int    `json:"index"`
	State string `json:"state"`
	// Epoch is the number of leases granted so far; the current lease has
	// this epoch.
	Epoch uint64 `json:"epoch"`
	// Failures counts failed and expired attempts against the attempt
	// limit; released and cancelled attempts do not count.
	Failures  int            `json:"failures"`
	Attempts  []attemptEntry `json:"attempts,omitempty"`
	AgentID   string         `json:"agent_id,omitempty"`
	LeasedAt  time.Time      `json:"leased_at,omitzero"`
	ExpiresAt time.Time      `json:"expires_at,omitzero"`
	Metrics   *metricsEntry  `json:"metrics,omitempty"`
	Error     string         `json:"error,omitempty"`
	Progress  *progressEntry `json:"progress,omitempty"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// attemptEntry records one lease of a trial and how it ended.
type attemptEntry struct {
	Attempt   uint32    `json:"attempt"`
	Epoch     uint64    `json:"epoch"`
	AgentID   string    `json:"agent_id"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	// Outcome is empty while the attempt runs, then "succeeded",
	// "failed: <reason>", "expired", "released" or "cancelled".
	Outcome string `json:"outcome,omitempty"`
}

// metricsEntry is the stored form of a trial's measures.
type metricsEntry struct {
	Performance           jsonFloat            `json:"performance"`
	PerformanceMin        jsonFloat            `json:"performance_min"`
	ActiveNeurons         jsonFloat            `json:"active_neurons"`
	ActiveNeuronsActivity jsonFloat            `json:"active_neurons_activity"`
	WiringLength          jsonFloat            `json:"wiring_length"`
	WiringLengthWeighted  jsonFloat            `json:"wiring_length_weighted"`
	DiagShare             jsonFloat            `json:"diag_share"`
	FinalLoss             jsonFloat            `json:"final_loss"`
	PerTask               map[string]jsonFloat `json:"per_task,omitempty"`
}

// progressEntry is the latest heartbeat progress of a leased trial.
type progressEntry struct {
	Step        int64     `json:"step"`
	Steps       int64     `json:"steps"`
	Loss        jsonFloat `json:"loss"`
	Performance jsonFloat `json:"performance"`
}

// agentRecord is the stored form of a registered agent.
type agentRecord struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Version      string    `json:"version,omitempty"`
	Hostname     string    `json:"hostname,omitempty"`
	OS           string    `json:"os,omitempty"`
	Slots        uint32    `json:"slots"`
	CPUs         uint32    `json:"cpus"`
	RegisteredAt time.Time `json:"registered_at"`
	// FailStreak counts the agent's failed attempts since its last success.
	FailStreak  int  `json:"fail_streak"`
	Quarantined bool `json:"quarantined"`
}

// jsonFloat is a float64 that survives JSON as NaN and ±Inf, which
// encoding/json rejects: those values are written as strings.
type jsonFloat float64

// MarshalJSON writes NaN and ±Inf as the strings "NaN", "+Inf" and "-Inf".
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number or one of the strings MarshalJSON writes.
func (f *jsonFloat) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("decode float %q: %w", s, err)
		}
		*f = jsonFloat(x)
		return nil
	}
	x, err := strconv.ParseFloat(string(data), 64)
	if err != nil {
		return fmt.Errorf("decode float %s: %w", data, err)
	}
	*f = jsonFloat(x)
	return nil
}

// clone returns a deep copy of s, so a stored snapshot never shares slices
// with the live state.
func (s trialState) clone() trialState {
	c := s
	if s.Attempts != nil {
		c.Attempts = append([]attemptEntry(nil), s.Attempts...)
	}
	if s.Progress != nil {
		p := *s.Progress
		c.Progress = &p
	}
	return c
}
