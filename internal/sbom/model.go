// Package sbom is redline's inventory model: what an image, a root
// filesystem, a binary or a Go module holds, found by catalogers that ride
// the one pass over the layers (package catalog), and encoded as CycloneDX,
// SPDX, redline's JSON or a table (package encode).
//
// # Model
//
// An [SBOM] describes one [Subject] and lists [Component]s, each with a
// stable ID, a package URL, where it was found (path and layer) and, for Go
// binaries, what the build info says. [Relationship]s link the subject to
// what it contains, a binary to the modules linked into it, a source module
// to its requirements, and a package to the files it owns.
package sbom

import (
	"sort"
	"time"
)

// SchemaVersion identifies redline's own JSON form of an [SBOM].
const SchemaVersion = "redline.dev/sbom/v1"

// SBOM is the inventory of one subject.
type SBOM struct {
	SchemaVersion string  `json:"schemaVersion"`
	Subject       Subject `json:"subject"`
	// Distro is the distribution the image declares, when it has one.
	Distro *Distro `json:"distro,omitempty"`
	// Components are sorted by type, name, version and path.
	Components    []Component    `json:"components"`
	Relationships []Relationship `json:"relationships"`
	// Warnings name content that could not be parsed; the rest of the
	// inventory stands.
	Warnings []Warning `json:"warnings,omitempty"`
	// Created is when the SBOM was made; zero keeps encoders reproducible
	// (they then use the subject's creation time or the Unix epoch).
	Created time.Time `json:"created,omitzero"`
	Tool    Tool      `json:"tool"`
}

// Tool names the producer.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// SubjectKind says what was inventoried.
type SubjectKind string

// Subject kinds.
const (
	SubjectImage    SubjectKind = "image"
	SubjectDir      SubjectKind = "directory"
	SubjectFile     SubjectKind = "file"
	SubjectGoModule SubjectKind = "go-module"
)

// Subject is what the SBOM describes.
type Subject struct {
	Kind SubjectKind `json:"kind"`
	// Ref is the target as given, with its scheme.
	Ref string `json:"ref"`
	// Name and Version are the image name and tag, the module path and
	// version, or the file name.
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// Digest is the image manifest digest or the file's sha256.
	Digest   string    `json:"digest,omitempty"`
	Platform string    `json:"platform,omitempty"`
	Created  time.Time `json:"created,omitzero"`
	// ID is the subject's component ID in relationships.
	ID string `json:"id"`
}

// Distro is the operating system an image declares in os-release.
type Distro struct {
	ID         string `json:"id"`
	VersionID  string `json:"versionID,omitempty"`
	Codename   string `json:"codename,omitempty"`
	PrettyName string `json:"prettyName,omitempty"`
	// IDLike lists the distributions it derives from.
	IDLike []string `json:"idLike,omitempty"`
}

// Type is a component's kind.
type Type string

// Component types.
const (
	TypeGoModule Type = "go-module" // a module linked into a binary or required by a source module
	TypeStdlib   Type = "go-stdlib" // the Go standard library and toolchain
	TypeBinary   Type = "binary"    // an executable (a Go binary, or an unknown Go binary)
	TypeDeb      Type = "deb"
	TypeApk      Type = "apk"
	TypeOS       Type = "os"
)

