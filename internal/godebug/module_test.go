package godebug

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testModules = []string{
	"testdata/mod/go116", "testdata/mod/go121", "testdata/mod/pins",
	"testdata/mod/default", "testdata/mod/work/app",
}

// TestFromModuleMatchesGoList holds FromModule against the go command's
// own answer, `go list -f {{.DefaultGODEBUG}}`, for the local toolchain.
func TestFromModuleMatchesGoList(t *testing.T) {
	for _, dir := range testModules {
		t.Run(dir, func(t *testing.T) {
			want := goCmd(t, dir, nil, "list", "-f", "{{.DefaultGODEBUG}}", ".")
			r, err := FromModule(dir, localGo())
			if err != nil {
				t.Fatal(err)
			}
			if r.DefaultGODEBUG != want {
				t.Errorf("FromModule: %s\ngo list:    %s", r.DefaultGODEBUG, want)
			}
			if len(r.Warnings) != 0 {
				t.Errorf("warnings: %v", r.Warnings)
			}
		})
	}
}

// TestFromModuleMatchesGo1273 does the same with go1.27.3, which removed
// tls10server and friends: the go command then refuses the workspace whose
// go.work pins tlsrsakex=1, and FromModule warns that the build fails.
func TestFromModuleMatchesGo1273(t *testing.T) {
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("REDLINE_E2E=1 runs go1.27.3 through GOTOOLCHAIN")
	}
	for _, dir := range testModules {
		t.Run(dir, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-f", "{{.DefaultGODEBUG}}", ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=", "GOTOOLCHAIN=go1.27.3")
			out, err := cmd.CombinedOutput()
			r, ferr := FromModule(dir, "go1.27.3")
			if ferr != nil {
				t.Fatal(ferr)
			}
			if err != nil {
				if !strings.Contains(string(out), "removed GODEBUG") {
					t.Fatalf("go list: %v\n%s", err, out)
				}
				if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Message, "the build fails") {
					t.Errorf("go1.27.3 refuses the module (%s) but FromModule warns %v", strings.TrimSpace(string(out)), r.Warnings)
				}
				return
			}
			if want := strings.TrimSpace(string(out)); r.DefaultGODEBUG != want {
				t.Errorf("FromModule: %s\ngo list:    %s", r.DefaultGODEBUG, want)
			}
		})
	}
}

func TestFromModuleOrigins(t *testing.T) {
	r, err := FromModule("testdata/mod/pins", "go1.26.8")
	if err != nil {
		t.Fatal(err)
	}
	type ow struct {
		Origin Origin
		Where  string
	}
	got := map[string]ow{}
	for _, v := range r.Settings {
		got[v.Name] = ow{v.Origin, v.Where}
	}
	want := map[string]ow{
		"rsa1024min": {OriginGodebug, "go.mod:7"}, "http2client": {OriginGodebug, "go.mod:8"},
		"x509negativeserial": {OriginDirective, "main.go:3"}, "execerrdot": {OriginDirective, "main.go:4"},
		"tlssha1": {OriginGoLine, "go.mod:3"},
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %+v, want %+v", name, got[name], w)
		}
	}
	if r.GoLine != "1.24" || r.GoLineWhere != "go.mod:3" || r.GoLineText != "go 1.24" || r.GoVersion != "go1.26.8" {
		t.Errorf("go line %q at %q (%q), toolchain %s", r.GoLine, r.GoLineWhere, r.GoLineText, r.GoVersion)
	}
	for _, f := range r.Findings() {
		if f.Name == "tlssha1" && !strings.HasPrefix(f.Fix, "go.mod:3: raise `go 1.24` to go 1.25") {
			t.Errorf("tlssha1 fix: %s", f.Fix)
		}
		if f.Name == "rsa1024min" && (!f.Acknowledged || !strings.Contains(f.Fix, "go.mod:7")) {
			t.Errorf("rsa1024min: %+v", f)
		}
	}
}

func TestFromModuleDefaultLine(t *testing.T) {
	r, err := FromModule("testdata/mod/default", "go1.26.8")
	if err != nil {
		t.Fatal(err)
	}
	if r.GoLine != "1.21" || r.GoLineWhere != "go.mod:5" || r.GoLineText != "godebug default=go1.21" {
		t.Errorf("go line %q at %q (%q)", r.GoLine, r.GoLineWhere, r.GoLineText)
	}
	if _, ok := r.Pins["default"]; ok {
		t.Error("default= is not a setting")
	}
}

