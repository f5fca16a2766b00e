package guard

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// memLimit is the tightest memory limit of the process's cgroup and the parents visible
// below the cgroup mount.
type memLimit struct {
	err     error  // the limit is unknown, and why
	bytes   int64  // 0: no limit
	source  string // the file holding the tightest limit
	version string // "v1" or "v2"
	levels  int    // cgroup levels read
}

// cpuLimit is the tightest CPU bandwidth limit, in CPUs, and the process's own, which is
// the one the Go runtime reads.
type cpuLimit struct {
	err     error
	cpus    float64 // tightest; 0: no limit
	leaf    float64 // the process's own cgroup; 0: no limit
	source  string
	version string
	levels  int
}

// unlimitedV1 is where guard stops believing a v1 byte limit: the kernel shows "no
// limit" as the largest page-aligned int64 (9223372036854771712 with 4 KiB pages).
const unlimitedV1 = 1 << 62

var errOutOfRange = errors.New("value out of range")

// parseLimit parses one cgroup number: decimal, or "max" (v2) for no limit.
func parseLimit(b []byte) (v int64, max bool, err error) {
	b = bytes.TrimSpace(b)
	if string(b) == "max" {
		return 0, true, nil
	}
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 {
		return 0, false, errors.New("empty value")
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false, errors.New("not a number")
		}
		if v > (1<<63-1-9)/10 {
			return 0, false, errOutOfRange
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, false, nil
}

func badValue(file string, b []byte, err error) error {
	return fmt.Errorf("%s: %q: %w", file, bytes.TrimSpace(b), err)
}

// levels calls fn for dir and each parent up to and including top.
func levels(dir, top string, fn func(d string) error) error {
	for d := dir; ; {
		if err := fn(d); err != nil {
			return err
		}
		if d == top || d == "/" || d == "" {
			return nil
		}
		i := strings.LastIndexByte(d, '/')
		if i <= 0 {
			d = "/"
		} else {
			d = d[:i]
		}
		if len(d) < len(top) {
			return nil
		}
	}
}

// locate finds the directory of the process's cgroup for a controller: in its v1
// hierarchy when /proc/self/cgroup lists one (hybrid systems keep the limits there), else
// in the v2 hierarchy. version is "" when the process is in no such cgroup.
func locate(v1 bool, v1Path string, v1Mnt cgroupMount, cg cgroups, mt *mounts, what string) (version, dir, top string, err error) {
	mnt, p := v1Mnt, v1Path
	switch {
	case v1:
		version = "v1"
	case cg.hasV2:
		version, mnt, p = "v2", mt.v2, cg.v2
	default:
		return "", "", "", nil
	}
	if !mnt.found {
		return version, "", "", fmt.Errorf("the cgroup %s %s hierarchy is not mounted", version, what)
	}
	dir, err = cgroupDir(p, mnt)
	return version, dir, mnt.point, err
}

func readMemoryLimit(rd *reader, cg cgroups, mt *mounts) memLimit {
	var m memLimit
	var dir, top string
	m.version, dir, top, m.err = locate(cg.hasMemV1, cg.memV1, mt.memV1, cg, mt, "memory")
	if m.version == "" || m.err != nil {
		return m // in no memory cgroup (no limit), or unknown
	}
	files := []string{"/memory.limit_in_bytes"}
	if m.version == "v2" {
		files = []string{"/memory.max", "/memory.high"}
	}
	m.err = levels(dir, top, func(d string) error {
		m.levels++
		for _, f := range files {
			b, err := rd.read(d, f)
			if m.version == "v2" && errors.Is(err, syscall.ENOENT) {
				continue // the memory controller is not enabled at this level
			}
			if err != nil {
				return err
			}
			v, max, err := parseLimit(b)
			switch {
			case max && m.version == "v1": // "max" is cgroup v2's word
				err = errors.New("not a number")
				fallthrough
			case err != nil:
				return badValue(d+f, b, err)
			case max || m.version == "v1" && v >= unlimitedV1:
				continue
			case v <= 0:
				return badValue(d+f, b, errors.New("not a positive limit"))
			}
			if m.bytes == 0 || v < m.bytes {
				m.bytes, m.source = v, d+f
			}
		}
		return nil
	})
	if m.err != nil {
		m.bytes, m.source = 0, ""
	}
	return m
}

func readCPULimit(rd *reader, cg cgroups, mt *mounts) cpuLimit {
	var c cpuLimit
	var dir, top string
	c.version, dir, top, c.err = locate(cg.hasCPUV1, cg.cpuV1, mt.cpuV1, cg, mt, "cpu")
	if c.version == "" || c.err != nil {
		return c
	}
	c.err = levels(dir, top, func(d string) error {
		c.levels++
		var quota, period int64
		var src string
		if c.version == "v1" {
			b, err := rd.read(d, "/cpu.cfs_quota_us")
			if err != nil {
				return err
			}
			var max bool
			if quota, max, err = parseLimit(b); err != nil || max {
				if max { // "max" is cgroup v2's word
					err = errors.New("not a number")
				}
				return badValue(d+"/cpu.cfs_quota_us", b, err)
			}
			if quota < 0 {
				return nil // -1: no limit at this level
			}
			if b, err = rd.read(d, "/cpu.cfs_period_us"); err != nil {
				return err
			}
			if period, max, err = parseLimit(b); err != nil || max {
				if max {
					err = errors.New("not a number")
				}
				return badValue(d+"/cpu.cfs_period_us", b, err)
			}
			src = "/cpu.cfs_quota_us"
		} else {
			b, err := rd.read(d, "/cpu.max")
			if errors.Is(err, syscall.ENOENT) {
				return nil
			}
			if err != nil {
				return err
			}
			q, per, ok := bytes.Cut(bytes.TrimSpace(b), []byte{' '})
			var max bool
			quota, max, err = parseLimit(q)
			if err == nil && ok {
				period, _, err = parseLimit(per)
			}
			if err != nil || !ok {
				return badValue(d+"/cpu.max", b, errors.New(`want "QUOTA PERIOD" or "max PERIOD"`))
			}
			if max {
				return nil
			}
			src = "/cpu.max"
		}
		if quota <= 0 || period <= 0 {
			return fmt.Errorf("%s%s: quota %d, period %d: not positive", d, src, quota, period)
		}
		cpus := float64(quota) / float64(period)
		if d == dir {
			c.leaf = cpus
		}
		if c.cpus == 0 || cpus < c.cpus {
			c.cpus, c.source = cpus, d+src
		}
		return nil
	})
	if c.err != nil {
		c.cpus, c.leaf, c.source = 0, 0, ""
	}
	return c
}
