package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/modsweep/modsweep/core"
	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// reportTimeout bounds one CompleteTrial or FailTrial call.
const reportTimeout = 30 * time.Second

// reportComplete stores the result in the spool, then sends it once from
// the slot. When the slot goes on polling, the call sets lease_next, and
// reportComplete returns the next lease if the coordinator granted one. When that one call fails, the deliverer retries the spool
// file. A result that cannot be encoded fails the trial instead.
func (a *agent) reportComplete(ctx context.Context, lease *modsweepv1.Lease, result *core.Result,
	log hclog.Logger) *modsweepv1.LeaseTrialResponse {
	wire, err := resultToProto(result)
	if err != nil {
		log.Error("result cannot be sent; reporting the trial as failed", keyError, err)
		a.reportFail(ctx, lease, err.Error(), log)
		return nil
	}
	req := &modsweepv1.CompleteTrialRequest{AgentId: a.current().agentID, Lease: lease, Result: wire}

	// Claim the file so that the deliverer leaves it to this slot.
	path := a.spool.pathComplete(lease)
	a.claim(path)
	if _, err := a.spool.putComplete(req); err != nil {
		a.unclaim(path)
		// Without a spool file the result lives only in this process, so
		// send it anyway rather than drop it.
		log.Error("result not stored in the spool; sending it unprotected", keyError, err)
		a.sendUnspooled(ctx, req, log)
		return nil
	}

	// NOTE: when this call fails after the coordinator committed it, the
	// chained lease is lost with the response and expires after its TTL.
	chain := a.stopCtx.Err() == nil && a.budget.reserve()
	direct := proto.CloneOf(req)
	direct.LeaseNext = chain
	outcome, next, err := a.sendComplete(ctx, direct)
	if err == nil {
		a.logOutcome(req, outcome, log)
		if err := a.spool.remove(path); err != nil {
			log.Error("delivered report not removed from the spool; it will be sent again", keyError, err)
		}
	}
	a.unclaim(path)

	if err != nil {
		log.Debug("result not delivered at once; the deliverer retries it", keyError, err)
		a.notifyDeliverer()
	}
	if !next.GetFound() {
		if chain {
			a.budget.refund()
		}
		return nil
	}
	return next
}

// claim marks a spool file as being sent by a slot.
func (a *agent) claim(path string) {
	a.mu.Lock()
	a.claimed[path] = true
	a.mu.Unlock()
}

func (a *agent) unclaim(path string) {
	a.mu.Lock()
	delete(a.claimed, path)
	a.mu.Unlock()
}

func (a *agent) isClaimed(path string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.claimed[path]
}

// reportFail stores a failed attempt in the spool and hands it to the
// deliverer.
func (a *agent) reportFail(ctx context.Context, lease *modsweepv1.Lease, reason string, log hclog.Logger) {
	req := &modsweepv1.FailTrialRequest{AgentId: a.current().agentID, Lease: lease, Reason: reason}
	if _, err := a.spool.putFail(req); err != nil {
		log.Error("failure not stored in the spool; sending it unprotected", keyError, err)
		a.sendUnspooled(ctx, req, log)
		return
	}
	a.notifyDeliverer()
}

func (a *agent) notifyDeliverer() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// sendUnspooled makes one attempt to deliver a report that the spool could
// not store, even after a shutdown cancelled ctx.
func (a *agent) sendUnspooled(ctx context.Context, req proto.Message, log hclog.Logger) {
	if _, err := a.send(context.WithoutCancel(ctx), req); err != nil {
		log.Error("report lost: not stored and not delivered", keyError, err)
	}
}

// deliverLoop sends the spool's reports in file name order until slotsDone
// is closed and the spool is empty, or until ctx ends. It skips the files
// that a slot is sending itself.
func (a *agent) deliverLoop(ctx context.Context, slotsDone <-chan struct{}) {
	done := false
	for {
		listed, err := a.spool.list()
		if err != nil {
			a.cfg.Logger.Error("cannot read the spool; retrying", keyError, err)
		}
		var paths []string
		for _, path := range listed {
			if !a.isClaimed(path) {
				paths = append(paths, path)
			}
		}
		for _, path := range paths {
			if a.deliver(ctx, path) != nil {
				return
			}
		}
		if done && err == nil && len(listed) == 0 {
			return
		}
		if len(paths) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-slotsDone:
			done = true
			slotsDone = nil
		case <-a.wake:
		case <-time.After(a.cfg.retry.Max):
		}
	}
}

