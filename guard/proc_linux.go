package guard

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The /proc/self/status fields guard reads; a bit each in threadState.seen.
const (
	fUid = 1 << iota
	fGid
	fGroups
	fCapInh
	fCapPrm
	fCapEff
	fCapBnd
	fCapAmb
	fNoNewPrivs
	fSeccomp
)

var statusKeys = [...]struct {
	key  string
	flag int
}{
	{"Uid", fUid}, {"Gid", fGid}, {"Groups", fGroups}, {"CapInh", fCapInh}, {"CapPrm", fCapPrm},
	{"CapEff", fCapEff}, {"CapBnd", fCapBnd}, {"CapAmb", fCapAmb}, {"NoNewPrivs", fNoNewPrivs},
	{"Seccomp", fSeccomp},
}

func fieldName(flag int) string {
	for _, k := range statusKeys {
		if k.flag == flag {
			return k.key
		}
	}
	return "?"
}

// threadState is what one thread's status file says. Capabilities, no_new_privs and the
// seccomp mode are per thread; the ids are too, at the system-call level.
type threadState struct {
	uid, gid           [4]int // real, effective, saved, file-system
	inh, prm, eff      capSet
	bnd, amb           capSet
	noNewPrivs, secomp int
	seen, bad          int // fields found; fields found but malformed
}

// parseStatus parses a status file. groups, when not nil, receives the supplementary
// groups. Missing and malformed fields are recorded in seen and bad, never guessed.
func parseStatus(b []byte, groups *[]int) threadState {
	var t threadState
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		key, val := line[:colon], bytes.TrimSpace(line[colon+1:])
		flag := 0
		for _, k := range statusKeys {
			if string(key) == k.key {
				flag = k.flag
				break
			}
		}
		if flag == 0 {
			continue
		}
		t.seen |= flag
		ok := true
		switch flag {
		case fUid:
			ok = parseIDs(val, &t.uid)
		case fGid:
			ok = parseIDs(val, &t.gid)
		case fGroups:
			if groups != nil {
				*groups = (*groups)[:0]
				for f := val; len(f) > 0 && ok; {
					f = bytes.TrimLeft(f, " \t")
					j := 0
					for j < len(f) && f[j] >= '0' && f[j] <= '9' {
						j++
					}
					if j == 0 && len(f) > 0 || j > 10 || j < len(f) && f[j] != ' ' && f[j] != '\t' {
						ok = false
						break
					}
					if j > 0 {
						n, err := strconv.ParseUint(string(f[:j]), 10, 32)
						ok = err == nil
						*groups = append(*groups, int(n))
					}
					f = f[j:]
				}
			}
		case fCapInh, fCapPrm, fCapEff, fCapBnd, fCapAmb:
			var v uint64
			v, ok = parseHex64(val)
			switch flag {
			case fCapInh:
				t.inh = capSet(v)
			case fCapPrm:
				t.prm = capSet(v)
			case fCapEff:
				t.eff = capSet(v)
			case fCapBnd:
				t.bnd = capSet(v)
			case fCapAmb:
				t.amb = capSet(v)
			}
		case fNoNewPrivs:
			t.noNewPrivs, ok = parseSmall(val)
			ok = ok && t.noNewPrivs <= 1
		case fSeccomp:
			t.secomp, ok = parseSmall(val)
			ok = ok && t.secomp <= 2
		}
		if !ok {
			t.bad |= flag
		}
	}
	return t
}

// fieldErr says why fields of a status file cannot be used, or nil.
func (t *threadState) fieldErr(flags int, file string) error {
	for _, k := range statusKeys {
		switch {
		case flags&k.flag == 0:
		case t.seen&k.flag == 0:
			return fmt.Errorf("%s has no %s field", file, k.key)
		case t.bad&k.flag != 0:
			return fmt.Errorf("%s has a malformed %s field", file, k.key)
		}
	}
	return nil
}

func parseIDs(b []byte, out *[4]int) bool {
	for i := range out {
		b = bytes.TrimLeft(b, " \t")
		j := 0
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == 0 || j > 10 {
			return false
		}
		n, err := strconv.ParseUint(string(b[:j]), 10, 32)
		if err != nil {
			return false
		}
		out[i] = int(n)
		b = b[j:]
	}
	return len(bytes.TrimSpace(b)) == 0
}

