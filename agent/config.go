package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/modsweep/modsweep/core"
)

// TrainFunc trains one trial. It must return soon after ctx is cancelled,
// and it calls progress after every training step. core.Train has this
// signature.
type TrainFunc func(ctx context.Context, cfg core.Config, progress func(core.Progress)) (*core.Result, error)

// Config configures Run. The zero value of every field except Addr selects
// the default documented on the field.
type Config struct {
	// Addr is the coordinator address, host:port.
	Addr string
	// Name identifies the agent in the coordinator's records and names its
	// spool folder. Default: the host name.
	Name string
	// Version is the agent's build version, sent at registration for logs.
	Version string
	// Workers is the number of trials trained at once, one per slot. Each
	// trial runs on one goroutine. Default: the number of CPU cores.
	Workers int
	// MaxTrials ends Run after that many trials were leased and finished.
	// Zero means no limit.
	MaxTrials int
	// IdleExit ends Run after every slot was idle for that long. Zero means
	// never.
	IdleExit time.Duration
	// SpoolDir keeps finished results until the coordinator acknowledges
	// them. Default: DefaultSpoolDir(Name). Agents that share a folder
	// deliver each other's reports, which is safe because a repeated report
	// gets a final outcome.
	SpoolDir string
	// Grace is how long running trials may go on after ctx is cancelled
	// before they are stopped and their leases released. Default: 30s. A
	// negative value stops them at once.
	Grace time.Duration
	// Dial holds the client credentials.
	Dial DialOptions
	// Logger receives the agent's logs. Default: no logging.
	Logger hclog.Logger
	// Progress receives one line per slot: redrawn in place a few times a
	// second when it is a terminal, every ProgressEvery otherwise. Nil
	// disables progress output.
	Progress io.Writer
	// ProgressEvery is the interval of progress lines on a writer that is
	// not a terminal. Default: 10s.
	ProgressEvery time.Duration
	// Train trains one trial. Default: core.Train.
	Train TrainFunc

	// retry is the backoff of every retried call; tests shorten it.
	retry backoffPolicy
	// logWindow is the interval within which a repeated error is logged
	// once.
	logWindow time.Duration
}

// Defaults used by Config.
const (
	DefaultGrace         = 30 * time.Second
	DefaultProgressEvery = 10 * time.Second
	defaultLogWindow     = 30 * time.Second
)

// pollMargin is added to the server's poll hold to form the client deadline
// of LeaseTrial, so the server returns found = false before the client
// gives up.
const pollMargin = 10 * time.Second

// withDefaults returns c with every unset field filled in, or an error
// naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	if err := c.validate(); err != nil {
		return c, err
	}

	if c.Train == nil {
		c.Train = core.Train
	}
	if c.Name == "" {
		host, err := os.Hostname()
		if err != nil {
			return c, fmt.Errorf("agent name is empty and the host name is unknown (%w): pass a name", err)
		}
		c.Name = host
	}
	if c.Workers == 0 {
		c.Workers = runtime.NumCPU()
	}
	if c.SpoolDir == "" {
		dir, err := DefaultSpoolDir(c.Name)
		if err != nil {
			return c, err
		}
		c.SpoolDir = dir
	}
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.Grace < 0 {
		c.Grace = 0
	}

	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = DefaultProgressEvery
	}
	if c.retry == (backoffPolicy{}) {
		c.retry = defaultBackoff
	}
	if c.logWindow == 0 {
		c.logWindow = defaultLogWindow
	}
	return c, nil
}

// validate returns an error naming the first field that no default can
// fix.
func (c Config) validate() error {
	if c.Addr == "" {
		return errors.New("coordinator address is empty: pass host:port, e.g. 127.0.0.1:7070")
	}
	if c.Workers < 0 {
		return fmt.Errorf("workers = %d: must be >= 1, or 0 for one per CPU core", c.Workers)
	}
	if c.MaxTrials < 0 {
		return fmt.Errorf("max trials = %d: must be >= 0 (0 means no limit)", c.MaxTrials)
	}
	if c.IdleExit < 0 {
		return fmt.Errorf("idle exit = %v: must be >= 0 (0 means never)", c.IdleExit)
	}
	return nil
}

// DefaultSpoolDir returns the spool folder of the agent called name:
// $XDG_STATE_HOME/modsweep/spool/NAME, or ~/.local/state/modsweep/spool/NAME
// when XDG_STATE_HOME is unset.
func DefaultSpoolDir(name string) (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no spool folder: XDG_STATE_HOME and HOME are unset (%w): pass a spool folder", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "modsweep", "spool", safeFileName(name)), nil
}

// safeFileName maps s to a single path element made of letters, digits,
// '.', '-' and '_'.
func safeFileName(s string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		case r == '.' || r == '-' || r == '_':
			return r
		}
		return '_'
	}, s)
	if clean == "" || strings.Trim(clean, ".") == "" {
		return "_"
	}
	return clean
}
