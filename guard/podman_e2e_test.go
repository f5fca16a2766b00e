package guard_test

// The end-to-end test of issue 7: examples/hello, built static and imported into podman
// as a one-file image, runs under the set-up DESIGN.md describes, and the report it logs
// at start-up (and serves at /debug/guard) says what the runtime granted.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redline-go/redline/guard"
	"github.com/redline-go/redline/internal/podmantest"
)

const e2eImage = "localhost/redline-hello-guard:test"

// helloImage builds examples/hello with CGO_ENABLED=0 and imports it as an image holding
// /hello, /etc/passwd with nonroot (65532), and /tmp (1777).
func helloImage(t *testing.T, p *podmantest.Podman, dir string) {
	t.Helper()
	bin := filepath.Join(dir, "hello")
	build := exec.Command(goTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "../examples/hello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building examples/hello: %v\n%s", err, out)
	}
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, data []byte) {
		h.Size = int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	add(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}, nil)
	add(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777}, nil)
	add(&tar.Header{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644},
		[]byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"))
	add(&tar.Header{Name: "etc/group", Typeflag: tar.TypeReg, Mode: 0o644}, []byte("root:x:0:\nnonroot:x:65532:\n"))
	add(&tar.Header{Name: "hello", Typeflag: tar.TypeReg, Mode: 0o755}, body)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(dir, "rootfs.tar")
	if err := os.WriteFile(rootfs, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	p.Run("import", "--change", `ENTRYPOINT ["/hello"]`, "--change", "USER=65532", rootfs, e2eImage)
	t.Cleanup(func() {
		if _, err := p.Try("rmi", "-f", e2eImage); err != nil {
			t.Log(err)
		}
	})
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// logLine is one line of hello's JSON log.
type logLine struct {
	Level string                     `json:"level"`
	Msg   string                     `json:"msg"`
	Addr  string                     `json:"addr"`
	Guard map[string]json.RawMessage `json:"guard"`
}

type loggedCheck struct {
	Status, Observed, Expected, Detail string
}

func guardLine(t *testing.T, logs string) (logLine, map[string]loggedCheck) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || !strings.HasPrefix(l.Msg, "guard: ") || l.Guard == nil {
			continue
		}
		checks := map[string]loggedCheck{}
		for k, v := range l.Guard {
			var c loggedCheck
			if json.Unmarshal(v, &c) == nil && c.Status != "" {
				checks[k] = c
			}
		}
		return l, checks
	}
	t.Fatalf("no guard report in the log:\n%s", logs)
	return logLine{}, nil
}

