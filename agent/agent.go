package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// Log keys shared by every agent log line.
const (
	keyAgentID = "agent_id"
	keySweepID = "sweep_id"
	keyTrialID = "trial_id"
	keyAttempt = "attempt"
	keySlot    = "slot"
	keyError   = "error"
)

// Causes of a stopped trial, read back with context.Cause.
var (
	errShutdown       = errors.New("agent shut down before the trial finished")
	errLeaseCancelled = errors.New("coordinator cancelled the trial")
	errLeaseLost      = errors.New("lease lost: no heartbeat acknowledged within the lease TTL")
)

// Run registers with the coordinator at cfg.Addr and trains the trials it
// leases, one per slot, until one of these happens:
//
//   - ctx is cancelled: Run stops polling, lets running trials go on for
//     cfg.Grace, then stops them and releases their leases;
//   - cfg.MaxTrials trials were leased and finished;
//   - every slot was idle for cfg.IdleExit;
//   - the coordinator rejects the agent for good (protocol version,
//     credentials), which also stops running trials;
//   - the coordinator quarantines the agent, after which running trials
//     still finish and are delivered.
//
// Every finished result is stored in cfg.SpoolDir before it is sent and
// removed after the coordinator's final outcome, and Run delivers the
// results that an earlier run left there. Run returns nil when it stopped
// cleanly with every result delivered, and an error naming the spool folder
// when some are still in it.
func Run(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	sp, err := openSpool(cfg.SpoolDir)
	if err != nil {
		return err
	}
	conn, err := Dial(ctx, cfg.Addr, cfg.Dial)
	if err != nil {
		return err
	}
	defer conn.Close()

	a := newAgent(cfg, modsweepv1.NewCoordinatorServiceClient(conn), sp)
	return a.run(ctx)
}

// agent is the state of one Run.
type agent struct {
	cfg    Config
	client modsweepv1.CoordinatorServiceClient
	spool  *spool
	board  *board
	limit  *logLimiter
	budget *budget
	idle   *idleClock

	// regMu serialises registrations, so that slots that all see an
	// unknown agent id register once.
	regMu sync.Mutex
	mu    sync.Mutex
	reg   registration
	fatal error
	// claimed holds the spool files that a slot is sending itself.
	claimed map[string]bool

	// stopCtx ends when the slots must stop polling: ctx was cancelled,
	// the agent was idle for IdleExit, or a fatal error occurred.
	stopCtx     context.Context
	stopPolling context.CancelFunc
	// hardCancel stops running trials and deliveries.
	hardCancel context.CancelCauseFunc

	// wake signals the deliverer that the spool has a new report.
	wake chan struct{}
}

// registration is the coordinator's reply to RegisterAgent: the agent id
// and the lease timing.
type registration struct {
	agentID   string
	ttl       time.Duration
	heartbeat time.Duration
	hold      time.Duration
	log       hclog.Logger
}

func newAgent(cfg Config, client modsweepv1.CoordinatorServiceClient, sp *spool) *agent {
	a := &agent{
		cfg:     cfg,
		client:  client,
		spool:   sp,
		board:   newBoard(cfg.Workers),
		limit:   newLogLimiter(cfg.logWindow),
		budget:  &budget{left: cfg.MaxTrials, limited: cfg.MaxTrials > 0},
		idle:    &idleClock{busy: 1},
		wake:    make(chan struct{}, 1),
		claimed: map[string]bool{},
	}
	a.reg.log = cfg.Logger
	a.stopCtx, a.stopPolling = context.WithCancel(context.Background())
	return a
}

func (a *agent) run(ctx context.Context) error {
	// Trials and deliveries outlive ctx by the grace period.
	hardCtx, hardCancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer hardCancel(nil)
	a.hardCancel = hardCancel
	defer a.stopPolling()
	go a.watchShutdown(ctx, hardCtx)

	log := a.cfg.Logger
	log.Info("agent starting", "coordinator", a.cfg.Addr, "name", a.cfg.Name,
		"workers", a.cfg.Workers, "spool", a.spool.dir)

	// Register before anything else: every later call needs the agent id.
	// The idle limit also bounds the wait for an unreachable coordinator,
	// so a batch job with a wrong address ends instead of waiting forever.
	regCtx, cancelReg := ctx, context.CancelFunc(func() {})
	if a.cfg.IdleExit > 0 {
		regCtx, cancelReg = context.WithTimeout(ctx, a.cfg.IdleExit)
	}
	err := a.register(regCtx)
	cancelReg()
	if err != nil {
		if ctx.Err() == nil {
			if errors.Is(regCtx.Err(), context.DeadlineExceeded) {
				err = fmt.Errorf("could not register with the coordinator at %s within the idle limit of %s: %w: check the address and that the coordinator runs",
					a.cfg.Addr, a.cfg.IdleExit, err)
			}
			a.setFatal(err)
		}
		return a.finish()
	}
	a.idle.leave() // count idle time from the registration on

	var background sync.WaitGroup
	slotsDone := make(chan struct{})
	background.Go(func() { a.deliverLoop(hardCtx, slotsDone) })

	monitorCtx, stopMonitors := context.WithCancel(hardCtx)
	if a.cfg.Progress != nil {
		background.Go(func() { a.board.render(monitorCtx, a.cfg.Progress, a.cfg.ProgressEvery) })
	}
	if a.cfg.IdleExit > 0 {
		background.Go(func() { a.watchIdle(monitorCtx) })
	}

	// Run the slots until each one stops polling and finishes its trial.
	var slots sync.WaitGroup
	for i := range a.cfg.Workers {
		slots.Go(func() { a.runSlot(ctx, hardCtx, i) })
	}
	slots.Wait()
	close(slotsDone)

	// The deliverer returns once the spool is empty, or at the end of the
	// grace period after a shutdown.
	stopMonitors()
	background.Wait()
	return a.finish()
}

