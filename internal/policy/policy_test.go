package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/vuln"
)

func TestParseValid(t *testing.T) {
	src := `version: 1
build:
  toolchain: go1.27.3
  caps: [NET_BIND_SERVICE]
  ports: ["8080", 9090]
  baseline: docker-archive:naive.tar
lines:
  size: {max: binary*1.5, level: warning}
  efficiency: {min: 0.9}
  vulnerabilities: {reachability: imported, severity: high}
  lint: {severity: medium}
  capabilities: {allow: [CAP_NET_BIND_SERVICE, NET_RAW]}
  data: {maxAge: 14d}
  shell: {level: off}
waivers:
  - line: vulnerabilities
    id: GO-2026-0001
    reason: not reachable in our deployment
    expires: 2027-01-31
`
	p, err := Parse("redline.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Build.Toolchain != "go1.27.3" || len(p.Build.Caps) != 1 || p.Build.Caps[0] != caps.NetBindService {
		t.Errorf("build = %+v", p.Build)
	}
	if strings.Join(p.Build.Ports, ",") != "8080,9090" {
		t.Errorf("ports = %v", p.Build.Ports)
	}
	l := p.Lines
	if !l.Size.Binary || l.Size.Factor != 1.5 || l.Size.Level != Warning {
		t.Errorf("size = %+v", l.Size)
	}
	if l.Efficiency.Min != 0.9 || l.Efficiency.Level != Error {
		t.Errorf("efficiency = %+v", l.Efficiency)
	}
	if l.Vulnerabilities.Reachability != "imported" || l.Vulnerabilities.Severity != "high" {
		t.Errorf("vulnerabilities = %+v", l.Vulnerabilities)
	}
	if l.Data.MaxAgeDays != 14 || l.Shell.Level != Off || len(l.Capabilities.Allow) != 2 {
		t.Errorf("data %+v shell %+v caps %+v", l.Data, l.Shell, l.Capabilities)
	}
	// Untouched lines keep their defaults.
	if l.Slimming.Min != 80 || l.User.Level != Error {
		t.Errorf("defaults lost: slimming %+v user %+v", l.Slimming, l.User)
	}
	if len(p.Waivers) != 1 || p.Waivers[0].Pos != "redline.yaml:16" || p.Waivers[0].Expires.Format(time.DateOnly) != "2027-01-31" {
		t.Errorf("waivers = %+v", p.Waivers)
	}
}

