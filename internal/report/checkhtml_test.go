package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/check"
	"github.com/redline-go/redline/internal/layers"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/policy"
	"github.com/redline-go/redline/internal/vuln"
)

const hostile = `<script>alert(1)</script>`

var checkedAt = time.Date(2026, 11, 8, 9, 30, 0, 0, time.UTC)

func dataOf(age int) vuln.Data {
	d := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)
	return vuln.Data{
		Sources: []vuln.DataSource{{Name: "golang.org/x/vulndb", Version: "v0.0.0-20261105234957-e22db6528018", Date: d, Entries: 4789}},
		Date:    d, AgeDays: age,
	}
}

// passingCheck is a package built here that holds every red line.
func passingCheck() *check.Result {
	return &check.Result{
		SchemaVersion: check.SchemaVersion,
		Tool:          rule.Tool{Name: "redline", Version: "v0.1.0"},
		Target:        "./examples/hello",
		Kind:          "package",
		Image: check.ImageInfo{
			Ref: "oci-dir:out/hello", Name: "hello:latest", Platform: "linux/amd64",
			Digest:  "sha256:5b0e7c1f3a9d4e2b8c6f1a0d9e8b7c6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c",
			Written: []string{"oci-dir:out/hello"},
		},
		Created: checkedAt,
		Verdict: policy.VerdictPass,
		Lines: []policy.LineResult{
			{Line: policy.LineSize, Level: policy.Error, Status: policy.Pass, Value: "2.9 MiB compressed", Limit: "≤ 7.1 MiB (binary+1MiB; binary 6.1 MiB)"},
			{Line: policy.LineEfficiency, Level: policy.Error, Status: policy.Pass, Value: "100.0%", Limit: "≥ 95.0%"},
			{Line: policy.LineSlimming, Level: policy.Error, Status: policy.Skipped, Value: "no baseline", Limit: "≥ 50% smaller", Note: "give build.baseline or --baseline to measure it"},
			{Line: policy.LineVulnerabilities, Level: policy.Error, Status: policy.Pass, Value: "0 findings", Limit: "0 at ≥ called"},
			{Line: policy.LineLint, Level: policy.Error, Status: policy.Pass, Value: "0 findings", Limit: "0 at ≥ high"},
			{Line: policy.LineUser, Level: policy.Error, Status: policy.Pass, Value: "65532:65532", Limit: "non-root, numeric"},
			{Line: policy.LineCapabilities, Level: policy.Error, Status: policy.Pass, Value: "none", Limit: "within [NET_BIND_SERVICE]"},
			{Line: policy.LineShell, Level: policy.Error, Status: policy.Pass, Value: "none", Limit: "no shell"},
			{Line: policy.LineReproducible, Level: policy.Error, Status: policy.Pass, Value: "same digest", Limit: "same digest when rebuilt"},
			{Line: policy.LineData, Level: policy.Error, Status: policy.Pass, Value: "2 days old (2026-11-05)", Limit: "≤ 7 days old"},
			{Line: policy.LineToolchain, Level: policy.Error, Status: policy.Pass, Value: "go1.27.3", Limit: "≥ go1.27.3"},
		},
		Actions: nil,
		Policy:  check.PolicyInfo{Path: "examples/hello/redline.yaml", Toolchain: "go1.27.3"},
		Size: check.Size{
			CompressedBytes: 3_041_000, UncompressedBytes: 6_512_000, BinaryBytes: 6_390_000, BinaryPath: "/ko-app/hello",
			Layers: []check.LayerSize{
				{Index: 0, Digest: "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9", CompressedBytes: 121_000, UncompressedBytes: 250_000, CreatedBy: "redline build: CA certificates and /etc/passwd"},
				{Index: 1, Digest: "sha256:1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a", CompressedBytes: 2_920_000, UncompressedBytes: 6_262_000, CreatedBy: "redline build: /ko-app/hello"},
			},
			Components: []check.Component{
				{Name: "Go binaries", Bytes: 6_390_000, Files: 1},
				{Name: "CA certificates", Bytes: 221_000, Files: 1},
				{Name: "other", Bytes: 1_200, Files: 3},
			},
		},
		Privilege: check.Privilege{
			User: "65532:65532", UID: 65532, GID: 65532, Entrypoint: "/ko-app/hello", Ports: []int{8080},
			Checks: []check.PrivilegeCheck{
				{Name: "non-root numeric user", OK: true, Detail: "USER 65532:65532"},
				{Name: "no file capabilities", OK: true},
				{Name: "no shell", OK: true, Detail: "no /bin/sh, /bin/bash or busybox"},
			},
		},
		SBOM: check.SBOMSummary{
			Components: 4, ByType: map[string]int{"go-module": 2, "go-stdlib": 1, "file": 1},
			GoBinaries: []check.GoBinary{{Path: "/ko-app/hello", GoVersion: "go1.27.3", Main: "github.com/redline-go/redline/examples/hello", Modules: 2, Stripped: true, Static: true}},
		},
		Analysis: &layers.Analysis{Summary: layers.Summary{Layers: 2, CompressedBytes: 3_041_000, UncompressedBytes: 6_512_000, Efficiency: 1}},
		Vulnerabilities: &vuln.Result{
			SchemaVersion: vuln.SchemaVersion, Target: "oci-dir:out/hello", Data: dataOf(2), Components: 4,
			Findings: []vuln.Finding{}, Fixes: []vuln.Fix{},
		},
		Lint: &rule.Report{SchemaVersion: rule.SchemaVersion},
		Timings: []check.Timing{
			{Step: "build", Seconds: 2.41}, {Step: "pass over layers", Seconds: 0.08}, {Step: "scan", Seconds: 3.3}, {Step: "lint", Seconds: 0.02},
		},
	}
}

