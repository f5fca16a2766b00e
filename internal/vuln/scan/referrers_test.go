package scan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/redline-go/redline/internal/image"
	"github.com/redline-go/redline/internal/imagetest"
	"github.com/redline-go/redline/internal/vuln"
	"github.com/redline-go/redline/internal/vuln/scan"
	"github.com/redline-go/redline/internal/vuln/vex"
)

// helloLayout writes an OCI layout holding the stripped hello binary and
// returns it with the image's manifest digest.
func helloLayout(t *testing.T, body []byte) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	b := imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Entries: []imagetest.Entry{{Name: "app", Body: body, Mode: 0o755}}}}})
	if err := b.WriteOCIDir(dir, ""); err != nil {
		t.Fatal(err)
	}
	return dir, b.ManifestD
}

func putBlob(t *testing.T, dir string, b []byte) (string, int) {
	t.Helper()
	d := imagetest.Digest(b)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return d, len(b)
}

// attach adds an OpenVEX referrer about subject to the layout, as `redline
// build` writes one.
func attach(t *testing.T, dir, subject string, data []byte) string {
	t.Helper()
	cfg, cfgSize := putBlob(t, dir, []byte("{}"))
	layer, layerSize := putBlob(t, dir, data)
	raw, _ := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": vex.ArtifactType,
		"config":      map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": cfg, "size": cfgSize},
		"layers":      []any{map[string]any{"mediaType": vex.MediaType, "digest": layer, "size": layerSize}},
		"subject":     map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": 500},
		"annotations": map[string]string{vex.AnnotationSource: "example.com/hello"},
	})
	d, size := putBlob(t, dir, raw)
	p := filepath.Join(dir, "index.json")
	idxRaw, _ := os.ReadFile(p)
	var idx map[string]any
	json.Unmarshal(idxRaw, &idx)
	idx["manifests"] = append(idx["manifests"].([]any), map[string]any{
		"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": size, "artifactType": vex.ArtifactType,
	})
	out, _ := json.Marshal(idx)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestReferrerVEXApplied: an image carrying the OpenVEX of its source
