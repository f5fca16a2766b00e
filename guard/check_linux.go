package guard

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// host is the system Check inspects: the live process, or a fixture tree in tests.
type host struct {
	root           string // prefix for every file read; "" on the live system
	lookupEnv      func(string) (string, bool)
	setMemoryLimit func(int64) int64 // debug.SetMemoryLimit
	gomaxprocs     func() int
	numCPU         func() int
	memSetByGuard  *atomic.Int64 // the GOMEMLIMIT guard last set; 0: none
	sys            capSyscalls
}

// capSyscalls changes capabilities and no_new_privs on every thread.
type capSyscalls interface {
	capset(eff, prm, inh capSet) error
	prctl(option, arg2, arg3 uintptr) error
}

type allThreads struct{}

func (allThreads) capset(eff, prm, inh capSet) error      { return capsetAllThreads(eff, prm, inh) }
func (allThreads) prctl(option, arg2, arg3 uintptr) error { return prctlAllThreads(option, arg2, arg3) }

var liveMemSet atomic.Int64

var live = host{
	lookupEnv:      os.LookupEnv,
	setMemoryLimit: debug.SetMemoryLimit,
	gomaxprocs:     func() int { return runtime.GOMAXPROCS(0) },
	numCPU:         runtime.NumCPU,
	memSetByGuard:  &liveMemSet,
	sys:            allThreads{},
}

// Check reads the process's real privileges and limits, applies what the policy asks
// guard to change (Policy.Drop, Policy.Raise, GOMEMLIMIT), and compares the result with
// the policy. The error is non-nil only for an invalid policy (an unknown capability name,
// a malformed REDLINE_GUARD_* variable) or a done context; what cannot be read is an
// Unknown check in the report, never an error and never a pass.
func Check(ctx context.Context, p Policy) (Report, error) {
	return check(ctx, p, &live)
}

// ErrCgo is returned (wrapped) when capabilities or no_new_privs must change on every
// thread in a binary that uses cgo.
var ErrCgo = errors.New("capabilities and no_new_privs are per thread, and syscall.AllThreadsSyscall, " +
	"which changes them on every thread, does not work in binaries that use cgo: build with CGO_ENABLED=0, " +
	"or have the runtime drop them (securityContext.capabilities.drop: [ALL], allowPrivilegeEscalation: false)")

func allThreadsErr(what string, err error) error {
	if errors.Is(err, syscall.ENOTSUP) {
		return fmt.Errorf("guard: %s: %w", what, ErrCgo)
	}
	return fmt.Errorf("guard: %s: %w", what, err)
}

// state is what guard read about the process.
type state struct {
	status    threadState // the main thread (/proc/self/status)
	groups    []int
	groupsBuf [16]int // groups' usual backing store
	statusErr error

	threads    int
	threadsErr error
	diverge    string // how the first differing thread differs

	// Over all threads: the union for judging (the most any thread holds), the
	// intersection for capset targets (what every thread may set).
	eff, prm, inh, bnd, amb capSet
	effAll, prmAll, inhAll  capSet
	noNewPrivs, seccomp     int // the least any thread has

	mounts    mounts
	mountsErr error
	cgroups   cgroups
	cgErr     error
	mem       memLimit
	cpu       cpuLimit
}

const threadFields = fUid | fGid | fCapInh | fCapPrm | fCapEff | fCapBnd | fCapAmb | fNoNewPrivs | fSeccomp