func TestPodmanE2EHelloGuard(t *testing.T) {
	p := podmantest.New(t)
	dir := t.TempDir()
	helloImage(t, p, dir)
	hardened := []string{"--user", "65532", "--cap-drop=ALL", "--cap-add=NET_BIND_SERVICE",
		"--security-opt", "no-new-privileges", "--read-only", "--memory", "256m"}

	t.Run("hardened", func(t *testing.T) {
		p := p.For(t)
		port := strconv.Itoa(p.FreePort())
		name, logs := startDetached(t, p, append([]string{"-p", "127.0.0.1:" + port + ":8080", "-e", "GUARD_ENDPOINT=1"}, hardened...)...)
		line, checks := guardLine(t, logs)
		if line.Level != "INFO" || line.Msg != "guard: privileges within policy" || string(line.Guard["ok"]) != "true" {
			t.Errorf("guard log line: level %s, msg %q, ok %s", line.Level, line.Msg, line.Guard["ok"])
		}
		want := map[string]string{
			"user":             "pass 65532",
			"group":            "pass 65532 groups=65532",
			"caps.effective":   "pass CAP_NET_BIND_SERVICE",
			"caps.permitted":   "pass CAP_NET_BIND_SERVICE",
			"caps.inheritable": "pass CAP_NET_BIND_SERVICE",
			"caps.ambient":     "pass CAP_NET_BIND_SERVICE",
			"caps.bounding":    "info CAP_NET_BIND_SERVICE",
			"no_new_privs":     "pass 1",
			"seccomp":          "pass filter",
			"rootfs":           "pass read-only",
			"memory":           "info 268435456",
			"gomemlimit":       "pass 241591910", // 0.9 × 256 MiB
			"cpu":              "info none",
			"threads":          "pass",
		}
		got := map[string]string{}
		for id := range want {
			c := checks[id]
			got[id] = c.Status + " " + c.Observed
			if id == "threads" {
				got[id] = c.Status
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("logged report (-want +got):\n%s\n%s", diff, logs)
		}
		// This machine's hybrid cgroups: the limit comes from cgroup v1.
		if d := checks["memory"].Detail; !strings.Contains(d, "cgroup v1 /sys/fs/cgroup/memory/memory.limit_in_bytes") {
			t.Errorf("memory limit source: %q", d)
		}

		// The opt-in endpoint serves the same report; the service answers its probe.
		resp, err := http.Get("http://127.0.0.1:" + port + "/debug/guard")
		if err != nil {
			t.Fatal(err)
		}
		var rep guard.Report
		err = json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := rep.Result(guard.CheckGOMEMLIMIT); !rep.OK || r.Observed != "241591910" {
			t.Errorf("/debug/guard: OK %v, gomemlimit %+v", rep.OK, r)
		}
		if resp, err := http.Get("http://127.0.0.1:" + port + "/healthz"); err != nil || resp.StatusCode != 200 {
			t.Errorf("/healthz: %v %v", resp, err)
		}

		// SIGTERM: a graceful stop, exit 0.
		p.Run("stop", "-t", "20", name)
		if code := strings.TrimSpace(p.Run("inspect", name, "--format", "{{.State.ExitCode}}")); code != "0" {
			t.Errorf("exit code after SIGTERM: %s", code)
		}
		if logs := p.Run("logs", name); !strings.Contains(logs, `"msg":"hello: stopped"`) {
			t.Errorf("no graceful stop in the log:\n%s", logs)
		}
	})

	// A quota of one CPU still gives GOMAXPROCS 2 (Go 1.26): guard warns and does not override.
	t.Run("one CPU", func(t *testing.T) {
		_, logs := startDetached(t, p, append([]string{"--cpus", "1"}, hardened...)...)
		_, checks := guardLine(t, logs)
		got := map[string]loggedCheck{"cpu": checks["cpu"], "gomaxprocs": checks["gomaxprocs"]}
		if got["cpu"].Observed != "1" || got["gomaxprocs"].Status != "warn" || got["gomaxprocs"].Observed != "2" ||
			!strings.Contains(got["gomaxprocs"].Detail, "a limit of 1 CPU still gives 2") {
			t.Errorf("one CPU: %+v", got)
		}
	})

	// More privilege than the policy allows: guard refuses with exit code 78.
	refusals := []struct {
		name   string
		args   []string
		failed string
	}{
		{name: "SYS_ADMIN added", args: append(append([]string{}, hardened...), "--cap-add", "SYS_ADMIN"),
			failed: "4 checks failed: caps.effective, caps.permitted, caps.inheritable, caps.ambient"},
		{name: "root", args: append(append([]string{}, hardened...), "--user", "0"), failed: "2 checks failed: user, group"},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			out, code := runToExit(t, p, append(append([]string{"run", "--rm"}, r.args...), e2eImage)...)
			if code != guard.ExitCode {
				t.Fatalf("exit code %d, want %d\n%s", code, guard.ExitCode, out)
			}
			line, _ := guardLine(t, out)
			if line.Level != "ERROR" || line.Msg != "guard: refusing to start: "+r.failed {
				t.Errorf("log: %s %q, want ERROR %q", line.Level, line.Msg, r.failed)
			}
			if strings.Contains(out, "hello: listening") {
				t.Error("the service listened although guard refused")
			}
		})
	}
}

// startDetached starts hello in the background with the given podman run flags and
// returns the container's name and its log once it listens. The container is removed
// when the test ends.
func startDetached(t *testing.T, p *podmantest.Podman, flags ...string) (name, logs string) {
	t.Helper()
	p = p.For(t)
	name = fmt.Sprintf("redline-guard-e2e-%d", time.Now().UnixNano())
	p.Run(append(append([]string{"run", "-d", "--name", name}, flags...), e2eImage)...)
	t.Cleanup(func() { p.Cmd("rm", "-f", name).Run() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		logs = p.Run("logs", name)
		if strings.Contains(logs, `"msg":"hello: listening"`) {
			return name, logs
		}
		if time.Now().After(deadline) {
			t.Fatalf("hello did not start:\n%s", logs)
		}
	}
}

func runToExit(t *testing.T, p *podmantest.Podman, args ...string) (string, int) {
	t.Helper()
	out, err := p.Cmd(args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("podman: %v", err)
	}
	return string(out), 0
}
