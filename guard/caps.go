package guard

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// capNames are the Linux capability names by number (include/uapi/linux/capability.h,
// Linux 6.x). Bits above the table print as CAP_<n>.
var capNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// capSet is a capability set as the kernel stores it: bit n is capability n.
type capSet uint64

const (
	capNetBindService = 10
	capSetPCap        = 8
)

func (s capSet) has(c int) bool { return s&(1<<c) != 0 }

// String lists the names, comma-separated, lowest number first; "none" for the empty set.
// A set with one member costs no allocation.
func (s capSet) String() string {
	if s == 0 {
		return "none"
	}
	if bits.OnesCount64(uint64(s)) == 1 {
		return capName(bits.TrailingZeros64(uint64(s)))
	}
	n := 0
	for c := 0; c < 64; c++ {
		if s.has(c) {
			n += len(capName(c)) + 1
		}
	}
	var b strings.Builder
	b.Grow(n)
	for c := 0; c < 64; c++ {
		if !s.has(c) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(capName(c))
	}
	return b.String()
}

func capName(c int) string {
	if c < len(capNames) {
		return capNames[c]
	}
	return "CAP_" + strconv.Itoa(c)
}

// parseCapName accepts "CAP_NET_BIND_SERVICE", "NET_BIND_SERVICE", "net_bind_service" and
// "CAP_41" (a number the table does not name yet).
func parseCapName(name string) (int, error) {
	n := strings.TrimSpace(name)
	if len(n) >= 4 && upperEqual(n[:4], "CAP_") {
		n = n[4:]
	}
	for i, c := range capNames {
		if upperEqual(n, c[4:]) {
			return i, nil
		}
	}
	if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < 64 {
		return i, nil
	}
	return 0, fmt.Errorf("unknown capability %q (names as in capabilities(7), e.g. NET_BIND_SERVICE)", name)
}

// upperEqual reports whether s equals the upper-case ASCII string upper, ignoring the
// case of s (strings.EqualFold handles Unicode, and costs more code).
func upperEqual(s, upper string) bool {
	if len(s) != len(upper) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

// parseCapList parses names separated by commas or spaces; "" and "none" are the empty set.
func parseCapList(list string) (capSet, error) {
	var s capSet
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if upperEqual(f, "NONE") {
			continue
		}
		c, err := parseCapName(f)
		if err != nil {
			return 0, err
		}
		s |= 1 << c
	}
	return s, nil
}

func parseCaps(names []string) (capSet, error) {
	var s capSet
	for _, n := range names {
		c, err := parseCapName(n)
		if err != nil {
			return 0, err
		}
		s |= 1 << c
	}
	return s, nil
}
