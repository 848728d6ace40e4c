package agent

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/modsweep/modsweep/core"
	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

func TestSpool_PutLoadRemove(t *testing.T) {
	dir := t.TempDir()
	// A temporary file from an interrupted write is removed at open.
	stale := filepath.Join(dir, spoolTemp+"123")
	if err := os.WriteFile(stale, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := openSpool(dir)
	if err != nil {
		t.Fatalf("openSpool: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file still there: %v", err)
	}

	lease := &modsweepv1.Lease{SweepId: "s", TrialId: "t/../1", Attempt: 2, Epoch: 7}
	want := &modsweepv1.CompleteTrialRequest{AgentId: "a", Lease: lease,
		Result: &modsweepv1.TrialResult{ResultJson: []byte(`{"x":1}`)}}
	path, err := sp.putComplete(want)
	if err != nil {
		t.Fatalf("putComplete: %v", err)
	}
	if filepath.Dir(path) != dir {
		t.Errorf("spool file %s is outside the spool folder %s", path, dir)
	}
	if _, err := sp.putFail(&modsweepv1.FailTrialRequest{Lease: lease, Reason: "NaN"}); err != nil {
		t.Fatalf("putFail: %v", err)
	}

	paths, err := sp.list()
	if err != nil || len(paths) != 2 {
		t.Fatalf("list = %v, %v; want 2 files", paths, err)
	}
	got, err := sp.load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !proto.Equal(got, want) {
		t.Errorf("load returned %v, want %v", got, want)
	}

	if err := sp.remove(path); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if err := sp.remove(path); err != nil {
		t.Errorf("second remove returned %v, want nil for a file already gone", err)
	}
	if paths, _ := sp.list(); len(paths) != 1 {
		t.Errorf("list after remove = %v, want 1 file", paths)
	}
}

func TestSpool_RejectMovesCorruptFile(t *testing.T) {
	sp, err := openSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(sp.dir, "bad.1"+spoolComplete)
	if err := os.WriteFile(path, []byte{0xff, 0xff, 0xff}, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.load(path); err == nil {
		t.Fatal("load of a corrupt file succeeded")
	}
	dst, err := sp.reject(path)
	if err != nil {
		t.Fatalf("reject: %v", err)
	}
	if _, err := os.Stat(dst); err != nil {
		t.Errorf("rejected file not kept: %v", err)
	}
	if paths, _ := sp.list(); len(paths) != 0 {
		t.Errorf("list after reject = %v, want empty", paths)
	}
}

func TestBackoff_GrowsAndCaps(t *testing.T) {
	b := backoff{policy: backoffPolicy{Base: 100 * time.Millisecond, Max: time.Second}}
	for i, ceiling := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		ceiling *= time.Millisecond
		d := b.next()
		if d < ceiling/2 || d > ceiling {
			t.Errorf("retry %d waits %v, want within [%v, %v]", i, d, ceiling/2, ceiling)
		}
	}
	b.reset()
	if d := b.next(); d > 100*time.Millisecond {
		t.Errorf("first retry after reset waits %v, want <= 100ms", d)
	}
	for range 100 {
		b.next() // must not overflow
	}
	if d := b.next(); d < 500*time.Millisecond || d > time.Second {
		t.Errorf("retry after many failures waits %v, want within [500ms, 1s]", d)
	}
}

func TestSleep_EndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleep(ctx, time.Hour); err != context.Canceled {
		t.Errorf("sleep returned %v, want context.Canceled", err)
	}
}

func TestLogLimiter_OncePerWindow(t *testing.T) {
	l := newLogLimiter(time.Hour)
	if ok, _ := l.allow("lease"); !ok {
		t.Fatal("first error suppressed")
	}
	for range 3 {
		if ok, _ := l.allow("lease"); ok {
			t.Fatal("repeated error within the window let through")
		}
	}
	if ok, _ := l.allow("deliver"); !ok {
		t.Error("error of another kind suppressed")
	}
	if !l.clear("lease") {
		t.Error("clear did not report the logged error")
	}
	if l.clear("lease") {
		t.Error("second clear reported an error")
	}

	short := newLogLimiter(time.Millisecond)
	short.allow("x")
	short.allow("x")
	short.allow("x")
	time.Sleep(5 * time.Millisecond)
	ok, suppressed := short.allow("x")
	if !ok || suppressed != 2 {
		t.Errorf("after the window: allow = %v with %d suppressed, want true with 2", ok, suppressed)
	}
}

