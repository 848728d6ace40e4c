package sweepcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/modsweep/modsweep/agent"
	"github.com/modsweep/modsweep/coordinator"
	pb "github.com/modsweep/modsweep/proto/modsweep/v1"
	"github.com/modsweep/modsweep/sweep"
)

// connFlags are the flags every command that talks to a coordinator takes.
type connFlags struct {
	addr      string
	tokenFile string
	tlsCA     string
	tlsCert   string
	tlsKey    string
	insecure  bool
	timeout   time.Duration
}

func addConnFlags(fs *flag.FlagSet) *connFlags {
	c := &connFlags{}
	fs.StringVar(&c.addr, "coordinator", envOr("MODSWEEP_COORDINATOR", DefaultCoordinator),
		"coordinator address HOST:PORT; $MODSWEEP_COORDINATOR sets the default")
	fs.StringVar(&c.tokenFile, "token-file", os.Getenv("MODSWEEP_TOKEN_FILE"),
		"file holding the coordinator's bearer token; $MODSWEEP_TOKEN_FILE sets the default")
	fs.StringVar(&c.tlsCA, "tls-ca", "", "PEM file of the CA that signed the coordinator's certificate; enables TLS")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM client certificate for mutual TLS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.BoolVar(&c.insecure, "insecure", false, "send the token without TLS to a non-loopback coordinator")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "time limit of each request to the coordinator")
	return c
}

func (c *connFlags) dial(ctx context.Context) (*grpc.ClientConn, pb.CoordinatorServiceClient, error) {
	conn, err := agent.Dial(ctx, c.addr, agent.DialOptions{
		TokenFile: c.tokenFile,
		CAFile:    c.tlsCA,
		CertFile:  c.tlsCert,
		KeyFile:   c.tlsKey,
		Insecure:  c.insecure,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("connect to coordinator %s: %w", c.addr, err)
	}
	return conn, pb.NewCoordinatorServiceClient(conn), nil
}

// wrap adds the failed operation to err and, when the coordinator cannot
// be reached, the command that starts it.
func (c *connFlags) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if strings.Contains(msg, "x509: ") || strings.Contains(msg, "tls: ") || strings.Contains(msg, "server preface") {
		return fmt.Errorf("%s: TLS with coordinator %s failed (%w): check that --tls-ca is the CA that signed its certificate and that the "+
			"certificate is valid for this address; pass --tls-cert and --tls-key when it requires client certificates, "+
			"and --tls-ca when it serves TLS at all", op, c.addr, err)
	}
	if strings.Contains(msg, "connection refused") || strings.Contains(msg, "Unavailable") {
		return fmt.Errorf("%s: coordinator %s is not reachable (%w): start it with 'coordinator serve --listen %s' or pass --coordinator", op, c.addr, err, c.addr)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func runSubmit(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "submit", "FILE", "submit a sweep file to a coordinator and print the agent join line")
	cf := addConnFlags(fs)
	format := fs.String("format", "text", "output format: text or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: expected one sweep file, got %d arguments", errUsage, len(pos))
	}
	if err := checkFormat(*format, "text", "json"); err != nil {
		return err
	}

	// Parse locally first: a bad file is reported without a round trip and
	// with the same message the coordinator would give.
	spec, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("read sweep file: %w", err)
	}
	f, err := sweep.Parse(spec, pos[0])
	if err != nil {
		return err
	}
	if _, err := f.Expand(); err != nil {
		return err
	}

	conn, client, err := cf.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	rctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	resp, err := client.SubmitSweep(rctx, &pb.SubmitSweepRequest{Spec: spec, Source: pos[0]})
	if err != nil {
		return cf.wrap("submit sweep", err)
	}
	return writeSubmit(e.stdout, resp, cf, *format)
}

// writeSubmit prints the submitted sweep, the agent join line and the
// status line to follow it.
func writeSubmit(w io.Writer, resp *pb.SubmitSweepResponse, cf *connFlags, format string) error {
	if format == "json" {
		return writeJSON(w, map[string]any{
			"sweep_id":   resp.GetSweepId(),
			"name":       resp.GetName(),
			"trials":     resp.GetTrials(),
			"new_trials": resp.GetNewTrials(),
			"axes":       resp.GetAxes(),
		})
	}

	fmt.Fprintf(w, "sweep %s (%s): %d trials, %d new\n", resp.GetSweepId(), resp.GetName(), resp.GetTrials(), resp.GetNewTrials())
	axes := make([]string, 0, len(resp.GetAxes()))
	for k := range resp.GetAxes() {
		axes = append(axes, k)
	}
	sort.Strings(axes)
	for _, k := range axes {
		fmt.Fprintf(w, "  %-12s %d values\n", k, resp.GetAxes()[k])
	}

	// Each agent needs a client certificate of its own, so the join line
	// names placeholders where the submitter used one.
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Start agents on any machine that can reach the coordinator:")
	fmt.Fprintf(w, "  agent join %s%s\n", cf.addr, cf.credentialFlags("AGENT.pem", "AGENT.key"))

	fmt.Fprintln(w)
	fmt.Fprintf(w, "Follow it with:\n  sweep status %s --watch --coordinator %s%s\n",
		resp.GetSweepId(), cf.addr, cf.credentialFlags(cf.tlsCert, cf.tlsKey))
	return nil
}

