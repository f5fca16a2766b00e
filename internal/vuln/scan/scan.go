// Package scan runs a vulnerability scan of one target: the SBOM pass over
// an image (with the function tables of its Go binaries read on the same
// walk), a single binary, a Go source module (govulncheck's engine for
// call-level reachability), or an SBOM file; then matching, VEX and fix
// advice. It assembles a [vuln.Result] that always states the data's age.
package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/redline-go/redline/internal/godebug"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/catalog"
	"github.com/redline-go/redline/internal/sbom/catalog/gobinary"
	"github.com/redline-go/redline/internal/sbom/inventory"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/gosym"
	"github.com/redline-go/redline/internal/vuln/match"
	"github.com/redline-go/redline/internal/vuln/source"
	"github.com/redline-go/redline/internal/vuln/vex"
)

// DefaultMaxAge is how old data may be before reports call it stale.
const DefaultMaxAge = 7 * 24 * time.Hour

// Options configure a scan.
type Options struct {
	// DB is the vulnerability data; required.
	DB *db.DB
	// Image and Pass configure reading images.
	Image image.Options
	Pass  image.PassOptions
	// VEX, when set, suppresses the findings its statements cover.
	VEX *vex.Document
	// MaxAge marks older data stale; default DefaultMaxAge.
	MaxAge time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// MaxSymbolBytes bounds what is kept of one binary to read its
	// function table during the pass; default 512 MiB.
	MaxSymbolBytes int64
	// SourceCacheDir is where source scans are cached and the database
	// layout for govulncheck's engine is written; default
	// os.UserCacheDir()/redline.
	SourceCacheDir string
	// GoEnv is extra environment for source scans (GOFLAGS, GOTOOLCHAIN).
	GoEnv []string
	// FindingsOnly skips a source scan's inventory of the module (`go
	// list` of the build list and the packages, about 0.2 s): the result
	// then holds govulncheck's findings and no components. For callers
	// that use only the findings, as check does.
	FindingsOnly bool
	Logger       *slog.Logger
	// GoTarget is the toolchain release the upgrade-safety list of a
	// toolchain fix is computed for; default the fix's own release.
	GoTarget string
	// NoReferrerVEX skips the OpenVEX documents attached to a scanned
	// image as referrers, which are otherwise applied with VEX.
	NoReferrerVEX bool
	// MaxReferrerBytes bounds one attached document; default
	// image.DefaultMaxReferrerBytes (1 MiB).
	MaxReferrerBytes int64
}

// Target scans one target and returns the result and the SBOM it matched.
func Target(ctx context.Context, t image.Target, o Options) (*vuln.Result, *sbom.SBOM, error) {
	if o.DB == nil || o.DB.Len() == 0 {
		return nil, nil, errors.New("no vulnerability data: the result would be a false 'no vulnerabilities' (run `redline db update`, or check --db)")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch t.Scheme {
	case image.GoSource:
		return goSource(ctx, t, o)
	case image.File:
		if s, ok, err := readSBOMFile(t.Value); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", t, err)
		} else if ok {
			return finish(t.String(), s, nil, o, false), s, nil
		}
		return binary(t, o)
	}
	return imageTarget(ctx, t, o)
}

// symbolsVisitor reads the function table of every executable during the
// pass; only the final filesystem's copies are used.
type symbolsVisitor struct {
	max    int64
	tables catalog.Versions[*gosym.Table]
	errs   map[string]string
}

func (v *symbolsVisitor) Visit(e *image.Entry) bool {
	return e.Kind == image.KindFile && e.Size >= 64 && gobinary.IsExecutable(e.Magic)
}

func (v *symbolsVisitor) Content(e *image.Entry, r io.Reader) error {
	c := gosym.NewCollector(v.max)
	if _, err := io.Copy(c, r); err != nil {
		return err
	}
	t, err := c.Table()
	if err != nil {
		v.errs[e.Path] = err.Error()
		v.tables.Add(e.Path, e.Layer, nil)
		return nil
	}
	v.tables.Add(e.Path, e.Layer, t)
	return nil
}

