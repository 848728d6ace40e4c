package coordinator

import (
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
	"google.golang.org/grpc/credentials"

	modsweepv1 "github.com/modsweep/modsweep/proto/modsweep/v1"
)

// testCA issues certificates for a mutual TLS test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "modsweep test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a PEM certificate and key for a server (with the loopback
// IP) or a client.
func (ca *testCA) issue(t *testing.T, serial int64, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	return ca.issueValid(t, serial, server, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

// issueValid is issue with the given validity period.
func (ca *testCA) issueValid(t *testing.T, serial int64, server bool, notBefore, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "agent"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.Subject.CommonName = "coordinator"
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestServe_MutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	serverCert, serverKey := ca.issue(t, 2, true)
	clientCert, clientKey := ca.issue(t, 3, false)
	addr, _ := serveForTest(t, ServeConfig{
		Listen:   "127.0.0.1:0",
		TLSCert:  writeFile(t, dir, "server.pem", serverCert),
		TLSKey:   writeFile(t, dir, "server.key", serverKey),
		ClientCA: writeFile(t, dir, "ca.pem", ca.pem),
	})

	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	pair, err := tls.X509KeyPair(clientCert, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	register := func(conf *tls.Config) error {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(conf)))
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = modsweepv1.NewCoordinatorServiceClient(conn).RegisterAgent(ctxTimeout(t, 5*time.Second),
			&modsweepv1.RegisterAgentRequest{Name: "tls", ProtocolVersion: modsweepv1.ProtocolVersion})
		return err
	}

	if err := register(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}}); err != nil {
		t.Errorf("register with a client certificate: %v", err)
	}
	if err := register(&tls.Config{RootCAs: roots}); err == nil {
		t.Errorf("register without a client certificate succeeded, want a handshake failure")
	}
}

func TestLoadTLS_RejectsExpiredCertificate(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certPEM, keyPEM := ca.issueValid(t, 9, true, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	certFile := writeFile(t, dir, "expired.pem", certPEM)
	keyFile := writeFile(t, dir, "expired.key", keyPEM)

	_, err := loadTLS(certFile, keyFile, "")
	if err == nil {
		t.Fatal("loadTLS accepted an expired certificate")
	}
	if !strings.Contains(err.Error(), "expired.pem") || !strings.Contains(err.Error(), "issue a current certificate") {
		t.Errorf("error %q does not name the file and the fix", err)
	}
}