// Component is one thing found.
type Component struct {
	// ID is unique within the SBOM and stable across runs.
	ID      string `json:"id"`
	Type    Type   `json:"type"`
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	PURL    string `json:"purl,omitempty"`
	// Path is where it was found (the binary, or the package database);
	// Layer the index of the layer that added it (-1 when not in an image).
	Path  string `json:"path,omitempty"`
	Layer int    `json:"layer"`
	// Licenses as declared (apk); empty when unknown.
	Licenses []string `json:"licenses,omitempty"`
	// Hash is the Go checksum database hash ("h1:...") of a module.
	Hash string `json:"hash,omitempty"`
	// Source names the source package (deb) or origin (apk) and its
	// version when they differ from the binary package's.
	SourceName    string `json:"sourceName,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	Arch          string `json:"arch,omitempty"`
	// Replaced is the module a replace directive swapped out: Name and
	// Version are the replacement, Replaced the original.
	Replaced *Module `json:"replaced,omitempty"`
	// Main is true for the main module of a binary.
	Main bool `json:"main,omitempty"`
	// Files are the paths a package owns (deb, apk), when listed.
	Files []string `json:"files,omitempty"`
	// Go is set on binaries with Go build info.
	Go *GoBinary `json:"go,omitempty"`
	// ELF describes an executable's linking, when it is ELF.
	ELF *ELFInfo `json:"elf,omitempty"`
}

// Module is a Go module path and version.
type Module struct {
	Path    string `json:"path"`
	Version string `json:"version,omitempty"`
	Hash    string `json:"hash,omitempty"`
}

// GoBinary is what a Go binary's build info says.
type GoBinary struct {
	// GoVersion is the toolchain, e.g. "go1.26.8". Empty for an unknown Go
	// binary (no build info, runtime recognised).
	GoVersion string `json:"goVersion,omitempty"`
	// Path is the main package path.
	Path string `json:"path,omitempty"`
	Main Module `json:"main"`
	// Settings are the build settings in build-info order: CGO_ENABLED,
	// GOOS, GOARCH, GOAMD64, -ldflags, -tags, -trimpath, vcs.revision, ...
	Settings []Setting `json:"settings,omitempty"`
	// NoBuildInfo marks a binary recognised as Go by its runtime without
	// readable build info.
	NoBuildInfo bool `json:"noBuildInfo,omitempty"`
	// GoLine is the go line whose GODEBUG defaults the binary follows, as
	// its DefaultGODEBUG setting implies ("1.16"); empty when it follows
	// its toolchain's own defaults.
	GoLine string `json:"goLine,omitempty"`
	// GODEBUG lists the settings whose value differs from the defaults of
	// the toolchain that built the binary (package godebug).
	GODEBUG []GODEBUGValue `json:"godebug,omitempty"`
}

// GODEBUGValue is one GODEBUG setting a binary carries.
type GODEBUGValue struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Default string `json:"default,omitempty"` // the toolchain's default
	Class   string `json:"class"`             // security, behaviour, performance, unknown
	// Insecure marks a security setting weaker than the toolchain's
	// default that nothing acknowledges; Acknowledged one that a godebug
	// line pins on purpose.
	Insecure     bool `json:"insecure,omitempty"`
	Acknowledged bool `json:"acknowledged,omitempty"`
}

// Setting is one build setting.
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Get returns the value of a build setting.
func (g *GoBinary) Get(key string) string {
	for _, s := range g.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// ELFInfo describes how an ELF executable is linked.
type ELFInfo struct {
	Class    string `json:"class"` // "ELF64" or "ELF32"
	Machine  string `json:"machine"`
	Static   bool   `json:"static"`   // no program interpreter
	PIE      bool   `json:"pie"`      // position independent (ET_DYN)
	Stripped bool   `json:"stripped"` // no symbol table
}

// RelType is a relationship kind.
type RelType string

// Relationship kinds, named after SPDX's.
const (
	RelContains  RelType = "contains"   // image -> package or binary; package -> file
	RelDependsOn RelType = "depends-on" // binary -> module; module -> module
)

// Relationship links two component IDs (or the subject ID).
type Relationship struct {
	From string  `json:"from"`
	Type RelType `json:"type"`
	To   string  `json:"to"`
}

// Warning is content that could not be parsed inside a readable input.
type Warning struct {
	Path    string `json:"path"`
	Layer   int    `json:"layer"`
	Message string `json:"message"`
}

// Sort puts components, relationships and warnings in a stable order.
func (s *SBOM) Sort() {
	sort.SliceStable(s.Components, func(i, j int) bool {
		a, b := s.Components[i], s.Components[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Path < b.Path
	})
	sort.SliceStable(s.Relationships, func(i, j int) bool {
		a, b := s.Relationships[i], s.Relationships[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.To < b.To
	})
	sort.SliceStable(s.Warnings, func(i, j int) bool {
		a, b := s.Warnings[i], s.Warnings[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Layer < b.Layer
	})
}
