package guard

// Real-process tests: the test binary runs itself as a child, as root or as uid 65532,
// with and without capabilities (SysProcAttr.Credential and AmbientCaps), and reports
// what guard observed; the parent compares it with what it set up and with what the
// kernel says through other system calls.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	envChild       = "GUARD_TEST_CHILD"  // the child's mode
	envChildPolicy = "GUARD_TEST_POLICY" // the Policy, as JSON
	envChildPort   = "GUARD_TEST_PORT"   // a port below 1024 to bind
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(child(mode))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// childOut is what a child prints on stdout.
type childOut struct {
	Report     Report
	Err        string // from Check, RaiseCaps or DropPrivileges
	ErrCgo     bool   // errors.Is(Err, ErrCgo)
	BindBefore string // binding the low port before Check: "" or the error
	BindAfter  string
	Threads    []threadFacts // from threads locked before Check, asked after
}

// threadFacts is what one thread's own system calls say.
type threadFacts struct {
	Eff, Prm, Inh, Bnd string
	NoNewPrivs         int
}

func child(mode string) int {
	var p Policy
	if err := json.Unmarshal([]byte(os.Getenv(envChildPolicy)), &p); err != nil {
		fmt.Fprintln(os.Stderr, "child: policy:", err)
		return 3
	}
	var out childOut
	bind := func() string {
		port := os.Getenv(envChildPort)
		if port == "" {
			return "no port"
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			return err.Error()
		}
		ln.Close()
		return ""
	}
	threads := lockThreads(4)
	switch mode {
	case "check", "raise-after-lowering":
		if mode == "raise-after-lowering" {
			eff, prm, inh, err := capget()
			if err == nil {
				err = capsetAllThreads(eff&^(1<<capNetBindService), prm, inh)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "child: lowering the effective set:", err)
				return 3
			}
		}
		out.BindBefore = bind()
		rep, err := Check(context.Background(), p)
		out.Report = rep
		if err != nil {
			out.Err = err.Error()
		}
		out.BindAfter = bind()
	case "enforce":
		Enforce(context.Background(), p, nil)
		fmt.Println("returned")
		return 0
	case "drop-privileges":
		err := DropPrivileges(p.Caps...)
		if err != nil {
			out.Err, out.ErrCgo = err.Error(), errors.Is(err, ErrCgo)
		}
		out.Report, _ = Check(context.Background(), Policy{AllowRoot: true, Warn: []string{"all"}, KeepGOMEMLIMIT: true})
	case "raise-caps":
		err := RaiseCaps(p.Caps...)
		if err != nil {
			out.Err, out.ErrCgo = err.Error(), errors.Is(err, ErrCgo)
		}
	case "all-threads-syscall":
		// Whether this binary can change every thread: cgo makes AllThreadsSyscall refuse.
		if _, _, e := syscall.AllThreadsSyscall(syscall.SYS_GETPID, 0, 0, 0); e != 0 {
			out.Err, out.ErrCgo = e.Error(), e == syscall.ENOTSUP
		}
	default:
		fmt.Fprintln(os.Stderr, "child: unknown mode", mode)
		return 3
	}
	out.Threads = threads()
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// lockThreads starts n goroutines locked to their own threads; the returned function asks
// each for its capability sets and no_new_privs through its own system calls.
func lockThreads(n int) func() []threadFacts {
	asks := make([]chan chan threadFacts, n)
	var ready sync.WaitGroup
	for i := range asks {
		asks[i] = make(chan chan threadFacts)
		ready.Add(1)
		go func(ask chan chan threadFacts) {
			runtime.LockOSThread()
			ready.Done()
			reply := <-ask
			eff, prm, inh, _ := capget()
			var bnd capSet
			for c := 0; c < 64; c++ {
				if r, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prCapbsetRead, uintptr(c), 0); e == 0 && r == 1 {
					bnd |= 1 << c
				}
			}
			nnp, _, _ := syscall.RawSyscall(syscall.SYS_PRCTL, prGetNoNewPrivs, 0, 0)
			reply <- threadFacts{Eff: eff.String(), Prm: prm.String(), Inh: inh.String(), Bnd: bnd.String(), NoNewPrivs: int(nnp)}
		}(asks[i])
	}
	ready.Wait()
	return func() []threadFacts {
		var out []threadFacts
		for _, ask := range asks {
			reply := make(chan threadFacts)
			ask <- reply
			out = append(out, <-reply)
		}
		return out
	}
}

