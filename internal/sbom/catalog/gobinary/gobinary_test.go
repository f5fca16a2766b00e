package gobinary_test

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog/gobinary"
)

// builds are Go binaries compiled once from testdata/hello (a module with a
// dependency from the module cache and a local replacement), no network.
var builds = map[string]string{}

var buildSpecs = map[string][]string{
	"default":  {"CGO_ENABLED=0"},
	"hardened": {"CGO_ENABLED=0", "-trimpath", "-ldflags=-s -w -buildid="},
	"pie":      {"CGO_ENABLED=0", "-buildmode=pie"},
	"arm64":    {"CGO_ENABLED=0", "GOARCH=arm64"},
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gobinary-test")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		for name, spec := range buildSpecs {
			out := filepath.Join(dir, name)
			if err := goBuild(out, spec); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			builds[name] = out
		}
		return m.Run()
	}()
	os.Exit(code)
}

// goBuild compiles testdata/hello. Env entries (K=V) go to the environment,
// the rest are build flags. GOPROXY=off keeps it offline: go-cmp comes from
// the module cache, which `go mod download` fills for redline itself.
func goBuild(out string, spec []string) error {
	args := []string{"build", "-o", out}
	env := append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod -buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")
	for _, s := range spec {
		if strings.HasPrefix(s, "-") {
			args = append(args, s)
		} else {
			env = append(env, s)
		}
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = filepath.Join("testdata", "hello")
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %v: %v\n%s", args, err, b)
	}
	return nil
}

