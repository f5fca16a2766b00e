package kube

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/lint/edit"
	"github.com/redline-go/redline/internal/lint/imagecheck"
	"github.com/redline-go/redline/internal/lint/rule"
)

var defaultOpts = Options{AllowCaps: caps.Of(caps.NetBindService)}

// hardPod is a pod that passes every manifest rule; tests change one
// thing at a time.
const hardPod = `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: example.com/app:1
    ports:
    - containerPort: 8080
    resources:
      limits: {memory: 256Mi, cpu: "2"}
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: [ALL]
`

func check(t *testing.T, src string, o Options) ([]rule.Finding, *File) {
	t.Helper()
	f := Parse("m.yaml", []byte(src), 0)
	return Check(f, o), f
}

func hits(fs []rule.Finding, id string) []string {
	var out []string
	for _, f := range fs {
		if id == "" || f.Rule == id {
			out = append(out, fmt.Sprintf("%s@%d", f.Rule, f.Line))
		}
	}
	slices.Sort(out)
	return out
}

func TestHardPodIsClean(t *testing.T) {
	fs, f := check(t, hardPod, defaultOpts)
	if len(fs) > 0 || len(f.Warnings) > 0 {
		t.Fatalf("findings %v, warnings %v", hits(fs, ""), f.Warnings)
	}
}

