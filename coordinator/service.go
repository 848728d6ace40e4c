package coordinator

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
	"github.com/modsweep/modsweep/sweep"
)

// The handlers below validate a request, call one domain operation and
// convert its result. Every handler turns a panic into codes.Internal.

// recoverPanic turns a panic in a handler into an Internal error.
func (c *Coordinator) recoverPanic(method string, err *error) {
	if r := recover(); r != nil {
		c.log.Error("handler panicked", "method", method, "panic", fmt.Sprint(r),
			"stack", string(debug.Stack()))
		*err = status.Errorf(codes.Internal, "%s failed: internal error", method)
	}
}

// toStatus maps a domain error to a gRPC status error.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrUnknownAgent):
		code = codes.NotFound
	case errors.Is(err, ErrQuarantined):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrClosed):
		code = codes.Unavailable
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	return status.Error(code, err.Error())
}

// logFailure logs an error that a handler returns, unless it is the
// caller's mistake or going away. keyvals carry the ids involved.
func (c *Coordinator) logFailure(method string, err error, keyvals ...any) {
	switch status.Code(toStatus(err)) {
	case codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.Canceled,
		codes.DeadlineExceeded:
		c.log.Debug("request rejected", append([]any{"method", method, "error", err}, keyvals...)...)
	default:
		c.log.Error("request failed", append([]any{"method", method, "error", err}, keyvals...)...)
	}
}

// SubmitSweep parses and expands a sweep file and stores its trials. A file
// that does not parse or expand is rejected with InvalidArgument and the
// parser's message, and nothing is stored.
func (c *Coordinator) SubmitSweep(ctx context.Context, req *modsweepv1.SubmitSweepRequest) (
	resp *modsweepv1.SubmitSweepResponse, err error,
) {
	defer c.recoverPanic("SubmitSweep", &err)

	source := req.GetSource()
	if source == "" {
		source = "submitted sweep"
	}
	if len(req.GetSpec()) == 0 {
		return nil, status.Errorf(codes.InvalidArgument, "%s: the sweep file is empty: send its YAML text", source)
	}
	f, err := sweep.Parse(req.GetSpec(), source)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	trials, err := f.Expand()
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	sub, err := submissionFromSweep(f, trials, req.GetSpec())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%s: %v", source, err)
	}

	res, err := c.submit(sub)
	if err != nil {
		c.logFailure("SubmitSweep", err, "name", sub.name)
		return nil, toStatus(err)
	}
	return &modsweepv1.SubmitSweepResponse{
		SweepId:   res.sweepID,
		Name:      res.name,
		Trials:    int64(res.trials),
		NewTrials: int64(res.newTrials),
		Axes:      res.axes,
	}, nil
}

// ListSweeps returns every stored sweep, oldest first.
func (c *Coordinator) ListSweeps(ctx context.Context, req *modsweepv1.ListSweepsRequest) (
	resp *modsweepv1.ListSweepsResponse, err error,
) {
	defer c.recoverPanic("ListSweeps", &err)
	sums, err := c.sweepSummaries()
	if err != nil {
		return nil, toStatus(err)
	}
	resp = &modsweepv1.ListSweepsResponse{}
	for _, s := range sums {
		resp.Sweeps = append(resp.Sweeps, summaryToProto(s))
	}
	return resp, nil
}

