package build

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/redline-go/redline/internal/image"
)

func testRegistry(t *testing.T, opts ...registry.Option) string {
	t.Helper()
	opts = append(opts, registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(registry.New(opts...))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestRegistryRoundTrip pushes a build to an in-process registry on
// loopback, pulls it back, and builds on it as a base.
func TestRegistryRoundTrip(t *testing.T) {
	host := testRegistry(t)
	dir := t.TempDir()
	local := filepath.Join(dir, "layout")
	res, err := newTestBuilder(t, &fakeGo{Pkg: helloPkg}, Options{
		Keychain: authn.NewMultiKeychain(),
		To:       []Destination{{Kind: Registry, Value: host + "/acme/hello:1"}, {Kind: OCIDir, Value: local}},
	}).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(host + "/acme/hello:1")
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	pd, _ := pulled.Digest()
	if pd.String() != res.Digest {
		t.Fatalf("pulled %s, built %s", pd, res.Digest)
	}
	localImg, _ := readOCIDir(t, local)
	ld, _ := localImg.Digest()
	if ld != pd {
		t.Errorf("registry %s, oci-dir %s", pd, ld)
	}
	pls, _ := pulled.Layers()
	for i, l := range pls {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		h, n, err := v1.SHA256(rc)
		rc.Close()
		if err != nil || h.String() != res.Platforms[0].Layers[i].Digest || n != res.Platforms[0].Layers[i].CompressedBytes {
			t.Errorf("layer %d pulled as %s (%d bytes, %v), built %+v", i, h, n, err, res.Platforms[0].Layers[i])
		}
	}
	// redline's own reader agrees.
	rimg, err := image.Open(context.Background(), image.Target{Scheme: image.Registry, Value: host + "/acme/hello:1"}, image.Options{Insecure: []string{host}})
	if err != nil {
		t.Fatal(err)
	}
	walked, err := image.Walk(context.Background(), rimg, image.PassOptions{})
	rimg.Close()
	if err != nil || len(walked.Layers) != 2 || rimg.Digest.String() != res.Digest {
		t.Errorf("redline read %s from the registry: %v", rimg.Digest, err)
	}

	// Built on as a base (a bare reference is a registry reference): the
	// base's layers come first, its digest is pinned, its entrypoint is
	// replaced.
	out := filepath.Join(dir, "on-base")
	res2, err := newTestBuilder(t, &fakeGo{Pkg: goPackage{ImportPath: "example.com/other", Name: "main"}}, Options{
		Base: host + "/acme/hello:1", Keychain: authn.NewMultiKeychain(),
		To: []Destination{{Kind: OCIDir, Value: out}},
	}).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	img, _ := readOCIDir(t, out)
	m, _ := img.Manifest()
	cfg, _ := img.ConfigFile()
	if len(m.Layers) != 3 || m.Layers[0].Digest.String() != res.Platforms[0].Layers[0].Digest || m.Layers[1].Digest.String() != res.Platforms[0].Layers[1].Digest {
		t.Errorf("layers %v, want the base's two then one", m.Layers)
	}
	if m.Annotations[AnnotationBaseDigest] != res.Digest || m.Annotations[AnnotationBaseName] != ref.Name() ||
		cfg.Config.Labels[AnnotationBaseDigest] != res.Digest || res2.Base.Digest != res.Digest || res2.Base.Kind != "image" {
		t.Errorf("base not pinned: annotations %v, report %+v", m.Annotations, res2.Base)
	}
	if cfg.Config.Entrypoint[0] != "/usr/local/bin/other" || len(cfg.History) != 3 || len(cfg.RootFS.DiffIDs) != 3 {
		t.Errorf("entrypoint %v, %d history entries, %d diff IDs", cfg.Config.Entrypoint, len(cfg.History), len(cfg.RootFS.DiffIDs))
	}
	if !strings.HasPrefix(res2.Platforms[0].Layers[0].Source, "base registry:") {
		t.Errorf("layer source %q", res2.Platforms[0].Layers[0].Source)
	}
}

// TestBaseChecks: a base of another platform, and an unreadable one, are
// refused before anything is written.
func TestBaseChecks(t *testing.T) {
	host := testRegistry(t)
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	dir := t.TempDir()
	armLayout := filepath.Join(dir, "arm")
	_, err := newTestBuilder(t, &fakeGo{Pkg: helloPkg}, Options{
		Platforms: []v1.Platform{{OS: "linux", Architecture: other}}, SkipDefaultSize: true,
		To: []Destination{{Kind: Registry, Value: host + "/base:" + other}, {Kind: OCIDir, Value: armLayout}},
	}).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"registry:" + host + "/base:" + other, "oci-dir:" + armLayout} {
		out := filepath.Join(dir, "never")
		_, err = newTestBuilder(t, &fakeGo{Pkg: helloPkg}, Options{Base: base, To: []Destination{{Kind: OCIDir, Value: out}}}).Build(context.Background())
		if err == nil || !strings.Contains(err.Error(), "is an image for linux/"+other) {
			t.Errorf("base %s: err = %v, want a platform mismatch", base, err)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("base %s: output written", base)
		}
	}
	for _, base := range []string{"registry:" + host + "/missing:1", "oci-dir:" + filepath.Join(dir, "none")} {
		_, err = newTestBuilder(t, &fakeGo{Pkg: helloPkg}, Options{Base: base, To: []Destination{{Kind: OCIDir, Value: filepath.Join(dir, "never")}}}).Build(context.Background())
		if err == nil || !strings.Contains(err.Error(), "base ") {
			t.Errorf("base %s: err = %v", base, err)
		}
	}
}

// fakeAttacher attaches a fixed document, as issue 4's SBOM will.
type fakeAttacher struct{ seen *Built }

func (f *fakeAttacher) Attach(ctx context.Context, b *Built) ([]Attachment, error) {
	f.seen = b
	if _, err := os.Stat(filepath.Join(b.Layout, "index.json")); err != nil {
		return nil, err
	}
	return []Attachment{{ArtifactType: "application/vnd.cyclonedx+json", Data: []byte(`{"bomFormat":"CycloneDX"}`), Suffix: ".cdx.json"}}, nil
}

func TestAttachments(t *testing.T) {
	// With the referrers API, and without it (the tag-schema fallback that
	// registries such as distribution 2.8 need).
	apiHost := testRegistry(t, registry.WithReferrersSupport(true))
	tagHost := testRegistry(t)
	dir := t.TempDir()
	at := &fakeAttacher{}
	res, err := newTestBuilder(t, &fakeGo{Pkg: helloPkg}, Options{
		Attachers: []Attacher{at}, Keychain: authn.NewMultiKeychain(),
		To: []Destination{
			{Kind: OCIDir, Value: filepath.Join(dir, "layout")},
			{Kind: DockerArchive, Value: filepath.Join(dir, "hello.tar")},
			{Kind: Registry, Value: apiHost + "/hello:1"},
			{Kind: Registry, Value: tagHost + "/hello:1"},
		},
	}).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if at.seen == nil || at.seen.Digest.String() != res.Digest || len(at.seen.Platforms) != 1 || at.seen.Platforms[0].BinaryPath != "/usr/local/bin/hello" {
		t.Fatalf("the attacher saw %+v", at.seen)
	}
	// oci-dir: a referrer manifest whose subject is the image.
	idx, err := layout.ImageIndexFromPath(filepath.Join(dir, "layout"))
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	var referrer v1.Hash
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := img.Manifest()
		if m.Subject == nil {
			continue
		}
		referrer = d.Digest
		ls, _ := img.Layers()
		mt, _ := ls[0].MediaType()
		if m.Subject.Digest.String() != res.Digest || m.ArtifactType != "application/vnd.cyclonedx+json" || mt != "application/vnd.cyclonedx+json" || m.Config.MediaType != "application/vnd.oci.empty.v1+json" {
			t.Errorf("referrer %+v", m)
		}
	}
	if referrer.Hex == "" || len(im.Manifests) != 2 {
		t.Fatalf("layout index lists %d manifests, referrer %v", len(im.Manifests), referrer)
	}
	// docker-archive: a sibling file.
	if b, err := os.ReadFile(filepath.Join(dir, "hello.cdx.json")); err != nil || !strings.Contains(string(b), "CycloneDX") {
		t.Errorf("sibling file: %q, %v", b, err)
	}
	// registries: the same referrer, found through the API or the
	// sha256-<hex> tag.
	for _, host := range []string{apiHost, tagHost} {
		d, err := name.NewDigest(host + "/hello@" + res.Digest)
		if err != nil {
			t.Fatal(err)
		}
		refs, err := remote.Referrers(d)
		if err != nil {
			t.Fatal(err)
		}
		rim, _ := refs.IndexManifest()
		if len(rim.Manifests) != 1 || rim.Manifests[0].Digest != referrer || rim.MediaType != types.OCIImageIndex {
			t.Errorf("%s: referrers %+v, want %s", host, rim.Manifests, referrer)
		}
		desc, err := remote.Get(d.Context().Digest(referrer.String()))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(desc.Manifest), `"artifactType":"application/vnd.cyclonedx+json"`) {
			t.Errorf("%s: referrer manifest %s", host, desc.Manifest)
		}
	}
	if _, err := remote.Head(mustTag(t, tagHost+"/hello:sha256-"+strings.TrimPrefix(res.Digest, "sha256:"))); err != nil {
		t.Errorf("no fallback tag on the registry without the referrers API: %v", err)
	}
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

