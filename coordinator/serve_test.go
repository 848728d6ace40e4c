package coordinator

import (
	"bytes"
	"context"
	"errors"
	"github.com/hashicorp/go-hclog"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// serveForTest runs Serve until the test ends and returns the bound
// addresses.
func serveForTest(t *testing.T, cfg ServeConfig) (grpcAddr, httpAddr string) {
	t.Helper()
	if cfg.Coordinator.Path == "" {
		cfg.Coordinator.Path = filepath.Join(t.TempDir(), "modsweep.db")
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	ready := make(chan [2]string, 1)
	cfg.Ready = func(g, h net.Addr) {
		addrs := [2]string{g.String(), ""}
		if h != nil {
			addrs[1] = h.String()
		}
		ready <- addrs
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Serve(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case addrs := <-ready:
		return addrs[0], addrs[1]
	case err := <-errc:
		t.Fatalf("serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start within 10s")
	}
	return "", ""
}

func dialForTest(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestServe_TokenRequired(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	addr, httpAddr := serveForTest(t, ServeConfig{Listen: "127.0.0.1:0", HTTP: "127.0.0.1:0", TokenFile: tokenFile, Logger: logger})
	conn := dialForTest(t, addr)
	client := modsweepv1.NewCoordinatorServiceClient(conn)
	req := &modsweepv1.RegisterAgentRequest{Name: "a", ProtocolVersion: modsweepv1.ProtocolVersion}

	_, err := client.RegisterAgent(ctxTimeout(t, 5*time.Second), req)
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("register without token: %v, want Unauthenticated", err)
	}
	wrong := metadata.AppendToOutgoingContext(ctxTimeout(t, 5*time.Second), "authorization", "Bearer guess")
	_, err = client.RegisterAgent(wrong, req)
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("register with a wrong token: %v, want Unauthenticated", err)
	}
	if strings.Contains(status.Convert(err).Message(), "s3cret") {
		t.Errorf("error message reveals the token: %s", status.Convert(err).Message())
	}

	// Streams are checked too.
	stream, err := client.ListTrials(ctxTimeout(t, 5*time.Second), &modsweepv1.ListTrialsRequest{SweepId: "x"})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("stream without token: %v, want Unauthenticated", err)
	}

	right := metadata.AppendToOutgoingContext(ctxTimeout(t, 5*time.Second), "authorization", "Bearer s3cret-token")
	if _, err := client.RegisterAgent(right, req); err != nil {
		t.Errorf("register with the token: %v", err)
	}

	health, err := healthpb.NewHealthClient(conn).Check(ctxTimeout(t, 5*time.Second), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("health check without token: %v", err)
	}
	if health.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health status %v, want SERVING", health.GetStatus())
	}

	// Rejections are logged once per window, without the token, and counted.
	out := logs.String()
	if !strings.Contains(out, "call rejected") || !strings.Contains(out, "RegisterAgent") {
		t.Errorf("log has no rejection line naming the method:\n%s", out)
	}
	if strings.Contains(out, "s3cret") || strings.Contains(out, "guess") {
		t.Errorf("log reveals a token:\n%s", out)
	}
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	if want := `modsweep_rpc_errors_total{code="Unauthenticated",method="RegisterAgent"} 2`; !strings.Contains(string(metrics), want) {
		t.Errorf("/metrics lacks %q", want)
	}
}

// lockedBuffer is a bytes.Buffer safe for the server's concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestServe_MetricsAndStatusPage(t *testing.T) {
	addr, httpAddr := serveForTest(t, ServeConfig{Listen: "127.0.0.1:0", HTTP: "127.0.0.1:0"})
	client := modsweepv1.NewCoordinatorServiceClient(dialForTest(t, addr))
	_, err := client.SubmitSweep(ctxTimeout(t, 5*time.Second), &modsweepv1.SubmitSweepRequest{Spec: sweepYAML("page", 3)})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	_, _ = client.GetSweep(ctxTimeout(t, 5*time.Second), &modsweepv1.GetSweepRequest{SweepId: "missing"})

	get := func(path string) string {
		resp, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, resp.StatusCode)
		}
		return string(body)
	}
	metrics := get("/metrics")
	for _, want := range []string{
		`modsweep_trials{state="pending"} 3`,
		"modsweep_active_leases 0",
		`modsweep_rpc_errors_total{code="NotFound",method="GetSweep"} 1`,
		"modsweep_lease_latency_seconds_bucket",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if page := get("/"); !strings.Contains(page, "page") || !strings.Contains(page, "<td>3</td>") {
		t.Errorf("status page does not list the sweep:\n%s", page)
	}
}

