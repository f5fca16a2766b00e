package godebug

import (
	"fmt"
	"sort"
	"strings"
)

// State is what decides the GODEBUG values a program runs with.
type State struct {
	// Toolchain is the Go that builds the program ("go1.26.8").
	Toolchain string `json:"toolchain"`
	// GoLine is the main module's go line, or its godebug default= version
	// ("1.16"); empty means the toolchain's own release.
	GoLine string `json:"goLine,omitempty"`
	// Pins are the godebug lines and //go:debug directives.
	Pins map[string]string `json:"pins,omitempty"`
	// Env is the GODEBUG environment the program runs with.
	Env map[string]string `json:"env,omitempty"`
}

// State returns what decides the report's values: its toolchain, go line,
// pins and GODEBUG environment.
func (r Report) State() State {
	st := State{Toolchain: r.toolchain().String(), GoLine: r.GoLine}
	if len(r.Pins) > 0 {
		st.Pins = map[string]string{}
		for k, v := range r.Pins {
			st.Pins[k] = v
		}
	}
	for _, v := range r.Settings {
		if v.Origin == OriginEnv {
			if st.Env == nil {
				st.Env = map[string]string{}
			}
			st.Env[v.Name] = v.Value
		}
	}
	return st
}

// Link says whether a program links the packages a setting affects.
type Link string

// Links.
const (
	// LinkUnknown: no package list was given.
	LinkUnknown Link = "unknown"
	// Linked: the program links one of the setting's packages (every
	// program links runtime).
	Linked Link = "linked"
	// NotLinked: the program links none of them; the flip cannot touch it.
	NotLinked Link = "not-linked"
	// LinkToolchain: the setting changes only the go command.
	LinkToolchain Link = "toolchain"
)

// Change is one setting whose effective value flips in an upgrade.
type Change struct {
	Setting
	// From and To are the values before and after; an empty one means the
	// toolchain on that side does not have the setting.
	From string `json:"from"`
	To   string `json:"to"`
	// Why says what makes it flip.
	Why string `json:"why"`
	// BreaksBuild is true when a pin asks for an old value the new
	// toolchain rejects: the build fails until the pin goes.
	BreaksBuild bool `json:"breaksBuild,omitempty"`
	// Link says whether the program links the affected packages.
	Link Link `json:"link"`
}

