package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-go/redline/internal/sbom/sbomtest"
)

// TestBuildAttachesSBOM: `redline build` attaches the CycloneDX SBOM of
// what it built as an OCI 1.1 referrer of the image in an OCI layout, and
// as NAME.cdx.json beside a docker archive; both describe the binary.
func TestBuildAttachesSBOM(t *testing.T) {
	dir := t.TempDir()
	layout, archive := filepath.Join(dir, "hello"), filepath.Join(dir, "hello.tar")
	t.Setenv("GOFLAGS", "-buildvcs=false")
	code, out, stderr := runCLI(t, "build", "-q", "--to", "oci-dir:"+layout, "--to", "docker-archive:"+archive, "../../examples/hello")
	if code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out, stderr)
	}
	var idx struct {
		Manifests []struct {
			Digest, ArtifactType string
		}
	}
	readJSON(t, filepath.Join(layout, "index.json"), &idx)
	var image, sbomManifest string
	for _, m := range idx.Manifests {
		switch m.ArtifactType {
		case "application/vnd.cyclonedx+json":
			sbomManifest = m.Digest
		default:
			image = m.Digest
		}
	}
	if sbomManifest == "" || image == "" {
		t.Fatalf("index.json: %+v", idx)
	}
	var ref struct {
		Subject struct{ Digest string }
		Layers  []struct{ Digest string }
	}
	readJSON(t, blob(layout, sbomManifest), &ref)
	if ref.Subject.Digest != image || len(ref.Layers) != 1 {
		t.Fatalf("referrer subject %s, want %s; layers %v", ref.Subject.Digest, image, ref.Layers)
	}
	for _, p := range []string{blob(layout, ref.Layers[0].Digest), filepath.Join(dir, "hello.cdx.json")} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := sbomtest.Validate(sbomtest.CycloneDX, b); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		if !strings.Contains(string(b), "github.com/redline-go/redline/examples/hello") || !strings.Contains(string(b), "pkg:golang/stdlib@") {
			t.Errorf("%s does not describe the hello binary", p)
		}
	}
}

func blob(layout, digest string) string {
	alg, hex, _ := strings.Cut(digest, ":")
	return filepath.Join(layout, "blobs", alg, hex)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
