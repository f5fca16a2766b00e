package godebug

import (
	"fmt"
	"strings"
)

// Finding is a security setting weaker than the default of the toolchain
// that built (or builds) the program.
type Finding struct {
	Value
	// Acknowledged is true when a godebug line or //go:debug directive sets
	// the value on purpose: a waiver, not a failure.
	Acknowledged bool `json:"acknowledged"`
	// Fix says, for a person, which line to change.
	Fix string `json:"fix"`
}

// Findings lists the security settings whose value is weaker than the
// toolchain's default, sorted by name. Values the toolchain ignores (it
// removed the setting, or does not have it) are not findings.
func (r Report) Findings() []Finding {
	var out []Finding
	for _, v := range r.Settings {
		if v.Class != ClassSecurity || v.Ignored != "" || !v.Weakens(v.Value) {
			continue
		}
		out = append(out, Finding{Value: v, Acknowledged: v.Origin.acknowledged(), Fix: r.fix(v)})
	}
	return out
}

func (r Report) fix(v Value) string {
	keep := fmt.Sprintf("`godebug %s=%s`", v.Name, v.Value)
	removal := ""
	if v.Removed != "" {
		removal = fmt.Sprintf("; Go %s removed the setting, so building with Go %s or later also ends it", v.Removed, v.Removed)
	}
	switch v.Origin {
	case OriginGoLine:
		if r.GoLineWhere != "" {
			file := "go.mod"
			if strings.HasPrefix(r.GoLineWhere, "go.work") {
				file = "go.work"
			}
			return fmt.Sprintf("%s: raise `%s` to go %s or later (Go %s changed the default to %s=%s), or add %s to %s to keep it on purpose%s",
				r.GoLineWhere, r.GoLineText, v.Changed, v.Changed, v.Name, v.Default, keep, file, removal)
		}
		return fmt.Sprintf("raise the go line in the main module's go.mod (%s, as DefaultGODEBUG shows) to go %s or later and rebuild (Go %s changed the default to %s=%s), or add %s to go.mod to keep it on purpose%s",
			r.describeGoLine(), v.Changed, v.Changed, v.Name, v.Default, keep, removal)
	case OriginGodebug, OriginDirective:
		return fmt.Sprintf("acknowledged: %s sets %s=%s on purpose; delete that line to get the default %s=%s", v.Where, v.Name, v.Value, v.Name, v.Default)
	case OriginPinned:
		return fmt.Sprintf("acknowledged: pinned at build time (a godebug line in go.mod or go.work, or a //go:debug directive); delete the pin to get the default %s=%s", v.Name, v.Default)
	case OriginEnv:
		ignore := ""
		if v.Removed != "" {
			ignore = fmt.Sprintf(" (binaries of Go %s and later ignore it)", v.Removed)
		}
		return fmt.Sprintf("remove %s=%s from the GODEBUG environment variable (image config, Dockerfile ENV or container env)%s", v.Name, v.Value, ignore)
	}
	return fmt.Sprintf("set %s=%s", v.Name, v.Default)
}

// describeGoLine says which go lines a binary's DefaultGODEBUG fits.
func (r Report) describeGoLine() string {
	switch {
	case r.GoLine == "":
		return "go line unknown"
	case r.GoLineMin == "":
		return "go " + r.GoLine + " or older"
	case r.GoLineMin == r.GoLine:
		return "go " + r.GoLine
	}
	return "go " + r.GoLineMin + " to " + r.GoLine
}
