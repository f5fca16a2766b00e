// Package build turns a Go main package into a hardened, minimal,
// reproducible OCI image without a container engine.
//
// # The binary
//
// go build runs with CGO_ENABLED=0, -trimpath, -buildvcs=auto, the tags
// netgo,osusergo and -ldflags "-s -w -buildid=" ([DefaultLDFlags],
// [DefaultTags]); [Options] changes each. The result must be a static ELF
// binary for the target platform. A second build with go build's default
// flags measures what hardening saved. The go command is a [GoFunc], so
// tests replace it and need no compiler.
//
// # The image
//
// The default base, "static", is made here: /etc/passwd and /etc/group
// (root, nonroot 65532, nobody), a CA bundle, /tmp with mode 1777. The
// binary goes to /usr/local/bin/NAME, owned by root, with the requested
// file capabilities as the security.capability xattr ([FileCapability]).
// The image runs as 65532:65532 and records what the build promised in
// dev.redline.* labels.
//
// # Reproducibility
//
// Every timestamp is SOURCE_DATE_EPOCH, the VCS commit time or the Unix
// epoch; tar entries are sorted with numeric root owners; layers are
// gzipped by a deterministic parallel compressor. The same source and
// options give the same digest.
//
// # Destinations
//
// oci-dir:, oci-archive:, docker-archive: and registry: ([Destination]).
// Files are staged beside their final paths and renamed into place only
// when every destination was staged and every push succeeded.
package build