// failingCheck crosses the size, vulnerabilities, lint and toolchain
// lines, has a baseline, and carries hostile strings wherever a label
// comes from the image or a file.
func failingCheck() *check.Result {
	r := passingCheck()
	r.Target = "./examples/hello"
	r.Verdict = policy.VerdictFail
	r.Lines = []policy.LineResult{
		{Line: policy.LineSize, Level: policy.Error, Status: policy.Fail, Value: "9.8 MiB compressed", Limit: "≤ 7.1 MiB (binary+1MiB; binary 6.1 MiB)"},
		{Line: policy.LineEfficiency, Level: policy.Error, Status: policy.Pass, Value: "97.2%", Limit: "≥ 95.0%"},
		{Line: policy.LineSlimming, Level: policy.Error, Status: policy.Pass, Value: "88.6% smaller than golang:1.26-bookworm", Limit: "≥ 50% smaller"},
		{Line: policy.LineVulnerabilities, Level: policy.Error, Status: policy.Fail, Value: "2 findings", Limit: "0 at ≥ called",
			Items: []string{"GO-2026-4101 stdlib@go1.26.8 (called)", "GO-2026-4107 stdlib@go1.26.8 (called)"}, IDs: []string{"GO-2026-4101", "GO-2026-4107"}},
		{Line: policy.LineLint, Level: policy.Error, Status: policy.Fail, Value: "1 finding", Limit: "0 at ≥ high",
			Items: []string{"RL-K8S-009 Container root filesystem is writable (deploy/hello.yaml:31)"}, IDs: []string{"RL-K8S-009", "deploy/hello.yaml:31"}},
		{Line: policy.LineUser, Level: policy.Error, Status: policy.Pass, Value: "65532:65532", Limit: "non-root, numeric"},
		{Line: policy.LineCapabilities, Level: policy.Warning, Status: policy.Warn, Value: "cap_net_bind_service=+ep", Limit: "within []",
			Items: []string{"file capability cap_net_bind_service=+ep on /ko-app/hello"}},
		{Line: policy.LineShell, Level: policy.Error, Status: policy.Pass, Value: "none", Limit: "no shell"},
		{Line: policy.LineReproducible, Level: policy.Error, Status: policy.Skipped, Value: "not built here", Limit: "same digest when rebuilt"},
		{Line: policy.LineData, Level: policy.Error, Status: policy.Pass, Value: "2 days old (2026-11-05)", Limit: "≤ 7 days old"},
		{Line: policy.LineGODEBUG, Level: policy.Error, Status: policy.Waived, Value: "1 weakened default", Limit: "no security default weaker than the toolchain's",
			Waivers: []string{"redline.yaml:14: x509negativeserial needed by the legacy CA until 2027-01-31"}},
		{Line: policy.LineToolchain, Level: policy.Error, Status: policy.Fail, Value: "go1.26.8", Limit: "≥ go1.27.3",
			Items: []string{"/ko-app/hello built with go1.26.8"}},
	}
	r.Actions = []check.Action{
		{Line: policy.LineVulnerabilities, Title: "upgrade Go to go1.27.3 — clears 2 reachable findings", Detail: "the toolchain line of go.mod pins go1.26.8", Command: "go get toolchain@go1.27.3", Clears: []string{"GO-2026-4101", "GO-2026-4107"}, Fixable: true},
		{Line: policy.LineLint, Title: "set readOnlyRootFilesystem: true in deploy/hello.yaml:31", Command: "redline harden --write deploy/hello.yaml", Clears: []string{"RL-K8S-009"}, Fixable: true},
		{Line: policy.LineSize, Title: "drop the debug tools layer (layer 2, 6.7 MiB)", Detail: "the size line allows binary+1MiB"},
	}
	r.Size.CompressedBytes = 10_280_000
	r.Size.UncompressedBytes = 21_400_000
	r.Size.Layers = append(r.Size.Layers, check.LayerSize{
		Index: 2, Digest: "sha256:2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b", CompressedBytes: 7_239_000, UncompressedBytes: 14_888_000,
		CreatedBy: "COPY debug/ /opt/debug/" + hostile + " # a very long command line that goes on and on /opt/debug/tools/bin/with/a/deeply/nested/path/that/does/not/break/anywhere",
	})
	r.Size.Components = append(r.Size.Components, check.Component{Name: "debug tools " + hostile, Bytes: 14_888_000, Files: 212})
	r.Size.Baseline = &check.BaselineBar{Ref: "docker:golang:1.26-bookworm", CompressedBytes: 90_100_000, ImageBytes: 10_280_000, ReductionPct: 88.6}
	r.Comparison = &layers.Comparison{
		Baseline:  layers.Side{Image: layers.ImageInfo{Ref: "docker:golang:1.26-bookworm"}, Summary: layers.Summary{CompressedBytes: 90_100_000, UncompressedBytes: 251_000_000, FinalBytes: 247_000_000}},
		Image:     layers.Side{Image: layers.ImageInfo{Ref: "oci-dir:out/hello"}, Summary: layers.Summary{CompressedBytes: 10_280_000, UncompressedBytes: 21_400_000, FinalBytes: 21_300_000}},
		Reduction: layers.Reduction{CompressedBytes: 79_820_000, CompressedPercent: 88.6},
	}
	r.Analysis = &layers.Analysis{Summary: layers.Summary{Layers: 3, CompressedBytes: 10_280_000, UncompressedBytes: 21_400_000, ReclaimableBytes: 600_000, Efficiency: 0.972}}
	r.Privilege.FileCaps = []string{"cap_net_bind_service=+ep"}
	r.Privilege.Checks = []check.PrivilegeCheck{
		{Name: "non-root numeric user", OK: true, Detail: "USER 65532:65532"},
		{Name: "file capabilities within the allow-list", OK: false, Detail: "cap_net_bind_service=+ep on /ko-app/hello"},
		{Name: "read-only root filesystem " + hostile, OK: false, Detail: "deploy/hello.yaml:31 leaves it writable"},
	}
	r.Vulnerabilities = &vuln.Result{
		SchemaVersion: vuln.SchemaVersion, Target: "oci-dir:out/hello", Data: dataOf(2), Components: 31,
		Findings: []vuln.Finding{
			{ID: "GO-2026-4101", Aliases: []string{"CVE-2026-39821"}, Summary: "Excessive CPU in net/http header parsing " + hostile, Severity: vuln.SevUnknown,
				Component: vuln.ComponentRef{Type: "go-stdlib", Name: "stdlib", Version: "go1.26.8", Path: "/ko-app/hello", Layer: 1},
				Packages:  []string{"net/http"}, Symbols: []string{"net/http.(*conn).serve"}, Reach: vuln.Called, Fixed: "go1.26.9",
				Trace: []vuln.Frame{{Function: "main.main", Position: "main.go:21"}, {Function: "net/http.ListenAndServe"}},
				URL:   "https://pkg.go.dev/vuln/GO-2026-4101"},
			{ID: "GO-2026-4107", Summary: "Panic in crypto/x509 name constraints", Severity: vuln.SevUnknown,
				Component: vuln.ComponentRef{Type: "go-stdlib", Name: "stdlib", Version: "go1.26.8", Path: "/ko-app/hello", Layer: 1},
				Reach:     vuln.Called, Fixed: "go1.26.10", URL: "javascript:alert(1)"},
			{ID: "GO-2025-3595", Summary: "Cross-site scripting in golang.org/x/net/html", Severity: vuln.SevMedium,
				Component: vuln.ComponentRef{Type: "go-module", Name: "golang.org/x/net", Version: "v0.37.0", Path: "/ko-app/hello", Layer: 1},
				Reach:     vuln.Imported, Fixed: "v0.38.0", URL: "https://pkg.go.dev/vuln/GO-2025-3595"},
			{ID: "DSA-5999-1", Aliases: []string{"CVE-2026-1111"}, Summary: "tzdata: outdated rules", Severity: vuln.SevHigh, CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
				Component: vuln.ComponentRef{Type: "deb", Name: "tzdata", Version: "2024a-0+deb12u1", Path: "/var/lib/dpkg/status.d/tzdata", Layer: 0},
				Reach:     vuln.Installed},
			{ID: "GO-2024-2687", Summary: "HTTP/2 CONTINUATION flood", Severity: vuln.SevUnknown,
				Component: vuln.ComponentRef{Type: "go-module", Name: "golang.org/x/net", Version: "v0.37.0", Layer: 1},
				Reach:     vuln.Required, Fixed: "v0.23.0", Suppressed: &vuln.Suppression{Status: "not_affected", Justification: "vulnerable_code_not_in_execute_path", Statement: "hello.vex.json"}},
		},
		Fixes: []vuln.Fix{
			{Kind: "toolchain", Name: "go", From: "go1.26.8", To: "go1.26.10", Newest: "go1.27.3", Clears: []string{"GO-2026-4101", "GO-2026-4107"}, Command: "go get toolchain@go1.26.10",
				GODEBUGTarget: "go1.26.10", GODEBUG: []vuln.GODEBUGChange{{Name: "x509negativeserial", Class: "security", From: "1", To: "0", Why: "reject negative serials", Link: "linked"}}},
			{Kind: "module", Name: "golang.org/x/net", From: "v0.37.0", To: "v0.38.0", Clears: []string{"GO-2025-3595"}, Command: "go get golang.org/x/net@v0.38.0"},
			{Kind: "package", Name: "tzdata", From: "2024a-0+deb12u1", Unfixable: []string{"DSA-5999-1"}},
		},
	}
	layer := 2
	r.Lint = &rule.Report{
		SchemaVersion: rule.SchemaVersion,
		Findings: []rule.Finding{
			{Rule: "RL-K8S-009", Severity: rule.High, Title: "Container root filesystem is writable", Message: "readOnlyRootFilesystem is not set", Fix: "set securityContext.readOnlyRootFilesystem: true",
				Target: "deploy", Kind: rule.Kubernetes, Object: "Deployment/hello container app", Location: rule.At("deploy/hello.yaml", 31, 9)},
			{Rule: "RL-IMG-014", Severity: rule.Medium, Title: "World-writable file", Message: "mode 0777", Target: "oci-dir:out/hello", Kind: rule.Image,
				Location: rule.Location{Path: "/opt/debug/" + hostile + "/very/long/path/without/any/spaces/in/it/at/all/to/check/that/it/wraps.txt", Layer: &layer}},
			{Rule: "RL-DF-004", Severity: rule.Low, Title: "Base image not pinned by digest", Message: "FROM golang:1.26", Target: "Dockerfile", Kind: rule.Dockerfile,
				Location: rule.At("Dockerfile", 1, 1), Suppressed: &rule.Suppression{Reason: "pinned by renovate", Line: 1}},
		},
		Notes: []rule.Note{{Target: "go:.", Message: "GOFLAGS not readable"}},
	}
	r.SBOM = check.SBOMSummary{
		Components: 31, Distro: "debian 12", ByType: map[string]int{"go-module": 24, "deb": 5, "go-stdlib": 1, "file": 1},
		GoBinaries: []check.GoBinary{{Path: "/ko-app/hello", GoVersion: "go1.26.8", Main: "github.com/redline-go/redline/examples/hello", Modules: 24, Stripped: true, Static: true}},
	}
	r.Timings = append(r.Timings, check.Timing{Step: "baseline", Seconds: 1.2})
	r.Warnings = []string{"layer 2: /opt/debug/dpkg/status: stanza 3 has no Package field"}
	return r
}

