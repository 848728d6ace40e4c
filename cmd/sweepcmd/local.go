package sweepcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	"github.com/modsweep/modsweep/agent"
	"github.com/modsweep/modsweep/coordinator"
	"github.com/modsweep/modsweep/core"
	pb "github.com/modsweep/modsweep/proto/modsweep/v1"
	"github.com/modsweep/modsweep/sweep"
)

func runLocal(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "local", "FILE", "run a whole sweep on this machine: embedded coordinator and local agents")
	workers := fs.Int("workers", 0, "training slots, each running one single-threaded trial (0: one per CPU core)")
	dataDir := fs.String("data", "modsweep-data", "folder for the database, the result spool and the report plot; "+
		"run the same command again with the same folder to resume")
	format := fs.String("format", "table", "report format: table, csv or json")
	plot := fs.String("plot", "", "report plot file, .png or .svg (default DATA/NAME-report.png)")
	verbose := fs.Bool("verbose", false, "log every coordinator and agent event, not only warnings")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: expected one sweep file, got %d arguments", errUsage, len(pos))
	}
	if err := checkFormat(*format, "table", "csv", "json"); err != nil {
		return err
	}
	if *workers < 0 {
		return fmt.Errorf("%w: --workers %d: use 0 (one per CPU core) or a positive number of slots", errUsage, *workers)
	}
	if *workers == 0 {
		*workers = runtime.NumCPU()
	}
	if *plot != "" {
		if err := checkPlotPath(*plot); err != nil {
			return err
		}
	}

	spec, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("read sweep file: %w", err)
	}
	f, err := sweep.Parse(spec, pos[0])
	if err != nil {
		return err
	}
	trials, err := f.Expand()
	if err != nil {
		return err
	}
	if *plot == "" {
		*plot = filepath.Join(*dataDir, f.Name+"-report.png")
	}
	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}

	level := hclog.Warn
	if *verbose {
		level = hclog.Info
	}
	// On a terminal, log lines and the agents' redrawn progress lines share
	// stderr, so both go through one console that keeps them apart.
	// Elsewhere the agents write plain periodic progress lines.
	var console io.Writer = &syncWriter{w: e.stderr}
	if agent.IsTerminal(e.stderr) {
		console = agent.NewConsole(e.stderr)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "local", Level: level, Output: console})

	// The embedded coordinator listens on a loopback port of its own, so the
	// local agents take exactly the path that remote agents take.
	coord, err := coordinator.Open(ctx, coordinator.Config{
		Path:   filepath.Join(*dataDir, "modsweep.db"),
		Logger: logger.Named("coordinator"),
		// The local agent is the only one, so quarantining it after failed
		// trials would stop the sweep. Each trial's attempt limit still ends
		// trials that keep failing.
		QuarantineAfter: math.MaxInt32,
		// Leases left by a killed earlier run of this command have no agent
		// to finish them, so a short TTL lets the new run retrain them soon.
		LeaseTTL: 10 * time.Second,
	})
	if err != nil {
		return err
	}
	defer coord.Close()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen on loopback: %w", err)
	}
	gs := grpc.NewServer(coordinator.ServerOptions()...)
	coord.Register(gs)
	go func() { _ = gs.Serve(lis) }()
	defer func() {
		// Drain ends the watch streams, so the graceful stop does not wait
		// for them.
		coord.Drain()
		gs.GracefulStop()
	}()
	addr := lis.Addr().String()

	conn, err := agent.Dial(ctx, addr, agent.DialOptions{})
	if err != nil {
		return fmt.Errorf("connect to the embedded coordinator: %w", err)
	}
	defer conn.Close()
	client := pb.NewCoordinatorServiceClient(conn)
	sub, err := client.SubmitSweep(ctx, &pb.SubmitSweepRequest{Spec: spec, Source: pos[0]})
	if err != nil {
		return fmt.Errorf("submit sweep: %w", err)
	}
	status, err := client.GetSweep(ctx, &pb.GetSweepRequest{SweepId: sub.GetSweepId()})
	if err != nil {
		return fmt.Errorf("get sweep: %w", err)
	}
	c := status.GetSweep().GetCounts()
	fmt.Fprintf(console, "sweep %s (%s): %d trials, %d already finished; %d workers; data in %s\n",
		sub.GetSweepId(), sub.GetName(), len(trials), c["succeeded"]+c["failed"]+c["cancelled"], *workers, *dataDir)

	start := time.Now()
	if err := runUntilDone(ctx, console, client, sub.GetSweepId(), addr, *workers, *dataDir, logger); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return &interruptedError{msg: fmt.Sprintf("interrupted: finished trials are stored in %s; run the same command again to resume", *dataDir)}
	}
	fmt.Fprintf(console, "sweep finished in %s\n\n", time.Since(start).Round(time.Second))

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	recs, err := fetchRecords(rctx, client, sub.GetSweepId())
	if err != nil {
		return fmt.Errorf("list trials: %w", err)
	}
	return writeReport(e, sub.GetName(), recs, *format, *plot)
}

