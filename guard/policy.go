package guard

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Policy says how much privilege the process may hold and what guard may change at start-up.
// The zero value is the strict default: not root, at most CAP_NET_BIND_SERVICE, no_new_privs,
// a seccomp filter, a read-only root filesystem, no forbidden GODEBUG setting, and GOMEMLIMIT
// set to 0.9 × the container's memory limit when it is not set already.
//
// Fields named Allow... relax a check; the environment variables described in the package
// documentation ("Policy from the image") override the allow-lists unless IgnoreEnv is set.
type Policy struct {
	// AllowRoot lets the process run as uid 0 or with gid 0 (real, effective, saved or
	// file-system id, or a supplementary group). Default false.
	AllowRoot bool

	// UIDs, when not empty, lists the only user ids the process may run as (all four ids
	// must be in it). Default: any non-root uid. Env: REDLINE_GUARD_USER.
	UIDs []int

	// GIDs, when not empty, lists the only group ids the process may hold, primary and
	// supplementary. Default: any group but 0. Env: REDLINE_GUARD_USER ("UID:GID").
	GIDs []int

	// Caps is the capability allow-list, applied to the effective, permitted, inheritable
	// and ambient sets. Names as in capabilities(7), with or without the CAP_ prefix, in
	// any case. nil means the default, CAP_NET_BIND_SERVICE only; an empty, non-nil slice
	// allows none. Env: REDLINE_GUARD_CAPS.
	Caps []string

	// CheckBounding applies Caps to the bounding set too. Default false: the bounding set
	// is reported only, because runtimes leave a dozen capabilities there and, under
	// no_new_privs, nothing can be gained from it.
	CheckBounding bool

	// AllowNewPrivileges drops the requirement that no_new_privs is set
	// (Kubernetes allowPrivilegeEscalation: false, podman --security-opt no-new-privileges).
	// Default false. A service that relies on file capabilities needs it: the kernel
	// ignores file capabilities under no_new_privs.
	AllowNewPrivileges bool

	// AllowUnconfined drops the requirement that a seccomp filter is active
	// (Kubernetes seccompProfile RuntimeDefault). Default false.
	AllowUnconfined bool

	// AllowWritableRoot drops the requirement that the root filesystem is mounted
	// read-only (readOnlyRootFilesystem: true, --read-only). Default false.
	AllowWritableRoot bool

	// WritablePaths are directories the service writes to (volumes): each must exist, be
	// owned by the effective uid with the owner-write bit set, and sit on a read-write
	// mount. Default none. Env: REDLINE_GUARD_WRITABLE (added to these).
	WritablePaths []string

	// ForbiddenGODEBUG lists settings the GODEBUG variable must not make, as "name=value"
	// (that value) or "name" (any value); the last setting of a name counts, as in the
	// runtime. The binary's built-in default (go.mod's godebug block, //go:debug lines) is
	// a build-time fact for static checks (go version -m), not read here. nil means
	// DefaultForbiddenGODEBUG(); an empty, non-nil slice forbids nothing.
	ForbiddenGODEBUG []string

	// Warn turns the failure of these checks into warnings: check ids ("seccomp"), a
	// prefix before a dot or colon ("caps" for every caps.* check, "writable" for every
	// writable path), or "all". Env: REDLINE_GUARD_WARN (added to these).
	Warn []string

	// MemoryRatio is the share of the container's memory limit given to GOMEMLIMIT when
	// guard sets it. Default 0.9; must be in (0, 1]. Env: REDLINE_GUARD_MEMORY_RATIO.
	MemoryRatio float64

	// KeepGOMEMLIMIT leaves GOMEMLIMIT alone even when it is not set. Default false.
	// A GOMEMLIMIT above the container's limit fails the check either way.
	KeepGOMEMLIMIT bool

	// FollowResize, when positive, makes Check start one goroutine that re-reads the
	// cgroup memory limit at this interval until the context is done, and moves
	// GOMEMLIMIT with it (in-place pod resize). Only a GOMEMLIMIT that guard set moves.
	// Default 0: off.
	FollowResize time.Duration

	// Raise moves the allowed capabilities that are permitted but not effective into the
	// effective set of every thread before checking (what a service started with a
	// "=p" file capability otherwise hand-writes). Default false. See RaiseCaps.
	Raise bool

	// Drop removes every capability not in Caps from all sets of every thread, and sets
	// no_new_privs, before checking. Default false. See DropPrivileges.
	Drop bool

	// IgnoreEnv makes Check ignore the REDLINE_GUARD_* environment variables.
	IgnoreEnv bool
}

