// Package e2e runs the coordinator, agent and sweep binaries as real
// processes on loopback and checks the promises that only show across
// processes: every trial accepted exactly once, through agent and
// coordinator crashes.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modsweep/modsweep/agent"
	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// binaries built once by TestMain.
var (
	binDir     string
	skipReason string
)

var commands = []string{"coordinator", "agent", "sweep"}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		skipReason = "end-to-end tests build and run real processes: skipped with -short"
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "modsweep-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: create build folder:", err)
		os.Exit(1)
	}
	code := buildAndRun(m, dir)
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildAndRun builds the three commands into dir and runs the tests. A
// command missing from the tree skips the tests; one that fails to build
// fails them.
func buildAndRun(m *testing.M, dir string) int {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: find module root:", err)
		return 1
	}
	for _, name := range commands {
		pkg := "./cmd/" + name
		if out, err := goCommand(root, "list", pkg).CombinedOutput(); err != nil {
			skipReason = fmt.Sprintf("%s is not buildable in this tree yet (%s)", pkg, strings.TrimSpace(string(out)))
			return m.Run()
		}
		out, err := goCommand(root, "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build %s: %v\n%s", pkg, err, out)
			return 1
		}
	}
	binDir = dir
	return m.Run()
}

func goCommand(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	return cmd
}

func requireBinaries(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
}

// proc is a running child process whose output goes to a log file.
type proc struct {
	name  string
	cmd   *exec.Cmd
	log   string
	spool string // spool folder of an agent
	done  chan struct{}
	err   error
}

// start runs the built command bin with args as the process called name,
// and kills it at the end of the test. When the test fails, the tail of
// its log is printed.
func start(t *testing.T, bin, name string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, bin), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("last lines of %s:\n%s", name, tail(logPath, 40))
		}
	})
	return p
}

// kill sends SIGKILL and waits for the process to end.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// wait returns the exit code of the process, or fails the test when it
// runs longer than timeout.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("%s still running after %v", p.name, timeout)
	}
	var exitErr *exec.ExitError
	if errors.As(p.err, &exitErr) {
		return exitErr.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("%s: %v", p.name, p.err)
	}
	return 0
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

// cluster is a coordinator with its data file and a client for checks.
type cluster struct {
	t      *testing.T
	addr   string
	db     string
	ttl    time.Duration
	coord  *proc
	client modsweepv1.CoordinatorServiceClient
	mu     sync.Mutex
	starts int
}

func newCluster(t *testing.T, ttl time.Duration) *cluster {
	t.Helper()
	c := &cluster{t: t, addr: freeAddr(t), db: filepath.Join(t.TempDir(), "modsweep.db"), ttl: ttl}
	conn, err := agent.Dial(context.Background(), c.addr, agent.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c.client = modsweepv1.NewCoordinatorServiceClient(conn)
	c.startCoordinator()
	return c
}

// startCoordinator starts the coordinator on the cluster's address and
// data file, and waits until it responds.
func (c *cluster) startCoordinator() {
	c.t.Helper()
	c.mu.Lock()
	c.starts++
	name := fmt.Sprintf("coordinator-%d", c.starts)
	c.mu.Unlock()
	c.coord = start(c.t, "coordinator", name, "serve", "--listen", c.addr, "--data", c.db,
		"--lease-ttl", c.ttl.String(), "--poll-hold", "1s")
	waitFor(c.t, 20*time.Second, "the coordinator to respond", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := c.client.ListSweeps(ctx, &modsweepv1.ListSweepsRequest{})
		return err == nil
	})
}

// join starts an agent process called name with one slot.
func (c *cluster) join(name string, extra ...string) *proc {
	c.t.Helper()
	spool := filepath.Join(c.t.TempDir(), "spool")
	args := append([]string{"join", c.addr, "--name", name, "--workers", "1",
		"--spool", spool, "--grace", "2s", "--log-level", "debug"}, extra...)
	p := start(c.t, "agent", "agent-"+name, args...)
	p.spool = spool
	return p
}

// spooled returns the reports waiting in the agent's spool folder.
func (p *proc) spooled() []string {
	matches, _ := filepath.Glob(filepath.Join(p.spool, "*.complete"))
	return matches
}