func TestFromModuleWorkspace(t *testing.T) {
	r, err := FromModule("testdata/mod/work/app", "go1.26.8")
	if err != nil {
		t.Fatal(err)
	}
	if r.GoLine != "1.22" || r.GoLineWhere != "go.work:1" {
		t.Errorf("go line %q at %q: go.work decides", r.GoLine, r.GoLineWhere)
	}
	if diff := cmp.Diff(map[string]string{"tlsrsakex": "1"}, r.Pins); diff != "" {
		t.Errorf("pins (-want +got): go.work's godebug counts, go.mod's does not:\n%s", diff)
	}
	for _, f := range r.Findings() {
		if f.Name == "tlsrsakex" && (f.Where != "go.work:8" || !f.Acknowledged) {
			t.Errorf("tlsrsakex: %+v", f)
		}
		if f.Name == "tls3des" && !strings.Contains(f.Fix, "to go.work to keep it") {
			t.Errorf("tls3des fix: %s", f.Fix)
		}
	}
	// A library package: its //go:debug line is misplaced and ignored.
	lib, err := FromModule("testdata/mod/work/lib", "go1.26.8")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lib.Pins["panicnil"]; ok {
		t.Error("//go:debug of a non-main package counted")
	}
}

func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFromModuleWarnings(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"go.mod":  "module m\n\ngo 1.22\n\ntoolchain go1.27.3\n\ngodebug (\n\tnosuch=1\n\ttls10server=1\n)\n",
		"main.go": "//go:debug panicnil=1\n//go:debug panicnil=0\n//go:debug\n//go:debugger on\n\npackage main\n\nfunc main() {}\n",
	})
	r, err := FromModule(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.GoVersion != "go1.27.3" {
		t.Errorf("toolchain %s, want the toolchain line", r.GoVersion)
	}
	var msgs []string
	for _, w := range r.Warnings {
		if w.Subject != dir {
			t.Errorf("warning %q does not name the module", w)
		}
		msgs = append(msgs, w.Message)
	}
	want := []string{
		"main.go:2: //go:debug panicnil given twice: the go command rejects the package",
		"main.go:3: //go:debug wants key=value: the go command rejects the package",
		"go.mod:8: unknown GODEBUG setting nosuch: the go command rejects it",
		"go.mod:9: Go 1.27 removed tls10server and go1.27.3 rejects its old value 1: the build fails",
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if v := valueOf(t, r, "nosuch"); v.Class != ClassUnknown {
		t.Errorf("nosuch: %+v", v)
	}
	if v := valueOf(t, r, "panicnil"); v.Value != "0" || v.Where != "main.go:2" {
		t.Errorf("panicnil: %+v, the last directive wins", v)
	}

	if _, err := FromModule(t.TempDir(), ""); err == nil || !strings.Contains(err.Error(), "no go.mod") {
		t.Errorf("no go.mod: %v", err)
	}
	bad := writeModule(t, map[string]string{"go.mod": "module m\n\ngo 1.22\nfrobnicate x\n"})
	if _, err := FromModule(bad, ""); err == nil || !strings.Contains(err.Error(), "go.mod") {
		t.Errorf("malformed go.mod: %v", err)
	}
	if _, err := FromModule("testdata/mod/go116", "gopher"); err == nil {
		t.Error("a toolchain that is no version is an error")
	}
}

func TestWithEnv(t *testing.T) {
	r, err := FromModule("testdata/mod/go121", "go1.26.8")
	if err != nil {
		t.Fatal(err)
	}
	e := r.WithEnv("tls10server=0,tlsmaxrsasize=16384")
	names := map[string]bool{}
	for _, f := range e.Findings() {
		names[f.Name] = true
	}
	if names["tls10server"] || !names["tlsmaxrsasize"] {
		t.Errorf("findings with env: %v", names)
	}
	if !hasFinding(r.Findings(), "tls10server") {
		t.Error("WithEnv changed the report it was called on")
	}
	if st := e.State(); st.Env["tlsmaxrsasize"] != "16384" || st.GoLine != "1.21" || st.Toolchain != "go1.26.8" {
		t.Errorf("State() = %+v", st)
	}
}

func hasFinding(fs []Finding, name string) bool {
	for _, f := range fs {
		if f.Name == name {
			return true
		}
	}
	return false
}