// TestBaseArchives builds on bases read from archives and layouts.
func TestBaseArchives(t *testing.T) {
	dir := t.TempDir()
	ociTar, dockerTar, ociDir := filepath.Join(dir, "base.oci.tar"), filepath.Join(dir, "base.docker.tar"), filepath.Join(dir, "base-layout")
	base, err := newTestBuilder(t, &fakeGo{Pkg: helloPkg}, Options{Tag: "base:1", To: []Destination{
		{Kind: OCIArchive, Value: ociTar}, {Kind: DockerArchive, Value: dockerTar}, {Kind: OCIDir, Value: ociDir},
	}}).Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"oci-archive:" + ociTar, "oci-archive:" + ociTar + ":base:1", "docker-archive:" + dockerTar, "oci-dir:" + ociDir, ociDir, ociTar} {
		out := filepath.Join(t.TempDir(), "o")
		res, err := newTestBuilder(t, &fakeGo{Pkg: goPackage{ImportPath: "example.com/app", Name: "main"}}, Options{Base: ref, To: []Destination{{Kind: OCIDir, Value: out}}}).Build(context.Background())
		if err != nil {
			t.Errorf("--base %s: %v", ref, err)
			continue
		}
		img, _ := readOCIDir(t, out)
		m, _ := img.Manifest()
		cfg, _ := img.ConfigFile()
		// A docker schema 2 manifest has no annotations: the labels hold
		// the base.
		if len(m.Layers) != 3 || m.Layers[1].Digest.String() != base.Platforms[0].Layers[1].Digest || res.Base.Digest == "" || cfg.Config.Labels[AnnotationBaseDigest] != res.Base.Digest {
			t.Errorf("--base %s: layers %v, base %+v", ref, m.Layers, res.Base)
		}
		if strings.HasPrefix(ref, "docker-archive:") != (m.MediaType == types.DockerManifestSchema2) {
			t.Errorf("--base %s: manifest media type %s", ref, m.MediaType)
		}
	}
	_, err = newTestBuilder(t, &fakeGo{Pkg: helloPkg}, Options{Base: "oci-archive:" + ociTar + ":nope", To: []Destination{{Kind: OCIDir, Value: filepath.Join(dir, "never")}}}).Build(context.Background())
	if err == nil || !strings.Contains(err.Error(), `no image named "nope"`) {
		t.Errorf("unknown name in a base archive: %v", err)
	}
}