// TestRules changes hardPod one way per case (a positive fixture) and
// checks the rule's findings; the negative fixture of every rule is
// hardPod itself (TestHardPodIsClean) plus the cases with want nil.
func TestRules(t *testing.T) {
	for _, tc := range []struct {
		rule     *rule.Rule
		old, new string
		want     []int
		contains string
	}{
		{&RunAsNonRoot, "    runAsNonRoot: true\n", "", []int{18}, "not set"},
		{&RunAsNonRoot, "    runAsNonRoot: true\n", "    runAsNonRoot: false\n", []int{8}, "runAsNonRoot: false"},
		{&RunAsNonRoot, "      allowPrivilegeEscalation: false\n", "      allowPrivilegeEscalation: false\n      runAsNonRoot: false\n", []int{21}, "false"},
		{&RunAsUser, "    runAsUser: 65532\n", "    runAsUser: 0\n", []int{9}, "root"},
		{&RunAsUser, "    runAsUser: 65532\n", "", []int{18}, "image's USER decides"},
		{&RunAsUser, "      allowPrivilegeEscalation: false\n", "      allowPrivilegeEscalation: false\n      runAsUser: 0\n", []int{21}, "root"},
		{&RunAsGroup, "    runAsGroup: 65532\n", "    runAsGroup: 0\n", []int{10}, "root's group"},
		{&RunAsGroup, "    runAsGroup: 65532\n", "", []int{18}, "not set"},
		{&PrivEsc, "      allowPrivilegeEscalation: false\n", "", []int{19}, "defaults to true"},
		{&PrivEsc, "      allowPrivilegeEscalation: false\n", "      allowPrivilegeEscalation: true\n", []int{20}, "true"},
		{&Privileged, "      readOnlyRootFilesystem: true\n", "      readOnlyRootFilesystem: true\n      privileged: true\n", []int{22}, "every capability"},
		{&Privileged, "      readOnlyRootFilesystem: true\n", "      readOnlyRootFilesystem: true\n      privileged: false\n", nil, ""},
		{&DropAll, "        drop: [ALL]\n", "        drop: [NET_RAW]\n", []int{23}, "NET_RAW"},
		{&DropAll, "      capabilities:\n        drop: [ALL]\n", "", []int{19}, "does not hold ALL"},
		{&DropAll, "        drop: [ALL]\n", "        drop: [all]\n", nil, ""},
		{&AddCaps, "        drop: [ALL]\n", "        drop: [ALL]\n        add: [NET_BIND_SERVICE, SYS_ADMIN]\n", []int{24}, "SYS_ADMIN"},
		{&AddCaps, "        drop: [ALL]\n", "        drop: [ALL]\n        add: [NET_BIND_SERVICE]\n", nil, ""},
		{&ReadOnlyRoot, "      readOnlyRootFilesystem: true\n", "", []int{19}, "not true"},
		{&Seccomp, "    seccompProfile: {type: RuntimeDefault}\n", "", []int{18}, "no seccompProfile"},
		{&Seccomp, "    seccompProfile: {type: RuntimeDefault}\n", "    seccompProfile: {type: Unconfined}\n", []int{11}, "Unconfined"},
		{&Seccomp, "      allowPrivilegeEscalation: false\n", "      allowPrivilegeEscalation: false\n      seccompProfile:\n        type: Localhost\n        localhostProfile: p.json\n", nil, ""},
		{&HostNamespaces, "  automountServiceAccountToken: false\n", "  automountServiceAccountToken: false\n  hostNetwork: true\n  hostIPC: true\n  hostPID: false\n", []int{7, 8}, "node's namespace"},
		{&HostPath, "      capabilities:\n        drop: [ALL]\n", "      capabilities:\n        drop: [ALL]\n  volumes:\n  - name: sock\n    hostPath: {path: /var/run/docker.sock}\n", []int{26}, "/var/run/docker.sock"},
		{&Automount, "  automountServiceAccountToken: false\n", "", []int{5}, "API token"},
		{&Automount, "  automountServiceAccountToken: false\n", "  automountServiceAccountToken: true\n", []int{6}, "true"},
		{&Automount, "  automountServiceAccountToken: false\n", "  serviceAccountName: quiet\n", nil, ""}, // the ServiceAccount below turns it off
		{&MemoryLimit, "      limits: {memory: 256Mi, cpu: \"2\"}\n", "      requests: {memory: 256Mi}\n", []int{17}, "not set"},
		{&GoMemLimit, "    ports:\n", "    env:\n    - {name: GOMEMLIMIT, value: 256MiB}\n    ports:\n", []int{16}, "at or above"},
		{&GoMemLimit, "    ports:\n", "    env:\n    - {name: GOMEMLIMIT, value: 200MiB}\n    ports:\n", nil, ""},
		{&CPULimit, `cpu: "2"`, `cpu: 500m`, []int{18}, "GOMAXPROCS=2"},
		{&CPULimit, "    ports:\n", "    env:\n    - {name: GOMAXPROCS, value: \"1\"}\n    ports:\n", nil, ""},
		{&CPULimit, `cpu: "2"`, `cpu: "1.5"`, nil, ""},
		{&FSGroup, "      capabilities:\n        drop: [ALL]\n", "      capabilities:\n        drop: [ALL]\n    volumeMounts:\n    - {name: data, mountPath: /data}\n    - {name: ro, mountPath: /ro, readOnly: true}\n    - {name: tmp, mountPath: /tmp}\n  volumes:\n  - {name: data, persistentVolumeClaim: {claimName: d}}\n  - {name: ro, persistentVolumeClaim: {claimName: r}}\n  - {name: tmp, emptyDir: {}}\n", []int{25}, "fsGroup"},
		{&FSGroup, "    runAsGroup: 65532\n", "    runAsGroup: 65532\n    fsGroup: 65532\n", nil, ""},
	} {
		name := tc.rule.ID + "/" + strings.TrimSpace(strings.ReplaceAll(tc.new, "\n", " "))
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(hardPod, tc.old) {
				t.Fatalf("hardPod lacks %q", tc.old)
			}
			src := strings.Replace(hardPod, tc.old, tc.new, 1)
			if tc.rule == &Automount && tc.new == "  serviceAccountName: quiet\n" {
				src += "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: quiet}\nautomountServiceAccountToken: false\n"
			}
			if tc.rule == &FSGroup && tc.want == nil {
				src = strings.Replace(src, "      capabilities:\n        drop: [ALL]\n", "      capabilities:\n        drop: [ALL]\n    volumeMounts:\n    - {name: data, mountPath: /data}\n  volumes:\n  - {name: data, persistentVolumeClaim: {claimName: d}}\n", 1)
			}
			fs, f := check(t, src, defaultOpts)
			if len(f.Warnings) > 0 {
				t.Fatalf("warnings: %v", f.Warnings)
			}
			var want []string
			for _, l := range tc.want {
				want = append(want, fmt.Sprintf("%s@%d", tc.rule.ID, l))
			}
			if diff := cmp.Diff(want, hits(fs, tc.rule.ID)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\nsource:\n%s", diff, numbered(src))
			}
			for _, fd := range fs {
				if fd.Rule == tc.rule.ID && !strings.Contains(fd.Message, tc.contains) {
					t.Errorf("message %q lacks %q", fd.Message, tc.contains)
				}
			}
			// Only the rule under test fires (the change is that small).
			for _, fd := range fs {
				if fd.Rule != tc.rule.ID && !(tc.rule == &RunAsUser || tc.rule == &RunAsGroup || tc.rule == &Privileged || tc.rule == &DropAll || tc.rule == &AddCaps) {
					t.Errorf("unexpected %s at %d: %s", fd.Rule, fd.Line, fd.Message)
				}
			}
		})
	}
}

