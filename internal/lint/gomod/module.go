package gomod

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/scanner"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"

	"github.com/redline-go/redline/internal/lint/rule"
)

// Advisor knows which Go releases fix the standard library's and the
// toolchain's known vulnerabilities. internal/vuln's data can provide it;
// without one RL-GO-010 says it could not check.
type Advisor interface {
	// StdlibFix returns the smallest Go release at or above version (e.g.
	// "go1.26.8") that clears every known advisory affecting it, and those
	// advisories; fixed is "" when none affect it.
	StdlibFix(version string) (fixed string, advisories []string, err error)
}

// Options configure [CheckModule]. The go command is reached only through
// GoEnv and Verify, so tests replace both.
type Options struct {
	// GoEnv returns `go env -json` as run in dir; default runs the go
	// command.
	GoEnv func(ctx context.Context, dir string) (map[string]string, error)
	// Verify runs `go mod verify` in dir and returns its output; default
	// runs the go command offline (GOPROXY=off GOFLAGS=-mod=mod). It is
	// only called when the module cache holds every module of go.sum.
	Verify func(ctx context.Context, dir string) (string, error)
	// Getenv reads the process environment, to tell settings made there
	// from those of the GOENV file; default os.Getenv.
	Getenv func(string) string
	// Advisor, when set, enables RL-GO-010.
	Advisor Advisor
}

// Result is what the module rules found.
type Result struct {
	Findings []rule.Finding
	Warnings []rule.Warning
	Notes    []string
	// Settings are the go env settings that were checked.
	Settings []Setting
}

// goEnvKeys are the settings read from go env.
var goEnvKeys = []string{"GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GOINSECURE", "GOPROXY", "GOFLAGS", "GOMODCACHE", "GOENV", "GOVERSION", "GOTOOLCHAIN"}

// defaults are go env values that are no choice of the user's.
var defaults = map[string]string{"GOSUMDB": "sum.golang.org", "GOPROXY": "https://proxy.golang.org,direct"}

func runGoEnv(ctx context.Context, dir string) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"env", "-json"}, goEnvKeys...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	m := map[string]string{}
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("go env -json: %w", err)
	}
	return m, nil
}

