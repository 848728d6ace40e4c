package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors of the lease operations. The gRPC handlers map each to a status
// code.
var (
	// ErrUnknownAgent is returned when an agent id was never registered.
	ErrUnknownAgent = errors.New("agent is not registered")
	// ErrQuarantined is returned by a lease request from an agent that
	// failed too many trials in a row.
	ErrQuarantined = errors.New("agent is quarantined")
	// ErrNotFound is returned when a sweep or trial does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid is returned for a malformed request.
	ErrInvalid = errors.New("invalid request")
)

// Outcome is the coordinator's verdict on a report that presents a lease.
type Outcome int

// Outcomes of CompleteTrial, FailTrial and ReleaseTrial.
const (
	// OutcomeAccepted means the report was recorded.
	OutcomeAccepted Outcome = iota + 1
	// OutcomeAlreadyCompleted means the trial had already succeeded with
	// this lease; nothing changed.
	OutcomeAlreadyCompleted
	// OutcomeSuperseded means the lease is stale (the trial was leased
	// again, requeued, failed for good or cancelled); nothing changed.
	OutcomeSuperseded
)

// leaseToken identifies the lease a report presents.
type leaseToken struct {
	sweepID string
	trialID string
	epoch   uint64
}

// grant is a lease handed to an agent together with the trial it covers.
type grant struct {
	sweepID   string
	trialID   string
	attempt   uint32
	epoch     uint64
	expiresAt time.Time
	spec      trialSpec
}

// tryLease leases the next runnable trial to agentID. When nothing is
// runnable it returns a nil grant and a channel that is closed when that
// may have changed.
func (c *Coordinator) tryLease(agentID string) (*grant, <-chan struct{}, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, nil, ErrClosed
	}
	g, err := c.leaseLocked(agentID, time.Now())
	if err != nil || g == nil {
		wake := c.work
		c.mu.Unlock()
		return nil, wake, err
	}
	b := c.kickLocked()
	c.mu.Unlock()

	if err := b.wait(); err != nil {
		return nil, nil, err
	}
	if err := c.finishGrant(g, agentID); err != nil {
		return nil, nil, err
	}
	return g, nil, nil
}

// leaseLocked leases the next runnable trial to agentID and queues the
// write, or returns a nil grant when nothing is runnable. The caller waits
// for the commit and then calls finishGrant.
func (c *Coordinator) leaseLocked(agentID string, now time.Time) (*grant, error) {
	agent, ok := c.agents[agentID]
	if !ok {
		return nil, fmt.Errorf("agent %q: %w: register again", agentID, ErrUnknownAgent)
	}
	if agent.Quarantined {
		return nil, fmt.Errorf("agent %q (%s): %w after %d failed trials in a row: "+
			"check its logs, fix it and restart it so that it registers again",
			agentID, agent.Name, ErrQuarantined, agent.FailStreak)
	}
	t := c.nextPendingLocked()
	if t == nil {
		return nil, nil
	}

	t.st.Epoch++
	t.st.AgentID = agentID
	t.st.LeasedAt = now
	t.st.ExpiresAt = now.Add(c.cfg.LeaseTTL)
	t.st.Attempts = append(t.st.Attempts, attemptEntry{
		Attempt:   uint32(len(t.st.Attempts) + 1),
		Epoch:     t.st.Epoch,
		AgentID:   agentID,
		StartedAt: now,
	})
	c.setStateLocked(t, stateLeased, now)
	c.enqueueLocked(trialWrite(t))
	return &grant{
		sweepID:   t.sweep.rec.ID,
		trialID:   t.id,
		attempt:   uint32(len(t.st.Attempts)),
		epoch:     t.st.Epoch,
		expiresAt: t.st.ExpiresAt,
	}, nil
}

// finishGrant reads the configuration of a committed lease.
func (c *Coordinator) finishGrant(g *grant, agentID string) error {
	c.log.Debug("trial leased", "sweep_id", g.sweepID, "trial_id", g.trialID,
		"agent_id", agentID, "attempt", g.attempt, "epoch", g.epoch)
	spec, err := c.readSpec(g.sweepID, g.trialID)
	if err != nil {
		// The lease is stored; it expires and the reaper requeues it.
		return err
	}
	g.spec = spec
	return nil
}

