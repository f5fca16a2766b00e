// Package list names every cataloger, in the order their results are
// collected.
package list

import (
	"github.com/redline-go/redline/internal/sbom/catalog"
	"github.com/redline-go/redline/internal/sbom/catalog/apk"
	"github.com/redline-go/redline/internal/sbom/catalog/dpkg"
	"github.com/redline-go/redline/internal/sbom/catalog/gobinary"
	"github.com/redline-go/redline/internal/sbom/catalog/osrelease"
)

// All returns a fresh instance of every cataloger, os-release first.
func All() []catalog.Cataloger {
	return []catalog.Cataloger{
		osrelease.New(),
		dpkg.New(),
		apk.New(),
		gobinary.New(),
	}
}