func runVerify(ctx context.Context, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "mod", "verify")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// CheckModule applies the module rules to the Go module in dir. name is
// how the directory is shown in locations. A go.mod that cannot be read
// or parsed is an error; content problems are findings and warnings.
func CheckModule(ctx context.Context, dir, name string, o Options) (*Result, error) {
	if o.GoEnv == nil {
		o.GoEnv = runGoEnv
	}
	if o.Verify == nil {
		o.Verify = runVerify
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	r := &Result{}
	show := func(f string) string { return filepath.ToSlash(filepath.Join(name, f)) }
	gomodPath := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(gomodPath)
	if err != nil {
		return nil, err
	}
	mf, err := modfile.Parse(show("go.mod"), data, nil)
	if err != nil {
		r.Warnings = append(r.Warnings, rule.Warning{Location: rule.At(show("go.mod"), errLine(err), 0), Message: "cannot parse go.mod: " + firstLine(err.Error())})
		return r, nil
	}
	env, err := o.GoEnv(ctx, dir)
	if err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("go env could not run (%v): the go command's settings were not checked", err))
		env = map[string]string{}
	}
	vendored := fileExists(filepath.Join(dir, "vendor", "modules.txt"))
	r.Settings = settingsOf(env, o.Getenv)
	r.Findings = append(r.Findings, CheckSettings(r.Settings, vendored)...)

	reqLine := func(path string) int {
		for _, rq := range mf.Require {
			if rq.Mod.Path == path && rq.Syntax != nil {
				return rq.Syntax.Start.Line
			}
		}
		return 1
	}
	add := func(rl *rule.Rule, loc rule.Location, object, msg, fix string) {
		f := rl.New(loc, object, msg)
		f.Fix = fix
		r.Findings = append(r.Findings, f)
	}

	// go.sum.
	sums, sumErrs, haveSum := readGoSum(filepath.Join(dir, "go.sum"))
	for _, e := range sumErrs {
		r.Warnings = append(r.Warnings, rule.Warning{Location: rule.At(show("go.sum"), e.line, 0), Message: e.msg})
	}
	if !haveSum && len(mf.Require) > 0 {
		add(&GoSum, rule.At(show("go.mod"), reqLine(mf.Require[0].Mod.Path), 0), "go.sum", fmt.Sprintf("go.sum is missing and go.mod requires %d modules: nothing pins their hashes", len(mf.Require)), "go mod tidy, and commit go.sum")
	}
	if haveSum {
		for _, rq := range mf.Require {
			if _, ok := sums[sumKey{rq.Mod.Path, rq.Mod.Version + "/go.mod"}]; !ok {
				add(&GoSum, rule.At(show("go.mod"), reqLine(rq.Mod.Path), 0), "require "+rq.Mod.Path, fmt.Sprintf("go.sum has no hash for %s %s", rq.Mod.Path, rq.Mod.Version), "go mod tidy, and commit go.sum")
			}
		}
		for _, k := range sortedKeys(sums) {
			if hs := sums[k]; len(hs) > 1 {
				add(&GoSum, rule.At(show("go.sum"), hs[1].line, 0), k.path+"@"+k.version, fmt.Sprintf("go.sum holds two hashes for %s %s (%s and %s)", k.path, k.version, hs[0].hash, hs[1].hash), "find out which one is right, then go mod tidy")
			}
		}
		checked, missing, mismatched := checkCache(env["GOMODCACHE"], sums, func(k sumKey, h sumLine, got string) {
			add(&GoSum, rule.At(show("go.sum"), h.line, 0), k.path+"@"+k.version, fmt.Sprintf("go.sum says %s for %s %s, the module cache holds %s: one of them was changed", h.hash, k.path, k.version, got), "find out which side changed; then go clean -modcache && go mod download")
		})
		switch {
		case env["GOMODCACHE"] == "":
			r.Notes = append(r.Notes, "go.sum was not checked against the module cache: GOMODCACHE is unknown")
		case missing > 0:
			r.Notes = append(r.Notes, fmt.Sprintf("%d of %d go.sum hashes could not be checked: those modules are not in the module cache (go mod download fetches them); go mod verify was not run", missing, missing+checked))
		case mismatched == 0 && checked > 0:
			out, err := o.Verify(ctx, dir)
			switch {
			case err == nil:
			case strings.Contains(out, "has been modified") || strings.Contains(out, "missing"):
				for _, l := range strings.Split(out, "\n") {
					if strings.Contains(l, "has been modified") || strings.Contains(l, ": missing") {
						add(&GoSum, rule.At(show("go.sum"), 0, 0), "go mod verify", "go mod verify: "+strings.TrimSpace(l), "go clean -modcache && go mod download")
					}
				}
			default:
				r.Notes = append(r.Notes, "go mod verify could not run: "+firstLine(strings.TrimSpace(out+" "+err.Error())))
			}
		}
	}

	// vendor/.
	if fileExists(filepath.Join(dir, "vendor")) {
		for _, f := range checkVendor(dir, mf) {
			loc := rule.At(show("go.mod"), f.line, 0)
			if f.inModulesTxt {
				loc = rule.At(show("vendor/modules.txt"), f.line, 0)
			}
			add(&VendorSync, loc, "vendor/modules.txt", f.msg, "go mod vendor")
		}
	}

	// Requirements nothing imports.
	imports, perrs := moduleImports(dir)
	for _, e := range perrs {
		rel, _ := filepath.Rel(dir, e.file)
		r.Warnings = append(r.Warnings, rule.Warning{Location: rule.At(show(filepath.ToSlash(rel)), e.line, 0), Message: e.msg})
	}
	if len(perrs) > 0 {
		r.Notes = append(r.Notes, "RL-GO-008 was not checked: some .go files could not be parsed")
	} else {
		tools := map[string]bool{}
		for _, t := range mf.Tool {
			tools[t.Path] = true
		}
		var reqPaths []string
		for _, rq := range mf.Require {
			reqPaths = append(reqPaths, rq.Mod.Path)
		}
		used := map[string]bool{}
		for imp := range imports {
			if m := owner(imp, reqPaths); m != "" {
				used[m] = true
			}
		}
		for t := range tools {
			if m := owner(t, reqPaths); m != "" {
				used[m] = true
			}
		}
		for _, rq := range mf.Require {
			if !rq.Indirect && !used[rq.Mod.Path] {
				add(&Unused, rule.At(show("go.mod"), reqLine(rq.Mod.Path), 0), "require "+rq.Mod.Path, fmt.Sprintf("%s %s is required directly, but no package of the module imports it", rq.Mod.Path, rq.Mod.Version), "go mod tidy")
			}
		}
	}

	// Several majors.
	byPrefix := map[string][]*modfile.Require{}
	for _, rq := range mf.Require {
		prefix, _, ok := module.SplitPathVersion(rq.Mod.Path)
		if !ok {
			continue
		}
		prefix = strings.TrimSuffix(prefix, ".") // gopkg.in/yaml.v3 -> gopkg.in/yaml
		byPrefix[prefix] = append(byPrefix[prefix], rq)
	}
	for _, prefix := range sortedStrings(byPrefix) {
		rqs := byPrefix[prefix]
		if len(rqs) < 2 {
			continue
		}
		var vs []string
		for _, rq := range rqs {
			vs = append(vs, rq.Mod.Path+" "+rq.Mod.Version)
		}
		add(&Majors, rule.At(show("go.mod"), reqLine(rqs[1].Mod.Path), 0), "require "+prefix, fmt.Sprintf("%d major versions of %s: %s", len(rqs), prefix, strings.Join(vs, ", ")), "move the module's imports to one major version")
	}

	// The toolchain.
	r.toolchain(mf, env, o.Advisor, show("go.mod"), add)
	return r, nil
}

