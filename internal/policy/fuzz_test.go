package policy_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/policy"
)

// FuzzParse parses policy files (a repository's redline.yaml is input a
// pull request can change). Beyond not panicking: a policy or an error,
// never both or neither; errors are ErrInvalid and each names the file;
// and whatever a valid policy says, evaluating it without vulnerability
// data never passes while its data line is an error-level line (a missing
// database must not read as "no vulnerabilities").
func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\nbuild:\n  toolchain: go1.27.3\n  caps: [NET_BIND_SERVICE]\n  ports: [\"8080\", 9090]\nlines:\n  size: {max: binary*1.5, level: warning}\n  efficiency: {min: 0.9}\n  vulnerabilities: {reachability: imported, severity: high}\n  data: {maxAge: 14d}\n  shell: {level: off}\nwaivers:\n  - line: vulnerabilities\n    id: GO-2026-0001\n    reason: not reachable\n    expires: 2027-01-31\n"))
	f.Add([]byte("lines:\n  data: {level: off}\n"))
	f.Add([]byte(`{"version": 1, "lines": {"size": {"max": "20MB"}}}`))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("version: 1\nversion: 1\n"))
	f.Add([]byte(""))
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := policy.Parse("redline.yaml", src)
		if (p == nil) == (err == nil) {
			t.Fatalf("policy %v and error %v: want exactly one", p, err)
		}
		if err != nil {
			if !errors.Is(err, policy.ErrInvalid) {
				t.Errorf("error is not ErrInvalid: %v", err)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "redline.yaml") {
					t.Errorf("error line does not name the file: %q", line)
				}
			}
			return
		}
		ev := policy.Evaluate(p, &policy.Measurements{UID: -1, DataMissing: true}, now)
		switch ev.Verdict {
		case policy.VerdictPass, policy.VerdictFail, policy.VerdictIncomplete:
		default:
			t.Fatalf("verdict %q", ev.Verdict)
		}
		if p.Lines.Data.Level == policy.Error && ev.Verdict != policy.VerdictIncomplete {
			t.Errorf("no vulnerability data, an error-level data line, and the verdict is %q", ev.Verdict)
		}
	})
}
