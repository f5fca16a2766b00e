package sarif_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/match"
	"github.com/redline-go/redline/internal/vuln/sarif"
)

// schemaFile is the official OASIS SARIF 2.1.0 (errata 01) JSON schema,
// vendored unmodified (see NOTICE).
var schemaFile = filepath.Join("testdata", "sarif-schema-2.1.0.json")

// schema compiles the vendored schema once. It is registered under the id
// it declares, which must be the URI that logs name in $schema, so the
// compiler resolves everything locally and never reaches the network (the
// draft-04 meta-schema is built into the validator).
var schema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	b, err := os.ReadFile(schemaFile)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", schemaFile, err)
	}
	m, _ := doc.(map[string]any)
	id, _ := m["$id"].(string)
	if id == "" {
		id, _ = m["id"].(string) // draft-04 spelling
	}
	if id != sarif.Schema {
		return nil, fmt.Errorf("%s: id %q, want sarif.Schema %q", schemaFile, id, sarif.Schema)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(id, doc); err != nil {
		return nil, err
	}
	return c.Compile(id)
})

func validate(t *testing.T, doc []byte) error {
	t.Helper()
	s, err := schema()
	if err != nil {
		t.Fatalf("compiling the SARIF schema: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return s.Validate(inst)
}

const (
	critical = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" // 9.8
	medium   = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N" // 4.2
	changed  = "CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N" // 6.4
)

// fixture is two scans, with findings of every reachability level, with
// and without CVSS vectors, one suppressed by VEX, and one advisory found
// in both targets.
func fixture() []*vuln.Result {
	date := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	data := vuln.Data{Sources: []vuln.DataSource{{Name: "go", Date: date, Entries: 3}}, Date: date}
	binary := vuln.ComponentRef{Type: "go-module", Name: "golang.org/x/net", Version: "v0.20.0", PURL: "pkg:golang/golang.org/x/net@v0.20.0", Path: "/usr/local/bin/app", Layer: 3}
	stdlib := vuln.ComponentRef{Type: "go-stdlib", Name: "stdlib", Version: "go1.22.1", PURL: "pkg:golang/stdlib@go1.22.1", Path: "/usr/local/bin/app", Layer: 3}
	image := &vuln.Result{
		SchemaVersion: vuln.SchemaVersion,
		Target:        "registry.example.com/team/app:1.4",
		Digest:        "sha256:4f2a0c1b3e5d7f9a2c4e6081a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1",
		Data:          data,
		Components:    4,
		Findings: []vuln.Finding{
			{
				ID: "GO-2026-0101", Aliases: []string{"CVE-2026-1001", "GHSA-aaaa-bbbb-cccc"},
				Summary:  "Unbounded memory growth in golang.org/x/net/http2",
				Severity: vuln.SevCritical, CVSS: critical,
				Component: binary, Packages: []string{"golang.org/x/net/http2"},
				Symbols: []string{"golang.org/x/net/http2.Server.ServeConn"},
				Reach:   vuln.Called, Fixed: "v0.23.0",
				URL: "https://pkg.go.dev/vuln/GO-2026-0101",
			},
			{
				ID: "GO-2026-0102", Summary: "Quadratic parsing in net/mail",
				Severity: vuln.SevUnknown, Component: stdlib,
				Packages: []string{"net/mail"}, Reach: vuln.Imported, Fixed: "go1.22.2",
				URL: "https://pkg.go.dev/vuln/GO-2026-0102",
			},
			{
				ID: "DSA-5999-1", Aliases: []string{"CVE-2026-2002"}, Summary: "openssl: timing side channel",
				Severity: vuln.SevMedium, CVSS: medium,
				Component: vuln.ComponentRef{Type: "deb", Name: "openssl", Version: "3.0.11-1~deb12u2", PURL: "pkg:deb/debian/openssl@3.0.11-1~deb12u2?distro=debian-12", Path: "/var/lib/dpkg/status", Layer: 0},
				Packages:  []string{"openssl"}, Reach: vuln.Installed, Fixed: "3.0.13-1~deb12u1",
				URL: "https://security-tracker.debian.org/tracker/DSA-5999-1",
			},
			{
				// No vector, but the data's own words (GitHub's HIGH).
				ID: "CVE-2026-3003", Severity: vuln.SevHigh,
				Component: vuln.ComponentRef{Type: "apk", Name: "busybox", Version: "1.36.1-r15", Path: "/lib/apk/db/installed", Layer: 0},
				Reach:     vuln.Installed,
			},
			{
				ID: "GO-2026-0104", Summary: "Path traversal in archive handling",
				Severity: vuln.SevUnknown, Component: binary,
				Reach:      vuln.Required,
				Suppressed: &vuln.Suppression{Status: "not_affected", Justification: "vulnerable_code_not_in_execute_path", Statement: "vex/app.openvex.json"},
				URL:        "https://pkg.go.dev/vuln/GO-2026-0104",
			},
		},
	}
	module := &vuln.Result{
		SchemaVersion: vuln.SchemaVersion,
		Target:        "example.com/tool",
		Data:          data,
		Components:    2,
		Findings: []vuln.Finding{
			{
				// The same advisory as in the image, in another target: one
				// rule, two results with different fingerprints.
				ID: "GO-2026-0101", Aliases: []string{"CVE-2026-1001", "GHSA-aaaa-bbbb-cccc"},
				Summary:  "Unbounded memory growth in golang.org/x/net/http2",
				Severity: vuln.SevCritical, CVSS: critical,
				Component: vuln.ComponentRef{Type: "go-module", Name: "golang.org/x/net", Version: "v0.21.0", Layer: -1},
				Reach:     vuln.Required, Fixed: "v0.23.0",
				URL: "https://pkg.go.dev/vuln/GO-2026-0101",
			},
			{
				ID: "GO-2026-0105", Summary: "Header smuggling in github.com/example/proxy",
				Severity: vuln.SevMedium, CVSS: changed,
				Component: vuln.ComponentRef{Type: "go-module", Name: "github.com/example/proxy", Version: "v1.2.3", Layer: -1},
				Symbols:   []string{"github.com/example/proxy.Forward"},
				Trace:     []vuln.Frame{{Function: "main.main", Position: "main.go:12:2"}, {Function: "github.com/example/proxy.Forward"}},
				Reach:     vuln.Called,
				URL:       "https://pkg.go.dev/vuln/GO-2026-0105",
			},
		},
	}
	return []*vuln.Result{image, module}
}

func write(t *testing.T, results []*vuln.Result) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := sarif.Write(&b, results, sarif.Options{ToolVersion: "v0.9.0"}); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}

// sarifLog is the part of a log the GitHub checks read, decoded
// independently of the package's own types.
type sarifLog struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID               string         `json:"id"`
					ShortDescription *message       `json:"shortDescription"`
					Help             *message       `json:"help"`
					Properties       map[string]any `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string   `json:"ruleId"`
			RuleIndex *int     `json:"ruleIndex"`
			Level     string   `json:"level"`
			Message   *message `json:"message"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation *struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Properties          map[string]any    `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

type message struct {
	Text string `json:"text"`
}

func TestWriteValidatesAgainstSchema(t *testing.T) {
	for _, tc := range []struct {
		name    string
		results []*vuln.Result
	}{
		{"findings", fixture()},
		{"no findings", []*vuln.Result{{SchemaVersion: vuln.SchemaVersion, Target: "example.com/clean", Findings: []vuln.Finding{}}}},
		{"no results", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := write(t, tc.results)
			if err := validate(t, out); err != nil {
				t.Fatalf("output is not valid SARIF 2.1.0:\n%v\n%s", err, out)
			}
			var log sarifLog
			if err := json.Unmarshal(out, &log); err != nil {
				t.Fatal(err)
			}
			if log.Schema != sarif.Schema || log.Version != "2.1.0" || len(log.Runs) != 1 {
				t.Errorf("$schema %q, version %q, %d runs", log.Schema, log.Version, len(log.Runs))
			}
		})
	}
}

// TestGitHubCodeScanning checks what GitHub's SARIF upload needs beyond the
// schema: rules for every result, relative artifact URIs, lines, partial
// fingerprints, and the rule metadata its alert views use.
func TestGitHubCodeScanning(t *testing.T) {
	results := fixture()
	out := write(t, results)
	var log sarifLog
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name == "" {
		t.Error("tool.driver.name is empty")
	}

	// What the findings say each rule must carry.
	vector := map[string]string{}
	nFindings := 0
	for _, r := range results {
		for _, f := range r.Findings {
			vector[f.ID] = f.CVSS
			nFindings++
		}
	}

	rules := map[string]int{}
	for i, r := range run.Tool.Driver.Rules {
		if _, dup := rules[r.ID]; dup {
			t.Errorf("rule %s appears twice", r.ID)
		}
		rules[r.ID] = i
		if r.ShortDescription == nil || strings.TrimSpace(r.ShortDescription.Text) == "" {
			t.Errorf("rule %s: no shortDescription.text", r.ID)
		}
		if r.Help == nil || strings.TrimSpace(r.Help.Text) == "" {
			t.Errorf("rule %s: no help.text", r.ID)
		}
		sev, has := r.Properties["security-severity"]
		if v := vector[r.ID]; v != "" {
			s, ok := sev.(string)
			if !ok {
				t.Errorf("rule %s has CVSS %s: security-severity %v (%T), want a numeric string", r.ID, v, sev, sev)
				continue
			}
			score, err := strconv.ParseFloat(s, 64)
			if err != nil || score < 0 || score > 10 {
				t.Errorf("rule %s: security-severity %q is not a score in 0.0-10.0", r.ID, s)
			}
			if want, _ := match.CVSS3Score(v); fmt.Sprintf("%.1f", want) != s {
				t.Errorf("rule %s: security-severity %q, want %.1f from %s", r.ID, s, want, v)
			}
		} else if has {
			if s, ok := sev.(string); !ok {
				t.Errorf("rule %s: security-severity %v (%T), want a string", r.ID, sev, sev)
			} else if _, err := strconv.ParseFloat(s, 64); err != nil {
				t.Errorf("rule %s: security-severity %q is not numeric", r.ID, s)
			}
		}
	}
	if len(rules) != len(vector) {
		t.Errorf("%d rules, want one per advisory (%d)", len(rules), len(vector))
	}

	if len(run.Results) != nFindings {
		t.Errorf("%d results, want one per finding (%d)", len(run.Results), nFindings)
	}
	fingerprints := map[string]string{}
	reaches := map[string]bool{}
	for i, r := range run.Results {
		where := fmt.Sprintf("result %d (%s)", i, r.RuleID)
		idx, ok := rules[r.RuleID]
		if r.RuleID == "" || !ok {
			t.Errorf("%s: ruleId matches no rule", where)
		} else if r.RuleIndex != nil && *r.RuleIndex != idx {
			t.Errorf("%s: ruleIndex %d, but the rule is at %d", where, *r.RuleIndex, idx)
		}
		if r.Message == nil || r.Message.Text == "" {
			t.Errorf("%s: no message.text", where)
		}
		if len(r.Locations) == 0 {
			t.Errorf("%s: no locations", where)
		}
		for _, l := range r.Locations {
			pl := l.PhysicalLocation
			switch {
			case pl == nil:
				t.Errorf("%s: location without physicalLocation", where)
			case pl.ArtifactLocation == nil || pl.ArtifactLocation.URI == "":
				t.Errorf("%s: no artifactLocation.uri", where)
			case strings.HasPrefix(pl.ArtifactLocation.URI, "/"):
				t.Errorf("%s: artifactLocation.uri %q starts with /", where, pl.ArtifactLocation.URI)
			case pl.Region == nil || pl.Region.StartLine < 1:
				t.Errorf("%s: region.startLine missing or < 1", where)
			}
		}
		if len(r.PartialFingerprints) == 0 {
			t.Errorf("%s: no partialFingerprints", where)
		}
		for k, v := range r.PartialFingerprints {
			if k == "" || v == "" {
				t.Errorf("%s: empty partial fingerprint %q: %q", where, k, v)
			}
			if prev, dup := fingerprints[k+"="+v]; dup {
				t.Errorf("%s: partial fingerprint %s=%s also used by %s", where, k, v, prev)
			}
			fingerprints[k+"="+v] = where
		}
		if reach, _ := r.Properties["reach"].(string); reach != "" {
			reaches[reach] = true
		}
		if _, ok := r.Properties["suppressed"]; ok && r.Level != "note" {
			t.Errorf("%s: suppressed finding at level %q, want note", where, r.Level)
		}
	}
	for _, reach := range []vuln.Reach{vuln.Called, vuln.Imported, vuln.Required, vuln.Installed} {
		if !reaches[string(reach)] {
			t.Errorf("no result with reach %q", reach)
		}
	}
}

func TestWriteIsStable(t *testing.T) {
	a := write(t, fixture())
	b := write(t, fixture())
	if !bytes.Equal(a, b) {
		t.Fatalf("two writes of the same results differ:\n%s\n---\n%s", a, b)
	}
	results := fixture()
	c := write(t, results)
	d := write(t, results)
	if !bytes.Equal(a, c) || !bytes.Equal(c, d) {
		t.Fatal("writing the same results twice gave different bytes")
	}
}

// TestSchemaRejects shows that the validator is not vacuous: broken
// variants of a valid log fail it.
func TestSchemaRejects(t *testing.T) {
	valid := write(t, fixture())
	if err := validate(t, valid); err != nil {
		t.Fatalf("the base document is invalid: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(log map[string]any)
	}{
		{"version 2.0", func(log map[string]any) { log["version"] = "2.0" }},
		{"no runs", func(log map[string]any) { delete(log, "runs") }},
		{"startLine 0", func(log map[string]any) {
			region(log)["startLine"] = 0
		}},
		{"result without message", func(log map[string]any) {
			delete(firstResult(log), "message")
		}},
		{"unknown level", func(log map[string]any) { firstResult(log)["level"] = "critical" }},
		{"rules null", func(log map[string]any) { driver(log)["rules"] = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log map[string]any
			if err := json.Unmarshal(valid, &log); err != nil {
				t.Fatal(err)
			}
			tc.mutate(log)
			doc, err := json.Marshal(log)
			if err != nil {
				t.Fatal(err)
			}
			err = validate(t, doc)
			if err == nil {
				t.Fatalf("a log with %s passed validation", tc.name)
			}
			t.Logf("rejected: %v", err)
		})
	}
}

func run0(log map[string]any) map[string]any {
	return log["runs"].([]any)[0].(map[string]any)
}

func driver(log map[string]any) map[string]any {
	return run0(log)["tool"].(map[string]any)["driver"].(map[string]any)
}

func firstResult(log map[string]any) map[string]any {
	return run0(log)["results"].([]any)[0].(map[string]any)
}

func region(log map[string]any) map[string]any {
	loc := firstResult(log)["locations"].([]any)[0].(map[string]any)
	return loc["physicalLocation"].(map[string]any)["region"].(map[string]any)
}
