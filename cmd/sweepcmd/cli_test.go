package sweepcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/modsweep/modsweep/coordinator"
)

// tinySweep trains four trials of a 4-unit network for 20 steps each.
const tinySweep = `name: tiny
base:
  tasks: [fdgo]
  hidden: 4
  steps: 20
  batch_size: 8
  eval_every: 0
  eval_trials: 16
  swap_every: 10
  swap_top_k: 2
regularizers:
  none: {}
  bimt: {lambda: [0.1]}
seeds: [1, 2]
`

type run struct {
	code   int
	stdout string
	stderr string
}

func runMain(t *testing.T, args ...string) run {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Main(ctx, args, &stdout, &stderr)
	return run{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startCoordinator serves a coordinator on a loopback port and returns its
// address.
func startCoordinator(t *testing.T) string {
	t.Helper()
	c, err := coordinator.Open(context.Background(), coordinator.Config{
		Path: filepath.Join(t.TempDir(), "modsweep.db"),
	})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(coordinator.ServerOptions()...)
	c.Register(gs)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(func() {
		gs.Stop()
		_ = c.Close()
	})
	return lis.Addr().String()
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, ExitUsage, "Usage: sweep COMMAND"},
		{[]string{"frobnicate"}, ExitUsage, `unknown command "frobnicate"`},
		{[]string{"plan"}, ExitUsage, "expected one sweep file, got 0"},
		{[]string{"plan", "a.yaml", "--format", "xml"}, ExitUsage, `--format "xml" is not supported`},
		{[]string{"report", "--format", "yaml"}, ExitUsage, "use one of table, csv, json"},
		{[]string{"local", "x.yaml", "--workers", "-1"}, ExitUsage, "--workers -1"},
		{[]string{"report", "--plot", "fronts.jpg"}, ExitUsage, "must be .png or .svg"},
		{[]string{"local", "x.yaml", "--plot", "fronts.gif"}, ExitUsage, "must be .png or .svg"},
		{[]string{"plan", "--nosuchflag"}, ExitUsage, "flag provided but not defined"},
		{[]string{"--help"}, ExitOK, "Commands:"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := runMain(t, c.args...)
			if r.code != c.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", r.code, c.code, r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, c.want)
			}
		})
	}
}

func TestPlanJSON(t *testing.T) {
	r := runMain(t, "plan", "--format", "json", writeFile(t, "tiny.yaml", tinySweep))
	if r.code != ExitOK {
		t.Fatalf("exit code %d, stderr %q", r.code, r.stderr)
	}
	var plan map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatalf("plan output is not JSON: %v\n%s", err, r.stdout)
	}
	if got := plan["trials"]; got != float64(4) {
		t.Errorf("trials = %v, want 4", got)
	}
}

func TestPlanBadFileNamesLine(t *testing.T) {
	bad := strings.Replace(tinySweep, "lambda: [0.1]", "lambda: [-0.1]", 1)
	r := runMain(t, "plan", writeFile(t, "bad.yaml", bad))
	if r.code != ExitFailure {
		t.Fatalf("exit code = %d, want %d", r.code, ExitFailure)
	}
	for _, want := range []string{"line 13", "regularizers.bimt.lambda[0]", "-0.1"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q does not contain %q", r.stderr, want)
		}
	}
}

func TestLocalRunsAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four tiny networks")
	}
	file := writeFile(t, "tiny.yaml", tinySweep)
	data := filepath.Join(t.TempDir(), "data")

	r := runMain(t, "local", "--data", data, "--workers", "2", "--format", "json", file)
	if r.code != ExitOK {
		t.Fatalf("exit code %d, stderr:\n%s", r.code, r.stderr)
	}
	var rep struct {
		Counts   map[string]int `json:"counts"`
		Frontier []string       `json:"frontier"`
		Trials   []struct {
			ID       string `json:"id"`
			Attempts int    `json:"attempts"`
		} `json:"trials"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, r.stdout)
	}
	if rep.Counts["succeeded"] != 4 {
		t.Errorf("succeeded = %d, want 4 (counts %v)", rep.Counts["succeeded"], rep.Counts)
	}
	if len(rep.Frontier) == 0 {
		t.Error("frontier is empty")
	}
	if _, err := os.Stat(filepath.Join(data, "tiny-report.png")); err != nil {
		t.Errorf("report plot missing: %v", err)
	}

	// A second run on the same data folder trains nothing again.
	again := runMain(t, "local", "--data", data, "--format", "json", file)
	if again.code != ExitOK {
		t.Fatalf("second run: exit code %d, stderr:\n%s", again.code, again.stderr)
	}
	if !strings.Contains(again.stderr, "4 already finished") {
		t.Errorf("second run stderr = %q, want it to say 4 already finished", again.stderr)
	}
	if again.stdout != "" && strings.Contains(again.stdout, `"attempts": 2`) {
		t.Errorf("second run trained a trial again:\n%s", again.stdout)
	}
}

func TestRemoteSubmitReportCancel(t *testing.T) {
	addr := startCoordinator(t)
	file := writeFile(t, "tiny.yaml", tinySweep)

	sub := runMain(t, "submit", "--coordinator", addr, "--format", "json", file)
	if sub.code != ExitOK {
		t.Fatalf("submit: exit code %d, stderr %q", sub.code, sub.stderr)
	}
	var s struct {
		SweepID string `json:"sweep_id"`
		Trials  int    `json:"trials"`
	}
	if err := json.Unmarshal([]byte(sub.stdout), &s); err != nil {
		t.Fatalf("submit output is not JSON: %v\n%s", err, sub.stdout)
	}
	if s.SweepID == "" || s.Trials != 4 {
		t.Fatalf("submit = %+v, want a sweep id and 4 trials", s)
	}

	text := runMain(t, "submit", "--coordinator", addr, file)
	if !strings.Contains(text.stdout, "agent join "+addr) {
		t.Errorf("submit text output lacks the join line:\n%s", text.stdout)
	}
	if !strings.Contains(text.stdout, "--watch --coordinator "+addr) {
		t.Errorf("submit text output lacks a status line with the address:\n%s", text.stdout)
	}

	// Nothing has run, so the report exits with the incomplete code.
	rep := runMain(t, "report", "--coordinator", addr, s.SweepID)
	if rep.code != ExitIncomplete {
		t.Errorf("report exit code = %d, want %d (stderr %q)", rep.code, ExitIncomplete, rep.stderr)
	}
	if !strings.Contains(rep.stdout, "pending 4") {
		t.Errorf("report lacks the pending count:\n%s", rep.stdout)
	}

	status := runMain(t, "status", "--coordinator", addr)
	if status.code != ExitOK || !strings.Contains(status.stdout, s.SweepID) {
		t.Errorf("status: exit code %d, stdout %q", status.code, status.stdout)
	}

	trialID := listFirstTrial(t, addr, s.SweepID)
	showInSweep := runMain(t, "show", "--coordinator", addr, "--sweep", "tiny", trialID)
	if showInSweep.code != ExitOK || !strings.Contains(showInSweep.stdout, "of sweep "+s.SweepID+": pending") {
		t.Errorf("show --sweep: exit code %d, stdout %q, stderr %q", showInSweep.code, showInSweep.stdout, showInSweep.stderr)
	}

	missing := runMain(t, "show", "--coordinator", addr, "ffffffffffff")
	if missing.code != ExitFailure {
		t.Errorf("show of an unknown trial: exit code %d, want %d", missing.code, ExitFailure)
	}

	stop := runMain(t, "stop", "--coordinator", addr, s.SweepID)
	if stop.code != ExitOK || !strings.Contains(stop.stdout, "stopped") {
		t.Errorf("stop: exit code %d, stdout %q, stderr %q", stop.code, stop.stdout, stop.stderr)
	}

	// Watching a stopped sweep with nothing running ends at once.
	watch := runMain(t, "status", "--watch", "--coordinator", addr, s.SweepID)
	if watch.code != ExitOK || !strings.Contains(watch.stdout, "submit its file again to resume") {
		t.Errorf("status --watch on a stopped sweep: exit code %d, stdout %q", watch.code, watch.stdout)
	}

	cancel := runMain(t, "cancel", "--coordinator", addr, s.SweepID)
	if cancel.code != ExitOK || !strings.Contains(cancel.stdout, "4 cancelled") {
		t.Errorf("cancel: exit code %d, stdout %q, stderr %q", cancel.code, cancel.stdout, cancel.stderr)
	}
}

func TestLocalFailingTrialsReport(t *testing.T) {
	if testing.Short() {
		t.Skip("trains diverging networks")
	}
	// Every trial diverges, so the sweep ends with failed trials. One run
	// must print the report and exit with the incomplete code.
	diverging := strings.Replace(tinySweep, "  steps: 20\n", "  steps: 20\n  learning_rate: 1e200\n  grad_clip: 0\n", 1)
	r := runMain(t, "local", "--data", filepath.Join(t.TempDir(), "data"), "--workers", "1", writeFile(t, "nan.yaml", diverging))
	if r.code != ExitIncomplete {
		t.Fatalf("exit code = %d, want %d; stderr:\n%s", r.code, ExitIncomplete, r.stderr)
	}
	if !strings.Contains(r.stdout, "failed 4") {
		t.Errorf("report does not count 4 failed trials:\n%s", r.stdout)
	}
}

func TestUnreachableCoordinator(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()

	r := runMain(t, "status", "--coordinator", addr, "--timeout", "2s")
	if r.code != ExitFailure {
		t.Fatalf("exit code = %d, want %d", r.code, ExitFailure)
	}
	if !strings.Contains(r.stderr, "coordinator serve") {
		t.Errorf("stderr %q does not say how to start the coordinator", r.stderr)
	}
}

// listFirstTrial returns the id of the first trial of a sweep, read with
// the plan-independent report JSON.
func listFirstTrial(t *testing.T, addr, sweepID string) string {
	t.Helper()
	r := runMain(t, "report", "--coordinator", addr, "--format", "json", sweepID)
	var rep struct {
		Trials []struct {
			ID string `json:"id"`
		} `json:"trials"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Trials) == 0 {
		t.Fatalf("report JSON has no trials (%v):\n%s", err, r.stdout)
	}
	return rep.Trials[0].ID
}