func incompleteCheck() *check.Result {
	r := passingCheck()
	r.Verdict = policy.VerdictIncomplete
	r.Lines[9] = policy.LineResult{Line: policy.LineData, Level: policy.Error, Status: policy.Fail, Value: "no vulnerability data", Limit: "≤ 7 days old"}
	r.Incomplete = []string{"vulnerability data: no vulnerability data, the policy accepts ≤ 7 days old"}
	r.Vulnerabilities = nil
	r.Lint = nil
	return r
}

func renderCheck(t *testing.T, r *check.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := CheckHTML(&b, r); err != nil {
		t.Fatalf("CheckHTML: %v", err)
	}
	return b.String()
}

// htmlDoc is the report parsed as XML: the template emits well-formed
// markup (void elements closed), so a strict tokenizer can check it.
type htmlDoc struct {
	elems []htmlElem
	text  strings.Builder // all character data, entities decoded
	css   strings.Builder // <style> contents and style attributes
}

type htmlElem struct {
	name  string
	attrs map[string]string
}

func parseReport(t *testing.T, s string) *htmlDoc {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	doc := &htmlDoc{}
	var stack []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, col := d.InputPos()
			t.Fatalf("report is not well-formed at %d:%d: %v", line, col, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := htmlElem{name: strings.ToLower(tok.Name.Local), attrs: map[string]string{}}
			for _, a := range tok.Attr {
				name := a.Name.Local
				if a.Name.Space != "" {
					name = a.Name.Space + ":" + name
				}
				e.attrs[strings.ToLower(name)] = a.Value
				if strings.EqualFold(name, "style") {
					doc.css.WriteString(a.Value)
				}
			}
			doc.elems = append(doc.elems, e)
			stack = append(stack, e.name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && stack[len(stack)-1] == "style" {
				doc.css.Write(tok)
			} else {
				doc.text.Write(tok)
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements: %v", stack)
	}
	return doc
}

func (d *htmlDoc) byID(id string) *htmlElem {
	for i := range d.elems {
		if d.elems[i].attrs["id"] == id {
			return &d.elems[i]
		}
	}
	return nil
}

// Text normalised to single spaces, so assertions do not depend on the
// template's line breaks.
func (d *htmlDoc) plain() string { return strings.Join(strings.Fields(d.text.String()), " ") }

func TestCheckHTMLPassing(t *testing.T) {
	out := renderCheck(t, passingCheck())
	doc := parseReport(t, out)
	text := doc.plain()
	for _, want := range []string{
		"Pass", "Every red line holds: this image may ship.",
		"./examples/hello", "sha256:5b0e7c1f3a9d4e2b8c6f1a0d9e8b7c6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c",
		"2 days old (2026-11-05)", "No known vulnerabilities in 4 components.", "No lint findings.",
		"Nothing to do: no red line is crossed.", "/ko-app/hello", "go1.27.3",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("passing report lacks %q", want)
		}
	}
	if e := doc.byID("verdict"); e == nil || !strings.Contains(e.attrs["class"], "pass") {
		t.Errorf("verdict element = %+v, want class pass", e)
	}
	for _, id := range []string{"lines-table", "layers-chart", "components-chart", "privilege-checks", "gobin-table", "timings-chart"} {
		if doc.byID(id) == nil {
			t.Errorf("passing report has no #%s", id)
		}
	}
	for _, id := range []string{"vuln-table", "lint-table", "slimming", "warnings"} {
		if doc.byID(id) != nil {
			t.Errorf("passing report has #%s, nothing to show there", id)
		}
	}
	if strings.Contains(text, "crossed:") {
		t.Errorf("passing report names crossed lines")
	}
}

func TestCheckHTMLFailing(t *testing.T) {
	r := failingCheck()
	doc := parseReport(t, renderCheck(t, r))
	text := doc.plain()

	if e := doc.byID("verdict-word"); e == nil {
		t.Fatal("no #verdict-word")
	}
	if v := doc.byID("verdict"); v == nil || !strings.Contains(v.attrs["class"], "fail") {
		t.Errorf("verdict element = %+v, want class fail", v)
	}
	if want := "4 red lines crossed: Image size, Vulnerabilities, Lint findings, Go toolchain."; !strings.Contains(text, want) {
		t.Errorf("report lacks headline %q", want)
	}
	// Every crossed line: its row, name, measured value, limit and items.
	for _, l := range r.Lines {
		if l.Status != policy.Fail {
			continue
		}
		row := doc.byID("line-" + l.Line)
		if row == nil || !strings.Contains(row.attrs["class"], "fail") {
			t.Errorf("line %s: row %+v, want class fail", l.Line, row)
		}
		for _, want := range append([]string{l.Line, l.Value, l.Limit}, l.Items...) {
			if !strings.Contains(text, want) {
				t.Errorf("line %s: report lacks %q", l.Line, want)
			}
		}
	}
	if row := doc.byID("line-" + policy.LineCapabilities); row == nil || !strings.Contains(row.attrs["class"], "warn") {
		t.Errorf("warning line row = %+v, want class warn", row)
	}
	if row := doc.byID("line-" + policy.LineGODEBUG); row == nil || !strings.Contains(row.attrs["class"], "waived") {
		t.Errorf("waived line row = %+v, want class waived", row)
	}
	// Every finding and fix, by ID.
	for _, f := range r.Vulnerabilities.Findings {
		for _, want := range append([]string{f.ID, f.Component.Name, string(f.Reach), f.Severity, f.Fixed}, f.Aliases...) {
			if !strings.Contains(text, want) {
				t.Errorf("finding %s: report lacks %q", f.ID, want)
			}
		}
	}
	for _, fx := range r.Vulnerabilities.Fixes {
		if fx.Command != "" && !strings.Contains(text, fx.Command) {
			t.Errorf("fix %s: report lacks command %q", fx.Name, fx.Command)
		}
	}
	for _, f := range r.Lint.Findings {
		for _, want := range []string{f.Rule, f.Title, f.Location.String()} {
			if !strings.Contains(text, want) {
				t.Errorf("lint finding %s: report lacks %q", f.Rule, want)
			}
		}
	}
	for _, a := range r.Actions {
		if !strings.Contains(text, a.Title) || (a.Command != "" && !strings.Contains(text, a.Command)) {
			t.Errorf("report lacks action %q / %q", a.Title, a.Command)
		}
	}
	for _, want := range []string{
		"88.6%", "smaller than the baseline", "85.9 MiB", // baseline compressed
		"suppressed — not_affected: vulnerable_code_not_in_execute_path",
		"no release clears: DSA-5999-1", "debian 12", "GOFLAGS not readable",
		"stanza 3 has no Package field",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("failing report lacks %q", want)
		}
	}
	for _, id := range []string{"verdict", "lines-table", "actions", "layers-chart", "components-chart", "slimming", "vuln-table", "fixes-table", "privilege-checks", "lint-table", "gobin-table", "timings-chart", "warnings"} {
		if doc.byID(id) == nil {
			t.Errorf("failing report has no #%s", id)
		}
	}
	// The advisory link is kept, the javascript: one is not a link.
	var links []string
	for _, e := range doc.elems {
		if e.name == "a" && !strings.HasPrefix(e.attrs["href"], "#") {
			links = append(links, e.attrs["href"])
		}
	}
	if want := []string{"https://pkg.go.dev/vuln/GO-2026-4101", "https://pkg.go.dev/vuln/GO-2025-3595"}; strings.Join(links, " ") != strings.Join(want, " ") {
		t.Errorf("advisory links = %q, want %q", links, want)
	}
}

