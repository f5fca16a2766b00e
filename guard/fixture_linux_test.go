package guard

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const dockerDefaultCaps = "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,CAP_SETPCAP," +
	"CAP_NET_BIND_SERVICE,CAP_NET_RAW,CAP_SYS_CHROOT,CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP"

// TestFixtures checks the default policy against recorded and hand-written /proc and
// cgroup trees, one per runtime layout.
func TestFixtures(t *testing.T) {
	tests := []struct {
		fixture     string
		procs, ncpu int
		want        map[string]brief
		ok          bool
		details     map[string]string // check id -> substring of its detail
	}{{
		fixture: "podman-hybrid", procs: 2, ncpu: 2, ok: true,
		want: map[string]brief{
			"user":             {Pass, "65532"},
			"group":            {Pass, "65532 groups=65532"},
			"caps.effective":   {Pass, "CAP_NET_BIND_SERVICE"},
			"caps.permitted":   {Pass, "CAP_NET_BIND_SERVICE"},
			"caps.inheritable": {Pass, "CAP_NET_BIND_SERVICE"},
			"caps.ambient":     {Pass, "CAP_NET_BIND_SERVICE"},
			"caps.bounding":    {Info, "CAP_NET_BIND_SERVICE"},
			"no_new_privs":     {Pass, "1"},
			"seccomp":          {Pass, "filter"},
			"threads":          {Pass, "5"},
			"rootfs":           {Pass, "read-only"},
			"godebug":          {Pass, "none"},
			"memory":           {Info, "268435456"},
			"gomemlimit":       {Pass, "241591910"}, // 0.9 × 256 MiB, as issue 7 expects
			"cpu":              {Info, "1"},
			"gomaxprocs":       {Warn, "2"},
		},
		details: map[string]string{
			"memory":     "cgroup v1 /sys/fs/cgroup/memory/memory.limit_in_bytes, the tightest of 1 level",
			"gomaxprocs": "a limit of 1 CPU still gives 2",
		},
	}, {
		fixture: "k8s-v2-root", procs: 8, ncpu: 8, ok: false,
		want: map[string]brief{
			"user":             {Fail, "0"},
			"group":            {Fail, "0 groups=0,10"},
			"caps.effective":   {Fail, dockerDefaultCaps},
			"caps.permitted":   {Fail, dockerDefaultCaps},
			"caps.inheritable": {Pass, "none"},
			"caps.ambient":     {Pass, "none"},
			"caps.bounding":    {Info, dockerDefaultCaps},
			"no_new_privs":     {Fail, "0"},
			"seccomp":          {Pass, "filter"},
			"threads":          {Pass, "2"},
			"rootfs":           {Fail, "read-write"},
			"godebug":          {Pass, "none"},
			"memory":           {Info, "536870912"},
			"gomemlimit":       {Pass, "483183820"},
			"cpu":              {Info, "1.5"},
			"gomaxprocs":       {Warn, "8"},
		},
		details: map[string]string{
			"caps.effective": "not allowed: CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,CAP_SETPCAP,CAP_NET_RAW,CAP_SYS_CHROOT,CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP:",
			"memory":         "kubepods-burstable-pod1f2e.slice/memory.max, the tightest of 5 levels",
			"cpu":            "kubepods-burstable-pod1f2e.slice/cpu.max",
			"gomaxprocs":     "a parent cgroup limits the CPU to 1.5",
		},
	}, {
		fixture: "docker-v2-cgroupns", procs: 2, ncpu: 8, ok: true,
		want: map[string]brief{
			"user":             {Pass, "1000"},
			"group":            {Pass, "1000 groups=1000"},
			"caps.effective":   {Pass, "none"},
			"caps.permitted":   {Pass, "none"},
			"caps.inheritable": {Pass, "none"},
			"caps.ambient":     {Pass, "none"},
			"caps.bounding":    {Info, dockerDefaultCaps},
			"no_new_privs":     {Pass, "1"},
			"seccomp":          {Pass, "filter"},
			"threads":          {Pass, "2"},
			"rootfs":           {Pass, "read-only"},
			"godebug":          {Pass, "none"},
			"memory":           {Info, "805306368"},
			"gomemlimit":       {Pass, "724775731"},
			"cpu":              {Info, "2"},
			"gomaxprocs":       {Pass, "2"},
		},
		details: map[string]string{
			"memory":        "cgroup v2 /sys/fs/cgroup/memory.high",
			"caps.bounding": "13 capabilities beyond the allow-list",
		},
	}, {
		fixture: "v1-parent-limit", procs: 2, ncpu: 2, ok: true,
		want: map[string]brief{
			"user":             {Pass, "65532"},
			"group":            {Pass, "65532"},
			"caps.effective":   {Pass, "none"},
			"caps.permitted":   {Pass, "none"},
			"caps.inheritable": {Pass, "none"},
			"caps.ambient":     {Pass, "none"},
			"caps.bounding":    {Info, dockerDefaultCaps},
			"no_new_privs":     {Pass, "1"},
			"seccomp":          {Pass, "filter"},
			"threads":          {Pass, "1"},
			"rootfs":           {Pass, "read-only"},
			"godebug":          {Pass, "none"},
			"memory":           {Info, "134217728"},
			"gomemlimit":       {Pass, "120795955"},
			"cpu":              {Info, "0.5"},
			"gomaxprocs":       {Warn, "2"},
		},
		details: map[string]string{
			"memory":     "cgroup v1 /sys/fs/cgroup/memory/docker/memory.limit_in_bytes, the tightest of 3 levels",
			"cpu":        "/sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_quota_us",
			"gomaxprocs": "a parent cgroup limits the CPU to 0.5",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			h, mem := fixtureHost(loadFixture(t, tt.fixture), nil, tt.procs, tt.ncpu)
			rep, err := check(context.Background(), Policy{}, h)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, briefs(rep)); diff != "" {
				t.Errorf("results (-want +got):\n%s\n%s", diff, rep)
			}
			if rep.OK != tt.ok {
				t.Errorf("OK = %v, want %v", rep.OK, tt.ok)
			}
			for id, sub := range tt.details {
				if r, _ := rep.Result(id); !strings.Contains(r.Detail, sub) {
					t.Errorf("%s detail = %q, want it to contain %q", id, r.Detail, sub)
				}
			}
			// What guard reported as GOMEMLIMIT is what it set.
			if r, _ := rep.Result(CheckGOMEMLIMIT); r.Observed != memString(mem.v.Load()) {
				t.Errorf("reported GOMEMLIMIT %s, but set %d", r.Observed, mem.v.Load())
			}
		})
	}
}