func readState(rd *reader, paths []string) *state {
	st := &state{}
	st.groups = st.groupsBuf[:0]
	if b, err := rd.read("/proc/self/status", ""); err != nil {
		st.statusErr = err
	} else {
		st.status = parseStatus(b, &st.groups)
	}
	s := &st.status
	st.eff, st.prm, st.inh, st.bnd, st.amb = s.eff, s.prm, s.inh, s.bnd, s.amb
	st.effAll, st.prmAll, st.inhAll = s.eff, s.prm, s.inh
	st.noNewPrivs, st.seccomp = s.noNewPrivs, s.secomp
	st.threadsErr = rd.tasks(func(tid []byte) error {
		b, err := rd.readTaskStatus(tid)
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ESRCH) {
			return nil // the thread exited
		}
		if err != nil {
			return fmt.Errorf("reading /proc/self/task/%s/status: %w", tid, err)
		}
		t := parseStatus(b, nil)
		if t.seen&threadFields != threadFields || t.bad&threadFields != 0 {
			return t.fieldErr(threadFields, "/proc/self/task/"+string(tid)+"/status")
		}
		st.threads++
		st.eff, st.prm, st.inh, st.bnd, st.amb = st.eff|t.eff, st.prm|t.prm, st.inh|t.inh, st.bnd|t.bnd, st.amb|t.amb
		st.effAll, st.prmAll, st.inhAll = st.effAll&t.eff, st.prmAll&t.prm, st.inhAll&t.inh
		st.noNewPrivs, st.seccomp = min(st.noNewPrivs, t.noNewPrivs), min(st.seccomp, t.secomp)
		if st.diverge == "" && st.statusErr == nil && s.fieldErr(threadFields, "") == nil {
			st.diverge = threadDiff(tid, &t, s)
		}
		return nil
	})
	if st.threadsErr == nil && st.threads == 0 {
		st.threadsErr = errors.New("/proc/self/task lists no thread")
	}

	if b, err := rd.read("/proc/self/mountinfo", ""); err != nil {
		st.mountsErr = err
	} else {
		st.mounts, st.mountsErr = parseMountinfo(b, paths)
	}
	if b, err := rd.read("/proc/self/cgroup", ""); err != nil {
		st.cgErr = err
	} else {
		st.cgroups, st.cgErr = parseCgroups(b)
	}
	switch {
	case st.cgErr != nil:
		st.mem.err, st.cpu.err = st.cgErr, st.cgErr
	case st.mountsErr != nil:
		st.mem.err, st.cpu.err = st.mountsErr, st.mountsErr
	default:
		st.mem = readMemoryLimit(rd, st.cgroups, &st.mounts)
		st.cpu = readCPULimit(rd, st.cgroups, &st.mounts)
	}
	return st
}

// threadDiff names the fields in which thread tid differs from the main thread.
func threadDiff(tid []byte, t, main *threadState) string {
	var d []string
	for _, f := range [...]struct {
		name string
		same bool
	}{
		{"Uid", t.uid == main.uid}, {"Gid", t.gid == main.gid}, {"CapEff", t.eff == main.eff}, {"CapPrm", t.prm == main.prm},
		{"CapInh", t.inh == main.inh}, {"CapBnd", t.bnd == main.bnd}, {"CapAmb", t.amb == main.amb},
		{"NoNewPrivs", t.noNewPrivs == main.noNewPrivs}, {"Seccomp", t.secomp == main.secomp},
	} {
		if !f.same {
			d = append(d, f.name)
		}
	}
	if len(d) == 0 {
		return ""
	}
	return "thread " + string(tid) + " differs from the main thread in " + strings.Join(d, ", ")
}

func check(ctx context.Context, p Policy, h *host) (Report, error) {
	if err := ctx.Err(); err != nil {
		return Report{}, err
	}
	ru, err := resolve(p, h.lookupEnv)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Supported: true, GOOS: runtime.GOOS, GoVersion: runtime.Version()}
	rd := getReader(h.root)
	defer putReader(rd)
	st := readState(rd, ru.WritablePaths)
	var acts []Result
	act := func(id, expected string, did []string, err error) {
		res := Result{ID: id, Expected: expected, Status: Pass, Observed: "done"}
		switch {
		case err != nil:
			res.Status, res.Observed, res.Detail = Fail, "refused", err.Error()
		case len(did) == 0:
			res.Status, res.Observed = Info, "nothing to change"
		}
		acts = append(acts, res)
		rep.Actions = append(rep.Actions, did...)
		if len(did) > 0 {
			st = readState(rd, ru.WritablePaths)
		}
	}
	if ru.Drop {
		did, err := dropPrivileges(h.sys, st, ru.caps)
		act(CheckCapsDrop, "only "+ru.caps.String()+", no_new_privs", did, err)
	}
	if ru.Raise {
		did, err := raiseCaps(h.sys, st, ru.caps, false)
		act(CheckCapsRaise, "allowed permitted capabilities effective", did, err)
	}
	e := evaluator{ru: &ru, st: st, h: h, out: make([]Result, 0, 20+len(ru.WritablePaths))}
	e.out = append(e.out, acts...)
	e.identity()
	e.caps()
	e.confinement()
	e.writable()
	e.godebug()
	if a := e.memory(ctx); a != "" {
		rep.Actions = append(rep.Actions, a)
	}
	e.cpu()
	rep.Results = e.out
	rep.finish(&ru)
	return rep, nil
}

