// Package caps models Linux capabilities for build and lint: names,
// the security.capability extended attribute of a file, the sets container
// runtimes grant, and what the kernel does at exec — so lint can predict
// whether a service that wants a capability will get it, run without it,
// or fail to start.
//
// # The kernel's rule at exec
//
// For a process exec'ing a file that carries capabilities
// (security/commoncap.c):
//
//   - the new permitted set is (bounding ∩ file permitted) ∪
//     (inheritable ∩ file inheritable), and the ambient set is cleared;
//   - if the file's effective bit is set and a capability the file permits
//     is missing from that set, execve fails with EPERM — before
//     no_new_privs is looked at;
//   - under no_new_privs (Kubernetes allowPrivilegeEscalation: false,
//     --security-opt no-new-privileges) capabilities the process did not
//     already hold are taken away again: the file capability has no effect.
//
// A file without capabilities keeps the ambient set. Kubernetes and Docker
// give a non-root process no ambient capabilities; podman gives it the
// ones added with --cap-add. Root holds the whole bounding set.
package caps

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

var names = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER",
	"FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
	"LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
	"NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE",
	"SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
	"CHECKPOINT_RESTORE",
}

// Cap is a capability by number (linux/capability.h).
type Cap int

// Capabilities lint reasons about by name.
const (
	NetBindService Cap = 10
	NetRaw         Cap = 13
	SysAdmin       Cap = 21
)

// String returns the short name Kubernetes uses: "NET_BIND_SERVICE".
func (c Cap) String() string {
	if c >= 0 && int(c) < len(names) {
		return names[c]
	}
	return fmt.Sprintf("%d", int(c))
}

// Parse accepts a name with or without CAP_, in any case.
func Parse(s string) (Cap, error) {
	n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "CAP_")
	if i := slices.Index(names, n); i >= 0 {
		return Cap(i), nil
	}
	return 0, fmt.Errorf("unknown capability %q (names are those of capabilities(7), e.g. NET_BIND_SERVICE)", s)
}

// Set is a set of capabilities.
type Set uint64

// All holds every capability this package knows.
const All Set = 1<<41 - 1

// Of returns the set of cs.
func Of(cs ...Cap) Set {
	var s Set
	for _, c := range cs {
		s |= 1 << uint(c)
	}
	return s
}

// Has reports whether c is in s.
func (s Set) Has(c Cap) bool { return s&(1<<uint(c)) != 0 }

// SubsetOf reports whether every capability of s is in t.
func (s Set) SubsetOf(t Set) bool { return s&^t == 0 }

// Len counts the capabilities.
func (s Set) Len() int { return bits.OnesCount64(uint64(s)) }

// Caps lists the capabilities in number order.
func (s Set) Caps() []Cap {
	var out []Cap
	for i := 0; i < 64; i++ {
		if s&(1<<uint(i)) != 0 {
			out = append(out, Cap(i))
		}
	}
	return out
}

// String joins the short names with commas; "none" for the empty set.
func (s Set) String() string {
	if s == 0 {
		return "none"
	}
	cs := s.Caps()
	ns := make([]string, len(cs))
	for i, c := range cs {
		ns[i] = c.String()
	}
	return strings.Join(ns, ",")
}

// ParseList parses comma-separated names; "", "none" give the empty set.
func ParseList(s string) (Set, error) {
	var set Set
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return 0, nil
	}
	for _, n := range strings.Split(s, ",") {
		if strings.TrimSpace(n) == "" {
			continue
		}
		c, err := Parse(n)
		if err != nil {
			return 0, err
		}
		set |= Of(c)
	}
	return set, nil
}

// File is the security.capability attribute of a file.
type File struct {
	// Revision is 1, 2 or 3 (VFS_CAP_REVISION_N).
	Revision int
	// Effective is the effective flag: the capabilities are raised at exec
	// (what `setcap CAP=+ep` writes). A binary that is not capability-aware
	// needs it.
	Effective              bool
	Permitted, Inheritable Set
	// RootID is the namespace root of a revision 3 attribute.
	RootID uint32
}