// Upgrade lists the settings whose effective value differs between two
// states — security first, then performance, then behaviour, each by name —
// with the packages they affect. links, when not nil, reports whether the
// program links a package (by import path, as in [Setting.Packages]); the
// caller fills it from the binary's symbols or the module's package graph.
func Upgrade(from, to State, links func(pkg string) bool) ([]Change, error) {
	a, err := resolveState(from)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	b, err := resolveState(to)
	if err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	var out []Change
	for i := range goTable {
		in := &goTable[i]
		va, vb := a.value(in), b.value(in)
		breaks := in.removedBy(b.t) && contains(in.RemovedOld, to.Pins[in.Name])
		if va.val == vb.val && !breaks {
			continue
		}
		s := settingOf(in)
		c := Change{Setting: s, From: va.shown(), To: vb.shown(), BreaksBuild: breaks, Link: linkOf(s, links)}
		c.Why = why(in, a, b, va, vb)
		if breaks {
			c.Why += fmt.Sprintf("; the pin %s=%s makes %s refuse to build: delete it", in.Name, to.Pins[in.Name], b.t)
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := classRank(out[i].Class), classRank(out[j].Class)
		if ri != rj {
			return ri < rj
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Upgrade is [Upgrade] from the report's own state to a toolchain and a go
// line; an empty goLine keeps the current one.
func (r Report) Upgrade(toolchain, goLine string, links func(pkg string) bool) ([]Change, error) {
	from := r.State()
	to := from
	to.Toolchain = toolchain
	if goLine != "" {
		to.GoLine = strings.TrimPrefix(goLine, "go")
	}
	return Upgrade(from, to, links)
}

func classRank(c Class) int {
	switch c {
	case ClassSecurity:
		return 0
	case ClassPerformance:
		return 1
	case ClassBehaviour:
		return 2
	}
	return 3
}

func linkOf(s Setting, links func(string) bool) Link {
	switch {
	case s.ToolchainOnly():
		return LinkToolchain
	case s.Package == "runtime":
		return Linked
	case links == nil:
		return LinkUnknown
	}
	for _, p := range s.Packages {
		if links(p) {
			return Linked
		}
	}
	return NotLinked
}

type resolved struct {
	t    version
	n    int // go line minor
	st   State
	line string
}

func resolveState(st State) (resolved, error) {
	t, ok := parseVersion(st.Toolchain)
	if !ok {
		return resolved{}, fmt.Errorf("toolchain %q is not a Go version (want e.g. go1.26.8)", st.Toolchain)
	}
	r := resolved{t: t, n: t.minor, st: st, line: t.lang()}
	if st.GoLine != "" {
		g, ok := parseVersion(st.GoLine)
		if !ok {
			return resolved{}, fmt.Errorf("go line %q is not a Go version (want e.g. 1.22)", st.GoLine)
		}
		r.n, r.line = g.minor, g.lang()
	}
	return r, nil
}

// source of a value.
type source int

const (
	srcDefault source = iota // the toolchain's default
	srcOld                   // the go line predates the change
	srcPin
	srcEnv
	srcRemoved // the toolchain removed the setting
	srcAbsent  // the toolchain does not have the setting yet
)

type value struct {
	val string
	src source
}

func (v value) shown() string {
	if v.src == srcAbsent {
		return ""
	}
	return v.val
}

// value is the effective value of a setting in a state.
func (r resolved) value(in *goInfo) value {
	def := classes[in.Name].def
	switch {
	case in.removedBy(r.t):
		return value{def, srcRemoved}
	case !in.knownTo(r.t):
		// Before a setting exists its behaviour is the old one, which is
		// what Old restores.
		if in.Changed != 0 {
			return value{in.Old, srcAbsent}
		}
		return value{def, srcAbsent}
	}
	if v, ok := r.st.Env[in.Name]; ok {
		return value{v, srcEnv}
	}
	if v, ok := r.st.Pins[in.Name]; ok {
		return value{v, srcPin}
	}
	if in.Changed > r.n {
		return value{in.Old, srcOld}
	}
	return value{def, srcDefault}
}

func why(in *goInfo, a, b resolved, va, vb value) string {
	switch {
	case vb.src == srcRemoved:
		return fmt.Sprintf("Go 1.%d removed the setting: %s has only the new behaviour", in.Removed, b.t)
	case va.src == srcRemoved:
		return fmt.Sprintf("%s predates Go 1.%d's removal of the setting", b.t, in.Removed)
	case vb.src == srcEnv:
		return "the GODEBUG environment sets it"
	case va.src == srcEnv:
		return "the GODEBUG environment no longer sets it"
	case vb.src == srcPin:
		return "a godebug line or //go:debug directive pins it"
	case va.src == srcPin:
		return "the pin goes"
	case vb.src == srcAbsent:
		return fmt.Sprintf("%s does not have the setting", b.t)
	case va.src == srcAbsent && vb.src == srcOld:
		return fmt.Sprintf("%s adds the setting; the go line %s keeps its old value", b.t, b.line)
	case va.src == srcAbsent:
		return fmt.Sprintf("%s adds the setting, at its default", b.t)
	case va.src == srcOld && vb.src == srcDefault:
		if a.n != b.n {
			return fmt.Sprintf("the go line moves from %s to %s, at or past Go 1.%d, which changed the default", a.line, b.line, in.Changed)
		}
		return fmt.Sprintf("Go 1.%d changed the default", in.Changed)
	case va.src == srcDefault && vb.src == srcOld:
		return fmt.Sprintf("the go line moves from %s to %s, before Go 1.%d changed the default", a.line, b.line, in.Changed)
	}
	return "the default differs"
}
