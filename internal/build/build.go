package build

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Builder builds one Go package into an image. Make it with [New], call
// [Builder.Build] once, then [Builder.Close].
type Builder struct {
	o        Options
	base     *baseRef // nil for static and scratch
	work     string
	environ  []string
	cacheDir string

	name      string
	bases     []*baseImage
	extracted map[string]string // oci-archive base -> its layout in work
	warnings  []string

	// bg runs the default-flags builds; bgCtx ends them when Build fails
	// or the builder closes.
	bg       sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc
}

// New validates the options and prepares a work directory. Nothing is
// built, pulled or written yet; errors wrap [ErrInvalidOptions].
func New(o Options) (*Builder, error) {
	o.Platforms = append([]v1.Platform(nil), o.Platforms...)
	o.Volumes = append([]string(nil), o.Volumes...)
	if err := o.validate(); err != nil {
		return nil, err
	}
	b := &Builder{o: o, environ: o.Environ}
	b.bgCtx, b.bgCancel = context.WithCancel(context.Background())
	if b.environ == nil {
		b.environ = os.Environ()
	}
	if o.Base != BaseStatic && o.Base != BaseScratch {
		r, err := parseBase(o.Base)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidOptions, err)
		}
		b.base = &r
	}
	switch o.CacheDir {
	case "-":
	case "":
		if dir, err := os.UserCacheDir(); err == nil {
			b.cacheDir = filepath.Join(dir, "redline", "build")
		}
	default:
		b.cacheDir = o.CacheDir
	}
	work, err := os.MkdirTemp(o.TempDir, "redline-build-")
	if err != nil {
		return nil, err
	}
	b.work = work
	return b, nil
}

// Close removes the work directory (the binaries, the staged layout).
func (b *Builder) Close() error {
	b.bgCancel()
	b.bg.Wait()
	if b.work == "" {
		return nil
	}
	err := os.RemoveAll(b.work)
	b.work = ""
	return err
}

func (b *Builder) warn(msg string, args ...any) {
	b.o.Logger.Warn(msg, args...)
	s := msg
	for i := 0; i+1 < len(args); i += 2 {
		s += fmt.Sprintf(" (%v: %v)", args[i], args[i+1])
	}
	b.warnings = append(b.warnings, s)
}

// artifact is the assembled image, staged in a local layout.
type artifact struct {
	layout      string
	tag         string
	images      []v1.Image
	index       v1.ImageIndex // nil for one platform
	digest      v1.Hash
	mediaType   types.MediaType
	attachments []Attachment
	referrers   []*referrer
}

