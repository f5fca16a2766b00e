package godebug

import (
	"fmt"
	"strconv"
	"strings"
)

// version is a Go 1.x release or language version: go1.26.8, go1.21rc2,
// 1.16. Go 2 does not exist; anything else is not a version.
type version struct {
	minor int
	// patch is -1 for a prerelease (rc, beta) and for a bare language
	// version written without one (1.16) — both come before x.y.0.
	patch int
}

// parseVersion reads "go1.26.8", "1.26.8", "go1.21rc2", "1.16" and a
// toolchain string with a suffix ("go1.26.8 X:boringcrypto"). A devel
// toolchain is not a version.
func parseVersion(s string) (version, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimPrefix(s, "go")
	rest, ok := strings.CutPrefix(s, "1.")
	if !ok {
		return version{}, false
	}
	minorStr, patchStr, hasPatch := strings.Cut(rest, ".")
	pre := ""
	if !hasPatch {
		// 1.21rc2, 1.21beta1, 1.21
		i := strings.IndexFunc(minorStr, func(r rune) bool { return r < '0' || r > '9' })
		if i >= 0 {
			minorStr, pre = minorStr[:i], minorStr[i:]
			num, ok := strings.CutPrefix(pre, "rc")
			if !ok {
				num, ok = strings.CutPrefix(pre, "beta")
			}
			if n, err := strconv.Atoi(num); !ok || err != nil || n < 1 {
				return version{}, false
			}
		}
	}
	minor, err := strconv.Atoi(minorStr)
	if err != nil || minor < 0 || minorStr == "" || minorStr[0] == '+' {
		return version{}, false
	}
	v := version{minor: minor, patch: -1}
	switch {
	case hasPatch:
		p, err := strconv.Atoi(patchStr)
		if err != nil || p < 0 || patchStr[0] == '+' {
			return version{}, false
		}
		v.patch = p
	case pre == "" && minor < 21:
		// go1.20 named the release 1.20.0 before Go 1.21 renamed releases.
		v.patch = 0
	}
	return v, true
}

// less orders versions.
func (v version) less(w version) bool {
	if v.minor != w.minor {
		return v.minor < w.minor
	}
	return v.patch < w.patch
}

// lang is the language version: "1.22".
func (v version) lang() string { return release(v.minor) }

func (v version) String() string {
	if v.patch < 0 {
		return "go" + v.lang()
	}
	return fmt.Sprintf("go1.%d.%d", v.minor, v.patch)
}

// knownTo reports whether toolchain t has the setting in its table.
func (in *goInfo) knownTo(t version) bool {
	if in.Removed != 0 && t.minor >= in.Removed {
		return false
	}
	if in.Changed != 0 && t.minor < in.Changed {
		return false
	}
	if in.AddedAfter != "" {
		a, ok := parseVersion(in.AddedAfter)
		if ok && !a.less(t) {
			return false
		}
	}
	return true
}

// removedBy reports whether toolchain t no longer has the setting.
func (in *goInfo) removedBy(t version) bool {
	return in.Removed != 0 && t.minor >= in.Removed
}

// toolchainDefault is the value toolchain t uses when nothing sets it.
func (in *goInfo) toolchainDefault(t version) string {
	if in.Changed != 0 && t.minor < in.Changed {
		return in.Old
	}
	return classes[in.Name].def
}

// godebugFor is what cmd/go puts into DefaultGODEBUG for go line n when
// toolchain t builds: every setting t knows whose default changed after n,
// at its old value.
func godebugFor(t version, n int) map[string]string {
	m := map[string]string{}
	for i := range goTable {
		in := &goTable[i]
		if in.Changed > n && in.knownTo(t) {
			m[in.Name] = in.Old
		}
	}
	return m
}