var (
	binMu   sync.Mutex
	binDir  string                // world-readable directory of test binaries, removed by TestMain
	binPath = map[string]string{} // "self", "cgo", "nocgo" -> path
)

// testBinary returns this package's test binary, copied where uid 65532 may run it:
// "self" is the running one, "cgo" and "nocgo" are built with CGO_ENABLED=1 and 0
// (AllThreadsSyscall works only without cgo; the tests import net, which links cgo
// when it is enabled).
func testBinary(t *testing.T, kind string) string {
	t.Helper()
	binMu.Lock()
	defer binMu.Unlock()
	if p, ok := binPath[kind]; ok {
		return p
	}
	if binDir == "" {
		d, err := os.MkdirTemp("", "guard-test-bin-")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
		binDir = d
	}
	dst := filepath.Join(binDir, "guard-"+kind+".test")
	switch kind {
	case "self":
		b, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	default:
		// The running binary may already be the kind asked for: saves a build.
		self := binPath["self"]
		if self == "" {
			binMu.Unlock()
			self = testBinary(t, "self")
			binMu.Lock()
		}
		probe, _, _ := childRun{bin: self, mode: "all-threads-syscall"}.run(t)
		if probe.ErrCgo == (kind == "cgo") {
			binPath[kind] = self
			return self
		}
		cgo := "0"
		if kind == "cgo" {
			cgo = "1"
			if _, err := exec.LookPath("gcc"); err != nil {
				t.Skip("no C compiler for a cgo build: apt-get install gcc")
			}
		}
		gocmd := goTool()
		cmd := exec.Command(gocmd, "test", "-c", "-o", dst, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building the %s test binary: %v\n%s", kind, err, out)
		}
		if err := os.Chmod(dst, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	binPath[kind] = dst
	return dst
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("real-process tests switch users and grant capabilities: run them as root (CI does)")
	}
}

// freeLowPort finds a port below 1024 that nothing listens on.
func freeLowPort(t *testing.T) string {
	t.Helper()
	for p := 1023; p > 600; p-- {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			ln.Close()
			return strconv.Itoa(p)
		}
	}
	t.Skip("no free port below 1024")
	return ""
}

type childRun struct {
	bin    string
	mode   string
	attr   *syscall.SysProcAttr
	policy Policy
	env    []string
}

func (c childRun) run(t *testing.T) (out childOut, code int, stderr string) {
	t.Helper()
	pj, _ := json.Marshal(c.policy)
	cmd := exec.Command(c.bin)
	cmd.Dir = filepath.Dir(c.bin)
	cmd.Env = append([]string{envChild + "=" + c.mode, envChildPolicy + "=" + string(pj), "PATH=/usr/bin:/bin"}, c.env...)
	cmd.SysProcAttr = c.attr
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running the child: %v", err)
	}
	if c.mode != "enforce" && code == 0 {
		if err := json.Unmarshal(so.Bytes(), &out); err != nil {
			t.Fatalf("child output: %v\n%s\nstderr: %s", err, so.String(), se.String())
		}
	}
	if c.mode == "enforce" {
		out.Err = so.String()
	}
	return out, code, se.String()
}

func nonroot(groups ...uint32) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532, Groups: groups}}
}