// Build runs go build, assembles the image and writes every destination.
// Either all destinations are written or none is.
func (b *Builder) Build(ctx context.Context) (res *Result, err error) {
	if b.work == "" {
		return nil, errors.New("build: builder closed")
	}
	defer func() {
		if err != nil {
			b.bgCancel()
		}
		b.bg.Wait()
	}()
	stop := context.AfterFunc(ctx, b.bgCancel)
	defer stop()
	start := time.Now()
	step := func(what string) {
		b.o.Logger.Debug(what, "elapsed", time.Since(start).Round(time.Millisecond))
	}
	// go list (is it a main package? what is it called?) runs beside the
	// builds: it only decides names and which error to show.
	type listed struct {
		pkg *goPackage
		err error
	}
	listc := make(chan listed, 1)
	go func() {
		pkg, err := b.listPackage(ctx)
		listc <- listed{pkg, err}
	}()
	// The base is opened (pulled, for a registry) while go builds.
	type opened struct {
		bases []*baseImage
		err   error
	}
	basec := make(chan opened, 1)
	go func() {
		var o opened
		if b.base != nil {
			for _, p := range b.o.Platforms {
				bi, err := b.openBase(ctx, *b.base, p)
				if err != nil {
					o.err = err
					break
				}
				o.bases = append(o.bases, bi)
			}
		}
		basec <- o
	}()
	var bins []*Binary
	var buildErr error
	for _, p := range b.o.Platforms {
		bin, err := b.goBuild(ctx, p)
		if err != nil {
			buildErr = err
			break
		}
		bins = append(bins, bin)
		step("built the binary for " + p.String())
	}
	l, ob := <-listc, <-basec
	if l.err != nil {
		return nil, l.err
	}
	pkg := l.pkg
	if buildErr != nil {
		return nil, fmt.Errorf("building %s: %w", pkg.ImportPath, buildErr)
	}
	if ob.err != nil {
		return nil, ob.err
	}
	b.bases = ob.bases
	step("listed the package")
	b.name = b.o.Name
	if b.name == "" {
		b.name = binaryName(pkg.ImportPath)
		if !validName(b.name) {
			return nil, fmt.Errorf("%s: cannot name the image after %q; pass --name", pkg.ImportPath, b.name)
		}
	}
	for _, bin := range bins {
		bin.Path = path.Join(BinDir, b.name)
	}
	tag := b.o.Tag
	if tag == "" {
		tag = strings.ToLower(b.name) + ":latest"
	}
	dests := b.o.To
	if len(dests) == 0 {
		dests = []Destination{{Kind: OCIDir, Value: filepath.Join("out", b.name)}}
	}
	if b.o.CGO && !b.o.PIE {
		b.warn("cgo is on: the binary links C code and a libc statically; the hardened default is CGO_ENABLED=0")
	}
	version, versionFrom := b.version(bins[0])
	created, createdFrom := b.created(bins[0])
	uid, gid, _ := parseUser(b.o.User)
	if uid == 0 {
		b.warn("the image runs as root (--user " + b.o.User + "); the default is 65532:65532")
	}

	// The layers: the static base (one for every platform), then each
	// platform's binary.
	res = &Result{
		SchemaVersion: SchemaVersion,
		Name:          b.name,
		Package:       pkg.ImportPath,
		Tag:           tag,
		Version:       version,
		VersionSource: versionFrom,
		Created:       created,
		CreatedSource: createdFrom,
		Flags:         b.flagsRecord(),
		User:          b.o.User,
		Volumes:       b.o.Volumes,
		Ports:         b.ports(),
		Base:          BaseInfo{Kind: b.o.Base},
	}
	for _, c := range b.o.Caps {
		res.Capabilities = append(res.Capabilities, c.String())
	}
	res.Conditions = Conditions(b.o.Caps)
	res.CapabilityNotes = capNotes(b.o.Caps)
	var baseLayers []*fileLayer
	env := []string{"PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin"}
	switch {
	case b.o.Base == BaseStatic:
		entries, n, err := staticBase(b.o.CACerts, os.ReadFile)
		if err != nil {
			return nil, err
		}
		desc := "redline static base: /etc/passwd, /etc/group (root, nonroot 65532, nobody), /etc/nsswitch.conf, /tmp (1777)"
		if n > 0 {
			desc += fmt.Sprintf(", %d CA certificates (%s)", n, b.o.CACerts)
			env = append(env, "SSL_CERT_FILE="+CACertsPath)
		}
		l, err := writeLayer(b.work, layerSpec{Entries: entries, MTime: created, MediaType: types.OCILayer, Level: b.o.Level, Workers: b.o.Workers, CreatedBy: desc, CacheDir: b.layerCache()})
		if err != nil {
			return nil, err
		}
		baseLayers = append(baseLayers, l)
		step("wrote the base layer")
		res.Base.CACerts, res.Base.CACount = b.o.CACerts, n
	case b.o.Base == BaseScratch:
		b.warn("the scratch base has no CA certificates, no /etc/passwd and no /tmp: TLS clients and user lookups fail unless the binary embeds what it needs")
	default:
		env = nil
		res.Base.Kind = "image"
		res.Base.Ref = b.base.String()
	}

	labels := b.labels(res, bins[0], pkg)
	annotations := b.annotations(res, bins[0], pkg)
	art := &artifact{layout: filepath.Join(b.work, "layout"), tag: tag}
	built := &Built{Layout: art.layout, Tag: tag, BaseImage: b.base != nil, Version: version, Labels: labels}
	for i, p := range b.o.Platforms {
		bin := bins[i]
		appEntries := []fileEntry{{Path: bin.Path, Type: tar.TypeReg, Mode: 0o755, Source: bin.file}}
		createdBy := "go build " + b.flagsRecord() + " " + pkg.ImportPath
		if len(b.o.Caps) > 0 {
			appEntries[0].PAX = map[string]string{paxCapability: string(FileCapability(b.o.Caps))}
			createdBy += "; setcap " + strings.ToLower(capNamesOf(b.o.Caps)) + "=ep " + bin.Path
		}
		for _, v := range b.o.Volumes {
			appEntries = append(appEntries, fileEntry{Path: v, Type: tar.TypeDir, Mode: 0o755, UID: uid, GID: gid})
		}
		mt := types.OCILayer
		app, err := writeLayer(b.work, layerSpec{Entries: appEntries, MTime: created, MediaType: mt, Level: b.o.Level, Workers: b.o.Workers, CreatedBy: createdBy, CacheDir: b.layerCache()})
		if err != nil {
			return nil, err
		}
		step("wrote the binary's layer for " + p.String())
		spec := imageSpec{
			Platform:    p,
			Layers:      append(append([]*fileLayer(nil), baseLayers...), app),
			Created:     created,
			User:        b.o.User,
			Entrypoint:  []string{bin.Path},
			WorkDir:     b.o.WorkDir,
			Env:         env,
			Volumes:     b.o.Volumes,
			Labels:      labels,
			Annotations: maps.Clone(annotations),
		}
		spec.Ports = b.ports()
		if b.base != nil {
			bi := b.bases[i]
			spec.Base = bi
			spec.Annotations[AnnotationBaseName] = bi.Name
			spec.Annotations[AnnotationBaseDigest] = bi.Digest.String()
			spec.Labels = maps.Clone(labels)
			spec.Labels[AnnotationBaseName] = bi.Name
			spec.Labels[AnnotationBaseDigest] = bi.Digest.String()
			res.Base.Digest = bi.Digest.String()
		}
		if i == 0 {
			built.Labels = spec.Labels
		}
		img, err := assemble(spec)
		if err != nil {
			return nil, fmt.Errorf("assembling the image for %s: %w", p, err)
		}
		art.images = append(art.images, img)
		pr, err := platformResult(p, img, bin, spec)
		if err != nil {
			return nil, err
		}
		res.Platforms = append(res.Platforms, *pr)
		built.Platforms = append(built.Platforms, BuiltPlatform{Platform: p, Image: img, Digest: pr.digest, BinaryFile: bin.file, BinaryPath: bin.Path, BinaryLayer: len(pr.Layers) - 1})
	}
	step("assembled the image")
	if err := b.stageLayout(art, annotations); err != nil {
		return nil, err
	}
	step("staged the layout")
	built.Digest, built.MediaType = art.digest, art.mediaType
	res.Digest, res.MediaType = art.digest.String(), string(art.mediaType)
	if err := b.attach(ctx, art, built, created); err != nil {
		return nil, err
	}
	step("attached")

	// Stage every file destination, push to every registry, then make the
	// files visible: an error before the renames leaves nothing behind.
	var staged []*staging
	abort := func() {
		for _, s := range staged {
			s.abort()
		}
	}
	for _, d := range dests {
		st, err := b.stage(d, art, created)
		if err != nil {
			abort()
			return nil, err
		}
		staged = append(staged, st)
	}
	for _, d := range dests {
		if d.Kind != Registry {
			continue
		}
		if err := b.push(ctx, d, art); err != nil {
			abort()
			return nil, err
		}
	}
	for i, s := range staged {
		if err := s.commit(); err != nil {
			for _, rest := range staged[i+1:] {
				rest.abort()
			}
			return nil, err
		}
		res.Destinations = append(res.Destinations, s.dest.String())
	}
	step("wrote the destinations")
	for i, bin := range bins {
		bin.waitDefault()
		res.Platforms[i].Binary.DefaultFlagsBytes = bin.DefaultFlagsBytes
	}
	step("measured the default-flags builds")
	res.Labels = built.Labels
	res.Warnings = b.warnings
	return res, nil
}

