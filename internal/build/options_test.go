package build

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestOptionsDefaults(t *testing.T) {
	o := Options{}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	if o.Dir != "." || o.Package != "." || o.Base != BaseStatic || o.CACerts != CABundled ||
		o.User != "65532:65532" || o.WorkDir != "/" || o.Level != DefaultLevel || o.Workers < 1 || o.Go == nil ||
		o.Keychain == nil || o.Logger == nil {
		t.Errorf("defaults: %+v", o)
	}
	if len(o.Platforms) != 1 || o.Platforms[0].String() != "linux/"+runtime.GOARCH {
		t.Errorf("default platform %v", o.Platforms)
	}
	arm := Options{Platforms: []v1.Platform{{OS: "linux", Architecture: "arm"}}}
	if err := arm.validate(); err != nil || arm.Platforms[0].Variant != "v7" {
		t.Errorf("linux/arm: %v %v", arm.Platforms, err)
	}
	caps := Options{Caps: []Capability{13, 10, 13}}
	if err := caps.validate(); err != nil || len(caps.Caps) != 2 || caps.Caps[0] != 10 {
		t.Errorf("caps not sorted and deduplicated: %v", caps.Caps)
	}
	vol := Options{Volumes: []string{"/data/"}}
	if err := vol.validate(); err != nil || vol.Volumes[0] != "/data" {
		t.Errorf("volume not cleaned: %v %v", vol.Volumes, err)
	}
}

func TestOptionsInvalid(t *testing.T) {
	lp := func(s string) []v1.Platform {
		p, err := v1.ParsePlatform(s)
		if err != nil {
			t.Fatal(err)
		}
		return []v1.Platform{*p}
	}
	two := append(lp("linux/amd64"), lp("linux/arm64")...)
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	for _, tc := range []struct {
		name string
		o    Options
		msg  string
	}{
		{"windows", Options{Platforms: lp("windows/amd64")}, "Linux images"},
		{"unknown arch", Options{Platforms: lp("linux/sparc")}, "architecture"},
		{"unknown variant", Options{Platforms: lp("linux/arm64/v9")}, "variant"},
		{"platform twice", Options{Platforms: append(lp("linux/amd64"), lp("linux/amd64")...)}, "twice"},
		{"toolchain", Options{Toolchain: "1.27"}, "goX.Y.Z"},
		{"env GOOS", Options{Env: []string{"GOOS=darwin"}}, "--platform"},
		{"env CGO", Options{Env: []string{"CGO_ENABLED=1"}}, "--cgo"},
		{"env GOTOOLCHAIN", Options{Env: []string{"GOTOOLCHAIN=go1.27.3"}}, "--toolchain"},
		{"env syntax", Options{Env: []string{"GOFLAGS"}}, "KEY=VALUE"},
		{"pie cross", Options{PIE: true, Platforms: lp("linux/" + other)}, "cross-compiler"},
		{"ca host on scratch", Options{Base: BaseScratch, CACerts: CAHost}, "static base only"},
		{"ca source", Options{CACerts: "mozilla"}, "bundled, host or none"},
		{"user name", Options{User: "nonroot"}, "numeric"},
		{"user gid", Options{User: "65532:staff"}, "numeric"},
		{"user negative", Options{User: "-1"}, "numeric"},
		{"volume relative", Options{Volumes: []string{"data"}}, "absolute"},
		{"volume root", Options{Volumes: []string{"/"}}, "absolute"},
		{"volume over the binary", Options{Volumes: []string{"/usr/local/bin"}}, "binary"},
		{"port range", Options{Ports: []string{"70000"}}, "1-65535"},
		{"port proto", Options{Ports: []string{"80/icmp"}}, "protocol"},
		{"workdir", Options{WorkDir: "app"}, "absolute"},
		{"reserved label", Options{Labels: map[string]string{"dev.redline.caps": ""}}, "redline sets it"},
		{"reserved annotation", Options{Annotations: map[string]string{AnnotationCreated: "x"}}, "redline sets it"},
		{"tag", Options{Tag: "Bad Tag"}, "tag"},
		{"name", Options{Name: "a/b"}, "name"},
		{"docker archive index", Options{Platforms: two, To: []Destination{{Kind: DockerArchive, Value: "x.tar"}}}, "one platform"},
		{"destination twice", Options{To: []Destination{{Kind: OCIDir, Value: "o"}, {Kind: OCIDir, Value: "o"}}}, "twice"},
		{"level", Options{Level: 12}, "gzip level"},
	} {
		o := tc.o
		err := o.validate()
		if err == nil || !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions mentioning %q", tc.name, err, tc.msg)
		}
	}
}

func TestParseDestination(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Destination
		err  string
	}{
		{in: "oci-dir:out/app", want: Destination{OCIDir, "out/app"}},
		{in: "oci-archive:app.tar", want: Destination{OCIArchive, "app.tar"}},
		{in: "docker-archive:/tmp/a.tar", want: Destination{DockerArchive, "/tmp/a.tar"}},
		{in: "registry:localhost:5000/app:1", want: Destination{Registry, "localhost:5000/app:1"}},
		{in: "registry:localhost:5000/app@sha256:" + strings.Repeat("a", 64), err: "digest"},
		{in: "registry:UPPER/x", err: "registry:"},
		{in: "oci-dir:", err: "nothing after"},
		{in: "out/app", err: "say where"},
		{in: "docker:app", err: "say where"},
	} {
		got, err := ParseDestination(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseDestination(%q) = %v, %v; want error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want || got.String() != tc.in {
			t.Errorf("ParseDestination(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestParseBase(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "gcr.io/distroless/static:nonroot", want: "registry:gcr.io/distroless/static:nonroot"},
		{in: "registry:localhost:5000/base:1", want: "registry:localhost:5000/base:1"},
		{in: "oci-dir:/some/dir", want: "oci-dir:/some/dir"},
		{in: "oci-archive:b.tar", want: "oci-archive:b.tar"},
		{in: "podman:base", err: "podman save"},
		{in: "dir:/", err: "not from dir:"},
		{in: dir, err: "not an image"},
		{in: "Not A Ref!", err: "image reference"},
	} {
		got, err := parseBase(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseBase(%q) = %v, %v; want error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("parseBase(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestBinaryName(t *testing.T) {
	for in, want := range map[string]string{
		"example.com/hello":          "hello",
		"example.com/hello/v2":       "hello",
		"example.com/cmd/server/v10": "server",
		"example.com/v2x":            "v2x",
		"example.com/tool/v0":        "v0",
		"hello":                      "hello",
	} {
		if got := binaryName(in); got != want {
			t.Errorf("binaryName(%q) = %q, want %q", in, got, want)
		}
	}
}
