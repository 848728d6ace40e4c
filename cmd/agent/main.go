// Command agent joins a coordinator and trains the trials it leases:
//
//	agent join HOST:PORT [flags]
//
// Start one on every machine that should do work. It keeps working through
// coordinator restarts and network outages, and keeps every finished result
// in a spool folder until the coordinator acknowledges it. The first
// SIGINT or SIGTERM stops it gracefully; a second one ends it at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/modsweep/modsweep/agent"
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
		fmt.Fprintln(os.Stderr, "agent: second signal: exiting now; unfinished trials are retried elsewhere")
		os.Exit(exitFailure)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args and runs the agent, and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "join" {
		fmt.Fprint(stderr, usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return exitOK
		}
		return exitUsage
	}
	cfg, logOpts, err := parseJoin(args[1:], stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "agent join: %v\n", err)
		return exitUsage
	}

	// On a terminal, log lines go through the progress display so that its
	// redraws do not overwrite them.
	logOpts.Output, cfg.Progress = stderr, stdout
	if agent.IsTerminal(stdout) && agent.IsTerminal(stderr) {
		console := agent.NewConsole(stdout)
		logOpts.Output, cfg.Progress = console, console
	}
	cfg.Logger = hclog.New(logOpts)
	cfg.Version = version()

	if err := agent.Run(ctx, cfg); err != nil {
		cfg.Logger.Error("agent failed", "error", err)
		return exitFailure
	}
	return exitOK
}

const usage = `usage: agent join HOST:PORT [flags]

Joins the coordinator at HOST:PORT and trains the trials it leases until
stopped. Run "agent join --help" for the flags.
`

// parseJoin parses the arguments of "agent join". Flags may come before or
// after the address.
func parseJoin(args []string, stderr io.Writer) (agent.Config, *hclog.LoggerOptions, error) {
	var cfg agent.Config
	fs := flag.NewFlagSet("agent join", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: agent join HOST:PORT [flags]\n\nJoins the coordinator at HOST:PORT and trains the trials it leases.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.Workers, "workers", 0, "number of trials trained at once, one per slot (0: one per CPU core)")
	fs.IntVar(&cfg.MaxTrials, "max-trials", 0, "exit after leasing and finishing this many trials (0: no limit)")
	fs.DurationVar(&cfg.IdleExit, "idle-exit", 0, "exit after this long with no trial to train, e.g. 5m (0: never)")
	fs.StringVar(&cfg.Name, "name", "", "agent name in the coordinator's records and spool folder (default: host name)")
	fs.StringVar(&cfg.SpoolDir, "spool", "", "folder that keeps results until the coordinator acknowledges them\n(default: $XDG_STATE_HOME/modsweep/spool/NAME or ~/.local/state/modsweep/spool/NAME)")
	fs.DurationVar(&cfg.Grace, "grace", agent.DefaultGrace, "time running trials may take to finish after SIGINT or SIGTERM before their leases are released")
	fs.StringVar(&cfg.Dial.TokenFile, "token-file", "", "file holding the coordinator's bearer token")
	fs.StringVar(&cfg.Dial.CAFile, "tls-ca", "", "PEM file of the CA that signed the coordinator's certificate; enables TLS")
	fs.StringVar(&cfg.Dial.CertFile, "tls-cert", "", "PEM client certificate for mutual TLS (needs --tls-key and --tls-ca)")
	fs.StringVar(&cfg.Dial.KeyFile, "tls-key", "", "PEM private key of --tls-cert")
	fs.BoolVar(&cfg.Dial.Insecure, "insecure", false, "allow sending the token without TLS to a non-loopback address")
	level := fs.String("log-level", "info", "log level: trace, debug, info, warn or error")
	jsonLogs := fs.Bool("log-json", false, "write logs as JSON lines")

	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return cfg, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		return cfg, nil, fmt.Errorf("expected one coordinator address HOST:PORT, got %d arguments %q", len(positional), positional)
	}
	cfg.Addr = positional[0]

	logLevel := hclog.LevelFromString(*level)
	if logLevel == hclog.NoLevel {
		return cfg, nil, fmt.Errorf("--log-level %q: use trace, debug, info, warn or error", *level)
	}
	if cfg.Grace <= 0 {
		cfg.Grace = -1 // agent.Config reads a negative grace as "stop at once"
	}
	return cfg, &hclog.LoggerOptions{Name: "agent", Level: logLevel, JSONFormat: *jsonLogs}, nil
}

// version returns the module version the binary was built from.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "dev"
	}
	return info.Main.Version
}