func TestParseErrorsHaveLineAndColumn(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // substrings, each in one error line
	}{
		{"unknown top key", "version: 1\nlinez:\n  size: {}\n", []string{`redline.yaml:2:1: unknown key "linez"`}},
		{"unknown line", "lines:\n  size: {}\n  sise: {max: 1MB}\n", []string{`redline.yaml:3:3: unknown key "sise" in lines`}},
		{"unknown key in a line", "lines:\n  size:\n    maks: 1MB\n", []string{`redline.yaml:3:5: unknown key "maks" in lines.size`}},
		{"wrong type", "lines:\n  efficiency:\n    min: high\n", []string{"redline.yaml:3:10: lines.efficiency.min:"}},
		{"out of range", "lines:\n  efficiency: {min: 1.5}\n", []string{"redline.yaml:2:21: lines.efficiency.min:"}},
		{"bad level", "lines:\n  user: {level: fatal}\n", []string{"redline.yaml:2:17: lines.user.level:"}},
		{"bad toolchain", "build:\n  toolchain: 1.27\n", []string{"redline.yaml:2:14: build.toolchain:"}},
		{"waiver without reason", "waivers:\n  - line: shell\n    expires: 2027-01-01\n", []string{"redline.yaml:2:5: waivers.0:", "reason"}},
		{"bad date", "waivers:\n  - {line: shell, reason: why not, expires: 2027-02-30}\n", []string{"redline.yaml:2:45: waivers: expires"}},
		{"bad capability", "build:\n  caps: [NET_BIND_SERVIS]\n", []string{"redline.yaml:2:10:"}},
		{"bad size", "lines:\n  size: {max: lots}\n", []string{"redline.yaml:2:15: lines.size.max:"}},
		{"duplicate key", "version: 1\nversion: 1\n", []string{`redline.yaml:2:1: key "version" appears twice`}},
		{"yaml syntax", "lines:\n  size: {max: [\n", []string{"redline.yaml:"}},
		{"not a mapping", "- a\n- b\n", []string{"redline.yaml:1:1:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("redline.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	for _, src := range []string{"", "# only a comment\n", "---\n"} {
		p, err := Parse("redline.yaml", []byte(src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if p.Lines.Size.Add != 1<<20 || p.Lines.Data.MaxAgeDays != 7 || p.Lines.Vulnerabilities.Reachability != "called" {
			t.Errorf("%q: not the defaults: %+v", src, p.Lines)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		bin  int64
		want int64
	}{
		{"binary", 1000, 1000},
		{"binary+1MiB", 1000, 1000 + 1<<20},
		{"binary + 500KB", 1000, 501000},
		{"binary*2", 1000, 2000},
		{"20MiB", 1000, 20 << 20},
		{"1.5GB", 0, 1_500_000_000},
	} {
		s, err := ParseSize(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := s.Limit(tc.bin); got != tc.want {
			t.Errorf("%q with binary %d: limit %d, want %d", tc.in, tc.bin, got, tc.want)
		}
	}
	for _, bad := range []string{"binary-1MB", "binary*0", "lots", "12 parsecs"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestLoadResolvesPathsAgainstThePolicy(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "naive.tar"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, FileName), []byte("build:\n  baseline: naive.tar\n  manifests: [deploy]\n"), 0o644)
	found, err := Find("", dir)
	if err != nil || found != filepath.Join(dir, FileName) {
		t.Fatalf("Find = %q, %v", found, err)
	}
	p, err := Load(found)
	if err != nil {
		t.Fatal(err)
	}
	if p.Build.Baseline != filepath.Join(dir, "naive.tar") || p.Build.Manifests[0] != filepath.Join(dir, "deploy") {
		t.Errorf("paths not resolved: %+v", p.Build)
	}
	if _, err := Find(filepath.Join(dir, "missing.yaml"), ""); err == nil {
		t.Error("an explicit missing policy is not an error")
	}
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, []byte(strings.Repeat("#", MaxFileBytes+10)), 0o644)
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized policy: %v", err)
	}
}

// clean is a measurement that holds every default line.
func clean() *Measurements {
	return &Measurements{
		CompressedBytes: 3 << 20, BinaryBytes: 6 << 20, BinaryPath: "/usr/local/bin/hello",
		Efficiency: 1, User: "65532:65532", UID: 65532,
		Reproducible: ptr(true), Data: vuln.Data{AgeDays: 2, Date: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
		GoVersions: map[string]string{"/usr/local/bin/hello": "go1.27.3"}, Toolchain: "go1.27.3",
	}
}

func ptr[T any](v T) *T { return &v }

func status(ev *Evaluation, line string) LineResult {
	for _, l := range ev.Lines {
		if l.Line == line {
			return l
		}
	}
	return LineResult{Status: "missing"}
}

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestEvaluateCleanPasses(t *testing.T) {
	ev := Evaluate(Default(), clean(), now)
	if ev.Verdict != VerdictPass {
		t.Fatalf("verdict %s: %+v", ev.Verdict, ev.Crossed())
	}
	if s := status(ev, LineSlimming).Status; s != Skipped {
		t.Errorf("slimming without a baseline: %s", s)
	}
}

func TestEvaluateEachLineCrosses(t *testing.T) {
	sev := func(s rule.Severity) rule.Severity { return s }
	for _, tc := range []struct {
		line   string
		change func(m *Measurements)
	}{
		{LineSize, func(m *Measurements) { m.CompressedBytes = m.BinaryBytes + 1<<20 + 1 }},
		{LineEfficiency, func(m *Measurements) { m.Efficiency = 0.94 }},
		{LineSlimming, func(m *Measurements) { m.Slimming, m.Baseline = ptr(79.9), "naive" }},
		{LineVulnerabilities, func(m *Measurements) {
			m.Vulns = []vuln.Finding{{ID: "GO-2026-0001", Reach: vuln.Called, Severity: "unknown", Component: vuln.ComponentRef{Name: "stdlib", Version: "go1.26.8"}}}
		}},
		{LineLint, func(m *Measurements) {
			m.Lint = []rule.Finding{{Rule: "RL-K8S-004", Severity: sev(rule.High), Title: "allowPrivilegeEscalation is not false", Location: rule.Location{File: "deploy.yaml", Line: 31}}}
		}},
		{LineUser, func(m *Measurements) { m.User, m.UID = "", 0 }},
		{LineUser, func(m *Measurements) { m.User, m.UserName = "nonroot", true }},
		{LineCapabilities, func(m *Measurements) { m.FileCaps = []string{"CAP_SYS_ADMIN"} }},
		{LineCapabilities, func(m *Measurements) {
			m.Lint = []rule.Finding{{Rule: "RL-K8S-007", Severity: rule.High, Title: "capabilities added beyond the allow-list", Location: rule.Location{File: "deploy.yaml", Line: 31}}}
		}},
		{LineShell, func(m *Measurements) { m.Shells = []string{"/bin/sh"} }},
		{LineReproducible, func(m *Measurements) { m.Reproducible = ptr(false) }},
		{LineGODEBUG, func(m *Measurements) {
			m.Lint = []rule.Finding{{Rule: "RL-IMG-016", Severity: rule.High, Title: "GODEBUG weaker"}}
		}},
		{LineToolchain, func(m *Measurements) { m.GoVersions["/usr/local/bin/hello"] = "go1.26.8" }},
	} {
		t.Run(tc.line, func(t *testing.T) {
			m := clean()
			tc.change(m)
			ev := Evaluate(Default(), m, now)
			if ev.Verdict != VerdictFail {
				t.Errorf("verdict %s", ev.Verdict)
			}
			cr := ev.Crossed()
			if len(cr) != 1 || cr[0].Line != tc.line {
				t.Fatalf("crossed %+v, want only %s", cr, tc.line)
			}
			// The same crossing as a warning holds the verdict.
			p := Default()
			setLevel(p, tc.line, Warning)
			ev = Evaluate(p, m, now)
			if ev.Verdict != VerdictPass || status(ev, tc.line).Status != Warn {
				t.Errorf("as a warning: verdict %s, status %s", ev.Verdict, status(ev, tc.line).Status)
			}
			// A waiver of the whole line holds it too.
			p = Default()
			p.Waivers = []Waiver{{Line: tc.line, Reason: "accepted", Expires: now.AddDate(0, 1, 0), Pos: "redline.yaml:9"}}
			ev = Evaluate(p, m, now)
			if ev.Verdict != VerdictPass || status(ev, tc.line).Status != Waived {
				t.Errorf("waived: verdict %s, status %s", ev.Verdict, status(ev, tc.line).Status)
			}
		})
	}
}

func setLevel(p *Policy, line string, l Level) {
	switch line {
	case LineSize:
		p.Lines.Size.Level = l
	case LineEfficiency:
		p.Lines.Efficiency.Level = l
	case LineSlimming:
		p.Lines.Slimming.Level = l
	case LineVulnerabilities:
		p.Lines.Vulnerabilities.Level = l
	case LineLint:
		p.Lines.Lint.Level = l
	case LineUser:
		p.Lines.User.Level = l
	case LineCapabilities:
		p.Lines.Capabilities.Level = l
	case LineShell:
		p.Lines.Shell.Level = l
	case LineReproducible:
		p.Lines.Reproducible.Level = l
	case LineData:
		p.Lines.Data.Level = l
	case LineGODEBUG:
		p.Lines.GODEBUG.Level = l
	case LineToolchain:
		p.Lines.Toolchain.Level = l
	}
}

func TestVulnerabilityGates(t *testing.T) {
	f := func(id string, r vuln.Reach, sev string) vuln.Finding {
		return vuln.Finding{ID: id, Reach: r, Severity: sev, Component: vuln.ComponentRef{Name: "m", Version: "v1"}}
	}
	m := clean()
	m.Vulns = []vuln.Finding{
		f("A", vuln.Imported, "critical"),
		f("B", vuln.Required, "unknown"),
		f("C", vuln.Called, "low"),
	}
	m.Vulns[2].Suppressed = &vuln.Suppression{Status: "not_affected"}
	// Default (called): A and B are not called, C is suppressed.
	if ev := Evaluate(Default(), m, now); ev.Verdict != VerdictPass {
		t.Errorf("default gate: %+v", ev.Crossed())
	}
	p := Default()
	p.Lines.Vulnerabilities.Reachability = "any"
	got := status(Evaluate(p, m, now), LineVulnerabilities)
	if got.Status != Fail || len(got.Items) != 2 || strings.Join(got.IDs, ",") != "A,B" {
		t.Errorf("any: %+v", got)
	}
	p.Lines.Vulnerabilities.Severity = "high"
	got = status(Evaluate(p, m, now), LineVulnerabilities)
	if len(got.Items) != 2 { // unknown severity still counts
		t.Errorf("high with unknown counting: %+v", got.Items)
	}
	p.Lines.Vulnerabilities.IgnoreUnknownSeverity = true
	got = status(Evaluate(p, m, now), LineVulnerabilities)
	if len(got.Items) != 1 || !strings.HasPrefix(got.Items[0], "A ") {
		t.Errorf("high ignoring unknown: %+v", got.Items)
	}
	// A waiver of one ID by an alias.
	m.Vulns[0].Aliases = []string{"CVE-2026-1"}
	p.Waivers = []Waiver{{Line: LineVulnerabilities, ID: "cve-2026-1", Reason: "r", Expires: now, Pos: "p:1"}}
	got = status(Evaluate(p, m, now), LineVulnerabilities)
	if got.Status != Pass || len(got.Waivers) != 1 {
		t.Errorf("waived by alias: %+v", got)
	}
}

func TestExpiredWaiverIsAFinding(t *testing.T) {
	m := clean()
	m.Shells = []string{"/bin/sh"}
	p := Default()
	p.Waivers = []Waiver{{Line: LineShell, Reason: "debugging", Expires: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), Pos: "redline.yaml:4"}}
	ev := Evaluate(p, m, now)
	if ev.Verdict != VerdictFail {
		t.Fatalf("verdict %s", ev.Verdict)
	}
	if s := status(ev, LineShell).Status; s != Fail {
		t.Errorf("an expired waiver still waived the shell: %s", s)
	}
	w := status(ev, LineWaivers)
	if w.Status != Fail || len(w.Items) != 1 || !strings.Contains(w.Items[0], "redline.yaml:4") || !strings.Contains(w.Items[0], "expired on 2026-11-26") {
		t.Errorf("waivers line: %+v", w)
	}
	// The expiry day itself still holds.
	p.Waivers[0].Expires = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	if ev := Evaluate(p, m, now); ev.Verdict != VerdictPass {
		t.Errorf("a waiver expiring today did not hold: %+v", ev.Crossed())
	}
}

func TestStaleDataIsIncomplete(t *testing.T) {
	m := clean()
	m.Data.AgeDays = 21
	ev := Evaluate(Default(), m, now)
	if ev.Verdict != VerdictIncomplete || len(ev.Incomplete) != 1 {
		t.Errorf("stale data: verdict %s %v", ev.Verdict, ev.Incomplete)
	}
	m.Data.AgeDays, m.DataMissing = 0, true
	if ev := Evaluate(Default(), m, now); ev.Verdict != VerdictIncomplete {
		t.Errorf("missing data: verdict %s", ev.Verdict)
	}
	p := Default()
	p.Lines.Data.Level = Warning
	m.DataMissing, m.Data.AgeDays = false, 21
	if ev := Evaluate(p, m, now); ev.Verdict != VerdictPass || status(ev, LineData).Status != Warn {
		t.Errorf("stale data as a warning: %s", ev.Verdict)
	}
}

func TestLintLineSkipsClaimedAndLowFindings(t *testing.T) {
	m := clean()
	m.Lint = []rule.Finding{
		{Rule: "RL-K8S-013", Severity: rule.Medium, Title: "no memory limit"},
		{Rule: "RL-GO-010", Severity: rule.High, Title: "toolchain"}, // the scan speaks for it
		{Rule: "RL-K8S-010", Severity: rule.High, Title: "host namespaces", Suppressed: &rule.Suppression{Reason: "r"}},
	}
	if ev := Evaluate(Default(), m, now); ev.Verdict != VerdictPass {
		t.Errorf("crossed %+v", ev.Crossed())
	}
	p := Default()
	p.Lines.Lint.Severity = "medium"
	got := status(Evaluate(p, m, now), LineLint)
	if got.Status != Fail || len(got.Items) != 1 || !strings.HasPrefix(got.Items[0], "RL-K8S-013") || strings.Join(got.IDs, ",") != "RL-K8S-013" {
		t.Errorf("medium: %+v", got)
	}
}

func TestCompareGo(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"go1.26.8", "go1.27.3", -1}, {"go1.27.3", "go1.27.3", 0}, {"go1.27rc1", "go1.27.0", -1},
		{"go1.27", "go1.27rc2", 1}, {"go1.9", "go1.10", -1},
	} {
		if got := CompareGo(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareGo(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestBadValueIsNotAlsoAnUnknownKey(t *testing.T) {
	_, err := Parse("p.yaml", []byte("lines:\n  user: {level: fatal}\n"))
	if err == nil || strings.Contains(err.Error(), "unknown key") || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("want one error about the level, got:\n%v", err)
	}
}
