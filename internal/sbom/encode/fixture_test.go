package encode_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/encode"
)

var update = flag.Bool("update", false, "rewrite golden files and the generated license list")

// IDs of the fixture, named once so tests can find things.
const (
	idSubject  = "image:example.com/team/app@sha256:5b0b"
	idOS       = "os:debian@12"
	idBinary   = "binary:/app/server"
	idMain     = "go-module:example.com/team/app@v1.4.2:/app/server"
	idCmp      = "go-module:github.com/google/go-cmp@v0.7.0:/app/server"
	idFork     = "go-module:example.com/fork/yaml@v1.2.0-fix:/app/server"
	idStdlib   = "go-stdlib:1.26.8:/app/server"
	idLibssl   = "deb:libssl3@3.0.15-1~deb12u1+b1"
	idTzdata   = "deb:tzdata@2024b-0+deb12u1"
	idCrypto   = "apk:libcrypto3@3.3.2-r0"
	idCerts    = "apk:ca-certificates-bundle@20240705-r0"
	idAlpineTZ = "apk:tzdata@2024b-r0"

	imageDigest = "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270"
	cmpHash     = "h1:wk8382ETsv4JYUZwIsn6YpYiWiBsYLSJiTsyBybVuN8="
	yamlHash    = "h1:fxVm/GzAzEWqLHuvctI91KS9hhNmmWOoWu0XTYJS7CA="
	forkHash    = "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
)