// credentialFlags returns the connection flags of another command that
// reaches the same coordinator, with the given client certificate and key
// when the submitter used mutual TLS.
func (c *connFlags) credentialFlags(certFile, keyFile string) string {
	var b strings.Builder
	if c.tokenFile != "" {
		b.WriteString(" --token-file " + c.tokenFile)
	}
	if c.tlsCA != "" {
		b.WriteString(" --tls-ca " + c.tlsCA)
	}
	if c.tlsCert != "" {
		b.WriteString(" --tls-cert " + certFile + " --tls-key " + keyFile)
	}
	if c.insecure {
		b.WriteString(" --insecure")
	}
	return b.String()
}

// resolveSweep returns the sweep named by id (an id or a name), or the only
// or newest sweep when id is empty.
func resolveSweep(ctx context.Context, client pb.CoordinatorServiceClient, id string) (*pb.SweepSummary, error) {
	if id != "" {
		resp, err := client.GetSweep(ctx, &pb.GetSweepRequest{SweepId: id})
		if err != nil {
			return nil, err
		}
		return resp.GetSweep(), nil
	}
	resp, err := client.ListSweeps(ctx, &pb.ListSweepsRequest{})
	if err != nil {
		return nil, err
	}
	sweeps := resp.GetSweeps()
	if len(sweeps) == 0 {
		return nil, errors.New("the coordinator has no sweeps: submit one with 'sweep submit FILE'")
	}
	newest := sweeps[0]
	for _, s := range sweeps[1:] {
		if s.GetCreatedAt().AsTime().After(newest.GetCreatedAt().AsTime()) {
			newest = s
		}
	}
	return newest, nil
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "status", "[SWEEP]", "print trial counts of one sweep or of every sweep")
	cf := addConnFlags(fs)
	watch := fs.Bool("watch", false, "keep printing the status each time it changes, until the sweep is done")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return fmt.Errorf("%w: expected at most one sweep id, got %d arguments", errUsage, len(pos))
	}
	conn, client, err := cf.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	if !*watch {
		rctx, cancel := context.WithTimeout(ctx, cf.timeout)
		defer cancel()
		if len(pos) == 0 {
			resp, err := client.ListSweeps(rctx, &pb.ListSweepsRequest{})
			if err != nil {
				return cf.wrap("list sweeps", err)
			}
			if len(resp.GetSweeps()) == 0 {
				fmt.Fprintln(e.stdout, "no sweeps: submit one with 'sweep submit FILE'")
			}
			for _, s := range resp.GetSweeps() {
				fmt.Fprintln(e.stdout, formatSummary(s))
			}
			return nil
		}
		resp, err := client.GetSweep(rctx, &pb.GetSweepRequest{SweepId: pos[0]})
		if err != nil {
			return cf.wrap("get sweep", err)
		}
		fmt.Fprintln(e.stdout, formatSummary(resp.GetSweep()))
		return nil
	}

	rctx, cancel := context.WithTimeout(ctx, cf.timeout)
	s, err := resolveSweep(rctx, client, first(pos))
	cancel()
	if err != nil {
		return cf.wrap("find sweep", err)
	}
	stream, err := client.WatchSweep(ctx, &pb.WatchSweepRequest{SweepId: s.GetId()})
	if err != nil {
		return cf.wrap("watch sweep", err)
	}
	last := ""
	for {
		msg, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return cf.wrap("watch sweep", err)
		}
		s := msg.GetSweep()
		line := formatSummary(s)
		if line != last {
			fmt.Fprintln(e.stdout, time.Now().Format("15:04:05")+" "+line)
			last = line
		}
		if done(s) {
			return nil
		}
		if halted(s) {
			fmt.Fprintf(e.stdout, "the sweep is %s and no trial is running: submit its file again to resume it\n",
				strings.ToLower(strings.TrimPrefix(s.GetState().String(), "SWEEP_STATE_")))
			return nil
		}
	}
}

// halted reports whether a stopped or cancelled sweep has no running trial
// left, so nothing will change until it is resumed.
func halted(s *pb.SweepSummary) bool {
	stateHalted := s.GetState() == pb.SweepState_SWEEP_STATE_STOPPED || s.GetState() == pb.SweepState_SWEEP_STATE_CANCELLED
	return stateHalted && s.GetCounts()["leased"] == 0
}

// done reports whether no trial of the sweep can change state any more.
func done(s *pb.SweepSummary) bool {
	c := s.GetCounts()
	return s.GetTotal() > 0 && c["pending"] == 0 && c["leased"] == 0
}