// TestBadInput edits the podman fixture into odd and broken files: every check that
// depends on them must say unknown (or warn, for the limits guard only reports), with the
// reason, and never pass.
func TestBadInput(t *testing.T) {
	const status = "proc/self/status"
	orig := func(t *testing.T, path string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(loadFixture(t, "podman-hybrid"), path))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	replace := func(t *testing.T, path, old, new string) edit {
		t.Helper()
		s := orig(t, path)
		if !strings.Contains(s, old) {
			t.Fatalf("%s has no %q", path, old)
		}
		return edit{path: path, data: strings.Replace(s, old, new, 1)}
	}
	tests := []struct {
		name   string
		edits  func(t *testing.T) []edit
		want   map[string]Status
		detail string // in the first check of want, by id order below
		id     string
	}{{
		name:  "status without CapEff",
		edits: func(t *testing.T) []edit { return []edit{replace(t, status, "CapEff:\t0000000000000400\n", "")} },
		want: map[string]Status{"caps.effective": Unknown, "caps.permitted": Unknown, "caps.inheritable": Unknown,
			"caps.ambient": Unknown, "caps.bounding": Unknown, "threads": Unknown, "user": Pass},
		id: "caps.effective", detail: "/proc/self/status has no CapEff field",
	}, {
		name:  "status without Seccomp",
		edits: func(t *testing.T) []edit { return []edit{replace(t, status, "Seccomp:\t2\n", "")} },
		want:  map[string]Status{"seccomp": Unknown, "no_new_privs": Pass},
		id:    "seccomp", detail: "no Seccomp field",
	}, {
		name:  "malformed Uid",
		edits: func(t *testing.T) []edit { return []edit{replace(t, status, "Uid:\t65532", "Uid:\tabc")} },
		want:  map[string]Status{"user": Unknown, "group": Pass},
		id:    "user", detail: "malformed Uid",
	}, {
		name: "Uid with three ids",
		edits: func(t *testing.T) []edit {
			return []edit{replace(t, status, "Uid:\t65532\t65532\t65532\t65532", "Uid:\t65532\t65532\t65532")}
		},
		want: map[string]Status{"user": Unknown},
		id:   "user", detail: "malformed Uid",
	}, {
		name: "malformed CapPrm",
		edits: func(t *testing.T) []edit {
			return []edit{replace(t, status, "CapPrm:\t0000000000000400", "CapPrm:\tzz")}
		},
		want: map[string]Status{"caps.permitted": Unknown, "caps.effective": Unknown},
		id:   "caps.permitted", detail: "malformed CapPrm",
	}, {
		name: "capability mask longer than 64 bits",
		edits: func(t *testing.T) []edit {
			return []edit{replace(t, status, "CapAmb:\t0000000000000400", "CapAmb:\t100000000000000400")}
		},
		want: map[string]Status{"caps.ambient": Unknown},
		id:   "caps.ambient", detail: "malformed CapAmb",
	}, {
		name:  "NoNewPrivs out of range",
		edits: func(t *testing.T) []edit { return []edit{replace(t, status, "NoNewPrivs:\t1", "NoNewPrivs:\t7")} },
		want:  map[string]Status{"no_new_privs": Unknown},
		id:    "no_new_privs", detail: "malformed NoNewPrivs",
	}, {
		name:  "status missing",
		edits: func(t *testing.T) []edit { return []edit{{path: status, del: true}} },
		want: map[string]Status{"user": Unknown, "group": Unknown, "caps.effective": Unknown, "no_new_privs": Unknown,
			"seccomp": Unknown, "threads": Unknown, "rootfs": Pass},
		id: "user", detail: "/proc/self/status: no such file",
	}, {
		name:  "no task directory",
		edits: func(t *testing.T) []edit { return []edit{{path: "proc/self/task", del: true}} },
		want: map[string]Status{"threads": Unknown, "caps.effective": Unknown, "no_new_privs": Unknown,
			"seccomp": Unknown, "user": Pass},
		id: "threads", detail: "/proc/self/task",
	}, {
		name: "one thread holds more",
		edits: func(t *testing.T) []edit {
			return []edit{replace(t, "proc/self/task/7/status", "CapEff:\t0000000000000400", "CapEff:\t0000000000200400")}
		},
		want: map[string]Status{"threads": Fail, "caps.effective": Fail, "caps.permitted": Pass},
		id:   "threads", detail: "thread 7 differs from the main thread in CapEff:",
	}, {
		name: "one thread lacks no_new_privs",
		edits: func(t *testing.T) []edit {
			return []edit{replace(t, "proc/self/task/8/status", "NoNewPrivs:\t1", "NoNewPrivs:\t0")}
		},
		want: map[string]Status{"threads": Fail, "no_new_privs": Fail},
		id:   "no_new_privs", detail: "allowPrivilegeEscalation: false",
	}, {
		name: "memory limit beyond int64",
		edits: func(t *testing.T) []edit {
			return []edit{{path: "sys/fs/cgroup/memory/memory.limit_in_bytes", data: "99999999999999999999999\n"}}
		},
		want: map[string]Status{"memory": Warn, "gomemlimit": Warn},
		id:   "memory", detail: "value out of range",
	}, {
		name: "memory limit empty",
		edits: func(t *testing.T) []edit {
			return []edit{{path: "sys/fs/cgroup/memory/memory.limit_in_bytes", data: ""}}
		},
		want: map[string]Status{"memory": Warn, "gomemlimit": Warn},
		id:   "memory", detail: "empty value",
	}, {
		name: "memory limit zero",
		edits: func(t *testing.T) []edit {
			return []edit{{path: "sys/fs/cgroup/memory/memory.limit_in_bytes", data: "0\n"}}
		},
		want: map[string]Status{"memory": Warn, "gomemlimit": Warn},
		id:   "memory", detail: "not a positive limit",
	}, {
		name: "memory limit file missing in v1",
		edits: func(t *testing.T) []edit {
			return []edit{{path: "sys/fs/cgroup/memory/memory.limit_in_bytes", del: true}}
		},
		want: map[string]Status{"memory": Warn, "gomemlimit": Warn},
		id:   "memory", detail: "memory.limit_in_bytes: no such file",
	}, {
		name:  "v1 CPU quota says max",
		edits: func(t *testing.T) []edit { return []edit{{path: "sys/fs/cgroup/cpu/cpu.cfs_quota_us", data: "max\n"}} },
		want:  map[string]Status{"cpu": Warn, "gomaxprocs": Warn, "memory": Info},
		id:    "cpu", detail: "not a number",
	}, {
		name:  "empty /proc/self/cgroup",
		edits: func(t *testing.T) []edit { return []edit{{path: "proc/self/cgroup", data: ""}} },
		want:  map[string]Status{"memory": Warn, "gomemlimit": Warn, "cpu": Warn},
		id:    "memory", detail: "/proc/self/cgroup is empty",
	}, {
		name:  "garbage in /proc/self/cgroup",
		edits: func(t *testing.T) []edit { return []edit{{path: "proc/self/cgroup", data: "hello\n"}} },
		want:  map[string]Status{"memory": Warn, "cpu": Warn},
		id:    "memory", detail: "line 1 is malformed",
	}, {
		name: "cgroup outside the mounted one",
		edits: func(t *testing.T) []edit {
			return []edit{{path: "proc/self/cgroup", data: "4:memory:/elsewhere\n1:cpu:/elsewhere\n0::/elsewhere\n"}}
		},
		want: map[string]Status{"memory": Warn, "gomemlimit": Warn, "cpu": Warn},
		id:   "memory", detail: "is not below the mounted cgroup /libpod_parent/",
	}, {
		name:  "memory controller listed but not mounted",
		edits: func(t *testing.T) []edit { return []edit{replace(t, "proc/self/mountinfo", "rw,memory", "rw,pids")} },
		want:  map[string]Status{"memory": Warn, "cpu": Info},
		id:    "memory", detail: "the cgroup v1 memory hierarchy is not mounted",
	}, {
		name:  "mountinfo missing",
		edits: func(t *testing.T) []edit { return []edit{{path: "proc/self/mountinfo", del: true}} },
		want:  map[string]Status{"rootfs": Unknown, "memory": Warn, "cpu": Warn, "user": Pass},
		id:    "rootfs", detail: "/proc/self/mountinfo: no such file",
	}, {
		name: "mountinfo without /",
		edits: func(t *testing.T) []edit {
			s := orig(t, "proc/self/mountinfo")
			return []edit{{path: "proc/self/mountinfo", data: s[strings.IndexByte(s, '\n')+1:]}}
		},
		want: map[string]Status{"rootfs": Unknown, "memory": Info},
		id:   "rootfs", detail: "no entry for /",
	}, {
		name: "truncated mountinfo line",
		edits: func(t *testing.T) []edit {
			return []edit{{path: "proc/self/mountinfo", data: "77 50 0:40 / / ro,relatime\n"}}
		},
		want: map[string]Status{"rootfs": Unknown, "memory": Warn},
		id:   "rootfs", detail: "mountinfo line 1 is malformed",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, mem := fixtureHost(loadFixture(t, "podman-hybrid", tt.edits(t)...), nil, 2, 2)
			rep, err := check(context.Background(), Policy{}, h)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Status{}
			for id := range tt.want {
				r, ok := rep.Result(id)
				if !ok {
					t.Fatalf("no %s check in\n%s", id, rep)
				}
				got[id] = r.Status
				if (r.Status == Unknown || r.Status == Warn) && r.Detail == "" {
					t.Errorf("%s is %s without a reason", id, r.Status)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s\n%s", diff, rep)
			}
			if r, _ := rep.Result(tt.id); !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("%s detail = %q, want it to contain %q", tt.id, r.Detail, tt.detail)
			}
			for _, r := range rep.Results {
				if r.Status == Unknown && rep.OK {
					t.Errorf("report OK with %s unknown", r.ID)
				}
			}
			if st := tt.want["memory"]; st == Warn && mem.v.Load() != 1<<63-1 {
				t.Errorf("GOMEMLIMIT set to %d from an unknown limit", mem.v.Load())
			}
		})
	}
}