// fixture is a hand-built SBOM of an image holding one Go binary, Debian and
// Alpine packages and the distribution: every field and relationship kind of
// the model is set somewhere.
func fixture() *sbom.SBOM {
	s := &sbom.SBOM{
		SchemaVersion: sbom.SchemaVersion,
		Subject: sbom.Subject{
			Kind:     sbom.SubjectImage,
			Ref:      "oci-archive:testdata/app.tar",
			Name:     "example.com/team/app",
			Version:  "1.4.2",
			Digest:   imageDigest,
			Platform: "linux/amd64",
			Created:  time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC),
			ID:       idSubject,
		},
		Distro: &sbom.Distro{
			ID: "debian", VersionID: "12", Codename: "bookworm",
			PrettyName: "Debian GNU/Linux 12 (bookworm)",
		},
		Tool: sbom.Tool{Name: "redline", Version: "v0.4.0"},
		Components: []sbom.Component{
			{
				ID: idOS, Type: sbom.TypeOS, Name: "debian", Version: "12",
				PURL: "pkg:generic/debian@12", Path: "/etc/os-release", Layer: 0,
			},
			{
				ID: idBinary, Type: sbom.TypeBinary, Name: "server", Version: "v1.4.2",
				Path: "/app/server", Layer: 2,
				Go: &sbom.GoBinary{
					GoVersion: "go1.26.8",
					Path:      "example.com/team/app/cmd/server",
					Main:      sbom.Module{Path: "example.com/team/app", Version: "v1.4.2"},
					Settings: []sbom.Setting{
						{Key: "-buildmode", Value: "exe"},
						{Key: "-compiler", Value: "gc"},
						{Key: "-ldflags", Value: `-s -w -X "main.version=1.4.2"`},
						{Key: "-tags", Value: "netgo,osusergo"},
						{Key: "-trimpath", Value: "true"},
						{Key: "CGO_ENABLED", Value: "0"},
						{Key: "GOARCH", Value: "amd64"},
						{Key: "GOOS", Value: "linux"},
						{Key: "GOAMD64", Value: "v1"},
						{Key: "vcs", Value: "git"},
						{Key: "vcs.revision", Value: "e22db6528018a9b1c0ffee00deadbeef01234567"},
						{Key: "vcs.time", Value: "2026-11-05T23:49:57Z"},
						{Key: "vcs.modified", Value: "false"},
					},
				},
				ELF: &sbom.ELFInfo{Class: "ELF64", Machine: "x86-64", Static: true, PIE: false, Stripped: true},
			},
			{
				ID: idMain, Type: sbom.TypeGoModule, Name: "example.com/team/app", Version: "v1.4.2",
				PURL: "pkg:golang/example.com/team/app@v1.4.2", Path: "/app/server", Layer: 2, Main: true,
			},
			{
				ID: idCmp, Type: sbom.TypeGoModule, Name: "github.com/google/go-cmp", Version: "v0.7.0",
				PURL: "pkg:golang/github.com/google/go-cmp@v0.7.0", Path: "/app/server", Layer: 2,
				Hash: cmpHash,
			},
			{
				ID: idFork, Type: sbom.TypeGoModule, Name: "example.com/fork/yaml", Version: "v1.2.0-fix",
				PURL: "pkg:golang/example.com/fork/yaml@v1.2.0-fix", Path: "/app/server", Layer: 2,
				Hash:     forkHash,
				Replaced: &sbom.Module{Path: "gopkg.in/yaml.v3", Version: "v3.0.1", Hash: yamlHash},
			},
			{
				ID: idStdlib, Type: sbom.TypeStdlib, Name: "stdlib", Version: "1.26.8",
				PURL: "pkg:golang/stdlib@1.26.8", Path: "/app/server", Layer: 2,
			},
			{
				ID: idLibssl, Type: sbom.TypeDeb, Name: "libssl3", Version: "3.0.15-1~deb12u1+b1",
				PURL: "pkg:deb/debian/libssl3@3.0.15-1~deb12u1%2Bb1?arch=amd64&distro=debian-12",
				Path: "/var/lib/dpkg/status", Layer: 1, Arch: "amd64",
				SourceName: "openssl", SourceVersion: "3.0.15-1~deb12u1",
				Files: []string{
					"/usr/lib/x86_64-linux-gnu/libssl.so.3",
					"/usr/share/doc",
					"/usr/share/doc/libssl3/copyright",
				},
			},
			{
				ID: idTzdata, Type: sbom.TypeDeb, Name: "tzdata", Version: "2024b-0+deb12u1",
				PURL: "pkg:deb/debian/tzdata@2024b-0%2Bdeb12u1?arch=all&distro=debian-12",
				Path: "/var/lib/dpkg/status", Layer: 1, Arch: "all",
				Files: []string{"/usr/share/doc", "/usr/share/zoneinfo/UTC"},
			},
			{
				ID: idCrypto, Type: sbom.TypeApk, Name: "libcrypto3", Version: "3.3.2-r0",
				PURL: "pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=x86_64&distro=alpine-3.20.3",
				Path: "/lib/apk/db/installed", Layer: 1, Arch: "x86_64",
				Licenses: []string{"Apache-2.0"}, SourceName: "openssl",
				Files: []string{"/usr/lib/libcrypto.so.3"},
			},
			{
				ID: idCerts, Type: sbom.TypeApk, Name: "ca-certificates-bundle", Version: "20240705-r0",
				PURL: "pkg:apk/alpine/ca-certificates-bundle@20240705-r0?arch=x86_64&distro=alpine-3.20.3",
				Path: "/lib/apk/db/installed", Layer: 1, Arch: "x86_64",
				Licenses: []string{"MPL-2.0 AND MIT"}, SourceName: "ca-certificates",
			},
			{
				ID: idAlpineTZ, Type: sbom.TypeApk, Name: "tzdata", Version: "2024b-r0",
				PURL: "pkg:apk/alpine/tzdata@2024b-r0?arch=x86_64&distro=alpine-3.20.3",
				Path: "/lib/apk/db/installed", Layer: 1, Arch: "x86_64",
				Licenses: []string{"Public-Domain"},
			},
		},
		Relationships: []sbom.Relationship{
			{From: idSubject, Type: sbom.RelContains, To: idOS},
			{From: idSubject, Type: sbom.RelContains, To: idBinary},
			{From: idSubject, Type: sbom.RelContains, To: idLibssl},
			{From: idSubject, Type: sbom.RelContains, To: idTzdata},
			{From: idSubject, Type: sbom.RelContains, To: idCrypto},
			{From: idSubject, Type: sbom.RelContains, To: idCerts},
			{From: idSubject, Type: sbom.RelContains, To: idAlpineTZ},
			{From: idBinary, Type: sbom.RelDependsOn, To: idMain},
			{From: idBinary, Type: sbom.RelDependsOn, To: idCmp},
			{From: idBinary, Type: sbom.RelDependsOn, To: idFork},
			{From: idBinary, Type: sbom.RelDependsOn, To: idStdlib},
			// module -> module, as a source module's graph has it
			{From: idMain, Type: sbom.RelDependsOn, To: idCmp},
			// package -> file, written out for one file (the rest are
			// derived from Component.Files)
			{From: idLibssl, Type: sbom.RelContains, To: sbom.FileID(idLibssl, "/usr/lib/x86_64-linux-gnu/libssl.so.3")},
		},
		Warnings: []sbom.Warning{
			{Path: "/var/lib/dpkg/status", Layer: 1, Message: "stanza 7: no Package field; skipped"},
		},
	}
	s.Sort()
	return s
}

