package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// DialOptions are the client credentials of a connection to the
// coordinator, shared by the agent and the sweep command.
type DialOptions struct {
	// TokenFile holds a bearer token sent with every call. Without TLS it is
	// sent only to a loopback address, or when Insecure is set.
	TokenFile string
	// CAFile holds the PEM certificates that verify the coordinator. Setting
	// it turns TLS on.
	CAFile string
	// CertFile and KeyFile hold the PEM client certificate and key for
	// mutual TLS. Both or neither must be set, and only with CAFile.
	CertFile string
	KeyFile  string
	// Insecure allows sending the token over a plaintext connection to a
	// non-loopback address.
	Insecure bool
}

// maxMessageBytes bounds one received message. It equals the coordinator's
// limit (coordinator.MaxMessageBytes), which this package cannot import.
const maxMessageBytes = 64 << 20

// reconnectBackoff caps the gRPC connection backoff well below its 120s
// default, so agents reconnect to a restarted coordinator within seconds.
var reconnectBackoff = grpcbackoff.Config{
	BaseDelay:  250 * time.Millisecond,
	Multiplier: 1.6,
	Jitter:     0.2,
	MaxDelay:   5 * time.Second,
}

// Dial returns a client connection to the coordinator at addr (host:port)
// with the credentials in opts. The connection is made in the background,
// so Dial succeeds while the coordinator is down; calls fail with
// codes.Unavailable until it is up.
func Dial(ctx context.Context, addr string, opts DialOptions) (*grpc.ClientConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("coordinator address %q is not host:port (e.g. 127.0.0.1:7070): %w", addr, err)
	}
	dialOpts, err := opts.grpcOptions(isLoopback(host))
	if err != nil {
		return nil, err
	}
	dialOpts = append(dialOpts, grpc.WithConnectParams(grpc.ConnectParams{
		Backoff:           reconnectBackoff,
		MinConnectTimeout: 5 * time.Second,
	}))
	// A trial record with its result carries the network's weights, which
	// pass gRPC's 4 MiB default from about 400 hidden units on.
	dialOpts = append(dialOpts, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes)))
	conn, err := grpc.NewClient(addr, dialOpts...)
	if err != nil {
		return nil, fmt.Errorf("dial coordinator %s: %w", addr, err)
	}
	conn.Connect()
	return conn, nil
}

// grpcOptions returns the transport and per-call credentials of opts.
func (o DialOptions) grpcOptions(loopback bool) ([]grpc.DialOption, error) {
	tlsOn := o.CAFile != ""
	var opts []grpc.DialOption

	if tlsOn {
		tlsConfig, err := o.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)))
	} else {
		if o.CertFile != "" || o.KeyFile != "" {
			return nil, errors.New("a client certificate needs TLS: pass the coordinator's CA file too")
		}
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}

	if o.TokenFile != "" {
		if !tlsOn && !loopback && !o.Insecure {
			return nil, fmt.Errorf("token file %s: the token would travel unencrypted to a non-loopback address: pass --tls-ca for TLS, or --insecure to send it without TLS", o.TokenFile)
		}
		token, err := readToken(o.TokenFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.WithPerRPCCredentials(bearerToken{token: token, requireTLS: tlsOn}))
	}
	return opts, nil
}

// tlsConfig loads the CA pool and the optional client key pair.
func (o DialOptions) tlsConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(o.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s contains no PEM certificate", o.CAFile)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}

	switch {
	case o.CertFile == "" && o.KeyFile == "":
	case o.CertFile == "":
		return nil, fmt.Errorf("client key %s has no certificate: pass the client certificate file too", o.KeyFile)
	case o.KeyFile == "":
		return nil, fmt.Errorf("client certificate %s has no key: pass the client key file too", o.CertFile)
	default:
		pair, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate %s and key %s: %w", o.CertFile, o.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// readToken returns the token in path without surrounding white space.
func readToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("token file %s is empty: write the coordinator's token into it", path)
	}
	if strings.ContainsAny(token, "\r\n") {
		return "", fmt.Errorf("token file %s has more than one line: keep only the token", path)
	}
	return token, nil
}

// isLoopback reports whether host names the local machine: "localhost" or
// a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bearerToken sends "authorization: Bearer TOKEN" with every call.
type bearerToken struct {
	token      string
	requireTLS bool
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials. It is
// false only for a plaintext connection that grpcOptions allowed.
func (b bearerToken) RequireTransportSecurity() bool { return b.requireTLS }