// ports are the exposed ports in the config's PORT/PROTO form.
func (b *Builder) ports() []string {
	var out []string
	for _, port := range b.o.Ports {
		pp, _ := parsePort(port)
		out = append(out, pp)
	}
	return out
}

// layerCache is where compressed layers are kept between builds.
func (b *Builder) layerCache() string {
	if b.cacheDir == "" {
		return ""
	}
	return filepath.Join(b.cacheDir, "layers")
}

// version decides the recorded version of the main module.
func (b *Builder) version(bin *Binary) (string, string) {
	vcs := bin.ModuleVersion
	if vcs == "" {
		vcs = "(devel)"
	}
	switch {
	case b.o.Version != "":
		if vcs != "(devel)" && vcs != b.o.Version {
			b.warn("--version differs from the version VCS data gives the binary; scanners reading the binary see the latter", "version", b.o.Version, "binary", vcs)
		} else if vcs == "(devel)" {
			b.warn("the binary's build info says (devel): scanners reading the binary alone cannot tell its version; the labels record --version", "version", b.o.Version)
		}
		return b.o.Version, "flag"
	case vcs != "(devel)":
		return vcs, "vcs"
	}
	b.warn("no version: the binary's build info says (devel), so scanners reading it cannot match its module; build from a VCS checkout (a tag gives vX.Y.Z) or pass --version")
	return "(devel)", "none"
}