func numbered(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(s, "\n") {
		fmt.Fprintf(&b, "%3d %s\n", i+1, l)
	}
	return b.String()
}

// TestMerge holds the kubelet's merge: container fields win; pod fields
// fill in runAsUser, runAsGroup, runAsNonRoot and seccompProfile only.
func TestMerge(t *testing.T) {
	src := `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      securityContext:
        runAsUser: 1000
        runAsGroup: 1000
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: a
        securityContext:
          runAsUser: 2000
          seccompProfile: {type: Unconfined}
      - name: b
`
	f := Parse("d.yaml", []byte(src), 0)
	cs := f.Objects[0].Pod.Containers
	a, b := cs[0].Eff, cs[1].Eff
	if a.RunAsUser.V != 2000 || a.RunAsUser.FromPod || a.RunAsGroup.V != 1000 || !a.RunAsGroup.FromPod || !a.RunAsNonRoot.V {
		t.Errorf("container a: %+v %+v %+v", a.RunAsUser, a.RunAsGroup, a.RunAsNonRoot)
	}
	if a.SeccompType.V != "Unconfined" || b.SeccompType.V != "RuntimeDefault" || !b.SeccompType.FromPod {
		t.Errorf("seccomp: a %+v, b %+v", a.SeccompType, b.SeccompType)
	}
	if b.RunAsUser.V != 1000 || b.RunAsUser.Node.Line != 8 {
		t.Errorf("container b runAsUser %+v", b.RunAsUser)
	}
	if b.AllowPrivilegeEscalation != nil || b.ReadOnlyRootFilesystem != nil {
		t.Error("container-only fields came from nowhere")
	}
}

// TestWorkloadKinds reads the pod of every kind, and List items.
func TestWorkloadKinds(t *testing.T) {
	tmpl := "apiVersion: %s\nkind: %s\nmetadata: {name: x}\n%s"
	body := map[string]string{
		"Pod":         "spec: {containers: [{name: c}]}\n",
		"Deployment":  "spec: {template: {spec: {containers: [{name: c}]}}}\n",
		"StatefulSet": "spec: {template: {spec: {containers: [{name: c}]}}}\n",
		"DaemonSet":   "spec: {template: {spec: {containers: [{name: c}]}}}\n",
		"ReplicaSet":  "spec: {template: {spec: {containers: [{name: c}]}}}\n",
		"Job":         "spec: {template: {spec: {containers: [{name: c}]}}}\n",
		"CronJob":     "spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c}]}}}}}\n",
		"PodTemplate": "template: {spec: {containers: [{name: c}]}}\n",
	}
	api := map[string]string{"Pod": "v1", "PodTemplate": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}
	for kind, b := range body {
		v := api[kind]
		if v == "" {
			v = "apps/v1"
		}
		f := Parse("k.yaml", []byte(fmt.Sprintf(tmpl, v, kind, b)), 0)
		if len(f.Objects) != 1 || f.Objects[0].Pod == nil || len(f.Objects[0].Pod.Containers) != 1 || len(f.Warnings) > 0 {
			t.Errorf("%s: objects %+v, warnings %v", kind, f.Objects, f.Warnings)
		}
	}
	list := `{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}, "spec": {"containers": [{"name": "c"}]}}, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}]}`
	f := Parse("l.json", []byte(list), 0)
	if len(f.Objects) != 2 || f.Objects[0].Pod == nil || f.Objects[1].Pod != nil {
		t.Errorf("List: %+v", f.Objects)
	}
}

