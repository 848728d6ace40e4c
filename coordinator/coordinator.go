package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/grpc"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// Defaults of Config.
const (
	DefaultPath            = "modsweep.db"
	DefaultLeaseTTL        = 30 * time.Second
	DefaultPollHold        = 5 * time.Second
	DefaultMaxAttempts     = 3
	DefaultQuarantineAfter = 3
	DefaultWatchInterval   = 2 * time.Second
	DefaultLockTimeout     = time.Second
)

// Config configures a Coordinator. Zero fields take the defaults above.
type Config struct {
	// Path is the bbolt data file; it is created when missing.
	Path string
	// LeaseTTL is how long a lease lives without a heartbeat. Agents
	// heartbeat every LeaseTTL/3.
	LeaseTTL time.Duration
	// PollHold is the longest time LeaseTrial waits for a runnable trial
	// before it returns found = false. It must stay below the deadline that
	// agents put on the call.
	PollHold time.Duration
	// MaxAttempts is the number of failed or expired attempts after which
	// a trial is failed for good.
	MaxAttempts int
	// QuarantineAfter is the number of consecutive failed attempts after
	// which an agent gets no more leases.
	QuarantineAfter int
	// WatchInterval is the longest gap between two WatchSweep messages.
	WatchInterval time.Duration
	// LockTimeout bounds the wait for the data file's lock at Open.
	LockTimeout time.Duration
	// Logger receives the coordinator's logs; nil discards them.
	Logger hclog.Logger
}

// withDefaults returns cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	if cfg.PollHold == 0 {
		cfg.PollHold = DefaultPollHold
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.QuarantineAfter == 0 {
		cfg.QuarantineAfter = DefaultQuarantineAfter
	}
	if cfg.WatchInterval == 0 {
		cfg.WatchInterval = DefaultWatchInterval
	}
	if cfg.LockTimeout == 0 {
		cfg.LockTimeout = DefaultLockTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	return cfg
}

// Validate returns an error naming every field that is out of range.
func (cfg Config) Validate() error {
	var errs []error
	if cfg.LeaseTTL < 0 || (cfg.LeaseTTL > 0 && cfg.LeaseTTL < 100*time.Millisecond) {
		errs = append(errs, fmt.Errorf("lease TTL %v is too short: use at least 100ms", cfg.LeaseTTL))
	}
	if cfg.PollHold < 0 {
		errs = append(errs, fmt.Errorf("poll hold %v is negative: use a positive duration", cfg.PollHold))
	}
	if cfg.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("max attempts %d is negative: use 1 or more", cfg.MaxAttempts))
	}
	if cfg.QuarantineAfter < 0 {
		errs = append(errs, fmt.Errorf("quarantine threshold %d is negative: use 1 or more",
			cfg.QuarantineAfter))
	}
	if cfg.WatchInterval < 0 {
		errs = append(errs, fmt.Errorf("watch interval %v is negative: use a positive duration",
			cfg.WatchInterval))
	}
	return errors.Join(errs...)
}

// HeartbeatInterval returns the heartbeat period sent to agents at
// registration. It is a third of the lease TTL, so two heartbeats may be
// lost before the lease expires.
func (cfg Config) HeartbeatInterval() time.Duration {
	return cfg.withDefaults().LeaseTTL / 3
}

// Coordinator owns the data file and serves CoordinatorService. The store
// is the source of truth. An in-memory index of every trial's state,
// rebuilt from the store at Open, serves lease decisions without a scan.
type Coordinator struct {
	modsweepv1.UnimplementedCoordinatorServiceServer

	cfg     Config
	log     hclog.Logger
	db      *bolt.DB
	metrics *metrics

	mu      sync.Mutex
	sweeps  map[string]*memSweep
	order   []*memSweep // running order: oldest first, then by id
	leased  map[*memTrial]struct{}
	agents  map[string]*agentRecord
	work    chan struct{} // closed when a trial becomes pending
	changed chan struct{} // closed on every state change
	batch   *commitBatch  // writes waiting for the next commit
	closed  bool

	kick      chan struct{}
	stop      chan struct{}
	drain     chan struct{} // closed by Drain
	drainOnce sync.Once
	closeOnce sync.Once
	wg        sync.WaitGroup
}

var _ modsweepv1.CoordinatorServiceServer = (*Coordinator)(nil)

// ErrClosed is returned by every operation after Close.
var ErrClosed = errors.New("coordinator is closed")

// Open opens or creates the data file, loads every sweep and starts the
// commit writer and the lease reaper. Leases granted before a restart keep
// their expiry. Open fails within about cfg.LockTimeout when another
// process holds the file.
func Open(ctx context.Context, cfg Config) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid coordinator configuration: %w", err)
	}
	cfg = cfg.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open coordinator: %w", err)
	}

	existed := fileExists(cfg.Path)
	db, err := openStore(cfg.Path, cfg.LockTimeout)
	if err != nil {
		return nil, err
	}

	c := &Coordinator{
		cfg:     cfg,
		log:     cfg.Logger,
		db:      db,
		work:    make(chan struct{}),
		changed: make(chan struct{}),
		batch:   newCommitBatch(),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		drain:   make(chan struct{}),
	}
	c.metrics = newMetrics(c)

	if err := c.loadChecked(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("load database %s: %w", cfg.Path, err)
	}

	c.log.Info("database opened", "path", cfg.Path, "created", !existed,
		"sweeps", len(c.sweeps), "agents", len(c.agents), "leased", len(c.leased))

	c.wg.Add(2)
	go c.runWriter()
	go c.runReaper()
	return c, nil
}

