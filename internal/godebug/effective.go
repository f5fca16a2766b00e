package godebug

import (
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
)

// Origin says what set a value.
type Origin string

// Origins.
const (
	// OriginGoLine: the go line (or a godebug default= line) is older than
	// the release that changed the default, so the old value applies.
	OriginGoLine Origin = "go-line"
	// OriginGodebug: a godebug line of go.mod or go.work.
	OriginGodebug Origin = "godebug"
	// OriginDirective: a //go:debug directive of the main package.
	OriginDirective Origin = "go:debug"
	// OriginPinned: a binary's DefaultGODEBUG holds a value its go line
	// does not explain, so it was set on purpose at build time (a godebug
	// line, a //go:debug directive or GOFIPS140); the binary does not say
	// which.
	OriginPinned Origin = "pinned"
	// OriginBuild: a binary's DefaultGODEBUG holds a name no table knows.
	OriginBuild Origin = "build"
	// OriginEnv: the GODEBUG environment variable at run time.
	OriginEnv Origin = "env"
)

// acknowledged reports whether the origin is a deliberate choice.
func (o Origin) acknowledged() bool {
	return o == OriginGodebug || o == OriginDirective || o == OriginPinned
}

// Value is one setting as a program runs with it.
type Value struct {
	Setting
	Value string `json:"value"`
	// Default is what the toolchain uses when nothing sets the setting;
	// empty when unknown.
	Default string `json:"toolchainDefault,omitempty"`
	Origin  Origin `json:"origin"`
	// Where names what sets it: "go.mod:5", "cmd/app/main.go:1",
	// "DefaultGODEBUG" or "GODEBUG".
	Where string `json:"where"`
	// Overrides is the build-time value that a GODEBUG environment entry
	// replaces; empty when there was none.
	Overrides string `json:"overrides,omitempty"`
	// Ignored says why the program does not act on the value: its toolchain
	// removed the setting or does not have it yet. Empty when it acts.
	Ignored string `json:"ignored,omitempty"`
}

// NonDefault reports whether the value differs from the toolchain's
// default. Unknown names count as non-default.
func (v Value) NonDefault() bool {
	return v.Class == ClassUnknown || v.Value != v.Default
}

// Report is the effective GODEBUG of one binary or module.
type Report struct {
	// Subject names the binary (its path) or the module (its directory).
	Subject string `json:"subject"`
	// GoVersion is the toolchain: the one that built the binary, or the one
	// assumed for a module ("go1.26.8").
	GoVersion string `json:"goVersion"`
	// GoLine is the Go version whose GODEBUG defaults the program follows
	// ("1.16"): a module's go line (or its godebug default= line); for a
	// binary, the newest go line its DefaultGODEBUG is consistent with.
	// Empty for binaries of toolchains before Go 1.21, which had no
	// DefaultGODEBUG.
	GoLine string `json:"goLine,omitempty"`
	// GoLineMin is the oldest go line consistent with a binary's
	// DefaultGODEBUG: equal to GoLine when only one fits, empty when any
	// older one fits too. For a module it equals GoLine.
	GoLineMin string `json:"goLineMin,omitempty"`
	// GoLineWhere names the module line that sets GoLine ("go.mod:3");
	// empty for a binary.
	GoLineWhere string `json:"goLineWhere,omitempty"`
	// GoLineText is that line as written ("go 1.16", "godebug
	// default=go1.21"); empty for a binary.
	GoLineText string `json:"goLineText,omitempty"`
	// DefaultGODEBUG is the build setting as the binary holds it, or as the
	// go command would compute it for the module.
	DefaultGODEBUG string `json:"defaultGODEBUG"`
	// Env is the GODEBUG environment value the program runs with.
	Env string `json:"env,omitempty"`
	// Settings lists every setting of DefaultGODEBUG and Env, known or not,
	// sorted by name; an Env entry replaces the build-time one.
	Settings []Value `json:"settings"`
	// Pins are the settings set on purpose (godebug lines, //go:debug
	// directives, or what a binary's go line does not explain).
	Pins map[string]string `json:"pins,omitempty"`
	// Warnings name content that could not be understood.
	Warnings []Warning `json:"warnings,omitempty"`
}