// GetSweep returns one sweep by id, unique id prefix or name.
func (c *Coordinator) GetSweep(ctx context.Context, req *modsweepv1.GetSweepRequest) (
	resp *modsweepv1.GetSweepResponse, err error,
) {
	defer c.recoverPanic("GetSweep", &err)
	sum, err := c.sweepSummary(req.GetSweepId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &modsweepv1.GetSweepResponse{Sweep: summaryToProto(sum)}, nil
}

// StopSweep drains a sweep.
func (c *Coordinator) StopSweep(ctx context.Context, req *modsweepv1.StopSweepRequest) (
	resp *modsweepv1.StopSweepResponse, err error,
) {
	defer c.recoverPanic("StopSweep", &err)
	sum, err := c.stopSweep(req.GetSweepId())
	if err != nil {
		c.logFailure("StopSweep", err, "sweep_id", req.GetSweepId())
		return nil, toStatus(err)
	}
	return &modsweepv1.StopSweepResponse{Sweep: summaryToProto(sum)}, nil
}

// CancelSweep cancels every pending and leased trial of a sweep.
func (c *Coordinator) CancelSweep(ctx context.Context, req *modsweepv1.CancelSweepRequest) (
	resp *modsweepv1.CancelSweepResponse, err error,
) {
	defer c.recoverPanic("CancelSweep", &err)
	sum, err := c.cancelSweep(req.GetSweepId())
	if err != nil {
		c.logFailure("CancelSweep", err, "sweep_id", req.GetSweepId())
		return nil, toStatus(err)
	}
	return &modsweepv1.CancelSweepResponse{Sweep: summaryToProto(sum)}, nil
}

// ListTrials streams a sweep's trials, listChunk records per message.
func (c *Coordinator) ListTrials(req *modsweepv1.ListTrialsRequest,
	stream grpc.ServerStreamingServer[modsweepv1.ListTrialsResponse],
) (err error) {
	defer c.recoverPanic("ListTrials", &err)

	var states []string
	for _, s := range req.GetStates() {
		name := TrialStateName(s)
		if name == "" {
			return status.Errorf(codes.InvalidArgument, "trial state %v is not a state: "+
				"use PENDING, LEASED, SUCCEEDED, FAILED or CANCELLED", s)
		}
		states = append(states, name)
	}
	err = c.listTrials(req.GetSweepId(), states, func(views []trialView) error {
		msg := &modsweepv1.ListTrialsResponse{Trials: make([]*modsweepv1.TrialRecord, len(views))}
		for i, v := range views {
			msg.Trials[i] = trialRecordToProto(v)
		}
		return stream.Send(msg)
	})
	if err != nil {
		c.logFailure("ListTrials", err, "sweep_id", req.GetSweepId())
		return toStatus(err)
	}
	return nil
}

// GetTrial returns one trial, by id or unique id prefix, with its result.
func (c *Coordinator) GetTrial(ctx context.Context, req *modsweepv1.GetTrialRequest) (
	resp *modsweepv1.GetTrialResponse, err error,
) {
	defer c.recoverPanic("GetTrial", &err)
	view, err := c.getTrial(req.GetTrialId(), req.GetSweepId())
	if err != nil {
		c.logFailure("GetTrial", err, "trial_id", req.GetTrialId(), "sweep_id", req.GetSweepId())
		return nil, toStatus(err)
	}
	return &modsweepv1.GetTrialResponse{Trial: trialRecordToProto(view)}, nil
}

// watchMinGap is the shortest gap between two WatchSweep messages, so a
// busy sweep does not flood a terminal.
const watchMinGap = 200 * time.Millisecond

// WatchSweep streams the sweep's summary whenever it changes, at most every
// watchMinGap, and at least every WatchInterval.
func (c *Coordinator) WatchSweep(req *modsweepv1.WatchSweepRequest,
	stream grpc.ServerStreamingServer[modsweepv1.WatchSweepResponse],
) (err error) {
	defer c.recoverPanic("WatchSweep", &err)
	ctx := stream.Context()
	ticker := time.NewTicker(c.cfg.WatchInterval)
	defer ticker.Stop()

	var last *modsweepv1.SweepSummary
	lastSent := time.Time{}
	for {
		sum, err := c.sweepSummary(req.GetSweepId())
		if err != nil {
			return toStatus(err)
		}
		msg := summaryToProto(sum)
		due := time.Since(lastSent) >= c.cfg.WatchInterval
		if last == nil || due || !sameProgress(last, msg) {
			if err := stream.Send(&modsweepv1.WatchSweepResponse{Sweep: msg}); err != nil {
				return err
			}
			last, lastSent = msg, time.Now()
		}

		select {
		case <-ctx.Done():
			return nil
		case <-c.drain:
			// The server is stopping; end the stream so a graceful stop
			// need not wait for the client to hang up.
			return nil
		case <-sum.changeWait:
		case <-ticker.C:
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(watchMinGap):
		}
	}
}

// sameProgress reports whether two summaries have the same state and
// counts.
func sameProgress(a, b *modsweepv1.SweepSummary) bool {
	if a.GetState() != b.GetState() || a.GetTotal() != b.GetTotal() {
		return false
	}
	for k, v := range a.GetCounts() {
		if b.GetCounts()[k] != v {
			return false
		}
	}
	return true
}

// RegisterAgent records an agent after checking its protocol version.
func (c *Coordinator) RegisterAgent(ctx context.Context, req *modsweepv1.RegisterAgentRequest) (
	resp *modsweepv1.RegisterAgentResponse, err error,
) {
	defer c.recoverPanic("RegisterAgent", &err)
	if v := req.GetProtocolVersion(); v != modsweepv1.ProtocolVersion {
		c.log.Warn("agent rejected: protocol version mismatch", "agent_name", req.GetName(),
			"hostname", req.GetHostname(), "agent_protocol", v, "server_protocol", modsweepv1.ProtocolVersion)
		return nil, status.Errorf(codes.FailedPrecondition,
			"agent speaks protocol version %d but this coordinator speaks version %d: "+
				"run agent and coordinator builds of the same release", v, modsweepv1.ProtocolVersion)
	}
	id, err := c.registerAgent(agentInfo{
		Name:     req.GetName(),
		Version:  req.GetVersion(),
		Hostname: req.GetHostname(),
		OS:       req.GetOs(),
		Slots:    req.GetSlots(),
		CPUs:     req.GetCpus(),
	})
	if err != nil {
		c.logFailure("RegisterAgent", err, "agent_name", req.GetName())
		return nil, toStatus(err)
	}
	return &modsweepv1.RegisterAgentResponse{
		AgentId:           id,
		LeaseTtl:          durationpb.New(c.cfg.LeaseTTL),
		HeartbeatInterval: durationpb.New(c.cfg.HeartbeatInterval()),
		PollHold:          durationpb.New(c.cfg.PollHold),
		ProtocolVersion:   modsweepv1.ProtocolVersion,
	}, nil
}

// LeaseTrial long-polls for a runnable trial. It holds the call at most
// PollHold, and always returns found = false before the caller's deadline.
func (c *Coordinator) LeaseTrial(ctx context.Context, req *modsweepv1.LeaseTrialRequest) (
	resp *modsweepv1.LeaseTrialResponse, err error,
) {
	defer c.recoverPanic("LeaseTrial", &err)
	start := time.Now()

	deadline, ok := ctx.Deadline()
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "LeaseTrial has no deadline: set a "+
			"deadline longer than the poll hold of %v returned by RegisterAgent", c.cfg.PollHold)
	}
	if req.GetAgentId() == "" {
		return nil, status.Error(codes.InvalidArgument, "agent id is empty: call RegisterAgent first")
	}
	hold := pollHold(c.cfg.PollHold, time.Until(deadline))

	g, err := c.leaseWait(ctx, req.GetAgentId(), hold)
	if err != nil {
		c.logFailure("LeaseTrial", err, "agent_id", req.GetAgentId())
		return nil, toStatus(err)
	}
	if g == nil {
		c.log.Trace("no trial to lease", "agent_id", req.GetAgentId())
		return &modsweepv1.LeaseTrialResponse{Found: false}, nil
	}
	c.metrics.leaseLatency.Observe(time.Since(start).Seconds())
	return grantToProto(g), nil
}