// readSpec reads the immutable part of a trial from the store.
func (c *Coordinator) readSpec(sweepID, trialID string) (trialSpec, error) {
	var spec trialSpec
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConfigs).Bucket([]byte(sweepID))
		if b == nil {
			return fmt.Errorf("sweep %s: %w", sweepID, ErrNotFound)
		}
		v := b.Get([]byte(trialID))
		if v == nil {
			return fmt.Errorf("trial %s/%s configuration: %w", sweepID, trialID, ErrNotFound)
		}
		return json.Unmarshal(v, &spec)
	})
	if err != nil {
		return trialSpec{}, fmt.Errorf("read trial %s/%s: %w", sweepID, trialID, err)
	}
	return spec, nil
}

// leaseWait long-polls for a trial: it returns a grant as soon as one is
// runnable, or nil when hold passes first.
func (c *Coordinator) leaseWait(ctx context.Context, agentID string, hold time.Duration) (*grant, error) {
	timer := time.NewTimer(hold)
	defer timer.Stop()
	for {
		select {
		case <-c.drain:
			return nil, nil
		default:
		}
		g, wake, err := c.tryLease(agentID)
		if err != nil || g != nil {
			return g, err
		}
		select {
		case <-wake:
		case <-c.drain:
			return nil, nil
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// findTrialLocked returns the trial a lease token names.
func (c *Coordinator) findTrialLocked(tok leaseToken) (*memTrial, error) {
	s, ok := c.sweeps[tok.sweepID]
	if !ok {
		return nil, fmt.Errorf("sweep %q: %w", tok.sweepID, ErrNotFound)
	}
	t, ok := s.trials[tok.trialID]
	if !ok {
		return nil, fmt.Errorf("trial %q in sweep %s: %w", tok.trialID, tok.sweepID, ErrNotFound)
	}
	return t, nil
}

// checkLease classifies a report against the trial's current lease. It
// returns 0 when the lease is current and the trial still leased.
func checkLease(t *memTrial, epoch uint64) Outcome {
	switch {
	case epoch != t.st.Epoch:
		return OutcomeSuperseded
	case t.st.State == stateSucceeded:
		return OutcomeAlreadyCompleted
	case t.st.State != stateLeased:
		return OutcomeSuperseded
	}
	return 0
}

// heartbeatResult is the response to a heartbeat.
type heartbeatResult struct {
	cancel    bool
	reason    string
	expiresAt time.Time
}

// heartbeat extends a current lease by the TTL and stores the progress. A
// stale lease, or a trial that left the leased state, gets cancel = true.
func (c *Coordinator) heartbeat(tok leaseToken, progress *progressEntry) (heartbeatResult, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return heartbeatResult{}, ErrClosed
	}
	t, err := c.findTrialLocked(tok)
	if err != nil {
		c.mu.Unlock()
		return heartbeatResult{}, err
	}

	if tok.epoch != t.st.Epoch || t.st.State != stateLeased {
		res := heartbeatResult{cancel: true, reason: staleReason(t, tok.epoch)}
		b := c.kickLocked()
		c.mu.Unlock()
		return res, b.wait()
	}

	now := time.Now()
	t.st.ExpiresAt = now.Add(c.cfg.LeaseTTL)
	t.st.UpdatedAt = now
	if progress != nil {
		t.st.Progress = progress
	}
	res := heartbeatResult{expiresAt: t.st.ExpiresAt}
	b := c.enqueueLocked(trialWrite(t))
	c.mu.Unlock()
	return res, b.wait()
}

// staleReason explains why a lease with epoch no longer holds trial t.
func staleReason(t *memTrial, epoch uint64) string {
	switch {
	case epoch != t.st.Epoch:
		return fmt.Sprintf("lease superseded: the trial was leased again with epoch %d", t.st.Epoch)
	case t.st.State == stateCancelled:
		return "trial cancelled"
	case t.st.State == stateSucceeded:
		return "trial already succeeded"
	case t.st.State == stateFailed:
		return "trial failed for good: " + t.st.Error
	default:
		return "lease expired and the trial was requeued"
	}
}

// completion is a finished trial as an agent reports it.
type completion struct {
	metrics    metricsEntry
	resultJSON []byte
	// leaseNext, when set, names the agent to lease the next runnable
	// trial to in the same commit.
	leaseNext string
}

// complete records a trial's result. The first valid completion wins: a
// stale epoch is superseded and a repeat is already completed, in both
// arrival orders. A completion from the latest lease is accepted even after
// that lease expired, as long as no newer lease exists and the trial was
// not cancelled, because the result is as good as any.
//
// With res.leaseNext set, it also leases the next runnable trial to that
// agent, whatever the outcome, and returns the grant (nil when nothing is
// runnable or the agent may not lease).
func (c *Coordinator) complete(tok leaseToken, res completion) (Outcome, *grant, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, nil, ErrClosed
	}
	t, err := c.findTrialLocked(tok)
	if err != nil {
		c.mu.Unlock()
		return 0, nil, err
	}

	now := time.Now()
	outcome := checkLease(t, tok.epoch)
	lateButLatest := outcome == OutcomeSuperseded && tok.epoch == t.st.Epoch &&
		(t.st.State == statePending || t.st.State == stateFailed)
	agentID := t.st.AgentID
	if outcome == 0 || lateButLatest {
		outcome = OutcomeAccepted
		c.acceptLocked(t, tok.epoch, res, now)
	}

	var next *grant
	if res.leaseNext != "" {
		next, err = c.leaseLocked(res.leaseNext, now)
		if err != nil {
			c.log.Debug("no next lease", "agent_id", res.leaseNext, "error", err)
		}
	}
	b := c.kickLocked()
	c.mu.Unlock()

	if err := b.wait(); err != nil {
		return 0, nil, err
	}
	if outcome == OutcomeAccepted {
		c.log.Debug("trial succeeded", "sweep_id", tok.sweepID, "trial_id", tok.trialID,
			"agent_id", agentID, "epoch", tok.epoch)
	}
	if next != nil {
		if err := c.finishGrant(next, res.leaseNext); err != nil {
			c.log.Error("read next leased trial failed", "sweep_id", next.sweepID,
				"trial_id", next.trialID, "agent_id", res.leaseNext, "error", err)
			next = nil
		}
	}
	return outcome, next, nil
}

// acceptLocked records a trial's result and queues the writes.
func (c *Coordinator) acceptLocked(t *memTrial, epoch uint64, res completion, now time.Time) {
	m := res.metrics
	t.st.Metrics = &m
	t.st.Error = ""
	if n := len(t.st.Attempts); n > 0 && t.st.Attempts[n-1].Epoch == epoch {
		a := &t.st.Attempts[n-1]
		if a.Outcome != "" {
			a.Outcome = "succeeded after " + a.Outcome
		} else {
			a.Outcome = stateSucceeded
		}
		a.EndedAt = now
	}
	agentID := t.st.AgentID
	c.setStateLocked(t, stateSucceeded, now)

	ws := []write{
		trialWrite(t),
		{top: bucketResults, sweep: t.sweep.rec.ID, key: indexKey(t.st.Index), value: res.resultJSON},
	}
	if a, ok := c.agents[agentID]; ok && a.FailStreak > 0 {
		a.FailStreak = 0
		ws = append(ws, agentWrite(a))
	}
	c.enqueueLocked(ws...)
}

// fail records a failed attempt. The trial is requeued until it has
// failed MaxAttempts times, then it is failed for good with every
// attempt's reason; final reports that. The agent's failure streak grows
// and may put it in quarantine.
func (c *Coordinator) fail(tok leaseToken, reason string) (outcome Outcome, final bool, err error) {
	if reason == "" {
		reason = "no reason given"
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, false, ErrClosed
	}
	t, err := c.findTrialLocked(tok)
	if err != nil {
		c.mu.Unlock()
		return 0, false, err
	}
	if outcome := checkLease(t, tok.epoch); outcome != 0 {
		b := c.kickLocked()
		c.mu.Unlock()
		return outcome, false, b.wait()
	}

	now := time.Now()
	agentID := t.st.AgentID
	final = c.endAttemptLocked(t, "failed: "+reason, true, now)
	ws := []write{trialWrite(t)}
	ws = append(ws, c.countAgentFailureLocked(agentID, now)...)
	b := c.enqueueLocked(ws...)
	c.mu.Unlock()

	if err := b.wait(); err != nil {
		return 0, false, err
	}
	c.log.Info("trial attempt failed", "sweep_id", tok.sweepID, "trial_id", tok.trialID,
		"agent_id", agentID, "epoch", tok.epoch, "final", final, "reason", reason)
	return OutcomeAccepted, final, nil
}

// release gives a lease back without counting a failed attempt.
func (c *Coordinator) release(tok leaseToken) (Outcome, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, ErrClosed
	}
	t, err := c.findTrialLocked(tok)
	if err != nil {
		c.mu.Unlock()
		return 0, err
	}
	if outcome := checkLease(t, tok.epoch); outcome != 0 {
		b := c.kickLocked()
		c.mu.Unlock()
		return outcome, b.wait()
	}

	agentID := t.st.AgentID
	c.endAttemptLocked(t, "released", false, time.Now())
	b := c.enqueueLocked(trialWrite(t))
	c.mu.Unlock()

	if err := b.wait(); err != nil {
		return 0, err
	}
	c.log.Debug("trial released", "sweep_id", tok.sweepID, "trial_id", tok.trialID,
		"agent_id", agentID, "epoch", tok.epoch)
	return OutcomeAccepted, nil
}

