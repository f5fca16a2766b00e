package lint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/redline-go/redline/internal/caps"
	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/lint/ci"
	"github.com/redline-go/redline/internal/lint/dockerfile"
	"github.com/redline-go/redline/internal/lint/gomod"
	"github.com/redline-go/redline/internal/lint/imagecheck"
	"github.com/redline-go/redline/internal/lint/kube"
	"github.com/redline-go/redline/internal/lint/rule"
	"github.com/redline-go/redline/internal/sbom/catalog/gobinary"
)

// Tool is the producer named in reports; cmd/redline sets the version.
var Tool = rule.Tool{Name: "redline", Version: "dev"}

// Options configure [Run].
type Options struct {
	// AllowCaps are the capabilities the image and manifest rules accept;
	// nil means NET_BIND_SERVICE.
	AllowCaps *caps.Set
	// Images are --image values, "[CONTAINER=]REF": the image whose facts
	// the manifests' containers are cross-checked against. Without
	// CONTAINER= it applies to every container (not init containers);
	// with it, to the containers of that name.
	Images []string
	// Runtime limits capability predictions to one runtime (see
	// caps.Runtimes); empty predicts for every Kubernetes runtime.
	Runtime string
	// Ignore lists rule IDs to leave out entirely.
	Ignore []string
	// Image and Pass configure opening and walking image targets.
	Image image.Options
	Pass  image.PassOptions
	// Go configures the Go module rules (the go command, vulnerability
	// data).
	Go gomod.Options
	// MaxDocBytes bounds one YAML document; default yamlx's 8 MiB.
	MaxDocBytes int
	// Logger gets notes on how targets were resolved; default discards.
	Logger *slog.Logger
	// Walk, when set, runs image walks (so a caller can show progress);
	// default image.Walk with Pass.
	Walk func(ctx context.Context, img *image.Image, vs ...image.Visitor) (*image.Result, error)
	// Walked holds images the caller has already walked with a [Pass]
	// (the check loop), keyed by the reference as given in Images or the
	// targets: their report and facts are used instead of opening and
	// walking them again.
	Walked map[string]Walked
}

// Walked is an image linted on a caller's walk.
type Walked struct {
	Report *rule.Report
	Facts  *imagecheck.Facts
}

func (o *Options) allow() caps.Set {
	if o.AllowCaps == nil {
		return caps.Of(caps.NetBindService)
	}
	return *o.AllowCaps
}

