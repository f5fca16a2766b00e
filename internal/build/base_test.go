package build

import (
	"archive/tar"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io/fs"
	"math/big"
	"strings"
	"testing"
	"time"
)

func entryMap(es []fileEntry) map[string]fileEntry {
	m := map[string]fileEntry{}
	for _, e := range es {
		m[e.Path] = e
	}
	return m
}

func TestStaticBase(t *testing.T) {
	entries, n, err := staticBase(CABundled, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := entryMap(entries)
	for _, line := range []string{"root:x:0:0:", "nonroot:x:65532:65532:", "nobody:x:65534:65534:"} {
		if !strings.Contains(string(m["/etc/passwd"].Data), "\n"+line) && !strings.HasPrefix(string(m["/etc/passwd"].Data), line) {
			t.Errorf("/etc/passwd lacks %q", line)
		}
	}
	for _, line := range []string{"root:x:0:", "nonroot:x:65532:", "nobody:x:65534:"} {
		if !strings.Contains(string(m["/etc/group"].Data), line) {
			t.Errorf("/etc/group lacks %q", line)
		}
	}
	if strings.Contains(string(m["/etc/passwd"].Data), "/bin/sh") || strings.Contains(string(m["/etc/passwd"].Data), "bash") {
		t.Error("a login shell is named in /etc/passwd, and the image has none")
	}
	if e := m["/tmp"]; e.Type != tar.TypeDir || e.Mode != 0o1777 {
		t.Errorf("/tmp = %+v, want a directory with mode 1777", e)
	}
	if e := m["/home/nonroot"]; e.UID != NonRootUID || e.GID != NonRootGID || e.Mode != 0o700 {
		t.Errorf("/home/nonroot = %+v", e)
	}
	for p, e := range m {
		if e.Type == tar.TypeReg && e.Mode&0o022 != 0 {
			t.Errorf("%s is writable by group or others: %o", p, e.Mode)
		}
		if strings.Contains(p, "bin/sh") || strings.Contains(p, "apt") || strings.Contains(p, "apk") {
			t.Errorf("%s: the static base has no shell and no package manager", p)
		}
	}
	ca := m[CACertsPath].Data
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		t.Fatal("the CA bundle does not load")
	}
	if n < 100 || countPEMCerts(ca) != n {
		t.Errorf("%d CA certificates, %d in the file; want the same, over 100 (Mozilla's roots)", n, countPEMCerts(ca))
	}
	if !strings.Contains(string(ca), "-----BEGIN CERTIFICATE-----") {
		t.Error("the bundle is not PEM")
	}

	none, n, err := staticBase(CANone, nil)
	if err != nil || n != 0 {
		t.Fatal(n, err)
	}
	if _, ok := entryMap(none)[CACertsPath]; ok {
		t.Error("--ca-certs none still wrote a bundle")
	}
	if _, _, err := staticBase("mozilla", nil); err == nil {
		t.Error("an unknown CA source was accepted")
	}
}

func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test root"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestStaticBaseHostCAs(t *testing.T) {
	cert := selfSignedPEM(t)
	files := map[string][]byte{"/etc/pki/tls/certs/ca-bundle.crt": append(append([]byte("# a comment\n"), cert...), cert...)}
	read := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return b, nil
		}
		return nil, fs.ErrNotExist
	}
	entries, n, err := staticBase(CAHost, read)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || string(entryMap(entries)[CACertsPath].Data) != string(files["/etc/pki/tls/certs/ca-bundle.crt"]) {
		t.Errorf("host bundle: %d certificates", n)
	}
	// A file that holds no certificate, or none at all: a clear error.
	files = map[string][]byte{"/etc/ssl/certs/ca-certificates.crt": []byte("not pem")}
	if _, _, err := staticBase(CAHost, read); err == nil || !strings.Contains(err.Error(), "no PEM certificates") {
		t.Errorf("empty host bundle: %v", err)
	}
	files = nil
	if _, _, err := staticBase(CAHost, read); err == nil || !strings.Contains(err.Error(), "--ca-certs bundled") {
		t.Errorf("no host bundle: %v", err)
	}
}
