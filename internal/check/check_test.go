package check

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/policy"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/db"
)

// TestPackageCheck builds a tiny stdlib-only module with this machine's
// Go (offline), twice, and checks it: the package path of the loop.
func TestPackageCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build twice")
	}
	_, o := localModule(t, map[string]string{
		"go.mod":  "module example.com/tiny\n\ngo 1.26\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"tiny\") }\n",
		// The data is stale on purpose: a warning here; and a waiver that
		// expired makes the waivers line fail.
		"redline.yaml": "lines:\n  data: {level: warning}\n  vulnerabilities: {level: warning}\nwaivers:\n  - {line: shell, reason: old debugging waiver, expires: 2026-01-01}\n",
	})
	o.NoRebuild = false // the reproducible line is under test
	o.Environ = append(o.Environ, "GOFLAGS=-mod=mod")
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != "package" || res.Build == nil || res.Image.Digest != res.Build.Digest {
		t.Fatalf("kind %s, image %+v", res.Kind, res.Image)
	}
	line := func(name string) policy.LineResult {
		for _, l := range res.Lines {
			if l.Line == name {
				return l
			}
		}
		t.Fatalf("no line %s", name)
		return policy.LineResult{}
	}
	if l := line(policy.LineReproducible); l.Status != policy.Pass || !strings.Contains(l.Note, res.Build.Digest) {
		t.Errorf("reproducible: %+v", l)
	}
	if l := line(policy.LineUser); l.Status != policy.Pass || l.Value != "65532:65532" {
		t.Errorf("user: %+v", l)
	}
	if l := line(policy.LineSize); l.Status != policy.Pass {
		t.Errorf("size: %+v", l)
	}
	if l := line(policy.LineWaivers); l.Status != policy.Fail {
		t.Errorf("expired waiver: %+v", l)
	}
	if res.Verdict != policy.VerdictFail || strings.Join(res.Crossed(), ",") != "waivers" {
		t.Errorf("verdict %s crossed %v", res.Verdict, res.Crossed())
	}
	if res.Size.BinaryPath != "/usr/local/bin/tiny" || res.Size.BinaryBytes == 0 {
		t.Errorf("binary %s %d", res.Size.BinaryPath, res.Size.BinaryBytes)
	}
	if len(res.Size.Components) == 0 || res.Size.Components[0].Name != "Go binaries" {
		t.Errorf("composition: %+v", res.Size.Components)
	}
	var warned bool
	for _, w := range res.Warnings {
		warned = warned || strings.Contains(w, "source reachability skipped")
	}
	if !warned {
		t.Errorf("--no-source not reported: %v", res.Warnings)
	}
	if len(res.Actions) == 0 || !strings.Contains(res.Actions[len(res.Actions)-1].Title+res.Actions[0].Title, "waiver") {
		t.Errorf("no action for the expired waiver: %+v", res.Actions)
	}
}

func TestMergeSourceLowersUncalledFindings(t *testing.T) {
	r := &run{res: &Result{Size: Size{BinaryPath: "/usr/local/bin/app"}}, pkgDir: "./app"}
	std := vuln.ComponentRef{Type: "go-stdlib", Name: "stdlib", Version: "go1.26.8", Path: "/usr/local/bin/app"}
	r.res.Vulnerabilities = &vuln.Result{Findings: []vuln.Finding{
		{ID: "GO-1", Reach: vuln.Called, Component: std, Symbols: []string{"net/http.Serve"}},
		{ID: "GO-2", Reach: vuln.Called, Component: std},
		{ID: "GO-3", Reach: vuln.Called, Component: std},
	}}
	src := &vuln.Result{Findings: []vuln.Finding{
		{ID: "GO-1", Reach: vuln.Called, Trace: []vuln.Frame{{Function: "main.main"}}},
		{ID: "GO-2", Reach: vuln.Imported},
		// GO-3 is not in the source result (another toolchain): kept.
	}}
	r.mergeSource(src, nil)
	fs := r.res.Vulnerabilities.Findings
	if fs[0].Reach != vuln.Called || len(fs[0].Trace) != 1 {
		t.Errorf("GO-1: %+v", fs[0])
	}
	if fs[1].Reach != vuln.Imported || fs[1].Symbols != nil {
		t.Errorf("GO-2 not lowered: %+v", fs[1])
	}
	if fs[2].Reach != vuln.Called {
		t.Errorf("GO-3 changed without source evidence: %+v", fs[2])
	}
	if len(r.res.Warnings) != 1 || !strings.Contains(r.res.Warnings[0], "GO-2 called→imported") {
		t.Errorf("warnings %v", r.res.Warnings)
	}
	// A failed source scan changes nothing and says so.
	r2 := &run{res: &Result{}}
	r2.res.Vulnerabilities = &vuln.Result{Findings: []vuln.Finding{{ID: "GO-9", Reach: vuln.Called, Component: std}}}
	r2.mergeSource(nil, os.ErrDeadlineExceeded)
	if r2.res.Vulnerabilities.Findings[0].Reach != vuln.Called || !strings.Contains(r2.res.Warnings[0], "unavailable") {
		t.Errorf("after a failed source scan: %+v %v", r2.res.Vulnerabilities.Findings, r2.res.Warnings)
	}
}

