package imagecheck

import "github.com/redline-go/redline/internal/lint/rule"

var (
	imageOnly = []rule.Kind{rule.Image}
	binaryToo = []rule.Kind{rule.Image, rule.Binary}
)

// The image rules.
var (
	RunsAsRoot = rule.Rule{
		ID: "RL-IMG-001", Severity: rule.High, Targets: imageOnly,
		Title: "image runs as root",
		Help: `The image config has no USER, or USER is root (0): every container started from it runs as UID 0 unless the runtime is told otherwise, and a compromise of the service is a compromise of root inside the container — one kernel bug away from the node.

Fix: add a numeric non-root user as the last USER of the Dockerfile (` + "`USER 65532:65532`" + `), or build with ` + "`redline build`" + `, which does. Kubernetes ` + "`runAsUser`" + ` can override it per workload, but the image should be safe on its own.`,
		See: []string{"dockle CIS-DI-0001", "hadolint DL3002"},
	}
	NamedUser = rule.Rule{
		ID: "RL-IMG-002", Severity: rule.Medium, Targets: imageOnly,
		Title: "USER is a name, not a number",
		Help: `USER names a user (or group) instead of a number. Kubernetes ` + "`runAsNonRoot: true`" + ` cannot verify a name and refuses to start the container ("image has non-numeric user"), unless ` + "`runAsUser`" + ` is also set; a name that /etc/passwd of the image does not hold fails at start in every runtime.

Fix: write the numeric UID and GID (` + "`USER 65532:65532`" + `), the same numbers /etc/passwd gives the name.`,
		See: []string{"kubernetes runAsNonRoot"},
	}
	SetID = rule.Rule{
		ID: "RL-IMG-003", Severity: rule.High, Targets: imageOnly,
		Title: "setuid or setgid file",
		Help: `A file in the final filesystem has the setuid or setgid bit: executing it raises privilege to its owner (often root). A service does not need it, and it is the usual path from a foothold to root.

Fix: remove the bits in the layer that adds the file (` + "`RUN chmod a-s FILE`" + ` in the stage that installs it, or ` + "`find / -xdev -perm /6000 -type f -exec chmod a-s {} +`" + `), or do not ship the file. Kubernetes ` + "`allowPrivilegeEscalation: false`" + ` also neutralises it at run time.`,
		See: []string{"dockle CIS-DI-0008"},
	}
	WorldWritable = rule.Rule{
		ID: "RL-IMG-004", Severity: rule.Medium, Targets: imageOnly,
		Title: "world-writable file or directory without the sticky bit",
		Help: `Any user of the container can change a world-writable file, or replace files in a world-writable directory that lacks the sticky bit (mode 1777 like /tmp is fine).

Fix: ` + "`chmod o-w`" + ` it in the layer that adds it; give writable paths to the service's own user instead (` + "`COPY --chown=65532:65532`" + `, a volume).`,
	}
	FileCaps = rule.Rule{
		ID: "RL-IMG-005", Severity: rule.High, Targets: imageOnly,
		Title: "file capabilities beyond the allow-list",
		Help: `A file carries capabilities (the security.capability extended attribute, set by ` + "`setcap`" + `) that are not on the allow-list (default: NET_BIND_SERVICE). Executing it grants them to any user of the container.

Fix: drop the attribute (` + "`setcap -r FILE`" + `) or grant only what is needed; allow a capability on purpose with ` + "`--allow-cap`" + `.`,
	}
	Shell = rule.Rule{
		ID: "RL-IMG-006", Severity: rule.Low, Targets: imageOnly,
		Title: "a shell is present",
		Help: `The final filesystem holds a shell. A Go service does not need one; an attacker who reaches code execution does, and so do most exploit payloads.

Fix: use a base without a shell (scratch, distroless static, ` + "`redline build`" + `'s static base), copying only the binary and the files it reads.`,
		See: []string{"dockle", "distroless"},
	}
	PackageManager = rule.Rule{
		ID: "RL-IMG-007", Severity: rule.Low, Targets: imageOnly,
		Title: "a package manager is present",
		Help: `The final filesystem holds a package manager (apt, dpkg, apk, yum, dnf, rpm, pip): it lets whoever runs code in the container install tools, and it brings the packages it depends on, each a source of CVEs.

Fix: build in one stage and copy the binary into a minimal final stage (multi-stage build), or use a distroless or static base.`,
	}
	EnvSecret = rule.Rule{
		ID: "RL-IMG-008", Severity: rule.High, Targets: imageOnly,
		Title: "a secret in the image environment",
		Help: `An environment variable of the image config looks like a credential (by its name with a literal value, or by the shape of a known token). Image configs are readable by anyone who can pull the image, and the value is also in its history.

Fix: remove it from the Dockerfile (ENV, ARG) and pass it at run time: a Kubernetes Secret, ` + "`--env-file`" + `, or a mounted file (` + "`*_FILE`" + ` variables); rotate the credential, since it has leaked.`,
		See: []string{"dockle CIS-DI-0010"},
	}
	PrivateKey = rule.Rule{
		ID: "RL-IMG-009", Severity: rule.High, Targets: imageOnly,
		Title: "a private key in a layer",
		Help: `A layer holds a private key (a PEM or OpenSSH key, or a PKCS#12 bundle). A key deleted by a later layer is still in the earlier layer's blob, which anyone who pulls the image can read.

Fix: never COPY keys into the build context that reaches the image; use BuildKit secrets (` + "`RUN --mount=type=secret`" + `) for build-time credentials and mounted Secrets at run time. Rotate the key.`,
	}
	GitDir = rule.Rule{
		ID: "RL-IMG-010", Severity: rule.Medium, Targets: imageOnly,
		Title: "a .git directory in a layer",
		Help: `A layer holds a .git directory: the repository's whole history, possibly with credentials in its config or in old commits, ships with the image — even if a later layer deletes it.

Fix: add .git to .dockerignore, or copy only what the build needs.`,
	}
	LowPort = rule.Rule{
		ID: "RL-IMG-011", Severity: rule.Medium, Targets: imageOnly,
		Title: "exposed port below 1024 that a non-root user cannot bind",
		Help: `The image exposes a port below 1024 and runs as a non-root user whose entrypoint carries no NET_BIND_SERVICE file capability. Binding works only where the runtime lowers net.ipv4.ip_unprivileged_port_start (Docker ≥ 20.10, containerd 2); podman and CRI-O refuse it.

Fix: listen on a port ≥ 1024 and map the low port outside (` + "`-p 80:8080`" + `, a Service targetPort) — the least privilege; or set the sysctl ` + "`net.ipv4.ip_unprivileged_port_start=0`" + `; or give the binary ` + "`cap_net_bind_service=+ep`" + ` (then keep no_new_privs off; see RL-X-006).`,
	}
	GoCgo = rule.Rule{
		ID: "RL-IMG-012", Severity: rule.Low, Targets: binaryToo,
		Title: "Go binary built with cgo",
		Help: `The Go binary was built with CGO_ENABLED=1: it links the C library dynamically (or statically, with its own CVEs), needs the base image's libc at run time, and cannot run on scratch or distroless static.

Fix: build with ` + "`CGO_ENABLED=0`" + ` unless a C dependency requires cgo.`,
	}
	GoNotStripped = rule.Rule{
		ID: "RL-IMG-013", Severity: rule.Low, Targets: binaryToo,
		Title: "Go binary not stripped",
		Help: `The Go binary keeps its symbol table and DWARF debug information: it is about 30% larger and tells a reader more about the program than it must. (Go's own build info, which SBOMs and vulnerability scanners read, survives stripping.)

Fix: build with ` + "`-ldflags=\"-s -w\"`" + `.`,
	}
	GoNoTrimpath = rule.Rule{
		ID: "RL-IMG-014", Severity: rule.Low, Targets: binaryToo,
		Title: "Go binary built without -trimpath",
		Help: `The Go binary records the absolute paths of the build machine (home directories, CI workspace layout) in its file table and panics, and the build is not reproducible across machines.

Fix: build with ` + "`-trimpath`" + `.`,
	}
	GoInsecureGODEBUG = rule.Rule{
		ID: "RL-IMG-016", Severity: rule.High, Targets: binaryToo,
		Title: "Go binary keeps GODEBUG defaults weaker than its toolchain's",
		Help: `A Go binary keeps the GODEBUG defaults of its module's go line, not of the toolchain that built it: a module that still says ` + "`go 1.16`" + ` built with Go 1.26 accepts TLS 1.0 servers, 3DES and RSA key exchange, while every scanner reports it as "built with go1.26". The binary's DefaultGODEBUG build setting (it survives stripping) shows which security settings are weaker than the toolchain's default.

Fix: raise the go line in go.mod (docs/godebug.md lists what else changes), or pin the setting on purpose with a ` + "`godebug`" + ` line in go.mod, which makes it a visible waiver.`,
	}
	BrokenPromise = rule.Rule{
		ID: "RL-IMG-015", Severity: rule.High, Targets: imageOnly,
		Title: "image does not keep what its dev.redline labels promise",
		Help: `The image carries dev.redline.user or dev.redline.caps labels (what ` + "`redline build`" + ` promised, and what ` + "`guard`" + ` checks at start-up) but its config or its entrypoint's file capabilities say otherwise: a later build step changed USER or the binary, and the promise no longer holds.

Fix: rebuild with ` + "`redline build`" + `, or make the later step keep the user and the capabilities the labels name (or update the labels).`,
	}
)

// Rules returns the image rules in ID order.
func Rules() []*rule.Rule {
	return []*rule.Rule{&RunsAsRoot, &NamedUser, &SetID, &WorldWritable, &FileCaps, &Shell, &PackageManager, &EnvSecret, &PrivateKey, &GitDir, &LowPort, &GoCgo, &GoNotStripped, &GoNoTrimpath, &BrokenPromise, &GoInsecureGODEBUG}
}
