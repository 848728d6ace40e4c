package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

func TestDialOptions_Errors(t *testing.T) {
	dir := t.TempDir()
	token := writeFile(t, dir, "token", "secret\n")
	empty := writeFile(t, dir, "empty", " \n")
	notPEM := writeFile(t, dir, "ca.pem", "not a certificate")

	tests := []struct {
		name     string
		opts     DialOptions
		loopback bool
		want     string
	}{
		{"token over plaintext to remote", DialOptions{TokenFile: token}, false, "the token would travel unencrypted"},
		{"missing token file", DialOptions{TokenFile: filepath.Join(dir, "nope")}, true, filepath.Join(dir, "nope")},
		{"empty token file", DialOptions{TokenFile: empty}, true, empty + " is empty"},
		{"missing CA file", DialOptions{CAFile: filepath.Join(dir, "ca-missing")}, false, filepath.Join(dir, "ca-missing")},
		{"CA file without certificate", DialOptions{CAFile: notPEM}, false, notPEM + " contains no PEM certificate"},
		{"client certificate without TLS", DialOptions{CertFile: token, KeyFile: token}, true, "needs TLS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.opts.grpcOptions(tc.loopback)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("grpcOptions returned %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDialOptions_TokenAllowed(t *testing.T) {
	token := writeFile(t, t.TempDir(), "token", "secret")
	for _, tc := range []struct {
		name     string
		opts     DialOptions
		loopback bool
	}{
		{"loopback", DialOptions{TokenFile: token}, true},
		{"insecure remote", DialOptions{TokenFile: token, Insecure: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.opts.grpcOptions(tc.loopback); err != nil {
				t.Errorf("grpcOptions returned %v, want nil", err)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "localhost": true, "LOCALHOST": true,
		"10.0.0.1": false, "example.org": false, "": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestDial_BadAddress(t *testing.T) {
	_, err := Dial(context.Background(), "no-port", DialOptions{})
	if err == nil || !strings.Contains(err.Error(), `"no-port"`) {
		t.Errorf("Dial returned %v, want an error naming the address", err)
	}
}

// authServer accepts RegisterAgent calls only with the expected bearer
// token. Mutual TLS, where a test needs it, is enforced by the grpc.Server.
type authServer struct {
	modsweepv1.UnimplementedCoordinatorServiceServer
	token string
}

func (s *authServer) RegisterAgent(ctx context.Context, _ *modsweepv1.RegisterAgentRequest) (*modsweepv1.RegisterAgentResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+s.token {
		return nil, status.Errorf(codes.Unauthenticated, "bad token %q", got)
	}
	return &modsweepv1.RegisterAgentResponse{AgentId: "a1"}, nil
}

func TestDial_TokenReachesServer(t *testing.T) {
	srv := grpc.NewServer()
	modsweepv1.RegisterCoordinatorServiceServer(srv, &authServer{token: "s3cret"})
	addr := serve(t, srv)

	dir := t.TempDir()
	for _, tc := range []struct {
		token string
		want  codes.Code
	}{
		{"s3cret", codes.OK},
		{"wrong", codes.Unauthenticated},
	} {
		conn, err := Dial(context.Background(), addr, DialOptions{TokenFile: writeFile(t, dir, tc.token, tc.token)})
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = modsweepv1.NewCoordinatorServiceClient(conn).RegisterAgent(ctx, &modsweepv1.RegisterAgentRequest{})
		cancel()
		conn.Close()
		if status.Code(err) != tc.want {
			t.Errorf("token %q: RegisterAgent returned %v, want code %v", tc.token, err, tc.want)
		}
	}
}

func TestDial_MutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCA(t)
	writeFile(t, dir, "ca.pem", string(pemCert(ca.Raw)))
	serverCert := issue(t, ca, caKey, "coordinator", x509.ExtKeyUsageServerAuth)
	clientCert := issue(t, ca, caKey, "agent", x509.ExtKeyUsageClientAuth)
	writeFile(t, dir, "client.pem", string(pemCert(clientCert.Certificate[0])))
	writeFile(t, dir, "client.key", string(pemKey(t, clientCert.PrivateKey)))

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})))
	modsweepv1.RegisterCoordinatorServiceServer(srv, &authServer{token: "tok"})
	addr := serve(t, srv)
	writeFile(t, dir, "token", "tok")

	for _, tc := range []struct {
		name string
		opts DialOptions
		ok   bool
	}{
		{"with client certificate", DialOptions{
			CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "client.pem"),
			KeyFile: filepath.Join(dir, "client.key"), TokenFile: filepath.Join(dir, "token"),
		}, true},
		{"without client certificate", DialOptions{
			CAFile: filepath.Join(dir, "ca.pem"), TokenFile: filepath.Join(dir, "token"),
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := Dial(context.Background(), addr, tc.opts)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = modsweepv1.NewCoordinatorServiceClient(conn).RegisterAgent(ctx, &modsweepv1.RegisterAgentRequest{})
			if tc.ok && err != nil {
				t.Errorf("RegisterAgent returned %v, want success", err)
			}
			if !tc.ok && err == nil {
				t.Error("RegisterAgent succeeded without a client certificate")
			}
		})
	}
}

func serve(t *testing.T, srv *grpc.Server) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// issue returns a key pair signed by ca, valid for 127.0.0.1.
func issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func pemKey(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
