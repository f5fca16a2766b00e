package inventory_test

import (
	"archive/tar"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/inventory"
)

var helloBin []byte

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "inventory-test")
	if err != nil {
		panic(err)
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = filepath.Join("..", "catalog", "gobinary", "testdata", "hello")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOPROXY=off", "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the test binary: %v\n%s", err, b)
		os.Exit(1)
	}
	helloBin, err = os.ReadFile(out)
	os.RemoveAll(dir)
	if err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

const status0 = `Package: base-files
Status: install ok installed
Priority: required
Architecture: amd64
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy.

Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: tzdata
Status: deinstall ok config-files
Architecture: all
Version: 2024a-0+deb12u1
`

const status1 = status0 + `
Package: ca-certificates
Status: install ok installed
Architecture: all
Version: 20230311
Description: Common CA certificates

Status: install ok installed
Architecture: amd64
Description: a stanza without a name
`

const apkDB = `C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
o:musl
L:MIT
F:lib
R:ld-musl-x86_64.so.1

`

// spec is an image whose final filesystem is known by construction: the
// dpkg database rewritten in layer 1, the apk database deleted in layer 2,
// a Go binary kept and one deleted.
func spec() imagetest.Spec {
	return imagetest.Spec{Layers: []imagetest.Layer{
		{Entries: []imagetest.Entry{
			{Name: "etc/os-release", Type: tar.TypeSymlink, Link: "../usr/lib/os-release"},
			{Name: "usr/lib/os-release", Body: []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n")},
			{Name: "var/lib/dpkg/status", Body: []byte(status0)},
			{Name: "var/lib/dpkg/info/libc6:amd64.list", Body: []byte("/.\n/lib/x86_64-linux-gnu/libc.so.6\n/usr/share/doc/libc6\n")},
			{Name: "lib/apk/db/installed", Body: []byte(apkDB)},
		}},
		{Entries: []imagetest.Entry{
			{Name: "var/lib/dpkg/status", Body: []byte(status1)},
			{Name: "app", Body: helloBin, Mode: 0o755},
			{Name: "usr/local/bin/tool", Body: helloBin, Mode: 0o755},
		}},
		{Entries: []imagetest.Entry{
			{Name: "lib/apk/db/.wh.installed"},
			{Name: "usr/local/bin/.wh.tool"},
		}},
	}}
}

func imageSBOM(t *testing.T) *sbom.SBOM {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := imagetest.Build(spec()).WriteOCIDir(dir, "example.com/app:1.0"); err != nil {
		t.Fatal(err)
	}
	s, err := inventory.Image(context.Background(), image.Target{Scheme: image.OCIDir, Value: dir}, image.Options{}, image.PassOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestImageInventory(t *testing.T) {
	s := imageSBOM(t)
	type row struct {
		Type          sbom.Type
		Name, Version string
		Layer         int
		Path          string
	}
	var got []row
	for _, c := range s.Components {
		if c.Type == sbom.TypeGoModule || c.Type == sbom.TypeStdlib {
			continue // TestComponents of gobinary covers them
		}
		got = append(got, row{c.Type, c.Name, c.Version, c.Layer, c.Path})
	}
	want := []row{
		{sbom.TypeBinary, "example.com/hello", "(devel)", 1, "/app"},
		{sbom.TypeDeb, "base-files", "12.4+deb12u5", 0, "/var/lib/dpkg/status"},
		{sbom.TypeDeb, "ca-certificates", "20230311", 1, "/var/lib/dpkg/status"},
		{sbom.TypeDeb, "libc6", "2.36-9+deb12u4", 0, "/var/lib/dpkg/status"},
		{sbom.TypeOS, "debian", "12", 0, "/usr/lib/os-release"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("components (-want +got):\n%s", d)
	}
	if s.Distro == nil || s.Distro.ID != "debian" || s.Distro.Codename != "bookworm" {
		t.Errorf("distro = %+v", s.Distro)
	}
	for _, c := range s.Components {
		if c.Name != "libc6" {
			continue
		}
		if c.PURL != "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc" {
			t.Errorf("libc6 purl = %s", c.PURL)
		}
		if d := cmp.Diff([]string{"/lib/x86_64-linux-gnu/libc.so.6", "/usr/share/doc/libc6"}, c.Files); d != "" {
			t.Errorf("libc6 files (-want +got):\n%s", d)
		}
		if c.SourceName != "glibc" {
			t.Errorf("libc6 source = %q", c.SourceName)
		}
	}
	if len(s.Warnings) != 1 || s.Warnings[0].Path != "/var/lib/dpkg/status" || s.Warnings[0].Layer != 1 || !strings.Contains(s.Warnings[0].Message, "line 28") {
		t.Errorf("warnings = %+v, want the nameless stanza at line 28 of layer 1's status", s.Warnings)
	}
	// The subject contains the binary, the packages and the OS; the binary
	// depends on its modules.
	contains := map[string]bool{}
	deps := 0
	for _, r := range s.Relationships {
		if r.From == s.Subject.ID && r.Type == sbom.RelContains {
			contains[r.To] = true
		}
		if r.From == "bin:/app" && r.Type == sbom.RelDependsOn {
			deps++
		}
	}
	if len(contains) != 5 || !contains["bin:/app"] {
		t.Errorf("subject contains %v", contains)
	}
	if deps != 4 { // stdlib, main module, greet, go-cmp
		t.Errorf("binary depends on %d components, want 4", deps)
	}
	if s.Subject.Name != "example.com/app" || s.Subject.Version != "1.0" || !strings.HasPrefix(s.Subject.Digest, "sha256:") {
		t.Errorf("subject = %+v", s.Subject)
	}
}

func TestAlpine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	b := imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Entries: []imagetest.Entry{
		{Name: "etc/os-release", Body: []byte("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n")},
		{Name: "lib/apk/db/installed", Body: []byte(apkDB + "P:busybox\nV:1.36.1-r29\nA:x86_64\no:busybox\nL:GPL-2.0-only\nbroken line\n\nP:nameless\n\n")},
	}}}})
	if err := b.WriteOCIDir(dir, ""); err != nil {
		t.Fatal(err)
	}
	s, err := inventory.Image(context.Background(), image.Target{Scheme: image.OCIDir, Value: dir}, image.Options{}, image.PassOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var purls []string
	for _, c := range s.Components {
		if c.Type == sbom.TypeApk {
			purls = append(purls, c.PURL)
		}
	}
	sort.Strings(purls)
	want := []string{
		"pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3",
		"pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.20.3",
	}
	if d := cmp.Diff(want, purls); d != "" {
		t.Errorf("apk purls (-want +got):\n%s", d)
	}
	if len(s.Warnings) != 2 {
		t.Errorf("warnings = %+v, want the broken line and the nameless stanza", s.Warnings)
	}
	for _, c := range s.Components {
		if c.Name == "musl" && (len(c.Files) != 1 || c.Files[0] != "/lib/ld-musl-x86_64.so.1" || c.Licenses[0] != "MIT") {
			t.Errorf("musl = %+v", c)
		}
	}
}

func TestFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hello")
	if err := os.WriteFile(p, helloBin, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := inventory.File(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Subject.Kind != sbom.SubjectFile || !strings.HasPrefix(s.Subject.Digest, "sha256:") {
		t.Errorf("subject = %+v", s.Subject)
	}
	var names []string
	for _, c := range s.Components {
		names = append(names, string(c.Type)+" "+c.Name)
	}
	want := []string{"binary example.com/hello", "go-module example.com/greet", "go-module example.com/hello", "go-module github.com/google/go-cmp", "go-stdlib stdlib"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("components (-want +got):\n%s", d)
	}
	notGo := filepath.Join(t.TempDir(), "notes")
	os.WriteFile(notGo, []byte("plain text"), 0o644)
	s, err = inventory.File(notGo)
	if err != nil || len(s.Components) != 0 || len(s.Warnings) != 1 {
		t.Errorf("non-Go file: %+v, %v", s, err)
	}
}

func TestGoSource(t *testing.T) {
	dir := filepath.Join("..", "catalog", "gobinary", "testdata", "hello")
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOWORK", "off")
	s, err := inventory.GoSource(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Subject.Name != "example.com/hello" || s.Subject.Kind != sbom.SubjectGoModule {
		t.Errorf("subject = %+v", s.Subject)
	}
	var mods []string
	for _, c := range s.Components {
		mods = append(mods, c.Name+"@"+c.Version)
	}
	goVersion, _ := exec.Command("go", "env", "GOVERSION").Output()
	std := "stdlib@" + strings.TrimPrefix(strings.TrimSpace(string(goVersion)), "go")
	want := []string{"example.com/greet@v0.0.0", "github.com/google/go-cmp@v0.7.0", std}
	if d := cmp.Diff(want, mods); d != "" {
		t.Errorf("modules (-want +got):\n%s", d)
	}
	// go mod graph: the main module requires both.
	var edges []string
	for _, r := range s.Relationships {
		if r.From == s.Subject.ID {
			edges = append(edges, r.To)
		}
	}
	if len(edges) != 3 {
		t.Errorf("subject edges = %v", edges)
	}
}
