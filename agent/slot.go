package agent

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/modsweep/modsweep/core"
	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// releaseTimeout bounds the retries of ReleaseTrial during a shutdown.
const releaseTimeout = 5 * time.Second

// runSlot is one worker slot. The slot is free whenever it polls, so the
// agent never holds a trial that it cannot start at once. A poll already
// in flight when polling stops may still return a trial: it is trained if
// the agent is only draining (idle exit, max trials), and released if ctx
// was cancelled.
func (a *agent) runSlot(ctx, hardCtx context.Context, slot int) {
	bo := backoff{policy: a.cfg.retry}
	for a.stopCtx.Err() == nil {
		if !a.budget.reserve() {
			return
		}
		reg := a.current()
		resp, err := a.lease(hardCtx, reg)
		if err != nil || !resp.GetFound() {
			a.budget.refund()
		}
		if err != nil {
			if hardCtx.Err() != nil {
				return
			}
			a.pollFailed(hardCtx, reg, err)
			if bo.wait(a.stopCtx) != nil {
				return
			}
			continue
		}
		bo.reset()
		if a.limit.clear("lease") {
			reg.log.Info("coordinator reachable again")
		}
		if !resp.GetFound() {
			reg.log.Trace("no trial to lease", keySlot, slot+1)
			continue
		}
		// Train the leased trial, and then each trial that the coordinator
		// chains onto the completion of the previous one.
		for next := resp; next != nil; {
			if ctx.Err() != nil {
				l := next.GetLease()
				a.release(hardCtx, l, reg.log.With(keySweepID, l.GetSweepId(), keyTrialID, l.GetTrialId(), keyAttempt, l.GetAttempt()))
				return
			}
			next = a.runTrial(hardCtx, slot, next)
		}
	}
}

// lease makes one LeaseTrial call with a deadline past the server's hold.
func (a *agent) lease(ctx context.Context, reg registration) (*modsweepv1.LeaseTrialResponse, error) {
	callCtx, cancel := context.WithTimeout(ctx, reg.hold+pollMargin)
	defer cancel()
	return a.client.LeaseTrial(callCtx, &modsweepv1.LeaseTrialRequest{AgentId: reg.agentID})
}

// pollFailed logs a failed poll once per window, and registers again when
// the coordinator reports the agent id as unknown.
func (a *agent) pollFailed(ctx context.Context, reg registration, err error) {
	if unknownAgent(err) {
		a.reregister(ctx, reg.agentID)
		return
	}
	if status.Code(err) == codes.FailedPrecondition {
		// The coordinator quarantined this agent: stop polling, but let
		// the other slots finish and deliver their trials.
		a.stopWithError(fmt.Errorf("coordinator %s leases no more trials to this agent: %w", a.cfg.Addr, err))
		return
	}
	if ok, n := a.limit.allow("lease"); ok {
		reg.log.Warn("lease request failed; retrying with backoff", keyError, err, "suppressed", n)
	}
}

// runTrial trains one leased trial in slot and reports how it ended. It
// returns the next lease when the coordinator granted one with the
// completion, and nil otherwise.
func (a *agent) runTrial(ctx context.Context, slot int, resp *modsweepv1.LeaseTrialResponse) *modsweepv1.LeaseTrialResponse {
	lease, trial := resp.GetLease(), resp.GetTrial()
	log := a.current().log.With(keySweepID, trial.GetSweepId(), keyTrialID, trial.GetId(),
		keyAttempt, lease.GetAttempt(), keySlot, slot+1)
	a.idle.enter()
	defer a.idle.leave()

	cfg, err := decodeConfig(trial.GetConfigJson())
	if err != nil {
		log.Error("invalid trial config; reporting the trial as failed", keyError, err)
		a.reportFail(ctx, lease, err.Error(), log)
		return nil
	}
	log.Info("trial started", "steps", cfg.Steps, "hidden", cfg.Hidden,
		"regularizer", cfg.Regularizer, "lambda", cfg.Lambda)
	a.board.start(slot, trial.GetId(), cfg.Steps)
	defer a.board.finish(slot)

	// Train under a context that the heartbeat cancels when the lease ends.
	trainCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	heartbeatDone := make(chan struct{})
	go func() {
		defer close(heartbeatDone)
		a.heartbeat(trainCtx, stop, slot, lease, log)
	}()
	started := time.Now()
	result, err := a.train(trainCtx, cfg, func(p core.Progress) { a.board.update(slot, p) })
	cause := context.Cause(trainCtx)
	stop(nil)
	<-heartbeatDone

	switch {
	case err == nil:
		log.Info("trial finished", "performance", result.Final.Mean, "final_loss", result.FinalLoss,
			"elapsed", time.Since(started).Round(time.Millisecond))
		return a.reportComplete(ctx, lease, result, log)
	case errors.Is(cause, errShutdown):
		log.Info("trial stopped by shutdown; releasing its lease")
		a.release(context.WithoutCancel(ctx), lease, log)
	case errors.Is(cause, errLeaseCancelled) || errors.Is(cause, errLeaseLost):
		log.Info("trial stopped", "reason", cause)
	case cause != nil:
		// A fatal agent error stopped the trial; its lease expires.
		log.Warn("trial stopped", "reason", cause)
	default:
		log.Warn("trial failed; reporting it", keyError, err)
		a.reportFail(ctx, lease, err.Error(), log)
	}
	return nil
}