type evaluator struct {
	out []Result
	ru  *rules
	st  *state
	h   *host
}

func (e *evaluator) unknown(id string, err error) {
	e.add(&Result{ID: id, Status: Unknown, Observed: "unknown", Detail: err.Error()})
}

// add appends a result. Result is large: one append site, not inlined, instead of thirty
// takes 10 KB off every binary that imports guard (bench/guard measures it).
//
//go:noinline
func (e *evaluator) add(r *Result) { e.out = append(e.out, *r) }

func (e *evaluator) statusErr(flags int) error {
	if e.st.statusErr != nil {
		return e.st.statusErr
	}
	return e.st.status.fieldErr(flags, "/proc/self/status")
}

func formatIDs(ids [4]int, names [4]string) string {
	if ids[0] == ids[1] && ids[1] == ids[2] && ids[2] == ids[3] {
		return strconv.Itoa(ids[0])
	}
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(names[i])
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(id))
	}
	return b.String()
}

func formatList(ids []int) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(id))
	}
	return b.String()
}

func (e *evaluator) identity() {
	s := &e.st.status
	e.ids(CheckUser, fUid, s.uid, [4]string{"uid", "euid", "suid", "fsuid"}, nil, e.ru.UIDs, "non-root",
		"runs as root (uid 0): run as a non-root user (USER 65532:65532, runAsNonRoot: true, podman --user 65532)")
	e.ids(CheckGroup, fGid|fGroups, s.gid, [4]string{"gid", "egid", "sgid", "fsgid"}, e.st.groups, e.ru.GIDs, "not 0",
		"holds the root group (gid 0), which owns root's group-writable files: run with a non-root group "+
			"(USER 65532:65532, runAsGroup), or allow gid 0 in Policy.GIDs")
}

// ids judges the user or the group ids: none is 0 unless root is allowed (a group list
// may allow gid 0 by naming it), and each is in the allow-list when there is one.
func (e *evaluator) ids(id string, flags int, ids [4]int, names [4]string, groups, allowed []int, nonRoot, rootDetail string) {
	ru := e.ru
	r := Result{ID: id, Expected: nonRoot}
	switch {
	case len(allowed) == 1:
		r.Expected = strconv.Itoa(allowed[0])
	case len(allowed) > 1:
		r.Expected = "one of " + formatList(allowed)
	case ru.AllowRoot:
		r.Expected = "any"
	}
	if err := e.statusErr(flags); err != nil {
		e.unknown(id, err)
		return
	}
	r.Observed, r.Status = formatIDs(ids, names), Pass
	if len(groups) > 0 {
		r.Observed += " groups=" + formatList(groups)
	}
	for _, n := range append(ids[:], groups...) {
		switch {
		case n == 0 && !ru.AllowRoot && !(id == CheckGroup && slices.Contains(allowed, 0)):
			r.Status, r.Detail = Fail, rootDetail
		case len(allowed) > 0 && !slices.Contains(allowed, n):
			r.Status, r.Detail = Fail, names[0]+" "+strconv.Itoa(n)+" is not allowed (allow-list from "+ru.userFrom+")"
		default:
			continue
		}
		break
	}
	e.add(&r)
}

