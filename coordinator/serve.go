package coordinator

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"google.golang.org/grpc/peer"
	"net"
	"net/http"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// Defaults of ServeConfig.
const (
	DefaultListen      = "127.0.0.1:7070"
	DefaultGracePeriod = 10 * time.Second
	// MaxMessageBytes bounds one gRPC message; a result with the weights
	// of a 256-unit network is a few MB of JSON.
	MaxMessageBytes = 64 << 20
)

// ServeConfig configures Serve.
type ServeConfig struct {
	// Listen is the gRPC address, host:port. Any address that is not a
	// loopback address requires TokenFile or mutual TLS, unless Insecure.
	Listen string
	// HTTP, when set, is the address of the status page, /metrics and
	// /healthz.
	HTTP string
	// TokenFile holds the bearer token that every RPC must present in
	// "authorization: Bearer TOKEN" metadata. Surrounding white space is
	// ignored.
	TokenFile string
	// TLSCert and TLSKey enable TLS; ClientCA also requires and checks
	// client certificates (mutual TLS).
	TLSCert, TLSKey, ClientCA string
	// Insecure allows a non-loopback listen address without a token or
	// mutual TLS.
	Insecure bool
	// GracePeriod bounds the wait for running RPCs at shutdown.
	GracePeriod time.Duration
	// Coordinator configures the store and the lease broker.
	Coordinator Config
	// Logger is the root logger; nil discards logs.
	Logger hclog.Logger
	// Ready, when set, is called with the bound addresses once both
	// listeners accept connections; httpAddr is nil without HTTP.
	Ready func(grpcAddr, httpAddr net.Addr)
}

// Serve opens the coordinator, serves gRPC (and HTTP when configured) until
// ctx is cancelled, then stops gracefully within GracePeriod and closes the
// data file.
func Serve(ctx context.Context, cfg ServeConfig) error {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.GracePeriod == 0 {
		cfg.GracePeriod = DefaultGracePeriod
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	log := cfg.Logger

	// Check the security settings before touching the data file.
	sec, err := loadSecurity(cfg)
	if err != nil {
		return err
	}

	// Take the ports before the data file, so a busy port leaves no new,
	// empty database behind.
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w: pass a free address with --listen", cfg.Listen, err)
	}
	var httpLis net.Listener
	if cfg.HTTP != "" {
		httpLis, err = net.Listen("tcp", cfg.HTTP)
		if err != nil {
			_ = lis.Close()
			return fmt.Errorf("listen on %s: %w: pass a free address with --http", cfg.HTTP, err)
		}
	}
	closeListeners := func() {
		_ = lis.Close()
		if httpLis != nil {
			_ = httpLis.Close()
		}
	}

	ccfg := cfg.Coordinator
	ccfg.Logger = log.Named("broker")
	c, err := Open(ctx, ccfg)
	if err != nil {
		closeListeners()
		return err
	}
	defer func() {
		if err := c.Close(); err != nil {
			log.Error("close failed", "error", err)
		}
	}()

	srv, healthSrv := c.newGRPCServer(sec)
	var httpSrv *http.Server
	if httpLis != nil {
		httpSrv = &http.Server{Handler: c.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	}

	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(lis) }()
	if httpSrv != nil {
		go func() {
			if err := httpSrv.Serve(httpLis); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http server: %w", err)
			}
		}()
	}
	log.Info("coordinator listening", "address", lis.Addr().String(), "http", addrString(httpLis),
		"auth", sec.mode, "data", c.cfg.Path, "lease_ttl", c.cfg.LeaseTTL)
	if cfg.HTTP != "" {
		if loopback, err := isLoopback(cfg.HTTP); err == nil && !loopback {
			log.Warn("the status page and /metrics have no authentication and listen beyond loopback", "http", cfg.HTTP)
		}
	}
	if cfg.Ready != nil {
		var httpAddr net.Addr
		if httpLis != nil {
			httpAddr = httpLis.Addr()
		}
		cfg.Ready(lis.Addr(), httpAddr)
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		log.Error("server stopped", "error", serveErr)
	}

	log.Info("coordinator stopping", "grace_period", cfg.GracePeriod)
	healthSrv.Shutdown()
	c.Drain()
	stopGracefully(srv, cfg.GracePeriod, log)
	if httpSrv != nil {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.GracePeriod)
		_ = httpSrv.Shutdown(shutdownCtx)
		cancel()
	}
	return serveErr
}

