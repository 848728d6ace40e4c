package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// registerTimeout bounds one RegisterAgent call.
const registerTimeout = 10 * time.Second

// register calls RegisterAgent until it succeeds, retrying with backoff
// while the coordinator is unreachable. It returns an error when ctx ends
// or when the coordinator rejects the agent for good.
func (a *agent) register(ctx context.Context) error {
	a.regMu.Lock()
	defer a.regMu.Unlock()
	return a.registerLocked(ctx)
}

// reregister registers again when the coordinator reports the agent id
// staleID as unknown, e.g. after a restart that lost it. Several slots may
// notice at once, and only the first registers.
func (a *agent) reregister(ctx context.Context, staleID string) {
	a.regMu.Lock()
	defer a.regMu.Unlock()
	if a.current().agentID != staleID {
		return
	}
	a.current().log.Info("coordinator has no record of this agent id; registering again")
	if err := a.registerLocked(ctx); err != nil && ctx.Err() == nil {
		a.setFatal(err)
	}
}

func (a *agent) registerLocked(ctx context.Context) error {
	req := a.registerRequest()
	bo := backoff{policy: a.cfg.retry}
	var lastErr error
	for {
		callCtx, cancel := context.WithTimeout(ctx, registerTimeout)
		resp, err := a.client.RegisterAgent(callCtx, req)
		cancel()
		if err == nil {
			return a.accept(resp)
		}
		if ctx.Err() != nil {
			if lastErr != nil {
				return fmt.Errorf("register with coordinator %s: %w (last error: %v)", a.cfg.Addr, ctx.Err(), lastErr)
			}
			return fmt.Errorf("register with coordinator %s: %w", a.cfg.Addr, ctx.Err())
		}
		if rejected(err) {
			return fmt.Errorf("coordinator %s rejected the agent (check the protocol version and credentials): %w", a.cfg.Addr, err)
		}
		if tlsFailure(err) {
			// A certificate that does not verify will not verify on the
			// next try either.
			return fmt.Errorf("TLS handshake with coordinator %s failed: %w: check that --tls-ca is the CA that signed the coordinator's certificate, "+
				"that the certificate is valid for this address, and that --tls-cert and --tls-key are set when the coordinator requires client certificates", a.cfg.Addr, err)
		}
		lastErr = err
		if ok, n := a.limit.allow("register"); ok {
			a.cfg.Logger.Warn("registration failed; retrying", "coordinator", a.cfg.Addr, keyError, err, "suppressed", n)
		}
		if err := bo.wait(ctx); err != nil {
			return fmt.Errorf("register with coordinator %s: %w", a.cfg.Addr, err)
		}
	}
}

// tlsFailure reports whether err comes from a TLS certificate check, which
// retrying cannot fix.
func tlsFailure(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "x509: ") || strings.Contains(msg, "tls: ")
}

// accept stores the registration that the coordinator returned.
func (a *agent) accept(resp *modsweepv1.RegisterAgentResponse) error {
	if v := resp.GetProtocolVersion(); v != 0 && v != modsweepv1.ProtocolVersion {
		return fmt.Errorf("coordinator %s speaks protocol version %d, this agent %d: install matching versions",
			a.cfg.Addr, v, modsweepv1.ProtocolVersion)
	}
	if resp.GetAgentId() == "" {
		return fmt.Errorf("coordinator %s returned an empty agent id", a.cfg.Addr)
	}
	ttl := resp.GetLeaseTtl().AsDuration()
	if ttl <= 0 {
		return fmt.Errorf("coordinator %s returned lease TTL %v: it must be positive", a.cfg.Addr, ttl)
	}
	heartbeat := resp.GetHeartbeatInterval().AsDuration()
	if heartbeat <= 0 || heartbeat >= ttl {
		heartbeat = ttl / 3
	}
	reg := registration{
		agentID:   resp.GetAgentId(),
		ttl:       ttl,
		heartbeat: heartbeat,
		hold:      max(resp.GetPollHold().AsDuration(), 0),
		log:       a.cfg.Logger.With(keyAgentID, resp.GetAgentId()),
	}

	a.mu.Lock()
	a.reg = reg
	a.mu.Unlock()
	a.limit.clear("register")
	reg.log.Info("registered", "lease_ttl", reg.ttl, "heartbeat_interval", reg.heartbeat, "poll_hold", reg.hold)
	return nil
}

// rejected reports whether err is the coordinator's final word on this
// agent, so that retrying cannot help.
func rejected(err error) bool {
	switch status.Code(err) {
	case codes.FailedPrecondition, codes.Unauthenticated, codes.PermissionDenied, codes.Unimplemented:
		return true
	}
	return false
}

// unknownAgent reports whether err is NotFound, the coordinator's code for
// an agent id it has no record of. A trial it has no record of gets the
// same code, so deliver registers again once and then rejects the report.
func unknownAgent(err error) bool {
	return status.Code(err) == codes.NotFound
}
