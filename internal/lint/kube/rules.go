package kube

import "github.com/redline-go/redline/internal/lint/rule"

var (
	k8s   = []rule.Kind{rule.Kubernetes}
	cross = []rule.Kind{rule.Kubernetes, rule.Image}
)

// The Kubernetes rules.
var (
	RunAsNonRoot = rule.Rule{
		ID: "RL-K8S-001", Severity: rule.High, Targets: k8s, Fixable: true,
		Title: "runAsNonRoot is not true",
		Help: `Without ` + "`runAsNonRoot: true`" + ` the kubelet starts the container even when it would run as root (an image without USER, a base that changed). With it, the kubelet refuses to: the restricted Pod Security Standard requires it.

Fix: set ` + "`securityContext.runAsNonRoot: true`" + ` on the pod or every container, with a numeric ` + "`runAsUser`" + ` or a numeric USER in the image. Harden adds it.`,
		See: []string{"Pod Security Standards: restricted", "kube-score container-security-context-user-group-id"},
	}
	RunAsUser = rule.Rule{
		ID: "RL-K8S-002", Severity: rule.High, Targets: k8s, Fixable: true,
		Title: "runAsUser is 0, or unset with no image to tell",
		Help: `runAsUser: 0 runs the container as root. Left unset, the image's USER decides, which the manifest alone cannot check (give the image with ` + "`--image`" + ` and the cross-checks RL-X-001..004 decide instead).

Fix: set a numeric non-root ` + "`runAsUser`" + ` (10000+ avoids host users; 65532 is the distroless and redline default), matching the image's user. Harden writes the image's user (` + "`--image`" + `) or ` + "`--user`" + `.`,
	}
	RunAsGroup = rule.Rule{
		ID: "RL-K8S-003", Severity: rule.Medium, Targets: k8s, Fixable: true,
		Title: "runAsGroup is 0, or unset with no image to tell",
		Help: `Without runAsGroup the container's primary group comes from the image (its USER's group, or /etc/passwd), and is 0 — root's group — when the image names none: files group-owned by root, often group-writable, are then writable by the service.

Fix: set a numeric non-zero ` + "`runAsGroup`" + ` next to ` + "`runAsUser`" + `. Harden writes the image's group (` + "`--image`" + `) or ` + "`--user`" + `'s.`,
	}
	PrivEsc = rule.Rule{
		ID: "RL-K8S-004", Severity: rule.High, Targets: k8s, Fixable: true,
		Title: "allowPrivilegeEscalation is not false",
		Help: `allowPrivilegeEscalation defaults to true: a process can gain privileges at exec through setuid binaries and file capabilities. false sets no_new_privs.

Fix: ` + "`allowPrivilegeEscalation: false`" + ` on every container (harden adds it). Note that it also makes file capabilities ineffective (RL-X-006).`,
		See: []string{"Pod Security Standards: restricted"},
	}
	Privileged = rule.Rule{
		ID: "RL-K8S-005", Severity: rule.Critical, Targets: k8s, Fixable: true,
		Title: "privileged container",
		Help: `A privileged container holds every capability and sees the host's devices: it is root on the node in all but name.

Fix: remove ` + "`privileged: true`" + ` (harden sets it to false) and grant the one capability the workload needs, if any.`,
		See: []string{"Pod Security Standards: baseline"},
	}
	DropAll = rule.Rule{
		ID: "RL-K8S-006", Severity: rule.High, Targets: k8s, Fixable: true,
		Title: "capabilities are not dropped (drop: [ALL])",
		Help: `Without ` + "`capabilities.drop: [ALL]`" + ` the container keeps the runtime's default set (14 capabilities on containerd, NET_RAW among them).

Fix: ` + "`capabilities: {drop: [ALL]}`" + ` and add back only what is needed (harden adds the drop).`,
		See: []string{"Pod Security Standards: restricted"},
	}
	AddCaps = rule.Rule{
		ID: "RL-K8S-007", Severity: rule.High, Targets: k8s,
		Title: "capabilities added beyond the allow-list",
		Help: `capabilities.add grants capabilities outside the allow-list (default: NET_BIND_SERVICE, the only one the restricted Pod Security Standard allows).

Fix: remove them, or allow one on purpose with ` + "`--allow-cap`" + `. For non-root containers an added capability is not even effective without a file capability (RL-X-006).`,
		See: []string{"Pod Security Standards: restricted"},
	}
	ReadOnlyRoot = rule.Rule{
		ID: "RL-K8S-008", Severity: rule.Medium, Targets: k8s, Fixable: true,
		Title: "root filesystem is writable",
		Help: `Without ` + "`readOnlyRootFilesystem: true`" + ` whoever runs code in the container can change its binaries and drop tools.

Fix: ` + "`readOnlyRootFilesystem: true`" + `, with an emptyDir mounted where the service writes (/tmp, a cache). Harden sets the flag; add the emptyDir by hand if the service writes.`,
	}
	Seccomp = rule.Rule{
		ID: "RL-K8S-009", Severity: rule.Medium, Targets: k8s, Fixable: true,
		Title: "no seccomp profile (RuntimeDefault or Localhost)",
		Help: `Without a seccomp profile (or with Unconfined) the container can make every system call, including the rarely used ones most kernel exploits go through.

Fix: ` + "`seccompProfile: {type: RuntimeDefault}`" + ` on the pod or container (harden adds it).`,
		See: []string{"Pod Security Standards: restricted"},
	}
	HostNamespaces = rule.Rule{
		ID: "RL-K8S-010", Severity: rule.High, Targets: k8s,
		Title: "host namespaces shared (hostNetwork, hostPID, hostIPC)",
		Help: `hostNetwork, hostPID or hostIPC put the pod in the node's namespaces: it sees every connection, process or shared-memory segment of the node.

Fix: remove them; expose ports through a Service instead of hostNetwork.`,
		See: []string{"Pod Security Standards: baseline"},
	}
	HostPath = rule.Rule{
		ID: "RL-K8S-011", Severity: rule.High, Targets: k8s,
		Title: "hostPath volume",
		Help: `A hostPath volume mounts a directory of the node: with write access (or a socket like docker.sock) it is a way out of the container.

Fix: use a PersistentVolumeClaim, an emptyDir, a ConfigMap or a CSI volume.`,
		See: []string{"Pod Security Standards: baseline"},
	}
	Automount = rule.Rule{
		ID: "RL-K8S-012", Severity: rule.Medium, Targets: k8s, Fixable: true,
		Title: "service account token mounted",
		Help: `The pod gets a token for the Kubernetes API mounted by default; a service that never calls the API only hands it to an attacker.

Fix: ` + "`automountServiceAccountToken: false`" + ` on the pod (harden adds it unless the pod names its own service account, which suggests it needs one; suppress the finding when it does).`,
	}
	MemoryLimit = rule.Rule{
		ID: "RL-K8S-013", Severity: rule.Medium, Targets: k8s,
		Title: "no memory limit",
		Help: `A container without a memory limit can take the node's memory. For a Go service it also leaves the garbage collector without a target: guard (and the service) derive GOMEMLIMIT from the limit.

Fix: set ` + "`resources.limits.memory`" + ` (and GOMEMLIMIT to about 90% of it, or let guard derive it).`,
	}
	GoMemLimit = rule.Rule{
		ID: "RL-K8S-014", Severity: rule.Medium, Targets: cross,
		Title: "GOMEMLIMIT at or above the memory limit",
		Help: `GOMEMLIMIT is the Go runtime's soft limit: set at or above the container's memory limit, the collector lets the heap grow until the kernel's OOM killer ends the process first.

Fix: set GOMEMLIMIT to about 90% of the limit (e.g. 230MiB for 256Mi), or derive it at start-up from the cgroup (guard does).`,
	}
	CPULimit = rule.Rule{
		ID: "RL-K8S-015", Severity: rule.Low, Targets: cross,
		Title: "CPU limit of one core or less: Go still runs two threads",
		Help: `With a CPU limit ≤ 1, Go ≥ 1.25 sets GOMAXPROCS to the limit rounded up but never below 2 (older Go: to the node's CPU count): two threads share a quota of one core or less, and the collector's bursts are throttled, adding latency.

Fix: set GOMAXPROCS=1 in the container's env for limits ≤ 1 (or drop the CPU limit and keep a request).`,
	}
	FSGroup = rule.Rule{
		ID: "RL-K8S-016", Severity: rule.Medium, Targets: k8s, Fixable: true,
		Title: "writable volume without fsGroup for a non-root user",
		Help: `A non-root container mounts a persistent volume (a PVC, an ephemeral volume, a cloud disk) read-write, and the pod sets no fsGroup: the volume's files keep their owner (usually root) and the service cannot write.

Fix: set ` + "`securityContext.fsGroup`" + ` on the pod to the container's group (runAsGroup). Harden does, when it knows the group (runAsGroup, ` + "`--user`" + ` or the image's).`,
	}
	GODEBUGEnv = rule.Rule{
		ID: "RL-K8S-017", Severity: rule.High, Targets: k8s,
		Title: "env GODEBUG weakens a security default",
		Help: `A container's GODEBUG environment value turns an old, weaker behaviour back on (TLS 1.0 servers, 3DES, RSA key exchange, lax X.509 or HTTP parsing) in the Go program. docs/godebug.md lists each setting and what it weakens.

Fix: drop the setting; if the program really needs it, pin it with a ` + "`godebug`" + ` line in go.mod, where it is reviewed with the code.`,
		See: []string{"RL-IMG-016", "RL-DF-014"},
	}

	// Cross-checks with the image (--image).
	NamedUserNonRoot = rule.Rule{
		ID: "RL-X-001", Severity: rule.High, Targets: cross, Fixable: true,
		Title: "runAsNonRoot with a named image USER: the kubelet refuses to start",
		Help: `The image's USER is a name and the manifest sets runAsNonRoot without runAsUser: the kubelet cannot verify a name and fails the container with CreateContainerConfigError ("image has non-numeric user").

Fix: set a numeric ` + "`runAsUser`" + ` (the UID the name has in the image's /etc/passwd), or make the image's USER numeric. Harden writes the UID it resolved.`,
	}
	RootImage = rule.Rule{
		ID: "RL-X-002", Severity: rule.High, Targets: cross, Fixable: true,
		Title: "the image runs as root and the manifest does not change it",
		Help: `The image has no USER (or USER root), often inherited from its base, and the manifest sets no runAsUser: the container runs as root — or, with runAsNonRoot, the kubelet refuses to start it ("image will run as root").

Fix: give the image a numeric non-root USER, or set ` + "`runAsUser`" + ` (and runAsGroup). Harden writes ` + "`--user`" + ` when given.`,
	}
	GID0 = rule.Rule{
		ID: "RL-X-003", Severity: rule.Medium, Targets: cross, Fixable: true,
		Title: "the container runs with GID 0",
		Help: `runAsUser is set without runAsGroup, and the image gives that user no group (or group 0): the process runs with GID 0, root's group, and can write whatever root's group may.

Fix: set ` + "`runAsGroup`" + ` to the user's own group. Harden writes the image's group for that user, or ` + "`--user`" + `'s.`,
	}
	UserMismatch = rule.Rule{
		ID: "RL-X-004", Severity: rule.Low, Targets: cross,
		Title: "runAsUser or runAsGroup differs from the image's user",
		Help: `The manifest runs the container as another user than the image was built for (its USER or dev.redline.user label): files the image gave its user (volumes, caches) are not writable, and guard's start-up check of the user fails.

Fix: use the image's UID:GID in the manifest, or rebuild the image for the user the manifest names.`,
	}
	ExecEPERM = rule.Rule{
		ID: "RL-X-005", Severity: rule.Critical, Targets: cross,
		Title: "exec fails with EPERM: the entrypoint asks for capabilities the container does not have",
		Help: `The entrypoint carries file capabilities with the effective flag (setcap CAP=+ep) and the container's bounding set lacks one of them (capabilities.drop: [ALL] without the matching add): the kernel refuses the exec with EPERM ("operation not permitted") and the container never starts. allowPrivilegeEscalation does not change this.

Fix: add the capability back (` + "`capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}`" + `), or remove the file capability from the binary and listen on a port ≥ 1024.`,
	}
	CapNoEffect = rule.Rule{
		ID: "RL-X-006", Severity: rule.Medium, Targets: cross,
		Title: "a capability the container is given has no effect",
		Help: `The capability will not be held by the process: under allowPrivilegeEscalation: false (no_new_privs) a file capability cannot raise privilege, and Kubernetes gives a non-root process no ambient capabilities, so capabilities.add alone does nothing for it. The service starts, then fails at what needed the capability (binding a low port: EACCES).

Fix: for low ports, the least privilege is none — listen on a port ≥ 1024 and map it in the Service (targetPort); or set the pod sysctl ` + "`net.ipv4.ip_unprivileged_port_start: \"0\"`" + ` (a safe sysctl); or keep the file capability and allow privilege escalation for that container (weaker).`,
	}
	LowPortBind = rule.Rule{
		ID: "RL-X-007", Severity: rule.High, Targets: cross,
		Title: "a containerPort below 1024 will not bind",
		Help: `The container declares a port below 1024, runs as a non-root user and will not hold NET_BIND_SERVICE; unless the runtime lowers net.ipv4.ip_unprivileged_port_start (containerd 2 does; containerd 1.x and CRI-O do not), bind fails with EACCES.

Fix: listen on a port ≥ 1024 and keep the low port in the Service (port: 80, targetPort: 8080); or set the pod sysctl ` + "`net.ipv4.ip_unprivileged_port_start: \"0\"`" + `.`,
	}
)

// Rules returns the Kubernetes rules, then the cross-checks, in ID order.
func Rules() []*rule.Rule {
	return []*rule.Rule{&RunAsNonRoot, &RunAsUser, &RunAsGroup, &PrivEsc, &Privileged, &DropAll, &AddCaps, &ReadOnlyRoot, &Seccomp, &HostNamespaces, &HostPath, &Automount, &MemoryLimit, &GoMemLimit, &CPULimit, &FSGroup, &GODEBUGEnv,
		&NamedUserNonRoot, &RootImage, &GID0, &UserMismatch, &ExecEPERM, &CapNoEffect, &LowPortBind}
}
