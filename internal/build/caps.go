package build

import (
	"github.com/redline-go/redline/internal/caps"
	"slices"
	"strings"
)

// Capability is a Linux capability, by its number.
type Capability int

// CapNetBindService is the capability to bind ports below
// net.ipv4.ip_unprivileged_port_start (1024 unless a runtime lowers it).
const CapNetBindService Capability = 10

// String returns the canonical name, e.g. "CAP_NET_BIND_SERVICE".
func (c Capability) String() string {
	return "CAP_" + caps.Cap(c).String()
}

// ParseCapability accepts a capability name with or without the CAP_
// prefix, in any case: "NET_BIND_SERVICE", "cap_net_bind_service".
func ParseCapability(s string) (Capability, error) {
	c, err := caps.Parse(s)
	return Capability(c), err
}

// normalizeCaps sorts and deduplicates.
func normalizeCaps(cs []Capability) []Capability {
	out := slices.Clone(cs)
	slices.Sort(out)
	return slices.Compact(out)
}

// capNamesOf returns the canonical names of cs, comma-separated.
func capNamesOf(cs []Capability) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.String()
	}
	return strings.Join(names, ",")
}

// XattrCapability is the extended attribute that holds file capabilities;
// in a layer tar it is the PAX record "SCHILY.xattr."+XattrCapability.
const (
	XattrCapability = caps.Xattr
	paxCapability   = caps.PAXRecord
)

// FileCapability returns the security.capability value that
// `setcap CAPS=+ep` writes: VFS_CAP_REVISION_2, the effective flag, the
// capabilities permitted, nothing inheritable (20 bytes). Revision 2 is what
// setcap writes outside user namespaces; revision 3 adds a root uid that
// image layers cannot know.
func FileCapability(cs []Capability) []byte {
	var set caps.Set
	for _, c := range cs {
		set |= caps.Of(caps.Cap(c))
	}
	return caps.File{Revision: 2, Effective: true, Permitted: set}.Bytes()
}

// Outcome is what a file capability does under one runtime setting.
type Outcome string

// Outcomes of a file capability at exec.
const (
	// Effective: the process starts with the capability effective.
	Effective Outcome = "effective"
	// Ignored: the process starts, without the capability (no_new_privs
	// stops file capabilities from raising privilege).
	Ignored Outcome = "ignored"
	// ExecFails: execve fails with EPERM ("operation not permitted"): the
	// binary asks for a capability the bounding set does not hold, and the
	// kernel refuses to start a capability-dumb binary without it.
	ExecFails Outcome = "exec-fails"
)

// Condition predicts what the granted file capabilities do under one
// runtime setting, for a non-root user.
type Condition struct {
	// ID names the setting, stable for tests and tools: "defaults",
	// "no-new-privileges", "cap-drop-all", "cap-drop-all+no-new-privileges",
	// "cap-add", "cap-add+no-new-privileges".
	ID string `json:"id"`
	// Runtime is "podman", "docker" or "kubernetes".
	Runtime string `json:"runtime"`
	// Settings is how the setting is spelled for that runtime.
	Settings string  `json:"settings"`
	Outcome  Outcome `json:"outcome"`
	Why      string  `json:"why"`
}

// Conditions predicts, for file capabilities granted to a binary run by a
// non-root user, the outcome under the settings people use. The rule is
// the kernel's (security/commoncap.c) as package caps models it for lint
// too ([caps.Exec]): at exec, a file-permitted capability missing from the
// bounding set makes execve fail with EPERM before no_new_privs is looked
// at; under no_new_privs, capabilities the process did not already hold
// are dropped again; a capability the process already holds (podman grants
// --cap-add to non-root users as ambient) is not "gained", so
// no_new_privs keeps it. Docker (before moby#52830) and Kubernetes grant
// no ambient capabilities to non-root users.
func Conditions(cs []Capability) []Condition {
	if len(cs) == 0 {
		return nil
	}
	var set caps.Set
	for _, c := range normalizeCaps(cs) {
		set |= caps.Of(caps.Cap(c))
	}
	file := &caps.File{Revision: 2, Effective: true, Permitted: set}
	short := strings.ReplaceAll(capNamesOf(cs), "CAP_", "")
	var out []Condition
	add := func(id string, rt caps.Runtime, runtime, settings string, bounding caps.Set, added bool, nnp bool) {
		p := caps.Process{UID: 65532, Bounding: bounding, NoNewPrivs: nnp, File: file}
		if added {
			p.Added = set
		}
		r := caps.Exec(p, rt)
		c := Condition{ID: id, Runtime: runtime, Settings: settings, Why: r.Why}
		switch r.Outcome {
		case caps.ExecFails:
			c.Outcome = ExecFails
		case caps.NoEffect:
			c.Outcome = Ignored
		default:
			c.Outcome = Effective
		}
		out = append(out, c)
	}
	pod, dock, k8s := caps.Podman, caps.Docker, caps.Containerd
	add("defaults", pod, "podman", "--user 65532", pod.Default, false, false)
	add("no-new-privileges", pod, "podman", "--security-opt no-new-privileges", pod.Default, false, true)
	add("cap-drop-all", pod, "podman", "--cap-drop=ALL", 0, false, false)
	add("cap-drop-all+no-new-privileges", pod, "podman", "--cap-drop=ALL --security-opt no-new-privileges", 0, false, true)
	add("cap-add", pod, "podman", "--cap-drop=ALL --cap-add="+short, set, true, false)
	add("cap-add+no-new-privileges", pod, "podman", "--cap-drop=ALL --cap-add="+short+" --security-opt no-new-privileges", set, true, true)
	add("defaults", dock, "docker", "--user 65532", dock.Default, false, false)
	add("no-new-privileges", dock, "docker", "--security-opt no-new-privileges", dock.Default, false, true)
	add("cap-drop-all", dock, "docker", "--cap-drop=ALL", 0, false, false)
	add("cap-add", dock, "docker", "--cap-drop=ALL --cap-add="+short, set, true, false)
	add("cap-add+no-new-privileges", dock, "docker", "--cap-drop=ALL --cap-add="+short+" --security-opt no-new-privileges", set, true, true)
	add("defaults", k8s, "kubernetes", "runAsUser: 65532 (containerd's default capabilities, allowPrivilegeEscalation unset)", k8s.Default, false, false)
	add("cap-drop-all", k8s, "kubernetes", "capabilities: {drop: [ALL]}", 0, false, false)
	add("cap-add", k8s, "kubernetes", "capabilities: {drop: [ALL], add: ["+short+"]}", set, true, false)
	add("cap-add+no-new-privileges", k8s, "kubernetes", "capabilities: {drop: [ALL], add: ["+short+"]}, allowPrivilegeEscalation: false (the restricted Pod Security Standard)", set, true, true)
	return out
}

// capNotes are facts about a capability that decide whether it is needed
// at all.
func capNotes(caps []Capability) []string {
	var notes []string
	if slices.Contains(caps, CapNetBindService) {
		notes = append(notes,
			"Docker ≥ 20.10 and containerd 2 set net.ipv4.ip_unprivileged_port_start=0: there any user binds :80 without CAP_NET_BIND_SERVICE (podman and CRI-O do not).",
			"The least privilege is none: listen on a high port and map :80 to it (-p 80:8080, a Service targetPort). docs/build.md compares the three ways.")
	}
	return notes
}
