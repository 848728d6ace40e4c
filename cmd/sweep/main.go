// Command sweep plans, submits, follows and reports modsweep sweeps, and
// runs a whole sweep on one machine with "sweep local".
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/modsweep/modsweep/cmd/sweepcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// A second signal ends the process at once.
		<-ctx.Done()
		stop()
	}()
	os.Exit(sweepcmd.Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
