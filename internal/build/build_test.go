package build

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/redline-go/redline/internal/image"
)

var helloPkg = goPackage{Dir: "/src/hello", ImportPath: "github.com/acme/hello/cmd/hello", Name: "main",
	Module: &struct{ Path, Dir, Version, GoVersion string }{Path: "github.com/acme/hello", Dir: "/src/hello"}}

// newTestBuilder makes a builder around the fake go command, writing under
// a temporary directory.
func newTestBuilder(t *testing.T, fg *fakeGo, o Options) *Builder {
	t.Helper()
	if fg != nil {
		o.Go = fg.run
	}
	o.TempDir = t.TempDir()
	if o.CacheDir == "" {
		o.CacheDir = "-"
	}
	if o.Environ == nil {
		o.Environ = []string{"PATH=/usr/bin", "HOME=/root", "GOFLAGS=-buildvcs=false", "CGO_ENABLED=1"}
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// readOCIDir opens the one image of a layout with go-containerregistry and
// with redline's own reader, which verifies every digest on the way.
func readOCIDir(t *testing.T, dir string) (v1.Image, *image.Result) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img, walk(t, image.Target{Scheme: image.OCIDir, Value: dir})
}

// capVisitor records the capability PAX records of every entry.
type capVisitor map[string]string

func (v capVisitor) Visit(e *image.Entry) bool {
	if r, ok := e.Header.PAXRecords[paxCapability]; ok {
		v[e.Path] = r
	}
	return false
}
func (v capVisitor) Content(*image.Entry, io.Reader) error { return nil }

func walk(t *testing.T, target image.Target, vs ...image.Visitor) *image.Result {
	t.Helper()
	img, err := image.Open(context.Background(), target, image.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	res, err := image.Walk(context.Background(), img, image.PassOptions{}, vs...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestBuildImage(t *testing.T) {
	fg := &fakeGo{Pkg: helloPkg, Binary: func(env map[string]string, hardened bool) fakeELF {
		e := fakeELF{Machine: elfMachine[env["GOARCH"]], GoVersion: "go1.26.8", ModPath: "github.com/acme/hello", ModVersion: "v1.4.2",
			Settings: map[string]string{"vcs.revision": "0123abcd", "vcs.time": "2026-05-06T07:08:09Z"}}
		if !hardened {
			e.Pad = 3 << 20 // symbols and DWARF
		}
		return e
	}}
	out := filepath.Join(t.TempDir(), "out", "hello")
	b := newTestBuilder(t, fg, Options{
		Dir: "/src/hello", Package: "./cmd/hello",
		Caps:        []Capability{CapNetBindService},
		Volumes:     []string{"/data", "/var/cache/hello"},
		Ports:       []string{"8080", "53/udp"},
		WorkDir:     "/data",
		Labels:      map[string]string{"team": "edge"},
		Annotations: map[string]string{"org.opencontainers.image.description": "hello"},
		To:          []Destination{{Kind: OCIDir, Value: out}},
	})
	res, err := b.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// The hardened go build, and the default-flags one beside it.
	hard := fg.builds(true)
	if len(hard) != 1 {
		t.Fatalf("%d hardened builds", len(hard))
	}
	wantArgs := []string{"build", "-o", hard[0].Args[2], "-trimpath", "-buildvcs=auto", "-tags=netgo,osusergo", "-ldflags=-s -w -buildid=", "./cmd/hello"}
	if diff := cmp.Diff(wantArgs, hard[0].Args); diff != "" {
		t.Errorf("hardened go build (-want +got):\n%s", diff)
	}
	if env := hard[0].Env; env["CGO_ENABLED"] != "0" || env["GOOS"] != "linux" || env["GOARCH"] == "" || env["GOFLAGS"] != "-buildvcs=false" || hard[0].Dir != "/src/hello" {
		t.Errorf("hardened build env %v dir %s", env, hard[0].Dir)
	}
	def := fg.builds(false)
	if len(def) != 1 || len(def[0].Args) != 4 || def[0].Env["CGO_ENABLED"] != "1" {
		t.Errorf("default-flags build: %+v (want plain go build -o OUT PKG, the environment's CGO_ENABLED)", def)
	}

	img, walked := readOCIDir(t, out)
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	c := cfg.Config
	if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/hello"}) || c.Cmd != nil || c.WorkingDir != "/data" {
		t.Errorf("config user %q entrypoint %q cmd %q workdir %q", c.User, c.Entrypoint, c.Cmd, c.WorkingDir)
	}
	if diff := cmp.Diff(map[string]struct{}{"8080/tcp": {}, "53/udp": {}}, c.ExposedPorts); diff != "" {
		t.Errorf("exposed ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]struct{}{"/data": {}, "/var/cache/hello": {}}, c.Volumes); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
	if !slices.Contains(c.Env, "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt") || !strings.HasPrefix(c.Env[0], "PATH=") {
		t.Errorf("env %q", c.Env)
	}
	if !cfg.Created.Time.Equal(created) || cfg.OS != "linux" || cfg.Architecture == "" {
		t.Errorf("created %v os %s arch %s", cfg.Created, cfg.OS, cfg.Architecture)
	}
	wantLabels := map[string]string{
		"team":             "edge",
		LabelUser:          "65532:65532",
		LabelCaps:          "CAP_NET_BIND_SERVICE",
		LabelGo:            "go1.26.8",
		LabelFlags:         `CGO_ENABLED=0 -trimpath -buildvcs=auto -tags=netgo,osusergo -ldflags="-s -w -buildid="`,
		LabelVersion:       "v1.4.2",
		LabelBinary:        "/usr/local/bin/hello",
		LabelStatic:        "true",
		LabelBase:          "static",
		LabelVolumes:       "/data,/var/cache/hello",
		AnnotationCreated:  "2026-05-06T07:08:09Z",
		AnnotationSource:   "https://github.com/acme/hello",
		AnnotationRevision: "0123abcd",
		AnnotationVersion:  "v1.4.2",
		AnnotationTitle:    "hello",
	}
	if diff := cmp.Diff(wantLabels, c.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	// The manifest holds the same keys, with --annotation for --label.
	wantAnn := maps.Clone(wantLabels)
	delete(wantAnn, "team")
	wantAnn["org.opencontainers.image.description"] = "hello"
	if diff := cmp.Diff(wantAnn, m.Annotations); diff != "" || m.MediaType != types.OCIManifestSchema1 {
		t.Errorf("manifest %s annotations (-want +got):\n%s", m.MediaType, diff)
	}
	if len(m.Layers) != 2 || len(cfg.History) != 2 || len(cfg.RootFS.DiffIDs) != 2 {
		t.Fatalf("%d layers, %d history entries, %d diff IDs; want 2 each", len(m.Layers), len(cfg.History), len(cfg.RootFS.DiffIDs))
	}
	for _, h := range cfg.History {
		if !h.Created.Time.Equal(created) || h.CreatedBy == "" || h.EmptyLayer {
			t.Errorf("history %+v", h)
		}
	}
	if !strings.Contains(cfg.History[1].CreatedBy, "setcap cap_net_bind_service=ep /usr/local/bin/hello") {
		t.Errorf("history of the binary layer: %q", cfg.History[1].CreatedBy)
	}

	// The final filesystem.
	caps := capVisitor{}
	walked = walk(t, image.Target{Scheme: image.OCIDir, Value: out}, caps)
	tree := walked.Tree
	for p, want := range map[string]struct {
		kind     image.Kind
		mode     fs.FileMode
		uid, gid int
	}{
		"/usr/local/bin/hello":               {image.KindFile, 0o755, 0, 0},
		"/etc/passwd":                        {image.KindFile, 0o644, 0, 0},
		"/etc/group":                         {image.KindFile, 0o644, 0, 0},
		"/etc/ssl/certs/ca-certificates.crt": {image.KindFile, 0o644, 0, 0},
		"/tmp":                               {image.KindDir, fs.ModeSticky | 0o777, 0, 0},
		"/data":                              {image.KindDir, 0o755, 65532, 65532},
		"/var/cache/hello":                   {image.KindDir, 0o755, 65532, 65532},
		"/var/cache":                         {image.KindDir, 0o755, 0, 0},
		"/home/nonroot":                      {image.KindDir, 0o700, 65532, 65532},
	} {
		fi, ok := tree.Lookup(p)
		if !ok {
			t.Errorf("%s missing", p)
			continue
		}
		if fi.Kind != want.kind || fi.Mode.Perm()|fi.Mode&fs.ModeSticky != want.mode || fi.UID != want.uid || fi.GID != want.gid {
			t.Errorf("%s: %v mode %v owner %d:%d; want %v %v %d:%d", p, fi.Kind, fi.Mode, fi.UID, fi.GID, want.kind, want.mode, want.uid, want.gid)
		}
	}
	for _, p := range []string{"/bin/sh", "/usr/bin/apt", "/sbin/apk"} {
		if _, ok := tree.Lookup(p); ok {
			t.Errorf("%s exists", p)
		}
	}
	if diff := cmp.Diff(capVisitor{"/usr/local/bin/hello": string(FileCapability([]Capability{CapNetBindService}))}, caps); diff != "" {
		t.Errorf("capability records (-want +got):\n%s", diff)
	}

	// The report.
	if res.Version != "v1.4.2" || res.VersionSource != "vcs" || !res.Created.Equal(created) || res.CreatedSource != "vcs commit time" {
		t.Errorf("version %s (%s), created %v (%s)", res.Version, res.VersionSource, res.Created, res.CreatedSource)
	}
	d, _ := img.Digest()
	if res.Digest != d.String() || len(res.Platforms) != 1 || res.Platforms[0].Digest != d.String() {
		t.Errorf("report digest %s, image %s", res.Digest, d)
	}
	bin := res.Platforms[0].Binary
	if bin.Bytes <= 0 || bin.DefaultFlagsBytes != bin.Bytes+3<<20 || !bin.Static || bin.PIE || bin.Revision != "0123abcd" {
		t.Errorf("binary %+v", bin)
	}
	var sum int64
	for i, l := range res.Platforms[0].Layers {
		sum += l.CompressedBytes
		if l.CompressedBytes != walked.Layers[i].CompressedBytes || l.Digest != walked.Layers[i].Digest.String() {
			t.Errorf("layer %d: report %+v, read %+v", i, l, walked.Layers[i])
		}
		if l.UncompressedBytes != walked.Layers[i].UncompressedBytes || l.Files == 0 || l.Source == "" {
			t.Errorf("layer %d: report %+v", i, l)
		}
	}
	if sum != res.Platforms[0].CompressedBytes {
		t.Errorf("compressed bytes %d, layers add to %d", res.Platforms[0].CompressedBytes, sum)
	}
	if !slices.Equal(res.Capabilities, []string{"CAP_NET_BIND_SERVICE"}) || len(res.Conditions) == 0 || res.User != "65532:65532" {
		t.Errorf("capabilities %v, %d conditions, user %s", res.Capabilities, len(res.Conditions), res.User)
	}
	if !slices.Equal(res.Destinations, []string{"oci-dir:" + out}) || len(res.Warnings) != 0 {
		t.Errorf("destinations %v warnings %v", res.Destinations, res.Warnings)
	}
	var table bytes.Buffer
	if err := WriteTable(&table, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"65532:65532", "v1.4.2 (from vcs)", "with go build's default flags", "CAP_NET_BIND_SERVICE", "EXEC-FAILS", "IGNORED", "/usr/local/bin/hello"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

func TestBuildFlags(t *testing.T) {
	ld := "-s -w -X main.version=1"
	for _, tc := range []struct {
		name     string
		o        Options
		args     []string // in the hardened build, in order
		env      map[string]string
		flags    string
		noCGOEnv bool
	}{
		{name: "ldflags", o: Options{LDFlags: &ld}, args: []string{"-ldflags=-s -w -X main.version=1"}, env: map[string]string{"CGO_ENABLED": "0"}},
		{name: "tags and tzdata", o: Options{Tags: []string{"prod"}, TZData: true}, args: []string{"-tags=prod,timetzdata"}},
		{name: "no tags", o: Options{Tags: []string{}}, flags: `CGO_ENABLED=0 -trimpath -buildvcs=auto -ldflags="-s -w -buildid="`},
		{name: "cgo", o: Options{CGO: true}, args: []string{"-ldflags=-s -w -buildid= -linkmode=external -extldflags=-static"}, env: map[string]string{"CGO_ENABLED": "1"}},
		{name: "cgo dynamic", o: Options{CGO: true, AllowDynamic: true}, args: []string{"-ldflags=-s -w -buildid="}, env: map[string]string{"CGO_ENABLED": "1"}},
		{name: "pie", o: Options{PIE: true}, args: []string{"-buildmode=pie", "-ldflags=-s -w -buildid= -linkmode=external -extldflags=-static-pie"}, env: map[string]string{"CGO_ENABLED": "1"}},
		{name: "toolchain and env", o: Options{Toolchain: "go1.27.3", Env: []string{"GOFLAGS=-mod=vendor", "GOEXPERIMENT=boringcrypto"}}, env: map[string]string{"GOTOOLCHAIN": "go1.27.3", "GOFLAGS": "-mod=vendor", "GOEXPERIMENT": "boringcrypto"}},
		{name: "arm v7", o: Options{Platforms: []v1.Platform{{OS: "linux", Architecture: "arm", Variant: "v7"}}}, env: map[string]string{"GOARCH": "arm", "GOARM": "7"}},
		{name: "amd64 v3", o: Options{Platforms: []v1.Platform{{OS: "linux", Architecture: "amd64", Variant: "v3"}}}, env: map[string]string{"GOARCH": "amd64", "GOAMD64": "v3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fg := &fakeGo{Pkg: helloPkg, Binary: func(env map[string]string, hardened bool) fakeELF {
				e := fakeELF{Machine: elfMachine[env["GOARCH"]], GoVersion: "go1.26.8", ModPath: "github.com/acme/hello", ModVersion: "(devel)"}
				if tc.o.PIE {
					e.Type = elf.ET_DYN
				}
				return e
			}}
			o := tc.o
			o.To = []Destination{{Kind: OCIDir, Value: filepath.Join(t.TempDir(), "o")}}
			if o.Toolchain != "" || len(o.Platforms) > 0 {
				o.SkipDefaultSize = true
			}
			res, err := newTestBuilder(t, fg, o).Build(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			hard := fg.builds(true)[0]
			i := 0
			for _, a := range hard.Args {
				if i < len(tc.args) && a == tc.args[i] {
					i++
				}
			}
			if i != len(tc.args) {
				t.Errorf("args %q lack %q in order", hard.Args, tc.args)
			}
			for k, v := range tc.env {
				if hard.Env[k] != v {
					t.Errorf("env %s=%q, want %q", k, hard.Env[k], v)
				}
			}
			if tc.flags != "" && res.Flags != tc.flags {
				t.Errorf("flags record %q, want %q", res.Flags, tc.flags)
			}
			if res.Labels[LabelFlags] != res.Flags {
				t.Errorf("label %q, report %q", res.Labels[LabelFlags], res.Flags)
			}
			if tc.o.Toolchain != "" {
				for _, c := range fg.calls {
					if c.Args[0] == "list" && c.Env["GOTOOLCHAIN"] != tc.o.Toolchain {
						t.Errorf("go list does not use the toolchain: %+v", c)
					}
				}
			}
			if len(o.Platforms) > 0 && len(fg.builds(false)) != 0 {
				t.Error("SkipDefaultSize still ran the default build")
			}
		})
	}
}

// failing builds: each must fail with its message and leave no output.
func TestBuildFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		fg   *fakeGo
		o    Options
		msg  string
	}{
		{name: "not main", fg: &fakeGo{Pkg: goPackage{ImportPath: "example.com/lib", Name: "lib"}}, msg: "not a main package"},
		{name: "compile error", fg: &fakeGo{Pkg: helloPkg, BuildErr: &GoError{Args: []string{"build"}, Stderr: "# example.com/hello\n./main.go:3:2: undefined: x", Err: errors.New("exit status 1")}}, msg: "./main.go:3:2: undefined: x"},
		{name: "dynamic", fg: &fakeGo{Pkg: helloPkg, Binary: func(env map[string]string, _ bool) fakeELF {
			return fakeELF{Machine: elfMachine[env["GOARCH"]], Interp: "/lib64/ld-linux-x86-64.so.2", GoVersion: "go1.26.8", ModPath: "m", ModVersion: "(devel)"}
		}}, msg: "dynamically linked (needs /lib64/ld-linux-x86-64.so.2)"},
		{name: "wrong machine", fg: &fakeGo{Pkg: helloPkg, Binary: func(env map[string]string, _ bool) fakeELF {
			return fakeELF{Machine: elf.EM_MIPS, GoVersion: "go1.26.8", ModPath: "m", ModVersion: "(devel)"}
		}}, msg: "EM_MIPS code"},
		{name: "pie not pie", fg: &fakeGo{Pkg: helloPkg}, o: Options{PIE: true}, msg: "not position-independent"},
		{name: "no build info", fg: &fakeGo{Pkg: helloPkg, Binary: func(env map[string]string, _ bool) fakeELF {
			return fakeELF{Machine: elfMachine[env["GOARCH"]]}
		}}, msg: "build info"},
		{name: "missing base", fg: &fakeGo{Pkg: helloPkg}, o: Options{Base: "oci-dir:" + filepath.Join(os.TempDir(), "no-such-redline-base")}, msg: "base oci-dir:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			o := tc.o
			o.To = []Destination{{Kind: OCIDir, Value: filepath.Join(parent, "out", "hello")}, {Kind: DockerArchive, Value: filepath.Join(parent, "hello.tar")}}
			_, err := newTestBuilder(t, tc.fg, o).Build(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.msg)
			}
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Errorf("a failed build left %v", left)
			}
		})
	}
}

func TestBuildAllowDynamic(t *testing.T) {
	fg := &fakeGo{Pkg: helloPkg, Binary: func(env map[string]string, _ bool) fakeELF {
		return fakeELF{Machine: elfMachine[env["GOARCH"]], Interp: "/lib/ld.so", GoVersion: "go1.26.8", ModPath: "m", ModVersion: "(devel)"}
	}}
	res, err := newTestBuilder(t, fg, Options{AllowDynamic: true, CGO: true, To: []Destination{{Kind: OCIDir, Value: filepath.Join(t.TempDir(), "o")}}}).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Platforms[0].Binary.Static || res.Labels[LabelStatic] != "false" {
		t.Errorf("a dynamic binary reported static: %+v %q", res.Platforms[0].Binary, res.Labels[LabelStatic])
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "cgo is on") {
		t.Errorf("no cgo warning: %q", res.Warnings)
	}
}

func TestBuildVersionAndTime(t *testing.T) {
	epoch := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		modVersion  string
		vcsTime     string
		o           Options
		version     string
		from        string
		created     time.Time
		createdFrom string
		warn        string
	}{
		{name: "vcs", modVersion: "v1.2.3", vcsTime: "2026-02-03T04:05:06Z", version: "v1.2.3", from: "vcs", created: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC), createdFrom: "vcs commit time"},
		{name: "SOURCE_DATE_EPOCH wins", modVersion: "v1.2.3", vcsTime: "2026-02-03T04:05:06Z", o: Options{SourceDateEpoch: &epoch}, version: "v1.2.3", from: "vcs", created: epoch, createdFrom: "SOURCE_DATE_EPOCH"},
		{name: "no vcs", modVersion: "(devel)", version: "(devel)", from: "none", created: time.Unix(0, 0).UTC(), createdFrom: "Unix epoch (no SOURCE_DATE_EPOCH, no VCS)", warn: "no version"},
		{name: "--version", modVersion: "(devel)", o: Options{Version: "v2.0.0"}, version: "v2.0.0", from: "flag", created: time.Unix(0, 0).UTC(), createdFrom: "Unix epoch (no SOURCE_DATE_EPOCH, no VCS)", warn: "scanners reading the binary alone"},
		{name: "--version differs", modVersion: "v1.0.0", o: Options{Version: "v2.0.0"}, version: "v2.0.0", from: "flag", created: time.Unix(0, 0).UTC(), createdFrom: "Unix epoch (no SOURCE_DATE_EPOCH, no VCS)", warn: "differs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fg := &fakeGo{Pkg: helloPkg, Binary: func(env map[string]string, _ bool) fakeELF {
				e := fakeELF{Machine: elfMachine[env["GOARCH"]], GoVersion: "go1.26.8", ModPath: "m", ModVersion: tc.modVersion}
				if tc.vcsTime != "" {
					e.Settings = map[string]string{"vcs.time": tc.vcsTime, "vcs.revision": "abc"}
				}
				return e
			}}
			o := tc.o
			o.To = []Destination{{Kind: OCIDir, Value: filepath.Join(t.TempDir(), "o")}}
			res, err := newTestBuilder(t, fg, o).Build(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Version != tc.version || res.VersionSource != tc.from || res.Labels[LabelVersion] != tc.version {
				t.Errorf("version %q from %q, label %q; want %q from %q", res.Version, res.VersionSource, res.Labels[LabelVersion], tc.version, tc.from)
			}
			if _, has := res.Labels[AnnotationVersion]; has == (tc.version == "(devel)") {
				t.Errorf("org.opencontainers.image.version = %q for version %q", res.Labels[AnnotationVersion], tc.version)
			}
			if !res.Created.Equal(tc.created) || res.CreatedSource != tc.createdFrom || res.Labels[AnnotationCreated] != tc.created.Format(time.RFC3339) {
				t.Errorf("created %v (%s), label %s; want %v (%s)", res.Created, res.CreatedSource, res.Labels[AnnotationCreated], tc.created, tc.createdFrom)
			}
			warnings := strings.Join(res.Warnings, "\n")
			if tc.warn == "" && warnings != "" || tc.warn != "" && !strings.Contains(warnings, tc.warn) {
				t.Errorf("warnings %q, want %q", warnings, tc.warn)
			}
		})
	}
}

