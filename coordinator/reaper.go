package coordinator

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// runReaper requeues expired leases every quarter of the lease TTL, so no
// trial stays leased much longer than its TTL without a heartbeat.
func (c *Coordinator) runReaper() {
	defer c.wg.Done()
	ticker := time.NewTicker(c.cfg.LeaseTTL / 4)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			c.reap(time.Now())
		case <-c.stop:
			return
		}
	}
}

// reap ends every lease that expired by now, recording the attempt as
// expired. An expired attempt counts against MaxAttempts. It returns the
// number of leases reaped.
func (c *Coordinator) reap(now time.Time) int {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0
	}
	type reaped struct {
		sweepID, trialID, agentID string
		epoch                     uint64
		final                     bool
	}
	var done []reaped
	var ws []write
	for t := range c.leased {
		if t.st.ExpiresAt.After(now) {
			continue
		}
		r := reaped{sweepID: t.sweep.rec.ID, trialID: t.id, agentID: t.st.AgentID, epoch: t.st.Epoch}
		r.final = c.endAttemptLocked(t, "expired", true, now)
		ws = append(ws, trialWrite(t))
		done = append(done, r)
	}
	if len(ws) == 0 {
		c.mu.Unlock()
		return 0
	}
	b := c.enqueueLocked(ws...)
	c.mu.Unlock()

	c.metrics.expiredLeases.Add(float64(len(done)))
	if err := b.wait(); err != nil {
		c.log.Error("store expired leases failed", "count", len(done), "error", err)
		return 0
	}
	for _, r := range done {
		c.log.Warn("lease expired", "sweep_id", r.sweepID, "trial_id", r.trialID,
			"agent_id", r.agentID, "epoch", r.epoch, "final", r.final)
	}
	return len(done)
}

// agentInfo is the description an agent sends of itself when it registers.
type agentInfo struct {
	Name, Version, Hostname, OS string
	Slots, CPUs                 uint32
}

// registerAgent stores a new agent and returns its id: the name, or the
// host name when the name is empty, followed by random hex digits so that
// two agents of one name never share an id.
func (c *Coordinator) registerAgent(info agentInfo) (string, error) {
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return "", fmt.Errorf("generate agent id: %w", err)
	}
	base := info.Name
	if base == "" {
		base = info.Hostname
	}
	if base == "" {
		base = "agent"
	}
	base = strings.Map(func(r rune) rune {
		if r <= ' ' || r == '/' {
			return '_'
		}
		return r
	}, base)
	if len(base) > 64 {
		base = base[:64]
	}

	a := &agentRecord{
		ID:           base + "-" + hex.EncodeToString(suffix),
		Name:         info.Name,
		Version:      info.Version,
		Hostname:     info.Hostname,
		OS:           info.OS,
		Slots:        info.Slots,
		CPUs:         info.CPUs,
		RegisteredAt: time.Now(),
	}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return "", ErrClosed
	}
	c.agents[a.ID] = a
	b := c.enqueueLocked(agentWrite(a))
	c.mu.Unlock()

	if err := b.wait(); err != nil {
		return "", err
	}
	c.log.Info("agent registered", "agent_id", a.ID, "hostname", a.Hostname,
		"version", a.Version, "slots", a.Slots)
	return a.ID, nil
}