func (e *evaluator) caps() {
	ru, st := e.ru, e.st
	want := "only " + ru.caps.String()
	if ru.caps == 0 {
		want = "none"
	}
	fields := fCapEff | fCapPrm | fCapInh | fCapAmb | fCapBnd
	err := e.statusErr(fields)
	if err == nil && st.threadsErr != nil {
		err = st.threadsErr
	}
	var lastSet capSet
	var lastName string
	for _, c := range []struct {
		id  string
		set capSet
	}{{CheckCapsEffective, st.eff}, {CheckCapsPermitted, st.prm}, {CheckCapsInherit, st.inh}, {CheckCapsAmbient, st.amb}, {CheckCapsBounding, st.bnd}} {
		if err != nil {
			e.unknown(c.id, err)
			continue
		}
		// The sets are often equal (root holds the same 40 in three of them): name each once.
		if c.set != lastSet || lastName == "" {
			lastSet, lastName = c.set, c.set.String()
		}
		r := Result{ID: c.id, Observed: lastName, Expected: want, Status: Pass}
		extra := c.set &^ ru.caps
		switch {
		case c.id == CheckCapsBounding && !ru.CheckBounding:
			r.Status, r.Expected = Info, "not checked"
			if extra != 0 {
				r.Detail = fmt.Sprintf("%d capabilities beyond the allow-list stay in the bounding set (Policy.CheckBounding judges them)", popcount(extra))
				if st.noNewPrivs == 1 {
					r.Detail += "; under no_new_privs no exec can gain them"
				}
			}
		case extra != 0:
			r.Status = Fail
			names := extra.String()
			if n := popcount(extra); n > 16 {
				names = strconv.Itoa(n) + " capabilities beyond the allow-list"
			}
			r.Detail = "not allowed: " + names +
				": drop them (--cap-drop=ALL, securityContext.capabilities.drop: [ALL]) or set Policy.Drop"
			if ru.capsFrom != "default" {
				r.Detail += " (allow-list from " + ru.capsFrom + ")"
			}
		}
		e.add(&r)
	}
	if err == nil {
		if idle := st.prm & ru.caps &^ st.effAll; idle != 0 {
			e.add(&Result{ID: CheckCapsIdle, Status: Warn, Observed: idle.String(), Expected: "none",
				Detail: "permitted but not effective on every thread: calls that need them fail " +
					"(a bind to a port below 1024 needs CAP_NET_BIND_SERVICE effective); set Policy.Raise or call guard.RaiseCaps"})
		}
	}
}

func popcount(s capSet) int {
	n := 0
	for ; s != 0; s &= s - 1 {
		n++
	}
	return n
}

func (e *evaluator) confinement() {
	ru, st := e.ru, e.st
	// no_new_privs
	r := Result{ID: CheckNoNewPrivs, Expected: "1"}
	if ru.AllowNewPrivileges {
		r.Expected = "any"
	}
	err := e.statusErr(fNoNewPrivs)
	if err == nil {
		err = st.threadsErr
	}
	if err != nil {
		e.unknown(CheckNoNewPrivs, err)
	} else {
		r.Observed, r.Status = strconv.Itoa(st.noNewPrivs), Pass
		if st.noNewPrivs != 1 && !ru.AllowNewPrivileges {
			r.Status = Fail
			r.Detail = "a setuid binary or a file capability could raise privileges on exec: set allowPrivilegeEscalation: false " +
				"(podman --security-opt no-new-privileges) or Policy.Drop"
		}
		e.add(&r)
	}
	// seccomp
	r = Result{ID: CheckSeccomp, Expected: "filter"}
	if ru.AllowUnconfined {
		r.Expected = "any"
	}
	err = e.statusErr(fSeccomp)
	if err == nil {
		err = st.threadsErr
	}
	if err != nil {
		e.unknown(CheckSeccomp, err)
	} else {
		r.Observed, r.Status = [...]string{"disabled", "strict", "filter"}[st.seccomp], Pass
		if st.seccomp == 0 && !ru.AllowUnconfined {
			r.Status = Fail
			r.Detail = "no seccomp filter: run with the runtime's default profile (seccompProfile: RuntimeDefault; " +
				"podman and docker apply theirs unless --security-opt seccomp=unconfined)"
		}
		e.add(&r)
	}
	// threads
	switch {
	case st.threadsErr != nil:
		e.unknown(CheckThreads, st.threadsErr)
	case e.statusErr(threadFields) != nil:
		e.unknown(CheckThreads, e.statusErr(threadFields))
	case st.diverge != "":
		e.add(&Result{ID: CheckThreads, Status: Fail, Observed: strconv.Itoa(st.threads), Expected: "all alike",
			Detail: st.diverge + ": something changed credentials on one thread only; guard judges by the most privileged thread"})
	default:
		e.add(&Result{ID: CheckThreads, Status: Pass, Observed: strconv.Itoa(st.threads), Expected: "all alike"})
	}
	// read-only root
	r = Result{ID: CheckRootFS, Expected: "read-only"}
	if ru.AllowWritableRoot {
		r.Expected = "any"
	}
	switch {
	case st.mountsErr != nil:
		e.unknown(CheckRootFS, st.mountsErr)
	case !st.mounts.rootFound:
		e.unknown(CheckRootFS, errors.New("/proc/self/mountinfo has no entry for /"))
	default:
		r.Observed, r.Status = "read-write", Pass
		if st.mounts.rootRO {
			r.Observed = "read-only"
		} else if !ru.AllowWritableRoot {
			r.Status = Fail
			r.Detail = "the root filesystem is writable: set readOnlyRootFilesystem: true (podman --read-only) and mount volumes where the service writes"
		}
		e.add(&r)
	}
}

