package guard

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCapNames(t *testing.T) {
	for i, name := range capNames {
		for _, spelled := range []string{name, strings.TrimPrefix(name, "CAP_"), strings.ToLower(name)} {
			got, err := parseCapName(spelled)
			if err != nil || got != i {
				t.Errorf("parseCapName(%q) = %d, %v; want %d", spelled, got, err, i)
			}
		}
		if s := capSet(1 << i).String(); s != name {
			t.Errorf("capSet(1<<%d) = %q, want %q", i, s, name)
		}
	}
	// A capability newer than the table still round-trips by number.
	if s := capSet(1 << 45).String(); s != "CAP_45" {
		t.Errorf("capSet(1<<45) = %q", s)
	}
	if c, err := parseCapName("CAP_45"); err != nil || c != 45 {
		t.Errorf("parseCapName(CAP_45) = %d, %v", c, err)
	}
	for _, bad := range []string{"NET_BIND", "CAP_", "CAP_64", "cap_-1", ""} {
		if _, err := parseCapName(bad); err == nil {
			t.Errorf("parseCapName(%q) succeeded", bad)
		}
	}
	// Spot checks against capabilities(7).
	for name, bit := range map[string]int{"CAP_NET_BIND_SERVICE": 10, "CAP_SYS_ADMIN": 21, "CAP_SETPCAP": 8, "CAP_BPF": 39, "CAP_CHECKPOINT_RESTORE": 40} {
		if capNames[bit] != name {
			t.Errorf("capability %d is %s, want %s", bit, capNames[bit], name)
		}
	}
	if s := capSet(1<<10 | 1<<21 | 1).String(); s != "CAP_CHOWN,CAP_NET_BIND_SERVICE,CAP_SYS_ADMIN" {
		t.Errorf("set = %q", s)
	}
	if s := capSet(0).String(); s != "none" {
		t.Errorf("empty set = %q", s)
	}
}

func TestResolve(t *testing.T) {
	type got struct {
		Caps       string
		CapsFrom   string
		UIDs, GIDs []int
		Writable   []string
		Warn       []string
		Ratio      float64
	}
	tests := []struct {
		name    string
		p       Policy
		env     map[string]string
		want    got
		wantErr string
	}{
		{name: "zero policy", want: got{Caps: "CAP_NET_BIND_SERVICE", CapsFrom: "default", Ratio: 0.9}},
		{name: "policy allows none", p: Policy{Caps: []string{}}, want: got{Caps: "none", CapsFrom: "policy", Ratio: 0.9}},
		{name: "policy names", p: Policy{Caps: []string{"chown", "CAP_NET_RAW"}}, want: got{Caps: "CAP_CHOWN,CAP_NET_RAW", CapsFrom: "policy", Ratio: 0.9}},
		{name: "labels in the environment", p: Policy{Caps: []string{"SYS_ADMIN"}, UIDs: []int{1}, WritablePaths: []string{"/a"}, Warn: []string{"seccomp"}},
			env: map[string]string{EnvUser: "65532:65532", EnvCaps: "NET_BIND_SERVICE, net_raw", EnvWritable: "/data,/cache", EnvWarn: "rootfs", EnvMemoryRatio: "0.8"},
			want: got{Caps: "CAP_NET_BIND_SERVICE,CAP_NET_RAW", CapsFrom: EnvCaps, UIDs: []int{65532}, GIDs: []int{65532},
				Writable: []string{"/a", "/data", "/cache"}, Warn: []string{"seccomp", "rootfs"}, Ratio: 0.8}},
		{name: "empty caps variable allows none", env: map[string]string{EnvCaps: ""}, want: got{Caps: "none", CapsFrom: EnvCaps, Ratio: 0.9}},
		{name: "caps none", env: map[string]string{EnvCaps: "none"}, want: got{Caps: "none", CapsFrom: EnvCaps, Ratio: 0.9}},
		{name: "user without group", p: Policy{GIDs: []int{5}}, env: map[string]string{EnvUser: "1000"}, want: got{Caps: "CAP_NET_BIND_SERVICE", CapsFrom: "default", UIDs: []int{1000}, Ratio: 0.9}},
		{name: "ignore env", p: Policy{IgnoreEnv: true}, env: map[string]string{EnvCaps: "SYS_ADMIN", EnvUser: "0"}, want: got{Caps: "CAP_NET_BIND_SERVICE", CapsFrom: "default", Ratio: 0.9}},
		{name: "unknown capability in env", env: map[string]string{EnvCaps: "NET_BIND"}, wantErr: `guard: REDLINE_GUARD_CAPS="NET_BIND": unknown capability "NET_BIND"`},
		{name: "unknown capability in policy", p: Policy{Caps: []string{"ROOT"}}, wantErr: `guard: Policy.Caps: unknown capability "ROOT"`},
		{name: "user name", env: map[string]string{EnvUser: "nonroot"}, wantErr: `user "nonroot" is not a numeric uid`},
		{name: "bad group", env: map[string]string{EnvUser: "1:x"}, wantErr: `group "x" is not a numeric gid`},
		{name: "relative writable path", env: map[string]string{EnvWritable: "data"}, wantErr: `writable path "data" is not absolute`},
		{name: "ratio above 1", p: Policy{MemoryRatio: 1.5}, wantErr: "memory ratio 1.5 is outside (0, 1]"},
		{name: "ratio not a number", env: map[string]string{EnvMemoryRatio: "most"}, wantErr: "REDLINE_GUARD_MEMORY_RATIO=\"most\": not a decimal number such as 0.9"},
		{name: "ratio zero", env: map[string]string{EnvMemoryRatio: "0"}, wantErr: "REDLINE_GUARD_MEMORY_RATIO=\"0\""},
		{name: "ratio with a leading dot", env: map[string]string{EnvMemoryRatio: ".75"}, want: got{Caps: "CAP_NET_BIND_SERVICE", CapsFrom: "default", Ratio: 0.75}},
		{name: "forbidden GODEBUG list", p: Policy{ForbiddenGODEBUG: []string{"a=1,b=2"}}, wantErr: "is not name or name=value"},
		{name: "negative uid", p: Policy{UIDs: []int{-1}}, wantErr: "negative id -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := resolve(tt.p, func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := got{Caps: r.caps.String(), CapsFrom: r.capsFrom, UIDs: r.UIDs, GIDs: r.GIDs, Writable: r.WritablePaths, Warn: r.Warn, Ratio: r.ratio}
			if diff := cmp.Diff(tt.want, g); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWaived(t *testing.T) {
	r := rules{Policy: Policy{Warn: []string{"caps", "writable", "rootfs"}}}
	for id, want := range map[string]bool{
		"caps.effective": true, "caps.bounding": true, "capsule": false, "writable:/data": true,
		"rootfs": true, "rootfsx": false, "user": false, "no_new_privs": false,
	} {
		if got := r.waived(id); got != want {
			t.Errorf("waived(%q) = %v, want %v", id, got, want)
		}
	}
	all := rules{Policy: Policy{Warn: []string{"all"}}}
	if !all.waived("user") {
		t.Error(`"all" does not waive user`)
	}
}

func TestDefaultForbiddenGODEBUGIsACopy(t *testing.T) {
	a := DefaultForbiddenGODEBUG()
	a[0] = "changed"
	if DefaultForbiddenGODEBUG()[0] == "changed" {
		t.Error("DefaultForbiddenGODEBUG returns the package's own slice")
	}
}