// train runs the trainer and turns a panic into an error, so one bad trial
// cannot take the agent down.
func (a *agent) train(ctx context.Context, cfg core.Config, progress func(core.Progress)) (result *core.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			a.cfg.Logger.Error("trainer panicked", "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("trainer panicked: %v", r)
		}
	}()
	result, err = a.cfg.Train(ctx, cfg, progress)
	if err == nil && result == nil {
		err = errors.New("trainer returned neither a result nor an error")
	}
	return result, err
}

// heartbeat extends the lease every heartbeat interval with the slot's
// latest progress, until ctx ends. It stops the trial through stop when
// the coordinator returns cancel, or when no heartbeat was acknowledged for
// a whole lease TTL: by then the coordinator has given the trial to
// someone else.
func (a *agent) heartbeat(ctx context.Context, stop context.CancelCauseFunc, slot int,
	lease *modsweepv1.Lease, log hclog.Logger) {
	reg := a.current()
	ticker := time.NewTicker(reg.heartbeat)
	defer ticker.Stop()
	lastAck := time.Now()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}

		reg = a.current()
		req := &modsweepv1.HeartbeatRequest{
			AgentId:  reg.agentID,
			Lease:    lease,
			Progress: progressToProto(a.board.latest(slot)),
		}
		callCtx, cancel := context.WithTimeout(ctx, reg.ttl/2)
		resp, err := a.client.Heartbeat(callCtx, req)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			if failures > 0 {
				log.Info("heartbeat acknowledged again", "failures", failures)
			}
			lastAck, failures = time.Now(), 0
			if resp.GetCancel() {
				stop(fmt.Errorf("%w: %s", errLeaseCancelled, resp.GetReason()))
				return
			}
			continue
		}

		failures++
		if unknownAgent(err) {
			a.reregister(ctx, reg.agentID)
		}
		if time.Since(lastAck) > reg.ttl {
			log.Warn("stopping the trial: lease lost", "lease_ttl", reg.ttl, keyError, err)
			stop(errLeaseLost)
			return
		}
		if failures == 1 {
			log.Warn("heartbeat failed; retrying until the lease TTL passes", keyError, err)
		}
	}
}

// release gives a lease back so that another agent can take the trial
// without waiting for it to expire. Failures are logged: the lease then
// expires on its own.
func (a *agent) release(ctx context.Context, lease *modsweepv1.Lease, log hclog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, releaseTimeout)
	defer cancel()
	bo := backoff{policy: a.cfg.retry}
	for {
		reg := a.current()
		resp, err := a.client.ReleaseTrial(ctx, &modsweepv1.ReleaseTrialRequest{AgentId: reg.agentID, Lease: lease})
		if err == nil {
			log.Info("lease released", "outcome", resp.GetOutcome())
			return
		}
		if unknownAgent(err) {
			a.reregister(ctx, reg.agentID)
		}
		if bo.wait(ctx) != nil {
			log.Warn("lease not released; it expires after its TTL", keyError, err)
			return
		}
	}
}
