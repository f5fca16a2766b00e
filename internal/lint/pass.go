package lint

import (
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/lint/imagecheck"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/sbom"
)

// Pass is the lint side of one walk over an image, in the shape of
// inventory.Pass: its visitors ride the walk beside others (SBOM
// catalogers, layer analysis), and Finish turns what they saw into
// findings.
//
//	inv, lp := inventory.NewPass(), lint.NewPass(o)
//	res, err := image.Walk(ctx, img, po, append(inv.Visitors(), lp.Visitors()...)...)
//	s := inv.Finish(img, res)
//	rep := lp.Finish(img, res)
type Pass struct {
	p     *imagecheck.Pass
	facts *imagecheck.Facts
}

// NewPass returns the image rules ready to ride a walk.
func NewPass(o Options) *Pass {
	return &Pass{p: imagecheck.NewPass(imagecheck.Options{AllowCaps: o.allow()})}
}

// NewSharedPass is NewPass for a walk that also makes an SBOM: the Go
// binaries come from the SBOM, which shared returns once the walk is done
// (called from Finish), so executables are read once.
func NewSharedPass(o Options, shared func() *sbom.SBOM) *Pass {
	return &Pass{p: imagecheck.NewPass(imagecheck.Options{AllowCaps: o.allow(), GoBinaries: func() []sbom.Component {
		if s := shared(); s != nil {
			return s.Components
		}
		return nil
	}})}
}

// Visitors returns the visitors to pass to image.Walk.
func (p *Pass) Visitors() []image.Visitor { return p.p.Visitors() }

// Finish returns the report of the image's own rules. Findings carry the
// image's reference as their target.
func (p *Pass) Finish(img *image.Image, res *image.Result) *rule.Report {
	r := p.p.Finish(img, res)
	p.facts = r.Facts
	rep := &rule.Report{SchemaVersion: rule.SchemaVersion, Tool: Tool, Targets: []rule.Target{{Target: img.Ref, Kind: rule.Image}}, Findings: r.Findings, Warnings: r.Warnings}
	for i := range rep.Findings {
		rep.Findings[i].Target, rep.Findings[i].Kind = img.Ref, rule.Image
	}
	for i := range rep.Warnings {
		rep.Warnings[i].Target = img.Ref
	}
	rule.Sort(rep.Findings)
	rep.Summarize()
	return rep
}

// Facts returns what the image tells the manifest cross-checks; nil
// before Finish.
func (p *Pass) Facts() *imagecheck.Facts { return p.facts }
