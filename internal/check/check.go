package check

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/redline-go/redline/internal/build"
	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/layers"
	"github.com/redline-go/redline/internal/lint"
	"github.com/redline-go/redline/internal/lint/gomod"
	"github.com/redline-go/redline/internal/lint/imagecheck"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/policy"
	"github.com/redline-go/redline/internal/sbom"
	"github.com/redline-go/redline/internal/sbom/inventory"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/db"
	"github.com/redline-go/redline/internal/vuln/scan"
	"github.com/redline-go/redline/internal/vuln/vex"
)

// Options configure [Run].
type Options struct {
	// Target is a Go package directory (go:PATH too; default ".") or any
	// image reference of package image.
	Target string
	// Policy names the policy file; default redline.yaml beside the
	// package, else in the working directory, else the defaults.
	Policy string
	// Baseline overrides the policy's build.baseline.
	Baseline string
	// Toolchain overrides the policy's build.toolchain for the build and
	// the source scan ("local" builds with this machine's Go). The
	// toolchain line still holds the image to the policy's pin.
	Toolchain string
	// Manifests are extra Dockerfiles, manifests or directories linted
	// with the image (added to the policy's build.manifests).
	Manifests []string
	// To keeps the built image (build destinations, e.g.
	// oci-dir:./out/hello); by default it is built into a temporary
	// directory and removed.
	To []string
	// Image and Pass configure opening and walking images.
	Image image.Options
	Pass  image.PassOptions
	// DB is the vulnerability data; required.
	DB *db.DB
	// VEX suppresses findings its statements cover.
	VEX *vex.Document
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives notes and warnings; default discard.
	Logger *slog.Logger
	// Step, when set, is told each step as it starts (progress).
	Step func(name string)
	// Walk, when set, runs the walk (so a caller can show progress).
	Walk func(ctx context.Context, img *image.Image, po image.PassOptions, vs ...image.Visitor) (*image.Result, error)
	// Environ is the environment of go commands; default os.Environ().
	Environ []string
	// SourceCacheDir caches source scans; default the user cache dir.
	SourceCacheDir string
	// NoSource skips source reachability for a package (findings keep
	// the binary's symbol-level grade).
	NoSource bool
	// NoRebuild skips the second build that proves reproducibility.
	NoRebuild bool
	// Go runs the go command for builds; tests replace it.
	Go build.GoFunc
	// TempDir holds the built image; default os.TempDir().
	TempDir string
	// LintGo configures lint's Go module rules.
	LintGo lint.Options
}

// ErrUsage marks errors in what the caller asked for (a bad policy, a
// target that is neither a package nor an image): exit 2.
var ErrUsage = errors.New("check: bad input")

type usage struct{ err error }

func (u usage) Error() string         { return u.err.Error() }
func (u usage) Unwrap() []error       { return []error{u.err, ErrUsage} }
func usagef(f string, a ...any) error { return usage{fmt.Errorf(f, a...)} }

// run is the state of one check.
type run struct {
	o      Options
	ctx    context.Context
	log    *slog.Logger
	now    func() time.Time
	res    *Result
	pol    *policy.Policy
	pkgDir string
	tmp    string
	src    *task[*vuln.Result]
	// background are the done channels of the started tasks.
	background []chan struct{}
}

// sourceVEX attaches the source analysis to images kept with --to, as
// OpenVEX bound to each image's digest, so a later scan of the image
// without its source applies it (issue 5). It waits for the source scan;
// when there is nothing to state (no findings, or the scan failed) it
// attaches nothing rather than failing the build.
type sourceVEX struct{ r *run }

func (s sourceVEX) Attach(ctx context.Context, b *build.Built) ([]build.Attachment, error) {
	res, err := s.r.src.wait()
	switch {
	case err != nil:
		s.r.res.Warnings = append(s.r.res.Warnings, "no OpenVEX attached: the source analysis failed: "+err.Error())
		return nil, nil
	case len(res.Findings) == 0:
		return nil, nil
	}
	a := vex.Attacher{Module: s.r.pkgDir, Findings: func(context.Context) ([]vuln.Finding, error) { return res.Findings, nil }}
	out, err := a.Attach(ctx, b)
	if err != nil {
		s.r.res.Warnings = append(s.r.res.Warnings, "no OpenVEX attached: "+err.Error())
		return nil, nil
	}
	return out, nil
}