func TestNoMemoryLimit(t *testing.T) {
	// v2 "max" everywhere: no limit, GOMEMLIMIT left alone.
	root := loadFixture(t, "docker-v2-cgroupns", edit{path: "sys/fs/cgroup/memory.high", data: "max\n"})
	h, mem := fixtureHost(root, nil, 2, 8)
	rep, err := check(context.Background(), Policy{}, h)
	if err != nil {
		t.Fatal(err)
	}
	got := briefs(rep)
	want := map[string]brief{"memory": {Info, "none"}, "gomemlimit": {Info, "none"}}
	if diff := cmp.Diff(want, map[string]brief{"memory": got["memory"], "gomemlimit": got["gomemlimit"]}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if mem.v.Load() != 1<<63-1 {
		t.Errorf("GOMEMLIMIT set to %d without a limit", mem.v.Load())
	}
}

func TestGOMEMLIMIT(t *testing.T) {
	const limit = 268435456 // podman-hybrid
	tests := []struct {
		name    string
		env     map[string]string
		pre     int64 // set by "the program" before Check; 0: not set
		p       Policy
		want    brief
		wantSet int64
		detail  string
	}{
		{name: "unset: guard sets 0.9 × limit", want: brief{Pass, "241591910"}, wantSet: 241591910, detail: "set by guard: 0.9 × 268435456"},
		{name: "ratio from the environment", env: map[string]string{EnvMemoryRatio: "0.5"}, want: brief{Pass, "134217728"}, wantSet: 134217728},
		{name: "ratio from the policy", p: Policy{MemoryRatio: 0.75}, want: brief{Pass, "201326592"}, wantSet: 201326592},
		{name: "env below the limit", env: map[string]string{"GOMEMLIMIT": "200MiB"}, pre: 200 << 20, want: brief{Pass, "209715200"}, wantSet: 200 << 20, detail: "from GOMEMLIMIT=200MiB"},
		{name: "env above the limit", env: map[string]string{"GOMEMLIMIT": "1GiB"}, pre: 1 << 30, want: brief{Fail, "1073741824"}, wantSet: 1 << 30, detail: "above the container's memory limit"},
		{name: "program above the limit", pre: 512 << 20, want: brief{Fail, "536870912"}, wantSet: 512 << 20, detail: "set by the program"},
		{name: "keep", p: Policy{KeepGOMEMLIMIT: true}, want: brief{Info, "none"}, wantSet: 1<<63 - 1, detail: "KeepGOMEMLIMIT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, mem := fixtureHost(loadFixture(t, "podman-hybrid"), tt.env, 2, 2)
			if tt.pre != 0 {
				mem.set(tt.pre)
			}
			rep, err := check(context.Background(), tt.p, h)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := rep.Result(CheckGOMEMLIMIT)
			if diff := cmp.Diff(tt.want, brief{r.Status, r.Observed}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got := mem.v.Load(); got != tt.wantSet {
				t.Errorf("GOMEMLIMIT = %d, want %d", got, tt.wantSet)
			}
			if !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("detail %q, want %q in it", r.Detail, tt.detail)
			}
			if tt.want.Status == Fail && rep.OK {
				t.Error("report OK with GOMEMLIMIT above the limit")
			}
			_ = limit
		})
	}
	// A second Check keeps treating the value guard set as guard's own.
	h, mem := fixtureHost(loadFixture(t, "podman-hybrid"), nil, 2, 2)
	for range 2 {
		if _, err := check(context.Background(), Policy{}, h); err != nil {
			t.Fatal(err)
		}
	}
	h.lookupEnv = func(k string) (string, bool) {
		if k == EnvMemoryRatio {
			return "0.5", true
		}
		return "", false
	}
	rep, _ := check(context.Background(), Policy{}, h)
	if r, _ := rep.Result(CheckGOMEMLIMIT); r.Observed != "134217728" || mem.v.Load() != 134217728 {
		t.Errorf("third Check with ratio 0.5: reported %s, set %d; want 134217728", r.Observed, mem.v.Load())
	}
}

