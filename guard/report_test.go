package guard

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sampleReport() Report {
	r := Report{Supported: true, GOOS: "linux", GoVersion: "go1.26.8", Results: []Result{
		{ID: "user", Status: Pass, Observed: "65532", Expected: "non-root"},
		{ID: "caps.effective", Status: Fail, Observed: "CAP_NET_BIND_SERVICE,CAP_SYS_ADMIN", Expected: "only CAP_NET_BIND_SERVICE", Detail: "not allowed: CAP_SYS_ADMIN"},
		{ID: "seccomp", Status: Unknown, Observed: "unknown", Expected: "filter", Detail: "/proc/self/status has no Seccomp field"},
		{ID: "rootfs", Status: Fail, Observed: "read-write", Expected: "read-only", Detail: "the root filesystem is writable"},
		{ID: "gomaxprocs", Status: Warn, Observed: "2", Expected: "≤ 1", Detail: "a limit of 1 CPU still gives 2"},
	}, Actions: []string{"set GOMEMLIMIT to 241591910"}}
	return r
}

func TestFinish(t *testing.T) {
	r := sampleReport()
	r.finish(&rules{})
	if r.OK {
		t.Fatal("OK with a failure and an unknown")
	}
	if got := r.Summary(); got != "3 checks failed: caps.effective, seccomp, rootfs" {
		t.Errorf("summary %q", got)
	}

	r = sampleReport()
	r.finish(&rules{Policy: Policy{Warn: []string{"caps", "seccomp"}}})
	if r.OK {
		t.Fatal("OK with rootfs failing")
	}
	c, _ := r.Result("caps.effective")
	s, _ := r.Result("seccomp")
	if c.Status != Warn || !c.Waived || !strings.HasPrefix(c.Detail, "waived by policy: not allowed") {
		t.Errorf("caps.effective not waived: %+v", c)
	}
	if s.Status != Warn || !strings.HasPrefix(s.Detail, "could not tell, waived by policy") {
		t.Errorf("seccomp not waived as unknown: %+v", s)
	}
	if got := r.Summary(); got != "1 check failed: rootfs" {
		t.Errorf("summary %q", got)
	}

	r = sampleReport()
	r.finish(&rules{Policy: Policy{Warn: []string{"all"}}})
	if !r.OK || r.Summary() != "ok (4 warnings)" {
		t.Errorf("all waived: OK=%v summary %q", r.OK, r.Summary())
	}
}

func TestWriteText(t *testing.T) {
	r := sampleReport()
	r.finish(&rules{})
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	want := []string{
		"guard: 3 checks failed: caps.effective, seccomp, rootfs",
		"  STATUS   CHECK           OBSERVED                            EXPECTED",
		"  pass     user            65532                               non-root",
		"  fail     caps.effective  CAP_NET_BIND_SERVICE,CAP_SYS_ADMIN  only CAP_NET_BIND_SERVICE",
		"           not allowed: CAP_SYS_ADMIN",
		"  unknown  seccomp         unknown                             filter",
		"           /proc/self/status has no Seccomp field",
		"  fail     rootfs          read-write                          read-only",
		"           the root filesystem is writable",
		"  warn     gomaxprocs      2                                   ≤ 1",
		"           a limit of 1 CPU still gives 2",
		"  did: set GOMEMLIMIT to 241591910",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r.String() != b.String() {
		t.Error("String differs from WriteText")
	}
}

func TestReportJSON(t *testing.T) {
	r := sampleReport()
	r.finish(&rules{Policy: Policy{Warn: []string{"rootfs"}}})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// The field names are the documented ones.
	var raw map[string]any
	json.Unmarshal(b, &raw)
	for _, k := range []string{"ok", "supported", "goos", "go_version", "checks", "actions"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON has no %q: %s", k, b)
		}
	}
	first := raw["checks"].([]any)[3].(map[string]any)
	if first["id"] != "rootfs" || first["status"] != "warn" || first["waived"] != true {
		t.Errorf("check 3 = %v", first)
	}
}

func TestLogValue(t *testing.T) {
	r := sampleReport()
	r.finish(&rules{})
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("started", "guard", r)
	var line struct {
		Guard map[string]json.RawMessage `json:"guard"`
	}
	if err := json.Unmarshal(b.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, b.String())
	}
	if string(line.Guard["ok"]) != "false" {
		t.Errorf("ok = %s", line.Guard["ok"])
	}
	if string(line.Guard["summary"]) != `"3 checks failed: caps.effective, seccomp, rootfs"` {
		t.Errorf("summary = %s", line.Guard["summary"])
	}
	for _, c := range r.Results {
		var g struct{ Status, Observed, Expected, Detail string }
		if err := json.Unmarshal(line.Guard[c.ID], &g); err != nil {
			t.Fatalf("%s: %v in %s", c.ID, err, b.String())
		}
		if g.Status != string(c.Status) || g.Observed != c.Observed || g.Expected != c.Expected || g.Detail != c.Detail {
			t.Errorf("%s logged as %+v, want %+v", c.ID, g, c)
		}
	}
	var acts []string
	json.Unmarshal(line.Guard["actions"], &acts)
	if diff := cmp.Diff(r.Actions, acts); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
}