func addrString(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

// stopGracefully lets running RPCs finish for at most grace, then cuts the
// rest.
func stopGracefully(srv *grpc.Server, grace time.Duration, log hclog.Logger) {
	done := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(grace):
		log.Warn("graceful stop timed out, closing connections", "grace_period", grace)
		srv.Stop()
	}
}

// security is the checked authentication setup of a listener.
type security struct {
	mode  string // for logs: "loopback", "token", "mtls", "token+tls", "insecure", ...
	token []byte
	creds credentials.TransportCredentials
}

// loadSecurity reads the token and TLS files and checks that a
// non-loopback listener is protected.
func loadSecurity(cfg ServeConfig) (security, error) {
	var sec security
	if cfg.TokenFile != "" {
		data, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return sec, fmt.Errorf("read token file: %w", err)
		}
		sec.token = []byte(strings.TrimSpace(string(data)))
		if strings.ContainsAny(string(sec.token), "\r\n") {
			// Clients send the first line only, so they could never match.
			return sec, fmt.Errorf("token file %s has more than one line: keep only the token", cfg.TokenFile)
		}
		if len(sec.token) == 0 {
			return sec, fmt.Errorf("token file %s is empty: write a long random token into it", cfg.TokenFile)
		}
	}

	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return sec, errors.New("--tls-cert and --tls-key must be given together")
	}
	if cfg.ClientCA != "" && cfg.TLSCert == "" {
		return sec, errors.New("--client-ca needs --tls-cert and --tls-key: mutual TLS needs a server certificate")
	}
	if cfg.TLSCert != "" {
		creds, err := loadTLS(cfg.TLSCert, cfg.TLSKey, cfg.ClientCA)
		if err != nil {
			return sec, err
		}
		sec.creds = creds
	}

	var modes []string
	if sec.token != nil {
		modes = append(modes, "token")
	}
	switch {
	case cfg.ClientCA != "":
		modes = append(modes, "mtls")
	case cfg.TLSCert != "":
		modes = append(modes, "tls")
	}

	loopback, err := isLoopback(cfg.Listen)
	if err != nil {
		return sec, err
	}
	protected := sec.token != nil || cfg.ClientCA != ""
	switch {
	case !loopback && !protected && !cfg.Insecure:
		return sec, fmt.Errorf("listen address %s is not a loopback address, so agents must "+
			"authenticate: pass --token-file, or --tls-cert, --tls-key and --client-ca for mutual "+
			"TLS, or --insecure to accept anyone who can reach the port", cfg.Listen)
	case !loopback && !protected:
		modes = append(modes, "insecure")
	case loopback && len(modes) == 0:
		modes = append(modes, "loopback")
	}
	sec.mode = strings.Join(modes, "+")
	return sec, nil
}

func loadTLS(certFile, keyFile, caFile string) (credentials.TransportCredentials, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS key pair %s, %s: %w", certFile, keyFile, err)
	}
	if leaf := cert.Leaf; leaf != nil {
		// Every client would fail the handshake, so refuse to start.
		if now := time.Now(); now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
			return nil, fmt.Errorf("TLS certificate %s is valid only from %s to %s: issue a current certificate",
				certFile, leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
		}
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA file %s contains no PEM certificate: pass a PEM CA bundle", caFile)
		}
		conf.ClientCAs = pool
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return credentials.NewTLS(conf), nil
}