func TestCheckHTMLIncomplete(t *testing.T) {
	doc := parseReport(t, renderCheck(t, incompleteCheck()))
	text := doc.plain()
	for _, want := range []string{"Incomplete", "The result cannot be trusted", "vulnerability data: no vulnerability data, the policy accepts ≤ 7 days old", "The vulnerability scan did not run.", "Lint did not run."} {
		if !strings.Contains(text, want) {
			t.Errorf("incomplete report lacks %q", want)
		}
	}
	if v := doc.byID("verdict"); v == nil || !strings.Contains(v.attrs["class"], "incomplete") {
		t.Errorf("verdict element = %+v, want class incomplete", v)
	}
}

// A baseline without a full comparison still draws before/after bars.
func TestCheckHTMLBaselineOnly(t *testing.T) {
	r := failingCheck()
	r.Comparison = nil
	doc := parseReport(t, renderCheck(t, r))
	if doc.byID("slimming") == nil {
		t.Fatal("no #slimming chart with a baseline")
	}
	text := doc.plain()
	for _, want := range []string{"88.6%", "docker:golang:1.26-bookworm", "85.9 MiB", "9.8 MiB", "−88.6%"} {
		if !strings.Contains(text, want) {
			t.Errorf("baseline bars lack %q", want)
		}
	}
	var bars int
	for _, e := range doc.elems {
		if e.name == "rect" && (e.attrs["class"] == "before" || e.attrs["class"] == "after") {
			bars++
		}
	}
	if bars != 2 {
		t.Errorf("%d before/after bars, want 2", bars)
	}
}

