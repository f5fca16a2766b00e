package build

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redline-go/redline/internal/podmantest"
)

// End-to-end tests: build a service, `podman load` the docker archive,
// run it under the settings people use, and check what the kernel really
// does against what the build report predicted. They run with
// REDLINE_E2E=1 (.ci/run installs podman and runc first) and use the podman
// set-up of DESIGN.md.

// podmanE2E holds a working podman and the test it serves.
type podmanE2E struct {
	t *testing.T
	*podmantest.Podman
}

func newPodmanE2E(t *testing.T) *podmanE2E {
	t.Helper()
	return &podmanE2E{t: t, Podman: podmantest.New(t)}
}

// helloSource is examples/hello, the reference service; a copy of
// testdata/hello stands in while it does not exist.
func helloSource(t *testing.T) (dir, health string, guarded bool) {
	t.Helper()
	ex, err := filepath.Abs(filepath.Join("..", "..", "examples", "hello"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(ex, "main.go")); err == nil {
		return ex, "/healthz", true
	}
	t.Logf("examples/hello does not exist yet: using a copy of testdata/hello")
	return copyModule(t, "hello"), "/", false
}

// buildAndLoad builds src into a docker archive and podman-loads it.
func (p *podmanE2E) buildAndLoad(o Options, tag string) *Result {
	t := p.t
	t.Helper()
	archive := filepath.Join(t.TempDir(), "image.tar")
	o.To = []Destination{{Kind: DockerArchive, Value: archive}}
	o.Tag = tag
	o.TempDir = t.TempDir()
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	res, err := b.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.Run("load", "-i", archive)
	t.Cleanup(func() { p.Try("rmi", "-f", tag) })
	return res
}

// observed is what a container did.
type observed struct {
	outcome Outcome // Effective: served HTTP 200; Ignored: bind refused; ExecFails: exec refused
	status  procStatus
	logs    string
}

// serve starts the image with opts, publishes containerPort, and waits
// until it answers path with 200 or exits.
func (p *podmanE2E) serve(image string, containerPort int, path string, opts ...string) observed {
	t := p.t
	t.Helper()
	port := p.FreePort()
	name := fmt.Sprintf("redline-e2e-%d", time.Now().UnixNano())
	args := append([]string{"run", "-d", "--name", name, "-p", fmt.Sprintf("127.0.0.1:%d:%d", port, containerPort)}, opts...)
	out, err := p.Try(append(args, image)...)
	defer p.Try("rm", "-f", name)
	if err != nil {
		if strings.Contains(out, "operation not permitted") {
			return observed{outcome: ExecFails, logs: out}
		}
		t.Fatalf("starting %s: %v", image, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		state, _ := p.Try("inspect", "-f", "{{.State.Status}} {{.State.Pid}}", name)
		if strings.HasPrefix(state, "exited") || strings.HasPrefix(state, "stopped") {
			logs, _ := p.Try("logs", name)
			switch {
			case strings.Contains(logs, "operation not permitted"):
				return observed{outcome: ExecFails, logs: logs}
			case strings.Contains(logs, "bind: permission denied"):
				return observed{outcome: Ignored, logs: logs}
			}
			t.Fatalf("%s %v exited for another reason: %s", image, opts, logs)
		}
		resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				pid, _ := strconv.Atoi(strings.Fields(state + " 0")[1])
				st, err := readProcStatus(pid)
				if err != nil {
					t.Fatalf("reading /proc/%d/status of the container: %v", pid, err)
				}
				logs, _ := p.Try("logs", name)
				return observed{outcome: Effective, status: st, logs: logs}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	logs, _ := p.Try("logs", name)
	t.Fatalf("%s %v neither served nor exited in 20s: %s", image, opts, logs)
	return observed{}
}

// procStatus is what the kernel says of a process.
type procStatus struct {
	UID, GID                               string // real, effective, saved, fs
	CapInh, CapPrm, CapEff, CapBnd, CapAmb uint64
	NoNewPrivs                             string
}

func readProcStatus(pid int) (procStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStatus{}, err
	}
	var s procStatus
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		hex := func() uint64 { n, _ := strconv.ParseUint(v, 16, 64); return n }
		switch k {
		case "Uid":
			s.UID = strings.Join(strings.Fields(v), " ")
		case "Gid":
			s.GID = strings.Join(strings.Fields(v), " ")
		case "CapInh":
			s.CapInh = hex()
		case "CapPrm":
			s.CapPrm = hex()
		case "CapEff":
			s.CapEff = hex()
		case "CapBnd":
			s.CapBnd = hex()
		case "CapAmb":
			s.CapAmb = hex()
		case "NoNewPrivs":
			s.NoNewPrivs = v
		}
	}
	return s, nil
}

// TestPodmanE2EHello: the reference service, built with the defaults,
// serves as uid 65532 with no capability at all under the strictest
// settings.
func TestPodmanE2EHello(t *testing.T) {
	p := newPodmanE2E(t)
	src, health, guarded := helloSource(t)
	tag := "localhost/redline-e2e-hello:plain"
	res := p.buildAndLoad(Options{Dir: src, SkipDefaultSize: true}, tag)
	if len(res.Capabilities) != 0 || res.Labels[LabelCaps] != "" || res.User != "65532:65532" {
		t.Fatalf("the default build granted %v, user %s", res.Capabilities, res.User)
	}
	opts := []string{"--cap-drop=ALL", "--read-only", "--security-opt", "no-new-privileges"}
	if guarded {
		// The policy from the labels, as a manifest would pass it.
		opts = append(opts, "-e", "REDLINE_GUARD_USER="+res.Labels[LabelUser], "-e", "REDLINE_GUARD_CAPS="+res.Labels[LabelCaps])
	}
	obs := p.serve(tag, 8080, health, opts...)
	if obs.outcome != Effective {
		t.Fatalf("no HTTP 200: %s: %s", obs.outcome, obs.logs)
	}
	st := obs.status
	if st.UID != "65532 65532 65532 65532" || st.GID != "65532 65532 65532 65532" {
		t.Errorf("uid %q gid %q, want 65532 throughout", st.UID, st.GID)
	}
	if st.CapInh|st.CapPrm|st.CapEff|st.CapBnd|st.CapAmb != 0 || st.NoNewPrivs != "1" {
		t.Errorf("capabilities %+v, want none in any set and no_new_privs", st)
	}
}

// podmanFlags are the podman settings each condition ID stands for.
var podmanFlags = map[string][]string{
	"defaults":                       nil,
	"no-new-privileges":              {"--security-opt", "no-new-privileges"},
	"cap-drop-all":                   {"--cap-drop=ALL"},
	"cap-drop-all+no-new-privileges": {"--cap-drop=ALL", "--security-opt", "no-new-privileges"},
	"cap-add":                        {"--cap-drop=ALL", "--cap-add=NET_BIND_SERVICE"},
	"cap-add+no-new-privileges":      {"--cap-drop=ALL", "--cap-add=NET_BIND_SERVICE", "--security-opt", "no-new-privileges"},
}

// TestPodmanE2ELowPort: built with --cap NET_BIND_SERVICE and listening on
// :80, under each podman setting the report predicts for. What the kernel
// did here: the capability works under podman's defaults; no-new-privileges
// makes the kernel ignore it (bind: permission denied); --cap-drop=ALL
// makes the exec itself fail (operation not permitted), with or without
// no-new-privileges; --cap-add=NET_BIND_SERVICE works, with or without
// no-new-privileges (podman grants it as ambient, so exec gains nothing).
func TestPodmanE2ELowPort(t *testing.T) {
	p := newPodmanE2E(t)
	src, health, guarded := helloSource(t)
	tag := "localhost/redline-e2e-hello:cap"
	res := p.buildAndLoad(Options{Dir: src, SkipDefaultSize: true, Caps: []Capability{CapNetBindService}}, tag)
	env := []string{"-e", "ADDR=:80"}
	if guarded {
		// guard would veto the settings without no_new_privs or a
		// read-only root: this test is about what the kernel does.
		env = append(env, "-e", "REDLINE_GUARD_WARN=all")
	}
	seen := 0
	for _, c := range res.Conditions {
		if c.Runtime != "podman" {
			continue
		}
		flags, ok := podmanFlags[c.ID]
		if !ok {
			t.Errorf("no podman flags for condition %q", c.ID)
			continue
		}
		seen++
		obs := p.serve(tag, 80, health, append(append([]string{}, env...), flags...)...)
		if obs.outcome != c.Outcome {
			t.Errorf("%s (%s): the kernel said %s, the report predicted %s (%s)\nlogs: %s", c.ID, c.Settings, obs.outcome, c.Outcome, c.Why, obs.logs)
			continue
		}
		if obs.outcome == Effective {
			if obs.status.UID != "65532 65532 65532 65532" || obs.status.CapEff != 1<<CapNetBindService || obs.status.CapPrm != 1<<CapNetBindService {
				t.Errorf("%s: served, but as %+v; want uid 65532 with exactly CAP_NET_BIND_SERVICE", c.ID, obs.status)
			}
		}
	}
	if seen != len(podmanFlags) {
		t.Errorf("the report predicted %d podman settings, the test knows %d", seen, len(podmanFlags))
	}
}

// TestPodmanE2EUnprivilegedPortSysctl: the way to :80 that needs no
// capability at all, as Docker and containerd 2 set it by default. podman
// does not: without the sysctl the same image cannot bind :80.
func TestPodmanE2EUnprivilegedPortSysctl(t *testing.T) {
	p := newPodmanE2E(t)
	src, health, guarded := helloSource(t)
	tag := "localhost/redline-e2e-hello:sysctl"
	p.buildAndLoad(Options{Dir: src, SkipDefaultSize: true}, tag)
	opts := []string{"-e", "ADDR=:80", "--cap-drop=ALL", "--read-only", "--security-opt", "no-new-privileges"}
	if guarded {
		opts = append(opts, "-e", "REDLINE_GUARD_CAPS=")
	}
	with := p.serve(tag, 80, health, append(opts, "--sysctl", "net.ipv4.ip_unprivileged_port_start=0")...)
	if with.outcome != Effective || with.status.CapEff != 0 || with.status.UID != "65532 65532 65532 65532" {
		t.Errorf("with ip_unprivileged_port_start=0: %s, %+v: %s", with.outcome, with.status, with.logs)
	}
	without := p.serve(tag, 80, health, opts...)
	if without.outcome != Ignored {
		t.Errorf("without the sysctl and without a capability: %s, want bind: permission denied: %s", without.outcome, without.logs)
	}
}

// TestPodmanE2EPIE: --pie links a static PIE with gcc, and it runs.
func TestPodmanE2EPIE(t *testing.T) {
	p := newPodmanE2E(t)
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("--pie needs gcc for external linking; not installed")
	}
	src, health, guarded := helloSource(t)
	tag := "localhost/redline-e2e-hello:pie"
	res := p.buildAndLoad(Options{Dir: src, SkipDefaultSize: true, PIE: true}, tag)
	bin := res.Platforms[0].Binary
	if !bin.PIE || !bin.Static || !strings.Contains(res.Flags, "-buildmode=pie") || !strings.Contains(res.Flags, "-static-pie") {
		t.Fatalf("binary %+v flags %s: want a static PIE", bin, res.Flags)
	}
	opts := []string{"--cap-drop=ALL", "--read-only", "--security-opt", "no-new-privileges"}
	if guarded {
		opts = append(opts, "-e", "REDLINE_GUARD_CAPS=")
	}
	if obs := p.serve(tag, 8080, health, opts...); obs.outcome != Effective {
		t.Errorf("the static PIE did not serve: %s: %s", obs.outcome, obs.logs)
	}
}

// TestE2EToolchain: --toolchain switches Go through GOTOOLCHAIN (the
// machine's default is local), and the label records the Go that built
// the binary. .ci/run fetches go1.27.3 through the module proxy first.
func TestE2EToolchain(t *testing.T) {
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("end-to-end test: set REDLINE_E2E=1 (fetches go1.27.3 through the module proxy)")
	}
	const want = "go1.27.3"
	res, err := realBuild(t, Options{Dir: copyModule(t, "hello"), Toolchain: want, SkipDefaultSize: true, To: []Destination{{Kind: OCIDir, Value: filepath.Join(t.TempDir(), "o")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Platforms[0].Binary.GoVersion; got != want || res.Labels[LabelGo] != want {
		t.Errorf("built with %s (label %s), want %s", got, res.Labels[LabelGo], want)
	}
}