// toolchain is the Go version of GoVersion, or the newest the table knows
// when GoVersion is not one.
func (r Report) toolchain() version {
	if t, ok := parseVersion(r.GoVersion); ok {
		return t
	}
	t, _ := parseVersion(newest)
	return t
}

// Binary is what a Go binary's build info says about GODEBUG.
type Binary struct {
	// Name is the binary's path, named in warnings.
	Name string
	// GoVersion is the toolchain that built it (BuildInfo.GoVersion).
	GoVersion string
	// DefaultGODEBUG is the build setting of that name; empty when absent.
	DefaultGODEBUG string
}

// FromBuildInfo is [Effective] for the build info of the binary at name
// (read with debug/buildinfo, or gobinary.Read for a stream). env is the
// GODEBUG value the binary runs with ("" for none).
func FromBuildInfo(name string, bi *debug.BuildInfo, env string) Report {
	if bi == nil {
		return Report{Subject: name, Env: env, Warnings: []Warning{{name, "no Go build info: GODEBUG defaults unknown"}}}
	}
	b := Binary{Name: name, GoVersion: bi.GoVersion}
	for _, s := range bi.Settings {
		if s.Key == "DefaultGODEBUG" {
			b.DefaultGODEBUG = s.Value
		}
	}
	return Effective(b, env)
}

// Effective decodes a binary's DefaultGODEBUG and the GODEBUG environment
// value env it runs with: every setting either holds, its class and
// meaning, the toolchain's default for it, and what set it. Malformed
// entries and an unreadable Go version are warnings naming the binary;
// names no table knows are listed as [ClassUnknown].
func Effective(b Binary, env string) Report {
	r := Report{Subject: b.Name, GoVersion: b.GoVersion, DefaultGODEBUG: b.DefaultGODEBUG, Env: env}
	t := r.toolchain()
	if _, ok := parseVersion(b.GoVersion); !ok {
		r.warn("Go version %q not understood: judging GODEBUG with %s's defaults", b.GoVersion, newest)
	}
	entries := r.parseList("DefaultGODEBUG", b.DefaultGODEBUG)
	m := map[string]string{}
	for _, e := range entries {
		m[e.name] = e.value
	}

	var n int // the go line's minor version, when known
	if t.minor >= 21 {
		lo, hi := inferGoLine(t, m)
		n = hi
		r.GoLine = release(hi)
		if lo > 0 {
			r.GoLineMin = release(lo)
		}
	} else if b.DefaultGODEBUG != "" {
		r.warn("DefaultGODEBUG in a binary of %s, which predates it", b.GoVersion)
	}

	byName := map[string]int{}
	for _, e := range entries {
		s, known := Lookup(e.name)
		v := Value{Setting: s, Value: e.value, Origin: OriginBuild, Where: "DefaultGODEBUG"}
		if known {
			in := lookupInfo(e.name)
			v.Default = in.toolchainDefault(t)
			v.Ignored = ignored(in, t)
			if t.minor >= 21 {
				if in.Changed > n && e.value == in.Old {
					v.Origin = OriginGoLine
				} else {
					v.Origin = OriginPinned
				}
			}
		}
		if v.Origin == OriginPinned {
			if r.Pins == nil {
				r.Pins = map[string]string{}
			}
			r.Pins[e.name] = e.value
		}
		if i, dup := byName[e.name]; dup {
			r.Settings[i] = v
			continue
		}
		byName[e.name] = len(r.Settings)
		r.Settings = append(r.Settings, v)
	}
	r.applyEnv(env, byName)
	sortValues(r.Settings)
	return r
}

// ignored says why toolchain t does not act on a setting.
func ignored(in *goInfo, t version) string {
	switch {
	case in.removedBy(t):
		return fmt.Sprintf("Go 1.%d removed the setting: %s has only the new behaviour", in.Removed, t)
	case !in.knownTo(t):
		return fmt.Sprintf("%s does not have the setting yet", t)
	}
	return ""
}

