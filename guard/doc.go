// Package guard lets a Go service verify, at start-up, that it runs with no more
// privilege than its policy allows, and set its runtime limits from its container's.
//
// A build can promise least privilege and a manifest can ask for it, but only the
// running process knows what it got. guard reads that from the kernel, compares it with
// a Policy, and reports every check with what it observed, what it expected, and
// pass or fail:
//
//	func main() {
//		rep := guard.Enforce(context.Background(), guard.Policy{}, logger) // exits 78 on failure
//		...
//	}
//
// It depends on the standard library only; it adds 140 KiB to the stripped
// examples/hello (docs/benchmarks.md).
//
// # Checks
//
// On Linux, Check reads /proc/self/status of every thread, /proc/self/mountinfo,
// /proc/self/cgroup and the cgroup files, and judges:
//
//   - user, group: the real, effective, saved and file-system ids and the supplementary
//     groups; not root (uid 0, gid 0) unless allowed, and in the allow-lists if given.
//   - caps.effective, caps.permitted, caps.inheritable, caps.ambient: no capability
//     beyond the allow-list (default: CAP_NET_BIND_SERVICE only). caps.bounding is
//     reported, and judged only with Policy.CheckBounding. caps.not_effective warns about
//     allowed capabilities that are permitted but not effective.
//   - no_new_privs: set. seccomp: a filter is active. rootfs: / is mounted read-only.
//   - writable:PATH: each of Policy.WritablePaths exists, is owned by the effective uid,
//     is owner-writable and sits on a read-write mount (volumes line up with the user).
//   - godebug: the GODEBUG variable makes none of the forbidden settings (weak TLS, path
//     traversal, HTTP/2 debug output, ...). The binary's built-in default is a build-time
//     fact that `go version -m` shows; guard leaves it to static checks.
//   - threads: every thread holds the same credentials. Capabilities, no_new_privs and
//     seccomp are per thread; guard judges by the most privileged one.
//   - memory, gomemlimit, cpu, gomaxprocs: the container's limits and the runtime's
//     settings against them (see below).
//
// A file guard cannot read, a field it cannot find and a value it cannot parse make the
// check Unknown, with the reason: never a pass. Fail and Unknown make the report not OK;
// Policy.Warn turns chosen checks into warnings.
//
// # Memory and CPU
//
// When GOMEMLIMIT is not set, Check sets it to Policy.MemoryRatio (default 0.9) × the
// container's memory limit: the tightest of the process's cgroup and the parents visible
// to it, in cgroup v1 (memory.limit_in_bytes), v2 (memory.max and memory.high), or a
// hybrid of both (where the v1 memory controller holds the limit). With
// Policy.FollowResize it follows in-place resizes. A GOMEMLIMIT above the limit fails:
// the kernel would kill the process before the garbage collector reacts.
//
// Go 1.25 and later set GOMAXPROCS from the CPU limit themselves, so guard reports the
// value and does not override it. It warns about the runtime's known gaps: a limit below
// 2 CPUs still gives 2, and the runtime reads only its own cgroup, not a tighter parent.
//
// # Capabilities
//
// Policy.Raise (or RaiseCaps) makes allowed capabilities that are permitted but not
// effective effective, as services started with a "=p" file capability otherwise do by
// hand. Policy.Drop (or DropPrivileges) removes every capability not in the allow-list
// from all sets and sets no_new_privs, for services started with more than they need.
// Both change every thread through syscall.AllThreadsSyscall, which does not work in
// binaries that use cgo: they then fail with ErrCgo. Build with CGO_ENABLED=0.
//
// # Policy from the image
//
// redline build records what it granted in image labels. A process cannot read its
// image's labels, so a manifest passes them in the environment, and Check reads:
//
//	REDLINE_GUARD_USER          from dev.redline.user, "65532:65532": replaces UIDs and GIDs
//	REDLINE_GUARD_CAPS          from dev.redline.caps, "NET_BIND_SERVICE": replaces Caps
//	                            ("" or "none": no capability at all)
//	REDLINE_GUARD_WRITABLE      from dev.redline.volumes, "/data": adds to WritablePaths
//	REDLINE_GUARD_WARN          "seccomp,rootfs" or "all": adds to Warn
//	REDLINE_GUARD_MEMORY_RATIO  "0.8": replaces MemoryRatio
//
// Policy.IgnoreEnv turns this off. docs/guard.md shows a Kubernetes manifest that fills
// them, literally or from pod annotations through the downward API.
//
// # Other systems
//
// Anywhere but Linux, every check is Unknown: the report is never OK, and Enforce exits
// unless REDLINE_GUARD_WARN=all (or Policy.Warn) says to only warn.
package guard