func TestDecodeConfig(t *testing.T) {
	cfg, err := decodeConfig([]byte(`{"hidden":16,"grid_rows":4,"grid_cols":4,"steps":7}`))
	if err != nil {
		t.Fatalf("decodeConfig: %v", err)
	}
	if cfg.Hidden != 16 || cfg.Steps != 7 {
		t.Errorf("hidden %d, steps %d; want 16 and 7", cfg.Hidden, cfg.Steps)
	}
	if want := core.Default().LR; cfg.LR != want {
		t.Errorf("learning rate %v, want the default %v for a field the JSON leaves out", cfg.LR, want)
	}

	for _, tc := range []struct{ raw, want string }{
		{`{"hidden":16,"new_knob":1}`, `unknown field "new_knob"`},
		{`{"hidden":15}`, "hidden = 15"},
		{`not json`, "decode trial config"},
	} {
		if _, err := decodeConfig([]byte(tc.raw)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("decodeConfig(%s) returned %v, want an error containing %q", tc.raw, err, tc.want)
		}
	}
}

func TestResultToProto(t *testing.T) {
	r := &core.Result{
		Final:     core.Eval{PerTask: map[string]float64{"fdgo": 0.8}, Mean: 0.8, Min: 0.7},
		FinalLoss: 0.05,
		Measures:  core.Measures{ActiveNeurons: 12, ActiveNeuronsActivity: 10, WiringLength: 3.5, DiagShare: 0.25},
		Duration:  2 * time.Second,
	}
	got, err := resultToProto(r)
	if err != nil {
		t.Fatalf("resultToProto: %v", err)
	}
	m := got.GetMetrics()
	if m.GetPerformance() != 0.8 || m.GetPerformanceMin() != 0.7 || m.GetActiveNeurons() != 12 ||
		m.GetWiringLength() != 3.5 || m.GetDiagShare() != 0.25 || m.GetPerTask()["fdgo"] != 0.8 {
		t.Errorf("metrics %v do not match the result", m)
	}
	if got.GetDuration().AsDuration() != 2*time.Second {
		t.Errorf("duration %v, want 2s", got.GetDuration().AsDuration())
	}
	if !bytes.Contains(got.GetResultJson(), []byte(`"final_loss":0.05`)) {
		t.Errorf("result JSON %s lacks the final loss", got.GetResultJson())
	}

	r.Measures.DiagShare = math.NaN()
	if _, err := resultToProto(r); err == nil {
		t.Error("resultToProto accepted a NaN measure that JSON cannot carry")
	}
}

func TestBoard_Lines(t *testing.T) {
	b := newBoard(2)
	b.start(0, "0123456789abcdef", 100)
	b.update(0, core.Progress{Step: 50, Steps: 100, Loss: 0.125, Perf: 0.75})
	b.slots[0].started = time.Now().Add(-10 * time.Second)

	lines := b.lines(time.Now(), false)
	if len(lines) != 2 {
		t.Fatalf("lines = %q, want 2", lines)
	}
	for _, want := range []string{"slot 1", "trial 0123456789ab ", "step 50/100", "loss 0.125", "perf 0.750", "5.0 steps/s"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("line %q lacks %q", lines[0], want)
		}
	}
	if lines[1] != "slot 2  idle" {
		t.Errorf("idle line = %q", lines[1])
	}
	if busy := b.lines(time.Now(), true); len(busy) != 1 {
		t.Errorf("busy lines = %q, want 1", busy)
	}
	b.finish(0)
	if busy := b.lines(time.Now(), true); len(busy) != 0 {
		t.Errorf("busy lines after finish = %q, want none", busy)
	}
}