// analysis is scanned later without the source; the statements apply to
// it (and only to it), and broken attachments are warnings that suppress
// nothing.
func TestReferrerVEXApplied(t *testing.T) {
	d := embedded(t)
	bin := build(t, repoRoot(), "./examples/hello", nil, "-trimpath", "-ldflags=-s -w")
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	scanLayout := func(dir string, o scan.Options) *vuln.Result {
		t.Helper()
		o.DB = d
		r, _, err := scan.Target(ctx, image.Target{Scheme: image.OCIDir, Value: dir}, o)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	suppressed := func(r *vuln.Result) (n int) {
		for _, f := range r.Findings {
			if f.Suppressed != nil {
				n++
			}
		}
		return n
	}

	dir, digest := helloLayout(t, body)
	plain := scanLayout(dir, scan.Options{})
	var called []vuln.Finding
	for _, f := range plain.Findings {
		if f.Reach == vuln.Called {
			called = append(called, f)
		}
	}
	if len(called) < 2 || suppressed(plain) != 0 {
		t.Fatalf("without a referrer: %d called, %d suppressed; want called findings to suppress", len(called), suppressed(plain))
	}
	// The source analysis found the first called finding reachable and the
	// others not: what it records about the image.
	source := make([]vuln.Finding, len(called))
	for i, f := range called {
		f.Component.Path, f.Component.Layer, f.Component.ID = "", -1, "golang:"+f.Component.Name+"@"+f.Component.Version
		if i > 0 {
			f.Reach, f.Symbols = vuln.Imported, nil
		}
		source[i] = f
	}
	docFor := func(imageDigest string) []byte {
		doc, err := vex.SourceStatements(source, vex.ImagePURL("hello", imageDigest), vex.WriteOptions{Timestamp: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(doc)
		return b
	}

	t.Run("applied", func(t *testing.T) {
		dir, _ := helloLayout(t, body)
		ref := attach(t, dir, digest, docFor(digest))
		r := scanLayout(dir, scan.Options{})
		if got, want := suppressed(r), len(called)-1; got != want {
			t.Errorf("%d findings suppressed, want %d", got, want)
		}
		for _, f := range r.Findings {
			if f.ID == called[0].ID && f.Suppressed != nil {
				t.Errorf("%s is reachable per the source analysis, yet suppressed", f.ID)
			}
			if f.Suppressed != nil && f.Suppressed.Justification != vex.VulnerableCodeNotInExecutePath {
				t.Errorf("%s suppressed with %+v", f.ID, f.Suppressed)
			}
		}
		if !hasWarning(r, "applied OpenVEX from referrer "+ref+" (source analysis of example.com/hello)") {
			t.Errorf("no note of the applied referrer: %q", r.Warnings)
		}
		// Opting out leaves the findings alone.
		if n := suppressed(scanLayout(dir, scan.Options{NoReferrerVEX: true})); n != 0 {
			t.Errorf("NoReferrerVEX: %d suppressed", n)
		}
		// A --vex given on the command line still applies alongside (the
		// latest statement wins; this one is newer than the source's).
		user := &vex.Document{Context: vex.Context, ID: "user", Timestamp: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), Statements: []vex.Statement{{
			Vulnerability: vex.Vulnerability{Name: called[0].ID}, Products: []vex.Component{{ID: digest}},
			Status: vex.StatusNotAffected, Justification: vex.InlineMitigationsAlreadyExist,
		}}}
		if n := suppressed(scanLayout(dir, scan.Options{VEX: user})); n != len(called) {
			t.Errorf("with --vex too: %d suppressed, want %d", n, len(called))
		}
	})

	// A multi-platform image: `redline build`/`check --to` attach each
	// platform's statements to that platform's manifest. Scanning the
	// index picks a platform; its statements must apply, the other
	// platform's must not.
	t.Run("index", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "layout")
		amd := imagetest.Build(imagetest.Spec{Layers: []imagetest.Layer{{Entries: []imagetest.Entry{{Name: "app", Body: body, Mode: 0o755}}}}})
		amd = amd.WithConfig(func(cfg map[string]any) { cfg["os"], cfg["architecture"] = "linux", "amd64" })
		arm := amd.WithConfig(func(cfg map[string]any) { cfg["architecture"] = "arm64" })
		if err := amd.WriteOCIDir(dir, ""); err != nil {
			t.Fatal(err)
		}
		putBlob(t, dir, arm.Config)
		putBlob(t, dir, arm.Manifest)
		desc := func(b *imagetest.Built, arch string) map[string]any {
			return map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": b.ManifestD, "size": len(b.Manifest),
				"platform": map[string]string{"os": "linux", "architecture": arch}}
		}
		idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
			"manifests": []any{desc(amd, "amd64"), desc(arm, "arm64")}})
		idxD, idxSize := putBlob(t, dir, idx)
		top, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{
			"mediaType": "application/vnd.oci.image.index.v1+json", "digest": idxD, "size": idxSize}}})
		if err := os.WriteFile(filepath.Join(dir, "index.json"), top, 0o644); err != nil {
			t.Fatal(err)
		}
		ref := attach(t, dir, amd.ManifestD, docFor(amd.ManifestD))
		on := func(arch string) *vuln.Result {
			return scanLayout(dir, scan.Options{Image: image.Options{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
		}
		r := on("amd64")
		if r.Digest != amd.ManifestD {
			t.Fatalf("scanned %s, want the amd64 manifest %s", r.Digest, amd.ManifestD)
		}
		if got, want := suppressed(r), len(called)-1; got != want {
			t.Errorf("linux/amd64: %d findings suppressed, want %d", got, want)
		}
		if !hasWarning(r, "applied OpenVEX from referrer "+ref) {
			t.Errorf("linux/amd64: no note of the applied referrer: %q", r.Warnings)
		}
		if n := suppressed(on("arm64")); n != 0 {
			t.Errorf("linux/arm64: %d findings suppressed by the amd64 image's statements", n)
		}
	})

	t.Run("other image", func(t *testing.T) {
		dir, _ := helloLayout(t, body)
		other := "sha256:" + strings.Repeat("5b", 32)
		attach(t, dir, other, docFor(other))
		// Bound to this image's digest but attached to another one: not
		// this image's referrer either.
		r := scanLayout(dir, scan.Options{})
		if n := suppressed(r); n != 0 || hasWarning(r, "applied OpenVEX") {
			t.Errorf("a referrer of another image: %d suppressed, warnings %q", n, r.Warnings)
		}
	})

	t.Run("statements about another image", func(t *testing.T) {
		dir, _ := helloLayout(t, body)
		attach(t, dir, digest, docFor("sha256:"+strings.Repeat("5b", 32)))
		r := scanLayout(dir, scan.Options{})
		if n := suppressed(r); n != 0 {
			t.Errorf("statements about another digest suppressed %d findings", n)
		}
	})

	for name, data := range map[string][]byte{
		"oversized": append(docFor(digest), bytes.Repeat([]byte(" "), 1<<20)...),
		"malformed": []byte(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{`),
		"not vex":   []byte(`{"bomFormat":"CycloneDX"}`),
	} {
		t.Run(name, func(t *testing.T) {
			dir, _ := helloLayout(t, body)
			ref := attach(t, dir, digest, data)
			r := scanLayout(dir, scan.Options{})
			if n := suppressed(r); n != 0 {
				t.Errorf("%d findings suppressed by a broken referrer", n)
			}
			if !hasWarning(r, "OpenVEX referrer "+ref+" not applied") {
				t.Errorf("no warning about the broken referrer: %q", r.Warnings)
			}
			if len(r.Findings) != len(plain.Findings) {
				t.Errorf("%d findings, want %d", len(r.Findings), len(plain.Findings))
			}
		})
	}
}

func hasWarning(r *vuln.Result, prefix string) bool {
	for _, w := range r.Warnings {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}
