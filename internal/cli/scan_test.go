package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/cli"
)

// helloBinary builds examples/hello once per test binary.
func helloBinary(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./examples/hello")
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	t.Setenv("REDLINE_CACHE_DIR", t.TempDir())
	code := cli.Main(context.Background(), args, cli.Env{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

// TestScanGates checks every exit code of scan on a binary with
// standard-library findings (the embedded data knows advisories for this
// machine's Go; with a newer toolchain the gates would not be crossed and
// the test says so).
func TestScanGates(t *testing.T) {
	bin := helloBinary(t)
	code, out, stderr := runCLI(t, "scan", "-q", "-o", "json", "file:"+bin)
	if code != 0 {
		t.Fatalf("scan without a gate: exit %d: %s", code, stderr)
	}
	var r struct {
		Findings []struct {
			ID, Reach, Severity string
		}
		Data struct{ AgeDays int }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) == 0 {
		t.Skip("no findings with this toolchain: the gates cannot be crossed")
	}
	called := false
	for _, f := range r.Findings {
		called = called || f.Reach == "called"
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--fail-on", "any"}, 1},
		{[]string{"--fail-on", "called"}, map[bool]int{true: 1, false: 0}[called]},
		{[]string{"--fail-on-severity", "high"}, 1}, // the Go data has no severities: unknown fails
		{[]string{"--fail-on-severity", "high", "--ignore-unknown-severity"}, 0},
		{[]string{"--fail-on", "sometimes"}, 2},
		{[]string{"--fail-on-severity", "urgent"}, 2},
	} {
		code, _, stderr := runCLI(t, append(append([]string{"scan", "-q", "-o", "json=" + filepath.Join(t.TempDir(), "r.json")}, tc.args...), "file:"+bin)...)
		if code != tc.want {
			t.Errorf("scan %v: exit %d, want %d (%s)", tc.args, code, tc.want, stderr)
		}
	}

	// SARIF and OpenVEX are well-formed and name every finding.
	_, sarifOut, _ := runCLI(t, "scan", "-q", "-o", "sarif", "file:"+bin)
	var log struct {
		Version string
		Runs    []struct{ Results []struct{ RuleID string } }
	}
	if err := json.Unmarshal([]byte(sarifOut), &log); err != nil || log.Version != "2.1.0" || len(log.Runs[0].Results) != len(r.Findings) {
		t.Errorf("sarif: version %q, %d results for %d findings, err %v", log.Version, len(log.Runs[0].Results), len(r.Findings), err)
	}
	_, vexOut, _ := runCLI(t, "scan", "-q", "-o", "openvex", "file:"+bin)
	if !strings.Contains(vexOut, `"@context": "https://openvex.dev/ns/v0.2.0"`) {
		t.Errorf("openvex output:\n%.400s", vexOut)
	}

	// A VEX document that says every finding is not_affected suppresses
	// them, and the gate then holds.
	var stmts []string
	for _, f := range r.Findings {
		stmts = append(stmts, `{"vulnerability":{"name":"`+f.ID+`"},"products":[{"@id":"file:`+bin+`"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}`)
	}
	vexFile := filepath.Join(t.TempDir(), "vex.json")
	doc := `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex-1","author":"test","timestamp":"2026-11-01T00:00:00Z","version":1,"statements":[` + strings.Join(stmts, ",") + `]}`
	if err := os.WriteFile(vexFile, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLI(t, "scan", "-q", "--vex", vexFile, "--fail-on", "any", "file:"+bin)
	if code != 0 || !strings.Contains(out, "suppressed by VEX") {
		t.Errorf("with VEX: exit %d, output:\n%s\n%s", code, out, stderr)
	}

	// --fix-plan prints commands.
	_, out, _ = runCLI(t, "scan", "-q", "--fix-plan", "file:"+bin)
	if !strings.Contains(out, "go get toolchain@go1.") {
		t.Errorf("fix plan:\n%s", out)
	}
}

func TestScanBadInput(t *testing.T) {
	code, _, stderr := runCLI(t, "scan", "--db", t.TempDir(), "file:/bin/true")
	if code != 2 || !strings.Contains(stderr, "no OSV entries") {
		t.Errorf("empty --db: exit %d: %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "scan", "docker-archive:/nonexistent.tar")
	if code != 2 || !strings.Contains(stderr, "/nonexistent.tar") {
		t.Errorf("missing archive: exit %d: %s", code, stderr)
	}
}