// The ids of the checks in a Report. A writable path's check is "writable:" + the path.
const (
	CheckUser          = "user"
	CheckGroup         = "group"
	CheckCapsEffective = "caps.effective"
	CheckCapsPermitted = "caps.permitted"
	CheckCapsInherit   = "caps.inheritable"
	CheckCapsAmbient   = "caps.ambient"
	CheckCapsBounding  = "caps.bounding"
	CheckCapsIdle      = "caps.not_effective" // allowed, permitted, not effective: a warning
	CheckCapsDrop      = "caps.drop"          // only when Policy.Drop is set
	CheckCapsRaise     = "caps.raise"         // only when Policy.Raise is set
	CheckNoNewPrivs    = "no_new_privs"
	CheckSeccomp       = "seccomp"
	CheckRootFS        = "rootfs"
	CheckWritable      = "writable"
	CheckGODEBUG       = "godebug"
	CheckThreads       = "threads"
	CheckMemory        = "memory"     // the cgroup memory limit (information)
	CheckGOMEMLIMIT    = "gomemlimit" // GOMEMLIMIT against that limit
	CheckCPU           = "cpu"        // the cgroup CPU limit (information)
	CheckGOMAXPROCS    = "gomaxprocs" // GOMAXPROCS against that limit (warns, never fails)
)

// The environment variables that carry the policy recorded in the image's labels.
const (
	EnvUser        = "REDLINE_GUARD_USER"         // label dev.redline.user: "UID[:GID]"
	EnvCaps        = "REDLINE_GUARD_CAPS"         // label dev.redline.caps: "NET_BIND_SERVICE,..." ("" or "none": no capability)
	EnvWritable    = "REDLINE_GUARD_WRITABLE"     // label dev.redline.volumes: "/data,/cache"
	EnvWarn        = "REDLINE_GUARD_WARN"         // check ids or prefixes, or "all"
	EnvMemoryRatio = "REDLINE_GUARD_MEMORY_RATIO" // "0.9"
)

// DefaultMemoryRatio is the share of the memory limit that becomes GOMEMLIMIT by default.
const DefaultMemoryRatio = 0.9

// defaultForbiddenGODEBUG: settings that weaken TLS or X.509, reopen path traversal or
// request smuggling, lift limits that guard against denial of service, print secrets, or
// switch off the runtime's memory-safety checks.
var defaultForbiddenGODEBUG = []string{
	"http2debug=1", "http2debug=2", // logs HTTP/2 frames and headers, credentials included
	"tlsrsakex=1", "tls10server=1", "tls3des=1", "tlssha1=1", "tlsunsafeekm=1",
	"rsa1024min=0", "x509negativeserial=1",
	"tarinsecurepath=1", "zipinsecurepath=1", // paths with .. or absolute names
	"httplaxcontentlength=1", // request smuggling
	"jstmpllitinterp=1",      // html/template: unescaped JS template literals
	"httpcookiemaxnum=0", "urlmaxqueryparams=0",
	"cgocheck=0", "invalidptr=0",
}

// DefaultForbiddenGODEBUG returns the GODEBUG settings a nil Policy.ForbiddenGODEBUG
// forbids. Append to it to forbid more.
func DefaultForbiddenGODEBUG() []string { return slices.Clone(defaultForbiddenGODEBUG) }

// rules is a Policy resolved against the environment and validated.
type rules struct {
	Policy
	caps     capSet
	capsFrom string // where the allow-list came from, for the report
	userFrom string
	ratio    float64
}

