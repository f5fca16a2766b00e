package catalog

import (
	"github.com/package-url/packageurl-go"

	"github.com/redline-go/redline/internal/sbom"
)

// AddedIn returns the layer that added an item of a package database: the
// earliest copy, in the unbroken run of copies ending with the final one,
// that still lists it (same name and version, as has says).
func AddedIn[T any](vs []Version[T], has func(T) bool) int {
	layer := vs[len(vs)-1].Layer
	for i := len(vs) - 2; i >= 0; i-- {
		if !has(vs[i].Value) {
			break
		}
		layer = vs[i].Layer
	}
	return layer
}

// DistroPURL returns the package URL of an OS package: the distribution's
// ID is the namespace (defaultNS when os-release is missing), with arch,
// distro (ID-VERSION_ID) and upstream qualifiers.
func DistroPURL(typ, defaultNS, name, version, arch, upstream string, d *sbom.Distro) string {
	ns := defaultNS
	var q packageurl.Qualifiers
	if arch != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: arch})
	}
	if d != nil && d.ID != "" && d.ID != "linux" {
		ns = d.ID
		if d.VersionID != "" {
			q = append(q, packageurl.Qualifier{Key: "distro", Value: d.ID + "-" + d.VersionID})
		}
	}
	if upstream != "" {
		q = append(q, packageurl.Qualifier{Key: "upstream", Value: upstream})
	}
	return packageurl.NewPackageURL(typ, ns, name, version, q, "").ToString()
}
