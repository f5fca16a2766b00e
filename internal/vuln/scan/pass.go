package scan

import (
	"log/slog"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/gosym"
	"github.com/redline-go/redline/internal/vuln/match"
)

// Pass is the scan's share of a walk that other steps ride too (the
// check loop): it reads the function tables of the executables while the
// walk streams them, and Finish matches the SBOM the same walk made.
//
//	inv, sp := inventory.NewPass(), scan.NewPass(o)
//	res, err := image.Walk(ctx, img, po, append(inv.Visitors(), sp.Visitors()...)...)
//	s := inv.Finish(img, res)
//	r := sp.Finish(img, res, s)
type Pass struct {
	o  Options
	sv *symbolsVisitor
}

// NewPass returns the scan visitors for one walk. o.DB is required by
// Finish.
func NewPass(o Options) *Pass {
	max := o.MaxSymbolBytes
	if max <= 0 {
		max = 512 << 20
	}
	return &Pass{o: o, sv: &symbolsVisitor{max: max, errs: map[string]string{}}}
}

// Visitors returns the visitors to add to the walk.
func (p *Pass) Visitors() []image.Visitor { return []image.Visitor{p.sv} }

// Tables returns the function tables of the final filesystem's Go
// binaries, by path.
func (p *Pass) Tables(res *image.Result) map[string]*gosym.Table {
	out := map[string]*gosym.Table{}
	for _, path := range p.sv.tables.Paths() {
		vs := p.sv.tables.Final(res.Tree, path)
		if len(vs) > 0 && vs[len(vs)-1].Value != nil {
			out[path] = vs[len(vs)-1].Value
		}
	}
	return out
}

// Finish matches s (the SBOM of the same walk) with reachability from the
// function tables, applies VEX, and advises fixes.
func (p *Pass) Finish(img *image.Image, res *image.Result, s *sbom.SBOM) *vuln.Result {
	o := p.o
	if o.Logger == nil {
		o.Logger = discard
	}
	tables := p.Tables(res)
	r := finish(img.Ref, s, func(path string) match.Symbols {
		if t := tables[path]; t != nil {
			return t
		}
		return nil
	}, o, false)
	upgradeSafety(r, s, func(path string) *gosym.Table { return tables[path] }, o)
	if img.Digest.Hex != "" {
		r.Digest = img.Digest.String()
	}
	return r
}

var discard = slog.New(slog.DiscardHandler)