// runUntilDone runs local agents until no trial of the sweep is pending or
// leased, or until ctx is cancelled.
func runUntilDone(ctx context.Context, console io.Writer, client pb.CoordinatorServiceClient, sweepID, addr string,
	workers int, dataDir string, logger hclog.Logger) error {
	status, err := client.GetSweep(ctx, &pb.GetSweepRequest{SweepId: sweepID})
	if err != nil {
		return fmt.Errorf("get sweep: %w", err)
	}
	if done(status.GetSweep()) {
		return nil
	}

	agentCtx, stopAgents := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAgents()
	agentErr := make(chan error, 1)
	go func() {
		agentErr <- agent.Run(agentCtx, agent.Config{
			Addr:     addr,
			Name:     "local",
			Workers:  workers,
			SpoolDir: filepath.Join(dataDir, "spool"),
			Grace:    2 * time.Second,
			Logger:   logger.Named("agent"),
			Progress: console,
			Train:    core.Train,
		})
	}()

	// Watch until the sweep is done, but stop watching when the agents end
	// early, for example on a configuration error.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watchErr := make(chan error, 1)
	go func() { watchErr <- watchUntilDone(watchCtx, console, client, sweepID) }()

	var aerr, werr error
	select {
	case werr = <-watchErr:
		stopAgents()
		aerr = <-agentErr
	case aerr = <-agentErr:
		stopWatch()
		<-watchErr
		if aerr == nil && ctx.Err() == nil {
			aerr = errors.New("the local agents stopped before the sweep was done")
		}
	}
	if werr != nil && ctx.Err() == nil {
		return werr
	}
	if aerr != nil && !errors.Is(aerr, context.Canceled) {
		return fmt.Errorf("local agent: %w", aerr)
	}
	return nil
}

// watchUntilDone follows the sweep until it is done, writing a line to out
// each time another trial finishes.
func watchUntilDone(ctx context.Context, out io.Writer, client pb.CoordinatorServiceClient, sweepID string) error {
	stream, err := client.WatchSweep(ctx, &pb.WatchSweepRequest{SweepId: sweepID})
	if err != nil {
		return fmt.Errorf("watch sweep: %w", err)
	}
	finished := int64(-1)
	start := time.Now()
	for {
		msg, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch sweep: %w", err)
		}
		s := msg.GetSweep()
		c := s.GetCounts()
		if n := c["succeeded"] + c["failed"] + c["cancelled"]; n != finished {
			finished = n
			fmt.Fprintf(out, "%s  %d of %d trials finished (%d succeeded, %d failed)\n",
				time.Since(start).Round(time.Second), n, s.GetTotal(), c["succeeded"], c["failed"])
		}
		if done(s) {
			return nil
		}
	}
}

// syncWriter serialises writes from the logger, the agents' progress lines
// and the sweep's own lines, so that a writer that is not safe for
// concurrent use (a buffer in tests, a pipe wrapper) receives whole lines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