func parseHex64(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint64(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

func parseSmall(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 4 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// mounts is what guard needs from /proc/self/mountinfo.
type mounts struct {
	rootFound, rootRO bool
	memV1, cpuV1, v2  cgroupMount
	// per writable path: the longest mount point that holds it, and whether it is read-only
	pathMount []string
	pathRO    []bool
}

type cgroupMount struct {
	found       bool
	root, point string // the cgroup the mount shows, and where it is mounted
}

// parseMountinfo reads the mount table (proc(5)): "ID PARENT MAJ:MIN ROOT POINT OPTIONS
// [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS". Later mounts on the same point hide
// earlier ones, so the last entry for "/" wins.
func parseMountinfo(b []byte, paths []string) (mounts, error) {
	m := mounts{pathMount: make([]string, len(paths)), pathRO: make([]bool, len(paths))}
	bestLen := make([]int, len(paths))
	for i := range bestLen {
		bestLen[i] = -1
	}
	lines := 0
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var f [32][]byte
		n := 0
		for rest := line; n < len(f); {
			i := bytes.IndexByte(rest, ' ')
			if i < 0 {
				f[n] = rest
				n++
				break
			}
			f[n], rest = rest[:i], rest[i+1:]
			n++
		}
		sep := -1
		for i := 6; i < n; i++ {
			if string(f[i]) == "-" {
				sep = i
				break
			}
		}
		if n < 6 || sep < 0 || sep+3 > n {
			return m, fmt.Errorf("mountinfo line %d is malformed: %.80q", lines+1, line)
		}
		lines++
		root, point, opts := f[3], f[4], f[5]
		fstype, super := f[sep+1], f[sep+3]
		ro := hasOption(opts, "ro")
		if string(point) == "/" {
			m.rootFound, m.rootRO = true, ro
		}
		switch string(fstype) {
		case "cgroup":
			if hasOption(super, "memory") {
				m.memV1 = cgroupMount{true, unescapeMount(root), unescapeMount(point)}
			}
			if hasOption(super, "cpu") {
				m.cpuV1 = cgroupMount{true, unescapeMount(root), unescapeMount(point)}
			}
		case "cgroup2":
			if !m.v2.found {
				m.v2 = cgroupMount{true, unescapeMount(root), unescapeMount(point)}
			}
		}
		if len(paths) > 0 {
			pt := unescapeMount(point)
			for i, p := range paths {
				if len(pt) >= bestLen[i] && pathUnder(p, pt) {
					bestLen[i], m.pathMount[i], m.pathRO[i] = len(pt), pt, ro
				}
			}
		}
	}
	if lines == 0 {
		return m, errors.New("mountinfo is empty")
	}
	return m, nil
}

func hasOption(opts []byte, want string) bool {
	for len(opts) > 0 {
		o := opts
		if i := bytes.IndexByte(opts, ','); i >= 0 {
			o, opts = opts[:i], opts[i+1:]
		} else {
			opts = nil
		}
		if string(o) == want {
			return true
		}
	}
	return false
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo paths.
func unescapeMount(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+3 < len(b) {
			if n, err := strconv.ParseUint(string(b[i+1:i+4]), 8, 8); err == nil {
				out = append(out, byte(n))
				i += 3
				continue
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}

// pathUnder reports whether p is dir or below it.
func pathUnder(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir) && p[len(dir)] == '/'
}

// cgroups is what /proc/self/cgroup says: the process's cgroup in the v1 memory and cpu
// hierarchies and in the v2 hierarchy ("0::PATH"). Hybrid systems list both.
type cgroups struct {
	memV1, cpuV1, v2 string
	hasMemV1         bool
	hasCPUV1         bool
	hasV2            bool
}

func parseCgroups(b []byte) (cgroups, error) {
	var c cgroups
	lines := 0
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(line) == 0 {
			continue
		}
		id, rest, ok1 := bytes.Cut(line, []byte{':'})
		ctrl, p, ok2 := bytes.Cut(rest, []byte{':'})
		if !ok1 || !ok2 || len(id) == 0 || len(p) == 0 || p[0] != '/' {
			return c, fmt.Errorf("/proc/self/cgroup line %d is malformed: %.80q", lines+1, line)
		}
		lines++
		switch {
		case string(id) == "0" && len(ctrl) == 0:
			c.v2, c.hasV2 = string(p), true
		default:
			if hasOption(ctrl, "memory") {
				c.memV1, c.hasMemV1 = string(p), true
			}
			if hasOption(ctrl, "cpu") {
				c.cpuV1, c.hasCPUV1 = string(p), true
			}
		}
	}
	if lines == 0 {
		return c, errors.New("/proc/self/cgroup is empty")
	}
	return c, nil
}

// cgroupDir is the directory of cgroup path p in a hierarchy mounted at mnt.
func cgroupDir(p string, mnt cgroupMount) (string, error) {
	if strings.Contains(p, "/..") {
		return "", fmt.Errorf("cgroup %s lies outside this cgroup namespace", p)
	}
	rel := p
	switch {
	case mnt.root == "/":
	case p == mnt.root:
		rel = "/"
	case strings.HasPrefix(p, mnt.root+"/"):
		rel = p[len(mnt.root):]
	default:
		return "", fmt.Errorf("cgroup %s is not below the mounted cgroup %s", p, mnt.root)
	}
	if rel == "/" {
		return mnt.point, nil
	}
	if mnt.point == "/" {
		return rel, nil
	}
	return mnt.point + rel, nil
}
