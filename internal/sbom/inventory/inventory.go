// Package inventory makes SBOMs: it runs the catalogers on the one pass
// over an image or root filesystem, reads single binaries, and lists the
// build list of Go source modules.
package inventory

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog"
	"github.com/redline-go/redline/internal/sbom/catalog/list"
)

// Tool is the producer recorded in SBOMs; cmd/redline sets the version.
var Tool = sbom.Tool{Name: "redline", Version: "dev"}

// Pass is the SBOM side of one pass over an image: its visitors ride the
// walk, and Finish turns what they saw into an SBOM. Other steps (analyze,
// lint) can share the same walk.
type Pass struct {
	cats []catalog.Cataloger
}

// NewPass returns the catalogers of package list, ready to ride a walk.
func NewPass() *Pass { return &Pass{cats: list.All()} }

// Visitors returns the visitors to pass to image.Walk.
func (p *Pass) Visitors() []image.Visitor { return catalog.Visitors(p.cats) }

// Finish builds the SBOM of img from what the walk saw.
func (p *Pass) Finish(img *image.Image, res *image.Result) *sbom.SBOM {
	s := &sbom.SBOM{SchemaVersion: sbom.SchemaVersion, Tool: Tool, Subject: subjectOf(img)}
	f := catalog.Collect(p.cats, res.Tree)
	f.Merge(s)
	contain(s)
	s.Sort()
	return s
}

// Image opens a target, walks it once and returns its SBOM.
func Image(ctx context.Context, t image.Target, o image.Options, po image.PassOptions) (*sbom.SBOM, error) {
	img, err := image.Open(ctx, t, o)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	p := NewPass()
	res, err := image.Walk(ctx, img, po, p.Visitors()...)
	if err != nil {
		return nil, err
	}
	return p.Finish(img, res), nil
}

func subjectOf(img *image.Image) sbom.Subject {
	sub := sbom.Subject{Kind: sbom.SubjectImage, Ref: img.Ref, Name: img.Name, Created: img.Created(), ID: "subject"}
	if img.Scheme == image.Dir {
		sub.Kind = sbom.SubjectDir
		sub.Name = strings.TrimPrefix(img.Ref, "dir:")
	}
	if sub.Name == "" {
		sub.Name = img.Ref
	}
	if n, tag, ok := cutTag(sub.Name); ok {
		sub.Name, sub.Version = n, tag
	}
	if img.Digest.Hex != "" {
		sub.Digest = img.Digest.String()
	}
	if img.Platform != nil {
		sub.Platform = img.Platform.String()
	}
	return sub
}

// cutTag splits "name:tag", leaving registry ports alone.
func cutTag(ref string) (string, string, bool) {
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ref, "", false
	}
	return ref[:i], ref[i+1:], true
}

// contain links the subject to every top-level component (binaries, OS
// packages, the OS) and packages to the files they own, so the standard
// formats keep the graph.
func contain(s *sbom.SBOM) {
	for _, c := range s.Components {
		switch c.Type {
		case sbom.TypeBinary, sbom.TypeDeb, sbom.TypeApk, sbom.TypeOS:
			s.Relationships = append(s.Relationships, sbom.Relationship{From: s.Subject.ID, Type: sbom.RelContains, To: c.ID})
		}
	}
}

// describe is used in errors about a single file.
func describe(p string) string { return fmt.Sprintf("%q", path.Clean(p)) }
