// Package source finds which known vulnerabilities a Go module's source can
// reach, with govulncheck's engine (golang.org/x/vuln/scan) run in process
// against a database directory in the vuln.go.dev layout.
//
// The engine streams JSON messages (config, SBOM, progress, osv, finding).
// A finding's level is implied by how deep its trace goes: a trace whose
// innermost frame names a function is a called symbol, one that names only
// a package is an imported package, one that names only a module is a
// required module. Scan folds the stream into one [vuln.Finding] per (OSV
// ID, module) at its strongest level.
//
// The engine is slow (it builds SSA and a call graph of the whole
// program), so Scan can cache its result per source and data version; see
// [Options.Cache].
package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/version"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/package-url/packageurl-go"
	"golang.org/x/vuln/scan"

	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/osv"
)

// Options configures [Scan].
type Options struct {
	// DBDir is a directory in the vuln.go.dev layout (index/db.json,
	// index/modules.json, ID/<id>.json); the file:// URL is built here.
	DBDir string
	// Dir is the module directory (the one holding go.mod); default ".".
	Dir string
	// Patterns are the package patterns to analyse, relative to Dir;
	// default ./...
	Patterns []string
	// Env is extra environment for the go command (GOFLAGS=-mod=vendor,
	// GOTOOLCHAIN=local, GOOS=...), appended to the process environment;
	// as with os/exec, the last value of a key wins.
	Env []string

	// Cache reuses the result of an earlier Scan of the same source with
	// the same data, Go toolchain and options. The key hashes go.mod,
	// go.sum, go.work, vendor/modules.txt and every .go file under Dir
	// (and under directories that go.mod replaces modules with, or that
	// go.work uses), the database's index files (or DataVersion), the go
	// command's GOVERSION, GOOS, GOARCH, GOFLAGS, CGO_ENABLED,
	// GOEXPERIMENT and GOWORK, Patterns, Env and the engine's version.
	Cache bool
	// CacheDir holds the cached results, one <key>.json per key, written
	// atomically; default os.UserCacheDir()/redline/source-scan. A result
	// that cannot be cached is still returned.
	CacheDir string
	// DataVersion names the data's version in the cache key (for example
	// the embedded snapshot's version). When empty the database's
	// index/db.json and index/modules.json are hashed instead.
	DataVersion string
}

