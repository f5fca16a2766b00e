// Package catalog defines the cataloger contract and the helpers catalogers
// share. Each cataloger is a small package (gobinary, dpkg, apk, osrelease)
// listed explicitly in package list: no init() registration.
package catalog

import (
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom"
)

// Cataloger finds components while the pass streams by. It is an
// [image.Visitor]: Visit says which entries it wants to read, Content
// parses them. Results is called once the final filesystem is known, so a
// cataloger reports only what the final filesystem still holds (a package
// database deleted by a later layer reports nothing) and names the layer
// that added each component.
type Cataloger interface {
	image.Visitor
	// Name identifies the cataloger in warnings and docs.
	Name() string
	// Results returns what was found. env carries what other catalogers
	// learned first (the distro, for package URLs).
	Results(t *image.Tree, env *Env) Findings
}

// Env is shared context for turning findings into components.
type Env struct {
	Distro *sbom.Distro
}

// Findings are one cataloger's results.
type Findings struct {
	Components    []sbom.Component
	Relationships []sbom.Relationship
	Warnings      []sbom.Warning
	Distro        *sbom.Distro
}

// Merge appends f's results to s, with the subject containing every
// top-level component (binaries, packages, the OS).
func (f Findings) Merge(s *sbom.SBOM) {
	s.Components = append(s.Components, f.Components...)
	s.Relationships = append(s.Relationships, f.Relationships...)
	s.Warnings = append(s.Warnings, f.Warnings...)
	if f.Distro != nil {
		s.Distro = f.Distro
	}
}

// Visitors returns the catalogers as visitors of the pass.
func Visitors(cs []Cataloger) []image.Visitor {
	vs := make([]image.Visitor, len(cs))
	for i, c := range cs {
		vs[i] = c
	}
	return vs
}

// Collect gathers the results of catalogers after the pass, in list order
// (os-release first, so package URLs know the distro).
func Collect(cs []Cataloger, t *image.Tree) Findings {
	env := &Env{}
	var all Findings
	for _, c := range cs {
		f := c.Results(t, env)
		if f.Distro != nil {
			env.Distro = f.Distro
			all.Distro = f.Distro
		}
		all.Components = append(all.Components, f.Components...)
		all.Relationships = append(all.Relationships, f.Relationships...)
		all.Warnings = append(all.Warnings, f.Warnings...)
	}
	return all
}

// Versions keeps, for one path, what a cataloger parsed from each layer's
// copy, and answers which copy the final filesystem shows.
type Versions[T any] struct {
	byPath map[string][]Version[T]
}

// Version is what was parsed from one copy of a file.
type Version[T any] struct {
	Layer int
	Value T
}

// Add records the parse of path's copy in layer.
func (v *Versions[T]) Add(path string, layer int, val T) {
	if v.byPath == nil {
		v.byPath = map[string][]Version[T]{}
	}
	vs := v.byPath[path]
	if n := len(vs); n > 0 && vs[n-1].Layer == layer {
		vs[n-1].Value = val // the later copy in one layer wins
		return
	}
	v.byPath[path] = append(vs, Version[T]{Layer: layer, Value: val})
}

// Final returns the copies of path up to and including the one the final
// filesystem shows, oldest first; nil when the path is gone or its final
// copy was not parsed.
func (v *Versions[T]) Final(t *image.Tree, path string) []Version[T] {
	fi, ok := t.Lookup(path)
	if !ok || fi.Kind != image.KindFile {
		return nil
	}
	vs := v.byPath[path]
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Layer == fi.Layer {
			return vs[:i+1]
		}
	}
	return nil
}

// Paths returns every path recorded.
func (v *Versions[T]) Paths() []string {
	out := make([]string, 0, len(v.byPath))
	for p := range v.byPath {
		out = append(out, p)
	}
	return out
}
