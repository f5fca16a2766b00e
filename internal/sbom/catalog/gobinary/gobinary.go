// Package gobinary catalogues Go executables (ELF, Mach-O, PE) from their
// build info: the main module, every module linked in with its version and
// h1: hash, replace directives, the toolchain as the stdlib component, the
// build settings, and how the ELF is linked (static, PIE, stripped).
//
// It reads each executable as a stream during the one pass — never whole
// in memory, never from disk — and so works on stripped binaries, whose
// build info survives stripping.
package gobinary

import (
	"bytes"
	"debug/elf"
	"io"
	"path"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/redline-go/redline/internal/godebug"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog"
)

// Binary is what one executable told.
type Binary struct {
	Info       *debug.BuildInfo // nil without readable build info
	GoVersion  string
	GoRuntime  bool // the Go runtime was recognised
	ELF        *sbom.ELFInfo
	Size       int64
	BuildError string // why the build info could not be read
}

// Cataloger finds Go binaries.
type Cataloger struct {
	bins catalog.Versions[*Binary]
}

// New returns a cataloger.
func New() *Cataloger { return &Cataloger{} }

// Name implements catalog.Cataloger.
func (c *Cataloger) Name() string { return "go-binary" }

// Visit wants executables by their magic number.
func (c *Cataloger) Visit(e *image.Entry) bool {
	return e.Kind == image.KindFile && e.Size >= 64 && IsExecutable(e.Magic)
}

// IsExecutable recognises ELF, Mach-O and PE headers.
func IsExecutable(m []byte) bool {
	switch {
	case bytes.HasPrefix(m, []byte(elf.ELFMAG)):
		return true
	case len(m) >= 4 && (bytes.HasPrefix(m, []byte{0xfe, 0xed, 0xfa}) || bytes.HasPrefix(m[1:], []byte{0xfa, 0xed, 0xfe})):
		return true // Mach-O, either byte order, 32 or 64 bit
	case bytes.HasPrefix(m, []byte("MZ")):
		return true
	}
	return false
}

// Content implements image.Visitor.
func (c *Cataloger) Content(e *image.Entry, r io.Reader) error {
	b, err := Read(r)
	if err != nil {
		return err
	}
	if b != nil {
		c.bins.Add(e.Path, e.Layer, b)
	}
	return nil
}

// Read scans one executable. It returns nil for executables that are not
// Go; a Go binary whose build info is unreadable comes back with
// BuildError set. Only I/O errors are errors.
func Read(r io.Reader) (*Binary, error) {
	res, err := scan(r)
	if err != nil {
		return nil, err
	}
	b := &Binary{GoRuntime: res.goRuntime, Size: res.size}
	if e := res.elf; e != nil {
		b.ELF = &sbom.ELFInfo{
			Class: e.class.String(), Machine: machineName(e.machine),
			Static: e.phOK && !e.interp, PIE: e.typ == elf.ET_DYN, Stripped: e.shOK && !e.symtab,
		}
		if !e.shOK && e.phOK {
			// No section headers at all (sstrip): nothing to say it has symbols.
			b.ELF.Stripped = true
		}
	}
	if res.buildInfo != nil {
		version, modinfo, err := decodeBuildInfo(res.buildInfo)
		b.GoVersion = version
		switch {
		case err != nil:
			b.BuildError = err.Error()
		case modinfo == "":
			// Built outside module mode (GOPATH, go run of a file list):
			// the toolchain is known, the modules are not.
			b.Info = &debug.BuildInfo{GoVersion: version}
		default:
			bi, perr := debug.ParseBuildInfo(modinfo)
			if perr != nil {
				b.BuildError = "module info: " + perr.Error()
			} else {
				bi.GoVersion = version
				b.Info = bi
			}
		}
		return b, nil
	}
	if !res.goRuntime {
		return nil, nil
	}
	b.BuildError = "no build info (the Go runtime is there: a Go binary built without module info, or with it removed)"
	return b, nil
}

func machineName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_386:
		return "i386"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_PPC64:
		return "ppc64"
	case elf.EM_S390:
		return "s390x"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

// Results implements catalog.Cataloger.
func (c *Cataloger) Results(t *image.Tree, env *catalog.Env) catalog.Findings {
	var f catalog.Findings
	paths := c.bins.Paths()
	sort.Strings(paths)
	for _, p := range paths {
		vs := c.bins.Final(t, p)
		if len(vs) == 0 {
			continue
		}
		v := vs[len(vs)-1]
		comps, rels, warn := Components(p, v.Layer, v.Value)
		f.Components = append(f.Components, comps...)
		f.Relationships = append(f.Relationships, rels...)
		if warn != "" {
			f.Warnings = append(f.Warnings, sbom.Warning{Path: p, Layer: v.Layer, Message: warn})
		}
	}
	return f
}