func formatSummary(s *pb.SweepSummary) string {
	c := s.GetCounts()
	state := strings.ToLower(strings.TrimPrefix(s.GetState().String(), "SWEEP_STATE_"))
	line := fmt.Sprintf("%s  %-16s %-9s %d trials: %d pending, %d leased, %d succeeded, %d failed, %d cancelled",
		s.GetId(), s.GetName(), state, s.GetTotal(), c["pending"], c["leased"], c["succeeded"], c["failed"], c["cancelled"])
	if age := s.GetOldestLeaseAge().AsDuration(); age > 0 {
		line += fmt.Sprintf("; oldest lease %s", age.Round(time.Second))
	}
	return line
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func runStop(ctx context.Context, e *env, args []string) error {
	return runSweepAction(ctx, e, args, "stop", "drain a sweep: lease no new trials, let running ones finish",
		func(ctx context.Context, c pb.CoordinatorServiceClient, id string) (*pb.SweepSummary, error) {
			resp, err := c.StopSweep(ctx, &pb.StopSweepRequest{SweepId: id})
			return resp.GetSweep(), err
		})
}

func runCancel(ctx context.Context, e *env, args []string) error {
	return runSweepAction(ctx, e, args, "cancel", "cancel a sweep's pending and running trials",
		func(ctx context.Context, c pb.CoordinatorServiceClient, id string) (*pb.SweepSummary, error) {
			resp, err := c.CancelSweep(ctx, &pb.CancelSweepRequest{SweepId: id})
			return resp.GetSweep(), err
		})
}

func runSweepAction(ctx context.Context, e *env, args []string, name, summary string,
	action func(context.Context, pb.CoordinatorServiceClient, string) (*pb.SweepSummary, error)) error {
	fs := newFlagSet(e, name, "SWEEP", summary)
	cf := addConnFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: expected one sweep id, got %d arguments", errUsage, len(pos))
	}
	conn, client, err := cf.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	rctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	s, err := action(rctx, client, pos[0])
	if err != nil {
		return cf.wrap(name+" sweep", err)
	}
	fmt.Fprintln(e.stdout, formatSummary(s))
	return nil
}

// fetchRecords streams every trial record of a sweep.
func fetchRecords(ctx context.Context, client pb.CoordinatorServiceClient, sweepID string) ([]*pb.TrialRecord, error) {
	stream, err := client.ListTrials(ctx, &pb.ListTrialsRequest{SweepId: sweepID})
	if err != nil {
		return nil, err
	}
	var out []*pb.TrialRecord
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, msg.GetTrials()...)
	}
}

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "report", "[SWEEP]", "print the Pareto report of a sweep's finished trials. "+
		"SWEEP is an id or a name (the newest sweep of that name); without it, the newest sweep. "+
		"Exit code 0: every trial succeeded, 3: trials are missing, running or failed, 1: error, 2: usage")
	cf := addConnFlags(fs)
	format := fs.String("format", "table", "output format: table, csv or json")
	plot := fs.String("plot", "", "also draw the 2-D fronts to this file (.png or .svg)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}

	// Check every argument before contacting the coordinator.
	if len(pos) > 1 {
		return fmt.Errorf("%w: expected at most one sweep id, got %d arguments", errUsage, len(pos))
	}
	if err := checkFormat(*format, "table", "csv", "json"); err != nil {
		return err
	}
	if *plot != "" {
		if err := checkPlotPath(*plot); err != nil {
			return err
		}
	}

	conn, client, err := cf.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	rctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	s, err := resolveSweep(rctx, client, first(pos))
	if err != nil {
		return cf.wrap("find sweep", err)
	}
	recs, err := fetchRecords(rctx, client, s.GetId())
	if err != nil {
		return cf.wrap("list trials", err)
	}
	return writeReport(e, s.GetName(), recs, *format, *plot)
}

// checkPlotPath rejects a plot file name whose extension no plot writer
// supports, before any work is done.
func checkPlotPath(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".svg":
		return nil
	}
	return fmt.Errorf("%w: plot file %q: the extension must be .png or .svg", errUsage, path)
}

// writeReport renders the report of recs and returns an incompleteError
// when not every trial succeeded.
func writeReport(e *env, name string, recs []*pb.TrialRecord, format, plot string) error {
	records := make([]sweep.Record, 0, len(recs))
	for _, r := range recs {
		records = append(records, coordinator.RecordFromProto(r))
	}
	rep := sweep.BuildReport(name, records, time.Now())
	if err := rep.Write(e.stdout, format); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if plot != "" {
		// A sweep with no usable trial has nothing to draw. That is not an
		// error of its own, because the report above already explains it.
		if err := rep.Plot(plot); err != nil {
			fmt.Fprintf(e.stderr, "no plot written to %s: %v\n", plot, err)
		} else {
			fmt.Fprintf(e.stderr, "plot written to %s\n", plot)
		}
	}
	if !rep.Complete() {
		return &incompleteError{msg: fmt.Sprintf("sweep %s is not complete: not every trial succeeded (see the counts above)", name)}
	}
	return nil
}