// FromEnv judges a GODEBUG environment value on its own, as a Dockerfile
// ENV, a Kubernetes container env or an image config sets it, without the
// binary it reaches: each setting against Go's current default, a removed
// one as if a toolchain that still has it ran the program (the finding's
// fix says which Go stops honouring it). name (the file and line, say)
// is named in warnings.
func FromEnv(name, env string) Report {
	r := Report{Subject: name, Env: env}
	r.applyEnvFor(env, map[string]int{}, nil)
	sortValues(r.Settings)
	return r
}

// applyEnv lays the GODEBUG environment value over the build-time values.
func (r *Report) applyEnv(env string, byName map[string]int) {
	t := r.toolchain()
	r.applyEnvFor(env, byName, &t)
}

// applyEnvFor judges env entries for toolchain t; nil means no toolchain
// in particular: current defaults, nothing ignored.
func (r *Report) applyEnvFor(env string, byName map[string]int, t *version) {
	for _, e := range r.parseList("GODEBUG environment value", env) {
		s, known := Lookup(e.name)
		v := Value{Setting: s, Value: e.value, Origin: OriginEnv, Where: "GODEBUG"}
		switch {
		case known && t != nil:
			in := lookupInfo(e.name)
			v.Default = in.toolchainDefault(*t)
			v.Ignored = ignored(in, *t)
		case known:
			v.Default = s.Default
		}
		if i, ok := byName[e.name]; ok {
			if r.Settings[i].Origin != OriginEnv {
				v.Overrides = r.Settings[i].Value
			} else {
				v.Overrides = r.Settings[i].Overrides
			}
			r.Settings[i] = v
			continue
		}
		byName[e.name] = len(r.Settings)
		r.Settings = append(r.Settings, v)
	}
}

type entry struct{ name, value string }

// parseList splits "k=v,k2=v2"; entries without a name or an = sign are
// warnings. A name given twice keeps its last value, as the runtime does.
func (r *Report) parseList(what, s string) []entry {
	if s == "" {
		return nil
	}
	var out []entry
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			r.warn("%s: malformed entry %q (want name=value): skipped", what, f)
			continue
		}
		if seen[k] {
			r.warn("%s: %s set more than once: the last value counts", what, k)
		}
		seen[k] = true
		out = append(out, entry{k, v})
	}
	return out
}

func (r *Report) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, Warning{Subject: r.Subject, Message: fmt.Sprintf(format, args...)})
}

func sortValues(vs []Value) {
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Name < vs[j].Name })
}

// inferGoLine finds the go lines (minor versions, at most t's) whose
// defaults best explain a DefaultGODEBUG written by toolchain t: those
// that leave out the fewest old values it should hold and explain the
// most old values it does hold. Values a go line cannot explain are pins.
func inferGoLine(t version, m map[string]string) (lo, hi int) {
	// Go lines past the newest change of default are all alike: test one.
	maxChanged := 0
	for i := range goTable {
		maxChanged = max(maxChanged, goTable[i].Changed)
	}
	last := min(t.minor, maxChanged)
	best := -1
	for n := 0; n <= last; n++ {
		miss := 0
		for i := range goTable {
			in := &goTable[i]
			if in.Changed == 0 || !in.knownTo(t) {
				continue
			}
			v, ok := m[in.Name]
			switch {
			case in.Changed > n && !ok:
				miss++ // the go line would have put it there
			case in.Changed <= n && ok && v == in.Old:
				miss++ // only a pin would explain it
			}
		}
		switch {
		case best < 0 || miss < best:
			best, lo, hi = miss, n, n
		case miss == best:
			hi = n
		}
	}
	if hi == last {
		hi = t.minor
	}
	return lo, hi
}

// EnvGODEBUG returns the value of GODEBUG in a list of NAME=VALUE
// environment entries (an image config's Env, a container's env); the last
// entry wins, as for exec.
func EnvGODEBUG(env []string) (string, bool) {
	val, found := "", false
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "GODEBUG="); ok {
			val, found = v, true
		}
	}
	return val, found
}