// TestLiveMatchesKernel compares what Check reports about this process with what other
// system calls say (capget, prctl, statfs).
func TestLiveMatchesKernel(t *testing.T) {
	rep, err := Check(context.Background(), Policy{KeepGOMEMLIMIT: true})
	if err != nil {
		t.Fatal(err)
	}
	eff, prm, inh, err := capget()
	if err != nil {
		t.Fatal(err)
	}
	var bnd, amb capSet
	for c := 0; c < 64; c++ {
		if r, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prCapbsetRead, uintptr(c), 0); e == 0 && r == 1 {
			bnd |= 1 << c
		}
		if r, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, prCapAmbient, 1 /* IS_SET */, uintptr(c), 0, 0, 0); e == 0 && r == 1 {
			amb |= 1 << c
		}
	}
	nnp, _, _ := syscall.RawSyscall(syscall.SYS_PRCTL, prGetNoNewPrivs, 0, 0)
	seccomp, _, _ := syscall.RawSyscall(syscall.SYS_PRCTL, 21 /* PR_GET_SECCOMP */, 0, 0)
	var fs syscall.Statfs_t
	if err := syscall.Statfs("/", &fs); err != nil {
		t.Fatal(err)
	}
	rootfs := "read-write"
	if fs.Flags&1 /* ST_RDONLY */ != 0 {
		rootfs = "read-only"
	}
	uid := strconv.Itoa(os.Getuid())
	if os.Getuid() != os.Geteuid() {
		t.Skip("setuid test binary")
	}
	want := map[string]string{
		"user": uid, "caps.effective": eff.String(), "caps.permitted": prm.String(), "caps.inheritable": inh.String(),
		"caps.bounding": bnd.String(), "caps.ambient": amb.String(), "no_new_privs": strconv.Itoa(int(nnp)),
		"seccomp": [...]string{"disabled", "strict", "filter"}[seccomp], "rootfs": rootfs,
		"gomaxprocs": strconv.Itoa(runtime.GOMAXPROCS(0)),
	}
	got := map[string]string{}
	for id := range want {
		r, _ := rep.Result(id)
		got[id] = r.Observed
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("guard vs the kernel (-kernel +guard):\n%s", diff)
	}
	if r, _ := rep.Result(CheckThreads); r.Status != Pass {
		t.Errorf("threads: %+v", r)
	}
	// The table names every capability this kernel has.
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		last, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if last >= len(capNames) {
			t.Errorf("the kernel knows capabilities up to %d, the table only to %d", last, len(capNames)-1)
		}
	}
}

