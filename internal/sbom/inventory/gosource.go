package inventory

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog/gobinary"
)

// GoRunner runs the go command in dir and returns its stdout. Tests
// replace it; the default runs `go` from PATH.
type GoRunner func(ctx context.Context, dir string, args ...string) ([]byte, error)

// RunGo is the default GoRunner.
func RunGo(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("go %s: %s", strings.Join(args, " "), msg)
	}
	return out, nil
}

type listedModule struct {
	Path, Version, Sum string
	Main               bool
	Replace            *listedModule
}

type listedPackage struct {
	ImportPath string
	Standard   bool
	Module     *listedModule
}

// GoSource makes the SBOM of a Go module directory: the modules its
// packages (and their dependencies) come from, as `go list -deps` sees
// them, the standard library of the local toolchain, and the module graph
// of `go mod graph` among them.
func GoSource(ctx context.Context, dir string, run GoRunner) (*sbom.SBOM, error) {
	if run == nil {
		run = RunGo
	}
	out, err := run(ctx, dir, "list", "-deps", "-json=ImportPath,Standard,Module", "./...")
	if err != nil {
		return nil, err
	}
	mods := map[string]*listedModule{}
	var main *listedModule
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading go list output: %w", err)
		}
		if p.Standard || p.Module == nil {
			continue
		}
		if p.Module.Main {
			main = p.Module
			continue
		}
		mods[p.Module.Path] = p.Module
	}
	if main == nil {
		return nil, fmt.Errorf("%s: no packages of a main module (is it a Go module?)", describe(dir))
	}
	goVersion, err := run(ctx, dir, "env", "GOVERSION")
	if err != nil {
		return nil, err
	}
	s := &sbom.SBOM{
		SchemaVersion: sbom.SchemaVersion, Tool: Tool,
		Subject: sbom.Subject{Kind: sbom.SubjectGoModule, Ref: "go:" + dir, Name: main.Path, Version: main.Version, ID: "subject"},
	}
	modID := func(path, version string) string { return "golang:" + path + "@" + version }
	v := gobinary.StdlibVersion(strings.TrimSpace(string(goVersion)))
	s.Components = append(s.Components, sbom.Component{ID: "golang:stdlib@" + v, Type: sbom.TypeStdlib, Name: "stdlib", Version: v, PURL: "pkg:golang/stdlib@" + v, Layer: -1})
	s.Relationships = append(s.Relationships, sbom.Relationship{From: s.Subject.ID, Type: sbom.RelDependsOn, To: "golang:stdlib@" + v})
	byPathVersion := map[string]string{} // "path@version" as go mod graph names it -> component ID
	byPath := map[string]string{}        // module path -> component ID of the selected version
	for _, m := range mods {
		c := sbom.Component{Type: sbom.TypeGoModule, Name: m.Path, Version: m.Version, Hash: m.Sum, Layer: -1}
		if r := m.Replace; r != nil {
			c.Replaced = &sbom.Module{Path: m.Path, Version: m.Version, Hash: m.Sum}
			if r.Version != "" && r.Version != "(devel)" {
				c.Name, c.Version, c.Hash = r.Path, r.Version, r.Sum
			}
		}
		c.ID = modID(c.Name, c.Version)
		if c.Version != "" {
			c.PURL = gobinary.GoPURL(c.Name, c.Version)
		}
		s.Components = append(s.Components, c)
		byPathVersion[m.Path+"@"+m.Version] = c.ID
		byPath[m.Path] = c.ID
	}
	byPathVersion[main.Path] = s.Subject.ID
	graph, err := run(ctx, dir, "mod", "graph")
	if err != nil {
		return nil, err
	}
	seen := map[[2]string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(graph))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		from, to, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		// Edges from the selected versions count; a requirement of an
		// older version still points at the version selected.
		toPath, _, _ := strings.Cut(to, "@")
		f, t := byPathVersion[from], byPath[toPath]
		if f == "" || t == "" || seen[[2]string{f, t}] {
			continue // outside the packages built, or go/toolchain lines
		}
		seen[[2]string{f, t}] = true
		s.Relationships = append(s.Relationships, sbom.Relationship{From: f, Type: sbom.RelDependsOn, To: t})
	}
	s.Sort()
	return s, nil
}

// ModuleRoot returns the absolute directory of the go.mod at or above dir
// (the module a package directory belongs to), or "" when there is none.
func ModuleRoot(dir string) string {
	d, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		if fi, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && fi.Mode().IsRegular() {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}