// submit runs "sweep submit" on spec and returns the sweep id.
func (c *cluster) submit(spec string) string {
	c.t.Helper()
	out := c.sweep(0, "submit", spec, "--coordinator", c.addr, "--format", "json")
	var resp struct {
		SweepID string `json:"sweep_id"`
		Trials  int    `json:"trials"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.SweepID == "" {
		c.t.Fatalf("sweep submit printed %q: %v", out, err)
	}
	return resp.SweepID
}

// sweep runs the sweep command, fails the test unless it exits with
// wantCode, and returns its standard output.
func (c *cluster) sweep(wantCode int, args ...string) []byte {
	c.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "sweep"), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		c.t.Fatalf("sweep %v: %v", args, err)
	}
	if code != wantCode {
		c.t.Fatalf("sweep %v exited with %d, want %d\nstderr: %s", args, code, wantCode, stderr.String())
	}
	return out
}

// report is the part of "sweep report --format json" that the tests read.
type report struct {
	Total    int            `json:"total"`
	Complete bool           `json:"complete"`
	Counts   map[string]int `json:"counts"`
	Trials   []struct {
		ID       string `json:"id"`
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
	} `json:"trials"`
}

func (c *cluster) report(sweepID string) report {
	c.t.Helper()
	out := c.sweep(0, "report", sweepID, "--coordinator", c.addr, "--format", "json")
	var r report
	if err := json.Unmarshal(out, &r); err != nil {
		c.t.Fatalf("sweep report printed invalid JSON: %v\n%s", err, out)
	}
	return r
}

// trials returns the coordinator's records of a sweep's trials.
func (c *cluster) trials(sweepID string) []*modsweepv1.TrialRecord {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := c.client.ListTrials(ctx, &modsweepv1.ListTrialsRequest{SweepId: sweepID})
	if err != nil {
		c.t.Fatalf("list trials: %v", err)
	}
	var out []*modsweepv1.TrialRecord
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			c.t.Fatalf("list trials: %v", err)
		}
		out = append(out, msg.GetTrials()...)
	}
}

// tryTrials is trials without failing the test, for polling while the
// coordinator may be down.
func (c *cluster) tryTrials(sweepID string) ([]*modsweepv1.TrialRecord, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	stream, err := c.client.ListTrials(ctx, &modsweepv1.ListTrialsRequest{SweepId: sweepID})
	if err != nil {
		return nil, err
	}
	var out []*modsweepv1.TrialRecord
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

// waitDone waits until no trial of the sweep is pending or leased.
func (c *cluster) waitDone(sweepID string, timeout time.Duration) {
	c.t.Helper()
	waitFor(c.t, timeout, "the sweep to finish", func() bool {
		recs, err := c.tryTrials(sweepID)
		if err != nil || len(recs) == 0 {
			return false
		}
		for _, r := range recs {
			if s := r.GetState(); s == modsweepv1.TrialState_TRIAL_STATE_PENDING || s == modsweepv1.TrialState_TRIAL_STATE_LEASED {
				return false
			}
		}
		return true
	})
}

// checkExactlyOnce fails the test unless every trial succeeded and exactly
// one of its attempts was accepted.
func checkExactlyOnce(t *testing.T, recs []*modsweepv1.TrialRecord, want int) {
	t.Helper()
	if len(recs) != want {
		t.Errorf("sweep has %d trials, want %d", len(recs), want)
	}
	for _, r := range recs {
		id := r.GetTrial().GetId()
		if r.GetState() != modsweepv1.TrialState_TRIAL_STATE_SUCCEEDED {
			t.Errorf("trial %s is %v (error %q), want succeeded", id, r.GetState(), r.GetError())
			continue
		}
		accepted := 0
		for _, a := range r.GetAttempts() {
			if strings.HasPrefix(a.GetOutcome(), "succeeded") {
				accepted++
			}
		}
		if accepted != 1 {
			t.Errorf("trial %s has %d accepted attempts, want exactly 1: %v", id, accepted, r.GetAttempts())
		}
	}
}

// waitFor polls cond every 100ms until it holds, and fails the test after
// timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// writeSweep writes a sweep file of 2×len(lambdas)+2 trials of a 16-unit
// network trained for steps steps, and returns its path.
func writeSweep(t *testing.T, name string, steps int) string {
	t.Helper()
	spec := fmt.Sprintf(`name: %s
base:
  tasks: [fdgo]
  hidden: 16
  steps: %d
  batch_size: 16
  eval_every: 0
  eval_trials: 32
regularizers:
  none: {}
  l1: {lambda: [1e-2]}
  bimt: {lambda: [1e-2]}
seeds: [1, 2]
`, name, steps)
	path := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(path, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// signal sends sig to the process.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s: %v", p.name, err)
	}
}