func (r *run) step(name string) func() {
	if r.o.Step != nil {
		r.o.Step(name)
	}
	start := time.Now()
	return func() {
		r.res.Timings = append(r.res.Timings, Timing{Step: name, Seconds: time.Since(start).Seconds()})
	}
}

// Run runs the loop once.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.DB == nil || o.DB.Len() == 0 {
		return nil, errors.New("no vulnerability data: a check without it would be a false clean (run `redline db update`)")
	}
	if o.Target == "" {
		o.Target = "."
	}
	// Background work (the source scan, the module lint, the rebuild) ends
	// with Run: cancelled when it returns early, waited for always, so no
	// goroutine outlives it and the temporary directory goes last.
	ctx, cancel := context.WithCancel(ctx)
	r := &run{o: o, ctx: ctx, log: o.Logger, now: o.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.res = &Result{SchemaVersion: SchemaVersion, Tool: lint.Tool, Target: o.Target, Created: r.now().UTC(), Actions: []Action{}}
	defer func() {
		cancel()
		for _, done := range r.background {
			<-done
		}
		if r.tmp != "" {
			os.RemoveAll(r.tmp)
		}
	}()
	if err := r.run(); err != nil {
		return nil, err
	}
	return r.res, nil
}

func (r *run) run() error {
	o := r.o
	t, err := image.ParseTarget(o.Target)
	if err != nil {
		return usage{err}
	}
	if t.Resolved {
		r.log.Info("resolved target", "arg", o.Target, "as", t.Scheme, "because", t.Why)
	}
	switch t.Scheme {
	case image.GoSource:
		r.pkgDir = t.Value
		r.res.Kind = "package"
	case image.File:
		return usagef("%s: a single file is neither a Go package nor an image (check takes a package directory or an image; `redline scan` takes binaries)", o.Target)
	case image.Dir:
		return usagef("%s: a directory without go.mod or Go files, and not an image layout: check takes a Go package directory or an image", o.Target)
	default:
		r.res.Kind = "image"
	}
	polPath, err := policy.Find(o.Policy, r.pkgDir)
	if err != nil {
		return usage{err}
	}
	if r.pol, err = policy.Load(polPath); err != nil {
		return usage{err}
	}
	if polPath != "" {
		r.log.Info("policy", "file", polPath)
	}
	r.res.Policy = PolicyInfo{Path: polPath, Toolchain: r.pol.Build.Toolchain, Waivers: len(r.pol.Waivers)}

	var rebuild *task[reproduction]
	var img *image.Image
	var mod *task[*rule.Report]
	if r.pkgDir != "" {
		r.src = r.startSource()
		mod = r.startModuleLint()
		built, err := r.build()
		if err != nil {
			return err
		}
		if !o.NoRebuild && r.pol.Lines.Reproducible.Level != policy.Off {
			rebuild = r.startRebuild()
		}
		t = built
	}
	done := r.step("open")
	img, err = image.Open(r.ctx, t, r.imageOptions())
	done()
	if err != nil {
		return err
	}
	defer img.Close()
	r.res.Image = ImageInfo{Ref: img.Ref, Name: img.Name, Digest: img.Digest.String(), Platform: platformOf(img), Written: r.res.Image.Written}
	if img.Digest.Hex == "" {
		r.res.Image.Digest = ""
	}
	if err := r.pass(img); err != nil {
		return err
	}
	if r.src != nil {
		done := r.step("source reachability")
		r.mergeSource(r.src.wait())
		done()
	}
	if rebuild != nil {
		done := r.step("reproducibility")
		rp, _ := rebuild.wait()
		done()
		r.res.reproducible, r.res.reproNote = rp.same, rp.note
	}
	if err := r.baseline(); err != nil {
		return err
	}
	if err := r.lintManifests(img); err != nil {
		return err
	}
	if mod != nil {
		done := r.step("lint module")
		err := r.mergeModuleLint(mod.wait())
		done()
		if err != nil {
			return err
		}
	}
	r.evaluate()
	return nil
}

