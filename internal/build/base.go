package build

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// The users and groups of the static base, as distroless names them.
const (
	// NonRootUID and NonRootGID are the "nonroot" user the image runs as.
	NonRootUID = 65532
	NonRootGID = 65532
)

const staticPasswd = `root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
`

const staticGroup = `root:x:0:
nobody:x:65534:
nonroot:x:65532:
`

// staticNsswitch makes Go's resolver (netgo) read /etc/hosts before DNS, as
// glibc-based images do; without the file Go asks DNS first.
const staticNsswitch = "hosts: files dns\n"

// CACertsPath is where the static base puts the CA bundle: the path Go,
// OpenSSL and most runtimes look at first on Debian-like systems.
const CACertsPath = "/etc/ssl/certs/ca-certificates.crt"

// hostCAPaths are the bundles of the usual distributions, in the order
// Go's crypto/x509 tries them.
var hostCAPaths = []string{
	"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Gentoo, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
	"/etc/ssl/ca-bundle.pem",             // openSUSE
	"/etc/pki/tls/cacert.pem",            // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/cert.pem", // Alpine
}

// staticBase returns the files of the static base: passwd and group with
// root, nonroot (65532) and nobody; nsswitch.conf; the CA bundle; /tmp with
// mode 1777; the home directories. No shell, no package manager.
func staticBase(caSource string, readFile func(string) ([]byte, error)) (entries []fileEntry, caCount int, err error) {
	entries = []fileEntry{
		{Path: "/etc/passwd", Type: tar.TypeReg, Mode: 0o644, Data: []byte(staticPasswd)},
		{Path: "/etc/group", Type: tar.TypeReg, Mode: 0o644, Data: []byte(staticGroup)},
		{Path: "/etc/nsswitch.conf", Type: tar.TypeReg, Mode: 0o644, Data: []byte(staticNsswitch)},
		{Path: "/tmp", Type: tar.TypeDir, Mode: 0o1777},
		{Path: "/root", Type: tar.TypeDir, Mode: 0o700},
		{Path: "/home/nonroot", Type: tar.TypeDir, Mode: 0o700, UID: NonRootUID, GID: NonRootGID},
	}
	var pemData []byte
	switch caSource {
	case CABundled:
		pemData, caCount = bundledCAs()
	case CAHost:
		pemData, caCount, err = hostCAs(readFile)
		if err != nil {
			return nil, 0, err
		}
	case CANone:
	default:
		return nil, 0, fmt.Errorf("unknown CA source %q", caSource)
	}
	if pemData != nil {
		entries = append(entries, fileEntry{Path: CACertsPath, Type: tar.TypeReg, Mode: 0o644, Data: pemData})
	}
	return entries, caCount, nil
}

// bundledCAs encodes the roots of golang.org/x/crypto/x509roots/fallback
// (Mozilla's NSS trust store) as PEM. Roots that carry a constraint (a
// distrust-after date) are left out: a PEM file cannot express the
// constraint, and trusting them without it would trust more than NSS does.
func bundledCAs() ([]byte, int) {
	var b bytes.Buffer
	n := 0
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})
		n++
	}
	return b.Bytes(), n
}

// hostCAs reads the build host's bundle and checks that it holds
// certificates.
func hostCAs(readFile func(string) ([]byte, error)) ([]byte, int, error) {
	for _, p := range hostCAPaths {
		data, err := readFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("--ca-certs host: %w", err)
		}
		n := countPEMCerts(data)
		if n == 0 {
			return nil, 0, fmt.Errorf("--ca-certs host: %s holds no PEM certificates", p)
		}
		return data, n, nil
	}
	return nil, 0, fmt.Errorf("--ca-certs host: no CA bundle found on this machine (looked at %v); use --ca-certs bundled", hostCAPaths)
}

func countPEMCerts(data []byte) int {
	n := 0
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return n
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err == nil {
			n++
		}
	}
}