// TestChildren runs the test binary as other users with other capabilities and checks
// what guard sees.
func TestChildren(t *testing.T) {
	needRoot(t)
	bin := testBinary(t, "self")
	port := freeLowPort(t)
	var parentBnd capSet
	for c := 0; c < 64; c++ {
		if r, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prCapbsetRead, uintptr(c), 0); e == 0 && r == 1 {
			parentBnd |= 1 << c
		}
	}
	confined := Policy{Warn: []string{"no_new_privs", "seccomp", "rootfs"}, KeepGOMEMLIMIT: true}
	const nb, sa = capNetBindService, 21
	tests := []struct {
		name   string
		attr   *syscall.SysProcAttr
		env    []string
		policy Policy
		want   map[string]brief
		detail map[string]string
		ok     bool
		bind   bool // the low port binds
	}{{
		name: "uid 65532 without capabilities", attr: nonroot(), policy: confined, ok: true,
		want: map[string]brief{
			"user": {Pass, "65532"}, "group": {Pass, "65532"},
			"caps.effective": {Pass, "none"}, "caps.permitted": {Pass, "none"}, "caps.inheritable": {Pass, "none"},
			"caps.ambient": {Pass, "none"}, "caps.bounding": {Info, parentBnd.String()}, "threads": {Pass, ""},
		},
	}, {
		name: "uid 65532 with ambient NET_BIND_SERVICE", policy: confined, ok: true, bind: true,
		attr: &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}, AmbientCaps: []uintptr{nb}},
		want: map[string]brief{
			"user":           {Pass, "65532"},
			"caps.effective": {Pass, "CAP_NET_BIND_SERVICE"}, "caps.permitted": {Pass, "CAP_NET_BIND_SERVICE"},
			"caps.inheritable": {Pass, "CAP_NET_BIND_SERVICE"}, "caps.ambient": {Pass, "CAP_NET_BIND_SERVICE"},
		},
	}, {
		name: "uid 65532 with ambient NET_BIND_SERVICE and SYS_ADMIN", policy: confined, bind: true,
		attr: &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}, AmbientCaps: []uintptr{nb, sa}},
		want: map[string]brief{
			"user":           {Pass, "65532"},
			"caps.effective": {Fail, "CAP_NET_BIND_SERVICE,CAP_SYS_ADMIN"}, "caps.permitted": {Fail, "CAP_NET_BIND_SERVICE,CAP_SYS_ADMIN"},
			"caps.inheritable": {Fail, "CAP_NET_BIND_SERVICE,CAP_SYS_ADMIN"}, "caps.ambient": {Fail, "CAP_NET_BIND_SERVICE,CAP_SYS_ADMIN"},
		},
		detail: map[string]string{"caps.ambient": "not allowed: CAP_SYS_ADMIN:"},
	}, {
		name: "the image grants nothing: REDLINE_GUARD_CAPS empty", policy: confined, bind: true,
		attr: &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}, AmbientCaps: []uintptr{nb}},
		env:  []string{EnvCaps + "=", EnvUser + "=65532:65532"},
		want: map[string]brief{
			"user": {Pass, "65532"}, "group": {Pass, "65532"}, "caps.effective": {Fail, "CAP_NET_BIND_SERVICE"},
		},
		detail: map[string]string{"caps.effective": "(allow-list from REDLINE_GUARD_CAPS)"},
	}, {
		name: "REDLINE_GUARD_USER names another user", attr: nonroot(), policy: confined, env: []string{EnvUser + "=1000:1000"},
		want:   map[string]brief{"user": {Fail, "65532"}, "group": {Fail, "65532"}},
		detail: map[string]string{"user": "uid 65532 is not allowed (allow-list from REDLINE_GUARD_USER)"},
	}, {
		name: "supplementary root group", attr: nonroot(0, 65532), policy: confined,
		want:   map[string]brief{"user": {Pass, "65532"}, "group": {Fail, "65532 groups=0,65532"}},
		detail: map[string]string{"group": "holds the root group (gid 0)"},
	}, {
		name: "root", policy: confined, bind: true,
		want: map[string]brief{"user": {Fail, "0"}, "group": {Fail, "0"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code, stderr := childRun{bin: bin, mode: "check", attr: tt.attr, policy: tt.policy,
				env: append([]string{envChildPort + "=" + port}, tt.env...)}.run(t)
			if code != 0 || out.Err != "" {
				t.Fatalf("child exit %d, err %q\n%s", code, out.Err, stderr)
			}
			got := map[string]brief{}
			for id, w := range tt.want {
				r, _ := out.Report.Result(id)
				got[id] = brief{r.Status, r.Observed}
				if w.Observed == "" { // count of threads: any
					got[id] = brief{r.Status, ""}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s\n%s", diff, out.Report)
			}
			for id, sub := range tt.detail {
				if r, _ := out.Report.Result(id); !strings.Contains(r.Detail, sub) {
					t.Errorf("%s detail %q, want %q in it", id, r.Detail, sub)
				}
			}
			if out.Report.OK != tt.ok {
				t.Errorf("OK = %v, want %v:\n%s", out.Report.OK, tt.ok, out.Report)
			}
			// The kernel agrees: the low port binds exactly when guard saw the capability effective.
			if bound := out.BindBefore == ""; bound != tt.bind {
				t.Errorf("binding port %s: %q, want success %v", port, out.BindBefore, tt.bind)
			}
		})
	}
}