func TestBadInput(t *testing.T) {
	src := `apiVersion: v1
kind: Pod
metadata: {name: ok}
spec: {automountServiceAccountToken: false, containers: [{name: c, securityContext: {runAsNonRoot: "yes", runAsUser: 1000, runAsGroup: x, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ALL, add: [FLY]}, seccompProfile: {type: RuntimeDefault}}, resources: {limits: {memory: lots}}}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: broken
spec:
  containers:
  - name: c
    image: [unclosed
---
- just
- a list
---
apiVersion: example.com/v1
kind: Gizmo
metadata: {name: g}
---
apiVersion: v1
kind: Pod
metadata: {name: nocontainers}
spec: {}
---
kind: ""
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: nospec}
`
	fs, f := check(t, src, defaultOpts)
	var got []string
	for _, w := range f.Warnings {
		got = append(got, fmt.Sprintf("%d %s", w.Line, w.Message))
	}
	want := []string{
		"13 invalid YAML: did not find expected ',' or ']' (document skipped)",
		"4 Pod/ok container c: runAsGroup: want an integer, got \"x\" (ignored)",
		"4 Pod/ok container c: runAsNonRoot: want true or false, got \"yes\" (ignored)",
		"4 Pod/ok container c: want a list of capabilities, got \"ALL\"",
		"15 document is not a mapping: skipped",
		"19 Gizmo (apiVersion example.com/v1) is not a kind redline knows and holds no pod template at spec.template: not checked",
		"25 Pod/nocontainers: the pod spec has no containers",
		"27 kind is empty: skipped",
		"29 Deployment/nospec: no pod spec at spec.template.spec: not checked",
		"4 Pod/ok container c: capabilities.add: unknown capability \"FLY\" (names are those of capabilities(7), e.g. NET_BIND_SERVICE)",
		"4 Pod/ok container c: resources.limits.memory: \"lots\" is not a resource quantity",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	// The sound document is still checked.
	if diff := cmp.Diff([]string{"RL-K8S-001@4", "RL-K8S-003@4", "RL-K8S-006@4", "RL-K8S-012@25"}, hits(fs, "")); diff != "" {
		t.Errorf("findings of the readable pod (-want +got):\n%s", diff)
	}
}

func facts(mod func(f *imagecheck.Facts)) *imagecheck.Facts {
	f := &imagecheck.Facts{Ref: "img", User: "65532:65532", UID: 65532, GID: 65532, PrimaryGID: map[int]int{0: 0, 65532: 65532}, Entrypoint: "/app", GoVersion: "go1.26.8", Env: map[string]string{}, Labels: map[string]string{}}
	if mod != nil {
		mod(f)
	}
	return f
}

var fileNBS = &caps.File{Revision: 2, Effective: true, Permitted: caps.Of(caps.NetBindService)}

// TestCrossChecks holds the manifest against image facts.
func TestCrossChecks(t *testing.T) {
	noUser := strings.Replace(strings.Replace(hardPod, "    runAsUser: 65532\n", "", 1), "    runAsGroup: 65532\n", "", 1)
	lowPort := strings.Replace(hardPod, "containerPort: 8080", "containerPort: 80", 1)
	for _, tc := range []struct {
		name    string
		src     string
		img     *imagecheck.Facts
		runtime string
		want    []string
		msg     string
	}{
		{"hardened image and pod", hardPod, facts(nil), "", nil, ""},
		{"named user with runAsNonRoot", noUser, facts(func(f *imagecheck.Facts) { f.User, f.UserName = "nonroot", true }), "", []string{"RL-X-001@8"}, "non-numeric user"},
		{"root image, runAsNonRoot", noUser, facts(func(f *imagecheck.Facts) { f.User, f.UID, f.GID = "", 0, 0 }), "", []string{"RL-X-002@8"}, "image will run as root"},
		{"root image without runAsNonRoot", strings.Replace(noUser, "    runAsNonRoot: true\n", "", 1), facts(func(f *imagecheck.Facts) { f.User, f.UID, f.GID = "", 0, 0 }), "", []string{"RL-K8S-001@16", "RL-X-002@16"}, "runs as root"},
		{"runAsUser without runAsGroup, not in passwd", strings.Replace(strings.Replace(hardPod, "    runAsGroup: 65532\n", "", 1), "runAsUser: 65532", "runAsUser: 1234", 1), facts(nil), "", []string{"RL-X-003@18", "RL-X-004@9"}, "group 0"},
		{"runAsUser without runAsGroup, passwd gives a group", strings.Replace(hardPod, "    runAsGroup: 65532\n", "", 1), facts(nil), "", nil, ""},
		{"image built for another user", strings.Replace(hardPod, "runAsUser: 65532", "runAsUser: 10001", 1), facts(func(f *imagecheck.Facts) { f.Labels[imagecheck.LabelUser] = "65532:65532" }), "", []string{"RL-X-004@9"}, "built for UID 65532"},
		{"EPERM: drop ALL, file cap +ep", hardPod, facts(func(f *imagecheck.Facts) { f.FileCaps = fileNBS }), "", []string{"RL-X-005@23"}, "EPERM"},
		{"no effect: add back, no_new_privs", strings.Replace(hardPod, "drop: [ALL]", "drop: [ALL]\n        add: [NET_BIND_SERVICE]", 1), facts(func(f *imagecheck.Facts) { f.FileCaps = fileNBS }), "", []string{"RL-X-006@20"}, "no_new_privs"},
		{"works: add back, escalation allowed", strings.Replace(strings.Replace(lowPort, "drop: [ALL]", "drop: [ALL]\n        add: [NET_BIND_SERVICE]", 1), "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", 1), facts(func(f *imagecheck.Facts) { f.FileCaps = fileNBS }), "", []string{"RL-K8S-004@20"}, ""},
		{"added cap, no file cap", strings.Replace(hardPod, "drop: [ALL]", "drop: [ALL]\n        add: [NET_BIND_SERVICE]", 1), facts(nil), "", []string{"RL-X-006@24"}, "no ambient capabilities"},
		{"low port, every runtime", lowPort, facts(nil), "", []string{"RL-X-007@16"}, "containerd 1.x, CRI-O"},
		{"low port on containerd 2", lowPort, facts(nil), "containerd", nil, ""},
		{"low port on cri-o", lowPort, facts(nil), "cri-o", []string{"RL-X-007@16"}, "CRI-O"},
		{"low port without image: no_new_privs decides", lowPort, nil, "cri-o", []string{"RL-X-007@16"}, "UID 65532"},
		{"GOMEMLIMIT from the image", hardPod, facts(func(f *imagecheck.Facts) { f.Env["GOMEMLIMIT"] = "1GiB" }), "", []string{"RL-K8S-014@17"}, "the image's ENV"},
		{"not a Go entrypoint: no CPU rule", strings.Replace(hardPod, `cpu: "2"`, `cpu: 500m`, 1), facts(func(f *imagecheck.Facts) { f.GoVersion = "" }), "", nil, ""},
		{"old Go and a CPU limit", strings.Replace(hardPod, `cpu: "2"`, `cpu: 500m`, 1), facts(func(f *imagecheck.Facts) { f.GoVersion = "go1.24.3" }), "", []string{"RL-K8S-015@18"}, "node's CPU count"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := defaultOpts
			if tc.img != nil {
				o.Image = func(*Container) *imagecheck.Facts { return tc.img }
			}
			if tc.runtime != "" {
				rt, err := caps.LookupRuntime(tc.runtime)
				if err != nil {
					t.Fatal(err)
				}
				o.Runtimes = []caps.Runtime{rt}
			}
			fs, f := check(t, tc.src, o)
			if len(f.Warnings) > 0 {
				t.Fatalf("warnings %v", f.Warnings)
			}
			if diff := cmp.Diff(tc.want, hits(fs, "")); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%v\n%s", diff, fs, numbered(tc.src))
			}
			if tc.msg != "" {
				found := false
				for _, fd := range fs {
					found = found || strings.Contains(fd.Message, tc.msg)
				}
				if !found {
					t.Errorf("no message holds %q: %v", tc.msg, fs)
				}
			}
		})
	}
}