func (o *Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// ErrNothing reports a target that holds nothing lint can check.
var ErrNothing = errors.New("lint: nothing to check")

// run is the state of one Run.
type run struct {
	ctx    context.Context
	o      *Options
	rep    *rule.Report
	images []imageArg
	kube   kube.Options
}

type imageArg struct {
	container string
	ref       string
	facts     *imagecheck.Facts
	report    *rule.Report // the image's own findings, when it is also a target
}

// Run lints every target and returns one report. A target that cannot be
// read at all (a missing file, an image that does not open) is an error;
// content that cannot be parsed is a warning in the report.
func Run(ctx context.Context, targets []string, o Options) (*rule.Report, error) {
	r := &run{ctx: ctx, o: &o, rep: &rule.Report{SchemaVersion: rule.SchemaVersion, Tool: Tool, Findings: []rule.Finding{}}}
	if err := r.setup(); err != nil {
		return nil, err
	}
	for _, t := range targets {
		if err := r.target(t); err != nil {
			return nil, err
		}
	}
	r.finish()
	return r.rep, nil
}

// setup checks the options and opens the --image images.
func (r *run) setup() error {
	o := r.o
	for _, id := range o.Ignore {
		if !known(id) {
			return fmt.Errorf("--ignore %s: no such rule (see redline lint --list)", id)
		}
	}
	var runtimes []caps.Runtime
	if o.Runtime != "" {
		rt, err := caps.LookupRuntime(o.Runtime)
		if err != nil {
			return err
		}
		runtimes = []caps.Runtime{rt}
	}
	for _, spec := range o.Images {
		ia := imageArg{ref: spec}
		if c, ref, ok := strings.Cut(spec, "="); ok && !strings.Contains(c, ":") && !strings.Contains(c, "/") {
			ia.container, ia.ref = c, ref
		}
		for _, prev := range r.images {
			if prev.ref == ia.ref {
				ia.facts, ia.report = prev.facts, prev.report
			}
		}
		if ia.facts == nil {
			rep, facts, err := r.lintImage(ia.ref)
			if err != nil {
				return fmt.Errorf("--image %s: %w", spec, err)
			}
			ia.facts, ia.report = facts, rep
		}
		r.images = append(r.images, ia)
	}
	r.kube = kube.Options{AllowCaps: o.allow(), Runtimes: runtimes}
	if len(r.images) > 0 {
		r.kube.Image = r.imageFor
	}
	return nil
}

// imageFor picks the --image a container is cross-checked against.
func (r *run) imageFor(c *kube.Container) *imagecheck.Facts {
	for _, ia := range r.images {
		if ia.container != "" && ia.container == c.Name {
			return ia.facts
		}
	}
	if c.Role != "container" {
		return nil
	}
	for _, ia := range r.images {
		if ia.container == "" {
			return ia.facts
		}
	}
	return nil
}

func (r *run) finish() {
	rep := r.rep
	if len(r.o.Ignore) > 0 {
		ignored := map[string]bool{}
		for _, id := range r.o.Ignore {
			ignored[strings.ToUpper(id)] = true
		}
		rep.Findings = slices.DeleteFunc(rep.Findings, func(f rule.Finding) bool { return ignored[f.Rule] })
	}
	rule.Sort(rep.Findings)
	slices.SortStableFunc(rep.Warnings, func(a, b rule.Warning) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	rep.Summarize()
}

// add records the results of one file or image under target t.
func (r *run) add(t string, kind rule.Kind, fs []rule.Finding, ws []rule.Warning) {
	for i := range fs {
		fs[i].Target, fs[i].Kind = t, kind
	}
	for i := range ws {
		ws[i].Target = t
	}
	r.rep.Findings = append(r.rep.Findings, fs...)
	r.rep.Warnings = append(r.rep.Warnings, ws...)
}

func (r *run) note(t, msg string) {
	r.rep.Notes = append(r.rep.Notes, rule.Note{Target: t, Message: msg})
}

// Schemes lint accepts besides the image schemes.
const (
	SchemeDockerfile = "dockerfile"
	SchemeKube       = "k8s"
)

// target lints one command-line target.
func (r *run) target(arg string) error {
	log := r.o.logger()
	switch {
	case strings.HasPrefix(arg, SchemeDockerfile+":"):
		p := strings.TrimPrefix(arg, SchemeDockerfile+":")
		return r.file(arg, p, rule.Dockerfile)
	case strings.HasPrefix(arg, SchemeKube+":"):
		p := strings.TrimPrefix(arg, SchemeKube+":")
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", arg, err)
		}
		if fi.IsDir() {
			return r.tree(arg, p, true)
		}
		return r.file(arg, p, rule.Kubernetes)
	}
	if _, err := os.Stat(arg); errors.Is(err, fs.ErrNotExist) && kindOfFile(arg) != "" {
		// A Dockerfile or manifest name is never an image reference.
		return fmt.Errorf("%s: %w", arg, err)
	}
	t, err := image.ParseTarget(arg)
	if err != nil {
		return err
	}
	if t.Resolved && (t.Scheme == image.File || t.Scheme == image.Dir || t.Scheme == image.GoSource) {
		// Bare files and directories: lint decides by name and content.
		fi, err := os.Stat(arg)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			if t.Scheme == image.Dir && looksLikeRootFS(arg) {
				log.Info("resolved target", "arg", arg, "as", "dir", "because", "a directory holding etc/ and usr/ or bin/: read as a root filesystem")
				return r.imageTarget(arg)
			}
			log.Info("resolved target", "arg", arg, "as", "directory", "because", "a source tree: its Dockerfiles, manifests, CI files and Go modules are checked")
			return r.tree(arg, arg, false)
		}
		switch kind := kindOfFile(arg); kind {
		case rule.Dockerfile, rule.Kubernetes:
			log.Info("resolved target", "arg", arg, "as", string(kind), "because", "its name")
			return r.file(arg, arg, kind)
		case rule.GoModule:
			return r.module(arg, filepath.Dir(arg))
		}
		log.Info("resolved target", "arg", arg, "as", "binary", "because", "a file that is not an image archive, a Dockerfile or a manifest")
		return r.binary(arg, arg)
	}
	switch t.Scheme {
	case image.File:
		return r.binary(arg, t.Value)
	case image.GoSource:
		fi, err := os.Stat(t.Value)
		if err != nil {
			return fmt.Errorf("%s: %w", arg, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s: not a directory", arg)
		}
		return r.module(arg, t.Value)
	}
	return r.imageTarget(arg)
}

func looksLikeRootFS(dir string) bool {
	isDir := func(n string) bool {
		fi, err := os.Stat(filepath.Join(dir, n))
		return err == nil && fi.IsDir()
	}
	return isDir("etc") && (isDir("usr") || isDir("bin"))
}

// kindOfFile decides a file by its name: Dockerfiles, YAML and JSON
// manifests, go.mod; "" for anything else.
func kindOfFile(p string) rule.Kind {
	base := strings.ToLower(filepath.Base(p))
	switch {
	case dockerfile.IsDockerfileName(p):
		return rule.Dockerfile
	case base == "go.mod":
		return rule.GoModule
	case strings.HasSuffix(base, ".yaml"), strings.HasSuffix(base, ".yml"), strings.HasSuffix(base, ".json"):
		return rule.Kubernetes
	}
	return ""
}

// fileResult is what linting one file found.
type fileResult struct {
	kind     rule.Kind
	findings []rule.Finding
	warnings []rule.Warning
	// objects counts Kubernetes objects, CI files and unreadable documents.
	objects int
	err     error
}

// lintFile lints one Dockerfile or YAML file. It touches no shared state,
// so files are linted in parallel. Found under a directory (found), a
// YAML or JSON file that never says "kind" and is not a CI file is some
// other data and is passed over.
func (r *run) lintFile(t, p string, kind rule.Kind, found bool) fileResult {
	src, err := os.ReadFile(p)
	if err != nil {
		return fileResult{err: fmt.Errorf("%s: %w", t, err)}
	}
	name := filepath.ToSlash(p)
	if found && kind == rule.Kubernetes && !bytes.Contains(src, []byte("kind")) && !ci.IsCIPath(name) {
		return fileResult{kind: kind}
	}
	if kind == rule.Dockerfile {
		return r.dockerfile(name, src, filepath.Dir(p))
	}
	return r.manifest(name, src)
}

// file lints one Dockerfile or YAML file named on the command line (a
// YAML file that holds nothing to check is then worth a warning).
func (r *run) file(t, p string, kind rule.Kind) error {
	res := r.lintFile(t, p, kind, false)
	if res.err != nil {
		return res.err
	}
	r.rep.Targets = append(r.rep.Targets, rule.Target{Target: t, Kind: kind})
	if kind == rule.Kubernetes && res.objects == 0 {
		res.warnings = append(res.warnings, rule.Warning{Location: rule.At(filepath.ToSlash(p), 1, 0), Message: "no Kubernetes objects or CI settings found"})
	}
	r.add(t, res.kind, res.findings, res.warnings)
	return nil
}

func (r *run) dockerfile(name string, src []byte, dir string) fileResult {
	f := dockerfile.Parse(name, src)
	fs := dockerfile.Check(f)
	var ss []gomod.Setting
	for _, s := range f.GoSettings() {
		ss = append(ss, gomod.Setting{Key: s.Key, Value: s.Value, Via: s.Via, Where: rule.At(name, s.Line, 0)})
	}
	fs = append(fs, gomod.CheckSettings(ss, fileExists(filepath.Join(dir, "vendor", "modules.txt")))...)
	ds := f.Directives
	for i := range ds {
		if !ds[i].WholeFile {
			ds[i].From, ds[i].To = f.Scope(ds[i].Line)
		}
	}
	ws := append(f.Warnings, rule.Suppress(fs, ds, name, known)...)
	return fileResult{kind: rule.Dockerfile, findings: fs, warnings: ws, objects: len(f.Instrs)}
}

// manifest lints a YAML file's Kubernetes objects and CI settings.
func (r *run) manifest(name string, src []byte) fileResult {
	f := kube.Parse(name, src, r.o.MaxDocBytes)
	fs := kube.Check(f, r.kube)
	var ss []gomod.Setting
	nci := 0
	for _, d := range f.Other {
		if ci.IsCI(name, d) {
			nci++
			ss = append(ss, ci.Settings(f.File, d)...)
		}
	}
	kind := rule.Kubernetes
	if nci > 0 {
		if len(f.Objects) == 0 {
			kind = rule.CI
		}
		fs = append(fs, gomod.CheckSettings(ss, false)...)
	}
	ws := append(f.Warnings, rule.Suppress(fs, f.Directives, name, known)...)
	return fileResult{kind: kind, findings: fs, warnings: ws, objects: len(f.Objects) + nci + len(f.Errors)}
}

// tree lints a source tree: its Dockerfiles, YAML files (manifests and CI
// files) and Go modules. Files are linted in parallel and reported in
// walk order. Helm chart templates are skipped: render them with helm
// template and lint the output.
func (r *run) tree(t, root string, manifestsOnly bool) error {
	type job struct {
		path string
		kind rule.Kind
	}
	var jobs []job
	var modules []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (name == "vendor" || name == "node_modules" || name == "testdata" || (strings.HasPrefix(name, ".") && name != ".github") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if name == "templates" && fileExists(filepath.Join(filepath.Dir(p), "Chart.yaml")) {
				r.note(t, fmt.Sprintf("%s: a Helm chart's templates are not manifests yet: lint the output of helm template", filepath.ToSlash(p)))
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		kind := kindOfFile(p)
		switch {
		case kind == rule.GoModule && !manifestsOnly:
			modules = append(modules, filepath.Dir(p))
		case kind == rule.Dockerfile && !manifestsOnly:
			jobs = append(jobs, job{p, kind})
		case kind == rule.Kubernetes:
			if name == "Chart.yaml" || name == "Chart.lock" || strings.HasPrefix(name, "values") {
				return nil
			}
			jobs = append(jobs, job{p, kind})
		}
		return nil
	})
	if err != nil {
		return err
	}
	results := make([]fileResult, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = r.lintFile(t, jobs[i].path, jobs[i].kind, true)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, res := range results {
		if res.err != nil {
			return res.err
		}
		r.add(t, res.kind, res.findings, res.warnings)
	}
	files := len(jobs)
	for _, m := range modules {
		files++
		if err := r.moduleIn(t, m); err != nil {
			return err
		}
	}
	kind := rule.Directory
	if manifestsOnly {
		kind = rule.Kubernetes
	}
	r.rep.Targets = append(r.rep.Targets, rule.Target{Target: t, Kind: kind, Files: files})
	if files == 0 {
		return fmt.Errorf("%s: %w (no Dockerfiles, YAML files or go.mod found)", t, ErrNothing)
	}
	return nil
}

func (r *run) module(t, dir string) error {
	r.rep.Targets = append(r.rep.Targets, rule.Target{Target: t, Kind: rule.GoModule})
	return r.moduleIn(t, dir)
}

func (r *run) moduleIn(t, dir string) error {
	res, err := gomod.CheckModule(r.ctx, dir, filepath.ToSlash(dir), r.o.Go)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	r.add(t, rule.GoModule, res.Findings, res.Warnings)
	for _, n := range res.Notes {
		r.note(t, filepath.ToSlash(dir)+": "+n)
	}
	return nil
}

func (r *run) binary(t, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	defer f.Close()
	r.rep.Targets = append(r.rep.Targets, rule.Target{Target: t, Kind: rule.Binary})
	b, err := gobinary.Read(f)
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	name := filepath.ToSlash(p)
	if b == nil {
		r.add(t, rule.Binary, nil, []rule.Warning{{Location: rule.At(name, 0, 0), Message: "not a Go binary: nothing to check"}})
		return nil
	}
	comps, _, warn := gobinary.Components(name, -1, b)
	var ws []rule.Warning
	if warn != "" {
		ws = append(ws, rule.Warning{Location: rule.At(name, 0, 0), Message: warn})
	}
	var fs []rule.Finding
	for _, c := range comps {
		if c.Go != nil {
			for _, fd := range imagecheck.BinaryFindings(c) {
				fd.Location = rule.At(name, 0, 0)
				fs = append(fs, fd)
			}
		}
	}
	r.add(t, rule.Binary, fs, ws)
	return nil
}

// imageTarget lints an image named on the command line, reusing the walk
// of an --image with the same reference.
func (r *run) imageTarget(arg string) error {
	r.rep.Targets = append(r.rep.Targets, rule.Target{Target: arg, Kind: rule.Image})
	for _, ia := range r.images {
		if ia.ref == arg && ia.report != nil {
			r.merge(arg, ia.report)
			return nil
		}
	}
	rep, _, err := r.lintImage(arg)
	if err != nil {
		return err
	}
	r.merge(arg, rep)
	return nil
}

func (r *run) merge(t string, rep *rule.Report) {
	r.add(t, rule.Image, slices.Clone(rep.Findings), slices.Clone(rep.Warnings))
}

// lintImage opens and walks one image with the image rules.
func (r *run) lintImage(ref string) (*rule.Report, *imagecheck.Facts, error) {
	if w, ok := r.o.Walked[ref]; ok && w.Report != nil {
		return w.Report, w.Facts, nil
	}
	t, err := image.ParseTarget(ref)
	if err != nil {
		return nil, nil, err
	}
	o := r.o.Image
	if o.Logger == nil {
		o.Logger = r.o.logger()
	}
	img, err := image.Open(r.ctx, t, o)
	if err != nil {
		return nil, nil, err
	}
	defer img.Close()
	p := NewPass(*r.o)
	walk := r.o.Walk
	if walk == nil {
		walk = func(ctx context.Context, img *image.Image, vs ...image.Visitor) (*image.Result, error) {
			return image.Walk(ctx, img, r.o.Pass, vs...)
		}
	}
	res, err := walk(r.ctx, img, p.Visitors()...)
	if err != nil {
		return nil, nil, err
	}
	rep := p.Finish(img, res)
	return rep, p.Facts(), nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