// deliver sends one spool file until the coordinator returns a final
// outcome, then removes the file. It returns an error only when ctx ends.
func (a *agent) deliver(ctx context.Context, path string) error {
	msg, err := a.spool.load(path)
	if err != nil {
		if !a.rejectFile(path, err) {
			return sleep(ctx, a.cfg.retry.Max)
		}
		return nil
	}
	log := a.current().log.With("spool_file", path)
	bo := backoff{policy: a.cfg.retry}
	unknownTwice := false
	for {
		outcome, err := a.send(ctx, msg)
		if err == nil {
			a.limit.clear("deliver")
			a.logOutcome(msg, outcome, log)
			if err := a.spool.remove(path); err != nil {
				log.Error("delivered report not removed from the spool; it will be sent again", keyError, err)
				return sleep(ctx, a.cfg.retry.Max)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}

		switch {
		case status.Code(err) == codes.InvalidArgument, unknownAgent(err) && unknownTwice:
			if a.rejectFile(path, err) {
				return nil
			}
		case unknownAgent(err):
			// Register again and retry at once. A second NotFound with a
			// fresh agent id means the trial itself is unknown.
			unknownTwice = true
			a.reregister(ctx, a.current().agentID)
			continue
		}
		if ok, n := a.limit.allow("deliver"); ok {
			log.Warn("report not delivered; retrying with backoff", keyError, err, "suppressed", n)
		}
		if err := bo.wait(ctx); err != nil {
			return err
		}
	}
}

// send makes one CompleteTrial or FailTrial call for msg with the current
// agent id, and returns the coordinator's outcome.
func (a *agent) send(ctx context.Context, msg proto.Message) (modsweepv1.Outcome, error) {
	switch req := msg.(type) {
	case *modsweepv1.CompleteTrialRequest:
		outcome, _, err := a.sendComplete(ctx, req)
		return outcome, err
	case *modsweepv1.FailTrialRequest:
		return a.sendFail(ctx, req)
	}
	return 0, fmt.Errorf("cannot send a %T report", msg)
}

// sendFail makes one FailTrial call with the current agent id.
func (a *agent) sendFail(ctx context.Context, req *modsweepv1.FailTrialRequest) (modsweepv1.Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	req.AgentId = a.current().agentID
	resp, err := a.client.FailTrial(ctx, req)
	if err != nil {
		return 0, err
	}
	if resp.GetOutcome() == modsweepv1.Outcome_OUTCOME_UNSPECIFIED {
		return 0, status.Error(codes.Internal, "coordinator returned no outcome")
	}
	return resp.GetOutcome(), nil
}

// sendComplete makes one CompleteTrial call with the current agent id and
// returns the outcome and the next lease, if req asked for one.
func (a *agent) sendComplete(ctx context.Context, req *modsweepv1.CompleteTrialRequest) (
	modsweepv1.Outcome, *modsweepv1.LeaseTrialResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, reportTimeout)
	defer cancel()
	req.AgentId = a.current().agentID
	resp, err := a.client.CompleteTrial(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	if resp.GetOutcome() == modsweepv1.Outcome_OUTCOME_UNSPECIFIED {
		return 0, nil, status.Error(codes.Internal, "coordinator returned no outcome")
	}
	return resp.GetOutcome(), resp.GetNext(), nil
}

// logOutcome logs the coordinator's final outcome of a report.
func (a *agent) logOutcome(msg proto.Message, outcome modsweepv1.Outcome, log hclog.Logger) {
	var lease *modsweepv1.Lease
	kind := "result"
	switch req := msg.(type) {
	case *modsweepv1.CompleteTrialRequest:
		lease = req.GetLease()
	case *modsweepv1.FailTrialRequest:
		lease, kind = req.GetLease(), "failure"
	}
	log = log.With(keySweepID, lease.GetSweepId(), keyTrialID, lease.GetTrialId(), keyAttempt, lease.GetAttempt())
	switch outcome {
	case modsweepv1.Outcome_OUTCOME_ACCEPTED:
		log.Info(kind + " accepted")
	case modsweepv1.Outcome_OUTCOME_ALREADY_COMPLETED:
		log.Info(kind+" dropped: the trial was already completed", "outcome", outcome)
	default:
		log.Warn(kind+" dropped: the lease was superseded", "outcome", outcome)
	}
}

// rejectFile moves a report that can never be delivered out of the way,
// and reports whether it could.
func (a *agent) rejectFile(path string, cause error) bool {
	dst, err := a.spool.reject(path)
	if err != nil {
		a.cfg.Logger.Error("cannot move a rejected report out of the spool", "spool_file", path, keyError, err)
		return false
	}
	a.cfg.Logger.Error("report rejected for good; kept for inspection", "spool_file", dst, keyError, cause)
	return true
}