// encoders are the five formats with their golden file names.
var encoders = []struct {
	name   string
	golden string
	fn     encode.Func
}{
	{"cyclonedx-json", "sbom.cdx.json", encode.CycloneDXJSON},
	{"cyclonedx-xml", "sbom.cdx.xml", encode.CycloneDXXML},
	{"spdx-json", "sbom.spdx.json", encode.SPDXJSON},
	{"json", "sbom.json", encode.JSON},
	{"table", "sbom.txt", encode.Table},
}

func mustEncode(t *testing.T, fn encode.Func, s *sbom.SBOM) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := fn(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for _, e := range encoders {
		t.Run(e.name, func(t *testing.T) {
			got := mustEncode(t, e.fn, fixture())
			path := filepath.Join("testdata", "golden", e.golden)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs from %s (-want +got; -update rewrites it):\n%s", e.name, path, diff)
			}
		})
	}
}

// TestReproducible encodes the fixture twice, and once more with its
// components and relationships in reverse order: the standard formats must
// give the same bytes each time, and no encoder may modify its input.
func TestReproducible(t *testing.T) {
	for _, e := range encoders {
		t.Run(e.name, func(t *testing.T) {
			s := fixture()
			before := fixture()
			first := mustEncode(t, e.fn, s)
			second := mustEncode(t, e.fn, s)
			if !bytes.Equal(first, second) {
				t.Errorf("two encodings differ:\n%s", cmp.Diff(string(first), string(second)))
			}
			if diff := cmp.Diff(before, s); diff != "" {
				t.Errorf("encoder modified its input (-before +after):\n%s", diff)
			}
			if e.name == "json" {
				return // redline's JSON is the model as given, order included
			}
			shuffled := fixture()
			reverse(shuffled.Components)
			reverse(shuffled.Relationships)
			if third := mustEncode(t, e.fn, shuffled); !bytes.Equal(first, third) {
				t.Errorf("input order changed the output:\n%s", cmp.Diff(string(first), string(third)))
			}
		})
	}
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// TestJSONRoundTrip reads redline's JSON back into the model.
func TestJSONRoundTrip(t *testing.T) {
	s := fixture()
	out := mustEncode(t, encode.JSON, s)
	var got sbom.SBOM
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, &got); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
	if bytes.Contains(out, []byte(`\u003c`)) || !bytes.Contains(out, []byte(`"-ldflags"`)) {
		t.Errorf("JSON escapes HTML or lost a setting")
	}
}

func TestLookup(t *testing.T) {
	for _, e := range encoders {
		if _, err := encode.Lookup(e.name); err != nil {
			t.Errorf("Lookup(%q): %v", e.name, err)
		}
	}
	if _, err := encode.Lookup("sarif"); err == nil {
		t.Errorf("Lookup(sarif) found an encoder")
	}
	if got := len(encode.Names()); got != len(encoders) {
		t.Errorf("Names() has %d formats, want %d", got, len(encoders))
	}
}