// Scan runs govulncheck's source analysis (symbol level) on the packages
// of the module in o.Dir and returns one finding per (OSV ID, module) at
// its strongest level, ordered called first, then by ID and module:
//
//   - Reach is Called when a vulnerable symbol is reachable from the
//     analysed packages, Imported when a vulnerable package is imported
//     but none of its vulnerable symbols is reachable, Required when only
//     the module is in the build list.
//   - Trace (Called only) is one example call path, outermost frame first
//     (a function of the scanned module) down to the vulnerable symbol;
//     the shortest the engine reported, ties broken by name. Frame.Function
//     is pkg.Func, pkg.T.M or pkg.(*T).M; Frame.Position is
//     file:line:column with the file relative to its module's root
//     (GOROOT for the standard library), as the engine reports it.
//   - Component is go-stdlib for the standard library (Name "stdlib",
//     Version "1.26.8" as the Go database writes it, without "v") and
//     go-module otherwise (Version as Go writes it, "v0.3.7"); PURL is
//     pkg:golang/..., ID golang:NAME@VERSION as in redline's SBOMs, and
//     Layer -1.
//   - Packages are the vulnerable packages reached (Called: those whose
//     symbols are called; Imported: those imported; Required: those the
//     entry lists for the module). Symbols (Called only) are the
//     vulnerable symbols reached, as pkg.Symbol in the OSV form
//     (net/http.Server.ListenAndServe), sorted.
//   - Fixed is the engine's fixed version (the closest fix for the Go
//     line in use for the standard library), in the Component.Version
//     form; empty when no fix exists.
//   - Aliases, Summary and URL come from the OSV entry; Severity is
//     unknown (the Go database carries none). Withdrawn entries are
//     dropped by the engine.
func Scan(ctx context.Context, o Options) ([]vuln.Finding, error) {
	if o.DBDir == "" {
		return nil, errors.New("source scan: no vulnerability database directory")
	}
	dbDir, err := filepath.Abs(o.DBDir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dbDir, "index", "modules.json")); err != nil {
		return nil, fmt.Errorf("source scan: %s is not a vulnerability database in the vuln.go.dev layout (no index/modules.json)", o.DBDir)
	}
	if o.Dir == "" {
		o.Dir = "."
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return nil, fmt.Errorf("source scan: %s is not a Go module (no go.mod)", o.Dir)
	}
	patterns := o.Patterns
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	env := append(os.Environ(), o.Env...)

	// The engine asks `go env GOVERSION` in the process's directory and
	// environment; ask in the module's, where go.mod's toolchain line and
	// o.Env apply, and hand the answer over as GOVERSION.
	genv, err := goEnv(ctx, dir, env)
	if err != nil {
		return nil, err
	}
	env = append(env, "GOVERSION="+genv["GOVERSION"])

	var key, cacheFile string
	if o.Cache {
		key, err = cacheKey(o, dir, dbDir, patterns, genv)
		if err != nil {
			return nil, err
		}
		cacheDir := o.CacheDir
		if cacheDir == "" {
			ucd, err := os.UserCacheDir()
			if err != nil {
				return nil, fmt.Errorf("source scan: cache: %w", err)
			}
			cacheDir = filepath.Join(ucd, "redline", "source-scan")
		}
		cacheFile = filepath.Join(cacheDir, key+".json")
		if fs, ok := readCache(cacheFile, key); ok {
			return fs, nil
		}
	}

	args := []string{"-db", fileURL(dbDir), "-C", dir, "-format", "json", "-scan", "symbol"}
	args = append(args, patterns...)
	var stdout, stderr bytes.Buffer
	run := runEngine
	if newerMinor(genv["GOVERSION"], runtime.Version()) {
		// The engine type-checks the standard library of the toolchain in
		// use; go/types of an older Go refuses a newer release's source.
		// Run the same engine version compiled by that toolchain.
		run = runEngineCommand
	}
	if err := run(ctx, env, args, &stdout, &stderr); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return nil, fmt.Errorf("source scan of %s: %w: %s", o.Dir, err, msg)
		}
		return nil, fmt.Errorf("source scan of %s: %w", o.Dir, err)
	}
	findings, err := parseStream(&stdout)
	if err != nil {
		return nil, fmt.Errorf("source scan of %s: reading the engine's output: %w", o.Dir, err)
	}
	if o.Cache {
		// A cache that cannot be written costs time, not results.
		_ = writeCache(cacheFile, key, genv["GOVERSION"], findings)
	}
	return findings, nil
}

