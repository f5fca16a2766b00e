package gomod

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/redline-go/redline/internal/lint/rule"
)

func TestBroad(t *testing.T) {
	for p, want := range map[string]bool{
		"*": true, "*.com": true, "*/*": true, "github.com": true, "github.com/*": true, "gopkg.in": true,
		"github.com/myorg": false, "github.com/myorg/*": false, "*.corp.example.com": false, "git.internal": false, "example.com/x": false,
	} {
		if got := broad(p); got != want {
			t.Errorf("broad(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestCheckSettings(t *testing.T) {
	loc := rule.At("Dockerfile", 3, 0)
	for _, tc := range []struct {
		key, value string
		vendored   bool
		want       string // rule ID, "" for none
	}{
		{"GOSUMDB", "off", false, SumDBOff.ID},
		{"GOSUMDB", "sum.golang.org", false, ""},
		{"GOPRIVATE", "github.com/me/*,*", false, BroadPrivate.ID},
		{"GONOSUMDB", "github.com", false, BroadPrivate.ID},
		{"GOPRIVATE", "github.com/me/*", false, ""},
		{"GOINSECURE", "git.corp", false, Insecure.ID},
		{"GOINSECURE", "", false, ""},
		{"GOPROXY", "direct", false, DirectOnly.ID},
		{"GOPROXY", "http://athens.corp:3000,direct", false, DirectOnly.ID},
		{"GOPROXY", "http://localhost:3000", false, ""},
		{"GOPROXY", "https://proxy.golang.org,direct", false, ""},
		{"GOPROXY", "off", false, ""},
		{"GOFLAGS", "-mod=mod -trimpath", true, ModMod.ID},
		{"GOFLAGS", "-mod=mod", false, ""},
		{"GOFLAGS", "-mod=vendor", true, ""},
	} {
		fs := CheckSettings([]Setting{{Key: tc.key, Value: tc.value, Where: loc, Via: "ENV"}}, tc.vendored)
		var got string
		if len(fs) > 1 {
			t.Errorf("%s=%s: %d findings", tc.key, tc.value, len(fs))
		}
		if len(fs) == 1 {
			got = fs[0].Rule
			if fs[0].Location != loc || fs[0].Object != "ENV "+tc.key {
				t.Errorf("%s=%s: finding at %v, object %q", tc.key, tc.value, fs[0].Location, fs[0].Object)
			}
		}
		if got != tc.want {
			t.Errorf("%s=%s (vendored %v): %q, want %q", tc.key, tc.value, tc.vendored, got, tc.want)
		}
	}
}

// module writes files under a temp dir; values are contents.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const depMod = "module a.example/x\n\ngo 1.22\n"

func modHash(t *testing.T, body string) string {
	t.Helper()
	h, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// cache is a module cache holding a.example/x v1.0.0.
func cache(t *testing.T, zipHash string) string {
	return writeModule(t, map[string]string{
		"cache/download/a.example/x/@v/v1.0.0.mod":     depMod,
		"cache/download/a.example/x/@v/v1.0.0.ziphash": zipHash + "\n",
	})
}

type fakeAdvisor map[string]string

func (a fakeAdvisor) StdlibFix(v string) (string, []string, error) {
	if f, ok := a[v]; ok {
		return f, []string{"GO-2026-0002", "GO-2026-0001"}, nil
	}
	return "", nil, nil
}

func run(t *testing.T, dir string, env map[string]string, getenv map[string]string, verify string, adv Advisor) (*Result, int) {
	t.Helper()
	calls := 0
	o := Options{
		GoEnv:  func(context.Context, string) (map[string]string, error) { return env, nil },
		Verify: func(context.Context, string) (string, error) { calls++; return verify, verifyErr(verify) },
		Getenv: func(k string) string { return getenv[k] },
	}
	if adv != nil {
		o.Advisor = adv
	}
	r, err := CheckModule(context.Background(), dir, "mod", o)
	if err != nil {
		t.Fatal(err)
	}
	return r, calls
}

func verifyErr(out string) error {
	if strings.Contains(out, "modified") {
		return fmt.Errorf("exit status 1")
	}
	return nil
}

func at(fs []rule.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s", f.Rule, f.Location))
	}
	slices.Sort(out)
	return out
}

func TestCheckModule(t *testing.T) {
	const zh = "h1:zipzipzipzipzipzipzipzipzipzipzipzipzipzipzi="
	good := map[string]string{
		"go.mod":  "module example.com/m\n\ngo 1.26\n\ntoolchain go1.26.8\n\nrequire a.example/x v1.0.0\n\ntool a.example/x/cmd/gen\n",
		"main.go": "package main\n\nimport _ \"a.example/x/pkg\"\n\nfunc main() {}\n",
	}
	sum := func(t *testing.T) string {
		return "a.example/x v1.0.0 " + zh + "\na.example/x v1.0.0/go.mod " + modHash(t, depMod) + "\n"
	}
	withSum := func(t *testing.T, extra map[string]string) map[string]string {
		m := map[string]string{"go.sum": sum(t)}
		for k, v := range good {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	t.Run("clean", func(t *testing.T) {
		r, calls := run(t, writeModule(t, withSum(t, nil)), map[string]string{"GOMODCACHE": cache(t, zh)}, nil, "all modules verified\n", fakeAdvisor{})
		if len(r.Findings) > 0 || len(r.Warnings) > 0 || len(r.Notes) > 0 || calls != 1 {
			t.Errorf("findings %v, warnings %v, notes %v, verify calls %d", at(r.Findings), r.Warnings, r.Notes, calls)
		}
	})
	t.Run("settings with provenance", func(t *testing.T) {
		goenv := filepath.Join(t.TempDir(), "env")
		os.WriteFile(goenv, []byte("GOTOOLCHAIN=local\nGOSUMDB=off\n"), 0o644)
		env := map[string]string{"GOMODCACHE": cache(t, zh), "GOENV": goenv, "GOSUMDB": "off", "GOPROXY": "direct", "GOPRIVATE": "*"}
		r, _ := run(t, writeModule(t, withSum(t, nil)), env, map[string]string{"GOPROXY": "direct", "GOPRIVATE": "*"}, "", fakeAdvisor{})
		want := []string{"RL-GO-001 " + goenv + ":2", "RL-GO-002 ", "RL-GO-004 "}
		if diff := cmp.Diff(want, at(r.Findings)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
		for _, f := range r.Findings {
			if f.Rule == DirectOnly.ID && f.Object != "environment GOPROXY" {
				t.Errorf("object %q", f.Object)
			}
		}
	})
	t.Run("go.sum missing", func(t *testing.T) {
		r, _ := run(t, writeModule(t, good), map[string]string{}, nil, "", fakeAdvisor{})
		if diff := cmp.Diff([]string{"RL-GO-006 mod/go.mod:7"}, at(r.Findings)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})
	t.Run("go.sum incomplete, doubled and malformed", func(t *testing.T) {
		files := withSum(t, map[string]string{"go.sum": "a.example/x v1.0.0 " + zh + "\na.example/x v1.0.0 h1:other=\nnot a line\n"})
		r, _ := run(t, writeModule(t, files), map[string]string{}, nil, "", fakeAdvisor{})
		if diff := cmp.Diff([]string{"RL-GO-006 mod/go.mod:7", "RL-GO-006 mod/go.sum:2"}, at(r.Findings)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
		if len(r.Warnings) != 1 || r.Warnings[0].Line != 3 {
			t.Errorf("warnings = %+v", r.Warnings)
		}
		if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "GOMODCACHE is unknown") {
			t.Errorf("notes = %q", r.Notes)
		}
	})
	t.Run("go.sum differs from the module cache", func(t *testing.T) {
		r, calls := run(t, writeModule(t, withSum(t, nil)), map[string]string{"GOMODCACHE": cache(t, "h1:tampered=")}, nil, "", fakeAdvisor{})
		if diff := cmp.Diff([]string{"RL-GO-006 mod/go.sum:1"}, at(r.Findings)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
		if calls != 0 {
			t.Error("go mod verify ran after a mismatch")
		}
	})
	t.Run("not in the module cache", func(t *testing.T) {
		r, calls := run(t, writeModule(t, withSum(t, nil)), map[string]string{"GOMODCACHE": t.TempDir()}, nil, "", fakeAdvisor{})
		if len(r.Findings) > 0 || calls != 0 || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "2 of 2 go.sum hashes could not be checked") {
			t.Errorf("findings %v, verify calls %d, notes %q", at(r.Findings), calls, r.Notes)
		}
	})
	t.Run("go mod verify finds a modified directory", func(t *testing.T) {
		r, _ := run(t, writeModule(t, withSum(t, nil)), map[string]string{"GOMODCACHE": cache(t, zh)}, nil, "a.example/x v1.0.0: dir has been modified (/x)\n", fakeAdvisor{})
		if diff := cmp.Diff([]string{"RL-GO-006 mod/go.sum"}, at(r.Findings)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})
	t.Run("vendor out of sync", func(t *testing.T) {
		files := withSum(t, map[string]string{
			"vendor/modules.txt": "# a.example/x v0.9.0\n## explicit; go 1.22\na.example/x/pkg\n# b.example/y v1.0.0\n## explicit\n",
		})
		r, _ := run(t, writeModule(t, files), map[string]string{"GOMODCACHE": cache(t, zh), "GOFLAGS": "-mod=mod"}, map[string]string{"GOFLAGS": "-mod=mod"}, "", fakeAdvisor{})
		if diff := cmp.Diff([]string{"RL-GO-005 ", "RL-GO-007 mod/go.mod:7", "RL-GO-007 mod/vendor/modules.txt:4"}, at(r.Findings)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})
	t.Run("unused and several majors", func(t *testing.T) {
		files := withSum(t, map[string]string{
			"go.mod":        "module example.com/m\n\ngo 1.26\n\nrequire (\n\ta.example/x v1.0.0\n\ta.example/x/v2 v2.1.0\n\tb.example/unused v1.0.0\n\tc.example/dep v1.0.0 // indirect\n\tgopkg.in/yaml.v2 v2.4.0\n\tgopkg.in/yaml.v3 v3.0.1\n)\n",
			"main.go":       "package main\n\nimport (\n\t_ \"a.example/x/pkg\"\n\t_ \"a.example/x/v2\"\n\t_ \"gopkg.in/yaml.v2\"\n)\n\nfunc main() {}\n",
			"x_test.go":     "package main\n\nimport _ \"gopkg.in/yaml.v3\"\n",
			"testdata/t.go": "package t\n\nimport _ \"b.example/unused\"\n",
			"sub/go.mod":    "module example.com/m/sub\n",
			"sub/s.go":      "package sub\n\nimport _ \"b.example/unused\"\n",
		})
		r, _ := run(t, writeModule(t, files), map[string]string{}, nil, "", fakeAdvisor{})
		var got []string
		for _, f := range r.Findings {
			if f.Rule != GoSum.ID {
				got = append(got, fmt.Sprintf("%s %s", f.Rule, f.Location))
			}
		}
		slices.Sort(got)
		if diff := cmp.Diff([]string{"RL-GO-008 mod/go.mod:8", "RL-GO-009 mod/go.mod:11", "RL-GO-009 mod/go.mod:7"}, got); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
	})
	t.Run("a file that does not parse", func(t *testing.T) {
		r, _ := run(t, writeModule(t, withSum(t, map[string]string{"bad.go": "package main\n\nimport (\n"})), map[string]string{"GOMODCACHE": cache(t, zh)}, nil, "", fakeAdvisor{})
		if len(r.Warnings) != 1 || r.Warnings[0].File != "mod/bad.go" || r.Warnings[0].Line != 3 {
			t.Errorf("warnings = %+v", r.Warnings)
		}
		if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "RL-GO-008 was not checked") }) {
			t.Errorf("notes = %q", r.Notes)
		}
	})
	t.Run("toolchain", func(t *testing.T) {
		adv := fakeAdvisor{"go1.26.8": "go1.26.10", "go1.26.9": "go1.26.10"}
		env := map[string]string{"GOMODCACHE": cache(t, zh), "GOTOOLCHAIN": "local", "GOVERSION": "go1.26.9"}
		r, _ := run(t, writeModule(t, withSum(t, nil)), env, nil, "", adv)
		if diff := cmp.Diff([]string{"RL-GO-010 ", "RL-GO-010 mod/go.mod:5"}, at(r.Findings)); diff != "" {
			t.Errorf("findings (-want +got):\n%s", diff)
		}
		for _, f := range r.Findings {
			if !strings.Contains(f.Message, "GO-2026-0001, GO-2026-0002") || f.Fix != "go get toolchain@go1.26.10" {
				t.Errorf("finding %q fix %q", f.Message, f.Fix)
			}
		}
		r, _ = run(t, writeModule(t, withSum(t, nil)), env, nil, "", nil)
		if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "RL-GO-010 was not checked") }) {
			t.Errorf("without an advisor: notes %q", r.Notes)
		}
	})
	t.Run("go.mod that does not parse", func(t *testing.T) {
		r, _ := run(t, writeModule(t, map[string]string{"go.mod": "module x\n\nrequire (\n\tbroken\n"}), map[string]string{}, nil, "", nil)
		if len(r.Warnings) != 1 || r.Warnings[0].Line == 0 || !strings.Contains(r.Warnings[0].Message, "cannot parse go.mod") {
			t.Errorf("warnings = %+v", r.Warnings)
		}
	})
}