func (e *evaluator) writable() {
	ru, st := e.ru, e.st
	for i, p := range ru.WritablePaths {
		id := CheckWritable + ":" + p
		err := e.statusErr(fUid)
		if err == nil {
			err = st.mountsErr
		}
		if err != nil {
			e.unknown(id, err)
			continue
		}
		euid := st.status.uid[1]
		r := Result{ID: id, Expected: "owned by uid " + strconv.Itoa(euid) + ", writable"}
		var fi syscall.Stat_t
		if err := syscall.Stat(e.h.root+p, &fi); err != nil {
			if errors.Is(err, syscall.ENOENT) {
				r.Status, r.Observed, r.Detail = Fail, "missing", "create it in the image owned by the service's user (redline build --volume) or mount a volume there"
			} else {
				r.Status, r.Observed, r.Detail = Unknown, "unknown", fmt.Sprintf("stat %s: %v", p, err)
			}
			e.add(&r)
			continue
		}
		mount := "read-write"
		if st.mounts.pathRO[i] {
			mount = "read-only"
		}
		r.Observed = fmt.Sprintf("uid=%d gid=%d mode=%04o %s", fi.Uid, fi.Gid, fi.Mode&0o7777, mount)
		r.Status = Pass
		switch {
		case int(fi.Uid) != euid:
			r.Status = Fail
			r.Detail = fmt.Sprintf("owned by uid %d, not the process's uid %d: align the volume (fsGroup alone is not ownership; "+
				"chown it to %d, or create it with redline build --volume)", fi.Uid, euid, euid)
		case fi.Mode&0o200 == 0 || fi.Mode&syscall.S_IFMT == syscall.S_IFDIR && fi.Mode&0o100 == 0:
			r.Status = Fail
			r.Detail = "the owner may not write here (mode " + fmt.Sprintf("%04o", fi.Mode&0o7777) + ")"
		case st.mounts.pathRO[i]:
			r.Status = Fail
			r.Detail = "it lies on the read-only mount " + st.mounts.pathMount[i] + ": mount a writable volume there"
		}
		e.add(&r)
	}
}

// godebugValue returns the value of name in a GODEBUG list (the last one wins).
func godebugValue(list, name string) (string, bool) {
	val, found := "", false
	for list != "" {
		var kv string
		kv, list, _ = strings.Cut(list, ",")
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k == name {
			val, found = v, true
		}
	}
	return val, found
}

// effectiveGODEBUG returns the value of name in the GODEBUG variable.
func (e *evaluator) effectiveGODEBUG(name string) (string, bool) {
	env, _ := e.h.lookupEnv("GODEBUG")
	return godebugValue(env, name)
}