// Xattr is the extended attribute holding file capabilities; PAXRecord
// the name of the PAX record carrying it in a layer tar.
const (
	Xattr     = "security.capability"
	PAXRecord = "SCHILY.xattr." + Xattr
)

// Layout of struct vfs_cap_data (linux/capability.h).
const (
	revisionMask  = 0xFF000000
	flagEffective = 0x000001
	revision1     = 0x01000000
	revision2     = 0x02000000
	revision3     = 0x03000000
)

// ErrXattr reports an attribute the kernel would not accept.
var ErrXattr = errors.New("caps: malformed security.capability")

// ParseXattr decodes a security.capability value: revision 1 (12 bytes,
// capabilities 0-31), 2 (20 bytes) or 3 (24 bytes, with a root ID), a
// little-endian magic word holding the revision and the effective flag,
// then permitted and inheritable words.
func ParseXattr(b []byte) (File, error) {
	if len(b) < 4 {
		return File{}, fmt.Errorf("%w: %d bytes", ErrXattr, len(b))
	}
	magic := binary.LittleEndian.Uint32(b)
	f := File{Effective: magic&flagEffective != 0}
	if magic&^(revisionMask|flagEffective) != 0 {
		return File{}, fmt.Errorf("%w: unknown flags in magic %#08x", ErrXattr, magic)
	}
	word := func(i int) Set { return Set(binary.LittleEndian.Uint32(b[4+4*i:])) }
	switch magic & revisionMask {
	case revision1:
		if len(b) != 12 {
			return File{}, fmt.Errorf("%w: revision 1 is 12 bytes, got %d", ErrXattr, len(b))
		}
		f.Revision, f.Permitted, f.Inheritable = 1, word(0), word(1)
	case revision2, revision3:
		f.Revision = 2
		want := 20
		if magic&revisionMask == revision3 {
			f.Revision, want = 3, 24
		}
		if len(b) != want {
			return File{}, fmt.Errorf("%w: revision %d is %d bytes, got %d", ErrXattr, f.Revision, want, len(b))
		}
		f.Permitted = word(0) | word(2)<<32
		f.Inheritable = word(1) | word(3)<<32
		if f.Revision == 3 {
			f.RootID = binary.LittleEndian.Uint32(b[20:])
		}
	default:
		return File{}, fmt.Errorf("%w: unknown revision in magic %#08x", ErrXattr, magic)
	}
	return f, nil
}

// Bytes encodes f as revision 2 (revision 3 when RootID is set), as
// `setcap` writes it.
func (f File) Bytes() []byte {
	n, rev := 20, uint32(revision2)
	if f.RootID != 0 || f.Revision == 3 {
		n, rev = 24, revision3
	}
	b := make([]byte, n)
	magic := rev
	if f.Effective {
		magic |= flagEffective
	}
	binary.LittleEndian.PutUint32(b[0:], magic)
	binary.LittleEndian.PutUint32(b[4:], uint32(f.Permitted))
	binary.LittleEndian.PutUint32(b[8:], uint32(f.Inheritable))
	binary.LittleEndian.PutUint32(b[12:], uint32(f.Permitted>>32))
	binary.LittleEndian.PutUint32(b[16:], uint32(f.Inheritable>>32))
	if n == 24 {
		binary.LittleEndian.PutUint32(b[20:], f.RootID)
	}
	return b
}

// String renders the attribute as getcap does: "cap_net_bind_service=ep".
func (f File) String() string {
	flags := "p"
	if f.Effective {
		flags = "ep"
	}
	s := strings.ToLower(strings.ReplaceAll("CAP_"+strings.ReplaceAll(f.Permitted.String(), ",", ",CAP_"), "CAP_", "cap_"))
	if f.Permitted == 0 {
		s = "(none)"
	}
	out := s + "=" + flags
	if f.Inheritable != 0 {
		out += " inheritable " + strings.ToLower(f.Inheritable.String())
	}
	return out
}