// endAttemptLocked closes the current attempt of a leased trial with
// outcome and requeues the trial. When counted is true the attempt counts
// against MaxAttempts, and reaching it fails the trial for good; the
// result reports that.
func (c *Coordinator) endAttemptLocked(t *memTrial, outcome string, counted bool, now time.Time) bool {
	if n := len(t.st.Attempts); n > 0 {
		t.st.Attempts[n-1].Outcome = outcome
		t.st.Attempts[n-1].EndedAt = now
	}
	if counted {
		t.st.Failures++
	}
	if counted && t.st.Failures >= c.cfg.MaxAttempts {
		t.st.Error = attemptSummary(t.st.Attempts)
		c.setStateLocked(t, stateFailed, now)
		return true
	}
	c.setStateLocked(t, statePending, now)
	return false
}

// attemptSummary joins the outcome of every attempt, for the error of a
// trial that failed for good.
func attemptSummary(attempts []attemptEntry) string {
	parts := make([]string, len(attempts))
	for i, a := range attempts {
		parts[i] = fmt.Sprintf("attempt %d on agent %s: %s", a.Attempt, a.AgentID, a.Outcome)
	}
	return fmt.Sprintf("%d attempts failed: %s", len(attempts), strings.Join(parts, "; "))
}

// countAgentFailureLocked grows an agent's failure streak and quarantines
// it at QuarantineAfter. Its other leases are then requeued without
// counting, so their trials run elsewhere.
func (c *Coordinator) countAgentFailureLocked(agentID string, now time.Time) []write {
	a, ok := c.agents[agentID]
	if !ok {
		return nil
	}
	a.FailStreak++
	ws := []write{agentWrite(a)}
	if a.Quarantined || a.FailStreak < c.cfg.QuarantineAfter {
		return ws
	}

	a.Quarantined = true
	ws = []write{agentWrite(a)}
	requeued := 0
	for t := range c.leased {
		if t.st.AgentID == agentID {
			c.endAttemptLocked(t, "released: agent quarantined", false, now)
			ws = append(ws, trialWrite(t))
			requeued++
		}
	}
	c.metrics.quarantines.Inc()
	c.log.Warn("agent quarantined", "agent_id", agentID, "agent_name", a.Name,
		"fail_streak", a.FailStreak, "requeued_leases", requeued)
	return ws
}