func TestBuildMultiPlatform(t *testing.T) {
	fg := &fakeGo{Pkg: helloPkg, Binary: func(env map[string]string, _ bool) fakeELF {
		pad := 10
		if env["GOARCH"] == "arm64" {
			pad = 20
		}
		return fakeELF{Machine: elfMachine[env["GOARCH"]], GoVersion: "go1.26.8", ModPath: "m", ModVersion: "(devel)", Pad: pad}
	}}
	dir := t.TempDir()
	archive := filepath.Join(dir, "hello.oci.tar")
	res, err := newTestBuilder(t, fg, Options{
		Platforms: []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}},
		To:        []Destination{{Kind: OCIArchive, Value: archive}, {Kind: OCIDir, Value: filepath.Join(dir, "layout")}},
	}).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.MediaType != string(types.OCIImageIndex) || len(res.Platforms) != 2 {
		t.Fatalf("media type %s, %d platforms", res.MediaType, len(res.Platforms))
	}
	idx, err := layout.ImageIndexFromPath(filepath.Join(dir, "layout"))
	if err != nil {
		t.Fatal(err)
	}
	top, _ := idx.IndexManifest()
	if len(top.Manifests) != 1 || top.Manifests[0].Digest.String() != res.Digest || top.Manifests[0].Annotations[AnnotationRefName] != "hello:latest" {
		t.Fatalf("index.json %+v, want the image index %s named hello:latest", top.Manifests, res.Digest)
	}
	sub, err := idx.ImageIndex(top.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := sub.IndexManifest()
	if len(im.Manifests) != 2 || im.Annotations[AnnotationCreated] == "" {
		t.Fatalf("image index %+v", im)
	}
	var baseLayer v1.Hash
	for i, d := range im.Manifests {
		want := []string{"linux/amd64", "linux/arm64"}[i]
		if d.Platform == nil || d.Platform.String() != want || d.Digest.String() != res.Platforms[i].Digest {
			t.Errorf("manifest %d: platform %v digest %s, want %s %s", i, d.Platform, d.Digest, want, res.Platforms[i].Digest)
		}
		img, err := sub.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := img.ConfigFile()
		if cfg.Architecture != d.Platform.Architecture {
			t.Errorf("config of %s says %s", want, cfg.Architecture)
		}
		ls, _ := img.Layers()
		l0, _ := ls[0].Digest()
		if i == 0 {
			baseLayer = l0
		} else if l0 != baseLayer {
			t.Error("the static base layer differs between platforms")
		}
	}
	// The archive holds the same layout, readable by redline for each
	// platform.
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := image.Open(context.Background(), image.Target{Scheme: image.OCIArchive, Value: archive}, image.Options{Platform: &v1.Platform{OS: "linux", Architecture: arch}})
		if err != nil {
			t.Fatal(err)
		}
		if img.Config.Architecture != arch {
			t.Errorf("archive, %s: config says %s", arch, img.Config.Architecture)
		}
		img.Close()
	}
}