// watchShutdown stops polling when ctx ends and stops the running trials
// cfg.Grace later.
func (a *agent) watchShutdown(ctx, hardCtx context.Context) {
	select {
	case <-hardCtx.Done():
		return
	case <-ctx.Done():
	}
	a.cfg.Logger.Info("shutting down: no new trials; running trials may finish", "grace", a.cfg.Grace)
	a.stopPolling()
	if sleep(hardCtx, a.cfg.Grace) == nil {
		a.hardCancel(errShutdown)
	}
}

// watchIdle stops polling once every slot was idle for cfg.IdleExit.
func (a *agent) watchIdle(ctx context.Context) {
	tick := min(a.cfg.IdleExit/4, time.Second)
	ticker := time.NewTicker(max(tick, 10*time.Millisecond))
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if idle := a.idle.idleFor(time.Now()); idle >= a.cfg.IdleExit {
			a.current().log.Info("no work within the idle limit; stopping", "idle_exit", a.cfg.IdleExit)
			a.stopPolling()
			return
		}
	}
}

// finish returns the run's error: a fatal error, or the undelivered
// reports left in the spool.
func (a *agent) finish() error {
	a.mu.Lock()
	fatal := a.fatal
	a.mu.Unlock()

	left, err := a.spool.list()
	if err != nil {
		return errors.Join(fatal, err)
	}
	if len(left) > 0 {
		a.cfg.Logger.Warn("reports not delivered; they stay in the spool", "count", len(left), "spool", a.spool.dir)
		undelivered := fmt.Errorf("%d trial reports were not delivered and stay in %s: run the agent with the same name or spool folder again to deliver them",
			len(left), a.spool.dir)
		return errors.Join(fatal, undelivered)
	}
	if fatal == nil {
		a.cfg.Logger.Info("agent stopped")
	}
	return fatal
}

// setFatal records the first error that ends the run and stops everything,
// running trials included.
func (a *agent) setFatal(err error) {
	a.stopWithError(err)
	a.hardCancel(err)
}

// stopWithError records the first error that ends the run and stops
// polling. Running trials finish and are delivered.
func (a *agent) stopWithError(err error) {
	a.mu.Lock()
	if a.fatal == nil {
		a.fatal = err
	}
	a.mu.Unlock()
	a.stopPolling()
}

// current returns the latest registration.
func (a *agent) current() registration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reg
}

// registerRequest describes this agent to the coordinator.
func (a *agent) registerRequest() *modsweepv1.RegisterAgentRequest {
	host, _ := os.Hostname()
	return &modsweepv1.RegisterAgentRequest{
		Name:            a.cfg.Name,
		Version:         a.cfg.Version,
		ProtocolVersion: modsweepv1.ProtocolVersion,
		Slots:           uint32(a.cfg.Workers),
		Hostname:        host,
		Cpus:            uint32(runtime.NumCPU()),
		Os:              runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// budget counts the trials that MaxTrials still allows. A slot reserves one
// before it polls and gives it back when the poll returns no trial.
type budget struct {
	mu      sync.Mutex
	left    int
	limited bool
}

func (b *budget) reserve() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.limited {
		return true
	}
	if b.left == 0 {
		return false
	}
	b.left--
	return true
}

func (b *budget) refund() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limited {
		b.left++
	}
}

// idleClock measures how long no slot has held a trial.
type idleClock struct {
	mu    sync.Mutex
	busy  int
	since time.Time
}

func (c *idleClock) enter() {
	c.mu.Lock()
	c.busy++
	c.mu.Unlock()
}

func (c *idleClock) leave() {
	c.mu.Lock()
	c.busy--
	if c.busy == 0 {
		c.since = time.Now()
	}
	c.mu.Unlock()
}

// idleFor returns how long every slot has been idle, or 0 while one is
// busy.
func (c *idleClock) idleFor(now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy > 0 {
		return 0
	}
	return now.Sub(c.since)
}
