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

// Default capability sets of the runtimes (what a container gets without
// --cap-add/--cap-drop): podman ≥ 4 (containers.conf default_capabilities),
// Docker/moby and containerd's CRI (Kubernetes).
var (
	podmanDefaultCaps = []Capability{0, 1, 3, 4, 5, 6, 7, 8, 10, 18, 31}
	dockerDefaultCaps = []Capability{0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31}
)

// Conditions predicts, for file capabilities granted to a binary run by a
// non-root user, the outcome under the settings people use. It is the
// kernel's rule (security/commoncap.c) applied to each runtime's sets:
//
//   - at exec, permitted = bounding ∩ file-permitted; if a file-permitted
//     capability is missing and the file's effective bit is set, execve
//     fails with EPERM, before no_new_privs is looked at;
//   - under no_new_privs, capabilities the process did not already hold are
//     dropped again: the file capability is ignored;
//   - a capability the process already holds (ambient, as podman grants
//     --cap-add to non-root users) is not "gained", so no_new_privs keeps it.
//
// Docker (before moby#52830) and Kubernetes grant no ambient capabilities to
// non-root users.
func Conditions(caps []Capability) []Condition {
	if len(caps) == 0 {
		return nil
	}
	names := capNamesOf(caps)
	short := strings.ReplaceAll(names, "CAP_", "")
	inAll := func(set []Capability) bool {
		for _, c := range caps {
			if !slices.Contains(set, c) {
				return false
			}
		}
		return true
	}
	var out []Condition
	add := func(id, runtime, settings string, bounding, nnp, ambient bool) {
		c := Condition{ID: id, Runtime: runtime, Settings: settings}
		switch {
		case !bounding:
			c.Outcome = ExecFails
			c.Why = "the bounding set lacks " + names + ": execve fails with EPERM (no_new_privs does not help)"
		case nnp && !ambient:
			c.Outcome = Ignored
			c.Why = "no_new_privs: file capabilities cannot raise privilege; the process runs without " + names
		case nnp && ambient:
			c.Outcome = Effective
			c.Why = "the runtime grants " + names + " as ambient, so exec gains nothing no_new_privs would drop"
		case ambient:
			c.Outcome = Effective
			c.Why = "in the bounding set (and ambient): raised at exec"
		default:
			c.Outcome = Effective
			c.Why = "in the bounding set: the file capability raises it at exec"
		}
		out = append(out, c)
	}
	pd, dd := inAll(podmanDefaultCaps), inAll(dockerDefaultCaps)
	add("defaults", "podman", "--user 65532", pd, false, false)
	add("no-new-privileges", "podman", "--security-opt no-new-privileges", pd, true, false)
	add("cap-drop-all", "podman", "--cap-drop=ALL", false, false, false)
	add("cap-drop-all+no-new-privileges", "podman", "--cap-drop=ALL --security-opt no-new-privileges", false, true, false)
	add("cap-add", "podman", "--cap-drop=ALL --cap-add="+short, true, false, true)
	add("cap-add+no-new-privileges", "podman", "--cap-drop=ALL --cap-add="+short+" --security-opt no-new-privileges", true, true, true)
	add("defaults", "docker", "--user 65532", dd, false, false)
	add("no-new-privileges", "docker", "--security-opt no-new-privileges", dd, true, false)
	add("cap-drop-all", "docker", "--cap-drop=ALL", false, false, false)
	add("cap-add", "docker", "--cap-drop=ALL --cap-add="+short, true, false, false)
	add("cap-add+no-new-privileges", "docker", "--cap-drop=ALL --cap-add="+short+" --security-opt no-new-privileges", true, true, false)
	add("defaults", "kubernetes", "runAsUser: 65532 (containerd's default capabilities, allowPrivilegeEscalation unset)", dd, false, false)
	add("cap-drop-all", "kubernetes", "capabilities: {drop: [ALL]}", false, false, false)
	add("cap-add", "kubernetes", "capabilities: {drop: [ALL], add: ["+short+"]}", true, false, false)
	add("cap-add+no-new-privileges", "kubernetes", "capabilities: {drop: [ALL], add: ["+short+"]}, allowPrivilegeEscalation: false (the restricted Pod Security Standard)", true, true, false)
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
