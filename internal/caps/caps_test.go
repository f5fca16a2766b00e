package caps

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// setcapNetBind is what `setcap cap_net_bind_service=+ep` writes
// (VFS_CAP_REVISION_2): magic 0x02000001, permitted bit 10, nothing
// inheritable.
var setcapNetBind, _ = hex.DecodeString("0100000200040000000000000000000000000000")

func TestParseXattr(t *testing.T) {
	f, err := ParseXattr(setcapNetBind)
	if err != nil {
		t.Fatal(err)
	}
	if f.Revision != 2 || !f.Effective || f.Permitted != Of(NetBindService) || f.Inheritable != 0 {
		t.Errorf("ParseXattr(setcap +ep) = %+v", f)
	}
	if got := f.String(); got != "cap_net_bind_service=ep" {
		t.Errorf("String() = %q", got)
	}
	if !bytes.Equal(f.Bytes(), setcapNetBind) {
		t.Errorf("Bytes() = %x, want %x", f.Bytes(), setcapNetBind)
	}
	// High capabilities live in the second word.
	hi := File{Effective: false, Permitted: Of(39, 0)} // BPF, CHOWN
	back, err := ParseXattr(hi.Bytes())
	if err != nil || back.Permitted != hi.Permitted || back.Effective || back.Revision != 2 {
		t.Errorf("round trip of %+v = %+v, %v", hi, back, err)
	}
	if back.String() != "cap_chown,cap_bpf=p" {
		t.Errorf("String() = %q", back.String())
	}
	// Revision 3 carries a root ID.
	r3 := File{Revision: 3, Effective: true, Permitted: Of(NetBindService), RootID: 100000}
	got, err := ParseXattr(r3.Bytes())
	if err != nil || got.Revision != 3 || got.RootID != 100000 || got.Permitted != r3.Permitted {
		t.Errorf("revision 3 round trip = %+v, %v", got, err)
	}
	// Revision 1: 32 capabilities, 12 bytes.
	r1 := []byte{0x01, 0, 0, 0x01, 0x00, 0x04, 0, 0, 0, 0, 0, 0}
	if got, err := ParseXattr(r1); err != nil || got.Revision != 1 || got.Permitted != Of(NetBindService) || !got.Effective {
		t.Errorf("revision 1 = %+v, %v", got, err)
	}
	for name, b := range map[string][]byte{
		"empty":            nil,
		"short revision 2": setcapNetBind[:16],
		"long revision 1":  append(r1, 0),
		"revision 9":       {0, 0, 0, 0x09, 0, 0, 0, 0, 0, 0, 0, 0},
		"unknown flags":    {0x03, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	} {
		if _, err := ParseXattr(b); !errors.Is(err, ErrXattr) {
			t.Errorf("%s: err = %v, want ErrXattr", name, err)
		}
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Cap{"NET_BIND_SERVICE": NetBindService, "cap_net_raw": NetRaw, " Sys_Admin ": SysAdmin} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := Parse("NET_FLY"); err == nil {
		t.Error("Parse(NET_FLY) succeeded")
	}
	s, err := ParseList("NET_BIND_SERVICE, cap_chown")
	if err != nil || s != Of(NetBindService, 0) || s.String() != "CHOWN,NET_BIND_SERVICE" {
		t.Errorf("ParseList = %v (%v), %v", s, s.String(), err)
	}
	if s, err := ParseList("none"); err != nil || s != 0 || s.String() != "none" {
		t.Errorf("ParseList(none) = %v, %v", s, err)
	}
}

// TestExec holds the kernel's rule against what DESIGN.md records of this
// machine's podman (uid 65532): ambient caps from --cap-add survive
// no-new-privileges; a +ep file capability works under the defaults, is
// ignored under no-new-privileges and fails exec under --cap-drop=ALL.
func TestExec(t *testing.T) {
	nbs := Of(NetBindService)
	fileCap := &File{Revision: 2, Effective: true, Permitted: nbs}
	for _, tc := range []struct {
		name    string
		p       Process
		r       Runtime
		outcome Outcome
		eff     Set
	}{
		{"podman cap-add, no file caps", Process{UID: 65532, Bounding: nbs, Added: nbs}, Podman, OK, nbs},
		{"podman cap-add + nnp", Process{UID: 65532, Bounding: nbs, Added: nbs, NoNewPrivs: true}, Podman, OK, nbs},
		{"podman defaults + file cap", Process{UID: 65532, Bounding: Podman.Default, File: fileCap}, Podman, OK, nbs},
		{"podman defaults + file cap + nnp", Process{UID: 65532, Bounding: Podman.Default, NoNewPrivs: true, File: fileCap}, Podman, NoEffect, 0},
		{"podman cap-drop ALL + file cap", Process{UID: 65532, Bounding: 0, File: fileCap}, Podman, ExecFails, 0},
		{"podman cap-drop ALL + file cap + nnp", Process{UID: 65532, Bounding: 0, NoNewPrivs: true, File: fileCap}, Podman, ExecFails, 0},
		{"podman cap-add + file cap + nnp", Process{UID: 65532, Bounding: nbs, Added: nbs, NoNewPrivs: true, File: fileCap}, Podman, OK, nbs},
		{"kubernetes drop ALL add NBS, no file caps", Process{UID: 65532, Bounding: nbs, Added: nbs}, Containerd, OK, 0},
		{"kubernetes drop ALL add NBS + file cap", Process{UID: 65532, Bounding: nbs, Added: nbs, File: fileCap}, Containerd, OK, nbs},
		{"kubernetes restricted + file cap", Process{UID: 65532, Bounding: nbs, Added: nbs, NoNewPrivs: true, File: fileCap}, Containerd, NoEffect, 0},
		{"kubernetes drop ALL + file cap", Process{UID: 65532, Bounding: 0, NoNewPrivs: true, File: fileCap}, CRIO, ExecFails, 0},
		{"file cap without effective flag", Process{UID: 65532, Bounding: Docker.Default, File: &File{Permitted: nbs}}, Docker, NoEffect, 0},
		{"root holds the bounding set", Process{UID: 0, Bounding: Docker.Default}, Docker, OK, Docker.Default},
		{"root, file cap beyond bounding", Process{UID: 0, Bounding: 0, File: fileCap}, Docker, ExecFails, 0},
	} {
		got := Exec(tc.p, tc.r)
		if got.Outcome != tc.outcome || got.Effective != tc.eff {
			t.Errorf("%s: Exec = %v, effective %v (%s); want %v, %v", tc.name, got.Outcome, got.Effective, got.Why, tc.outcome, tc.eff)
		}
		if got.Why == "" {
			t.Errorf("%s: no explanation", tc.name)
		}
	}
}

func TestCanBind(t *testing.T) {
	for _, tc := range []struct {
		name    string
		port    int
		eff     Set
		r       Runtime
		hostNet bool
		want    bool
	}{
		{"high port", 8080, 0, CRIO, false, true},
		{"cri-o keeps 1024", 80, 0, CRIO, false, false},
		{"containerd 1.x keeps 1024", 80, 0, Containerd1, false, false},
		{"containerd 2 lowers the sysctl", 80, 0, Containerd, false, true},
		{"not on the host network", 80, 0, Containerd, true, false},
		{"the capability", 80, Of(NetBindService), CRIO, true, true},
		{"podman keeps 1024", 443, 0, Podman, false, false},
		{"docker lowers the sysctl", 443, 0, Docker, false, true},
	} {
		got, why := CanBind(tc.port, tc.eff, tc.r, tc.hostNet)
		if got != tc.want || why == "" {
			t.Errorf("%s: CanBind = %v (%s), want %v", tc.name, got, why, tc.want)
		}
	}
	if _, err := LookupRuntime("cri-o"); err != nil {
		t.Error(err)
	}
	if _, err := LookupRuntime("rkt"); err == nil {
		t.Error("LookupRuntime(rkt) succeeded")
	}
}