func (r *Result) toolchain(mf *modfile.File, env map[string]string, adv Advisor, gomod string, add func(*rule.Rule, rule.Location, string, string, string)) {
	if adv == nil {
		r.Notes = append(r.Notes, "RL-GO-010 was not checked: no vulnerability data to say which Go releases fix the standard library")
		return
	}
	declared, line, what := "", 0, ""
	if mf.Toolchain != nil {
		declared, line, what = mf.Toolchain.Name, mf.Toolchain.Syntax.Start.Line, "toolchain "+mf.Toolchain.Name
	} else if mf.Go != nil {
		declared, line, what = "go"+mf.Go.Version, mf.Go.Syntax.Start.Line, "go "+mf.Go.Version
	}
	check := func(version, object, msgWho string, loc rule.Location) {
		fixed, ids, err := adv.StdlibFix(version)
		if err != nil {
			r.Notes = append(r.Notes, fmt.Sprintf("RL-GO-010: %s: %v", version, err))
			return
		}
		if fixed == "" {
			return
		}
		sort.Strings(ids)
		list := strings.Join(ids, ", ")
		if len(ids) > 4 {
			list = strings.Join(ids[:4], ", ") + fmt.Sprintf(" and %d more", len(ids)-4)
		}
		add(&Toolchain, loc, object, fmt.Sprintf("%s: %d standard-library or toolchain advisories (%s), fixed in %s", msgWho, len(ids), list, fixed), "go get toolchain@"+fixed)
	}
	if declared != "" {
		check(declared, what, declared+" (an older local Go switches to it with GOTOOLCHAIN=auto)", rule.At(gomod, line, 0))
	}
	local := env["GOVERSION"]
	if strings.HasPrefix(env["GOTOOLCHAIN"], "local") && local != "" && (declared == "" || goCompare(local, declared) > 0 || goCompare(local, declared) < 0) {
		check(local, "go env GOVERSION", fmt.Sprintf("GOTOOLCHAIN=local: the local %s builds this module (the toolchain line does not switch Go)", local), rule.Location{})
	}
}

// goCompare orders Go release names ("go1.26.8").
func goCompare(a, b string) int {
	conv := func(v string) string {
		v = "v" + strings.TrimPrefix(v, "go")
		if strings.Count(v, ".") == 1 {
			v += ".0"
		}
		return v
	}
	return semver.Compare(conv(a), conv(b))
}