// loadChecked loads the store into memory. bbolt panics on some damaged
// pages, so a panic here becomes an error that names the fix.
func (c *Coordinator) loadChecked() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: the file is damaged (%v): restore it from a backup or "+
				"pass a different --data path", ErrNotModsweepDatabase, r)
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loadLocked()
}

// Register adds the coordinator's service to s.
func (c *Coordinator) Register(s *grpc.Server) {
	modsweepv1.RegisterCoordinatorServiceServer(s, c)
}

// Close stops the reaper, commits the writes still queued and closes the
// data file. Calls after the first return nil.
func (c *Coordinator) Close() error {
	var err error
	c.closeOnce.Do(func() {
		// Refuse new operations first, so the writer's last round commits
		// everything that was accepted.
		c.Drain()
		c.mu.Lock()
		c.closed = true
		c.broadcastChange()
		c.broadcastWork()
		c.mu.Unlock()

		close(c.stop)
		c.wg.Wait()

		if cerr := c.db.Close(); cerr != nil {
			err = fmt.Errorf("close database %s: %w", c.cfg.Path, cerr)
		}
		c.log.Info("database closed", "path", c.cfg.Path)
	})
	return err
}

// Drain makes waiting and later LeaseTrial calls return found = false at
// once and ends WatchSweep streams, so that a graceful gRPC stop need not
// wait out the poll hold or the watchers. Reports and heartbeats are still
// served until Close.
func (c *Coordinator) Drain() {
	c.drainOnce.Do(func() { close(c.drain) })
}

// LeaseTTL returns the lease lifetime in force.
func (c *Coordinator) LeaseTTL() time.Duration { return c.cfg.LeaseTTL }

// runWriter commits queued writes, one bbolt transaction per round. While a
// transaction commits, new writes gather in the next batch, so many agents
// share one fsync instead of paying one each.
func (c *Coordinator) runWriter() {
	defer c.wg.Done()
	for {
		select {
		case <-c.kick:
			c.commitRound()
		case <-c.stop:
			c.commitRound()
			return
		}
	}
}

// commitRound takes the current batch, commits it and wakes its waiters.
func (c *Coordinator) commitRound() {
	c.mu.Lock()
	b := c.batch
	c.batch = newCommitBatch()
	c.mu.Unlock()

	if len(b.writes) == 0 {
		close(b.done)
		return
	}

	start := time.Now()
	err := c.db.Update(func(tx *bolt.Tx) error {
		for _, w := range b.writes {
			if err := w.apply(tx); err != nil {
				return err
			}
		}
		return nil
	})
	c.metrics.commitSeconds.Observe(time.Since(start).Seconds())
	c.metrics.commitWrites.Observe(float64(len(b.writes)))

	if err != nil {
		b.err = fmt.Errorf("commit to %s: %w", c.cfg.Path, err)
		c.recoverFromFailedCommit(b.err)
	}
	close(b.done)
}

// recoverFromFailedCommit rebuilds the in-memory index from the store after
// a commit failed, because the index already holds the lost changes. The
// batch that gathered during the failed commit was built on them too, so it
// fails with the same error.
func (c *Coordinator) recoverFromFailedCommit(err error) {
	c.log.Error("commit failed, reloading state from the database", "error", err)

	c.mu.Lock()
	next := c.batch
	c.batch = newCommitBatch()
	loadErr := c.loadLocked()
	c.mu.Unlock()

	if loadErr != nil {
		c.log.Error("reload after failed commit failed", "error", loadErr)
	}
	next.err = err
	close(next.done)
}

// enqueueLocked adds writes to the next commit and wakes the writer. The
// caller holds c.mu and waits on the returned batch after unlocking.
func (c *Coordinator) enqueueLocked(ws ...write) *commitBatch {
	c.batch.writes = append(c.batch.writes, ws...)
	c.broadcastChange()
	return c.kickLocked()
}

// kickLocked returns the batch that commits after every change made so far
// and makes sure the writer runs. A caller that returns a response based on
// the current state, without changing it, waits on this batch so that it
// never reports a state that is not yet durable.
func (c *Coordinator) kickLocked() *commitBatch {
	select {
	case c.kick <- struct{}{}:
	default:
	}
	return c.batch
}

// broadcastChange wakes WatchSweep streams. The caller holds c.mu.
func (c *Coordinator) broadcastChange() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// broadcastWork wakes waiting LeaseTrial calls. The caller holds c.mu.
func (c *Coordinator) broadcastWork() {
	close(c.work)
	c.work = make(chan struct{})
}
