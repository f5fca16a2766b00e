package dockerfile

import "github.com/redline-go/redline/internal/lint/rule"

var df = []rule.Kind{rule.Dockerfile}

// The Dockerfile rules.
var (
	LastUser = rule.Rule{
		ID: "RL-DF-001", Severity: rule.High, Targets: df, Fixable: true,
		Title: "final stage runs as root",
		Help: `The final stage sets no USER (so the image runs as its base's user: root for scratch, Debian, Alpine and most others) or sets root (0) last.

Fix: end the final stage with a numeric non-root user, after the steps that need root: ` + "`USER 65532:65532`" + `. ` + "`redline harden`" + ` adds it. Bases that already run as non-root (distroless ":nonroot", Chainguard) are recognised.`,
		See: []string{"hadolint DL3002", "RL-IMG-001"},
	}
	Unpinned = rule.Rule{
		ID: "RL-DF-002", Severity: rule.Medium, Targets: df,
		Title: "base image not pinned by digest",
		Help: `FROM names a tag, which the registry may point at different content tomorrow: the build is not reproducible, and a compromised or mistaken push reaches your image silently.

Fix: pin the digest and keep the tag for people: ` + "`FROM golang:1.26.8@sha256:…`" + ` (Renovate and Dependabot update both).`,
		See: []string{"hadolint DL3007"},
	}
	Latest = rule.Rule{
		ID: "RL-DF-003", Severity: rule.Medium, Targets: df,
		Title: "base image on latest or without a tag",
		Help: `FROM uses the latest tag (or none, which means latest): what you build on changes under you, including major versions.

Fix: name a version tag, and pin its digest (RL-DF-002).`,
		See: []string{"hadolint DL3006", "hadolint DL3007"},
	}
	SingleStage = rule.Rule{
		ID: "RL-DF-004", Severity: rule.Medium, Targets: df,
		Title: "Go code built in the final stage",
		Help: `The final stage runs ` + "`go build`" + `: the image ships the Go toolchain, the sources, the module and build caches and everything the base holds — hundreds of megabytes of attack surface and CVEs the service never uses.

Fix: build in a first stage (` + "`FROM golang:1.26 AS build`" + `) and copy only the binary into a minimal final stage (` + "`FROM scratch`" + ` or distroless static): ` + "`COPY --from=build /out/app /app`" + `. Or use ` + "`redline build`" + `.`,
	}
	NoCgoOff = rule.Rule{
		ID: "RL-DF-005", Severity: rule.Low, Targets: df, Fixable: true,
		Title: "go build without CGO_ENABLED=0",
		Help: `go build runs with cgo enabled (the default when a C compiler is present, as in the golang images): the binary links libc dynamically and fails on scratch or distroless static, or needs the base's libc and its CVEs.

Fix: ` + "`CGO_ENABLED=0 go build ...`" + ` (or ` + "`ENV CGO_ENABLED=0`" + ` in the build stage).`,
	}
	NoTrimpath = rule.Rule{
		ID: "RL-DF-006", Severity: rule.Low, Targets: df, Fixable: true,
		Title: "go build without -trimpath",
		Help: `Without -trimpath the binary records the build machine's absolute paths, and the build is not reproducible.

Fix: ` + "`go build -trimpath ...`" + ` (or ` + "`GOFLAGS=-trimpath`" + `).`,
	}
	NoStrip = rule.Rule{
		ID: "RL-DF-007", Severity: rule.Low, Targets: df, Fixable: true,
		Title: `go build without -ldflags "-s -w"`,
		Help: `Without -s -w the binary keeps its symbol table and DWARF data: about 30% larger, and more for a reader to work with.

Fix: ` + "`go build -ldflags=\"-s -w\" ...`" + ` (merge -s -w into an existing -ldflags by hand; harden only adds the flag when there is none).`,
	}
	RemoteAdd = rule.Rule{
		ID: "RL-DF-008", Severity: rule.Medium, Targets: df,
		Title: "ADD of a remote URL",
		Help: `ADD fetches a URL at build time with no integrity check: whoever controls the server (or the network path) controls what goes into the image.

Fix: ` + "`ADD --checksum=sha256:… URL DEST`" + ` (BuildKit), or download in a RUN step and verify the checksum, or vendor the file into the build context.`,
		See: []string{"hadolint DL3020"},
	}
	ApkCache = rule.Rule{
		ID: "RL-DF-009", Severity: rule.Low, Targets: df, Fixable: true,
		Title: "apk add without --no-cache",
		Help: `apk add leaves the package index in /var/cache/apk: dead weight in the layer, and stale metadata in the image.

Fix: ` + "`apk add --no-cache ...`" + `, or a cache mount (` + "`RUN --mount=type=cache,target=/var/cache/apk`" + `).`,
		See: []string{"hadolint DL3019"},
	}
	AptCleanup = rule.Rule{
		ID: "RL-DF-010", Severity: rule.Low, Targets: df, Fixable: true,
		Title: "apt-get install without removing the package lists",
		Help: `apt-get update and install leave tens of megabytes of package lists in /var/lib/apt/lists; deleting them in a later RUN does not shrink the image (the earlier layer still has them).

Fix: end the same RUN with ` + "`&& rm -rf /var/lib/apt/lists/*`" + `, or use cache mounts for /var/lib/apt and /var/cache/apt.`,
		See: []string{"hadolint DL3009"},
	}
	VolumeOwner = rule.Rule{
		ID: "RL-DF-011", Severity: rule.Medium, Targets: df, Fixable: true,
		Title: "volume not owned by the non-root user",
		Help: `The final stage declares a VOLUME and runs as a non-root user, but nothing gives the volume's directory to that user: a named volume is initialised from the image's directory, root-owned, and the service cannot write to it.

Fix: create the directory owned by the user, with ` + "`COPY --chown=65532:65532`" + ` (works on scratch) or ` + "`RUN mkdir -p /data && chown 65532:65532 /data`" + `. Harden adds --chown to COPY instructions into the volume.`,
	}
	NamedUser = rule.Rule{
		ID: "RL-DF-012", Severity: rule.Medium, Targets: df,
		Title: "final USER is a name, not a number",
		Help: `The final USER names a user: Kubernetes runAsNonRoot cannot verify a name and refuses to start the container unless runAsUser is set too.

Fix: write the numeric UID:GID (` + "`USER 65532:65532`" + `).`,
		See: []string{"RL-IMG-002"},
	}
	GODEBUGEnv = rule.Rule{
		ID: "RL-DF-014", Severity: rule.High, Targets: df,
		Title: "ENV GODEBUG weakens a security default",
		Help: `The final stage sets GODEBUG to a value that turns an old, weaker behaviour back on (TLS 1.0 servers, 3DES, RSA key exchange, lax X.509 or HTTP parsing) for every Go program in the image. docs/godebug.md lists each setting and what it weakens.

Fix: drop the setting; if the program really needs it, pin it with a ` + "`godebug`" + ` line in go.mod, where it is reviewed with the code.`,
		See: []string{"RL-IMG-016", "RL-K8S-017"},
	}
	Secret = rule.Rule{
		ID: "RL-DF-013", Severity: rule.High, Targets: df,
		Title: "a secret in ENV or ARG",
		Help: `ENV and ARG values are stored in the image config and history, readable by anyone who pulls the image (ARG values too, through the history of the steps that use them).

Fix: use BuildKit secrets for build-time credentials (` + "`RUN --mount=type=secret,id=token`" + `) and pass run-time ones from the environment of the container (a Kubernetes Secret). Rotate the leaked one.`,
		See: []string{"hadolint DL3044", "RL-IMG-008"},
	}
)

// Rules returns the Dockerfile rules in ID order.
func Rules() []*rule.Rule {
	return []*rule.Rule{&LastUser, &Unpinned, &Latest, &SingleStage, &NoCgoOff, &NoTrimpath, &NoStrip, &RemoteAdd, &ApkCache, &AptCleanup, &VolumeOwner, &NamedUser, &Secret, &GODEBUGEnv}
}