func platformOf(img *image.Image) string {
	if img.Config == nil {
		return ""
	}
	p := img.Config.OS + "/" + img.Config.Architecture
	if img.Config.Variant != "" {
		p += "/" + img.Config.Variant
	}
	return p
}

func (r *run) imageOptions() image.Options {
	io := r.o.Image
	if io.Logger == nil {
		io.Logger = r.log
	}
	return io
}

// toolchain is the GOTOOLCHAIN of the build and the source scan.
func (r *run) toolchain() string {
	if r.o.Toolchain != "" {
		return r.o.Toolchain
	}
	if r.pol.Build.Toolchain != "" {
		return r.pol.Build.Toolchain
	}
	// go.mod's toolchain line, which GOTOOLCHAIN=local (this machine's
	// default) ignores, is honoured when it asks for a newer Go: that is
	// what --fix writes when there is no policy pin.
	if tc := goModToolchain(r.pkgDir); tc != "" && policy.CompareGo(tc, runtime.Version()) > 0 {
		return tc
	}
	return ""
}

func (r *run) buildOptions(to []build.Destination, attach bool) build.Options {
	p := r.pol.Build
	bo := build.Options{
		Dir: r.pkgDir, Package: ".", Toolchain: r.toolchain(), Environ: r.o.Environ,
		Caps: buildCaps(p.Caps), Ports: p.Ports, User: p.User, TZData: p.TZData,
		To: to, SkipDefaultSize: true, Logger: r.log, Go: r.o.Go, TempDir: r.o.TempDir,
	}
	if attach {
		bo.Attachers = []build.Attacher{inventory.SBOMAttacher{}}
		if r.src != nil {
			bo.Attachers = append(bo.Attachers, sourceVEX{r: r})
		}
	}
	return bo
}

// build builds the package into a temporary layout (and o.To) and
// returns the layout as the target to check.
func (r *run) build() (image.Target, error) {
	done := r.step("build")
	defer done()
	tmp, err := os.MkdirTemp(r.o.TempDir, "redline-check-")
	if err != nil {
		return image.Target{}, err
	}
	r.tmp = tmp
	layout := filepath.Join(tmp, "image")
	dests := []build.Destination{}
	d, err := build.ParseDestination("oci-dir:" + layout)
	if err != nil {
		return image.Target{}, err
	}
	dests = append(dests, d)
	for _, s := range r.o.To {
		d, err := build.ParseDestination(s)
		if err != nil {
			return image.Target{}, usage{err}
		}
		dests = append(dests, d)
	}
	b, err := build.New(r.buildOptions(dests, len(r.o.To) > 0))
	if err != nil {
		if errors.Is(err, build.ErrInvalidOptions) {
			return image.Target{}, usage{err}
		}
		return image.Target{}, err
	}
	defer b.Close()
	br, err := b.Build(r.ctx)
	if err != nil {
		return image.Target{}, err
	}
	r.res.Build = br
	r.res.Image.Written = slices.Clone(br.Destinations[1:])
	return image.Target{Scheme: image.OCIDir, Value: layout}, nil
}