// settingsOf turns go env into settings with their provenance: the
// process environment, else the GOENV file (with its line), else
// nothing to report (defaults).
func settingsOf(env map[string]string, getenv func(string) string) []Setting {
	goenvLines := map[string]int{}
	if p := env["GOENV"]; p != "" && p != "off" {
		if b, err := os.ReadFile(p); err == nil {
			for i, l := range strings.Split(string(b), "\n") {
				if k, _, ok := strings.Cut(l, "="); ok {
					goenvLines[strings.TrimSpace(k)] = i + 1
				}
			}
		}
	}
	var out []Setting
	for _, k := range goEnvKeys {
		v, ok := env[k]
		if !ok || v == "" || v == defaults[k] {
			continue
		}
		switch {
		case getenv(k) != "":
			out = append(out, Setting{Key: k, Value: v, Via: "environment"})
		case goenvLines[k] > 0:
			out = append(out, Setting{Key: k, Value: v, Via: "go env -w", Where: rule.At(env["GOENV"], goenvLines[k], 0)})
		}
	}
	return out
}

type sumKey struct{ path, version string }
type sumLine struct {
	hash string
	line int
}
type lineErr struct {
	file string
	line int
	msg  string
}

func readGoSum(path string) (map[sumKey][]sumLine, []lineErr, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, false
	}
	defer f.Close()
	sums := map[sumKey][]sumLine{}
	var errs []lineErr
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		if len(fs) != 3 || !strings.HasPrefix(fs[2], "h1:") {
			errs = append(errs, lineErr{line: n, msg: "go.sum: malformed line (want: MODULE VERSION[/go.mod] h1:HASH)"})
			continue
		}
		k := sumKey{fs[0], fs[1]}
		dup := false
		for _, h := range sums[k] {
			dup = dup || h.hash == fs[2]
		}
		if !dup {
			sums[k] = append(sums[k], sumLine{fs[2], n})
		}
	}
	return sums, errs, true
}

func sortedKeys(m map[sumKey][]sumLine) []sumKey {
	ks := make([]sumKey, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b sumKey) int {
		if a.path != b.path {
			return strings.Compare(a.path, b.path)
		}
		return strings.Compare(a.version, b.version)
	})
	return ks
}

func sortedStrings[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// checkCache compares go.sum's hashes with the module cache's: the
// .ziphash of a module zip, the hash of the cached go.mod.
func checkCache(cache string, sums map[sumKey][]sumLine, mismatch func(sumKey, sumLine, string)) (checked, missing, bad int) {
	if cache == "" {
		return 0, 0, 0
	}
	for _, k := range sortedKeys(sums) {
		h := sums[k][0]
		ver, isMod := strings.CutSuffix(k.version, "/go.mod")
		ep, err1 := module.EscapePath(k.path)
		ev, err2 := module.EscapeVersion(ver)
		if err1 != nil || err2 != nil {
			continue
		}
		base := filepath.Join(cache, "cache", "download", filepath.FromSlash(ep), "@v", ev)
		var got string
		if isMod {
			p := base + ".mod"
			if !fileExists(p) {
				missing++
				continue
			}
			sum, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) { return os.Open(p) })
			if err != nil {
				missing++
				continue
			}
			got = sum
		} else {
			b, err := os.ReadFile(base + ".ziphash")
			if err != nil {
				missing++
				continue
			}
			got = strings.TrimSpace(string(b))
		}
		checked++
		if got != h.hash {
			bad++
			mismatch(k, h, got)
		}
	}
	return checked, missing, bad
}

type vendorFinding struct {
	line         int
	inModulesTxt bool
	msg          string
}

