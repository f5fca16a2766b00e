package image

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/redline-go/redline/internal/imagetest"
)

const testArtifactType = "application/vnd.openvex+json"

// layoutWithImage writes an OCI layout holding one small image and returns
// the directory and the image's manifest digest.
func layoutWithImage(t *testing.T) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	b := imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Entries: []imagetest.Entry{{Name: "app", Body: []byte("binary"), Mode: 0o755}}}}})
	if err := b.WriteOCIDir(dir, "app:v1"); err != nil {
		t.Fatal(err)
	}
	return dir, b.ManifestD
}

// writeBlob stores b in the layout and returns its descriptor fields.
func writeBlob(t *testing.T, dir string, b []byte) (string, int) {
	t.Helper()
	d := imagetest.Digest(b)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return d, len(b)
}

// listInIndex appends a descriptor to the layout's index.json.
func listInIndex(t *testing.T, dir string, desc map[string]any) {
	t.Helper()
	p := filepath.Join(dir, "index.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var idx map[string]any
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	idx["manifests"] = append(idx["manifests"].([]any), desc)
	out, _ := json.Marshal(idx)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// addReferrer writes an artifact manifest about subject holding data and
// lists it in index.json (with its artifactType in the descriptor when
// describe is set, as go-containerregistry's layout writes it).
func addReferrer(t *testing.T, dir, subject, artifactType string, data []byte, describe bool) string {
	t.Helper()
	cfg, cfgSize := writeBlob(t, dir, []byte("{}"))
	layer, layerSize := writeBlob(t, dir, data)
	m := map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": artifactType,
		"config":      map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": cfg, "size": cfgSize},
		"layers":      []any{map[string]any{"mediaType": artifactType, "digest": layer, "size": layerSize}},
		"subject":     map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": 100},
		"annotations": map[string]string{"dev.redline.vex.source": "example.com/app"},
	}
	raw, _ := json.Marshal(m)
	d, size := writeBlob(t, dir, raw)
	desc := map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": size}
	if describe {
		desc["artifactType"] = artifactType
	}
	listInIndex(t, dir, desc)
	return d
}

func openLayoutDir(t *testing.T, dir string) *Image {
	t.Helper()
	// By name: a layout listing a manifest without artifactType (which
	// could be an image) needs one to pick the image.
	img, err := Open(context.Background(), Target{Scheme: OCIDir, Value: dir + ":app:v1"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img
}

func TestLayoutReferrers(t *testing.T) {
	ctx := context.Background()
	dir, digest := layoutWithImage(t)
	doc := []byte(`{"@context":"https://openvex.dev/ns/v0.2.0"}`)
	mine := addReferrer(t, dir, digest, testArtifactType, doc, true)
	undescribed := addReferrer(t, dir, digest, testArtifactType, append(doc, '\n'), false) // found by reading the manifest
	addReferrer(t, dir, "sha256:"+strings.Repeat("5b", 32), testArtifactType, doc, true)   // another image's
	addReferrer(t, dir, digest, "application/vnd.cyclonedx+json", []byte(`{}`), true)      // another type

	img := openLayoutDir(t, dir)
	if img.Digest.String() != digest {
		t.Fatalf("opened %s, want the image %s (referrers must not be picked as the image)", img.Digest, digest)
	}
	refs, err := img.Referrers(ctx, testArtifactType)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range refs {
		got = append(got, r.Digest.String())
		if r.Subject.String() != digest || r.ArtifactType != testArtifactType || r.Annotations["dev.redline.vex.source"] != "example.com/app" {
			t.Errorf("referrer %+v", r)
		}
		b, err := r.Read(ctx, 0)
		if err != nil || strings.TrimSpace(string(b)) != string(doc) {
			t.Errorf("Read = %q, %v", b, err)
		}
	}
	if len(got) != 2 || got[0] != mine || got[1] != undescribed {
		t.Errorf("referrers = %v, want [%s %s]", got, mine, undescribed)
	}
	all, err := img.Referrers(ctx, "")
	if err != nil || len(all) != 3 {
		t.Errorf("every type: %d referrers, %v; want 3", len(all), err)
	}

	// The same from an OCI archive.
	archive := filepath.Join(t.TempDir(), "app.tar")
	var files []imagetest.File
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			files = append(files, imagetest.File{Name: filepath.ToSlash(rel), Body: b})
		}
		return nil
	})
	if err := imagetest.WriteTar(archive, files); err != nil {
		t.Fatal(err)
	}
	ai, err := Open(ctx, Target{Scheme: OCIArchive, Value: archive + ":app:v1"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ai.Close()
	if refs, err := ai.Referrers(ctx, testArtifactType); err != nil || len(refs) != 2 {
		t.Errorf("oci-archive: %d referrers, %v; want 2", len(refs), err)
	}
}

func TestLayoutReferrerProblems(t *testing.T) {
	ctx := context.Background()
	dir, digest := layoutWithImage(t)
	big := addReferrer(t, dir, digest, testArtifactType, []byte(strings.Repeat("x", 2<<20)), true)
	// A descriptor that says OpenVEX, over a manifest that is not JSON.
	bad, size := writeBlob(t, dir, []byte("not a manifest"))
	listInIndex(t, dir, map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": bad, "size": size, "artifactType": testArtifactType})
	// A listed manifest whose blob is missing, of no stated type: not ours
	// to report.
	listInIndex(t, dir, map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + strings.Repeat("7c", 32), "size": 10})

	img := openLayoutDir(t, dir)
	refs, err := img.Referrers(ctx, testArtifactType)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 {
		t.Fatalf("referrers = %+v, want the oversized and the malformed one", refs)
	}
	for _, r := range refs {
		_, err := r.Read(ctx, 0)
		switch r.Digest.String() {
		case big:
			var le *LimitError
			if !errors.As(err, &le) {
				t.Errorf("oversized referrer: Read error %v, want a LimitError", err)
			}
		case bad:
			if err == nil || r.Err == nil {
				t.Errorf("malformed referrer read without error")
			}
		default:
			t.Errorf("unexpected referrer %s", r.Digest)
		}
	}
	// A larger bound reads the large one.
	for _, r := range refs {
		if r.Digest.String() == big {
			if b, err := r.Read(ctx, 4<<20); err != nil || len(b) != 2<<20 {
				t.Errorf("Read with 4 MiB: %d bytes, %v", len(b), err)
			}
		}
	}
}

// TestLayoutReferrersOfIndex: in a multi-platform layout the referrers of
// the chosen platform's manifest and of the index holding it are found.
func TestLayoutReferrersOfIndex(t *testing.T) {
	ctx := context.Background()
	dir, digest := layoutWithImage(t)
	// Move the image under a nested index.
	raw, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	var top map[string]any
	json.Unmarshal(raw, &top)
	imgDesc := top["manifests"].([]any)[0].(map[string]any)
	imgDesc["platform"] = map[string]string{"os": "linux", "architecture": "amd64"}
	nested, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []any{imgDesc}})
	idxDigest, idxSize := writeBlob(t, dir, nested)
	top["manifests"] = []any{map[string]any{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": idxDigest, "size": idxSize}}
	out, _ := json.Marshal(top)
	os.WriteFile(filepath.Join(dir, "index.json"), out, 0o644)

	onIndex := addReferrer(t, dir, idxDigest, testArtifactType, []byte("{}"), true)
	onImage := addReferrer(t, dir, digest, testArtifactType, []byte("{}"), true)
	img, err := Open(ctx, Target{Scheme: OCIDir, Value: dir}, Options{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	refs, err := img.Referrers(ctx, testArtifactType)
	if err != nil {
		t.Fatal(err)
	}
	subjects := map[string]string{}
	for _, r := range refs {
		subjects[r.Digest.String()] = r.Subject.String()
	}
	if len(refs) != 2 || subjects[onIndex] != idxDigest || subjects[onImage] != digest {
		t.Errorf("referrers by subject = %v", subjects)
	}
}

// TestNoReferrersElsewhere: sources that keep no attachments have none.
func TestNoReferrersElsewhere(t *testing.T) {
	b := imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Entries: []imagetest.Entry{{Name: "app", Body: []byte("x"), Mode: 0o755}}}}})
	path := filepath.Join(t.TempDir(), "app.tar")
	if err := b.WriteDockerArchive(path, "app:v1"); err != nil {
		t.Fatal(err)
	}
	img, err := Open(context.Background(), Target{Scheme: DockerArchive, Value: path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if refs, err := img.Referrers(context.Background(), testArtifactType); refs != nil || err != nil {
		t.Errorf("docker-archive referrers = %v, %v", refs, err)
	}
}

// TestRegistryReferrers: the referrers API and the tag-schema fallback of
// registries without it (DESIGN.md: the registry on this machine has none).
func TestRegistryReferrers(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(map[bool]string{true: "api", false: "tag-fallback"}[api], func(t *testing.T) {
			ctx := context.Background()
			srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(api)))
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			ref, _ := name.ParseReference(host+"/app:v1", name.Insecure)
			img, err := random.Image(256, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(ref, img); err != nil {
				t.Fatal(err)
			}
			imgDigest, _ := img.Digest()
			mt, _ := img.MediaType()
			raw, _ := img.RawManifest()
			subject := v1.Descriptor{MediaType: mt, Digest: imgDigest, Size: int64(len(raw))}
			push := func(data []byte, subj v1.Descriptor) v1.Hash {
				cfg := static.NewLayer([]byte("{}"), "application/vnd.oci.empty.v1+json")
				layer := static.NewLayer(data, testArtifactType)
				for _, l := range []v1.Layer{cfg, layer} {
					if err := remote.WriteLayer(ref.Context(), l); err != nil {
						t.Fatal(err)
					}
				}
				cd, _ := cfg.Digest()
				ld, _ := layer.Digest()
				m := v1.Manifest{
					SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: testArtifactType,
					Config:      v1.Descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: cd, Size: 2},
					Layers:      []v1.Descriptor{{MediaType: testArtifactType, Digest: ld, Size: int64(len(data))}},
					Subject:     &subj,
					Annotations: map[string]string{"dev.redline.vex.source": "example.com/app"},
				}
				raw, _ := json.Marshal(m)
				d, _, _ := v1.SHA256(strings.NewReader(string(raw)))
				if err := remote.Put(ref.Context().Digest(d.String()), rawManifest(raw)); err != nil {
					t.Fatal(err)
				}
				return d
			}
			want := push([]byte(`{"doc":1}`), subject)
			other := subject
			other.Digest = v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("5b", 32)}
			push([]byte(`{"doc":2}`), other)

			ri, err := Open(ctx, Target{Scheme: Registry, Value: host + "/app:v1"}, Options{Insecure: []string{host}})
			if err != nil {
				t.Fatal(err)
			}
			defer ri.Close()
			refs, err := ri.Referrers(ctx, testArtifactType)
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != 1 || refs[0].Digest != want || refs[0].Annotations["dev.redline.vex.source"] != "example.com/app" {
				t.Fatalf("referrers = %+v, want %s", refs, want)
			}
			b, err := refs[0].Read(ctx, 0)
			if err != nil || string(b) != `{"doc":1}` {
				t.Errorf("Read = %q, %v", b, err)
			}
			if _, err := refs[0].Read(ctx, 4); err == nil {
				t.Error("a referrer over the limit was read")
			}
		})
	}
}

// rawManifest is a manifest pushed as it is.
type rawManifest []byte

func (r rawManifest) RawManifest() ([]byte, error)        { return r, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