// grantToProto converts a lease grant; nil becomes found = false.
func grantToProto(g *grant) *modsweepv1.LeaseTrialResponse {
	if g == nil {
		return &modsweepv1.LeaseTrialResponse{Found: false}
	}
	return &modsweepv1.LeaseTrialResponse{
		Found: true,
		Lease: &modsweepv1.Lease{
			SweepId:   g.sweepID,
			TrialId:   g.trialID,
			Attempt:   g.attempt,
			Epoch:     g.epoch,
			ExpiresAt: timestamppb.New(g.expiresAt),
		},
		Trial: trialToProto(g.sweepID, g.spec),
	}
}

// pollHold returns how long to hold a poll: at most hold, and short enough
// that the empty response reaches the caller before its deadline.
func pollHold(hold, untilDeadline time.Duration) time.Duration {
	margin := min(untilDeadline/10, 500*time.Millisecond)
	return max(min(hold, untilDeadline-margin), 0)
}

// tokenFromLease reads the lease a report presents.
func tokenFromLease(l *modsweepv1.Lease) (leaseToken, error) {
	if l == nil || l.GetSweepId() == "" || l.GetTrialId() == "" || l.GetEpoch() == 0 {
		return leaseToken{}, status.Error(codes.InvalidArgument,
			"lease is missing or incomplete: send the sweep id, trial id and epoch that LeaseTrial returned")
	}
	return leaseToken{sweepID: l.GetSweepId(), trialID: l.GetTrialId(), epoch: l.GetEpoch()}, nil
}