// godebug judges the GODEBUG variable, which deploy-time configuration can change. The
// binary's own default (go.mod's godebug block, //go:debug lines) is fixed at build time
// and visible without running it (go version -m), so guard leaves it to static checks:
// reading it here would link runtime/debug.ReadBuildInfo, 16 KB in every service.
func (e *evaluator) godebug() {
	env, _ := e.h.lookupEnv("GODEBUG")
	r := Result{ID: CheckGODEBUG, Status: Pass, Observed: env, Expected: "no forbidden setting"}
	if env == "" {
		r.Observed = "none"
	}
	var bad []string
	for _, f := range e.ru.ForbiddenGODEBUG {
		name, want, hasValue := strings.Cut(f, "=")
		if v, ok := godebugValue(env, name); ok && (!hasValue || v == want) {
			bad = append(bad, name+"="+v)
		}
	}
	if len(bad) > 0 {
		r.Status = Fail
		r.Detail = "forbidden in production: " + strings.Join(bad, ", ") + ": remove it from GODEBUG"
	}
	e.add(&r)
}

func (e *evaluator) memory(ctx context.Context) string {
	ru, st, h := e.ru, e.st, e.h
	m := st.mem
	lim := Result{ID: CheckMemory, Status: Info}
	switch {
	case m.err != nil:
		lim.Status, lim.Observed, lim.Detail = Warn, "unknown", "the container's memory limit could not be read: "+m.err.Error()
	case m.bytes == 0 && m.version == "":
		lim.Observed, lim.Detail = "none", "the process is in no memory cgroup"
	case m.bytes == 0:
		lim.Observed, lim.Detail = "none", fmt.Sprintf("no memory limit in cgroup %s (%s read)", m.version, plural(m.levels, "level"))
	default:
		lim.Observed = strconv.FormatInt(m.bytes, 10)
		lim.Detail = fmt.Sprintf("cgroup %s %s, the tightest of %s visible", m.version, m.source, plural(m.levels, "level"))
	}
	e.add(&lim)

	cur := h.setMemoryLimit(-1)
	env, envSet := h.lookupEnv("GOMEMLIMIT")
	envSet = envSet && env != ""
	mine := !envSet && (cur == math.MaxInt64 || cur == h.memSetByGuard.Load())
	r := Result{ID: CheckGOMEMLIMIT}
	var action string
	switch {
	case m.err != nil:
		r.Status, r.Observed = Warn, memString(cur)
		r.Detail = "cannot compare GOMEMLIMIT with the container's memory limit, which is unknown"
	case m.bytes == 0:
		r.Status, r.Observed = Info, memString(cur)
		r.Detail = "no container memory limit to follow"
	case mine && !ru.KeepGOMEMLIMIT:
		v := int64(ru.ratio * float64(m.bytes))
		if v != cur {
			h.setMemoryLimit(v)
			action = fmt.Sprintf("set GOMEMLIMIT to %d (%g × the memory limit %d)", v, ru.ratio, m.bytes)
		}
		h.memSetByGuard.Store(v)
		r.Status, r.Observed, r.Expected = Pass, strconv.FormatInt(v, 10), "≤ "+lim.Observed
		r.Detail = fmt.Sprintf("set by guard: %g × %d", ru.ratio, m.bytes)
		if ru.FollowResize > 0 {
			e.follow(ctx, m.bytes)
			r.Detail += fmt.Sprintf(", followed every %v", ru.FollowResize)
		}
	case mine:
		r.Status, r.Observed = Info, memString(cur)
		r.Detail = "left unset (Policy.KeepGOMEMLIMIT)"
	default:
		r.Observed, r.Expected = memString(cur), "≤ "+lim.Observed
		from := "set by the program (debug.SetMemoryLimit)"
		if envSet {
			from = "from GOMEMLIMIT=" + env
		}
		r.Status, r.Detail = Pass, from
		if cur > m.bytes {
			r.Status = Fail
			r.Detail = from + ": above the container's memory limit, so the kernel kills the process before the GC reacts; " +
				"unset GOMEMLIMIT (guard then sets " + strconv.FormatFloat(ru.ratio, 'g', -1, 64) + " × the limit) or lower it"
		}
	}
	e.add(&r)
	return action
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func memString(v int64) string {
	if v == math.MaxInt64 {
		return "none"
	}
	return strconv.FormatInt(v, 10)
}

// follow moves GOMEMLIMIT with the cgroup memory limit until ctx is done, or until
// someone else sets GOMEMLIMIT.
func (e *evaluator) follow(ctx context.Context, last int64) {
	h, ru, cg, mt := e.h, e.ru, e.st.cgroups, e.st.mounts
	every, ratio := ru.FollowResize, ru.ratio
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		rd := newReader(h.root)
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			m := readMemoryLimit(rd, cg, &mt)
			if m.err != nil || m.bytes == last {
				continue
			}
			set := h.memSetByGuard.Load()
			if h.setMemoryLimit(-1) != set {
				return // someone else owns GOMEMLIMIT now
			}
			v := int64(math.MaxInt64)
			if m.bytes > 0 {
				v = int64(ratio * float64(m.bytes))
			}
			if h.memSetByGuard.CompareAndSwap(set, v) {
				h.setMemoryLimit(v)
			}
			last = m.bytes
		}
	}()
}