// TestHarden checks exact rewrites: only the keys harden adds or changes
// differ, everything else (comments, blank lines, quoting, order) stays.
func TestHarden(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		o               HardenOptions
	}{
		{"no securityContext", `apiVersion: v1
kind: Pod
metadata:
  name: p   # keep me
spec:
  automountServiceAccountToken: false

  containers:
    - name: app
      image: "x:1"   # quoted stays quoted
      resources:
        limits: {memory: 1Gi}

# trailing comment
`, `apiVersion: v1
kind: Pod
metadata:
  name: p   # keep me
spec:
  automountServiceAccountToken: false

  containers:
    - name: app
      image: "x:1"   # quoted stays quoted
      resources:
        limits: {memory: 1Gi}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
        seccompProfile:
          type: RuntimeDefault

# trailing comment
`, HardenOptions{UID: 65532, GID: 65532}},
		{"partial block, values replaced", `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers:
      - name: app
        resources: {limits: {memory: 64Mi}}
        securityContext:
          privileged: true        # why?
          runAsNonRoot: false
          capabilities:
            drop:
            - NET_RAW
          seccompProfile:
            type: Unconfined
      automountServiceAccountToken: true
`, `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers:
      - name: app
        resources: {limits: {memory: 64Mi}}
        securityContext:
          privileged: false        # why?
          runAsNonRoot: true
          capabilities:
            drop:
            - ALL
            - NET_RAW
          seccompProfile:
            type: RuntimeDefault
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
      automountServiceAccountToken: false
`, HardenOptions{UID: -1, GID: -1}},
		{"flow securityContext, 4-space indent", `apiVersion: v1
kind: Pod
metadata:
    name: p
spec:
    automountServiceAccountToken: false
    securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001}
    containers:
    -   name: app
        resources: {limits: {memory: 64Mi}}
        securityContext: {capabilities: {drop: [NET_RAW]}}
`, `apiVersion: v1
kind: Pod
metadata:
    name: p
spec:
    automountServiceAccountToken: false
    securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001}
    containers:
    -   name: app
        resources: {limits: {memory: 64Mi}}
        securityContext: {capabilities: {drop: ["ALL", NET_RAW]}, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, seccompProfile: {type: RuntimeDefault}}
`, HardenOptions{UID: -1, GID: -1}},
		{"null securityContext and pod fsGroup", `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  automountServiceAccountToken: false
  containers:
  - name: app
    resources: {limits: {memory: 64Mi}}
    volumeMounts: [{name: data, mountPath: /data}]
    securityContext:
  volumes: [{name: data, persistentVolumeClaim: {claimName: c}}]
`, `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  automountServiceAccountToken: false
  containers:
  - name: app
    resources: {limits: {memory: 64Mi}}
    volumeMounts: [{name: data, mountPath: /data}]
    securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ["ALL"]}, seccompProfile: {type: RuntimeDefault}}
  volumes: [{name: data, persistentVolumeClaim: {claimName: c}}]
  securityContext:
    fsGroup: 1000
`, HardenOptions{UID: 1000, GID: 1000}},
		{"suppressed and root kept", `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  automountServiceAccountToken: false
  containers:
  - name: app
    resources: {limits: {memory: 64Mi}}
    # redline:ignore RL-K8S-008 writes its cache next to the binary
    securityContext:
      runAsUser: 0
`, `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  automountServiceAccountToken: false
  containers:
  - name: app
    resources: {limits: {memory: 64Mi}}
    # redline:ignore RL-K8S-008 writes its cache next to the binary
    securityContext:
      runAsUser: 0
      allowPrivilegeEscalation: false
      capabilities:
        drop: ["ALL"]
      seccompProfile:
        type: RuntimeDefault
`, HardenOptions{UID: -1, GID: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := harden(t, tc.src, tc.o, 3)
			if out != tc.want {
				t.Errorf("harden =\n%s\nwant\n%s\ndiff:\n%s", out, tc.want, cmp.Diff(tc.want, out))
			}
		})
	}
}

