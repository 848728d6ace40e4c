// Package sweepcmd implements the sweep command line. It plans a sweep
// file, submits it to a coordinator, follows its status, reports its Pareto
// frontier and shows one trial. It also runs a whole sweep on this machine
// with an embedded coordinator and local agents.
package sweepcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// Exit codes of the sweep command.
const (
	ExitOK         = 0 // success; for report, every trial succeeded
	ExitFailure    = 1 // the command failed
	ExitUsage      = 2 // bad command line
	ExitIncomplete = 3 // report: some trials are missing, running or failed
	// ExitInterrupted is the exit code after SIGINT or SIGTERM (128 + SIGINT).
	ExitInterrupted = 130
)

// DefaultCoordinator is the coordinator address used when neither
// --coordinator nor MODSWEEP_COORDINATOR is set.
const DefaultCoordinator = "127.0.0.1:7070"

// errUsage marks an error in the command line; Main prints usage for it.
var errUsage = errors.New("usage error")

// incompleteError is returned by report when trials are missing or failed,
// so Main exits with ExitIncomplete after printing the report.
type incompleteError struct{ msg string }

func (e *incompleteError) Error() string { return e.msg }

// interruptedError is returned when a signal stopped the command. Its
// message explains how to resume.
type interruptedError struct{ msg string }

func (e *interruptedError) Error() string { return e.msg }

// env carries the process's outputs into the subcommands.
type env struct {
	stdout io.Writer
	stderr io.Writer
	logger hclog.Logger
}

type command struct {
	name    string
	args    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"plan", "FILE", "print the trials a sweep file expands to, without contacting anything", runPlan},
		{"submit", "FILE", "submit a sweep file to a coordinator and print the agent join line", runSubmit},
		{"status", "[SWEEP]", "print trial counts of one sweep or of every sweep", runStatus},
		{"report", "[SWEEP]", "print the Pareto report of a sweep's finished trials", runReport},
		{"show", "TRIAL", "print one trial's configuration, measures and attempts, and draw its network", runShow},
		{"stop", "SWEEP", "drain a sweep: lease no new trials, let running ones finish", runStop},
		{"cancel", "SWEEP", "cancel a sweep's pending and running trials", runCancel},
		{"local", "FILE", "run a whole sweep on this machine: embedded coordinator and local agents", runLocal},
	}
}

// Main runs the sweep command with args (without the program name) and
// returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	logger := hclog.New(&hclog.LoggerOptions{
		Name:   "sweep",
		Level:  hclog.LevelFromString(envOr("MODSWEEP_LOG_LEVEL", "info")),
		Output: stderr,
	})
	e := &env{stdout: stdout, stderr: stderr, logger: logger}

	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		var inc *incompleteError
		var intr *interruptedError
		switch {
		case err == nil:
			return ExitOK
		case errors.Is(err, flag.ErrHelp):
			return ExitOK
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "sweep %s: %v\n", c.name, err)
			fmt.Fprintf(stderr, "run 'sweep %s --help' for usage\n", c.name)
			return ExitUsage
		case errors.As(err, &intr):
			fmt.Fprintf(stderr, "\nsweep %s: %v\n", c.name, err)
			return ExitInterrupted
		case errors.As(err, &inc):
			fmt.Fprintf(stderr, "sweep %s: %v\n", c.name, err)
			return ExitIncomplete
		default:
			fmt.Fprintf(stderr, "sweep %s: %v\n", c.name, err)
			return ExitFailure
		}
	}
	fmt.Fprintf(stderr, "sweep: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return ExitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "sweep plans, submits, follows and reports modsweep hyperparameter sweeps.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: sweep COMMAND [flags] [args]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-7s %-8s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'sweep COMMAND --help' for the flags of a command.")
	fmt.Fprintf(w, "The coordinator address defaults to $MODSWEEP_COORDINATOR, else %s.\n", DefaultCoordinator)
}

// newFlagSet returns a flag set whose usage text names the command and its
// arguments and lists every flag.
func newFlagSet(e *env, name, args, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet("sweep "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: sweep %s [flags] %s\n\n%s.\n\nFlags:\n", name, args, upperFirst(summary))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args allowing flags after positional arguments, as in
// "sweep report abc --format json".
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return fmt.Errorf("%w: --format %q is not supported: use one of %s", errUsage, format, strings.Join(allowed, ", "))
}