// loadAttrs are the attributes through which an element fetches something.
var loadAttrs = []string{"src", "srcset", "href", "xlink:href", "poster", "data", "background", "action", "formaction", "manifest", "ping", "codebase"}

func TestCheckHTMLNoExternalResources(t *testing.T) {
	for name, r := range map[string]*check.Result{"pass": passingCheck(), "fail": failingCheck(), "incomplete": incompleteCheck()} {
		t.Run(name, func(t *testing.T) {
			doc := parseReport(t, renderCheck(t, r))
			for _, e := range doc.elems {
				switch e.name {
				case "script", "link", "img", "image", "iframe", "frame", "object", "embed", "video", "audio", "source", "track", "base", "form", "use", "foreignobject":
					t.Errorf("report has a <%s> element %v", e.name, e.attrs)
				}
				for _, a := range loadAttrs {
					v, ok := e.attrs[a]
					if !ok {
						continue
					}
					if e.name == "a" && a == "href" {
						// A link loads nothing until followed; it must
						// not run script either.
						if !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, "https://") {
							t.Errorf("link to %q", v)
						}
						continue
					}
					t.Errorf("<%s %s=%q> could load a resource", e.name, a, v)
				}
				if e.name == "meta" && strings.EqualFold(e.attrs["http-equiv"], "refresh") {
					t.Errorf("meta refresh %q", e.attrs["content"])
				}
			}
			css := strings.ToLower(doc.css.String())
			if css == "" {
				t.Fatal("no inline CSS")
			}
			for _, bad := range []string{"url(", "@import", "image-set(", "@font-face"} {
				if strings.Contains(css, bad) {
					t.Errorf("CSS uses %s", bad)
				}
			}
			// The content security policy forbids loads even if a
			// future template change adds one.
			var csp string
			for _, e := range doc.elems {
				if e.name == "meta" && strings.EqualFold(e.attrs["http-equiv"], "Content-Security-Policy") {
					csp = e.attrs["content"]
				}
			}
			if !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP = %q, want default-src 'none'", csp)
			}
		})
	}
}

