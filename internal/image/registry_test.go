package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// testRegistry is an in-process registry on loopback whose responses a
// test can watch and tamper with.
type testRegistry struct {
	host string

	mu      sync.Mutex
	gets    map[string]int                 // GET requests by path
	corrupt map[string]func([]byte) []byte // path -> rewrite of the body
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	tr := &testRegistry{gets: map[string]int{}, corrupt: map[string]func([]byte) []byte{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		if r.Method == http.MethodGet {
			tr.gets[r.URL.Path]++
		}
		rewrite := tr.corrupt[r.URL.Path]
		tr.mu.Unlock()
		if rewrite == nil || r.Method != http.MethodGet {
			reg.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		reg.ServeHTTP(rec, r)
		body := rewrite(rec.Body.Bytes())
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	tr.host = strings.TrimPrefix(srv.URL, "http://")
	return tr
}

func (tr *testRegistry) setCorrupt(path string, f func([]byte) []byte) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.corrupt[path] = f
}

func (tr *testRegistry) getCount(path string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.gets[path]
}

func (tr *testRegistry) manifestGets() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for p, c := range tr.gets {
		if strings.Contains(p, "/manifests/") {
			n += c
		}
	}
	return n
}

func (tr *testRegistry) ref(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(tr.host+"/"+s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func randomImage(t *testing.T, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(2048, layers)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func withPlatform(t *testing.T, img v1.Image, p v1.Platform) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	out, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func layerDigests(t *testing.T, img v1.Image) []v1.Hash {
	t.Helper()
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []v1.Hash
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

func mustDigest(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func openRegistryTarget(ref string, o Options) (*Image, error) {
	return Open(context.Background(), Target{Scheme: Registry, Value: ref}, o)
}

func TestRegistryOpenByTagAndWalk(t *testing.T) {
	tr := newTestRegistry(t)
	pushed := randomImage(t, 3)
	if err := remote.Write(tr.ref(t, "app:v1"), pushed); err != nil {
		t.Fatal(err)
	}
	ref := tr.host + "/app:v1"
	img, err := openRegistryTarget(ref, Options{Insecure: []string{tr.host}})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()

	if want := mustDigest(t, pushed); img.Digest != want {
		t.Errorf("Digest = %s, want the pushed manifest %s", img.Digest, want)
	}
	if img.Name != ref || img.Scheme != Registry || img.Ref != "registry:"+ref {
		t.Errorf("Name, Scheme, Ref = %q, %q, %q", img.Name, img.Scheme, img.Ref)
	}
	mt, _ := pushed.MediaType()
	if img.MediaType != mt {
		t.Errorf("MediaType = %q, want %q", img.MediaType, mt)
	}
	cfg, _ := pushed.ConfigFile()
	if len(img.Layers) != 3 {
		t.Fatalf("%d layers, want 3", len(img.Layers))
	}
	for i, l := range img.Layers {
		if l.DiffID != cfg.RootFS.DiffIDs[i] {
			t.Errorf("layer %d: DiffID %s, want %s", i, l.DiffID, cfg.RootFS.DiffIDs[i])
		}
	}

	res, err := Walk(context.Background(), img, PassOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := layerDigests(t, pushed)
	if len(res.Layers) != len(want) {
		t.Fatalf("Walk read %d layers, want %d", len(res.Layers), len(want))
	}
	for i, lr := range res.Layers {
		if lr.Digest != want[i] {
			t.Errorf("layer %d: Walk digest %s, want pushed %s", i, lr.Digest, want[i])
		}
		if lr.Compression != "gzip" || lr.Entries == 0 {
			t.Errorf("layer %d: compression %q, %d entries; want gzip and some entries", i, lr.Compression, lr.Entries)
		}
	}
}

// pushIndex pushes a two-platform index and returns the images by platform.
func pushIndex(t *testing.T, tr *testRegistry, tag string) map[string]v1.Image {
	t.Helper()
	plats := []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}}
	imgs := map[string]v1.Image{}
	var adds []mutate.IndexAddendum
	for _, p := range plats {
		img := withPlatform(t, randomImage(t, 2), p)
		imgs[p.String()] = img
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx := mutate.AppendManifests(empty.Index, adds...)
	if err := remote.WriteIndex(tr.ref(t, tag), idx); err != nil {
		t.Fatal(err)
	}
	return imgs
}

func TestRegistryIndexPicksPlatform(t *testing.T) {
	tr := newTestRegistry(t)
	imgs := pushIndex(t, tr, "multi:1")
	for _, p := range []string{"linux/amd64", "linux/arm64/v8"} {
		t.Run(p, func(t *testing.T) {
			plat, err := ParsePlatform(p)
			if err != nil {
				t.Fatal(err)
			}
			img, err := openRegistryTarget(tr.host+"/multi:1", Options{Platform: plat, Insecure: []string{tr.host}})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if want := mustDigest(t, imgs[p]); img.Digest != want {
				t.Errorf("Digest = %s, want the %s manifest %s", img.Digest, p, want)
			}
			if img.Platform == nil || img.Platform.String() != p {
				t.Errorf("Platform = %v, want %s (from the index)", img.Platform, p)
			}
			res, err := Walk(context.Background(), img, PassOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := layerDigests(t, imgs[p])
			for i, lr := range res.Layers {
				if lr.Digest != want[i] {
					t.Errorf("layer %d: digest %s, want %s", i, lr.Digest, want[i])
				}
			}
		})
	}
}

func TestRegistryNestedIndex(t *testing.T) {
	tr := newTestRegistry(t)
	img := withPlatform(t, randomImage(t, 1), v1.Platform{OS: "linux", Architecture: "riscv64"})
	p := v1.Platform{OS: "linux", Architecture: "riscv64"}
	inner := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	outer := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: inner})
	if err := remote.WriteIndex(tr.ref(t, "nested:1"), outer); err != nil {
		t.Fatal(err)
	}
	got, err := openRegistryTarget(tr.host+"/nested:1", Options{Platform: &p})
	if err != nil {
		t.Fatal(err)
	}
	if want := mustDigest(t, img); got.Digest != want {
		t.Errorf("Digest = %s, want %s (the image inside the inner index)", got.Digest, want)
	}
}

func TestRegistryMissingPlatform(t *testing.T) {
	tr := newTestRegistry(t)
	pushIndex(t, tr, "multi:1")
	_, err := openRegistryTarget(tr.host+"/multi:1", Options{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}})
	if err == nil {
		t.Fatal("opened an index for a platform it does not have")
	}
	for _, want := range []string{"registry:" + tr.host + "/multi:1: ", "no manifest for platform linux/s390x", "linux/amd64", "linux/arm64/v8"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestRegistryMissingTag(t *testing.T) {
	tr := newTestRegistry(t)
	if err := remote.Write(tr.ref(t, "app:v1"), randomImage(t, 1)); err != nil {
		t.Fatal(err)
	}
	_, err := openRegistryTarget(tr.host+"/app:nope", Options{})
	if err == nil {
		t.Fatal("opened a tag that was never pushed")
	}
	if !strings.Contains(err.Error(), "fetching manifest") || !strings.Contains(err.Error(), "MANIFEST_UNKNOWN") {
		t.Errorf("error %q should say the manifest fetch failed and why", err)
	}
}

func TestRegistryManifestLimitBeforeFetch(t *testing.T) {
	tr := newTestRegistry(t)
	if err := remote.Write(tr.ref(t, "app:v1"), randomImage(t, 2)); err != nil {
		t.Fatal(err)
	}
	_, err := openRegistryTarget(tr.host+"/app:v1", Options{Limits: Limits{MetadataBytes: 64}})
	var le *LimitError
	if !errors.As(err, &le) || le.Flag != "--max-metadata-bytes" {
		t.Fatalf("err = %v, want a metadata LimitError", err)
	}
	if n := tr.manifestGets(); n != 0 {
		t.Errorf("%d manifest GETs: the size should be refused from HEAD, before fetching", n)
	}
}

func TestRegistryConfigLimitBeforeFetch(t *testing.T) {
	tr := newTestRegistry(t)
	img := randomImage(t, 1)
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Config.Env = []string{"PAD=" + strings.Repeat("x", 8192)}
	img, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tr.ref(t, "big:1"), img); err != nil {
		t.Fatal(err)
	}
	m, _ := img.Manifest()
	raw, _ := img.RawManifest()
	if m.Config.Size <= int64(len(raw)) {
		t.Fatalf("test setup: config (%d) should be larger than the manifest (%d)", m.Config.Size, len(raw))
	}
	_, err = openRegistryTarget(tr.host+"/big:1", Options{Limits: Limits{MetadataBytes: int64(len(raw)) + 16}})
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want a LimitError for the config", err)
	}
	if !strings.Contains(err.Error(), "config "+m.Config.Digest.String()) {
		t.Errorf("error %q should name the config", err)
	}
	if n := tr.getCount("/v2/big/blobs/" + m.Config.Digest.String()); n != 0 {
		t.Errorf("config fetched %d times: its size should be refused before fetching", n)
	}
}

// A blob whose bytes are not the ones its digest names fails the pass with
// a *DigestError, whether it still decodes or not. "header" changes the
// gzip header's MTIME field: the stream decompresses to the same tar (the
// diff ID holds) and only the digest can tell. "body" flips a byte inside
// the deflate data: decoding fails, and the digest is still what Walk
// reports (remote's own check must not hide it).
func TestRegistryCorruptBlob(t *testing.T) {
	for _, c := range []struct {
		name string
		at   func(b []byte) int
	}{
		{"header", func([]byte) int { return 4 }},
		{"body", func(b []byte) int { return len(b) / 2 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := newTestRegistry(t)
			pushed := randomImage(t, 2)
			if err := remote.Write(tr.ref(t, "app:v1"), pushed); err != nil {
				t.Fatal(err)
			}
			bad := layerDigests(t, pushed)[1]
			tr.setCorrupt("/v2/app/blobs/"+bad.String(), func(b []byte) []byte {
				b = bytes.Clone(b)
				if len(b) < 64 || b[0] != 0x1f || b[1] != 0x8b {
					t.Errorf("layer blob is not gzip")
					return b
				}
				b[c.at(b)] ^= 0xff
				return b
			})
			img, err := openRegistryTarget(tr.host+"/app:v1", Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = Walk(context.Background(), img, PassOptions{})
			var de *DigestError
			if !errors.As(err, &de) {
				t.Fatalf("Walk err = %v, want a *DigestError", err)
			}
			if de.Want != bad || de.Got == bad || de.Got.Hex == "" {
				t.Errorf("DigestError want %s got %s; want the pushed digest %s and a different one", de.Want, de.Got, bad)
			}
			if !strings.Contains(err.Error(), "layer 1 ") {
				t.Errorf("error %q should name layer 1", err)
			}
			if tr.getCount("/v2/app/blobs/"+bad.String()) == 0 {
				t.Error("the corrupt blob was never fetched")
			}
		})
	}
}

// A config whose bytes do not match its digest is refused when opening.
func TestRegistryCorruptConfig(t *testing.T) {
	tr := newTestRegistry(t)
	pushed := randomImage(t, 1)
	if err := remote.Write(tr.ref(t, "app:v1"), pushed); err != nil {
		t.Fatal(err)
	}
	m, _ := pushed.Manifest()
	tr.setCorrupt("/v2/app/blobs/"+m.Config.Digest.String(), func(b []byte) []byte {
		return bytes.Replace(b, []byte(`"architecture"`), []byte(`"Architecture"`), 1)
	})
	_, err := openRegistryTarget(tr.host+"/app:v1", Options{})
	var de *DigestError
	if !errors.As(err, &de) || de.Want != m.Config.Digest {
		t.Fatalf("err = %v, want a *DigestError for the config %s", err, m.Config.Digest)
	}
}

func TestParseRegistryRefInsecure(t *testing.T) {
	for _, c := range []struct {
		ref      string
		insecure []string
		scheme   string
	}{
		{"registry.example:5000/app:1", nil, "https"},
		{"registry.example:5000/app:1", []string{"registry.example:5000"}, "http"},
		{"registry.example:5000/app:1", []string{"registry.example"}, "https"},
		{"other.example/app:1", []string{"registry.example:5000"}, "https"},
		{"alpine", []string{"docker.io"}, "http"},
	} {
		r, err := parseRegistryRef(c.ref, c.insecure)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Context().Scheme(); got != c.scheme {
			t.Errorf("%s with insecure %v: scheme %s, want %s", c.ref, c.insecure, got, c.scheme)
		}
	}
	if _, err := parseRegistryRef("UPPER/case:1", nil); err == nil || !strings.Contains(err.Error(), "not an image reference") {
		t.Errorf("bad reference: err = %v", err)
	}
}