// Components turns one binary into SBOM components: the binary itself,
// its main module, the stdlib, and every dependency, each linked from the
// binary. A binary without readable build info is still listed (as an
// unknown Go binary) with a warning.
func Components(binPath string, layer int, b *Binary) ([]sbom.Component, []sbom.Relationship, string) {
	binID := "bin:" + binPath
	bin := sbom.Component{ID: binID, Type: sbom.TypeBinary, Name: path.Base(binPath), Path: binPath, Layer: layer, ELF: b.ELF}
	gb := &sbom.GoBinary{GoVersion: b.GoVersion}
	bin.Go = gb
	var comps []sbom.Component
	var rels []sbom.Relationship
	add := func(c sbom.Component) {
		c.ID += "#" + binPath // a module is listed per binary that links it
		comps = append(comps, c)
		rels = append(rels, sbom.Relationship{From: binID, Type: sbom.RelDependsOn, To: c.ID})
	}
	if b.GoVersion != "" {
		v := StdlibVersion(b.GoVersion)
		add(sbom.Component{
			ID: "golang:stdlib@" + v, Type: sbom.TypeStdlib, Name: "stdlib", Version: v,
			PURL: packageurl.NewPackageURL("golang", "", "stdlib", v, nil, "").ToString(),
			Path: binPath, Layer: layer,
		})
	}
	warn := b.BuildError
	if b.Info == nil {
		gb.NoBuildInfo = true
		return append([]sbom.Component{bin}, comps...), rels, warn
	}
	bi := b.Info
	gb.Path = bi.Path
	gb.Main = sbom.Module{Path: bi.Main.Path, Version: bi.Main.Version, Hash: bi.Main.Sum}
	for _, s := range bi.Settings {
		gb.Settings = append(gb.Settings, sbom.Setting{Key: s.Key, Value: s.Value})
	}
	gd := godebug.FromBuildInfo(binPath, bi, "")
	gb.GoLine = gd.GoLine
	findings := map[string]godebug.Finding{}
	for _, f := range gd.Findings() {
		findings[f.Name] = f
	}
	for _, v := range gd.Settings {
		if !v.NonDefault() {
			continue
		}
		f, isFinding := findings[v.Name]
		gb.GODEBUG = append(gb.GODEBUG, sbom.GODEBUGValue{
			Name: v.Name, Value: v.Value, Default: v.Default, Class: string(v.Class),
			Insecure: isFinding && !f.Acknowledged, Acknowledged: isFinding && f.Acknowledged,
		})
	}
	for _, w := range gd.Warnings {
		if warn != "" {
			warn += "; "
		}
		warn += "GODEBUG: " + w.Message
	}
	if bi.Main.Path != "" {
		bin.Name = bi.Main.Path
		if bi.Path != "" && bi.Path != bi.Main.Path {
			bin.Name = bi.Path
		}
		// "(devel)" is what Go records without a VCS tag; the vcs.revision
		// setting, when stamped, says which source it was.
		mv := bi.Main.Version
		bin.Version = mv
		main := moduleComponent(debug.Module{Path: bi.Main.Path, Version: mv, Sum: bi.Main.Sum}, binPath, layer)
		main.Main = true
		add(main)
	}
	for _, d := range bi.Deps {
		add(moduleComponent(*d, binPath, layer))
	}
	return append([]sbom.Component{bin}, comps...), rels, warn
}

// moduleComponent lists a module; for a replaced module the replacement is
// what was linked, and the original is kept.
func moduleComponent(m debug.Module, binPath string, layer int) sbom.Component {
	c := sbom.Component{Type: sbom.TypeGoModule, Name: m.Path, Version: m.Version, Hash: m.Sum, Path: binPath, Layer: layer}
	if r := m.Replace; r != nil {
		c.Replaced = &sbom.Module{Path: m.Path, Version: m.Version, Hash: m.Sum}
		c.Name, c.Version, c.Hash = r.Path, r.Version, r.Sum
		if r.Version == "" || r.Version == "(devel)" {
			// A local directory replacement: no version exists; the original
			// module's version says what it stands in for.
			c.Name, c.Version = m.Path, m.Version
		}
	}
	c.ID = "golang:" + c.Name + "@" + c.Version
	if c.Version != "" && c.Version != "(devel)" && !strings.HasPrefix(c.Name, "/") && !strings.HasPrefix(c.Name, ".") {
		c.PURL = GoPURL(c.Name, c.Version)
	}
	return c
}

// GoPURL returns pkg:golang/NAMESPACE/NAME@VERSION.
func GoPURL(modPath, version string) string {
	ns, name := path.Split(modPath)
	return packageurl.NewPackageURL("golang", strings.TrimSuffix(ns, "/"), name, version, nil, "").ToString()
}

// StdlibVersion turns a toolchain name into the stdlib component's
// version: "go1.26.8" → "1.26.8", "go1.27rc1" → "1.27.0-rc.1" (the form
// the Go vulnerability database uses). Anything else (a devel toolchain)
// is kept as is.
func StdlibVersion(goVersion string) string {
	v := strings.TrimPrefix(goVersion, "go")
	if v == goVersion {
		return goVersion
	}
	// Strip experiments and the X: suffixes ("go1.26.8 X:boringcrypto").
	v, _, _ = strings.Cut(v, " ")
	pre := ""
	for _, tag := range []string{"rc", "beta"} {
		if i := strings.Index(v, tag); i > 0 {
			pre = "-" + tag + "." + v[i+len(tag):]
			v = v[:i]
		}
	}
	if strings.Count(v, ".") == 1 {
		v += ".0"
	}
	return v + pre
}