func TestDestinations(t *testing.T) {
	fg := &fakeGo{Pkg: helloPkg}
	dir := t.TempDir()
	layoutDir := filepath.Join(dir, "out", "hello")
	// An earlier build's layout is replaced as a whole.
	if err := os.MkdirAll(filepath.Join(layoutDir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"oci-layout", "index.json", "blobs/sha256/stale"} {
		if err := os.WriteFile(filepath.Join(layoutDir, f), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	docker := filepath.Join(dir, "hello.tar")
	if err := os.WriteFile(docker, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := newTestBuilder(t, fg, Options{Tag: "acme/hello:dev", To: []Destination{{Kind: OCIDir, Value: layoutDir}, {Kind: DockerArchive, Value: docker}, {Kind: OCIArchive, Value: filepath.Join(dir, "hello.oci.tar")}}}).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(layoutDir, "blobs/sha256/stale")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("the old layout's files survived the replacement")
	}
	digests := map[string]string{}
	for _, tg := range []image.Target{{Scheme: image.OCIDir, Value: layoutDir}, {Scheme: image.DockerArchive, Value: docker}, {Scheme: image.OCIArchive, Value: filepath.Join(dir, "hello.oci.tar")}} {
		img, err := image.Open(context.Background(), tg, image.Options{})
		if err != nil {
			t.Fatal(err)
		}
		walked, err := image.Walk(context.Background(), img, image.PassOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ds []string
		for _, l := range walked.Layers {
			ds = append(ds, l.Digest.String())
		}
		digests[string(tg.Scheme)] = strings.Join(ds, " ")
		if tg.Scheme == image.DockerArchive && img.Name != "index.docker.io/acme/hello:dev" && img.Name != "acme/hello:dev" {
			t.Errorf("docker archive names the image %q", img.Name)
		}
		if tg.Scheme != image.DockerArchive && img.Digest.String() != res.Digest {
			t.Errorf("%s: digest %s, report %s", tg, img.Digest, res.Digest)
		}
		img.Close()
	}
	if digests["oci-dir"] != digests["docker-archive"] || digests["oci-dir"] != digests["oci-archive"] {
		t.Errorf("the destinations hold different layers: %v", digests)
	}
	// No temporary files are left next to the destinations.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestDestinationRefusals(t *testing.T) {
	dir := t.TempDir()
	// A directory that is not a layout is never replaced.
	mine := filepath.Join(dir, "src")
	if err := os.MkdirAll(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "main.go"), []byte("package main"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dest Destination
		msg  string
	}{
		{Destination{Kind: OCIDir, Value: mine}, "not an OCI layout"},
		{Destination{Kind: OCIDir, Value: file}, "not a directory"},
		{Destination{Kind: DockerArchive, Value: mine}, "is a directory"},
		{Destination{Kind: OCIArchive, Value: filepath.Join(file, "x.tar")}, "cannot be written"},
		{Destination{Kind: Registry, Value: "127.0.0.1:1/hello:1"}, "pushing"},
	} {
		okDest := filepath.Join(dir, "ok", "layout")
		_, err := newTestBuilder(t, &fakeGo{Pkg: helloPkg}, Options{To: []Destination{{Kind: OCIDir, Value: okDest}, tc.dest}}).Build(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: err = %v, want %q", tc.dest, err, tc.msg)
		}
		if _, err := os.Stat(filepath.Join(dir, "ok")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s failed, yet the other destination was written", tc.dest)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(mine, "main.go")); string(b) != "package main" {
		t.Error("the user's directory was touched")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("left behind: %v", ents)
	}
}

// The default destination is ./out/NAME, relative to the working
// directory.
func TestDefaultDestination(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	res, err := newTestBuilder(t, &fakeGo{Pkg: helloPkg}, Options{}).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Destinations, []string{"oci-dir:out/hello"}) || res.Tag != "hello:latest" {
		t.Errorf("destinations %v tag %s", res.Destinations, res.Tag)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "hello", "oci-layout")); err != nil {
		t.Error(err)
	}
}
