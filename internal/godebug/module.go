package godebug

import (
	"errors"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
)

// FromModule computes the GODEBUG defaults the go command would build into
// the main package in dir: the go line of the main module's go.mod (or of
// the go.work above dir, which then also supplies the godebug lines), its
// godebug lines, and the //go:debug directives of dir's package when it is
// package main (for a module root without one, only the first two).
//
// toolchain is the Go that builds it ("go1.26.8"); empty means the
// toolchain line of go.mod or go.work, else the newest toolchain the table
// knows. What the go command would reject (an unknown setting, an old value
// of a removed one) is a warning. Errors are for a dir without go.mod and
// for go.mod or go.work files that do not parse.
func FromModule(dir, toolchain string) (Report, error) {
	r := Report{Subject: dir}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return r, err
	}
	modPath, err := findUp(abs, "go.mod")
	if err != nil {
		return r, err
	}
	if modPath == "" {
		return r, fmt.Errorf("no go.mod in %s or a parent directory: FromModule needs a module", dir)
	}
	// The main module's go.mod, or the workspace's go.work.
	workPath, err := findUp(abs, "go.work")
	if err != nil {
		return r, err
	}
	// Lines are named relative to the workspace or module root.
	root := filepath.Dir(modPath)
	if workPath != "" {
		root = filepath.Dir(workPath)
	}
	rel := func(p string) string {
		if rp, err := filepath.Rel(root, p); err == nil && !strings.HasPrefix(rp, "..") {
			return filepath.ToSlash(rp)
		}
		return p
	}
	var (
		goLine, toolLine string
		goLineWhere      string
		godebugs         []*modfile.Godebug
		file             string
	)
	if workPath != "" {
		data, err := os.ReadFile(workPath)
		if err != nil {
			return r, err
		}
		wf, err := modfile.ParseWork(workPath, data, nil)
		if err != nil {
			return r, fmt.Errorf("parsing %s: %w", workPath, err)
		}
		file = rel(workPath)
		goLine, goLineWhere = "1.18", file+" (no go line)"
		if wf.Go != nil {
			goLine, goLineWhere = wf.Go.Version, fmt.Sprintf("%s:%d", file, wf.Go.Syntax.Start.Line)
		}
		if wf.Toolchain != nil {
			toolLine = wf.Toolchain.Name
		}
		godebugs = wf.Godebug
	} else {
		data, err := os.ReadFile(modPath)
		if err != nil {
			return r, err
		}
		f, err := modfile.Parse(modPath, data, nil)
		if err != nil {
			return r, fmt.Errorf("parsing %s: %w", modPath, err)
		}
		file = rel(modPath)
		goLine, goLineWhere = "1.16", file+" (no go line)"
		if f.Go != nil {
			goLine, goLineWhere = f.Go.Version, fmt.Sprintf("%s:%d", file, f.Go.Syntax.Start.Line)
		}
		if f.Toolchain != nil {
			toolLine = f.Toolchain.Name
		}
		godebugs = f.Godebug
	}
	r.GoLineText, r.GoLineWhere = "go "+goLine, goLineWhere

	// The toolchain.
	t, _ := parseVersion(newest)
	switch {
	case toolchain != "":
		var ok bool
		if t, ok = parseVersion(toolchain); !ok {
			return r, fmt.Errorf("toolchain %q is not a Go version (want e.g. go1.26.8)", toolchain)
		}
	case toolLine != "":
		if tl, ok := parseVersion(toolLine); ok {
			t = tl
		} else {
			r.warn("%s: toolchain %q not understood: assuming %s", file, toolLine, newest)
		}
	}
	r.GoVersion = t.String()

	// Pins: godebug lines, then //go:debug directives, which win.
	type pin struct {
		value  string
		origin Origin
		where  string
	}
	pins := map[string]pin{}
	for _, g := range godebugs {
		where := fmt.Sprintf("%s:%d", file, g.Syntax.Start.Line)
		pins[g.Key] = pin{g.Value, OriginGodebug, where}
	}
	if p, err := build.Default.ImportDir(abs, 0); err != nil {
		var noGo *build.NoGoError
		if !errors.As(err, &noGo) {
			r.warn("reading the package in %s for //go:debug directives: %v", dir, err)
		}
	} else if p.Name == "main" {
		seen := map[string]bool{}
		for _, d := range p.Directives {
			k, v, ok, err := parseDirective(d.Text)
			if !ok {
				continue
			}
			where := fmt.Sprintf("%s:%d", rel(d.Pos.Filename), d.Pos.Line)
			if err != nil {
				r.warn("%s: %s: the go command rejects the package", where, err)
				continue
			}
			if seen[k] {
				r.warn("%s: //go:debug %s given twice: the go command rejects the package", where, k)
			}
			seen[k] = true
			pins[k] = pin{v, OriginDirective, where}
		}
	}

	// default=goX replaces the go line as the source of defaults.
	if d, ok := pins["default"]; ok {
		delete(pins, "default")
		if v, ok := parseVersion(strings.TrimPrefix(d.value, "go")); ok && strings.HasPrefix(d.value, "go") {
			goLine = v.lang()
			r.GoLineText, r.GoLineWhere = "godebug default="+d.value, d.where
			if d.origin == OriginDirective {
				r.GoLineText = "//go:debug default=" + d.value
			}
		} else {
			r.warn("%s: default=%s is not goVERSION: the go command rejects it", d.where, d.value)
		}
	}
	gl, ok := parseVersion(goLine)
	if !ok {
		r.warn("%s: go line %q not understood: assuming %s", r.GoLineWhere, goLine, t.lang())
		gl = t
	}
	if gl.minor > t.minor {
		r.warn("%s: go %s is newer than %s: that toolchain refuses to build it", r.GoLineWhere, gl.lang(), t)
	}
	r.GoLine, r.GoLineMin = gl.lang(), gl.lang()

	// What cmd/go computes: the go line's defaults, then the pins.
	m := godebugFor(t, gl.minor)
	origin := map[string]pin{}
	for k, v := range m {
		origin[k] = pin{v, OriginGoLine, r.GoLineWhere}
	}
	var pinNames []string
	for k := range pins {
		pinNames = append(pinNames, k)
	}
	sort.Strings(pinNames)
	for _, k := range pinNames {
		p := pins[k]
		in := lookupInfo(k)
		switch {
		case in == nil:
			r.warn("%s: unknown GODEBUG setting %s: the go command rejects it", p.where, k)
		case in.removedBy(t):
			if contains(in.RemovedOld, p.value) {
				r.warn("%s: Go 1.%d removed %s and %s rejects its old value %s: the build fails", p.where, in.Removed, k, t, p.value)
			}
		case !in.knownTo(t):
			r.warn("%s: %s does not know the setting %s: the go command rejects it", p.where, t, k)
		}
		if strings.ContainsAny(p.value, " \t,") {
			r.warn("%s: value of %s holds a space or comma: the go command rejects it", p.where, k)
		}
		if r.Pins == nil {
			r.Pins = map[string]string{}
		}
		r.Pins[k] = p.value
		m[k] = p.value
		origin[k] = p
	}

	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	byName := map[string]int{}
	for _, k := range names {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + m[k])
		s, known := Lookup(k)
		o := origin[k]
		v := Value{Setting: s, Value: m[k], Origin: o.origin, Where: o.where}
		if known {
			in := lookupInfo(k)
			v.Default = in.toolchainDefault(t)
			v.Ignored = ignored(in, t)
		}
		byName[k] = len(r.Settings)
		r.Settings = append(r.Settings, v)
	}
	r.DefaultGODEBUG = b.String()
	return r, nil
}

