package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/redline-go/redline/internal/check"
	"github.com/redline-go/redline/internal/policy"
	"github.com/redline-go/redline/internal/vuln"
)

// TestCheckSummaryFitsOneScreen: however many lines fail and actions
// exist, the summary fits 80×24, and names the verdict and the first
// action.
func TestCheckSummaryFitsOneScreen(t *testing.T) {
	r := &check.Result{Target: "./examples/hello/with/a/very/long/path/that/keeps/going/and/going", Verdict: policy.VerdictFail,
		Image:           check.ImageInfo{Digest: "sha256:" + strings.Repeat("ab", 32), Platform: "linux/amd64"},
		Vulnerabilities: &vuln.Result{Data: vuln.Data{AgeDays: 21}}, Policy: check.PolicyInfo{Path: "examples/hello/redline.yaml"}}
	for _, name := range append(policy.LineNames, policy.LineWaivers) {
		r.Lines = append(r.Lines, policy.LineResult{Line: name, Status: policy.Fail, Value: strings.Repeat("measured ", 8), Limit: strings.Repeat("limit ", 12)})
	}
	for i := range 12 {
		r.Actions = append(r.Actions, check.Action{Title: fmt.Sprintf("action %d %s", i, strings.Repeat("x", 100)), Command: "go get example.com/m@v1.2.3", Fixable: true})
	}
	r.Incomplete = []string{"vulnerability data: 21 days old"}
	r.Fix = &check.FixReport{Before: "fail", BeforeCrossed: []string{"vulnerabilities"}, Applied: []check.Fixed{{Title: "upgrade Go"}}}
	var b bytes.Buffer
	if err := CheckSummary(&b, r, CheckOptions{ReportDir: "out"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) > 24 {
		t.Errorf("%d lines:\n%s", len(lines), b.String())
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	out := b.String()
	for _, want := range []string{"FAIL (13 of 13 red lines crossed)", "1. action 0", "more in report.json", "report: out/report.html", "--fix: was FAIL (vulnerabilities); applied 1, skipped 0: upgrade Go"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour without a terminal")
	}
	b.Reset()
	CheckSummary(&b, r, CheckOptions{Color: true})
	if !strings.Contains(b.String(), "\x1b[1;31mFAIL\x1b[0m") {
		t.Error("no colour on a terminal")
	}
}
