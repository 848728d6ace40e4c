// Command coordinator serves the sweeps that agents work on:
//
//	coordinator serve [flags]
//
// It keeps every sweep, trial and result in one bbolt file and is the
// single source of truth of every sweep. The first SIGINT or SIGTERM stops
// it gracefully; a second one ends it at once. Leases granted before a stop
// keep their expiry, so agents that report in time lose nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/modsweep/modsweep/coordinator"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		cancel()
		<-signals
		fmt.Fprintln(os.Stderr, "coordinator: second signal: exiting now; committed state is safe in the data file")
		os.Exit(exitFailure)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

const usage = `usage: coordinator serve [flags]

Serves sweeps to agents over gRPC and stores them in a bbolt file.
Run "coordinator serve --help" for the flags.
`

// run parses args and serves until ctx is cancelled; it returns the exit
// code.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprint(stderr, usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return exitOK
		}
		return exitUsage
	}
	cfg, err := parseServe(args[1:], stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "coordinator serve: %v\n", err)
		return exitUsage
	}

	if err := coordinator.Serve(ctx, cfg); err != nil {
		cfg.Logger.Error("coordinator failed", "error", err)
		return exitFailure
	}
	return exitOK
}

// parseServe reads the flags of "coordinator serve" into a ServeConfig
// with a root logger.
func parseServe(args []string, stderr io.Writer) (coordinator.ServeConfig, error) {
	var cfg coordinator.ServeConfig
	fs := flag.NewFlagSet("coordinator serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Listen, "listen", coordinator.DefaultListen,
		"gRPC listen address, host:port; a non-loopback host needs --token-file, mutual TLS or --insecure")
	fs.StringVar(&cfg.Coordinator.Path, "data", coordinator.DefaultPath,
		"bbolt data file; created when missing, locked while the coordinator runs")
	fs.StringVar(&cfg.HTTP, "http", "",
		"HTTP address, host:port, of the status page, /metrics and /healthz; empty disables HTTP")
	fs.StringVar(&cfg.TokenFile, "token-file", "",
		"file holding the bearer token every RPC must send as \"authorization: Bearer TOKEN\"")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM server certificate; enables TLS (needs --tls-key)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&cfg.ClientCA, "client-ca", "",
		"PEM CA bundle; agents must present a certificate it signed (mutual TLS)")
	fs.BoolVar(&cfg.Insecure, "insecure", false,
		"allow a non-loopback --listen without token or mutual TLS")
	fs.DurationVar(&cfg.Coordinator.LeaseTTL, "lease-ttl", coordinator.DefaultLeaseTTL,
		"lease lifetime without a heartbeat, as a Go duration (agents heartbeat every third of it)")
	fs.DurationVar(&cfg.Coordinator.PollHold, "poll-hold", coordinator.DefaultPollHold,
		"longest wait of a LeaseTrial call for a runnable trial, as a Go duration")
	fs.IntVar(&cfg.Coordinator.MaxAttempts, "max-attempts", coordinator.DefaultMaxAttempts,
		"failed or expired attempts after which a trial is failed for good")
	fs.IntVar(&cfg.Coordinator.QuarantineAfter, "quarantine-after", coordinator.DefaultQuarantineAfter,
		"failed trials in a row after which an agent gets no more leases")
	fs.DurationVar(&cfg.GracePeriod, "grace-period", coordinator.DefaultGracePeriod,
		"longest wait for running RPCs at shutdown, as a Go duration")
	level := fs.String("log-level", "info", "log level: trace, debug, info, warn or error")
	logJSON := fs.Bool("log-json", false, "write logs as JSON lines")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: coordinator serve [flags]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q: serve takes flags only", fs.Arg(0))
	}

	lvl := hclog.LevelFromString(*level)
	if lvl == hclog.NoLevel {
		return cfg, fmt.Errorf("--log-level %q is not a level: use trace, debug, info, warn or error", *level)
	}
	if cfg.Coordinator.LeaseTTL < 100*time.Millisecond {
		return cfg, fmt.Errorf("--lease-ttl %v is too short: use at least 100ms", cfg.Coordinator.LeaseTTL)
	}
	if cfg.Coordinator.MaxAttempts < 1 {
		return cfg, fmt.Errorf("--max-attempts %d: use 1 or more", cfg.Coordinator.MaxAttempts)
	}
	if cfg.Coordinator.QuarantineAfter < 1 {
		return cfg, fmt.Errorf("--quarantine-after %d: use 1 or more", cfg.Coordinator.QuarantineAfter)
	}
	cfg.Logger = hclog.New(&hclog.LoggerOptions{
		Name:       "coordinator",
		Level:      lvl,
		JSONFormat: *logJSON,
		Output:     stderr,
	})
	return cfg, nil
}