// isLoopback reports whether a listen address binds only loopback
// interfaces. An empty host binds every interface.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("listen address %q is not host:port: %w", addr, err)
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// ServerOptions returns the gRPC server options the coordinator needs:
// messages up to MaxMessageBytes (results carry the network's weights),
// client keepalive pings every 10s or more, and one stream worker per
// CPU. A process that embeds the coordinator passes them to
// grpc.NewServer.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))),
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             10 * time.Second,
			PermitWithoutStream: true,
		}),
	}
}

// newGRPCServer builds the gRPC server with authentication, error counting
// and the health service.
func (c *Coordinator) newGRPCServer(sec security) (*grpc.Server, *health.Server) {
	unary := []grpc.UnaryServerInterceptor{c.countErrorsUnary}
	stream := []grpc.StreamServerInterceptor{c.countErrorsStream}
	if sec.token != nil {
		// Authentication runs inside the error counter, so rejected calls
		// show in the RPC error metric with code Unauthenticated.
		auth := &tokenAuth{token: sec.token, log: c.log.Named("auth")}
		unary = append(unary, auth.unary)
		stream = append(stream, auth.stream)
	}
	opts := append(ServerOptions(),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	)
	if sec.creds != nil {
		opts = append(opts, grpc.Creds(sec.creds))
	}
	srv := grpc.NewServer(opts...)
	c.Register(srv)

	healthSrv := health.NewServer()
	healthSrv.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthSrv.SetServingStatus(modsweepv1.CoordinatorService_ServiceDesc.ServiceName,
		healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, healthSrv)
	return srv, healthSrv
}

// tokenAuth checks the bearer token of every RPC except health checks,
// which carry no data and must work for probes without secrets.
type tokenAuth struct {
	token []byte
	log   hclog.Logger

	mu         sync.Mutex
	lastLogged time.Time
	suppressed int
}

// rejectLogWindow is the shortest gap between two log lines about rejected
// tokens, so a misconfigured agent fleet does not flood the log.
const rejectLogWindow = 10 * time.Second

func (a *tokenAuth) check(ctx context.Context, method string) error {
	if strings.HasPrefix(method, "/grpc.health.v1.Health/") {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		got, ok := strings.CutPrefix(v, "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(got), a.token) == 1 {
			return nil
		}
	}
	a.logRejection(ctx, method)
	return status.Error(codes.Unauthenticated,
		"missing or wrong bearer token: pass the coordinator's token file with --token-file")
}

// logRejection logs a rejected call with its peer and method, never the
// token, at most once per rejectLogWindow with a count of the others.
func (a *tokenAuth) logRejection(ctx context.Context, method string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if time.Since(a.lastLogged) < rejectLogWindow {
		a.suppressed++
		return
	}
	addr := "unknown"
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr = p.Addr.String()
	}
	a.log.Warn("call rejected: missing or wrong bearer token", "peer", addr, "method", method, "suppressed", a.suppressed)
	a.lastLogged, a.suppressed = time.Now(), 0
}

func (a *tokenAuth) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo,
	handler grpc.UnaryHandler,
) (any, error) {
	if err := a.check(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (a *tokenAuth) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo,
	handler grpc.StreamHandler,
) error {
	if err := a.check(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}

func (c *Coordinator) countErrorsUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo,
	handler grpc.UnaryHandler,
) (any, error) {
	resp, err := handler(ctx, req)
	if err != nil {
		c.metrics.rpcErrors.WithLabelValues(path.Base(info.FullMethod), status.Code(err).String()).Inc()
	}
	return resp, err
}

func (c *Coordinator) countErrorsStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo,
	handler grpc.StreamHandler,
) error {
	err := handler(srv, ss)
	if err != nil {
		c.metrics.rpcErrors.WithLabelValues(path.Base(info.FullMethod), status.Code(err).String()).Inc()
	}
	return err
}

// httpHandler serves the status page, /metrics and /healthz.
func (c *Coordinator) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(c.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if _, err := c.sweepSummaries(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/{$}", c.statusPage)
	return mux
}
