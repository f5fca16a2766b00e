package guard

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The plans of Drop and Raise, against fixtures, with the system calls recorded.
func TestDropPlan(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		edits   []edit
		keep    capSet
		calls   []string
		did     []string
	}{{
		name: "root with Docker's capabilities keeps NET_BIND_SERVICE", fixture: "k8s-v2-root", keep: 1 << capNetBindService,
		calls: []string{
			"bounding drop CAP_CHOWN", "bounding drop CAP_DAC_OVERRIDE", "bounding drop CAP_FOWNER", "bounding drop CAP_FSETID",
			"bounding drop CAP_KILL", "bounding drop CAP_SETGID", "bounding drop CAP_SETUID", "bounding drop CAP_SETPCAP",
			"bounding drop CAP_NET_RAW", "bounding drop CAP_SYS_CHROOT", "bounding drop CAP_MKNOD", "bounding drop CAP_AUDIT_WRITE",
			"bounding drop CAP_SETFCAP",
			"capset eff=CAP_NET_BIND_SERVICE prm=CAP_NET_BIND_SERVICE inh=none",
			"no_new_privs",
		},
		did: []string{
			"dropped from the bounding set: CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,CAP_SETPCAP,CAP_NET_RAW,CAP_SYS_CHROOT,CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP",
			"dropped from the effective, permitted and inheritable sets: CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,CAP_SETPCAP,CAP_NET_RAW,CAP_SYS_CHROOT,CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP",
			"set no_new_privs",
		},
	}, {
		name: "without CAP_SETPCAP the bounding set stays", fixture: "docker-v2-cgroupns", keep: 0,
		calls: nil,
		did: []string{"kept the bounding set: removing " + dockerDefaultCaps +
			" from it needs CAP_SETPCAP; under no_new_privs no exec can gain them"},
	}, {
		name: "podman ambient capability dropped", fixture: "podman-hybrid", keep: 0,
		// The process holds no CAP_SETPCAP, so the bounding set is left alone.
		calls: []string{"ambient lower CAP_NET_BIND_SERVICE", "capset eff=none prm=none inh=none"},
		did: []string{
			"kept the bounding set: removing CAP_NET_BIND_SERVICE from it needs CAP_SETPCAP; under no_new_privs no exec can gain them",
			"lowered ambient: CAP_NET_BIND_SERVICE",
			"dropped from the effective, permitted and inheritable sets: CAP_NET_BIND_SERVICE",
		},
	}, {
		name: "threads differ: capset to what every thread may set", fixture: "k8s-v2-root", keep: 1<<capNetBindService | 1<<13,
		edits: []edit{{path: "proc/self/task/7/status", data: strings.Replace(
			strings.Replace(statusOf(t, "k8s-v2-root"), "CapPrm:\t00000000a80425fb", "CapPrm:\t0000000000000400", 1),
			"CapEff:\t00000000a80425fb", "CapEff:\t0000000000000400", 1)}},
		// Thread 7 holds only NET_BIND_SERVICE: CAP_SETPCAP is not effective on every
		// thread, so no bounding drop (AllThreadsSyscall kills the process when one thread
		// refuses what another accepted), and capset asks for no more than thread 7 has.
		calls: []string{"capset eff=CAP_NET_BIND_SERVICE prm=CAP_NET_BIND_SERVICE inh=none", "no_new_privs"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := readState(newReader(loadFixture(t, tt.fixture, tt.edits...)), nil)
			sys := &fakeSys{}
			did, err := dropPrivileges(sys, st, tt.keep)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.calls, sys.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if tt.did != nil {
				if diff := cmp.Diff(tt.did, did); diff != "" {
					t.Errorf("did (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func statusOf(t *testing.T, fixture string) string {
	t.Helper()
	st := loadFixture(t, fixture)
	b, err := newReader(st).read("/proc/self/status", "")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDropErrors(t *testing.T) {
	st := readState(newReader(loadFixture(t, "k8s-v2-root")), nil)
	_, err := dropPrivileges(&fakeSys{err: syscall.ENOTSUP}, st, 0)
	if !errors.Is(err, ErrCgo) || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("ENOTSUP gave %v, want ErrCgo", err)
	}
	_, err = dropPrivileges(&fakeSys{err: syscall.EPERM}, st, 0)
	if err == nil || !strings.Contains(err.Error(), "dropping CAP_CHOWN from the bounding set: operation not permitted") {
		t.Errorf("EPERM gave %v", err)
	}
	// Nothing is changed on what could not be read.
	broken := readState(newReader(loadFixture(t, "k8s-v2-root", edit{path: "proc/self/task", del: true})), nil)
	sys := &fakeSys{}
	if _, err := dropPrivileges(sys, broken, 0); err == nil || len(sys.calls) > 0 {
		t.Errorf("drop on an unreadable state: err %v, calls %v", err, sys.calls)
	}
}

func TestRaisePlan(t *testing.T) {
	// podman's process, with NET_BIND_SERVICE permitted but not effective (a "=p" file capability).
	idle := edit{path: "proc/self/status", data: strings.Replace(statusOf(t, "podman-hybrid"), "CapEff:\t0000000000000400", "CapEff:\t0000000000000000", 1)}
	root := loadFixture(t, "podman-hybrid", idle)
	for _, tid := range []string{"1", "6", "7", "8", "9"} {
		p := "proc/self/task/" + tid + "/status"
		b, _ := newReader(root).read("/"+p, "")
		writeFile(t, root+"/"+p, strings.Replace(string(b), "CapEff:\t0000000000000400", "CapEff:\t0000000000000000", 1))
	}
	st := readState(newReader(root), nil)
	sys := &fakeSys{}
	did, err := raiseCaps(sys, st, 1<<capNetBindService|1<<13, false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"capset eff=CAP_NET_BIND_SERVICE prm=CAP_NET_BIND_SERVICE inh=CAP_NET_BIND_SERVICE"}, sys.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"raised into the effective set: CAP_NET_BIND_SERVICE"}, did); diff != "" {
		t.Errorf("did (-want +got):\n%s", diff)
	}
	// Strict: a capability that is not permitted cannot be raised.
	_, err = raiseCaps(&fakeSys{}, st, 1<<21, true)
	if err == nil || !strings.Contains(err.Error(), "cannot raise CAP_SYS_ADMIN: not in the permitted set") {
		t.Errorf("raising SYS_ADMIN: %v", err)
	}
	_, err = raiseCaps(&fakeSys{err: syscall.EPERM}, st, 1<<capNetBindService, true)
	if err == nil || !strings.Contains(err.Error(), "the kernel refused to raise CAP_NET_BIND_SERVICE into the effective set: operation not permitted") {
		t.Errorf("EPERM: %v", err)
	}

	// The report says so plainly before the raise, and Check raises with Policy.Raise.
	h, _ := fixtureHost(root, nil, 2, 2)
	rep, err := check(context.Background(), Policy{}, h)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := rep.Result(CheckCapsIdle)
	if !ok || r.Status != Warn || r.Observed != "CAP_NET_BIND_SERVICE" || !strings.Contains(r.Detail, "permitted but not effective") {
		t.Errorf("caps.not_effective = %+v, %v", r, ok)
	}
	rep, _ = check(context.Background(), Policy{Raise: true}, h)
	if r, _ := rep.Result(CheckCapsRaise); r.Status != Pass {
		t.Errorf("caps.raise = %+v", r)
	}
	if calls := h.sys.(*fakeSys).calls; len(calls) != 1 {
		t.Errorf("Check with Raise made calls %v", calls)
	}
	h.sys = &fakeSys{err: syscall.ENOTSUP}
	rep, _ = check(context.Background(), Policy{Raise: true}, h)
	if r, _ := rep.Result(CheckCapsRaise); r.Status != Fail || !strings.Contains(r.Detail, "cgo") || rep.OK {
		t.Errorf("caps.raise in a cgo binary = %+v, OK %v", r, rep.OK)
	}
}