func (e *evaluator) cpu() {
	c, h := e.st.cpu, e.h
	lim := Result{ID: CheckCPU, Status: Info}
	switch {
	case c.err != nil:
		lim.Status, lim.Observed, lim.Detail = Warn, "unknown", "the container's CPU limit could not be read: "+c.err.Error()
	case c.cpus == 0:
		lim.Observed = "none"
		if c.version != "" {
			lim.Detail = fmt.Sprintf("no CPU limit in cgroup %s (%s read)", c.version, plural(c.levels, "level"))
		}
	default:
		lim.Observed = strconv.FormatFloat(c.cpus, 'g', 4, 64)
		lim.Detail = fmt.Sprintf("cgroup %s %s, the tightest of %s visible", c.version, c.source, plural(c.levels, "level"))
	}
	e.add(&lim)

	procs, ncpu := h.gomaxprocs(), h.numCPU()
	r := Result{ID: CheckGOMAXPROCS, Observed: strconv.Itoa(procs), Status: Pass}
	env, _ := h.lookupEnv("GOMAXPROCS")
	off, _ := e.effectiveGODEBUG("containermaxprocs")
	disabled := off == "0"
	// What the runtime picks by itself (runtime/cgroup_linux.go, Go ≥ 1.25): the CPUs it may
	// run on, lowered to its own cgroup's limit rounded up, but never below 2.
	auto := ncpu
	if c.leaf > 0 && !disabled {
		auto = min(ncpu, max(2, int(math.Ceil(c.leaf))))
	}
	switch {
	case env != "":
		r.Detail = "from GOMAXPROCS=" + env
	case procs == auto:
		r.Detail = "chosen by the Go runtime from the CPUs it may use and its cgroup's CPU limit; guard does not override it"
	default:
		r.Detail = "set by the program (runtime.GOMAXPROCS)"
	}
	switch {
	case c.err != nil:
		r.Status = Warn
		r.Detail += "; the CPU limit is unknown"
	case c.cpus == 0:
		r.Status = Info
	default:
		ceil := int(math.Ceil(c.cpus))
		r.Expected = "≤ " + strconv.Itoa(ceil)
		if procs <= ceil {
			break
		}
		r.Status = Warn
		switch {
		case env != "":
			r.Detail += ", above the CPU limit"
		case disabled:
			r.Detail += "; GODEBUG containermaxprocs=0 keeps the runtime from reading the CPU limit"
		case c.leaf == 0 || c.cpus < c.leaf:
			r.Detail += fmt.Sprintf("; a parent cgroup limits the CPU to %s, and the runtime reads only its own cgroup's limit", lim.Observed)
		default:
			r.Detail += "; Go rounds a CPU limit below 2 up to 2, so a limit of 1 CPU still gives 2"
		}
		r.Detail += ": the extra threads get throttled; set GOMAXPROCS=" + strconv.Itoa(ceil) + " to match the limit"
	}
	e.add(&r)
}