// created decides the one timestamp of the image.
func (b *Builder) created(bin *Binary) (time.Time, string) {
	switch {
	case b.o.SourceDateEpoch != nil:
		return b.o.SourceDateEpoch.UTC(), "SOURCE_DATE_EPOCH"
	case !bin.Time.IsZero():
		return bin.Time.UTC(), "vcs commit time"
	}
	return time.Unix(0, 0).UTC(), "Unix epoch (no SOURCE_DATE_EPOCH, no VCS)"
}

func (b *Builder) labels(res *Result, bin *Binary, pkg *goPackage) map[string]string {
	l := map[string]string{}
	maps.Copy(l, b.o.Labels)
	maps.Copy(l, b.recorded(res, bin, pkg))
	return l
}

// annotations are the OCI annotations of the manifest (and index): the
// same keys as the labels, with --annotation instead of --label.
func (b *Builder) annotations(res *Result, bin *Binary, pkg *goPackage) map[string]string {
	a := map[string]string{}
	maps.Copy(a, b.o.Annotations)
	maps.Copy(a, b.recorded(res, bin, pkg))
	return a
}

// recorded are the keys redline sets: the OCI ones and what the build
// promised under dev.redline.
func (b *Builder) recorded(res *Result, bin *Binary, pkg *goPackage) map[string]string {
	a := map[string]string{
		AnnotationCreated: res.Created.Format(time.RFC3339),
		AnnotationTitle:   b.name,
		LabelUser:         b.o.User,
		LabelCaps:         capNamesOf(b.o.Caps),
		LabelGo:           bin.GoVersion,
		LabelFlags:        b.flagsRecord(),
		LabelVersion:      res.Version,
		LabelBinary:       bin.Path,
		LabelStatic:       strconv.FormatBool(bin.Static),
		LabelBase:         b.o.Base,
	}
	if src := b.source(pkg); src != "" {
		a[AnnotationSource] = src
	}
	if bin.Revision != "" {
		a[AnnotationRevision] = bin.Revision
	}
	if res.Version != "(devel)" {
		a[AnnotationVersion] = res.Version
	}
	if len(b.o.Volumes) > 0 {
		a[LabelVolumes] = strings.Join(b.o.Volumes, ",")
	}
	return a
}

// source is --source, or the repository a well-known module path names.
func (b *Builder) source(pkg *goPackage) string {
	if b.o.Source != "" {
		return b.o.Source
	}
	if pkg.Module == nil {
		return ""
	}
	parts := strings.Split(pkg.Module.Path, "/")
	switch parts[0] {
	case "github.com", "gitlab.com", "bitbucket.org", "codeberg.org":
		if len(parts) >= 3 {
			return "https://" + strings.Join(parts[:3], "/")
		}
	}
	return ""
}

