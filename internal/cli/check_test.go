package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/redline-go/redline/internal/check"
	"github.com/redline-go/redline/internal/cli"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/sbom/sbomtest"
	"github.com/redline-go/redline/internal/vuln/vex"
)

// compile registers a vendored schema under the id it declares (so
// nothing is fetched) and compiles it.
func compile(t *testing.T, b []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := doc.(map[string]any)
	id, _ := m["$id"].(string)
	if id == "" {
		id, _ = m["id"].(string)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var sarifSchema = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile(filepath.Join("..", "vuln", "sarif", "testdata", "sarif-schema-2.1.0.json"))
})

// TestCheckReportFilesValidate runs `check --report` on both samples and
// holds every file against its schema: report.json against check's own,
// report.sarif against OASIS SARIF 2.1.0, the SBOMs against CycloneDX 1.6
// and SPDX 2.3; vex.json must read back as OpenVEX; report.html must
// parse and name the verdict.
func TestCheckReportFilesValidate(t *testing.T) {
	dir := t.TempDir()
	policyFile := filepath.Join(dir, "redline.yaml")
	if err := os.WriteFile(policyFile, []byte("lines:\n  data: {level: warning}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sb, err := sarifSchema()
	if err != nil {
		t.Fatal(err)
	}
	reportSchema, sarif := compile(t, check.Schema), compile(t, sb)
	for name, files := range imagetest.SampleFiles() {
		t.Run(name, func(t *testing.T) {
			archive := filepath.Join(dir, name)
			if err := imagetest.WriteTar(archive, files); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, name+".report")
			var stdout, stderr bytes.Buffer
			code := cli.Main(context.Background(), []string{"check", "-q", "--policy", policyFile, "--report", out, archive}, cli.Env{Stdout: &stdout, Stderr: &stderr})
			if code != 0 && code != 1 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			read := func(f string) []byte {
				b, err := os.ReadFile(filepath.Join(out, f))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			for f, s := range map[string]*jsonschema.Schema{"report.json": reportSchema, "report.sarif": sarif} {
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(read(f)))
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if err := s.Validate(inst); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
			if err := sbomtest.Validate(sbomtest.CycloneDX, read("sbom.cdx.json")); err != nil {
				t.Errorf("sbom.cdx.json: %v", err)
			}
			if err := sbomtest.Validate(sbomtest.SPDX, read("sbom.spdx.json")); err != nil {
				t.Errorf("sbom.spdx.json: %v", err)
			}
			// OpenVEX needs a statement: vex.json is there when findings are.
			if _, err := os.Stat(filepath.Join(out, "vex.json")); err == nil {
				if _, err := vex.Read(bytes.NewReader(read("vex.json"))); err != nil {
					t.Errorf("vex.json: %v", err)
				}
			} else if !strings.Contains(string(read("report.json")), `"findings": []`) {
				t.Error("vex.json missing although there are findings")
			}
			page := string(read("report.html"))
			verdict := "PASS"
			if code == 1 {
				verdict = "FAIL"
			}
			if !strings.Contains(page, "</html>") || !strings.Contains(strings.ToUpper(page), verdict) {
				t.Errorf("report.html is not a whole page saying %s", verdict)
			}
			left, _ := filepath.Glob(filepath.Join(out, ".*"))
			if len(left) > 0 {
				t.Errorf("staging files left behind: %v", left)
			}
		})
	}
}

// TestCheckReportDirUnwritable: a report directory that cannot be written
// is an error before any work, and nothing is left behind.
func TestCheckReportDirUnwritable(t *testing.T) {
	if os.Geteuid() == 0 {
		// root writes anywhere: use a path under a file instead.
		dir := t.TempDir()
		file := filepath.Join(dir, "f")
		os.WriteFile(file, nil, 0o644)
		var stderr bytes.Buffer
		code := cli.Main(context.Background(), []string{"check", "-q", "--report", filepath.Join(file, "out"), "x.tar"}, cli.Env{Stdout: &bytes.Buffer{}, Stderr: &stderr})
		if code != 2 || !strings.Contains(stderr.String(), "--report") {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
		return
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	var stderr bytes.Buffer
	code := cli.Main(context.Background(), []string{"check", "-q", "--report", ro, "x.tar"}, cli.Env{Stdout: &bytes.Buffer{}, Stderr: &stderr})
	if code != 2 || !strings.Contains(stderr.String(), "cannot write there") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}