func read(t *testing.T, path string) *gobinary.Binary {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := gobinary.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAgreesWithDebugBuildinfo holds the streaming reader against the
// standard library's random-access one on every build.
func TestAgreesWithDebugBuildinfo(t *testing.T) {
	for name, path := range builds {
		t.Run(name, func(t *testing.T) {
			want, err := buildinfo.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := read(t, path)
			if got.Info == nil {
				t.Fatalf("no build info: %s", got.BuildError)
			}
			if got.GoVersion != want.GoVersion {
				t.Errorf("go version %q, want %q", got.GoVersion, want.GoVersion)
			}
			if d := cmp.Diff(want.String(), got.Info.String()); d != "" {
				t.Errorf("build info (-debug/buildinfo +redline):\n%s", d)
			}
		})
	}
}

func TestComponents(t *testing.T) {
	goSum, err := os.ReadFile(filepath.Join("testdata", "hello", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	cmpSum := strings.Fields(strings.Split(string(goSum), "\n")[0])[2]
	goVersion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	toolchain := strings.TrimSpace(string(goVersion))

	comps, rels, warn := gobinary.Components("/app", 3, read(t, builds["hardened"]))
	if warn != "" {
		t.Errorf("warning %q", warn)
	}
	byName := map[string]sbom.Component{}
	var bin sbom.Component
	for _, c := range comps {
		if c.Type == sbom.TypeBinary {
			bin = c
			continue
		}
		byName[c.Name] = c
	}
	if bin.Type != sbom.TypeBinary || bin.Layer != 3 || bin.Path != "/app" || bin.Go == nil || bin.Go.GoVersion != toolchain {
		t.Fatalf("binary = %+v", bin)
	}
	if bin.Go.Get("-trimpath") != "true" || bin.Go.Get("CGO_ENABLED") != "0" || bin.Go.Get("GOARCH") == "" {
		t.Errorf("settings = %+v", bin.Go.Settings)
	}
	if !bin.ELF.Static || !bin.ELF.Stripped || bin.ELF.PIE {
		t.Errorf("hardened ELF = %+v, want static, stripped, not PIE", bin.ELF)
	}
	dep := byName["github.com/google/go-cmp"]
	if dep.Version != "v0.7.0" || dep.Hash != cmpSum || dep.PURL != "pkg:golang/github.com/google/go-cmp@v0.7.0" {
		t.Errorf("go-cmp = %+v, want v0.7.0 with %s", dep, cmpSum)
	}
	greet := byName["example.com/greet"]
	if greet.Replaced == nil || greet.Replaced.Path != "example.com/greet" || greet.Version != "v0.0.0" {
		t.Errorf("replaced module = %+v", greet)
	}
	std := byName["stdlib"]
	if want := strings.TrimPrefix(toolchain, "go"); !strings.HasPrefix(std.Version, want) || std.PURL != "pkg:golang/stdlib@"+std.Version {
		t.Errorf("stdlib = %+v, want version %s", std, want)
	}
	if main := byName["example.com/hello"]; !main.Main || main.Version != "(devel)" || bin.Name != "example.com/hello" {
		t.Errorf("main module = %+v, binary named %q", main, bin.Name)
	}
	// Every module hangs off the binary.
	if len(rels) != len(comps)-1 {
		t.Errorf("%d relationships for %d components", len(rels), len(comps))
	}
	for _, r := range rels {
		if r.From != bin.ID || r.Type != sbom.RelDependsOn {
			t.Errorf("relationship %+v", r)
		}
	}
}

func TestLinking(t *testing.T) {
	for name, want := range map[string]sbom.ELFInfo{
		"default": {Class: "ELFCLASS64", Machine: "x86_64", Static: true},
		"pie":     {Class: "ELFCLASS64", Machine: "x86_64", PIE: true},
		"arm64":   {Class: "ELFCLASS64", Machine: "aarch64", Static: true},
	} {
		got := read(t, builds[name]).ELF
		if got == nil || *got != want {
			t.Errorf("%s: ELF = %+v, want %+v", name, got, want)
		}
	}
}

func TestUnknownAndDamaged(t *testing.T) {
	orig, err := os.ReadFile(builds["default"])
	if err != nil {
		t.Fatal(err)
	}
	magic := []byte("\xff Go buildinf:")
	i := bytes.Index(orig, magic)
	if i < 0 {
		t.Fatal("no build info magic in the test binary")
	}

	// Build info wiped: still recognised as Go, listed, with a warning.
	wiped := bytes.Clone(orig)
	copy(wiped[i:], bytes.Repeat([]byte{0}, len(magic)))
	b, err := gobinary.Read(bytes.NewReader(wiped))
	if err != nil || b == nil || b.Info != nil || !b.GoRuntime || !strings.Contains(b.BuildError, "no build info") {
		t.Fatalf("wiped: %+v, %v", b, err)
	}
	comps, _, warn := gobinary.Components("/x", 0, b)
	if len(comps) != 1 || !comps[0].Go.NoBuildInfo || warn == "" {
		t.Errorf("wiped components = %+v, warning %q", comps, warn)
	}

	// Cut inside the build info: a warning, not a crash.
	b, err = gobinary.Read(bytes.NewReader(orig[:i+40]))
	if err != nil || b == nil || b.BuildError == "" {
		t.Errorf("truncated: %+v, %v", b, err)
	}

	// A lying varint length: a warning.
	lying := bytes.Clone(orig)
	lying[i+32] = 0xff
	lying[i+33] = 0xff
	lying[i+34] = 0x7f
	if b, err := gobinary.Read(bytes.NewReader(lying)); err != nil || b == nil || b.BuildError == "" {
		t.Errorf("lying length: %+v, %v", b, err)
	}

	// A C program is not Go.
	for _, p := range []string{"/bin/true", "/usr/bin/true"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if b := read(t, p); b != nil {
			t.Errorf("%s read as Go: %+v", p, b)
		}
		break
	}
}

func TestStdlibVersion(t *testing.T) {
	for in, want := range map[string]string{
		"go1.26.8":                "1.26.8",
		"go1.27":                  "1.27.0",
		"go1.27rc1":               "1.27.0-rc.1",
		"go1.26.8 X:boringcrypto": "1.26.8",
		"devel go1.28-abcdef":     "devel go1.28-abcdef",
	} {
		if got := gobinary.StdlibVersion(in); got != want {
			t.Errorf("StdlibVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestGODEBUG: a binary of a go 1.16 module carries the old, weaker
// defaults in its DefaultGODEBUG; the SBOM lists each of them and marks
// the security ones weaker than the toolchain's default.
func TestGODEBUG(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "godebug", "testdata", "mod", "go116")
	out := filepath.Join(t.TempDir(), "go116")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOPROXY=off", "GOFLAGS=-buildvcs=false", "GOWORK=off", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	vm, err := exec.Command("go", "version", "-m", out).Output()
	if err != nil {
		t.Fatal(err)
	}
	var defaults []string
	for _, line := range strings.Split(string(vm), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "build\tDefaultGODEBUG="); ok {
			defaults = strings.Split(v, ",")
		}
	}
	if len(defaults) == 0 {
		t.Fatalf("no DefaultGODEBUG in go version -m output:\n%s", vm)
	}
	comps, _, _ := gobinary.Components("/app", 0, read(t, out))
	gb := comps[0].Go
	have := map[string]sbom.GODEBUGValue{}
	for _, v := range gb.GODEBUG {
		have[v.Name+"="+v.Value] = v
	}
	for _, d := range defaults {
		if _, ok := have[d]; !ok {
			t.Errorf("DefaultGODEBUG entry %s missing from the SBOM", d)
		}
	}
	if v := have["tls10server=1"]; !v.Insecure || v.Class != "security" {
		t.Errorf("tls10server=1 = %+v, want an insecure security setting", v)
	}
	if gb.GoLine == "" {
		t.Error("go line not inferred")
	}
}
