package sweepcmd

import (
	"context"
	"fmt"

	"github.com/modsweep/modsweep/sweep"
)

func runPlan(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "plan", "FILE", "print the trials a sweep file expands to, without contacting anything")
	format := fs.String("format", "table", "output format: table or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: expected one sweep file, got %d arguments", errUsage, len(pos))
	}
	if err := checkFormat(*format, "table", "json"); err != nil {
		return err
	}

	f, err := sweep.ParseFile(pos[0])
	if err != nil {
		return err
	}
	trials, err := f.Expand()
	if err != nil {
		return err
	}
	return sweep.WritePlan(e.stdout, f, trials, *format)
}
