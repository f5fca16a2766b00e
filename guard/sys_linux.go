package guard

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// reader reads small kernel files below root ("" on the live system; a fixture directory
// in tests) into one reused buffer, with raw syscalls: Check reads a dozen files and
// stays within a few dozen allocations.
type reader struct {
	root string
	path []byte // NUL-terminated path scratch
	buf  []byte // file contents; valid until the next read
	dir  []byte // getdents scratch
}

// maxFileSize bounds what one read accepts: mountinfo on a host with thousands of mounts
// is a few hundred KiB.
const maxFileSize = 16 << 20

var errTooLarge = errors.New("file larger than 16 MiB")

func newReader(root string) *reader {
	return &reader{root: root, path: make([]byte, 0, 256), buf: make([]byte, 16<<10), dir: make([]byte, 4096)}
}

// readers keeps the buffers between Checks.
var readers sync.Pool

func getReader(root string) *reader {
	if rd, ok := readers.Get().(*reader); ok {
		rd.root = root
		return rd
	}
	return newReader(root)
}

func putReader(rd *reader) {
	if cap(rd.buf) <= 1<<20 { // keep the pool small after a huge mountinfo
		readers.Put(rd)
	}
}

func (rd *reader) setPath(parts ...string) {
	rd.path = append(rd.path[:0], rd.root...)
	for _, p := range parts {
		rd.path = append(rd.path, p...)
	}
	rd.path = append(rd.path, 0)
}

func (rd *reader) open(flags int) (int, error) {
	dirfd := atFDCWD
	fd, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&rd.path[0])),
		uintptr(flags|syscall.O_RDONLY|syscall.O_CLOEXEC), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

const atFDCWD = -0x64

// read returns the contents of dir+file. The slice is valid until the next call. Errors
// are *os.PathError naming the path without the root.
func (rd *reader) read(dir, file string) ([]byte, error) {
	rd.setPath(dir, file)
	b, err := rd.readPath()
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: dir + file, Err: err}
	}
	return b, nil
}

// readTaskStatus reads /proc/self/task/<tid>/status.
func (rd *reader) readTaskStatus(tid []byte) ([]byte, error) {
	rd.path = append(rd.path[:0], rd.root...)
	rd.path = append(rd.path, "/proc/self/task/"...)
	rd.path = append(rd.path, tid...)
	rd.path = append(rd.path, "/status\x00"...)
	return rd.readPath()
}

// readPath reads the file named by rd.path.
func (rd *reader) readPath() ([]byte, error) {
	fd, err := rd.open(0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	n := 0
	for {
		if n == len(rd.buf) {
			if len(rd.buf) >= maxFileSize {
				return nil, errTooLarge
			}
			rd.buf = append(rd.buf, make([]byte, len(rd.buf))...)
		}
		m, err := syscall.Read(fd, rd.buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return rd.buf[:n], nil
		}
		n += m
	}
}

// tasks calls fn with the name of every entry of /proc/self/task (the thread ids).
func (rd *reader) tasks(fn func(tid []byte) error) error {
	rd.setPath("/proc/self/task")
	fd, err := rd.open(syscall.O_DIRECTORY)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/proc/self/task", Err: err}
	}
	defer syscall.Close(fd)
	// fn may use rd.path and rd.buf; the names live in rd.dir.
	for {
		n, err := syscall.ReadDirent(fd, rd.dir)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "getdents", Path: "/proc/self/task", Err: err}
		}
		if n <= 0 {
			return nil
		}
		for b := rd.dir[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return &os.PathError{Op: "getdents", Path: "/proc/self/task", Err: errors.New("malformed directory entry")}
			}
			name := b[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			b = b[reclen:]
			if len(name) == 0 || name[0] == '.' {
				continue
			}
			if err := fn(name); err != nil {
				return err
			}
		}
	}
}

// Capabilities through the raw system calls (capget(2), capset(2), prctl(2)); the
// constants are from include/uapi/linux/capability.h and prctl.h.
const (
	capVersion3       = 0x20080522
	prCapbsetRead     = 23
	prCapbsetDrop     = 24
	prSetNoNewPrivs   = 38
	prGetNoNewPrivs   = 39
	prCapAmbient      = 47
	prCapAmbientLower = 3
)

type capHeader struct {
	version uint32
	pid     int32
}

type capData struct {
	effective, permitted, inheritable uint32
}

// capget returns the calling thread's effective, permitted and inheritable sets.
func capget() (eff, prm, inh capSet, err error) {
	hdr := capHeader{version: capVersion3}
	var d [2]capData
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&d[0])), 0); e != 0 {
		return 0, 0, 0, e
	}
	join := func(lo, hi uint32) capSet { return capSet(lo) | capSet(hi)<<32 }
	return join(d[0].effective, d[1].effective), join(d[0].permitted, d[1].permitted), join(d[0].inheritable, d[1].inheritable), nil
}

// capsetAllThreads sets the three sets on every thread of the process.
func capsetAllThreads(eff, prm, inh capSet) error {
	hdr := capHeader{version: capVersion3}
	d := [2]capData{
		{effective: uint32(eff), permitted: uint32(prm), inheritable: uint32(inh)},
		{effective: uint32(eff >> 32), permitted: uint32(prm >> 32), inheritable: uint32(inh >> 32)},
	}
	_, _, e := syscall.AllThreadsSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&d[0])), 0)
	if e != 0 {
		return e
	}
	return nil
}

func prctlAllThreads(option, arg2, arg3 uintptr) error {
	_, _, e := syscall.AllThreadsSyscall6(syscall.SYS_PRCTL, option, arg2, arg3, 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