// WithEnv returns the report with a GODEBUG environment value laid over it
// (a module built into an image whose Dockerfile or manifest sets GODEBUG).
func (r Report) WithEnv(env string) Report {
	out := r
	out.Env = env
	out.Settings = append([]Value(nil), r.Settings...)
	out.Warnings = append([]Warning(nil), r.Warnings...)
	byName := map[string]int{}
	for i, v := range out.Settings {
		byName[v.Name] = i
	}
	out.applyEnv(env, byName)
	sortValues(out.Settings)
	return out
}

// parseDirective reads a //go:debug line as the go command does; ok is
// false for other directives.
func parseDirective(text string) (k, v string, ok bool, err error) {
	rest, found := strings.CutPrefix(text, "//go:debug")
	if !found {
		return "", "", false, nil
	}
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", "", false, nil // //go:debugfoo is another directive
	}
	k, v, found = strings.Cut(strings.TrimSpace(rest), "=")
	if !found || k == "" {
		return "", "", true, errors.New("//go:debug wants key=value")
	}
	if strings.ContainsAny(k, " \t,") || strings.ContainsAny(v, " \t,") {
		return "", "", true, errors.New("//go:debug key or value holds a space or comma")
	}
	return k, v, true, nil
}

// findUp returns the path of name in dir or its nearest parent holding it.
func findUp(dir, name string) (string, error) {
	for {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir():
			return p, nil
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