func TestCheckHTMLEscapes(t *testing.T) {
	r := failingCheck()
	r.Target = "./cmd/" + hostile
	r.Image.Name = `hello"><img src=x onerror=alert(2)>`
	r.Actions[0].Title = "upgrade " + hostile
	out := renderCheck(t, r)
	if strings.Contains(out, hostile) || strings.Contains(out, "<img") {
		t.Fatal("hostile markup reached the report unescaped")
	}
	doc := parseReport(t, out)
	for _, e := range doc.elems {
		if e.name == "script" || e.name == "img" {
			t.Fatalf("hostile input made a <%s> element", e.name)
		}
		for k := range e.attrs {
			if strings.HasPrefix(k, "on") {
				t.Errorf("<%s> has an event handler attribute %s", e.name, k)
			}
		}
	}
	// Shown as text, where it was put: target, layer command, component,
	// finding summary, lint path, privilege check, action.
	text := doc.text.String()
	if n := strings.Count(text, hostile); n < 7 {
		t.Errorf("hostile string shown as text %d times, want ≥ 7", n)
	}
	if !strings.Contains(text, `hello"><img src=x onerror=alert(2)>`) {
		t.Error("image name not shown as text")
	}
	if strings.Contains(out, "javascript:") {
		t.Error("a javascript: URL reached the report")
	}
}