// runEngine runs govulncheck in process. Tests replace it to count runs.
var runEngine = func(ctx context.Context, env, args []string, stdout, stderr io.Writer) error {
	cmd := scan.Command(ctx, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader("")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	// The engine's package loading does not watch ctx; stop waiting on
	// cancellation (the engine finishes in the background).
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runEngineCommand runs the same govulncheck version as a command built by
// the go command of env (`go run golang.org/x/vuln/cmd/govulncheck@V`):
// for toolchains newer than the one redline was built with. It needs the
// module from the module cache or GOPROXY.
var runEngineCommand = func(ctx context.Context, env, args []string, stdout, stderr io.Writer) error {
	v := strings.TrimPrefix(strings.Fields(engineVersion())[0], "golang.org/x/vuln@")
	if !strings.HasPrefix(v, "v") {
		v = fallbackEngineVersion
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", "golang.org/x/vuln/cmd/govulncheck@" + v}, args...)...)
	cmd.Dir = os.TempDir()
	cmd.Env = env
	cmd.Stdin = strings.NewReader("")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

// fallbackEngineVersion is go.mod's golang.org/x/vuln, for binaries
// without build info (tests).
const fallbackEngineVersion = "v1.9.0"

// newerMinor reports whether Go release a is of a newer minor line than b
// ("go1.27.3" vs "go1.26.8"); unknown forms (a devel toolchain) are not
// newer.
func newerMinor(a, b string) bool {
	return version.IsValid(a) && version.IsValid(b) && version.Compare(version.Lang(a), version.Lang(b)) > 0
}

// goEnvVars are the go command settings that change the analysis.
var goEnvVars = []string{"GOVERSION", "GOOS", "GOARCH", "GOFLAGS", "CGO_ENABLED", "GOEXPERIMENT", "GOWORK"}

func goEnv(ctx context.Context, dir string, env []string) (map[string]string, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"env", "-json"}, goEnvVars...)...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("source scan: go env in %s: %w: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	m := map[string]string{}
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("source scan: go env: %w", err)
	}
	if m["GOVERSION"] == "" {
		return nil, errors.New("source scan: go env reports no GOVERSION")
	}
	return m, nil
}

func fileURL(dir string) string {
	p := filepath.ToSlash(dir)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/x -> /C:/x
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// The engine's JSON messages (golang.org/x/vuln/internal/govulncheck,
// protocol v1.0.0), the parts Scan reads.
type message struct {
	Config  *struct{ ProtocolVersion string } `json:"config,omitempty"`
	OSV     *osv.Entry                        `json:"osv,omitempty"`
	Finding *engineFinding                    `json:"finding,omitempty"`
}

type engineFinding struct {
	OSV          string         `json:"osv"`
	FixedVersion string         `json:"fixed_version"`
	Trace        []*engineFrame `json:"trace"` // innermost (the vulnerable symbol) first
}

type engineFrame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
	Receiver string `json:"receiver"`
	Position *struct {
		Filename string `json:"filename"`
		Line     int    `json:"line"`
		Column   int    `json:"column"`
	} `json:"position"`
}

type group struct {
	id, module, version, fixed string
	reach                      vuln.Reach
	packages, symbols          map[string]bool
	trace                      []vuln.Frame
}

func parseStream(r io.Reader) ([]vuln.Finding, error) {
	dec := json.NewDecoder(r)
	entries := map[string]*osv.Entry{}
	groups := map[[2]string]*group{}
	var order [][2]string
	sawConfig := false
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		switch {
		case m.Config != nil:
			sawConfig = true
		case m.OSV != nil:
			entries[m.OSV.ID] = m.OSV
		case m.Finding != nil:
			f := m.Finding
			if len(f.Trace) == 0 || f.Trace[0] == nil {
				return nil, fmt.Errorf("finding for %s has no trace", f.OSV)
			}
			top := f.Trace[0]
			k := [2]string{f.OSV, top.Module}
			g := groups[k]
			if g == nil {
				g = &group{id: f.OSV, module: top.Module, packages: map[string]bool{}, symbols: map[string]bool{}}
				groups[k] = g
				order = append(order, k)
			}
			if g.version == "" {
				g.version = top.Version
			}
			if g.fixed == "" {
				g.fixed = f.FixedVersion
			}
			reach := vuln.Required
			switch {
			case top.Function != "":
				reach = vuln.Called
			case top.Package != "":
				reach = vuln.Imported
			}
			if reach.Rank() > g.reach.Rank() {
				g.reach = reach
				clear(g.packages)
				clear(g.symbols)
				g.trace = nil
			}
			if reach != g.reach {
				continue
			}
			if top.Package != "" {
				g.packages[top.Package] = true
			}
			if reach == vuln.Called {
				g.symbols[top.Package+"."+osvSymbol(top.Receiver, top.Function)] = true
				t := traceOf(f.Trace)
				if g.trace == nil || betterTrace(t, g.trace) {
					g.trace = t
				}
			}
		}
	}
	if !sawConfig {
		return nil, errors.New("no config message (is this govulncheck's JSON?)")
	}
	findings := make([]vuln.Finding, 0, len(order))
	for _, k := range order {
		g := groups[k]
		e := entries[g.id]
		if e != nil && !e.Withdrawn.IsZero() {
			continue
		}
		fd := vuln.Finding{
			ID:        g.id,
			Severity:  vuln.SevUnknown,
			Component: component(g.module, g.version),
			Reach:     g.reach,
			Trace:     g.trace,
			Fixed:     versionForm(g.module, g.fixed),
			URL:       "https://pkg.go.dev/vuln/" + g.id,
		}
		if g.reach == vuln.Required && e != nil {
			for _, a := range e.Affected {
				if a.Package.Name == g.module && a.EcosystemSpecific != nil {
					for _, imp := range a.EcosystemSpecific.Imports {
						g.packages[imp.Path] = true
					}
				}
			}
		}
		fd.Packages = sortedKeys(g.packages)
		fd.Symbols = sortedKeys(g.symbols)
		if e != nil {
			fd.Aliases = slices.Clone(e.Aliases)
			fd.Summary = e.Summary
			var ds struct {
				URL string `json:"url"`
			}
			if len(e.DatabaseSpecific) > 0 && json.Unmarshal(e.DatabaseSpecific, &ds) == nil && ds.URL != "" {
				fd.URL = ds.URL
			}
		}
		findings = append(findings, fd)
	}
	slices.SortStableFunc(findings, func(a, b vuln.Finding) int {
		if d := b.Reach.Rank() - a.Reach.Rank(); d != 0 {
			return d
		}
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return strings.Compare(a.Component.Name, b.Component.Name)
	})
	return findings, nil
}

// component names a module as redline's SBOMs do.
func component(module, version string) vuln.ComponentRef {
	c := vuln.ComponentRef{Type: "go-module", Name: module, Version: versionForm(module, version), Layer: -1}
	if module == "stdlib" || module == "toolchain" {
		c.Type = "go-stdlib"
	}
	c.ID = "golang:" + c.Name + "@" + c.Version
	if c.Version != "" {
		ns, name := "", module
		if i := strings.LastIndex(module, "/"); i >= 0 {
			ns, name = module[:i], module[i+1:]
		}
		c.PURL = packageurl.NewPackageURL("golang", ns, name, c.Version, nil, "").ToString()
	}
	return c
}

// versionForm writes a version of module the way redline's components do:
// the standard library's without "v" (1.26.8), modules' with (v0.3.7).
func versionForm(module, v string) string {
	if module == "stdlib" || module == "toolchain" {
		return strings.TrimPrefix(v, "v")
	}
	return v
}

// osvSymbol writes a function as the Go database names symbols: Func or
// Type.Method (no pointer).
func osvSymbol(recv, fn string) string {
	recv = strings.TrimPrefix(recv, "*")
	if recv == "" {
		return fn
	}
	return recv + "." + fn
}

// traceOf turns the engine's innermost-first trace into frames, outermost
// first.
func traceOf(tr []*engineFrame) []vuln.Frame {
	out := make([]vuln.Frame, 0, len(tr))
	for i := len(tr) - 1; i >= 0; i-- {
		f := tr[i]
		if f == nil {
			continue
		}
		fn := f.Package + "." + f.Function
		switch {
		case strings.HasPrefix(f.Receiver, "*"):
			fn = f.Package + ".(" + f.Receiver + ")." + f.Function
		case f.Receiver != "":
			fn = f.Package + "." + f.Receiver + "." + f.Function
		}
		fr := vuln.Frame{Function: fn}
		if p := f.Position; p != nil && p.Line > 0 {
			fr.Position = fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column)
		}
		out = append(out, fr)
	}
	return out
}

// betterTrace prefers shorter traces, then the smaller by function names,
// so the example is stable although the engine's order is not.
func betterTrace(a, b []vuln.Frame) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	for i := range a {
		if c := strings.Compare(a[i].Function, b[i].Function); c != 0 {
			return c < 0
		}
		if c := strings.Compare(a[i].Position, b[i].Position); c != 0 {
			return c < 0
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