// Heartbeat extends a lease and stores the trial's progress.
func (c *Coordinator) Heartbeat(ctx context.Context, req *modsweepv1.HeartbeatRequest) (
	resp *modsweepv1.HeartbeatResponse, err error,
) {
	defer c.recoverPanic("Heartbeat", &err)
	tok, err := tokenFromLease(req.GetLease())
	if err != nil {
		return nil, err
	}
	res, err := c.heartbeat(tok, progressFromProto(req.GetProgress()))
	if err != nil {
		c.logFailure("Heartbeat", err, "sweep_id", tok.sweepID, "trial_id", tok.trialID,
			"agent_id", req.GetAgentId())
		return nil, toStatus(err)
	}
	return &modsweepv1.HeartbeatResponse{
		Cancel:    res.cancel,
		Reason:    res.reason,
		ExpiresAt: timestampOrNil(res.expiresAt),
	}, nil
}

// CompleteTrial records a finished trial; the first valid completion wins.
func (c *Coordinator) CompleteTrial(ctx context.Context, req *modsweepv1.CompleteTrialRequest) (
	resp *modsweepv1.CompleteTrialResponse, err error,
) {
	defer c.recoverPanic("CompleteTrial", &err)
	tok, err := tokenFromLease(req.GetLease())
	if err != nil {
		return nil, err
	}
	if req.GetResult().GetMetrics() == nil {
		return nil, status.Error(codes.InvalidArgument, "result has no metrics: send the trial's measures")
	}

	res := completion{
		metrics:    metricsEntryFromProto(req.GetResult().GetMetrics()),
		resultJSON: req.GetResult().GetResultJson(),
	}
	if req.GetLeaseNext() {
		res.leaseNext = req.GetAgentId()
	}
	outcome, next, err := c.complete(tok, res)
	if err != nil {
		c.logFailure("CompleteTrial", err, "sweep_id", tok.sweepID, "trial_id", tok.trialID,
			"agent_id", req.GetAgentId(), "epoch", tok.epoch)
		return nil, toStatus(err)
	}
	if outcome != OutcomeAccepted {
		c.log.Info("completion not recorded", "sweep_id", tok.sweepID, "trial_id", tok.trialID,
			"agent_id", req.GetAgentId(), "epoch", tok.epoch, "outcome", outcomeToProto(outcome).String())
	}
	resp = &modsweepv1.CompleteTrialResponse{Outcome: outcomeToProto(outcome)}
	if req.GetLeaseNext() {
		resp.Next = grantToProto(next)
	}
	return resp, nil
}

// FailTrial records a failed attempt and requeues the trial until it
// reaches its attempt limit.
func (c *Coordinator) FailTrial(ctx context.Context, req *modsweepv1.FailTrialRequest) (
	resp *modsweepv1.FailTrialResponse, err error,
) {
	defer c.recoverPanic("FailTrial", &err)
	tok, err := tokenFromLease(req.GetLease())
	if err != nil {
		return nil, err
	}
	outcome, final, err := c.fail(tok, req.GetReason())
	if err != nil {
		c.logFailure("FailTrial", err, "sweep_id", tok.sweepID, "trial_id", tok.trialID,
			"agent_id", req.GetAgentId(), "epoch", tok.epoch)
		return nil, toStatus(err)
	}
	return &modsweepv1.FailTrialResponse{Outcome: outcomeToProto(outcome), Final: final}, nil
}

// ReleaseTrial gives a lease back without counting a failed attempt.
func (c *Coordinator) ReleaseTrial(ctx context.Context, req *modsweepv1.ReleaseTrialRequest) (
	resp *modsweepv1.ReleaseTrialResponse, err error,
) {
	defer c.recoverPanic("ReleaseTrial", &err)
	tok, err := tokenFromLease(req.GetLease())
	if err != nil {
		return nil, err
	}
	outcome, err := c.release(tok)
	if err != nil {
		c.logFailure("ReleaseTrial", err, "sweep_id", tok.sweepID, "trial_id", tok.trialID,
			"agent_id", req.GetAgentId(), "epoch", tok.epoch)
		return nil, toStatus(err)
	}
	return &modsweepv1.ReleaseTrialResponse{Outcome: outcomeToProto(outcome)}, nil
}