func imageTarget(ctx context.Context, t image.Target, o Options) (*vuln.Result, *sbom.SBOM, error) {
	img, err := image.Open(ctx, t, o.Image)
	if err != nil {
		return nil, nil, err
	}
	defer img.Close()
	p := inventory.NewPass()
	max := o.MaxSymbolBytes
	if max <= 0 {
		max = 512 << 20
	}
	sv := &symbolsVisitor{max: max, errs: map[string]string{}}
	res, err := image.Walk(ctx, img, o.Pass, append(p.Visitors(), sv)...)
	if err != nil {
		return nil, nil, err
	}
	s := p.Finish(img, res)
	var attached []attachedVEX
	var refWarnings []string
	if !o.NoReferrerVEX {
		attached, refWarnings = referrerVEX(ctx, img, o)
		if len(attached) > 0 {
			docs := []*vex.Document{o.VEX}
			for _, a := range attached {
				docs = append(docs, a.doc)
			}
			o.VEX = vex.Merge(docs...)
		}
	}
	tables := map[string]match.Symbols{}
	for _, path := range sv.tables.Paths() {
		vs := sv.tables.Final(res.Tree, path)
		if len(vs) > 0 && vs[len(vs)-1].Value != nil {
			tables[path] = vs[len(vs)-1].Value
		}
	}
	r := finish(img.Ref, s, func(path string) match.Symbols { return tables[path] }, o, false)
	r.Warnings = append(append(r.Warnings, refWarnings...), appliedNotes(attached, r.Findings)...)
	upgradeSafety(r, s, func(path string) *gosym.Table {
		t, _ := tables[path].(*gosym.Table)
		return t
	}, o)
	if img.Digest.Hex != "" {
		r.Digest = img.Digest.String()
	}
	return r, s, nil
}

func binary(t image.Target, o Options) (*vuln.Result, *sbom.SBOM, error) {
	s, err := inventory.File(t.Value)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", t, err)
	}
	var tab *gosym.Table
	var tabErr error
	if f, err := os.Open(t.Value); err == nil {
		if fi, err := f.Stat(); err == nil {
			tab, tabErr = gosym.Read(f, fi.Size())
		}
		f.Close()
	}
	if tabErr != nil {
		o.Logger.Debug("function table", "path", t.Value, "err", tabErr)
	}
	r := finish(t.String(), s, func(string) match.Symbols {
		if tab == nil {
			return nil
		}
		return tab
	}, o, false)
	upgradeSafety(r, s, func(string) *gosym.Table { return tab }, o)
	return r, s, nil
}

func goSource(ctx context.Context, t image.Target, o Options) (*vuln.Result, *sbom.SBOM, error) {
	var s *sbom.SBOM
	if o.FindingsOnly {
		s = &sbom.SBOM{SchemaVersion: sbom.SchemaVersion, Tool: inventory.Tool, Subject: sbom.Subject{Kind: sbom.SubjectGoModule, Ref: "go:" + t.Value, ID: "subject"}}
	} else {
		var err error
		if s, err = inventory.GoSource(ctx, t.Value, nil); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", t, err)
		}
	}
	cache := CacheDir(o.SourceCacheDir)
	layout := filepath.Join(cache, "govulndb", o.DB.Fingerprint())
	if _, err := os.Stat(filepath.Join(layout, "index", "db.json")); err != nil {
		if err := writeLayout(o.DB, layout); err != nil {
			return nil, nil, fmt.Errorf("writing the database for the source scan: %w", err)
		}
	}
	// A package directory inside a module is scanned as that package of
	// its module (govulncheck's engine wants the module directory).
	dir, patterns := t.Value, []string(nil)
	if root, rel, ok := packageOfModule(t.Value); ok {
		dir, patterns = root, []string{"./" + filepath.ToSlash(rel)}
	}
	fs, err := source.Scan(ctx, source.Options{
		DBDir: layout, Dir: dir, Patterns: patterns, Env: o.GoEnv, Cache: true,
		CacheDir: filepath.Join(cache, "source-scan"), DataVersion: o.DB.Fingerprint(),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", t, err)
	}
	r := finish(t.String(), s, nil, o, true)
	// govulncheck's engine grades source findings itself (with call
	// paths); the matcher's own results for the module stand in only for
	// what it does not cover (none today) — so its findings replace them.
	for i := range fs {
		fs[i].Component.Layer = -1
		if e := o.DB.Entry(fs[i].ID); e != nil && fs[i].Summary == "" {
			fs[i].Summary = e.Summary
		}
	}
	r.Findings = fs
	match.SortFindings(r.Findings)
	applyVEX(r, o, "")
	r.Fixes = match.Fixes(r.Findings, o.DB)
	return r, s, nil
}

// CacheDir is dir, or by default redline's directory in the user cache
// (os.UserCacheDir()/redline, else a directory in os.TempDir()): where
// source scans, the database layout for govulncheck's engine and check's
// go mod verify results are kept.
func CacheDir(dir string) string {
	if dir != "" {
		return dir
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "redline")
	}
	return filepath.Join(os.TempDir(), "redline-cache")
}

// writeLayout writes the database layout atomically: a half-written
// layout must never be mistaken for data.
func writeLayout(d *db.DB, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".layout-*")
	if err != nil {
		return err
	}
	if err := d.WriteVulnDBLayout(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if _, serr := os.Stat(filepath.Join(dir, "index", "db.json")); serr == nil {
			return nil // written by a concurrent scan
		}
		return err
	}
	return nil
}

