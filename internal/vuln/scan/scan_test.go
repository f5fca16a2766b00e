package scan_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/scan"
)

// These tests use the real embedded data (golang.org/x/vulndb at the
// pinned snapshot), as the acceptance asks.

func embedded(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(db.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func build(t *testing.T, dir, pkg string, env []string, flags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bin")
	cmd := exec.Command("go", append(append([]string{"build", "-o", out}, flags...), pkg)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false"), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func scanFile(t *testing.T, d *db.DB, path string) *vuln.Result {
	t.Helper()
	r, _, err := scan.Target(context.Background(), image.Target{Scheme: image.File, Value: path}, scan.Options{DB: d})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func levels(r *vuln.Result) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.ID+":"+string(f.Reach))
	}
	slices.Sort(out)
	return out
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// TestHelloStrippedEqualsUnstripped: a hardened binary loses no precision.
func TestHelloStrippedEqualsUnstripped(t *testing.T) {
	d := embedded(t)
	plain := build(t, repoRoot(), "./examples/hello", nil)
	stripped := build(t, repoRoot(), "./examples/hello", nil, "-trimpath", "-ldflags=-s -w")
	a, b := levels(scanFile(t, d, plain)), levels(scanFile(t, d, stripped))
	if !slices.Equal(a, b) {
		t.Errorf("unstripped %v\nstripped   %v", a, b)
	}
}

// TestHelloOnThisToolchain checks the acceptance facts for go1.26.8:
// standard-library findings, several called in net/http, and the advice
// go1.26.10 or go1.27.3.
func TestHelloOnThisToolchain(t *testing.T) {
	if v := runtime.Version(); v != "go1.26.8" {
		t.Skipf("the expected findings are those of go1.26.8; this is %s", v)
	}
	d := embedded(t)
	r := scanFile(t, d, build(t, repoRoot(), "./examples/hello", []string{"GOTOOLCHAIN=local"}, "-trimpath", "-ldflags=-s -w"))
	calledHTTP := 0
	for _, f := range r.Findings {
		if f.Component.Type != "go-stdlib" {
			t.Errorf("%s on %s: only the standard library is expected", f.ID, f.Component.Name)
		}
		if f.Reach == vuln.Called && slices.ContainsFunc(f.Symbols, func(s string) bool { return strings.HasPrefix(s, "net/http.") }) {
			calledHTTP++
		}
	}
	if calledHTTP < 3 {
		t.Errorf("%d called net/http findings, want several: %v", calledHTTP, levels(r))
	}
	if len(r.Fixes) != 1 || r.Fixes[0].To != "go1.26.10" || r.Fixes[0].Newest != "go1.27.3" {
		t.Errorf("fixes = %+v, want go1.26.10 or go1.27.3", r.Fixes)
	}
	if len(r.Fixes[0].Clears) != len(r.Findings) {
		t.Errorf("the toolchain fix clears %d of %d findings", len(r.Fixes[0].Clears), len(r.Findings))
	}
	if r.Data.Date.IsZero() || len(r.Data.Sources) == 0 {
		t.Errorf("data not stated: %+v", r.Data)
	}
}

// TestHelloOnGo1273 is the end-to-end half: the newest toolchain clears
// everything.
func TestHelloOnGo1273(t *testing.T) {
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("end-to-end test: set REDLINE_E2E=1 (fetches go1.27.3 through the module proxy)")
	}
	d := embedded(t)
	r := scanFile(t, d, build(t, repoRoot(), "./examples/hello", []string{"GOTOOLCHAIN=go1.27.3"}, "-trimpath", "-ldflags=-s -w"))
	if len(r.Findings) != 0 {
		t.Errorf("go1.27.3 build has findings: %v", levels(r))
	}
}

// TestOldTextModule: a program pinned to golang.org/x/text v0.3.7
// (vendored) that calls language.ParseAcceptLanguage.
func TestOldTextModule(t *testing.T) {
	d := embedded(t)
	dir := filepath.Join(repoRoot(), "internal", "vuln", "source", "testdata", "oldtext")
	bin := build(t, dir, "./cmd/accept", []string{"GOFLAGS=-mod=vendor -buildvcs=false", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local"}, "-ldflags=-s -w")
	r := scanFile(t, d, bin)
	var got *vuln.Finding
	for i, f := range r.Findings {
		if f.Component.Name == "golang.org/x/text" && (f.ID == "GO-2022-1059" || slices.Contains(f.Aliases, "CVE-2022-32149")) {
			got = &r.Findings[i]
		}
	}
	if got == nil {
		t.Fatalf("GO-2022-1059 not found: %v", levels(r))
	}
	if got.Reach != vuln.Called || got.Fixed != "0.3.8" || !slices.Contains(got.Aliases, "CVE-2022-32149") {
		t.Errorf("GO-2022-1059 = %+v, want called, fixed 0.3.8, alias CVE-2022-32149", *got)
	}
	var modFix *vuln.Fix
	for i, fx := range r.Fixes {
		if fx.Name == "golang.org/x/text" {
			modFix = &r.Fixes[i]
		}
	}
	if modFix == nil || !strings.HasPrefix(modFix.Command, "go get golang.org/x/text@v") {
		t.Errorf("x/text fix = %+v", modFix)
	}
}

// TestImageBinaryGraded: a Go binary inside an image gets the same
// reachability as the file on its own, from the same one pass.
func TestImageBinaryGraded(t *testing.T) {
	d := embedded(t)
	bin := build(t, repoRoot(), "./examples/hello", nil, "-trimpath", "-ldflags=-s -w")
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	layout := filepath.Join(t.TempDir(), "layout")
	spec := imagetest.Spec{Layers: []imagetest.Layer{{Entries: []imagetest.Entry{{Name: "app", Body: body, Mode: 0o755}}}}}
	if err := imagetest.Build(spec).WriteOCIDir(layout, ""); err != nil {
		t.Fatal(err)
	}
	ri, _, err := scan.Target(context.Background(), image.Target{Scheme: image.OCIDir, Value: layout}, scan.Options{DB: d})
	if err != nil {
		t.Fatal(err)
	}
	rf := scanFile(t, d, bin)
	if a, b := levels(ri), levels(rf); !slices.Equal(a, b) {
		t.Errorf("image %v\nfile  %v", a, b)
	}
	for _, f := range ri.Findings {
		if f.Component.Path != "/app" || f.Component.Layer != 0 {
			t.Errorf("%s located at %s layer %d", f.ID, f.Component.Path, f.Component.Layer)
		}
	}
	if ri.Digest == "" {
		t.Error("image digest not recorded")
	}
}

func TestNoDataIsAnError(t *testing.T) {
	empty := t.TempDir()
	d, err := db.OpenDir(empty)
	if err == nil && d.Len() == 0 {
		_, _, err = scan.Target(context.Background(), image.Target{Scheme: image.File, Value: "/bin/true"}, scan.Options{DB: d})
	}
	if err == nil {
		t.Fatal("a scan without data succeeded: that would be a false clean")
	}
	fmt.Fprintln(os.Stderr, "no data:", err)
}

// TestUpgradeSafety: the fix plan of a go 1.16 program built with this
// machine's Go says which GODEBUG defaults flip on go1.27.3 and whether
// the program links what they affect.
func TestUpgradeSafety(t *testing.T) {
	if v := runtime.Version(); v != "go1.26.8" {
		t.Skipf("the toolchain fix is expected for go1.26.8; this is %s", v)
	}
	d := embedded(t)
	bin := build(t, filepath.Join(repoRoot(), "internal", "godebug", "testdata", "mod", "go116"), ".", []string{"GOTOOLCHAIN=local", "GOWORK=off"})
	r, _, err := scan.Target(context.Background(), image.Target{Scheme: image.File, Value: bin}, scan.Options{DB: d, GoTarget: "go1.27.3"})
	if err != nil {
		t.Fatal(err)
	}
	var fx *vuln.Fix
	for i := range r.Fixes {
		if r.Fixes[i].Kind == "toolchain" {
			fx = &r.Fixes[i]
		}
	}
	if fx == nil || fx.GODEBUGTarget != "go1.27.3" {
		t.Fatalf("toolchain fix = %+v", fx)
	}
	var got string
	for _, c := range fx.GODEBUG {
		if c.Name == "tls10server" {
			got = fmt.Sprintf("%s→%s %s", c.From, c.To, c.Class)
		}
	}
	if got != "1→0 security" {
		t.Errorf("tls10server change = %q, want 1→0 security (changes: %+v)", got, fx.GODEBUG)
	}
}

// TestSourceFindingsOnly: skipping the module's inventory (what check
// does) leaves govulncheck's findings as they are, and only them.
func TestSourceFindingsOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs govulncheck's engine twice: not in -short")
	}
	d := embedded(t)
	dir := filepath.Join(repoRoot(), "internal", "vuln", "source", "testdata", "oldtext")
	env := []string{"GOFLAGS=-mod=vendor", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local"}
	run := func(only bool) (*vuln.Result, *sbom.SBOM) {
		t.Helper()
		r, s, err := scan.Target(context.Background(), image.Target{Scheme: image.GoSource, Value: dir},
			scan.Options{DB: d, GoEnv: env, SourceCacheDir: t.TempDir(), FindingsOnly: only})
		if err != nil {
			t.Fatal(err)
		}
		return r, s
	}
	full, fullSBOM := run(false)
	only, onlySBOM := run(true)
	if len(full.Findings) == 0 {
		t.Fatal("the full scan found nothing: the module calls a vulnerable x/text")
	}
	if diff := cmp.Diff(levels(full), levels(only)); diff != "" {
		t.Errorf("findings differ with FindingsOnly (-full +only):\n%s", diff)
	}
	if len(fullSBOM.Components) == 0 || len(onlySBOM.Components) != 0 {
		t.Errorf("components: full %d (want some), findings only %d (want none)", len(fullSBOM.Components), len(onlySBOM.Components))
	}
}