// task is work started in the background (beside the build or the pass)
// whose result the loop collects when it needs it.
type task[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// start runs f in the background; Run waits for every started task
// before it returns, after cancelling them when it returns early.
func start[T any](r *run, f func() (T, error)) *task[T] {
	t := &task[T]{done: make(chan struct{})}
	r.background = append(r.background, t.done)
	go func() {
		defer close(t.done)
		t.v, t.err = f()
	}()
	return t
}

// ready is a task with its result already known.
func ready[T any](v T, err error) *task[T] {
	t := &task[T]{done: make(chan struct{}), v: v, err: err}
	close(t.done)
	return t
}

func (t *task[T]) wait() (T, error) {
	<-t.done
	return t.v, t.err
}

// reproduction is the second build of the reproducible line: same is nil
// when it could not be made, note says why or what was compared.
type reproduction struct {
	same *bool
	note string
}

// startRebuild builds the package again, into its own layout, while the
// pass runs; the line holds when the digests agree.
func (r *run) startRebuild() *task[reproduction] {
	want := r.res.Build.Digest
	return start(r, func() (reproduction, error) {
		d, err := build.ParseDestination("oci-dir:" + filepath.Join(r.tmp, "rebuild"))
		if err != nil {
			return reproduction{note: err.Error()}, nil
		}
		b, err := build.New(r.buildOptions([]build.Destination{d}, false))
		if err != nil {
			return reproduction{note: "rebuild: " + err.Error()}, nil
		}
		defer b.Close()
		br, err := b.Build(r.ctx)
		if err != nil {
			return reproduction{note: "rebuild failed: " + err.Error()}, nil
		}
		same := br.Digest == want
		if !same {
			return reproduction{same: &same, note: fmt.Sprintf("first build %s, second %s", want, br.Digest)}, nil
		}
		return reproduction{same: &same, note: "built twice: " + want}, nil
	})
}

// startSource runs govulncheck's engine on the package while the image
// builds.
func (r *run) startSource() *task[*vuln.Result] {
	if r.o.NoSource {
		return ready[*vuln.Result](nil, errSkipped)
	}
	env := []string{}
	if tc := r.toolchain(); tc != "" {
		env = append(env, "GOTOOLCHAIN="+tc)
	}
	so := scan.Options{DB: r.o.DB, GoEnv: env, SourceCacheDir: r.o.SourceCacheDir, Logger: r.log, Now: r.o.Now, FindingsOnly: true}
	return start(r, func() (*vuln.Result, error) {
		res, _, err := scan.Target(r.ctx, image.Target{Scheme: image.GoSource, Value: r.pkgDir}, so)
		return res, err
	})
}

var errSkipped = errors.New("skipped (--no-source)")

// pass walks the image once for every step.
func (r *run) pass(img *image.Image) error {
	done := r.step("pass")
	inv := inventory.NewPass()
	so := scan.Options{DB: r.o.DB, VEX: r.o.VEX, Logger: r.log, Now: r.o.Now, MaxAge: time.Duration(r.pol.Lines.Data.MaxAgeDays) * 24 * time.Hour}
	sp := scan.NewPass(so)
	var s *sbom.SBOM
	lo := r.lintOptions()
	lp := lint.NewSharedPass(lo, func() *sbom.SBOM { return s })
	vs := append(append(inv.Visitors(), sp.Visitors()...), lp.Visitors()...)
	walk := r.o.Walk
	if walk == nil {
		walk = image.Walk
	}
	wres, err := walk(r.ctx, img, r.o.Pass, vs...)
	done()
	if err != nil {
		return err
	}
	done = r.step("analyze")
	s = inv.Finish(img, wres)
	r.res.Inventory = s
	a, err := layers.Analyze(img, wres, layers.Options{Top: 10})
	if err != nil {
		return err
	}
	r.res.Analysis = a
	r.res.tree = wres.Tree
	done()
	done = r.step("scan")
	r.res.Vulnerabilities = sp.Finish(img, wres, s)
	done()
	done = r.step("lint image")
	r.res.imageLint = lp.Finish(img, wres)
	r.res.facts = lp.Facts()
	r.res.Lint = r.res.imageLint // the manifests' lint, when it runs, includes it
	done()
	r.summarise(img, wres, s)
	return nil
}

func (r *run) lintOptions() lint.Options {
	lo := r.o.LintGo
	allow := caps.Of(r.pol.Lines.Capabilities.Allow...)
	lo.AllowCaps = &allow
	lo.Image, lo.Pass, lo.Logger = r.imageOptions(), r.o.Pass, r.log
	return lo
}

// lintManifests lints the Dockerfiles, manifests and Go module beside the
// package (or named by the policy) with the image as their image.
func (r *run) lintManifests(img *image.Image) error {
	done := r.step("lint")
	defer done()
	targets := []string{img.Ref}
	var extra []string
	extra = append(extra, r.pol.Build.Manifests...)
	extra = append(extra, r.o.Manifests...)
	if len(extra) == 0 && r.pkgDir != "" {
		extra = append(extra, r.pkgDir)
	}
	for _, m := range extra {
		if _, err := os.Stat(strings.TrimPrefix(m, "go:")); err != nil {
			return usagef("manifests: %v", err)
		}
	}
	targets = append(targets, extra...)
	lo := r.lintOptions()
	lo.Images = []string{img.Ref}
	lo.Walked = map[string]lint.Walked{img.Ref: {Report: r.res.imageLint, Facts: r.res.facts}}
	rep, err := lint.Run(r.ctx, targets, lo)
	if err != nil {
		if errors.Is(err, lint.ErrNothing) {
			return nil
		}
		return err
	}
	r.res.Lint = rep
	return nil
}

// startModuleLint lints the Go module holding the package (go.sum,
// GOPROXY settings, unused requirements — `go list` of the whole module)
// while the image builds: it needs nothing from the image.
func (r *run) startModuleLint() *task[*rule.Report] {
	root := inventory.ModuleRoot(r.pkgDir)
	if root == "" {
		return ready[*rule.Report](nil, nil)
	}
	lo := r.lintOptions()
	if lo.Go.Verify == nil {
		lo.Go.Verify = gomod.CachedVerify(scan.CacheDir(r.o.SourceCacheDir))
	}
	return start(r, func() (*rule.Report, error) {
		return lint.Run(r.ctx, []string{"go:" + root}, lo)
	})
}

// mergeModuleLint adds the module's findings to the check's lint report.
func (r *run) mergeModuleLint(rep *rule.Report, err error) error {
	if err != nil {
		if errors.Is(err, lint.ErrNothing) {
			return nil
		}
		return err
	}
	if rep == nil {
		return nil
	}
	// A new report: res.Lint may be the image's own, which --fix hands
	// back to lint as the walked image's findings.
	l := *r.res.Lint
	l.Targets = slices.Concat(l.Targets, rep.Targets)
	l.Findings = slices.Concat(l.Findings, rep.Findings)
	l.Warnings = slices.Concat(l.Warnings, rep.Warnings)
	l.Notes = slices.Concat(l.Notes, rep.Notes)
	rule.Sort(l.Findings)
	l.Summarize()
	r.res.Lint = &l
	return nil
}

// baseline measures the slimming against the policy's (or --baseline)
// image.
func (r *run) baseline() error {
	ref := r.o.Baseline
	if ref == "" {
		ref = r.pol.Build.Baseline
	}
	if ref == "" {
		return nil
	}
	done := r.step("baseline")
	defer done()
	t, err := image.ParseTarget(ref)
	if err != nil {
		return usagef("baseline %s: %v", ref, err)
	}
	ba, btree, err := layers.Run(r.ctx, t, r.imageOptions(), r.o.Pass, layers.Options{Top: 10})
	if err != nil {
		return fmt.Errorf("baseline %s: %w", ref, err)
	}
	c, err := layers.Compare(ba, btree, r.res.Analysis, r.res.tree, 10)
	if err != nil {
		return err
	}
	r.res.Comparison = c
	r.res.Size.Baseline = &BaselineBar{Ref: ref, CompressedBytes: c.Baseline.Summary.CompressedBytes, ImageBytes: c.Image.Summary.CompressedBytes, ReductionPct: c.Reduction.CompressedPercent}
	return nil
}

// summarise fills the size, privilege and SBOM summaries.
func (r *run) summarise(img *image.Image, wres *image.Result, s *sbom.SBOM) {
	a := r.res.Analysis
	sz := &r.res.Size
	sz.CompressedBytes, sz.UncompressedBytes = a.Summary.CompressedBytes, a.Summary.UncompressedBytes
	for _, l := range a.Layers {
		sz.Layers = append(sz.Layers, LayerSize{Index: l.Index, Digest: l.Digest, CompressedBytes: l.CompressedBytes, UncompressedBytes: l.UncompressedBytes, CreatedBy: l.CreatedBy})
	}
	f := r.res.facts
	if f != nil && f.Entrypoint != "" {
		if fi, ok := wres.Tree.Lookup(f.Entrypoint); ok {
			sz.BinaryBytes, sz.BinaryPath = fi.Size, f.Entrypoint
		}
	}
	sz.Components = composition(wres.Tree, s)

	sum := SBOMSummary{ByType: map[string]int{}, GoBinaries: []GoBinary{}}
	modules := map[string]int{}
	for _, c := range s.Components {
		if c.Type == sbom.TypeGoModule {
			modules[c.Path]++
		}
	}
	for _, c := range s.Components {
		sum.Components++
		sum.ByType[string(c.Type)]++
		if c.Type == sbom.TypeBinary && c.Go != nil {
			gb := GoBinary{Path: c.Path, GoVersion: c.Go.GoVersion, Main: c.Go.Main.Path, Modules: modules[c.Path]}
			if c.ELF != nil {
				gb.Stripped, gb.Static = c.ELF.Stripped, c.ELF.Static
			}
			sum.GoBinaries = append(sum.GoBinaries, gb)
		}
	}
	if s.Distro != nil {
		sum.Distro = strings.TrimSpace(s.Distro.ID + " " + s.Distro.VersionID)
	}
	r.res.SBOM = sum

	p := Privilege{UID: -1, GID: -1, FileCaps: []string{}, Shells: imagecheck.Shells(wres.Tree)}
	if p.Shells == nil {
		p.Shells = []string{}
	}
	if f != nil {
		p.User, p.UID, p.GID, p.Entrypoint, p.Ports = f.User, f.UID, f.GID, f.Entrypoint, f.Ports
		if f.FileCaps != nil {
			for _, c := range f.FileCaps.Permitted.Caps() {
				p.FileCaps = append(p.FileCaps, c.String())
			}
		}
	}
	r.res.Privilege = p
}

// composition splits the final filesystem's bytes by what they are.
func composition(t *image.Tree, s *sbom.SBOM) []Component {
	owner := map[string]string{}
	for _, c := range s.Components {
		switch {
		case c.Type == sbom.TypeBinary && c.Path != "":
			owner[c.Path] = "Go binaries"
		case len(c.Files) > 0:
			for _, f := range c.Files {
				if _, ok := owner[f]; !ok {
					owner[f] = "OS packages"
				}
			}
		}
	}
	parts := map[string]*Component{}
	order := []string{"Go binaries", "CA certificates", "OS packages", "time zone data", "other"}
	for _, n := range order {
		parts[n] = &Component{Name: n}
	}
	_ = t.Walk(image.WalkOptions{}, func(h *image.PathHistory) error {
		if h.Final == nil || h.Final.Kind != image.KindFile {
			return nil
		}
		name := owner[h.Path]
		switch {
		case name == "Go binaries":
		case strings.HasPrefix(h.Path, "/etc/ssl/") || strings.HasPrefix(h.Path, "/etc/pki/") || strings.HasPrefix(h.Path, "/usr/share/ca-certificates/") || strings.HasPrefix(h.Path, "/etc/ca-certificates"):
			name = "CA certificates"
		case strings.HasPrefix(h.Path, "/usr/share/zoneinfo/"):
			name = "time zone data"
		case name == "":
			name = "other"
		}
		parts[name].Bytes += h.Final.Size
		parts[name].Files++
		return nil
	})
	var out []Component
	for _, n := range order {
		if parts[n].Files > 0 {
			out = append(out, *parts[n])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Bytes > out[j].Bytes })
	if out == nil {
		out = []Component{}
	}
	return out
}

// allLint is every lint finding: the image's and the manifests'.
func (r *run) allLint() []rule.Finding { return r.res.Lint.Findings }

func buildCaps(cs []caps.Cap) []build.Capability {
	var out []build.Capability
	for _, c := range cs {
		out = append(out, build.Capability(c))
	}
	return out
}
