package godebug

import (
	"bufio"
	"bytes"
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// goCmd runs the local go command offline: no toolchain switch, no
// inherited GOFLAGS. extraEnv entries come last and win.
func goCmd(t *testing.T, dir string, extraEnv []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOPROXY=off")
	cmd.Env = append(cmd.Env, extraEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

var localGo = sync.OnceValue(func() string {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
})

// versionM returns the DefaultGODEBUG line `go version -m` prints.
func versionM(t *testing.T, bin string) (goVersion, defaultGODEBUG string) {
	t.Helper()
	out := goCmd(t, ".", nil, "version", "-m", bin)
	sc := bufio.NewScanner(strings.NewReader(out))
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		if first {
			// "/path/bin: go1.26.8"
			if i := strings.LastIndex(line, ": "); i >= 0 {
				goVersion = line[i+2:]
			}
			continue
		}
		f := strings.SplitN(strings.TrimSpace(line), "\t", 2)
		if len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "DefaultGODEBUG=") {
			defaultGODEBUG = strings.TrimPrefix(f[1], "DefaultGODEBUG=")
		}
	}
	return goVersion, defaultGODEBUG
}

// currentModule writes a module whose go line is the local toolchain's.
func currentModule(t *testing.T) string {
	dir := t.TempDir()
	goLine := strings.TrimPrefix(localGo(), "go")
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/current\n\ngo "+goLine+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	main := "package main\n\nimport \"crypto/tls\"\n\nfunc main() { println(tls.VersionName(tls.VersionTLS13)) }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBinaries builds tiny modules with the local toolchain, stripped and
// not, and holds the decoded report against `go version -m` and against
// FromModule of the same source.
func TestBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	if !strings.HasPrefix(localGo(), "go1.26.") {
		// The expectations below are go1.26's defaults; FromModule's
		// agreement with the go command is checked for any toolchain.
		t.Logf("local toolchain %s: class expectations tuned for go1.26", localGo())
	}
	type want struct {
		goLine, goLineMin string
		findings          map[string]Origin // name -> origin
		classes           map[string]Class
	}
	tests := []struct {
		name string
		dir  string
		want want
	}{
		{"go116", "testdata/mod/go116", want{
			goLine: "1.18", goLineMin: "",
			findings: map[string]Origin{
				"cryptocustomrand": OriginGoLine, "httpcookiemaxnum": OriginGoLine, "httplaxcontentlength": OriginGoLine,
				"rsa1024min": OriginGoLine, "tls10server": OriginGoLine, "tls3des": OriginGoLine, "tlsmlkem": OriginGoLine,
				"tlsrsakex": OriginGoLine, "tlssecpmlkem": OriginGoLine, "tlssha1": OriginGoLine, "tlsunsafeekm": OriginGoLine,
				"urlmaxqueryparams": OriginGoLine, "urlstrictcolons": OriginGoLine, "x509negativeserial": OriginGoLine,
			},
			classes: map[string]Class{"tls10server": ClassSecurity, "containermaxprocs": ClassPerformance, "updatemaxprocs": ClassPerformance, "panicnil": ClassBehaviour, "netedns0": ClassBehaviour},
		}},
		{"go121", "testdata/mod/go121", want{
			goLine: "1.21", goLineMin: "1.21",
			findings: map[string]Origin{
				"cryptocustomrand": OriginGoLine, "httpcookiemaxnum": OriginGoLine, "httplaxcontentlength": OriginGoLine,
				"rsa1024min": OriginGoLine, "tls10server": OriginGoLine, "tls3des": OriginGoLine, "tlsmlkem": OriginGoLine,
				"tlsrsakex": OriginGoLine, "tlssecpmlkem": OriginGoLine, "tlssha1": OriginGoLine, "tlsunsafeekm": OriginGoLine,
				"urlmaxqueryparams": OriginGoLine, "urlstrictcolons": OriginGoLine, "x509negativeserial": OriginGoLine,
			},
			classes: map[string]Class{"httpmuxgo121": ClassBehaviour, "containermaxprocs": ClassPerformance},
		}},
		{"pins", "testdata/mod/pins", want{
			goLine: "1.24", goLineMin: "1.24",
			findings: map[string]Origin{
				"cryptocustomrand": OriginGoLine, "tlssecpmlkem": OriginGoLine, "tlssha1": OriginGoLine, "urlstrictcolons": OriginGoLine,
				"execerrdot": OriginPinned, "rsa1024min": OriginPinned, "x509negativeserial": OriginPinned,
			},
			classes: map[string]Class{"http2client": ClassBehaviour, "execerrdot": ClassSecurity},
		}},
		{"current", "", want{
			goLine: strings.TrimPrefix(localGo()[:strings.LastIndex(localGo(), ".")], "go"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir
			if dir == "" {
				dir = currentModule(t)
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			plain, stripped := filepath.Join(out, "plain"), filepath.Join(out, "stripped")
			goCmd(t, abs, nil, "build", "-o", plain, ".")
			goCmd(t, abs, nil, "build", "-ldflags=-s -w", "-o", stripped, ".")

			var reports []Report
			for _, bin := range []string{plain, stripped} {
				gv, dg := versionM(t, bin)
				// The SBOM's stream reader feeds this package too
				// (gobinary imports godebug, so its agreement with
				// debug/buildinfo is tested there, in TestGODEBUG).
				bi, err := buildinfo.ReadFile(bin)
				if err != nil {
					t.Fatal(err)
				}
				r := FromBuildInfo(bin, bi, "")
				if r.GoVersion != gv || r.DefaultGODEBUG != dg {
					t.Errorf("report says %s %q; go version -m says %s %q", r.GoVersion, r.DefaultGODEBUG, gv, dg)
				}
				// Every entry go version -m shows, decoded with its value.
				var fromM, decoded []string
				if dg != "" {
					fromM = strings.Split(dg, ",")
				}
				for _, v := range r.Settings {
					decoded = append(decoded, v.Name+"="+v.Value)
				}
				if diff := cmp.Diff(fromM, decoded); diff != "" {
					t.Errorf("settings vs go version -m (-go +decoded):\n%s", diff)
				}
				if len(r.Warnings) != 0 {
					t.Errorf("warnings: %v", r.Warnings)
				}
				reports = append(reports, r)
			}
			r := reports[0]
			if diff := cmp.Diff(reports[0], reports[1], cmpopts.IgnoreFields(Report{}, "Subject")); diff != "" {
				t.Errorf("stripped and unstripped differ (-plain +stripped):\n%s", diff)
			}

			if r.GoLine != tt.want.goLine || r.GoLineMin != tt.want.goLineMin && tt.name != "current" {
				t.Errorf("go line %q..%q, want %q..%q", r.GoLineMin, r.GoLine, tt.want.goLineMin, tt.want.goLine)
			}
			got := map[string]Origin{}
			for _, f := range r.Findings() {
				got[f.Name] = f.Origin
				if f.Acknowledged != (f.Origin == OriginPinned) {
					t.Errorf("%s: acknowledged %v with origin %s", f.Name, f.Acknowledged, f.Origin)
				}
			}
			if len(tt.want.findings) == 0 {
				tt.want.findings = map[string]Origin{}
			}
			if diff := cmp.Diff(tt.want.findings, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for name, class := range tt.want.classes {
				if v := valueOf(t, r, name); v.Class != class {
					t.Errorf("%s: class %s, want %s", name, v.Class, class)
				}
			}

			// The source tells the same story: FromModule computes the
			// DefaultGODEBUG the go command wrote into the binary.
			m, err := FromModule(abs, localGo())
			if err != nil {
				t.Fatal(err)
			}
			if m.DefaultGODEBUG != r.DefaultGODEBUG {
				t.Errorf("FromModule: %q\nbinary:     %q", m.DefaultGODEBUG, r.DefaultGODEBUG)
			}
			mf := map[string]bool{}
			for _, f := range m.Findings() {
				mf[f.Name] = true
			}
			for name := range tt.want.findings {
				if !mf[name] {
					t.Errorf("FromModule lacks finding %s", name)
				}
			}
		})
	}
}

// TestBinaryGo1273 builds the go 1.16 module with go1.27.3, which removed
// tls10server and its kin: the binary no longer carries them, and the
// report, go version -m and FromModule agree.
func TestBinaryGo1273(t *testing.T) {
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("REDLINE_E2E=1 builds with go1.27.3 through GOTOOLCHAIN")
	}
	env := []string{"GOTOOLCHAIN=go1.27.3", "GOPROXY=" + os.Getenv("GOPROXY")}
	dir, err := filepath.Abs("testdata/mod/go116")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "go116")
	goCmd(t, dir, env, "build", "-ldflags=-s -w", "-o", bin, ".")
	gv, dg := versionM(t, bin)
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	r := FromBuildInfo(bin, bi, "tls10server=1")
	if gv != "go1.27.3" || r.GoVersion != gv || r.DefaultGODEBUG != dg {
		t.Fatalf("report %s %q; go version -m %s %q", r.GoVersion, r.DefaultGODEBUG, gv, dg)
	}
	if strings.Contains(dg, "tls10server") {
		t.Errorf("go1.27.3 wrote tls10server: %s", dg)
	}
	want := []string{"cryptocustomrand", "httpcookiemaxnum", "httplaxcontentlength", "rsa1024min", "tlsmlkem",
		"tlssecpmlkem", "tlssha1", "urlmaxqueryparams", "urlstrictcolons", "x509negativeserial"}
	if diff := cmp.Diff(want, findingNames(r.Findings())); diff != "" {
		t.Errorf("findings (-want +got); the env's tls10server=1 is ignored by go1.27.3:\n%s", diff)
	}
	if v := valueOf(t, r, "httpservecontentmaxranges"); v.Value != "1" || v.Origin != OriginGoLine {
		t.Errorf("httpservecontentmaxranges: %+v", v)
	}
	m, err := FromModule(dir, "go1.27.3")
	if err != nil {
		t.Fatal(err)
	}
	if m.DefaultGODEBUG != dg {
		t.Errorf("FromModule: %s\nbinary:     %s", m.DefaultGODEBUG, dg)
	}
}