// harden runs harden rounds like package lint does, applying directives.
func harden(t *testing.T, src string, o HardenOptions, rounds int) string {
	t.Helper()
	cur := src
	for range rounds {
		f := Parse("m.yaml", []byte(cur), 0)
		if len(f.Warnings) > 0 {
			t.Fatalf("warnings: %v\n%s", f.Warnings, cur)
		}
		fs := Check(f, defaultOpts)
		rule.Suppress(fs, f.Directives, "m.yaml", func(string) bool { return true })
		es, err := Harden(f, fs, o)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		b, err := edit.Apply(f.Src, es)
		if err != nil {
			t.Fatal(err)
		}
		cur = string(b)
	}
	return cur
}

func TestHardenJSON(t *testing.T) {
	f := Parse("p.json", []byte(`{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}`), 0)
	if _, err := Harden(f, Check(f, defaultOpts), HardenOptions{}); err != ErrJSON {
		t.Errorf("err = %v, want ErrJSON", err)
	}
}

func TestQuantities(t *testing.T) {
	for in, want := range map[string]float64{"256Mi": 256 << 20, "1G": 1e9, "500m": 0.5, "2": 2, "1.5Gi": 1.5 * (1 << 30), "1e3": 1000} {
		if got, err := ParseQuantity(in); err != nil || got != want {
			t.Errorf("ParseQuantity(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "lots", "-1", "1Q"} {
		if _, err := ParseQuantity(in); err == nil {
			t.Errorf("ParseQuantity(%q) succeeded", in)
		}
	}
	for in, want := range map[string]float64{"200MiB": 200 << 20, "1GiB": 1 << 30, "1000": 1000, "64KiB": 64 << 10} {
		if got, ok, err := ParseGoMemLimit(in); err != nil || !ok || got != want {
			t.Errorf("ParseGoMemLimit(%q) = %v, %v, %v", in, got, ok, err)
		}
	}
	if _, ok, err := ParseGoMemLimit("off"); ok || err != nil {
		t.Error("GOMEMLIMIT=off")
	}
	if _, _, err := ParseGoMemLimit("200Mi"); err == nil {
		t.Error("GOMEMLIMIT=200Mi accepted (the Go runtime refuses it)")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(hardPod)
	f.Add("kind: List\nitems: [{kind: Pod, spec: {containers: [{name: a, securityContext: {capabilities: {drop: [ALL]}}}]}}]\n")
	f.Add("a: &x [*x]\n---\nkind: Deployment\nspec: {template: {spec: {containers: [{}]}}}\n")
	f.Fuzz(func(t *testing.T, s string) {
		kf := Parse("f.yaml", []byte(s), 1<<16)
		fs := Check(kf, defaultOpts)
		es, err := Harden(kf, fs, HardenOptions{UID: 1000, GID: 1000})
		if err != nil {
			return
		}
		if _, err := edit.Apply(kf.Src, es); err != nil {
			t.Fatalf("harden edits do not apply: %v", err)
		}
	})
}