// TestGODEBUGLine: a module whose go line is old keeps that release's
// insecure GODEBUG defaults (TLS 1.0 servers, 3DES, ...) although a new Go
// built it; the godebug red line crosses and names the go.mod line.
func TestGODEBUGLine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	dir, o := localModule(t, map[string]string{
		"go.mod":       "module example.com/old\n\ngo 1.16\n",
		"main.go":      "package main\n\nimport (\n\t\"crypto/tls\"\n\t\"fmt\"\n)\n\nfunc main() { fmt.Println(tls.VersionTLS13) }\n",
		"redline.yaml": "lines:\n  data: {level: warning}\n  vulnerabilities: {level: warning}\n",
	})
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Crossed(), ",") != "godebug" {
		t.Fatalf("crossed %v, want godebug; lines %+v", res.Crossed(), res.Lines)
	}
	var items string
	for _, l := range res.Lines {
		if l.Line == policy.LineGODEBUG {
			items = strings.Join(l.Items, "\n")
		}
	}
	if !strings.Contains(items, "RL-IMG-016") {
		t.Errorf("godebug items: %s", items)
	}
	if len(res.Actions) == 0 || !res.Actions[0].Fixable || !strings.HasPrefix(res.Actions[0].Command, "go mod edit -go=1.") {
		t.Fatalf("first action %+v, want the go line raised", res.Actions)
	}
	// --fix raises it, rebuilds, and the line holds.
	res, err = RunFix(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != policy.VerdictPass || res.Fix == nil || len(res.Fix.Applied) == 0 {
		t.Fatalf("after --fix: verdict %s crossed %v fix %+v", res.Verdict, res.Crossed(), res.Fix)
	}
	mod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	if strings.Contains(string(mod), "go 1.16") {
		t.Errorf("go.mod still says go 1.16:\n%s", mod)
	}
}

// TestFixHardensManifests: --fix rewrites the manifest beside the package
// (harden --write), checks again, and reports the verdict before.
func TestFixHardensManifests(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build twice")
	}
	deploy := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: tiny
spec:
  selector:
    matchLabels: {app: tiny}
  template:
    metadata:
      labels: {app: tiny}
    spec:
      containers:
        - name: tiny
          image: tiny:dev
          securityContext:
            privileged: true
          resources:
            limits: {memory: 64Mi}
`
	dir, o := localModule(t, map[string]string{
		"go.mod":       "module example.com/tiny\n\ngo 1.26\n",
		"main.go":      "package main\n\nfunc main() {}\n",
		"deploy.yaml":  deploy,
		"redline.yaml": "lines:\n  data: {level: warning}\n  vulnerabilities: {level: warning}\n",
	})
	res, err := RunFix(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Fix == nil || res.Fix.Before != policy.VerdictFail {
		t.Fatalf("fix report %+v", res.Fix)
	}
	if len(res.Fix.Applied) != 1 || !strings.Contains(res.Fix.Applied[0].Command, "harden --write") {
		t.Fatalf("applied %+v skipped %+v", res.Fix.Applied, res.Fix.Skipped)
	}
	after, err := os.ReadFile(filepath.Join(dir, "deploy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(after), "privileged: true") {
		t.Errorf("the manifest still grants privileged:\n%s", after)
	}
	if res.Verdict != policy.VerdictPass {
		t.Errorf("after --fix: verdict %s, crossed %v (before: %v)\n%s", res.Verdict, res.Crossed(), res.Fix.BeforeCrossed, after)
	}
}

// localModule writes files into a new module directory and returns it
// with the options that check it quickly: the embedded data, no source
// scan, no rebuild, the local toolchain.
func localModule(t *testing.T, files map[string]string) (string, Options) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := db.Open(db.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return dir, Options{Target: dir, DB: data, NoSource: true, NoRebuild: true, Environ: append(os.Environ(), "GOTOOLCHAIN=local")}
}

func TestSetPolicyToolchainKeepsTheRest(t *testing.T) {
	p := filepath.Join(t.TempDir(), "redline.yaml")
	src := "# red lines\nbuild:\n  toolchain: \"go1.27.3\"  # pinned\n  ports: [\"8080\"]\n"
	os.WriteFile(p, []byte(src), 0o600)
	f, err := setPolicyToolchain(p, "go1.27.4")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	want := "# red lines\nbuild:\n  toolchain: go1.27.4  # pinned\n  ports: [\"8080\"]\n"
	if string(got) != want || f.Note != "was go1.27.3" {
		t.Errorf("got %q (%s), want %q", got, f.Note, want)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode changed to %v", fi.Mode())
	}
	os.WriteFile(p, []byte("lines: {}\n"), 0o644)
	if _, err := setPolicyToolchain(p, "go1.27.4"); err == nil {
		t.Error("no build.toolchain to change, but no error")
	}
}
