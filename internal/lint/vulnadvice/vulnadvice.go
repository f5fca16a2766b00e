// Package vulnadvice answers RL-GO-010's question — which Go release fixes
// the known vulnerabilities of the standard library and the toolchain a
// version has — from redline's vulnerability data (internal/vuln), the
// same matching and fix advice `redline scan` gives.
package vulnadvice

import (
	"fmt"
	"sync"

	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog/gobinary"
	"github.com/redline-go/redline/internal/vuln/match"
)

// Advisor implements gomod.Advisor. The data is opened on first use, so
// lint runs without Go modules never load it.
type Advisor struct {
	open func() (match.DB, error)
	once sync.Once
	db   match.DB
	err  error
}

// New returns an advisor over the data open returns.
func New(open func() (match.DB, error)) *Advisor { return &Advisor{open: open} }

// StdlibFix returns the smallest release that clears every advisory of
// the stdlib and toolchain at version ("go1.26.8"), and those advisories.
func (a *Advisor) StdlibFix(version string) (string, []string, error) {
	a.once.Do(func() { a.db, a.err = a.open() })
	if a.err != nil {
		return "", nil, fmt.Errorf("vulnerability data: %w", a.err)
	}
	v := gobinary.StdlibVersion(version)
	s := &sbom.SBOM{Components: []sbom.Component{{ID: "golang:stdlib@" + v, Type: sbom.TypeStdlib, Name: "stdlib", Version: v, Layer: -1}}}
	fs, _ := match.Match(s, a.db, match.Options{Toolchain: true})
	if len(fs) == 0 {
		return "", nil, nil
	}
	for _, f := range match.Fixes(fs, a.db) {
		if f.Kind == "toolchain" && f.To != "" {
			return f.To, f.Clears, nil
		}
	}
	return "", nil, nil
}
