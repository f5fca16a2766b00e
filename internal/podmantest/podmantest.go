// Package podmantest runs podman for end-to-end tests with the set-up the
// machine the tests run on needs (DESIGN.md, "The machine the tests run
// on"). Every command run through a [Podman] gets it:
//
//   - CONTAINERS_CONF naming a containers.conf that holds
//     "[containers]\ndefault_ulimits = []". The process limits here are
//     lower than the ones podman gives a container by default (the hard
//     RLIMIT_NOFILE was 20000 when this was written) and cannot be
//     raised, so without it every container fails to start: "error
//     setting rlimit type 7: operation not permitted".
//   - --runtime /usr/sbin/runc (or the runc on PATH) and
//     --cgroup-manager=cgroupfs: Debian's runc, and cgroups managed by
//     podman itself, since no systemd runs here and the cgroups are
//     hybrid (the limits appear under cgroup v1). podman picks both by
//     itself here today; the flags pin them, so that another podman
//     configuration does not change what the tests run.
//
// The tests are behind REDLINE_E2E=1; .ci/run installs podman and runc
// before it runs them. Without REDLINE_E2E=1, [New] skips the test; with
// it, a missing podman or runc fails the test: a skipped end-to-end test
// must never count as passing.
package podmantest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// containersConf is the containers.conf the tests run podman with.
const containersConf = "[containers]\ndefault_ulimits = []\n"

// Podman runs podman with the settings of this machine. Failures are
// reported to the test it was made for (or given to [Podman.For]).
type Podman struct {
	t       testing.TB
	bin     string // podman's path
	runtime string // runc's path
	conf    string // the containers.conf
}

// New returns a Podman for t, or skips t unless REDLINE_E2E=1. With
// REDLINE_E2E=1, a missing podman or runc fails t. The containers.conf is
// written to a directory of t.TempDir.
func New(t testing.TB) *Podman {
	t.Helper()
	if os.Getenv("REDLINE_E2E") != "1" {
		t.Skip("end-to-end test: set REDLINE_E2E=1 (needs podman and runc; .ci/run installs them)")
	}
	bin, err := exec.LookPath("podman")
	if err != nil {
		t.Fatalf("REDLINE_E2E=1 but podman is not installed (.ci/run installs it): %v", err)
	}
	runtime := "/usr/sbin/runc"
	if _, err := os.Stat(runtime); err != nil {
		if runtime, err = exec.LookPath("runc"); err != nil {
			t.Fatalf("REDLINE_E2E=1 but runc is neither /usr/sbin/runc nor on PATH (.ci/run installs it): %v", err)
		}
	}
	conf := filepath.Join(t.TempDir(), "containers.conf")
	if err := os.WriteFile(conf, []byte(containersConf), 0o644); err != nil {
		t.Fatal(err)
	}
	return &Podman{t: t, bin: bin, runtime: runtime, conf: conf}
}

// For returns a Podman that reports failures to t: a subtest must not
// fail its parent from its own goroutine.
func (p *Podman) For(t testing.TB) *Podman {
	q := *p
	q.t = t
	return &q
}

// Cmd returns the command podman args, with the global flags and
// CONTAINERS_CONF set. Use it for what Run and Try do not do: a
// background process, an exit code, other output streams.
func (p *Podman) Cmd(args ...string) *exec.Cmd {
	global := []string{"--runtime", p.runtime, "--cgroup-manager=cgroupfs"}
	cmd := exec.Command(p.bin, append(global, args...)...)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	return cmd
}

// Try runs podman args and returns its combined output. The error names
// the command and holds the output.
func (p *Podman) Try(args ...string) (string, error) {
	out, err := p.Cmd(args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("podman %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Run runs podman args and returns its combined output; a failure fails
// the test.
func (p *Podman) Run(args ...string) string {
	p.t.Helper()
	out, err := p.Try(args...)
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// FreePort returns a loopback TCP port free at the time of the call, to
// publish a container's port on ("-p 127.0.0.1:PORT:CPORT").
func (p *Podman) FreePort() int {
	p.t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