// resolve merges the environment into p and validates the result.
func resolve(p Policy, lookup func(string) (string, bool)) (rules, error) {
	r := rules{Policy: p, capsFrom: "policy", userFrom: "policy"}
	if !p.IgnoreEnv && lookup != nil {
		if v, ok := lookup(EnvUser); ok && strings.TrimSpace(v) != "" {
			uid, gid, hasGID, err := parseUser(v)
			if err != nil {
				return rules{}, fmt.Errorf("guard: %s=%q: %w", EnvUser, v, err)
			}
			r.UIDs = []int{uid}
			r.GIDs = nil
			if hasGID {
				r.GIDs = []int{gid}
			}
			r.userFrom = EnvUser
		}
		if v, ok := lookup(EnvCaps); ok {
			s, err := parseCapList(v)
			if err != nil {
				return rules{}, fmt.Errorf("guard: %s=%q: %w", EnvCaps, v, err)
			}
			r.caps, r.capsFrom = s, EnvCaps
		}
		if v, ok := lookup(EnvWritable); ok {
			r.WritablePaths = append(slices.Clone(p.WritablePaths), splitList(v)...)
		}
		if v, ok := lookup(EnvWarn); ok {
			r.Warn = append(slices.Clone(p.Warn), splitList(v)...)
		}
		if v, ok := lookup(EnvMemoryRatio); ok && strings.TrimSpace(v) != "" {
			f, ok := parseRatio(strings.TrimSpace(v))
			if !ok || f == 0 {
				return rules{}, fmt.Errorf("guard: %s=%q: not a decimal number such as 0.9", EnvMemoryRatio, v)
			}
			r.MemoryRatio = f
		}
	}
	if r.capsFrom == "policy" {
		if p.Caps == nil {
			r.caps = 1 << capNetBindService
			r.capsFrom = "default"
		} else {
			s, err := parseCaps(p.Caps)
			if err != nil {
				return rules{}, fmt.Errorf("guard: Policy.Caps: %w", err)
			}
			r.caps = s
		}
	}
	for _, ids := range [][]int{r.UIDs, r.GIDs} {
		for _, id := range ids {
			if id < 0 {
				return rules{}, fmt.Errorf("guard: negative id %d in Policy.UIDs or GIDs", id)
			}
		}
	}
	for _, w := range r.WritablePaths {
		if !path.IsAbs(w) {
			return rules{}, fmt.Errorf("guard: writable path %q is not absolute", w)
		}
	}
	r.ratio = r.MemoryRatio
	if r.ratio == 0 {
		r.ratio = DefaultMemoryRatio
	}
	if !(r.ratio > 0 && r.ratio <= 1) {
		return rules{}, fmt.Errorf("guard: memory ratio %v is outside (0, 1]", r.ratio)
	}
	if r.ForbiddenGODEBUG == nil {
		r.ForbiddenGODEBUG = defaultForbiddenGODEBUG
	}
	for _, f := range r.ForbiddenGODEBUG {
		if name, _, _ := strings.Cut(f, "="); name == "" || strings.ContainsAny(f, ", ") {
			return rules{}, fmt.Errorf("guard: forbidden GODEBUG entry %q is not name or name=value", f)
		}
	}
	if r.FollowResize < 0 {
		return rules{}, errors.New("guard: Policy.FollowResize is negative")
	}
	return r, nil
}

// parseRatio parses a plain decimal ("0.9", "1", ".75"). strconv.ParseFloat would do,
// but its tables add some 20 KB to every binary that imports guard.
func parseRatio(v string) (float64, bool) {
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" && frac == "" || len(whole) > 3 || len(frac) > 9 {
		return 0, false
	}
	var n, scale float64 = 0, 1
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + float64(c-'0')
	}
	for range frac {
		scale *= 10
	}
	return n / scale, true
}

// parseUser parses "UID" or "UID:GID", numeric as redline build records them.
func parseUser(v string) (uid, gid int, hasGID bool, err error) {
	u, g, hasGID := strings.Cut(strings.TrimSpace(v), ":")
	if uid, err = strconv.Atoi(u); err != nil || uid < 0 {
		return 0, 0, false, fmt.Errorf("user %q is not a numeric uid (give UID or UID:GID)", u)
	}
	if hasGID {
		if gid, err = strconv.Atoi(g); err != nil || gid < 0 {
			return 0, 0, false, fmt.Errorf("group %q is not a numeric gid (give UID or UID:GID)", g)
		}
	}
	return uid, gid, hasGID, nil
}

func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// waived reports whether the policy turns a failure of check id into a warning.
func (r *rules) waived(id string) bool {
	for _, w := range r.Warn {
		if w == "all" || w == id {
			return true
		}
		if len(id) > len(w) && strings.HasPrefix(id, w) && (id[len(w)] == '.' || id[len(w)] == ':') {
			return true
		}
	}
	return false
}