// checkVendor compares vendor/modules.txt with go.mod the way the go
// command does (explicit requirements, versions, replacements).
func checkVendor(dir string, mf *modfile.File) []vendorFinding {
	data, err := os.ReadFile(filepath.Join(dir, "vendor", "modules.txt"))
	if err != nil {
		line := 1
		if mf.Module != nil && mf.Module.Syntax != nil {
			line = mf.Module.Syntax.Start.Line
		}
		return []vendorFinding{{line: line, msg: "vendor/ exists without vendor/modules.txt: the go command refuses it"}}
	}
	type vmod struct {
		version, replace string
		explicit         bool
		line             int
	}
	mods := map[string]*vmod{}
	var order []string
	var cur *vmod
	for i, l := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(l, "# "):
			fs := strings.Fields(l[2:])
			if len(fs) < 1 {
				continue
			}
			cur = &vmod{line: i + 1}
			if len(fs) >= 2 && fs[1] != "=>" {
				cur.version = fs[1]
			}
			if j := slices.Index(fs, "=>"); j >= 0 {
				cur.replace = strings.Join(fs[j+1:], " ")
			}
			if _, seen := mods[fs[0]]; !seen {
				order = append(order, fs[0])
			}
			mods[fs[0]] = cur
		case strings.HasPrefix(l, "## ") && cur != nil:
			for _, p := range strings.Split(l[3:], ";") {
				if strings.TrimSpace(p) == "explicit" {
					cur.explicit = true
				}
			}
		}
	}
	var out []vendorFinding
	reqs := map[string]bool{}
	for _, rq := range mf.Require {
		reqs[rq.Mod.Path] = true
		line := 0
		if rq.Syntax != nil {
			line = rq.Syntax.Start.Line
		}
		v, ok := mods[rq.Mod.Path]
		switch {
		case !ok || !v.explicit:
			out = append(out, vendorFinding{line: line, msg: fmt.Sprintf("go.mod requires %s %s, vendor/modules.txt does not list it as explicit", rq.Mod.Path, rq.Mod.Version)})
		case v.version != "" && v.version != rq.Mod.Version:
			out = append(out, vendorFinding{line: line, msg: fmt.Sprintf("go.mod requires %s %s, vendor/ holds %s", rq.Mod.Path, rq.Mod.Version, v.version)})
		}
	}
	for _, p := range order {
		if v := mods[p]; v.explicit && !reqs[p] {
			out = append(out, vendorFinding{line: v.line, inModulesTxt: true, msg: fmt.Sprintf("vendor/modules.txt lists %s %s as explicit, go.mod does not require it", p, v.version)})
		}
	}
	for _, rp := range mf.Replace {
		v, ok := mods[rp.Old.Path]
		want := rp.New.Path
		if rp.New.Version != "" {
			want += " " + rp.New.Version
		}
		if ok && v.replace != want {
			line := 0
			if rp.Syntax != nil {
				line = rp.Syntax.Start.Line
			}
			out = append(out, vendorFinding{line: line, msg: fmt.Sprintf("go.mod replaces %s with %s, vendor/modules.txt says %q", rp.Old.Path, want, v.replace)})
		}
	}
	return out
}

// moduleImports returns the import paths of every .go file of the main
// module (tests and every build tag included; vendor, testdata and nested
// modules excluded).
func moduleImports(dir string) (map[string]bool, []lineErr) {
	imports := map[string]bool{}
	var errs []lineErr
	fset := token.NewFileSet()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			name := d.Name()
			if p != dir && (name == "vendor" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || fileExists(filepath.Join(p, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			line, msg := 0, err.Error()
			var el scanner.ErrorList
			if errors.As(err, &el) && len(el) > 0 {
				line, msg = el[0].Pos.Line, el[0].Msg
			}
			errs = append(errs, lineErr{file: p, line: line, msg: "cannot parse: " + firstLine(msg)})
			return nil
		}
		for _, im := range f.Imports {
			if s, err := strconv.Unquote(im.Path.Value); err == nil {
				imports[s] = true
			}
		}
		return nil
	})
	return imports, errs
}

// owner returns the requirement that provides import path imp: the
// longest module path that is imp or a prefix of it.
func owner(imp string, reqs []string) string {
	best := ""
	for _, m := range reqs {
		if (imp == m || strings.HasPrefix(imp, m+"/")) && len(m) > len(best) {
			best = m
		}
	}
	return best
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func errLine(err error) int {
	var el modfile.ErrorList
	if errors.As(err, &el) && len(el) > 0 {
		return el[0].Pos.Line
	}
	return 0
}
