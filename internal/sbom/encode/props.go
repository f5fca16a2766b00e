package encode

import (
	"strconv"
	"strings"

	"github.com/redline-go/redline/internal/sbom"
)

// Property names: what the model knows that the standard fields of CycloneDX
// and SPDX cannot hold. CycloneDX carries them as component and metadata
// properties; SPDX as "name=value" lines in the package or document comment.
// Together with the standard fields they keep every field of the model, so
// a reader can rebuild the model from a CycloneDX document.
const (
	PropType          = "redline:type"           // the model's component type ("deb", "go-module", ...)
	PropLayer         = "redline:layer"          // index of the image layer that added the component
	PropPath          = "redline:path"           // where it was found: the binary or the package database
	PropArch          = "redline:arch"           // package architecture
	PropSourceName    = "redline:source:name"    // deb source package, apk origin
	PropSourceVersion = "redline:source:version" // deb source version
	PropHash          = "redline:hash"           // a module hash that is not an h1: SHA-256
	PropGoMain        = "redline:go:main"        // "true" on the main module of a binary
	PropGoVersion     = "redline:go:version"     // toolchain that built a binary ("go1.26.8")
	PropGoPath        = "redline:go:path"        // main package path of a binary
	PropGoMainPath    = "redline:go:main:path"   // main module of a binary
	PropGoMainVersion = "redline:go:main:version"
	PropGoMainHash    = "redline:go:main:hash"
	PropGoNoBuildInfo = "redline:go:no-build-info" // "true": Go runtime recognised, build info unreadable
	// GODEBUG (package godebug): the go line the defaults follow, and one
	// property per setting that differs from the toolchain's default, as
	// "name=value"; security settings weaker than the default are findings,
	// those a godebug line pins on purpose waivers.
	PropGODEBUGGoLine  = "redline:godebug:goLine"
	PropGODEBUGFinding = "redline:godebug:finding"
	PropGODEBUGWaiver  = "redline:godebug:waiver"
	PropGODEBUGUnknown = "redline:godebug:unknown"
	PropGODEBUGSetting = "redline:godebug:setting"
	// PropGoSetting prefixes a build setting's key:
	// "redline:go:setting:-ldflags", "redline:go:setting:vcs.revision".
	PropGoSetting  = "redline:go:setting:"
	PropELFClass   = "redline:elf:class"
	PropELFMachine = "redline:elf:machine"
	PropELFStatic  = "redline:elf:static" // "true" or "false"
	PropELFPIE     = "redline:elf:pie"
	PropELFStrip   = "redline:elf:stripped"
	// The replaced module of a go.mod replace directive. CycloneDX keeps it
	// as a pedigree ancestor; SPDX, which has no such field, as properties.
	PropGoReplacedPath    = "redline:go:replaced:path"
	PropGoReplacedVersion = "redline:go:replaced:version"
	PropGoReplacedHash    = "redline:go:replaced:hash"

	PropSubjectKind     = "redline:subject:kind" // image, directory, file, go-module
	PropSubjectRef      = "redline:subject:ref"
	PropSubjectPlatform = "redline:subject:platform"
	PropSubjectDigest   = "redline:subject:digest" // only when not expressible as a hash

	PropDistroID         = "redline:distro:id"
	PropDistroVersionID  = "redline:distro:version-id"
	PropDistroCodename   = "redline:distro:codename"
	PropDistroPrettyName = "redline:distro:pretty-name"
	PropDistroIDLike     = "redline:distro:id-like" // repeated, one per distribution

	// PropWarning is one warning: "layer N: PATH: MESSAGE" (no "layer N: "
	// outside images).
	PropWarning = "redline:warning"
)

type prop struct{ name, value string }