func TestFollowResize(t *testing.T) {
	root := loadFixture(t, "podman-hybrid")
	h, mem := fixtureHost(root, nil, 2, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err := check(ctx, Policy{FollowResize: 5 * time.Millisecond}, h)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := rep.Result(CheckGOMEMLIMIT); !strings.Contains(r.Detail, "followed every 5ms") {
		t.Errorf("detail %q does not say it follows", r.Detail)
	}
	waitFor := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for mem.v.Load() != want {
			if time.Now().After(deadline) {
				t.Fatalf("GOMEMLIMIT = %d, want %d", mem.v.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(241591910)
	writeFile(t, filepath.Join(root, "sys/fs/cgroup/memory/memory.limit_in_bytes"), "536870912\n")
	waitFor(483183820) // 0.9 × 512 MiB
	writeFile(t, filepath.Join(root, "sys/fs/cgroup/memory/memory.limit_in_bytes"), "9223372036854771712\n")
	waitFor(1<<63 - 1) // the limit was lifted

	// Someone else takes GOMEMLIMIT over: guard stops following.
	mem.set(100 << 20)
	writeFile(t, filepath.Join(root, "sys/fs/cgroup/memory/memory.limit_in_bytes"), "268435456\n")
	time.Sleep(50 * time.Millisecond)
	if got := mem.v.Load(); got != 100<<20 {
		t.Errorf("guard overrode a GOMEMLIMIT it did not set: %d", got)
	}
}

func TestFollowStopsWithContext(t *testing.T) {
	root := loadFixture(t, "podman-hybrid")
	h, mem := fixtureHost(root, nil, 2, 2)
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := check(ctx, Policy{FollowResize: time.Millisecond}, h); err != nil {
		t.Fatal(err)
	}
	cancel()
	time.Sleep(20 * time.Millisecond) // let the goroutine see it
	writeFile(t, filepath.Join(root, "sys/fs/cgroup/memory/memory.limit_in_bytes"), "536870912\n")
	time.Sleep(50 * time.Millisecond)
	if got := mem.v.Load(); got != 241591910 {
		t.Errorf("GOMEMLIMIT moved to %d after the context was done", got)
	}
}

func TestGOMAXPROCS(t *testing.T) {
	tests := []struct {
		name        string
		fixture     string
		edits       []edit
		env         map[string]string
		procs, ncpu int
		want        Status
		expected    string
		detail      string
	}{
		{name: "limit 1 gives 2", fixture: "podman-hybrid", procs: 2, ncpu: 2, want: Warn, expected: "≤ 1", detail: "Go rounds a CPU limit below 2 up to 2"},
		{name: "limit 4 of 8 CPUs", fixture: "podman-hybrid", edits: []edit{{path: "sys/fs/cgroup/cpu/cpu.cfs_quota_us", data: "400000\n"}},
			procs: 4, ncpu: 8, want: Pass, expected: "≤ 4", detail: "chosen by the Go runtime"},
		{name: "fractional limit rounds up", fixture: "podman-hybrid", edits: []edit{{path: "sys/fs/cgroup/cpu/cpu.cfs_quota_us", data: "250000\n"}},
			procs: 3, ncpu: 8, want: Pass, expected: "≤ 3", detail: "chosen by the Go runtime"},
		{name: "tighter parent", fixture: "v1-parent-limit", procs: 2, ncpu: 2, want: Warn, expected: "≤ 1", detail: "a parent cgroup limits the CPU to 0.5"},
		{name: "set by the environment above the limit", fixture: "podman-hybrid", env: map[string]string{"GOMAXPROCS": "4"},
			procs: 4, ncpu: 8, want: Warn, expected: "≤ 1", detail: "from GOMAXPROCS=4, above the CPU limit"},
		{name: "set by the program", fixture: "podman-hybrid", edits: []edit{{path: "sys/fs/cgroup/cpu/cpu.cfs_quota_us", data: "400000\n"}},
			procs: 1, ncpu: 8, want: Pass, expected: "≤ 4", detail: "set by the program"},
		{name: "containermaxprocs=0", fixture: "docker-v2-cgroupns", env: map[string]string{"GODEBUG": "containermaxprocs=0"},
			procs: 8, ncpu: 8, want: Warn, expected: "≤ 2", detail: "containermaxprocs=0 keeps the runtime from reading the CPU limit"},
		{name: "no limit", fixture: "podman-hybrid", edits: []edit{{path: "sys/fs/cgroup/cpu/cpu.cfs_quota_us", data: "-1\n"}},
			procs: 2, ncpu: 2, want: Info, expected: "", detail: "chosen by the Go runtime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := fixtureHost(loadFixture(t, tt.fixture, tt.edits...), tt.env, tt.procs, tt.ncpu)
			rep, err := check(context.Background(), Policy{}, h)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := rep.Result(CheckGOMAXPROCS)
			if r.Status != tt.want || r.Expected != tt.expected || !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("got %s, expected %q, detail %q; want %s, %q, detail with %q", r.Status, r.Expected, r.Detail, tt.want, tt.expected, tt.detail)
			}
		})
	}
}

func TestGODEBUG(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		p      Policy
		want   brief
		detail string
	}{
		{name: "none", want: brief{Pass, "none"}},
		{name: "debug output with secrets", env: map[string]string{"GODEBUG": "http2debug=2"}, want: brief{Fail, "http2debug=2"}, detail: "http2debug=2"},
		{name: "harmless", env: map[string]string{"GODEBUG": "netdns=go"}, want: brief{Pass, "netdns=go"}},
		{name: "weak TLS from the environment", env: map[string]string{"GODEBUG": "netdns=go,tlsrsakex=1"},
			want: brief{Fail, "netdns=go,tlsrsakex=1"}, detail: "forbidden in production: tlsrsakex=1: remove it from GODEBUG"},
		{name: "last setting wins", env: map[string]string{"GODEBUG": "tlsrsakex=1,tlsrsakex=0"}, want: brief{Pass, "tlsrsakex=1,tlsrsakex=0"}},
		{name: "a name forbids every value", env: map[string]string{"GODEBUG": "netdns=cgo+2"}, p: Policy{ForbiddenGODEBUG: []string{"netdns"}},
			want: brief{Fail, "netdns=cgo+2"}, detail: "netdns=cgo+2"},
		{name: "an empty list forbids nothing", env: map[string]string{"GODEBUG": "tlsrsakex=1"}, p: Policy{ForbiddenGODEBUG: []string{}},
			want: brief{Pass, "tlsrsakex=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := fixtureHost(loadFixture(t, "podman-hybrid"), tt.env, 2, 2)
			rep, err := check(context.Background(), tt.p, h)
			if err != nil {
				t.Fatal(err)
			}
			r, _ := rep.Result(CheckGODEBUG)
			if diff := cmp.Diff(tt.want, brief{r.Status, r.Observed}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !strings.Contains(r.Detail, tt.detail) {
				t.Errorf("detail %q, want %q in it", r.Detail, tt.detail)
			}
		})
	}
}

func TestWritablePaths(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the test directories other owners")
	}
	root := loadFixture(t, "docker-v2-cgroupns") // uid 1000; / read-only; /tmp and "/var/lib/app data" read-write
	mk := func(p string, uid int, mode os.FileMode) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(full, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(full, uid, uid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil {
			t.Fatal(err)
		}
	}
	mk("/var/lib/app data", 1000, 0o750)
	mk("/var/lib/app data/cache", 1000, 0o550)
	mk("/tmp", 0, os.ModeSticky|0o777)
	mk("/srv", 1000, 0o755)
	h, _ := fixtureHost(root, map[string]string{EnvWritable: "/srv,/missing"}, 2, 8)
	rep, err := check(context.Background(), Policy{WritablePaths: []string{"/var/lib/app data", "/var/lib/app data/cache", "/tmp"}}, h)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		brief
		detail string
	}{
		"writable:/var/lib/app data":       {brief{Pass, "uid=1000 gid=1000 mode=0750 read-write"}, ""},
		"writable:/var/lib/app data/cache": {brief{Fail, "uid=1000 gid=1000 mode=0550 read-write"}, "the owner may not write here"},
		"writable:/tmp":                    {brief{Fail, "uid=0 gid=0 mode=1777 read-write"}, "owned by uid 0, not the process's uid 1000"},
		"writable:/srv":                    {brief{Fail, "uid=1000 gid=1000 mode=0755 read-only"}, "on the read-only mount /"},
		"writable:/missing":                {brief{Fail, "missing"}, "mount a volume there"},
	}
	for id, w := range want {
		r, ok := rep.Result(id)
		if !ok {
			t.Errorf("no %s in\n%s", id, rep)
			continue
		}
		if r.Status != w.Status || r.Observed != w.Observed || !strings.Contains(r.Detail, w.detail) {
			t.Errorf("%s: %s %q %q; want %s %q, detail with %q", id, r.Status, r.Observed, r.Detail, w.Status, w.Observed, w.detail)
		}
	}
	// Policy.Warn with a prefix waives every writable path.
	rep, _ = check(context.Background(), Policy{Warn: []string{"writable"}}, h)
	for _, id := range []string{"writable:/srv", "writable:/missing"} {
		if r, _ := rep.Result(id); r.Status != Warn || !r.Waived {
			t.Errorf("%s = %s waived=%v, want a waived warning", id, r.Status, r.Waived)
		}
	}
	if !rep.OK {
		t.Errorf("report not OK with only waived failures:\n%s", rep)
	}
}