func TestLoadSecurity_NonLoopbackNeedsAuth(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("t0ken"), 0o600); err != nil {
		t.Fatal(err)
	}
	twoLines := filepath.Join(t.TempDir(), "two-lines")
	if err := os.WriteFile(twoLines, []byte("abc\ndef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		cfg     ServeConfig
		wantErr string
		mode    string
	}{
		{"loopback", ServeConfig{Listen: "127.0.0.1:7070"}, "", "loopback"},
		{"localhost", ServeConfig{Listen: "localhost:7070"}, "", "loopback"},
		{"ipv6 loopback", ServeConfig{Listen: "[::1]:7070"}, "", "loopback"},
		{"all interfaces", ServeConfig{Listen: ":7070"}, "not a loopback address", ""},
		{"public ip", ServeConfig{Listen: "10.1.2.3:7070"}, "--token-file", ""},
		{"public with token", ServeConfig{Listen: "0.0.0.0:7070", TokenFile: tokenFile}, "", "token"},
		{"public insecure", ServeConfig{Listen: "0.0.0.0:7070", Insecure: true}, "", "insecure"},
		{"cert without key", ServeConfig{Listen: "127.0.0.1:0", TLSCert: "c.pem"}, "together", ""},
		{"ca without cert", ServeConfig{Listen: "127.0.0.1:0", ClientCA: "ca.pem"}, "needs --tls-cert", ""},
		{"missing token file", ServeConfig{Listen: "127.0.0.1:0", TokenFile: "/nonexistent/token"}, "read token file", ""},
		{"bad address", ServeConfig{Listen: "7070"}, "not host:port", ""},
		{"two-line token file", ServeConfig{Listen: "127.0.0.1:0", TokenFile: twoLines}, "more than one line", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sec, err := loadSecurity(tc.cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("loadSecurity: %v", err)
				}
				if sec.mode != tc.mode {
					t.Errorf("mode %q, want %q", sec.mode, tc.mode)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("loadSecurity: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestServe_RejectsUnprotectedPublicListen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "modsweep.db")
	err := Serve(context.Background(), ServeConfig{Listen: "0.0.0.0:0", Coordinator: Config{Path: path}})
	if err == nil || !strings.Contains(err.Error(), "--insecure") {
		t.Fatalf("serve on all interfaces without auth: %v, want an error naming the flags", err)
	}
	if fileExists(path) {
		t.Errorf("data file %s created although the configuration was rejected", path)
	}
}

func TestPollHold_EndsBeforeDeadline(t *testing.T) {
	cases := []struct {
		hold, untilDeadline, want time.Duration
	}{
		{5 * time.Second, 10 * time.Second, 5 * time.Second},
		{5 * time.Second, 5 * time.Second, 4500 * time.Millisecond},
		{5 * time.Second, time.Second, 900 * time.Millisecond},
		{5 * time.Second, -time.Second, 0},
	}
	for _, tc := range cases {
		if got := pollHold(tc.hold, tc.untilDeadline); got != tc.want {
			t.Errorf("pollHold(%v, %v) = %v, want %v", tc.hold, tc.untilDeadline, got, tc.want)
		}
	}
}

func TestWatchSweep_SendsChanges(t *testing.T) {
	e := startEnv(t, Config{WatchInterval: 10 * time.Second})
	sub := e.submit("watch", 2)
	stream, err := e.client.WatchSweep(ctxTimeout(t, 10*time.Second), &modsweepv1.WatchSweepRequest{
		SweepId: sub.GetSweepId(),
	})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatalf("first watch message: %v", err)
	}
	if got := first.GetSweep().GetCounts()["pending"]; got != 2 {
		t.Errorf("first message: %d pending, want 2", got)
	}

	agent := e.register("a")
	e.complete(agent, e.mustLease(agent).GetLease(), 0.5)
	for {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatalf("watch message after a completion: %v", err)
		}
		if msg.GetSweep().GetCounts()["succeeded"] == 1 {
			break
		}
	}
}

func TestDrain_EndsWatchStreams(t *testing.T) {
	e := startEnv(t, Config{WatchInterval: time.Minute})
	sub := e.submit("drainwatch", 1)
	stream, err := e.client.WatchSweep(ctxTimeout(t, 10*time.Second), &modsweepv1.WatchSweepRequest{
		SweepId: sub.GetSweepId(),
	})
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("first watch message: %v", err)
	}
	e.c.Drain()
	done := make(chan error, 1)
	go func() {
		_, err := stream.Recv()
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, io.EOF) {
			t.Errorf("watch after drain: %v, want the stream to end with EOF", err)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("watch stream still open 3s after Drain")
	}
}