// componentProps lists a component's properties in a fixed order.
// replaced adds the replaced module (for SPDX).
func componentProps(c *sbom.Component, replaced bool) []prop {
	var ps []prop
	add := func(name, value string) {
		if value != "" {
			ps = append(ps, prop{name, value})
		}
	}
	add(PropType, string(c.Type))
	if c.Layer >= 0 {
		add(PropLayer, strconv.Itoa(c.Layer))
	}
	add(PropPath, c.Path)
	add(PropArch, c.Arch)
	add(PropSourceName, c.SourceName)
	add(PropSourceVersion, c.SourceVersion)
	if _, ok := goHash(c.Hash); !ok {
		add(PropHash, c.Hash)
	}
	if c.Main {
		add(PropGoMain, "true")
	}
	if r := c.Replaced; r != nil && replaced {
		add(PropGoReplacedPath, r.Path)
		add(PropGoReplacedVersion, r.Version)
		add(PropGoReplacedHash, r.Hash)
	}
	if g := c.Go; g != nil {
		add(PropGoVersion, g.GoVersion)
		add(PropGoPath, g.Path)
		add(PropGoMainPath, g.Main.Path)
		add(PropGoMainVersion, g.Main.Version)
		add(PropGoMainHash, g.Main.Hash)
		if g.NoBuildInfo {
			add(PropGoNoBuildInfo, "true")
		}
		for _, s := range g.Settings {
			// An empty value is a setting too (-tags=""), so keep it.
			ps = append(ps, prop{PropGoSetting + s.Key, s.Value})
		}
		add(PropGODEBUGGoLine, g.GoLine)
		for _, v := range g.GODEBUG {
			name := PropGODEBUGSetting
			switch {
			case v.Insecure:
				name = PropGODEBUGFinding
			case v.Acknowledged:
				name = PropGODEBUGWaiver
			case v.Class == "unknown":
				name = PropGODEBUGUnknown
			}
			ps = append(ps, prop{name, v.Name + "=" + v.Value})
		}
	}
	if e := c.ELF; e != nil {
		add(PropELFClass, e.Class)
		add(PropELFMachine, e.Machine)
		add(PropELFStatic, strconv.FormatBool(e.Static))
		add(PropELFPIE, strconv.FormatBool(e.PIE))
		add(PropELFStrip, strconv.FormatBool(e.Stripped))
	}
	return ps
}

// subjectProps lists the subject's properties.
func subjectProps(sub *sbom.Subject) []prop {
	var ps []prop
	add := func(name, value string) {
		if value != "" {
			ps = append(ps, prop{name, value})
		}
	}
	add(PropSubjectKind, string(sub.Kind))
	add(PropSubjectRef, sub.Ref)
	add(PropSubjectPlatform, sub.Platform)
	if _, _, ok := digest(sub.Digest); !ok {
		add(PropSubjectDigest, sub.Digest)
	}
	return ps
}

// documentProps lists the distribution and the warnings.
func documentProps(s *sbom.SBOM) []prop {
	var ps []prop
	add := func(name, value string) {
		if value != "" {
			ps = append(ps, prop{name, value})
		}
	}
	if d := s.Distro; d != nil {
		add(PropDistroID, d.ID)
		add(PropDistroVersionID, d.VersionID)
		add(PropDistroCodename, d.Codename)
		add(PropDistroPrettyName, d.PrettyName)
		for _, l := range d.IDLike {
			add(PropDistroIDLike, l)
		}
	}
	for _, w := range s.Warnings {
		add(PropWarning, warningText(w))
	}
	return ps
}

// warningText renders a warning on one line.
func warningText(w sbom.Warning) string {
	var b strings.Builder
	if w.Layer >= 0 {
		b.WriteString("layer ")
		b.WriteString(strconv.Itoa(w.Layer))
		b.WriteString(": ")
	}
	if w.Path != "" {
		b.WriteString(w.Path)
		b.WriteString(": ")
	}
	b.WriteString(w.Message)
	return b.String()
}

// propLines renders properties as "name=value" lines for SPDX comments.
// Newlines in values are escaped so that each property stays one line.
func propLines(ps []prop) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(strings.NewReplacer("\\", `\\`, "\n", `\n`).Replace(p.value))
	}
	return b.String()
}
