package build

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCapability(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Capability
		err  bool
	}{
		{in: "NET_BIND_SERVICE", want: 10},
		{in: "cap_net_bind_service", want: 10},
		{in: "CAP_NET_BIND_SERVICE", want: 10},
		{in: " net_raw ", want: 13},
		{in: "chown", want: 0},
		{in: "CHECKPOINT_RESTORE", want: 40},
		{in: "NET_BIND", err: true},
		{in: "CAP_", err: true},
		{in: "", err: true},
		{in: "ALL", err: true},
	} {
		got, err := ParseCapability(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseCapability(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if got := CapNetBindService.String(); got != "CAP_NET_BIND_SERVICE" {
		t.Errorf("String() = %q", got)
	}
	if got := Capability(63).String(); got != "CAP_63" {
		t.Errorf("String() of an unnamed capability = %q", got)
	}
}

// The bytes setcap writes for cap_net_bind_service=+ep (getfattr -e hex
// shows 0x0100000200040000000000000000000000000000): magic 0x02000001
// little-endian, permitted bit 10, nothing inheritable.
func TestFileCapabilityBytes(t *testing.T) {
	for _, tc := range []struct {
		caps []Capability
		want string
	}{
		{[]Capability{CapNetBindService}, "0100000200040000000000000000000000000000"},
		{[]Capability{0, 10, 13}, "0100000201240000000000000000000000000000"},
		{[]Capability{40}, "0100000200000000000000000001000000000000"},
		{nil, "0100000200000000000000000000000000000000"},
	} {
		got := hex.EncodeToString(FileCapability(tc.caps))
		if got != tc.want {
			t.Errorf("FileCapability(%v) = %s, want %s", tc.caps, got, tc.want)
		}
	}
}

// TestFileCapabilityMatchesSetcap compares with what setcap(8) really
// writes on this machine.
func TestFileCapabilityMatchesSetcap(t *testing.T) {
	setcap, err := exec.LookPath("setcap")
	if err != nil {
		t.Skip("setcap (libcap2-bin) not installed; TestFileCapabilityBytes holds the expected bytes")
	}
	if os.Geteuid() != 0 {
		t.Skip("setcap needs root")
	}
	for _, spec := range []struct {
		arg  string
		caps []Capability
	}{
		{"cap_net_bind_service=+ep", []Capability{CapNetBindService}},
		{"cap_chown,cap_net_raw,cap_net_bind_service=+ep", []Capability{0, 10, 13}},
		{"cap_checkpoint_restore=+ep", []Capability{40}},
	} {
		file := filepath.Join(t.TempDir(), "bin")
		if err := os.WriteFile(file, []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(setcap, spec.arg, file).CombinedOutput(); err != nil {
			t.Skipf("setcap cannot set file capabilities here (%v: %s)", err, out)
		}
		buf := make([]byte, 64)
		n, err := syscall.Getxattr(file, XattrCapability, buf)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(hex.EncodeToString(buf[:n]), hex.EncodeToString(FileCapability(spec.caps))); diff != "" {
			t.Errorf("%s: setcap wrote vs FileCapability (-setcap +redline):\n%s", spec.arg, diff)
		}
	}
}

func TestConditions(t *testing.T) {
	if got := Conditions(nil); got != nil {
		t.Errorf("no capability, conditions %v", got)
	}
	outcomes := func(caps ...Capability) map[string]Outcome {
		m := map[string]Outcome{}
		for _, c := range Conditions(caps) {
			key := c.Runtime + " " + c.ID
			if _, dup := m[key]; dup {
				t.Errorf("condition %s twice", key)
			}
			if c.Why == "" || c.Settings == "" {
				t.Errorf("condition %s lacks why or settings: %+v", key, c)
			}
			m[key] = c.Outcome
		}
		return m
	}
	// What the kernel did on this machine (DESIGN.md, and the podman
	// end-to-end tests), and what it does under Docker and Kubernetes.
	want := map[string]Outcome{
		"podman defaults":                       Effective,
		"podman no-new-privileges":              Ignored,
		"podman cap-drop-all":                   ExecFails,
		"podman cap-drop-all+no-new-privileges": ExecFails,
		"podman cap-add":                        Effective,
		"podman cap-add+no-new-privileges":      Effective,
		"docker defaults":                       Effective,
		"docker no-new-privileges":              Ignored,
		"docker cap-drop-all":                   ExecFails,
		"docker cap-add":                        Effective,
		"docker cap-add+no-new-privileges":      Ignored,
		"kubernetes defaults":                   Effective,
		"kubernetes cap-drop-all":               ExecFails,
		"kubernetes cap-add":                    Effective,
		"kubernetes cap-add+no-new-privileges":  Ignored,
	}
	if diff := cmp.Diff(want, outcomes(CapNetBindService)); diff != "" {
		t.Errorf("NET_BIND_SERVICE (-want +got):\n%s", diff)
	}
	// NET_RAW is in Docker's default set but not podman's: there the
	// binary does not even start.
	raw := outcomes(13)
	if raw["podman defaults"] != ExecFails || raw["docker defaults"] != Effective || raw["podman cap-add"] != Effective {
		t.Errorf("NET_RAW: %v", raw)
	}
	// SYS_ADMIN is in no default set.
	admin := outcomes(21)
	for _, k := range []string{"podman defaults", "docker defaults", "kubernetes defaults", "podman no-new-privileges"} {
		if admin[k] != ExecFails {
			t.Errorf("SYS_ADMIN %s = %s, want exec-fails", k, admin[k])
		}
	}
	// Every capability must be in the bounding set: one outside fails all.
	mixed := outcomes(10, 21)
	if mixed["podman defaults"] != ExecFails {
		t.Errorf("NET_BIND_SERVICE+SYS_ADMIN podman defaults = %s", mixed["podman defaults"])
	}
}

func TestCapNotes(t *testing.T) {
	if n := capNotes([]Capability{CapNetBindService}); len(n) != 2 {
		t.Errorf("NET_BIND_SERVICE notes: %q", n)
	}
	if n := capNotes([]Capability{13}); len(n) != 0 {
		t.Errorf("NET_RAW notes: %q", n)
	}
}