func TestCheckHTMLWraps(t *testing.T) {
	// Layout rules the browser test measures; here as a quick guard.
	css := string(checkCSS)
	for _, want := range []string{"overflow-wrap: anywhere", "@media (max-width: 760px)", "content: attr(data-label)", "prefers-color-scheme: dark", "@media print"} {
		if !strings.Contains(css, want) {
			t.Errorf("CSS lacks %q", want)
		}
	}
	// Stacked rows need a label on every cell.
	out := renderCheck(t, failingCheck())
	cells := regexp.MustCompile(`<td[ >]`).FindAllString(out, -1)
	labelled := regexp.MustCompile(`<td data-label="[^"]+"`).FindAllString(out, -1)
	if len(cells) == 0 || len(cells) != len(labelled) {
		t.Errorf("%d of %d table cells have a data-label", len(labelled), len(cells))
	}
}

func TestCheckHTMLNil(t *testing.T) {
	if err := CheckHTML(io.Discard, nil); err == nil {
		t.Error("CheckHTML(nil) succeeded")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCheckHTMLWriteError(t *testing.T) {
	if err := CheckHTML(failWriter{}, passingCheck()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("CheckHTML to a failing writer = %v, want the write error", err)
	}
}

// TestCheckHTMLLinksLinesToFindings: a crossed line links to the rows of
// the advisories and rules that cross it, and only to rows that exist.
func TestCheckHTMLLinksLinesToFindings(t *testing.T) {
	doc := parseReport(t, renderCheck(t, failingCheck()))
	hrefs := map[string]bool{}
	for _, e := range doc.elems {
		if h := e.attrs["href"]; strings.HasPrefix(h, "#") {
			hrefs[h] = true
			if doc.byID(h[1:]) == nil {
				t.Errorf("link %s goes nowhere", h)
			}
		}
	}
	for id, row := range map[string]string{"GO-2026-4101": "v-GO-2026-4101", "GO-2026-4107": "v-GO-2026-4107", "RL-K8S-009": "l-RL-K8S-009"} {
		e := doc.byID(row)
		if e == nil || e.name != "tr" {
			t.Errorf("%s: no finding row #%s (%+v)", id, row, e)
		}
		if !hrefs["#"+row] {
			t.Errorf("%s: the line it crosses does not link to #%s", id, row)
		}
	}
	// A path among a line's IDs has no row: no link.
	if hrefs["#deploy/hello.yaml:31"] || hrefs["#v-deploy/hello.yaml:31"] || hrefs["#l-deploy/hello.yaml:31"] {
		t.Error("a link to a path that has no row")
	}
}