// stageLayout writes the image (or index) into the work layout, named by
// the tag.
func (b *Builder) stageLayout(art *artifact, annotations map[string]string) error {
	p, err := layout.Write(art.layout, empty.Index)
	if err != nil {
		return err
	}
	ref := layout.WithAnnotations(map[string]string{AnnotationRefName: art.tag})
	if len(art.images) == 1 {
		img := art.images[0]
		if err := p.AppendImage(img, ref); err != nil {
			return fmt.Errorf("staging the image: %w", err)
		}
		art.digest, _ = img.Digest()
		art.mediaType, _ = img.MediaType()
		return nil
	}
	var adds []mutate.IndexAddendum
	mt := types.OCIImageIndex
	for i, img := range art.images {
		p := b.o.Platforms[i]
		imt, err := img.MediaType()
		if err != nil {
			return err
		}
		if imt == types.DockerManifestSchema2 {
			mt = types.DockerManifestList
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{MediaType: imt, Platform: &p}})
	}
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), mt)
	if mt == types.OCIImageIndex {
		idx = mutate.Annotations(idx, annotations).(v1.ImageIndex)
	}
	if err := p.AppendIndex(idx, ref); err != nil {
		return fmt.Errorf("staging the index: %w", err)
	}
	art.index = idx
	art.digest, _ = idx.Digest()
	art.mediaType = mt
	return nil
}

// attach runs the attachers and adds their referrers to the staged layout.
func (b *Builder) attach(ctx context.Context, art *artifact, built *Built, created time.Time) error {
	if len(b.o.Attachers) == 0 {
		return nil
	}
	p, err := layout.FromPath(art.layout)
	if err != nil {
		return err
	}
	top, err := b.descriptorOf(art)
	if err != nil {
		return err
	}
	for _, at := range b.o.Attachers {
		atts, err := at.Attach(ctx, built)
		if err != nil {
			return fmt.Errorf("attaching: %w", err)
		}
		for _, a := range atts {
			subject := top
			if a.Platform != "" {
				found := false
				for i, bp := range built.Platforms {
					if bp.Platform.String() == a.Platform {
						subject, err = descriptorOfImage(art.images[i])
						if err != nil {
							return err
						}
						found = true
					}
				}
				if !found {
					return fmt.Errorf("attaching %s: no image for platform %s", a.ArtifactType, a.Platform)
				}
			}
			r, err := makeReferrer(a, subject, created.Format(time.RFC3339))
			if err != nil {
				return err
			}
			if err := p.AppendImage(r.image); err != nil {
				return fmt.Errorf("staging the %s attachment: %w", a.ArtifactType, err)
			}
			art.referrers = append(art.referrers, r)
			art.attachments = append(art.attachments, a)
		}
	}
	return nil
}

func (b *Builder) descriptorOf(art *artifact) (v1.Descriptor, error) {
	if art.index != nil {
		raw, err := art.index.RawManifest()
		if err != nil {
			return v1.Descriptor{}, err
		}
		return v1.Descriptor{MediaType: art.mediaType, Size: int64(len(raw)), Digest: art.digest}, nil
	}
	return descriptorOfImage(art.images[0])
}

func descriptorOfImage(img v1.Image) (v1.Descriptor, error) {
	raw, err := img.RawManifest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Size: int64(len(raw)), Digest: d}, nil
}

// platformResult describes one platform's image for the report.
func platformResult(p v1.Platform, img v1.Image, bin *Binary, spec imageSpec) (*PlatformResult, error) {
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	pr := &PlatformResult{Platform: p.String(), Digest: d.String(), Binary: *bin, digest: d}
	ls, err := img.Layers()
	if err != nil {
		return nil, err
	}
	nBase := len(ls) - len(spec.Layers)
	for i, l := range ls {
		li := LayerInfo{Index: i}
		dg, err := l.Digest()
		if err != nil {
			return nil, err
		}
		li.Digest = dg.String()
		if li.CompressedBytes, err = l.Size(); err != nil {
			return nil, err
		}
		if i < nBase {
			li.Source = "base " + spec.Base.Ref
		} else {
			fl := spec.Layers[i-nBase]
			li.UncompressedBytes, li.Files, li.Source = fl.tarSize, fl.files, fl.createdBy
		}
		pr.CompressedBytes += li.CompressedBytes
		pr.Layers = append(pr.Layers, li)
	}
	return pr, nil
}
