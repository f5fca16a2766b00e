package rule

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSeverity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Severity
		err  bool
	}{
		{"high", High, false}, {"CRITICAL", Critical, false}, {" low ", Low, false}, {"info", Info, false}, {"medium", Medium, false},
		{"severe", 0, true}, {"", 0, true},
	} {
		got, err := ParseSeverity(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSeverity(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if b, _ := High.MarshalText(); string(b) != "high" {
		t.Errorf("High marshals as %q", b)
	}
	var s Severity
	if err := s.UnmarshalText([]byte("medium")); err != nil || s != Medium {
		t.Errorf("UnmarshalText(medium) = %v, %v", s, err)
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{"RL-IMG-001": true, "RL-X-007": true, "RL-GO-010": true, "RL-K8S-016": true, "RL-DF-1": false, "DL3002": false, "rl-img-001": false, "RL-FOO-001": false} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v", id, got)
		}
	}
}

func TestFindDirectives(t *testing.T) {
	src := []byte(`# redline:ignore RL-DF-002 pinned by the build system
FROM x
RUN echo # redline:ignore RL-DF-005 not a comment in a Dockerfile
  #   redline:ignore rl-k8s-001,RL-K8S-002   two rules, lower case
key: value # redline:ignore RL-K8S-008 trailing
url: http://x#redline:ignore RL-K8S-009 no space before the hash
# redline:ignore-file RL-DF-003 whole file
# redline:ignore RL-DF-004
# redline:ignore
`)
	type d struct {
		Line      int
		IDs       []string
		Reason    string
		WholeFile bool
		Trailing  bool
	}
	conv := func(ds []Directive) []d {
		var out []d
		for _, x := range ds {
			out = append(out, d{x.Line, x.IDs, x.Reason, x.WholeFile, x.Trailing})
		}
		return out
	}
	wantDocker := []d{
		{1, []string{"RL-DF-002"}, "pinned by the build system", false, false},
		{4, []string{"RL-K8S-001", "RL-K8S-002"}, "two rules, lower case", false, false},
		{7, []string{"RL-DF-003"}, "whole file", true, false},
		{8, []string{"RL-DF-004"}, "", false, false},
		{9, nil, "", false, false},
	}
	if diff := cmp.Diff(wantDocker, conv(FindDirectives(src, false))); diff != "" {
		t.Errorf("Dockerfile directives (-want +got):\n%s", diff)
	}
	wantYAML := []d{
		{1, []string{"RL-DF-002"}, "pinned by the build system", false, false},
		{3, []string{"RL-DF-005"}, "not a comment in a Dockerfile", false, true},
		{4, []string{"RL-K8S-001", "RL-K8S-002"}, "two rules, lower case", false, false},
		{5, []string{"RL-K8S-008"}, "trailing", false, true},
		{7, []string{"RL-DF-003"}, "whole file", true, false},
		{8, []string{"RL-DF-004"}, "", false, false},
		{9, nil, "", false, false},
	}
	if diff := cmp.Diff(wantYAML, conv(FindDirectives(src, true))); diff != "" {
		t.Errorf("YAML directives (-want +got):\n%s", diff)
	}
	if FindDirectives([]byte("a: b # nothing here\n"), true) != nil {
		t.Error("directives found in a file without any")
	}
}

func TestSuppress(t *testing.T) {
	r := &Rule{ID: "RL-K8S-008", Severity: Medium, Title: "t"}
	other := &Rule{ID: "RL-K8S-009", Severity: Medium, Title: "t"}
	fs := []Finding{
		r.New(At("a.yaml", 10, 0), "", "in scope"),
		r.New(At("a.yaml", 20, 0), "", "out of scope"),
		other.New(At("a.yaml", 10, 0), "", "other rule"),
		r.New(At("b.yaml", 10, 0), "", "other file"),
	}
	ds := []Directive{
		{Line: 9, IDs: []string{"RL-K8S-008"}, Reason: "writes to /", From: 10, To: 12},
		{Line: 15, IDs: []string{"RL-K8S-009"}, From: 16, To: 30},               // no reason: suppresses nothing
		{Line: 16, IDs: []string{"RL-NOPE-001"}, Reason: "x", From: 17, To: 17}, // unknown
		{Line: 1, IDs: nil, Reason: ""},
	}
	known := func(id string) bool { return id == r.ID || id == other.ID }
	ws := Suppress(fs, ds, "a.yaml", known)
	var got []bool
	for _, f := range fs {
		got = append(got, f.Suppressed != nil)
	}
	if diff := cmp.Diff([]bool{true, false, false, false}, got); diff != "" {
		t.Errorf("suppressed (-want +got):\n%s", diff)
	}
	if fs[0].Suppressed.Reason != "writes to /" || fs[0].Suppressed.Line != 9 {
		t.Errorf("suppression = %+v", fs[0].Suppressed)
	}
	var msgs []string
	for _, w := range ws {
		msgs = append(msgs, w.String())
	}
	want := []string{
		"a.yaml:15: redline:ignore gives no reason: it suppresses nothing (write `# redline:ignore RULE-ID reason`)",
		"a.yaml:16: redline:ignore names unknown rule RL-NOPE-001 (see `redline lint --list`)",
		"a.yaml:1: redline:ignore names no rule: it suppresses nothing (write `# redline:ignore RULE-ID reason`)",
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	// ignore-file covers every line.
	fs2 := []Finding{r.New(At("a.yaml", 99, 0), "", "x")}
	Suppress(fs2, []Directive{{Line: 1, IDs: []string{r.ID}, Reason: "why", WholeFile: true}}, "a.yaml", known)
	if fs2[0].Suppressed == nil {
		t.Error("ignore-file did not suppress")
	}
}

func TestReportSummaryAndGate(t *testing.T) {
	hi := &Rule{ID: "RL-IMG-001", Severity: High}
	lo := &Rule{ID: "RL-IMG-006", Severity: Low}
	rep := &Report{Findings: []Finding{hi.New(Location{}, "", "a"), lo.New(Location{}, "", "b"), hi.New(Location{}, "", "c")}, Warnings: []Warning{{Message: "w"}}}
	rep.Findings[2].Suppressed = &Suppression{Reason: "r"}
	rep.Summarize()
	if diff := cmp.Diff(Summary{High: 1, Low: 1, Suppressed: 1, Warnings: 1}, rep.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if n := len(rep.Crossed(High)); n != 1 {
		t.Errorf("Crossed(high) = %d findings, want 1 (the suppressed one never gates)", n)
	}
	if n := len(rep.Crossed(Low)); n != 2 {
		t.Errorf("Crossed(low) = %d, want 2", n)
	}
	if n := len(rep.Crossed(Critical)); n != 0 {
		t.Errorf("Crossed(critical) = %d, want 0", n)
	}
}

func TestLocationString(t *testing.T) {
	for _, tc := range []struct {
		l    Location
		want string
	}{
		{At("Dockerfile", 3, 0), "Dockerfile:3"},
		{At("go.mod", 0, 0), "go.mod"},
		{InImage("/app", 2), "/app (layer 2)"},
		{Location{}, ""},
	} {
		if got := tc.l.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.l, got, tc.want)
		}
	}
}