// finish matches, applies VEX, advises fixes and states the data.
func finish(target string, s *sbom.SBOM, symbols func(string) match.Symbols, o Options, toolchain bool) *vuln.Result {
	r := &vuln.Result{SchemaVersion: vuln.SchemaVersion, Target: target, Components: len(s.Components)}
	fs, warns := match.Match(s, o.DB, match.Options{Symbols: symbols, Toolchain: toolchain})
	r.Findings = fs
	r.Warnings = append(r.Warnings, warns...)
	for _, w := range s.Warnings {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s (layer %d): %s", w.Path, w.Layer, w.Message))
	}
	r.Data = dataOf(o)
	if r.Data.Stale {
		o.Logger.Warn("vulnerability data is stale: run `redline db update`", "age_days", r.Data.AgeDays)
	}
	applyVEX(r, o, productOf(s))
	r.Fixes = match.Fixes(r.Findings, o.DB)
	if r.Findings == nil {
		r.Findings = []vuln.Finding{}
	}
	if r.Fixes == nil {
		r.Fixes = []vuln.Fix{}
	}
	return r
}

// productOf names what was scanned for VEX: an image by its digest as
// pkg:oci/NAME@sha256:..., a file by its digest.
func productOf(s *sbom.SBOM) string {
	if s.Subject.Kind == sbom.SubjectImage && s.Subject.Digest != "" {
		return vex.ImagePURL(s.Subject.Name, s.Subject.Digest)
	}
	return s.Subject.Digest
}

func applyVEX(r *vuln.Result, o Options, product string) {
	if r.Data.Date.IsZero() {
		r.Data = dataOf(o)
	}
	if o.VEX == nil {
		return
	}
	if product == "" {
		product = r.Target
	}
	r.Findings = vex.Apply(o.VEX, r.Findings, product)
}

func dataOf(o Options) vuln.Data {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	maxAge := o.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	d := vuln.Data{Date: o.DB.Date()}
	for _, s := range o.DB.Sources() {
		d.Sources = append(d.Sources, vuln.DataSource{Name: s.Name, Version: s.Version, Date: s.Date, Entries: s.Entries})
	}
	age := now().Sub(d.Date)
	d.AgeDays = int(age.Hours() / 24)
	d.Stale = age > maxAge
	return d
}

// readSBOMFile recognises an SBOM given as a file (redline's JSON or
// CycloneDX JSON from redline, syft or trivy).
func readSBOMFile(path string) (*sbom.SBOM, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if !bytes.HasPrefix(bytes.TrimSpace(head[:n]), []byte("{")) {
		return nil, false, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, false, err
	}
	s, err := inventory.ReadSBOM(f)
	if err != nil {
		return nil, false, err
	}
	return s, true, nil
}

// upgradeSafety adds to each toolchain fix the GODEBUG settings that flip
// on the way to the new release, and whether the binary links the
// packages they affect (from its function table).
func upgradeSafety(r *vuln.Result, s *sbom.SBOM, table func(path string) *gosym.Table, o Options) {
	bins := map[string]*sbom.GoBinary{}
	for _, c := range s.Components {
		if c.Type == sbom.TypeBinary && c.Go != nil && c.Go.GoVersion != "" {
			bins[c.Path] = c.Go
		}
	}
	for i := range r.Fixes {
		fx := &r.Fixes[i]
		if fx.Kind != "toolchain" {
			continue
		}
		target := o.GoTarget
		if target == "" {
			target = fx.To
		}
		if target == "" {
			continue
		}
		// The binaries whose stdlib this fix covers.
		for _, f := range r.Findings {
			if f.Component.Type != string(sbom.TypeStdlib) || f.Component.Version != fx.From {
				continue
			}
			gb := bins[f.Component.Path]
			if gb == nil {
				continue
			}
			rep := godebug.Effective(godebug.Binary{Name: f.Component.Path, GoVersion: gb.GoVersion, DefaultGODEBUG: gb.Get("DefaultGODEBUG")}, "")
			var links func(string) bool
			if t := table(f.Component.Path); t != nil {
				pkgs := map[string]bool{}
				for _, p := range t.Packages() {
					pkgs[p] = true
				}
				links = func(p string) bool { return pkgs[p] }
			}
			changes, err := rep.Upgrade(target, "", links)
			if err != nil {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s: GODEBUG changes to %s: %v", f.Component.Path, target, err))
				break
			}
			fx.GODEBUGTarget = target
			for _, c := range changes {
				fx.GODEBUG = append(fx.GODEBUG, vuln.GODEBUGChange{
					Name: c.Name, Class: string(c.Class), From: c.From, To: c.To, Why: c.Why, Link: string(c.Link), BreaksBuild: c.BreaksBuild,
				})
			}
			break // one binary speaks for the fix; the table shows where
		}
	}
}

// packageOfModule finds the module above a directory without a go.mod:
// its root and the directory's path relative to it.
func packageOfModule(dir string) (root, rel string, ok bool) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", false
	}
	root = inventory.ModuleRoot(abs)
	if root == "" || root == abs {
		return "", "", false
	}
	rel, err = filepath.Rel(root, abs)
	return root, rel, err == nil
}