func TestEnforceExitCode(t *testing.T) {
	needRoot(t)
	bin := testBinary(t, "self")
	confined := Policy{Warn: []string{"no_new_privs", "seccomp", "rootfs"}, KeepGOMEMLIMIT: true}
	sysAdmin := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}, AmbientCaps: []uintptr{21}}
	tests := []struct {
		name   string
		attr   *syscall.SysProcAttr
		policy Policy
		env    []string
		code   int
		stdout string
		stderr []string
	}{
		{name: "within policy", attr: nonroot(), policy: confined, code: 0, stdout: "returned\n",
			stderr: []string{"WARN guard: privileges within policy", "guard.no_new_privs.waived=true"}},
		{name: "a capability too many", attr: sysAdmin, policy: confined, code: ExitCode,
			stderr: []string{"ERROR guard: refusing to start: 4 checks failed: caps.effective, caps.permitted, caps.inheritable, caps.ambient",
				"guard.caps.effective.status=fail", "exit=78"}},
		{name: "root", policy: confined, code: ExitCode, stderr: []string{"guard.user.status=fail"}},
		{name: "strict default policy", attr: nonroot(), code: ExitCode, stderr: []string{"guard.no_new_privs.status=fail", "guard.seccomp.status=fail"}},
		{name: "warn all", attr: sysAdmin, env: []string{EnvWarn + "=all"}, code: 0, stdout: "returned\n"},
		{name: "invalid label in the environment", attr: nonroot(), policy: confined, env: []string{EnvCaps + "=NET_BIND"}, code: ExitCode,
			stderr: []string{"ERROR guard: refusing to start: invalid policy", `unknown capability \"NET_BIND\"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code, stderr := childRun{bin: bin, mode: "enforce", attr: tt.attr, policy: tt.policy, env: tt.env}.run(t)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, stderr)
			}
			if out.Err != tt.stdout {
				t.Errorf("stdout %q, want %q", out.Err, tt.stdout)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("log lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

// TestRaiseLive starts uid 65532 with NET_BIND_SERVICE ambient, takes it out of the
// effective set of every thread, and lets Check raise it again.
func TestRaiseLive(t *testing.T) {
	needRoot(t)
	bin := testBinary(t, "nocgo")
	port := freeLowPort(t)
	attr := func() *syscall.SysProcAttr {
		return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}, AmbientCaps: []uintptr{capNetBindService}}
	}
	confined := Policy{Warn: []string{"no_new_privs", "seccomp", "rootfs"}, KeepGOMEMLIMIT: true}

	out, code, stderr := childRun{bin: bin, mode: "raise-after-lowering", attr: attr(), policy: confined, env: []string{envChildPort + "=" + port}}.run(t)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(out.BindBefore, "permission denied") || !strings.Contains(out.BindAfter, "permission denied") {
		t.Errorf("bind with the capability permitted only: before %q, after %q; want permission denied", out.BindBefore, out.BindAfter)
	}
	r, _ := out.Report.Result(CheckCapsIdle)
	if diff := cmp.Diff(brief{Warn, "CAP_NET_BIND_SERVICE"}, brief{r.Status, r.Observed}); diff != "" {
		t.Errorf("caps.not_effective (-want +got):\n%s", diff)
	}
	if r, _ := out.Report.Result(CheckCapsEffective); r.Observed != "none" {
		t.Errorf("caps.effective = %q after lowering it", r.Observed)
	}

	raise := confined
	raise.Raise = true
	out, code, stderr = childRun{bin: bin, mode: "raise-after-lowering", attr: attr(), policy: raise, env: []string{envChildPort + "=" + port}}.run(t)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if out.BindAfter != "" {
		t.Errorf("bind after Raise: %s\n%s", out.BindAfter, out.Report)
	}
	got := briefs(out.Report)
	want := map[string]brief{CheckCapsRaise: {Pass, "done"}, CheckCapsEffective: {Pass, "CAP_NET_BIND_SERVICE"}, CheckThreads: {Pass, got[CheckThreads].Observed}}
	for id := range got {
		if _, ok := want[id]; !ok {
			delete(got, id)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, ok := out.Report.Result(CheckCapsIdle); ok {
		t.Error("caps.not_effective still reported after the raise")
	}
	for i, th := range out.Threads {
		if th.Eff != "CAP_NET_BIND_SERVICE" {
			t.Errorf("locked thread %d: effective %s after the raise", i, th.Eff)
		}
	}

	// RaiseCaps refuses what is not permitted, with the reason.
	out, _, stderr = childRun{bin: bin, mode: "raise-caps", attr: attr(), policy: Policy{Caps: []string{"SYS_ADMIN"}}}.run(t)
	if !strings.Contains(out.Err, "cannot raise CAP_SYS_ADMIN: not in the permitted set") {
		t.Errorf("RaiseCaps(SYS_ADMIN): %q\n%s", out.Err, stderr)
	}
}

// TestDropLive starts the test binary as root with every capability, lets Check drop all
// but NET_BIND_SERVICE, and asks each thread what it holds.
func TestDropLive(t *testing.T) {
	needRoot(t)
	bin := testBinary(t, "nocgo")
	p := Policy{Drop: true, AllowRoot: true, Caps: []string{"NET_BIND_SERVICE"}, Warn: []string{"seccomp", "rootfs"}, KeepGOMEMLIMIT: true}
	out, code, stderr := childRun{bin: bin, mode: "check", policy: p}.run(t)
	if code != 0 || out.Err != "" {
		t.Fatalf("exit %d, err %q\n%s", code, out.Err, stderr)
	}
	const nb = "CAP_NET_BIND_SERVICE"
	got := briefs(out.Report)
	want := map[string]brief{
		CheckCapsDrop: {Pass, "done"}, CheckCapsEffective: {Pass, nb}, CheckCapsPermitted: {Pass, nb},
		CheckCapsInherit: {Pass, "none"}, CheckCapsAmbient: {Pass, "none"}, CheckCapsBounding: {Info, nb},
		CheckNoNewPrivs: {Pass, "1"}, CheckThreads: {Pass, got[CheckThreads].Observed},
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			delete(got, id)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s\n%s", diff, out.Report)
	}
	if !out.Report.OK {
		t.Errorf("not OK after the drop:\n%s", out.Report)
	}
	if len(out.Threads) != 4 {
		t.Fatalf("%d threads answered", len(out.Threads))
	}
	for i, th := range out.Threads {
		if diff := cmp.Diff(threadFacts{Eff: nb, Prm: nb, Inh: "none", Bnd: nb, NoNewPrivs: 1}, th); diff != "" {
			t.Errorf("locked thread %d (-want +got):\n%s", i, diff)
		}
	}

	// DropPrivileges() keeps nothing; as uid 65532 without CAP_SETPCAP the bounding set stays.
	attr := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}, AmbientCaps: []uintptr{capNetBindService}}
	out, code, stderr = childRun{bin: bin, mode: "drop-privileges", attr: attr, policy: Policy{Caps: []string{}}}.run(t)
	if code != 0 || out.Err != "" {
		t.Fatalf("exit %d, err %q\n%s", code, out.Err, stderr)
	}
	for i, th := range out.Threads {
		if th.Eff != "none" || th.Prm != "none" || th.Inh != "none" || th.NoNewPrivs != 1 {
			t.Errorf("locked thread %d after DropPrivileges(): %+v", i, th)
		}
	}
	if r, _ := out.Report.Result(CheckCapsAmbient); r.Observed != "none" {
		t.Errorf("ambient after DropPrivileges(): %s", r.Observed)
	}
}

// TestDropCgo: in a cgo binary guard refuses to change capabilities, says why, and
// changes nothing.
func TestDropCgo(t *testing.T) {
	needRoot(t)
	bin := testBinary(t, "cgo")
	out, _, _ := childRun{bin: bin, mode: "all-threads-syscall"}.run(t)
	if !out.ErrCgo {
		t.Skipf("the cgo build does not link cgo (AllThreadsSyscall: %q)", out.Err)
	}
	out, code, stderr := childRun{bin: bin, mode: "drop-privileges", policy: Policy{Caps: []string{"NET_BIND_SERVICE"}}}.run(t)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !out.ErrCgo || !strings.Contains(out.Err, "CGO_ENABLED=0") {
		t.Errorf("DropPrivileges in a cgo binary: %q (ErrCgo %v)", out.Err, out.ErrCgo)
	}
	eff, _, _, _ := capget()
	for i, th := range out.Threads {
		if th.Eff != eff.String() || th.NoNewPrivs != 0 {
			t.Errorf("locked thread %d changed: %+v", i, th)
		}
	}
	p := Policy{Drop: true, AllowRoot: true, Warn: []string{"all"}, KeepGOMEMLIMIT: true}
	out, _, stderr = childRun{bin: bin, mode: "check", policy: p}.run(t)
	if r, _ := out.Report.Result(CheckCapsDrop); r.Status != Warn || !r.Waived || !strings.Contains(r.Detail, "does not work in binaries that use cgo") {
		t.Errorf("caps.drop in a cgo binary: %+v\n%s", r, stderr)
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
