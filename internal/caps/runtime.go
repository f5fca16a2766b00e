package caps

import (
	"fmt"
	"strings"
)

// Runtime is what a container runtime does with capabilities and low
// ports.
type Runtime struct {
	// Name is how --runtime spells it.
	Name string
	// Title is how messages name it.
	Title string
	// Default is the bounding set a container gets without cap-add/drop.
	Default Set
	// AmbientAdded: capabilities added for a non-root user become ambient
	// (podman), so the process holds them without file capabilities.
	AmbientAdded bool
	// UnprivilegedPorts: the runtime sets net.ipv4.ip_unprivileged_port_start=0
	// in the container's network namespace, so any user binds any port.
	UnprivilegedPorts bool
	// Kubernetes is set for the CRI runtimes.
	Kubernetes bool
}

// Default capability sets: moby's and containerd's (the same 14),
// CRI-O's default_capabilities, podman's containers.conf.
var (
	dockerDefault = Of(0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31)
	crioDefault   = Of(0, 1, 3, 4, 5, 6, 7, 8, 10)
	podmanDefault = Of(0, 1, 3, 4, 5, 6, 7, 8, 10, 18, 31)
)

// The runtimes lint predicts for. Docker ≥ 20.10 and containerd 2's CRI
// (enable_unprivileged_ports) lower ip_unprivileged_port_start to 0;
// containerd 1.x, CRI-O and podman leave it at 1024.
var (
	Containerd  = Runtime{Name: "containerd", Title: "containerd 2", Default: dockerDefault, UnprivilegedPorts: true, Kubernetes: true}
	Containerd1 = Runtime{Name: "containerd1", Title: "containerd 1.x", Default: dockerDefault, Kubernetes: true}
	CRIO        = Runtime{Name: "cri-o", Title: "CRI-O", Default: crioDefault, Kubernetes: true}
	Docker      = Runtime{Name: "docker", Title: "Docker ≥ 20.10", Default: dockerDefault, UnprivilegedPorts: true}
	Podman      = Runtime{Name: "podman", Title: "podman", Default: podmanDefault, AmbientAdded: true}
)

// Runtimes lists every runtime, Kubernetes' first.
var Runtimes = []Runtime{Containerd, Containerd1, CRIO, Docker, Podman}

// LookupRuntime returns the runtime of a --runtime value.
func LookupRuntime(name string) (Runtime, error) {
	var known []string
	for _, r := range Runtimes {
		if strings.EqualFold(name, r.Name) {
			return r, nil
		}
		known = append(known, r.Name)
	}
	return Runtime{}, fmt.Errorf("unknown runtime %q (one of %s)", name, strings.Join(known, ", "))
}

// Process is a container's first process as the runtime starts it.
type Process struct {
	// UID is the effective user; 0 is root.
	UID int
	// Bounding is the container's capability set (the runtime's default,
	// minus drops, plus adds; everything when privileged).
	Bounding Set
	// Added are the capabilities added explicitly (cap-add,
	// capabilities.add).
	Added Set
	// NoNewPrivs is set by allowPrivilegeEscalation: false or
	// --security-opt no-new-privileges.
	NoNewPrivs bool
	// File is the entrypoint's security.capability, nil when it has none.
	File *File
}

// Outcome is what exec does for the capabilities a file asks for.
type Outcome int

// Outcomes.
const (
	// OK: the process starts holding the capabilities asked for.
	OK Outcome = iota
	// NoEffect: the process starts, without them.
	NoEffect
	// ExecFails: execve fails with EPERM; the container does not start.
	ExecFails
)

func (o Outcome) String() string {
	return [...]string{"OK", "no effect", "EPERM at exec"}[o]
}

// Result is the prediction for one process under one runtime.
type Result struct {
	Outcome Outcome
	// Effective is what the process holds effective after exec.
	Effective Set
	// Why explains the outcome in the kernel's terms.
	Why string
}

// Exec predicts the exec of p's entrypoint under runtime r.
func Exec(p Process, r Runtime) Result {
	if p.UID == 0 {
		res := Result{Effective: p.Bounding, Why: "root holds the whole bounding set"}
		if f := p.File; f != nil && f.Effective && !f.Permitted.SubsetOf(p.Bounding) {
			missing := f.Permitted &^ p.Bounding
			return Result{Outcome: ExecFails, Why: fmt.Sprintf("the file asks for %s, which the bounding set lacks: execve fails with EPERM", missing)}
		}
		return res
	}
	var ambient Set
	if r.AmbientAdded {
		ambient = p.Added & p.Bounding
	}
	f := p.File
	if f == nil {
		if ambient != 0 {
			return Result{Effective: ambient, Why: fmt.Sprintf("%s grants %s as ambient capabilities to a non-root user", r.Title, ambient)}
		}
		return Result{Why: "a non-root process holds no capabilities without ambient or file capabilities"}
	}
	// The inheritable set of a non-root process is what the runtime put
	// there; only podman's ambient capabilities are also inheritable.
	permitted := (p.Bounding & f.Permitted) | (ambient & f.Inheritable)
	if f.Effective && !f.Permitted.SubsetOf(permitted) {
		missing := f.Permitted &^ permitted
		return Result{Outcome: ExecFails, Why: fmt.Sprintf("the file's capabilities (%s) are effective-flagged and the bounding set lacks %s: execve fails with EPERM (\"operation not permitted\"), whatever no_new_privs says", f.Permitted, missing)}
	}
	if p.NoNewPrivs && !permitted.SubsetOf(ambient) {
		// Exec would gain privilege: no_new_privs keeps only what the
		// process already held.
		gained := permitted &^ ambient
		permitted &= ambient
		if !f.Permitted.SubsetOf(permitted) {
			eff := permitted
			if !f.Effective {
				eff = 0
			}
			return Result{Outcome: NoEffect, Effective: eff, Why: fmt.Sprintf("no_new_privs: the file capability cannot raise %s; the process runs without it", gained)}
		}
	}
	if !f.Effective {
		return Result{Outcome: NoEffect, Why: fmt.Sprintf("the file capability (%s) lacks the effective flag: only a capability-aware program raises it itself (setcap %s=+ep for one that is not, as Go programs are not)", f.Permitted, strings.ToLower(f.Permitted.String()))}
	}
	return Result{Effective: permitted, Why: fmt.Sprintf("raised at exec from the file capability (%s in the bounding set)", f.Permitted)}
}

// CanBind reports whether a process holding eff binds port under r, and
// why. hostNetwork turns off the runtime's port sysctl (it only applies to
// the container's own network namespace).
func CanBind(port int, eff Set, r Runtime, hostNetwork bool) (bool, string) {
	switch {
	case port >= 1024:
		return true, "not a privileged port"
	case eff.Has(NetBindService):
		return true, "the process holds NET_BIND_SERVICE"
	case r.UnprivilegedPorts && !hostNetwork:
		return true, r.Title + " sets net.ipv4.ip_unprivileged_port_start=0"
	case r.UnprivilegedPorts:
		return false, "host network: " + r.Title + "'s port sysctl does not apply, and the process lacks NET_BIND_SERVICE"
	}
	return false, fmt.Sprintf("%s leaves net.ipv4.ip_unprivileged_port_start at 1024 and the process lacks NET_BIND_SERVICE", r.Title)
}