func TestBoard_RenderPlainLines(t *testing.T) {
	b := newBoard(1)
	b.start(0, "trial-a", 10)
	var buf safeBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		b.render(ctx, &buf, 10*time.Millisecond)
		close(done)
	}()
	waitFor(t, 5*time.Second, "a progress line", func() bool { return strings.Contains(buf.String(), "trial trial-a") })
	cancel()
	<-done
	if strings.Contains(buf.String(), "\x1b[") {
		t.Errorf("plain output contains terminal escapes: %q", buf.String())
	}
}

func TestConsole_RedrawAndLogLines(t *testing.T) {
	var buf bytes.Buffer
	c := NewConsole(&buf)
	lines := []string{"slot 1  idle", "slot 2  idle"}

	c.draw(lines)
	if strings.Contains(buf.String(), "\x1b[2A") {
		t.Errorf("first draw moved the cursor up: %q", buf.String())
	}
	buf.Reset()
	c.draw(lines)
	if !strings.HasPrefix(buf.String(), "\x1b[2A") || strings.Count(buf.String(), "\x1b[2K") != 2 {
		t.Errorf("second draw = %q, want cursor up 2 and two cleared lines", buf.String())
	}

	// A log line clears the progress lines, and the next draw starts below it.
	buf.Reset()
	if _, err := c.Write([]byte("log line\n")); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "\x1b[2A\x1b[Jlog line\n"; got != want {
		t.Errorf("log write = %q, want %q", got, want)
	}
	buf.Reset()
	c.draw(lines)
	if !strings.HasPrefix(buf.String(), "\r\x1b[2K") {
		t.Errorf("draw after a log line = %q, want it to start on a fresh line without moving up", buf.String())
	}
}

func TestBoard_RenderToConsole(t *testing.T) {
	b := newBoard(1)
	b.start(0, "trial-a", 10)
	var buf safeBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		b.render(ctx, NewConsole(&buf), time.Hour)
		close(done)
	}()
	waitFor(t, 5*time.Second, "a redraw", func() bool { return strings.Contains(buf.String(), "\x1b[2K") })
	cancel()
	<-done
}

func TestConfig_Defaults(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	cfg, err := Config{Addr: "127.0.0.1:1", Name: "node/7", Train: (&fakeTrainer{}).train}.withDefaults()
	if err != nil {
		t.Fatalf("withDefaults: %v", err)
	}
	if cfg.SpoolDir != "/state/modsweep/spool/node_7" {
		t.Errorf("spool folder %s, want /state/modsweep/spool/node_7", cfg.SpoolDir)
	}
	if cfg.Workers < 1 || cfg.Grace != DefaultGrace {
		t.Errorf("workers %d, grace %v; want >= 1 and %v", cfg.Workers, cfg.Grace, DefaultGrace)
	}
	if def, err := (Config{Addr: "127.0.0.1:1", Name: "n"}).withDefaults(); err != nil || def.Train == nil {
		t.Errorf("withDefaults without Train: Train set %v, error %v; want core.Train and nil", def.Train != nil, err)
	}

	for _, bad := range []Config{
		{Train: (&fakeTrainer{}).train},
		{Addr: "127.0.0.1:1", Train: (&fakeTrainer{}).train, Workers: -1},
		{Addr: "127.0.0.1:1", Train: (&fakeTrainer{}).train, MaxTrials: -1},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("withDefaults(%+v) succeeded, want an error", bad)
		}
	}
}

// safeBuffer is a bytes.Buffer that a writer and a reader goroutine share.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestTLSFailureClassifiesCertificateErrors(t *testing.T) {
	cases := []struct {
		msg  string
		want bool
	}{
		{`rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`, true},
		{`rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: remote error: tls: certificate required"`, true},
		{`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`, false},
	}
	for _, c := range cases {
		if got := tlsFailure(errors.New(c.msg)); got != c.want {
			t.Errorf("tlsFailure(%q) = %v, want %v", c.msg, got, c.want)
		}
	}
}
